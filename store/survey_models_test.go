package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

func TestSurveyParticipationMatchesItsTable(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		m := db.Migrator()
		require.True(t, m.HasTable(&store.SurveyParticipation{}))
		for _, col := range []string{"SurveyID", "EmployeeID", "SubjectID", "Status"} {
			require.True(t, m.HasColumn(&store.SurveyParticipation{}, col), col)
		}
		cols, err := m.ColumnTypes(&store.SurveyParticipation{})
		require.NoError(t, err)
		require.Len(t, cols, 4, "no id, no time, no response id")
		p := store.SurveyParticipation{SurveyID: 1, EmployeeID: 2, Status: store.ParticipationAnswered}
		require.NoError(t, db.Create(&p).Error)
		require.True(t, store.IsDuplicate(db.Create(&p).Error), "one row per person and survey")
	})
}

// TestMigration6StripsPersonFromAnonymousResponses seeds responses the way
// the code before migration 6 wrote them and runs the migration again.
func TestMigration6StripsPersonFromAnonymousResponses(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		at := time.Date(2026, 3, 2, 4, 17, 23, 456000000, time.UTC)
		sess := store.Session{CourseID: 1, Title: "s", StartsAt: at, EndsAt: at, TimeZone: "UTC", Status: store.SessionPlanned}
		require.NoError(t, db.Create(&sess).Error)
		anon := store.Survey{SessionID: sess.ID, Kind: store.SurveyFeedback, Title: "a", Definition: "{}", Anonymous: true, MinGroupSize: 5, OpensAt: at, ClosesAt: at.Add(time.Hour), Status: store.SurveyOpen}
		named := anon
		named.Anonymous = false
		require.NoError(t, db.Create(&anon).Error)
		require.NoError(t, db.Create(&named).Error)
		tp := store.Touchpoint{SessionID: sess.ID, Kind: "feedback", Anchor: store.AnchorEnd, Audience: store.AudienceCheckedIn, SurveyID: anon.ID, RunAt: at, Status: store.TouchpointFired}
		require.NoError(t, db.Create(&tp).Error)
		// 销售 has five eligible people, 法务 two.
		var people []store.Employee
		for i := range 7 {
			dept := "销售"
			if i >= 5 {
				dept = "法务"
			}
			e := store.Employee{ExternalID: fmt.Sprintf("E%d", i), Name: "x", Department: dept, Active: true}
			require.NoError(t, db.Create(&e).Error)
			people = append(people, e)
			require.NoError(t, db.Create(&store.Delivery{TouchpointID: tp.ID, Occurrence: "0", EmployeeID: e.ID, SessionID: sess.ID, Key: fmt.Sprintf("k%d", i),
				Platform: "simulator", UserID: e.ExternalID, Status: store.DeliverySent}).Error)
		}
		submitted := at.Add(time.Minute)
		old := []store.SurveyResponse{
			{SurveyID: anon.ID, RespondentKey: "h:0123", Department: "销售", Status: store.ResponseComplete, Source: "form", StartedAt: at, SubmittedAt: &submitted, UpdatedAt: submitted},
			{SurveyID: anon.ID, RespondentKey: "h:4567", Department: "法务", Status: store.ResponsePartial, Source: "card", StartedAt: at, UpdatedAt: at},
		}
		id0 := people[0].ID
		old = append(old, store.SurveyResponse{SurveyID: named.ID, RespondentKey: fmt.Sprintf("e:%d", id0), RespondentID: &id0, Department: "销售", Status: store.ResponseComplete, Source: "form", StartedAt: at, SubmittedAt: &submitted, UpdatedAt: at})
		v := 4.0
		for i := range old {
			require.NoError(t, db.Create(&old[i]).Error)
			require.NoError(t, db.Create(&store.SurveyAnswer{ResponseID: old[i].ID, SurveyID: old[i].SurveyID, QuestionKey: "q", Number: &v, UpdatedAt: at}).Error)
		}
		require.NoError(t, db.Create(&store.CommentTag{ResponseID: old[1].ID, QuestionKey: "q", Tag: "short", By: "admin", At: at}).Error)

		var m store.Migration
		for _, x := range store.Migrations {
			if x.Version == 6 {
				m = x
			}
		}
		require.NotNil(t, m.Up)
		require.NoError(t, m.Up(db.DB))
		require.NoError(t, m.Up(db.DB), "a migration can run again")

		var parts []store.SurveyParticipation
		require.NoError(t, db.Find(&parts).Error)
		require.Equal(t, []store.SurveyParticipation{{SurveyID: named.ID, EmployeeID: id0, Status: store.ResponseComplete}}, parts,
			"named responses fill the participation table; anonymous ones have no person to fill it with")

		var got []store.SurveyResponse
		require.NoError(t, db.Where("survey_id = ?", anon.ID).Order("source").Find(&got).Error)
		require.Len(t, got, 2)
		day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		for _, r := range got {
			require.True(t, strings.HasPrefix(r.RespondentKey, "k:"), "the HMAC of the employee id is gone: %s", r.RespondentKey)
			require.NotEqual(t, old[0].ID, r.ID)
			require.NotEqual(t, old[1].ID, r.ID)
			require.GreaterOrEqual(t, r.ID, uint64(1)<<40, "random id")
			require.True(t, r.StartedAt.Equal(day), "started_at cut to the day: %v", r.StartedAt)
			require.True(t, r.UpdatedAt.Equal(day))
			var answers []store.SurveyAnswer
			require.NoError(t, db.Where("response_id = ?", r.ID).Find(&answers).Error)
			require.Len(t, answers, 1, "answers follow their response")
			require.GreaterOrEqual(t, answers[0].ID, uint64(1)<<40)
			require.True(t, answers[0].UpdatedAt.Equal(day))
		}
		card, form := got[0], got[1]
		require.Equal(t, "", card.Department, "a department of two is not kept")
		require.Equal(t, "销售", form.Department, "a department of five eligible people is kept")
		require.True(t, form.SubmittedAt.Equal(day))
		var tag store.CommentTag
		require.NoError(t, db.First(&tag).Error)
		require.Equal(t, card.ID, tag.ResponseID, "comment triage follows the response")

		var kept store.SurveyResponse
		require.NoError(t, db.Where("survey_id = ?", named.ID).First(&kept).Error)
		require.Equal(t, old[2].ID, kept.ID, "named responses are untouched")
		require.True(t, kept.StartedAt.Equal(at))
	})
}
