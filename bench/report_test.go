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
		t0 := time.Now()
		var agg []struct {
			QuestionKey string
			N           int
			Mean        float64
		}
		require.NoError(b, db.Raw("SELECT question_key, COUNT(*) AS n, AVG(number) AS mean FROM survey_answers GROUP BY question_key").Scan(&agg).Error)
		base := time.Since(t0)
		b.ResetTimer()
		t1 := time.Now()
		rep, err := reports.Course(ctx, db.DB, c.ID, time.Now())
		el := time.Since(t1)
		b.StopTimer()
		require.NoError(b, err)
		require.Len(b, rep.Sessions, sessions)
		b.ReportMetric(el.Seconds(), "report_s")
		b.ReportMetric(base.Seconds(), "bare_aggregate_s")
		fmt.Printf("course report: %d answers in %d sessions in %s (target ≤ 2s) vs bare GROUP BY over the same answers %s → ×%.1f\n",
			total, sessions, el.Round(time.Millisecond), base.Round(time.Millisecond), el.Seconds()/base.Seconds())
	}
}
