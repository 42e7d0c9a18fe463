package reports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/reports/reportstest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/surveys"
)

// surveyWorld is a feedback survey with people, pushes and answers written
// row by row, for figures computed by hand.
type surveyWorld struct {
	t      *testing.T
	db     *storetest.DB
	sess   store.Session
	sv     store.Survey
	tps    map[string]uint64
	people map[string]store.Employee
}

func newSurveyWorld(t *testing.T, db *storetest.DB, anonymous bool) *surveyWorld {
	t.Helper()
	c := store.Course{Code: "T-1", Title: "真值课"}
	require.NoError(t, db.Create(&c).Error)
	sess := store.Session{CourseID: c.ID, Title: "S", StartsAt: start, EndsAt: end, TimeZone: "Asia/Shanghai", Locale: "zh-CN", Status: store.SessionPlanned}
	require.NoError(t, db.Create(&sess).Error)
	def, err := surveys.BuiltinByKey("post_course_feedback")
	require.NoError(t, err)
	raw, _ := json.Marshal(def)
	sv := store.Survey{SessionID: sess.ID, CourseID: c.ID, Kind: store.SurveyFeedback, Title: "课后反馈", Definition: string(raw), Anonymous: anonymous,
		MinGroupSize: 5, OpensAt: start, ClosesAt: end.Add(240 * time.Hour), Status: store.SurveyOpen}
	require.NoError(t, db.Create(&sv).Error)
	w := &surveyWorld{t: t, db: db, sess: sess, sv: sv, tps: map[string]uint64{}, people: map[string]store.Employee{}}
	for _, k := range []string{surveys.KindFeedback, surveys.KindFeedbackReminder, surveys.KindEscalation} {
		tp := store.Touchpoint{SessionID: sess.ID, Kind: k, Anchor: store.AnchorEnd, Audience: store.AudienceCheckedIn, SurveyID: sv.ID, RunAt: end, Status: store.TouchpointFired}
		require.NoError(t, db.Create(&tp).Error)
		w.tps[k] = tp.ID
	}
	return w
}

// person adds an active employee of dept reached by the pushes of kinds.
func (w *surveyWorld) person(key, dept string, kinds ...string) store.Employee {
	w.t.Helper()
	e := store.Employee{ExternalID: key, Name: key, Department: dept, Active: true}
	require.NoError(w.t, w.db.Create(&e).Error)
	for _, k := range kinds {
		require.NoError(w.t, w.db.Create(&store.Delivery{TouchpointID: w.tps[k], Occurrence: "0", EmployeeID: e.ID, SessionID: w.sess.ID,
			Key: fmt.Sprintf("%s-%s", k, key), Platform: "simulator", UserID: key, Status: store.DeliverySent}).Error)
	}
	w.people[key] = e
	return e
}

// answer stores a response of dept with the given numeric answers.
func (w *surveyWorld) answer(dept, status string, nums map[string]float64) {
	w.t.Helper()
	r := store.SurveyResponse{SurveyID: w.sv.ID, RespondentKey: fmt.Sprintf("k:%d", time.Now().UnixNano()), Department: dept, Status: status, Source: "form", StartedAt: start}
	require.NoError(w.t, w.db.Create(&r).Error)
	for k, v := range nums {
		v := v
		require.NoError(w.t, w.db.Create(&store.SurveyAnswer{ResponseID: r.ID, SurveyID: w.sv.ID, QuestionKey: k, Number: &v}).Error)
	}
}

func full(teacher, nps float64) map[string]float64 {
	return map[string]float64{"teacher_satisfaction": teacher, "course_satisfaction": teacher, "organisation_satisfaction": teacher, "nps": nps}
}

// Item 6: a person reached only by a reminder is eligible (any push of the
// survey); the coordinator's escalation is not. 3 complete of 5 eligible =
// 60%, where counting only the first push gave 3/4 = 75%.
func TestResponseRateCountsEveryPush(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newSurveyWorld(t, db, false)
		for _, k := range []string{"A", "B", "C", "D"} {
			w.person(k, "销售", surveys.KindFeedback, surveys.KindFeedbackReminder)
		}
		w.person("R", "销售", surveys.KindFeedbackReminder) // joined late: only the reminder reached them
		w.person("OWNER", "人力", surveys.KindEscalation)   // told who is missing; asked nothing
		for range 3 {
			w.answer("销售", store.ResponseComplete, full(5, 9))
		}
		rep, err := reports.Survey(context.Background(), db.DB, w.sv.ID, time.Now())
		require.NoError(t, err)
		require.Equal(t, 5, rep.ResponseRate.Eligible)
		require.InDelta(t, 60, *rep.ResponseRate.Rate, 1e-9)

		course, err := reports.Course(context.Background(), db.DB, w.sess.CourseID, time.Now())
		require.NoError(t, err)
		require.Len(t, course.Sessions, 1)
		require.Equal(t, 5, course.Sessions[0].ResponseRate.Eligible, "the course aggregate uses the same eligible")
		require.InDelta(t, 60, *course.Sessions[0].ResponseRate.Rate, 1e-9)
	})
}

// Item 7: a department of five responses where one answered the ratings
// shows its NPS (n 5) but not that one person's CSAT mean (n 1).
func TestDepartmentFiguresAreJudgedOnTheirOwnN(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newSurveyWorld(t, db, true)
		for i := range 6 {
			w.person(fmt.Sprintf("P%d", i), "销售", surveys.KindFeedback)
		}
		w.answer("销售", store.ResponseComplete, full(2, 10))
		for range 4 {
			w.answer("销售", store.ResponsePartial, map[string]float64{"nps": 9})
		}
		rep, err := reports.Survey(context.Background(), db.DB, w.sv.ID, time.Now())
		require.NoError(t, err)
		require.Len(t, rep.Departments, 1)
		d := rep.Departments[0]
		require.False(t, d.Suppressed)
		require.Equal(t, 5, *d.Responses)
		require.NotNil(t, d.NPS)
		require.Equal(t, 5, *d.NPSN)
		require.InDelta(t, 100, *d.NPS, 1e-9)
		require.Nil(t, d.CSATMean, "one person's ratings are not shown")
		require.Nil(t, d.CSATN)
		require.Contains(t, rep.Definitions["csat_mean"], "n =")

		var buf bytes.Buffer
		require.NoError(t, reports.WriteTablesCSV(&buf, rep.Tables()))
		require.Contains(t, buf.String(), "\r\n销售,5,100.0,5,已隐藏 suppressed (< 5),\r\n", "the suppressed mean is in no export")
	})
}

// Items 8–10: CSV quotes only text (negative numbers stay numbers, formula
// text is defused), rounding is half away from zero on negatives, and XLSX
// types cells by the figure, not by parsing text.
func TestExportsTypeAndRoundCells(t *testing.T) {
	t.Parallel()
	minus := func(v float64) *float64 { return &v }
	ts := []reports.Table{{Name: "t", Header: []string{"text", "nps", "delta", "mean"}, Rows: [][]reports.Cell{
		{reports.Text("1e5"), reports.Num(minus(-100), 1), reports.Num(minus(-0.995), 2), reports.Num(minus(4.495), 2)},
		{reports.Text("=HYPERLINK(\"x\")"), reports.Num(minus(-0.05), 1), reports.Num(minus(-1.005), 2), reports.Num(minus(2.675), 2)},
		{reports.Text("-3 末尾"), reports.Int(-3), reports.Num(minus(-0.004), 2), reports.Cell{}},
	}}}
	var buf bytes.Buffer
	require.NoError(t, reports.WriteTablesCSV(&buf, ts))
	rd := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff")))
	rd.FieldsPerRecord = -1 // a section title is one field
	recs, err := rd.ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"1e5", "-100.0", "-1.00", "4.50"}, recs[2])
	require.Equal(t, []string{"'=HYPERLINK(\"x\")", "-0.1", "-1.01", "2.68"}, recs[3])
	require.Equal(t, []string{"'-3 末尾", "-3", "0.00", ""}, recs[4])

	buf.Reset()
	require.NoError(t, reports.WriteTablesXLSX(&buf, ts))
	f, err := excelize.OpenReader(&buf)
	require.NoError(t, err)
	sheet := f.GetSheetName(0)
	typ, err := f.GetCellType(sheet, "A2")
	require.NoError(t, err)
	require.NotEqual(t, excelize.CellTypeNumber, typ, "text that parses as a number stays text")
	v, err := f.GetCellValue(sheet, "A2")
	require.NoError(t, err)
	require.Equal(t, "1e5", v)
	for cell, want := range map[string]string{"B2": "-100", "C2": "-1", "D2": "4.5", "C3": "-1.01", "B4": "-3"} {
		got, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
		require.NoError(t, err)
		require.Equal(t, want, got, cell)
		typ, err := f.GetCellType(sheet, cell)
		require.NoError(t, err)
		require.NotEqual(t, excelize.CellTypeSharedString, typ, cell+" is a number")
		require.NotEqual(t, excelize.CellTypeInlineString, typ, cell+" is a number")
	}
}

// Item 9: the one rounding function, on negatives and decimal halves.
func TestRoundHalfAwayFromZero(t *testing.T) {
	t.Parallel()
	cases := []struct {
		x      float64
		digits int
		want   string
	}{
		{-0.995, 2, "-1.00"}, {-1.005, 2, "-1.01"}, {4.495, 2, "4.50"}, {2.675, 2, "2.68"}, {-2.675, 2, "-2.68"},
		{-0.05, 1, "-0.1"}, {0.05, 1, "0.1"}, {-0.04, 1, "0.0"}, {9.995, 2, "10.00"}, {-99.95, 1, "-100.0"},
		{16.666666666666668, 1, "16.7"}, {-16.666666666666668, 1, "-16.7"}, {3, 2, "3.00"}, {-1e-9, 2, "0.00"}, {1234.5, 0, "1235"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, surveys.FormatFixed(c.x, c.digits), "%v to %d", c.x, c.digits)
	}
	require.Equal(t, -1.0, surveys.Round(-0.995, 2))
	require.Equal(t, -0.1, surveys.Round1(-0.05))
}

// Item 11: a mean of 4.495 is below 4.5 and is printed so (4.495), never as
// 4.50 next to "below 4.5"; exports show the same digits.
func TestTeacherReasonNeverContradictsItself(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		sh, _ := time.LoadLocation("Asia/Shanghai")
		c := store.Course{Code: "TR", Title: "讲师课"}
		require.NoError(t, db.Create(&c).Error)
		tc := store.Teacher{Name: "E 边界", Internal: true}
		require.NoError(t, db.Create(&tc).Error)
		// 200 ratings summing to 899: mean 4.495.
		ratings := make([]float64, 0, 200)
		for i := range 200 {
			if i < 99 {
				ratings = append(ratings, 5) // 99 × 5 + 101 × 4 = 899
			} else {
				ratings = append(ratings, 4)
			}
		}
		sum := 0.0
		for _, r := range ratings {
			sum += r
		}
		require.Equal(t, 899.0, sum)
		for m := 2; m <= 4; m++ {
			reportstest.TeachSession(t, db, c.ID, tc.ID, time.Date(2026, time.Month(m), 10, 9, 0, 0, 0, sh), 30, 1, ratings)
		}
		rep, err := reports.Teachers(context.Background(), db.DB, 2026, sh, time.Now())
		require.NoError(t, err)
		require.Len(t, rep.Teachers, 1)
		tr := rep.Teachers[0]
		require.False(t, tr.Keeps)
		require.Len(t, tr.Reasons, 3)
		for _, r := range tr.Reasons {
			require.Contains(t, r, "4.495（n = 200），低于 4.5")
			require.NotContains(t, r, "4.50")
		}
		var buf bytes.Buffer
		require.NoError(t, reports.WriteTablesCSV(&buf, rep.Tables()))
		require.Contains(t, buf.String(), ",4.495,")
		require.NotContains(t, buf.String(), ",4.50,")
		require.Equal(t, 2, reports.RatingDigits(4.6, 4.5))
		require.Equal(t, 3, reports.RatingDigits(4.495, 4.5))
		require.Equal(t, 4, reports.RatingDigits(4.4995, 4.5))
	})
}

// A cancelled session is listed as cancelled, not at 0% and flagged, and its
// answers stay out of the pooled figures.
func TestCourseReportListsCancelledSessions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newSurveyWorld(t, db, false)
		for i := range 4 {
			e := w.person(fmt.Sprintf("P%d", i), "销售", surveys.KindFeedback)
			require.NoError(t, db.Create(&store.Enrollment{SessionID: w.sess.ID, EmployeeID: e.ID, Status: store.EnrollInvited}).Error)
			require.NoError(t, db.Create(&store.Checkin{SessionID: w.sess.ID, EmployeeID: e.ID, Kind: store.CheckinOnTime, Source: store.SourceManual, CheckedInAt: start}).Error)
		}
		w.answer("销售", store.ResponseComplete, full(5, 10))
		// A second session of the course, cancelled, with a roster and a
		// stray answer.
		cancelled := store.Session{CourseID: w.sess.CourseID, Title: "取消场", StartsAt: start.Add(48 * time.Hour), EndsAt: end.Add(48 * time.Hour), TimeZone: "Asia/Shanghai", Status: store.SessionCancelled}
		require.NoError(t, db.Create(&cancelled).Error)
		e := w.person("X", "销售")
		require.NoError(t, db.Create(&store.Enrollment{SessionID: cancelled.ID, EmployeeID: e.ID, Status: store.EnrollInvited}).Error)
		sv2 := w.sv
		sv2.ID, sv2.SessionID = 0, cancelled.ID
		require.NoError(t, db.Create(&sv2).Error)
		one := 1.0
		r := store.SurveyResponse{SurveyID: sv2.ID, RespondentKey: "e:x", Status: store.ResponseComplete, Source: "form", StartedAt: start}
		require.NoError(t, db.Create(&r).Error)
		require.NoError(t, db.Create(&store.SurveyAnswer{ResponseID: r.ID, SurveyID: sv2.ID, QuestionKey: "teacher_satisfaction", Number: &one}).Error)

		rep, err := reports.Course(context.Background(), db.DB, w.sess.CourseID, time.Now())
		require.NoError(t, err)
		require.Len(t, rep.Sessions, 2)
		got := rep.Sessions[1]
		require.True(t, got.Cancelled)
		require.Equal(t, store.SessionCancelled, got.Status)
		require.False(t, got.LowCheckin, "a cancelled session is not flagged")
		require.Nil(t, got.CheckinRate.Value, "and has no check-in rate")
		require.Nil(t, got.ResponseRate)
		for _, d := range rep.Dimensions {
			if d.Dimension == "teacher" {
				require.Equal(t, 1, d.Rating.N, "the cancelled session's answer is not pooled")
				require.InDelta(t, 5, *d.Rating.Mean, 1e-9)
			}
		}
		require.NotEmpty(t, rep.Definitions["cancelled"])
		var buf bytes.Buffer
		require.NoError(t, reports.WriteTablesCSV(&buf, rep.Tables()))
		require.Contains(t, buf.String(), "已取消 cancelled")
	})
}

// Beside NPS and CSAT margins with n < 10 the report data and its exports
// carry a small-sample caveat; with n ≥ 10 they do not.
func TestSmallNCaveat(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newSurveyWorld(t, db, false)
		for range 9 {
			w.answer("销售", store.ResponseComplete, full(4, 9))
		}
		rep, err := reports.Survey(context.Background(), db.DB, w.sv.ID, time.Now())
		require.NoError(t, err)
		require.NotEmpty(t, rep.NPS.Caveat)
		require.NotEmpty(t, rep.Dimensions[0].Rating.Caveat)
		raw, err := json.Marshal(rep)
		require.NoError(t, err)
		require.Contains(t, string(raw), `"caveat":"n \u003c 10`)
		var buf bytes.Buffer
		require.NoError(t, reports.WriteTablesCSV(&buf, rep.Tables()))
		require.Contains(t, buf.String(), "n < 10")

		w.answer("销售", store.ResponseComplete, full(4, 9))
		rep, err = reports.Survey(context.Background(), db.DB, w.sv.ID, time.Now())
		require.NoError(t, err)
		require.Empty(t, rep.NPS.Caveat, "n = 10")
		require.Empty(t, rep.Dimensions[0].Rating.Caveat)
	})
}
