package reports_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/text"
)

// TestExperimentOutcomes: a check-in prompt's experiment counts check-ins
// and a survey card's completed surveys, among the people delivered to,
// by their recorded variant — not a click, not a partial response, not
// a failed delivery — with the rates worked out by hand; on both
// databases.
//
//	prompt (A: E0–E3, B: E4–E7): E7's delivery failed; check-ins E0, E4, E5, E6 (and E7, not delivered)
//	  → A 1/4 = 25.0 %, B 3/3 = 100.0 % (E7 assigned, not delivered); a click by E1 counts nothing
//	survey (A: E0–E3, B: E4–E7): complete E0, E1, E4; partial E2
//	  → A 2/4 = 50.0 %, B 1/4 = 25.0 %
//	anonymous survey (A: E0–E3, B: E4–E7): E0, E4 answered (participation "answered",
//	  complete or not) → n/a: no outcomes, no rate, nothing compared — never 0
func TestExperimentOutcomes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
		c := store.Course{Code: "X", Title: "实验"}
		require.NoError(t, db.Create(&c).Error)
		s := store.Session{CourseID: c.ID, Title: "一期", StartsAt: now.Add(-4 * time.Hour), EndsAt: now.Add(-2 * time.Hour), TimeZone: "Asia/Shanghai", Locale: "zh-CN", Status: store.SessionPlanned}
		require.NoError(t, db.Create(&s).Error)
		var emps []store.Employee
		for i := range 8 {
			emps = append(emps, store.Employee{ExternalID: fmt.Sprintf("E%d", i), Name: fmt.Sprintf("员工%d", i), Platform: "simulator", Active: true})
		}
		require.NoError(t, db.Create(&emps).Error)
		for _, e := range emps {
			require.NoError(t, db.Create(&store.Enrollment{SessionID: s.ID, EmployeeID: e.ID, Status: store.EnrollInvited}).Error)
		}
		push := func(kind string, surveyID uint64, failed ...int) store.Touchpoint {
			tp := store.Touchpoint{SessionID: s.ID, Kind: kind, Anchor: store.AnchorStart, Audience: store.AudienceAll, Template: kind, SurveyID: surveyID,
				Status: store.TouchpointFired, RunAt: s.StartsAt, Variants: 2}
			require.NoError(t, db.Create(&tp).Error)
			a := store.TouchpointVariant{TouchpointID: tp.ID, Name: "A", Weight: 1, Timing: store.TimingSame}
			b := store.TouchpointVariant{TouchpointID: tp.ID, Name: "B", Weight: 1, Timing: store.TimingOffset, Title: "B"}
			require.NoError(t, db.Create(&a).Error)
			require.NoError(t, db.Create(&b).Error)
			for i, e := range emps {
				v := a.ID
				if i >= 4 {
					v = b.ID
				}
				require.NoError(t, db.Create(&store.TouchpointAssignment{TouchpointID: tp.ID, EmployeeID: e.ID, VariantID: v, AssignedAt: now}).Error)
				st := store.DeliverySent
				for _, f := range failed {
					if f == i {
						st = store.DeliveryFailed
					}
				}
				require.NoError(t, db.Create(&store.Delivery{TouchpointID: tp.ID, Occurrence: "0", EmployeeID: e.ID, SessionID: s.ID,
					Key: fmt.Sprintf("k%d-%d", tp.ID, i), Platform: "simulator", Status: st}).Error)
			}
			return tp
		}
		prompt := push("checkin_prompt", 0, 7)
		survey := push("feedback", 77)
		anon := store.Survey{SessionID: s.ID, CourseID: c.ID, Kind: store.SurveyFeedback, Title: "匿名反馈", Definition: "{}", Anonymous: true, Status: "open"}
		require.NoError(t, db.Create(&anon).Error)
		anonCard := push("feedback", anon.ID)
		for _, i := range []int{0, 4} {
			require.NoError(t, db.Create(&store.SurveyParticipation{SurveyID: anon.ID, EmployeeID: emps[i].ID, Status: store.ParticipationAnswered}).Error)
		}
		for _, i := range []int{0, 4, 5, 6, 7} {
			require.NoError(t, db.Create(&store.Checkin{SessionID: s.ID, EmployeeID: emps[i].ID, Kind: store.CheckinOnTime, Source: store.SourceCard, CheckedInAt: s.StartsAt}).Error)
		}
		require.NoError(t, db.Create(&store.Click{DeliveryID: 1, TouchpointID: prompt.ID, EmployeeID: emps[1].ID, Target: "https://x.example.com", ClickedAt: s.StartsAt}).Error)
		for i, st := range map[int]string{0: store.ResponseComplete, 1: store.ResponseComplete, 4: store.ResponseComplete, 2: "partial"} {
			require.NoError(t, db.Create(&store.SurveyParticipation{SurveyID: 77, EmployeeID: emps[i].ID, Status: st}).Error)
		}

		rep, err := reports.SessionWith(ctx, db.DB, s.ID, now, reports.Options{ExperimentMinSample: 3})
		require.NoError(t, err)
		require.Len(t, rep.Experiments, 3)
		type arm struct {
			assigned, delivered, outcomes int
			rate                          float64
		}
		for _, tc := range []struct {
			tp      store.Touchpoint
			outcome string
			a, b    arm
			diff    float64
		}{
			{prompt, reports.OutcomeCheckedIn, arm{4, 4, 1, 25}, arm{4, 3, 3, 100}, 75},
			{survey, reports.OutcomeResponded, arm{4, 4, 2, 50}, arm{4, 4, 1, 25}, -25},
		} {
			var e reports.Experiment
			for _, x := range rep.Experiments {
				if x.TouchpointID == tc.tp.ID {
					e = x
				}
			}
			require.Equal(t, tc.outcome, e.Outcome)
			for i, want := range []arm{tc.a, tc.b} {
				v := e.Variants[i]
				require.NotNil(t, v.Outcomes)
				require.Equal(t, want, arm{v.Assigned, v.Delivered, *v.Outcomes, *v.Rate.Value}, "%s %s", tc.outcome, v.Name)
			}
			require.False(t, e.Anonymous)
			require.True(t, e.Result.Enough)
			require.Len(t, e.Result.Comparisons, 1)
			require.InDelta(t, tc.diff, e.Result.Comparisons[0].Diff, 1e-9)
			require.Equal(t, tc.outcome, e.Result.Comparisons[0].Metric)
		}
		require.Contains(t, rep.Definitions["experiment_responded"], "完成了该问卷的送达人数")
		for _, e := range rep.Experiments {
			if e.TouchpointID != anonCard.ID {
				continue
			}
			require.True(t, e.Anonymous)
			for _, v := range e.Variants {
				require.Equal(t, 4, v.Delivered, v.Name)
				require.Nil(t, v.Outcomes, "n/a, not 0")
				require.Nil(t, v.Rate.Value, "n/a, not 0")
				require.Equal(t, 4, v.Rate.N)
			}
			require.False(t, e.Result.Enough)
			require.Empty(t, e.Result.Comparisons)
			require.Contains(t, e.Result.Status, "匿名问卷")
			var out strings.Builder
			for _, tb := range e.Tables(text.EN, time.UTC) {
				for _, row := range tb.Rows {
					for _, c := range row {
						out.WriteString(c.String() + "|")
					}
				}
			}
			require.Contains(t, out.String(), "n/a (anonymous)")
		}
	})
}
