package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/surveys"
)

// BenchmarkCourseReport: a course report over LEARNLOOP_BENCH_ANSWERS
// (default 1,000,000) feedback answers across 20 sessions, beside the bare
// aggregate query (GROUP BY question, COUNT, AVG) over the same rows.
func BenchmarkCourseReport(b *testing.B) {
	answers := envInt("LEARNLOOP_BENCH_ANSWERS", 1000000)
	for range b.N {
		db := storetest.Open(b, driver())
		ctx := context.Background()
		def, err := surveys.BuiltinByKey("post_course_feedback")
		require.NoError(b, err)
		raw, _ := json.Marshal(def)
		c := store.Course{Code: "BIG", Title: "大课"}
		require.NoError(b, db.Create(&c).Error)
		const sessions = 20
		// Each response: teacher, course, organisation, NPS, and a comment
		// from one in ten → 4.1 answers.
		responses := answers * 10 / 41
		start := time.Date(2026, 1, 5, 1, 0, 0, 0, time.UTC)
		for s := range sessions {
			sess := store.Session{CourseID: c.ID, Title: fmt.Sprint("S", s), StartsAt: start.AddDate(0, 0, 7*s), EndsAt: start.AddDate(0, 0, 7*s).Add(2 * time.Hour),
				TimeZone: "Asia/Shanghai", Locale: "zh-CN", Status: store.SessionPlanned}
			require.NoError(b, db.Create(&sess).Error)
			sv := store.Survey{SessionID: sess.ID, CourseID: c.ID, Kind: store.SurveyFeedback, Title: "课后反馈", Definition: string(raw), MinGroupSize: 5,
				OpensAt: sess.StartsAt, ClosesAt: sess.EndsAt.Add(240 * time.Hour), Status: store.SurveyOpen}
			require.NoError(b, db.Create(&sv).Error)
			n := responses / sessions
			for i := 0; i < n; i += 1000 {
				k := min(1000, n-i)
				var rs strings.Builder
				args := make([]any, 0, k*2)
				rs.WriteString("INSERT INTO survey_responses (survey_id, respondent_key, subject_id, department, status, source, started_at, updated_at) VALUES ")
				for j := range k {
					if j > 0 {
						rs.WriteByte(',')
					}
					rs.WriteString("(?, ?, 0, ?, 'complete', 'form', ?, ?)")
					args = append(args, sv.ID, fmt.Sprintf("e:%d", i+j), fmt.Sprint("D", (i+j)%12), start, start)
					args = args[:len(args):len(args)]
				}
				require.NoError(b, db.Exec(rs.String(), args...).Error)
			}
			require.NoError(b, db.Exec(`INSERT INTO survey_answers (response_id, survey_id, question_key, number, text, updated_at)
				SELECT id, survey_id, 'teacher_satisfaction', 1 + (id % 5), '', ? FROM survey_responses WHERE survey_id = ?`, start, sv.ID).Error)
			require.NoError(b, db.Exec(`INSERT INTO survey_answers (response_id, survey_id, question_key, number, text, updated_at)
				SELECT id, survey_id, 'course_satisfaction', 1 + ((id * 7) % 5), '', ? FROM survey_responses WHERE survey_id = ?`, start, sv.ID).Error)
			require.NoError(b, db.Exec(`INSERT INTO survey_answers (response_id, survey_id, question_key, number, text, updated_at)
				SELECT id, survey_id, 'organisation_satisfaction', 1 + ((id * 3) % 5), '', ? FROM survey_responses WHERE survey_id = ?`, start, sv.ID).Error)
			require.NoError(b, db.Exec(`INSERT INTO survey_answers (response_id, survey_id, question_key, number, text, updated_at)
				SELECT id, survey_id, 'nps', id % 11, '', ? FROM survey_responses WHERE survey_id = ?`, start, sv.ID).Error)
			require.NoError(b, db.Exec(`INSERT INTO survey_answers (response_id, survey_id, question_key, number, text, updated_at)
				SELECT id, survey_id, 'suggestions', NULL, '多一些案例', ? FROM survey_responses WHERE survey_id = ? AND id % 10 = 0`, start, sv.ID).Error)
		}
		var total int64
		require.NoError(b, db.Model(&store.SurveyAnswer{}).Count(&total).Error)
		if db.Driver == store.DriverMySQL {
			require.NoError(b, db.Exec("ANALYZE TABLE survey_answers, survey_responses").Error)
		}
		interleave(b, comparison{
			Title: fmt.Sprintf("course report: %d answers in %d sessions", total, sessions),
			Unit:  "s", Base: "bare GROUP BY over the answers", Prod: "course report",
			BaseMetric: "bare_aggregate_s", ProdMetric: "report_s", Target: "course report ≤ 2 s",
		}, func(int) float64 {
			var agg []struct {
				QuestionKey string
				N           int
				Mean        float64
			}
			t0 := time.Now()
			require.NoError(b, db.Raw("SELECT question_key, COUNT(*) AS n, AVG(number) AS mean FROM survey_answers GROUP BY question_key").Scan(&agg).Error)
			el := time.Since(t0)
			require.Len(b, agg, 5)
			return el.Seconds()
		}, func(int) float64 {
			t0 := time.Now()
			rep, err := reports.Course(ctx, db.DB, c.ID, time.Now())
			el := time.Since(t0)
			require.NoError(b, err)
			require.Len(b, rep.Sessions, sessions)
			return el.Seconds()
		})
	}
}

// BenchmarkSessionReport: the report of a LEARNLOOP_BENCH_REPORT_PEOPLE
// (default 10,000) person session — roster, check-ins, three touchpoints'
// deliveries and clicks — LEARNLOOP_BENCH_REPORT_REPS (default 20) times a
// round, against the bare read of the roster the report lists (one joined
// SELECT) as many times.
func BenchmarkSessionReport(b *testing.B) {
	n := envInt("LEARNLOOP_BENCH_REPORT_PEOPLE", 10000)
	reps := envInt("LEARNLOOP_BENCH_REPORT_REPS", 20)
	for range b.N {
		db := storetest.Open(b, driver())
		ctx := context.Background()
		id := seedSessionReport(b, db, n)
		interleave(b, comparison{
			Title: fmt.Sprintf("session report: %d people, %d reports a round", n, reps),
			Unit:  "ms", Base: "bare roster read", Prod: "session report",
			BaseMetric: "bare_roster_read_ms", ProdMetric: "report_ms", Target: "session report ≤ 200 ms",
		}, func(int) float64 {
			t0 := time.Now()
			for range reps {
				var rows []struct{ ExternalID, Name, Department, Status string }
				require.NoError(b, db.Table("enrollments").Select("employees.external_id, employees.name, employees.department, enrollments.status").
					Joins("JOIN employees ON employees.id = enrollments.employee_id").Where("enrollments.session_id = ?", id).Scan(&rows).Error)
				require.Len(b, rows, n)
			}
			return float64(time.Since(t0).Microseconds()) / 1000 / float64(reps)
		}, func(int) float64 {
			t0 := time.Now()
			for range reps {
				r, err := reports.Session(ctx, db.DB, id, time.Now())
				require.NoError(b, err)
				require.Equal(b, n-n/100, r.Roster, "the cancelled 1%% are not on the roster")
				require.Len(b, r.Touchpoints, 3)
			}
			return float64(time.Since(t0).Microseconds()) / 1000 / float64(reps)
		})
	}
}

// seedSessionReport writes a session with n enrollments (1% cancelled, 5%
// excused), 70% of them checked in (on time, late, make-up), three fired
// touchpoints with one delivery per person each (mostly sent, some failed,
// dropped or pending) and clicks on half the sent ones, with batched
// inserts, and analyzes the tables.
func seedSessionReport(b *testing.B, db *storetest.DB, n int) uint64 {
	b.Helper()
	start := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	end := start.Add(2 * time.Hour)
	course := store.Course{Code: "BENCH-REPORT", Title: "基准课程"}
	require.NoError(b, db.Create(&course).Error)
	sess := store.Session{CourseID: course.ID, Title: "万人场", StartsAt: start, EndsAt: end, TimeZone: "Asia/Shanghai", Locale: "zh-CN",
		Status: store.SessionPlanned, CheckinOpensBefore: 1800, CheckinGrace: 600, MakeupAfter: 86400}
	require.NoError(b, db.Create(&sess).Error)
	depts := []string{"销售部", "研发部", "财务部", "运营部", "人力资源部"}
	emps := make([]store.Employee, n)
	for i := range emps {
		emps[i] = store.Employee{ExternalID: fmt.Sprintf("R%06d", i), Name: fmt.Sprintf("员工%06d", i), Department: depts[i%len(depts)],
			Platform: "wecom", WecomID: fmt.Sprintf("wx%06d", i), Active: true}
	}
	require.NoError(b, db.CreateInBatches(&emps, 1000).Error)
	ens := make([]store.Enrollment, n)
	var cks []store.Checkin
	for i, e := range emps {
		status := store.EnrollInvited
		switch {
		case i%100 == 0:
			status = store.EnrollCancelled
		case i%20 == 1:
			status = store.EnrollExcused
		}
		ens[i] = store.Enrollment{SessionID: sess.ID, EmployeeID: e.ID, Status: status}
		switch k := i % 10; {
		case k < 5:
			cks = append(cks, store.Checkin{SessionID: sess.ID, EmployeeID: e.ID, Kind: store.CheckinOnTime, Source: store.SourceCard, CheckedInAt: start.Add(-time.Duration(i%1800) * time.Second)})
		case k < 6:
			cks = append(cks, store.Checkin{SessionID: sess.ID, EmployeeID: e.ID, Kind: store.CheckinLate, Source: store.SourceCard, CheckedInAt: start.Add(time.Duration(600+i%3600) * time.Second)})
		case k < 7:
			cks = append(cks, store.Checkin{SessionID: sess.ID, EmployeeID: e.ID, Kind: store.CheckinMakeup, Source: store.SourceCard, CheckedInAt: end.Add(time.Duration(i%80000) * time.Second)})
		}
	}
	require.NoError(b, db.CreateInBatches(&ens, 1000).Error)
	require.NoError(b, db.CreateInBatches(&cks, 1000).Error)
	for ti, runAt := range []time.Time{start.Add(-24 * time.Hour), start.Add(-15 * time.Minute), end.Add(time.Hour)} {
		ra := runAt
		tp := store.Touchpoint{SessionID: sess.ID, Kind: fmt.Sprintf("kind%d", ti), Anchor: store.AnchorStart, Audience: store.AudienceAll,
			Template: "t", Status: store.TouchpointFired, RunAt: ra, FiredAt: &ra}
		require.NoError(b, db.Create(&tp).Error)
		ds := make([]store.Delivery, n)
		for i, e := range emps {
			status, code, msg := store.DeliverySent, "", ""
			switch i % 100 {
			case 3, 4, 5:
				status, code, msg = store.DeliveryFailed, "81013", "user not found"
			case 6, 7:
				status = store.DeliveryDropped
			case 8:
				status = store.DeliveryPending
			}
			ds[i] = store.Delivery{TouchpointID: tp.ID, Occurrence: "0", EmployeeID: e.ID, SessionID: sess.ID, Key: fmt.Sprintf("%d-%d", tp.ID, e.ID),
				Platform: "wecom", UserID: e.WecomID, Status: status, ErrorCode: code, ErrorMessage: msg}
		}
		require.NoError(b, db.CreateInBatches(&ds, 1000).Error)
		var cl []store.Click
		for i, d := range ds {
			if d.Status == store.DeliverySent && i%2 == 0 {
				cl = append(cl, store.Click{DeliveryID: d.ID, TouchpointID: tp.ID, EmployeeID: d.EmployeeID, UAClass: "in-app", Platform: "wecom",
					ClickedAt: runAt.Add(time.Duration(i%7200) * time.Second)})
			}
		}
		require.NoError(b, db.CreateInBatches(&cl, 1000).Error)
	}
	for _, table := range []string{"employees", "enrollments", "checkins", "touchpoints", "deliveries", "clicks"} {
		if db.Driver == store.DriverMySQL {
			require.NoError(b, db.Exec("ANALYZE TABLE "+table).Error)
		} else {
			require.NoError(b, db.Exec("ANALYZE "+table).Error)
		}
	}
	return sess.ID
}
