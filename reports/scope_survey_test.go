package reports_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/surveys"
)

// TestSurveyForDepartmentSubtree checks a department head's survey and
// course figures: the answers of their department and the ones below it
// only, every figure whose own n is below the minimum cleared (in the JSON
// too), and no comments or department breakdown.
func TestSurveyForDepartmentSubtree(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		for _, d := range []struct{ id, parent, name string }{{"1", "0", "总部"}, {"2", "1", "销售部"}, {"3", "2", "销售一部"}, {"4", "1", "研发部"}} {
			require.NoError(t, db.Create(&store.DirectoryDepartment{Platform: "wecom", DeptID: d.id, ParentID: d.parent, Name: d.name,
				Path: d.name, Active: true, SyncedAt: start}).Error)
		}
		w := newSurveyWorld(t, db, false)
		for i := range 4 {
			w.person(fmt.Sprint("S", i), "销售部", surveys.KindFeedback)
			w.person(fmt.Sprint("T", i), "销售一部", surveys.KindFeedback)
			w.person(fmt.Sprint("R", i), "研发部", surveys.KindFeedback)
		}
		// 销售部 subtree: 3 + 3 responses; everyone answers NPS, only 4 the ratings.
		for i := range 3 {
			w.answer("销售部", store.ResponseComplete, full(5, 10))
			if i < 1 {
				w.answer("销售一部", store.ResponseComplete, full(1, 0))
			} else {
				w.answer("销售一部", store.ResponsePartial, map[string]float64{"nps": 0})
			}
		}
		for range 4 {
			w.answer("研发部", store.ResponseComplete, full(3, 5))
		}
		head := reports.Actor{Username: "h", Role: store.RoleDepartmentHead}
		// The head sees the session: people of the subtree are enrolled.
		for _, k := range []string{"S0", "T0"} {
			require.NoError(t, db.Create(&store.Enrollment{SessionID: w.sess.ID, EmployeeID: w.people[k].ID, Status: store.EnrollInvited}).Error)
		}

		scope, err := reports.NewScope(ctx, db.DB, head, "销售部", 5)
		require.NoError(t, err)
		rep, err := reports.SurveyFor(ctx, db.DB, w.sv.ID, start, scope)
		require.NoError(t, err)
		require.True(t, rep.Partial)
		require.False(t, rep.Suppressed)
		require.Equal(t, 8, rep.ResponseRate.Eligible, "recipients of the subtree")
		require.Equal(t, 4, rep.ResponseRate.Complete)
		require.Equal(t, 2, rep.ResponseRate.Partial)
		require.NotNil(t, rep.NPS)
		require.False(t, rep.NPSSuppressed)
		require.Equal(t, 6, rep.NPS.N)
		require.InDelta(t, 0, *rep.NPS.Score, 1e-9, "3 promoters, 3 detractors")
		require.NotEmpty(t, rep.Dimensions)
		for _, d := range rep.Dimensions {
			require.True(t, d.Suppressed, "n 4 < 5: %s", d.Key)
			require.Zero(t, d.Rating.N)
			require.Nil(t, d.Rating.Mean)
		}
		require.Empty(t, rep.Comments)
		require.Empty(t, rep.Departments)
		raw, err := json.Marshal(rep)
		require.NoError(t, err)
		require.NotContains(t, string(raw), `"mean":4.`, "no suppressed mean in the JSON")

		// The leaf alone is below the minimum: nothing, not even the count.
		leaf, err := reports.NewScope(ctx, db.DB, head, "销售一部", 5)
		require.NoError(t, err)
		rep, err = reports.SurveyFor(ctx, db.DB, w.sv.ID, start, leaf)
		require.NoError(t, err)
		require.True(t, rep.Suppressed)
		require.Zero(t, rep.ResponseRate.Eligible)
		require.Nil(t, rep.ResponseRate.Rate)
		require.True(t, rep.NPSSuppressed)

		// The course report pools the same answers for the same scope.
		course, err := reports.CourseFor(ctx, db.DB, w.sess.CourseID, start, scope)
		require.NoError(t, err)
		require.True(t, course.Partial)
		require.Len(t, course.Sessions, 1)
		require.Equal(t, 6, course.Sessions[0].ResponseRate.Complete+course.Sessions[0].ResponseRate.Partial)
		require.Equal(t, 6, course.NPS.N)
		for _, d := range course.Dimensions {
			require.True(t, d.Suppressed)
		}

		// Another coordinator may not see the survey at all.
		other, err := reports.NewScope(ctx, db.DB, reports.Actor{Username: "bob", Role: store.RoleCoordinator}, "", 5)
		require.NoError(t, err)
		_, err = reports.SurveyFor(ctx, db.DB, w.sv.ID, start, other)
		require.ErrorIs(t, err, reports.ErrForbidden)
		_, err = reports.CourseFor(ctx, db.DB, w.sess.CourseID, start, other)
		require.ErrorIs(t, err, reports.ErrForbidden)

		// The full report is unchanged by scoping: everyone's answers.
		all, err := reports.Survey(ctx, db.DB, w.sv.ID, time.Now())
		require.NoError(t, err)
		require.Equal(t, 10, all.NPS.N)
		require.False(t, all.Partial)
	})
}
