// Package reportstest seeds what the reports' tests and the console's
// report pages' tests count: sessions with their roster, check-ins and
// feedback ratings.
package reportstest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/surveys"
)

// TeachSession seeds a two-hour session of the course taught by teacherID
// at start: learners people enrolled and checked in on time, excused more
// people enrolled and excused, and one complete response per rating (the
// teacher_satisfaction answer) in its post-course feedback survey. It
// returns the session's id.
func TeachSession(t testing.TB, db *storetest.DB, courseID, teacherID uint64, start time.Time, learners, excused int, ratings []float64) uint64 {
	t.Helper()
	s := store.Session{CourseID: courseID, Title: "S", StartsAt: start, EndsAt: start.Add(2 * time.Hour), TimeZone: "Asia/Shanghai", Locale: "zh-CN", Status: store.SessionPlanned, TeacherID: &teacherID}
	require.NoError(t, db.Create(&s).Error)
	for i := range learners + excused {
		e := store.Employee{ExternalID: fmt.Sprintf("T%d-%d", s.ID, i), Name: "x", Active: true}
		require.NoError(t, db.Create(&e).Error)
		status := store.EnrollInvited
		if i >= learners {
			status = store.EnrollExcused
		}
		require.NoError(t, db.Create(&store.Enrollment{SessionID: s.ID, EmployeeID: e.ID, Status: status}).Error)
		if i < learners {
			require.NoError(t, db.Create(&store.Checkin{SessionID: s.ID, EmployeeID: e.ID, Kind: store.CheckinOnTime, Source: store.SourceManual, CheckedInAt: start}).Error)
		}
	}
	def, err := surveys.BuiltinByKey("post_course_feedback")
	require.NoError(t, err)
	raw, err := json.Marshal(def)
	require.NoError(t, err)
	sv := store.Survey{SessionID: s.ID, CourseID: courseID, Kind: store.SurveyFeedback, Title: "课后反馈", Definition: string(raw), MinGroupSize: 5, OpensAt: start, ClosesAt: start.Add(240 * time.Hour), Status: store.SurveyOpen}
	require.NoError(t, db.Create(&sv).Error)
	for i, v := range ratings {
		r := store.SurveyResponse{SurveyID: sv.ID, RespondentKey: fmt.Sprintf("e:%d", i), Status: store.ResponseComplete, Source: "form", StartedAt: start}
		require.NoError(t, db.Create(&r).Error)
		require.NoError(t, db.Create(&store.SurveyAnswer{ResponseID: r.ID, SurveyID: sv.ID, QuestionKey: "teacher_satisfaction", Number: &v}).Error)
	}
	return s.ID
}
