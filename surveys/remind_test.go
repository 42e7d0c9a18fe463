package surveys_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/simulator"
	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/surveys"
)

// remindWorld is a running app with a named feedback survey on a session of
// A1–A4 in which A1–A3 checked in; the survey goes out at the end (12:00).
type remindWorld struct {
	a      *app.App
	srv    *httptest.Server
	clk    *apptest.Clock
	sid    string
	survey store.Survey
}

func newRemindWorld(t *testing.T, db *storetest.DB) *remindWorld {
	t.Helper()
	w := &remindWorld{clk: apptest.NewClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))}
	w.a, w.srv = apptest.Start(t, db.DB, w.clk, anonSecret, apptest.NoFeedback)

	sid, survey := feedbackClass(t, w.srv.URL, w.clk, "REM-1", "沟通",
		"external_id,name,department,platform\nA1,甲,销售,simulator\nA2,乙,销售,simulator\nA3,丙,销售,simulator\nA4,丁,销售,simulator\n",
		[]string{"A1", "A2", "A3"}, false)
	w.sid = strconv.FormatUint(sid, 10)
	require.NoError(t, db.First(&w.survey, survey).Error)
	return w
}

// feedbackClass creates a course (code, title) with a session on 2026-03-02
// 10:00–12:00 Shanghai and no plan, imports roster, checks present in at
// 10:05 and adds the post-course feedback survey (anonymous or named) sent
// at the end. It returns the session's and the survey's ids.
func feedbackClass(t *testing.T, baseURL string, clk *apptest.Clock, code, title, roster string, present []string, anonymous bool) (session, survey uint64) {
	t.Helper()
	session = apptest.NewSession(t, baseURL, apptest.SessionSpec{
		Course:  map[string]any{"code": code, "title": title},
		Session: map[string]any{"starts_at": "2026-03-02T10:00:00+08:00", "ends_at": "2026-03-02T12:00:00+08:00", "plan": "none"},
		Roster:  roster,
	}).ID
	sid := strconv.FormatUint(session, 10)
	clk.Set(time.Date(2026, 3, 2, 2, 5, 0, 0, time.UTC))
	for _, id := range present {
		require.Equal(t, http.StatusCreated, apptest.Call(t, baseURL, "POST", "/api/v1/sessions/"+sid+"/checkins", "", map[string]any{"external_id": id}, nil))
	}
	var created struct{ Survey struct{ ID uint64 } }
	require.Equal(t, http.StatusCreated, apptest.Call(t, baseURL, "POST", "/api/v1/sessions/"+sid+"/surveys", "", map[string]any{
		"template": "post_course_feedback", "anonymous": anonymous, "send_at": "2026-03-02T12:00:00+08:00",
	}, &created))
	return session, created.Survey.ID
}

func (w *remindWorld) call(t *testing.T, method, path, ctype string, body, out any) int {
	t.Helper()
	return apptest.Call(t, w.srv.URL, method, path, ctype, body, out)
}

func (w *remindWorld) missing(t *testing.T) []string {
	t.Helper()
	rows, err := w.a.Surveys().Missing(context.Background(), w.survey)
	require.NoError(t, err)
	var out []string
	for _, r := range rows {
		out = append(out, r.ExternalID)
	}
	return out
}

// reminders counts the reminder cards each person received.
func (w *remindWorld) reminders(people ...string) map[string]int {
	out := map[string]int{}
	for _, p := range people {
		for _, c := range w.a.Sim().Inbox(p) {
			if c.Message.Kind == surveys.KindFeedbackReminder {
				out[p]++
			}
		}
	}
	return out
}

// TestNonRespondentsAreTheEligibleRecipients: "not answered" is who
// received the survey (any push, active) without a complete answer — not
// who is checked in now. Before the survey is sent nobody is missing and
// "remind now" sends nothing; someone who checks in after it went out is
// not missing either; the list, the reminder's audience and the response
// rate's denominator are the same people.
func TestNonRespondentsAreTheEligibleRecipients(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newRemindWorld(t, db)
		ctx := context.Background()
		require.Empty(t, w.missing(t), "not sent yet: nobody can have failed to answer")
		_, err := w.a.Surveys().RemindNow(ctx, w.survey.ID)
		require.ErrorIs(t, err, surveys.ErrNoneMissing)
		require.Equal(t, http.StatusConflict, w.call(t, "POST", "/api/v1/surveys/"+strconv.FormatUint(w.survey.ID, 10)+"/remind", "", nil, nil))
		var tps int64
		require.NoError(t, db.Model(&store.Touchpoint{}).Where("survey_id = ? AND kind = ?", w.survey.ID, surveys.KindFeedbackReminder).Count(&tps).Error)
		require.Zero(t, tps, "nothing queued")

		w.clk.Set(time.Date(2026, 3, 2, 4, 0, 1, 0, time.UTC)) // 12:00:01
		apptest.RunDue(t, w.a)
		// A4 checks in during the make-up window, after the survey went out.
		require.Equal(t, http.StatusCreated, w.call(t, "POST", "/api/v1/sessions/"+w.sid+"/checkins", "", map[string]any{"external_id": "A4"}, nil))
		// A1 answers in full, A2 only starts (the NPS tap in the card).
		form := open(t, trackedForm(t, cardOf(t, w.a, "A1")))
		require.Equal(t, http.StatusSeeOther, post(t, form, answers(5, "")))
		tap := apptest.Button(t, bot.ActionNPS, "7", cardOf(t, w.a, "A2"))
		reply, err := w.a.Router().HandleInteraction(ctx, bot.Interaction{Platform: bot.PlatformSimulator, UserID: "A2", Action: tap.Action, Value: tap.Value, Token: tap.Token, Source: store.SourceCard})
		require.NoError(t, err)
		require.True(t, reply.OK)

		require.Equal(t, []string{"A2", "A3"}, w.missing(t), "the recipients without a complete answer; A4 never received it")
		rep, err := reports.Survey(ctx, db.DB, w.survey.ID, w.clk.Now())
		require.NoError(t, err)
		require.Equal(t, 3, rep.ResponseRate.Eligible)
		require.Equal(t, rep.ResponseRate.Eligible-rep.ResponseRate.Complete, len(w.missing(t)), "missing = eligible − complete")

		_, err = w.a.Surveys().RemindNow(ctx, w.survey.ID)
		require.NoError(t, err)
		apptest.RunDue(t, w.a)
		require.Equal(t, map[string]int{"A2": 1, "A3": 1}, w.reminders("A1", "A2", "A3", "A4"), "the reminder goes to exactly that list")
		rep, err = reports.Survey(ctx, db.DB, w.survey.ID, w.clk.Now())
		require.NoError(t, err)
		require.Equal(t, 3, rep.ResponseRate.Eligible, "a reminder adds no one to the denominator")
	})
}

// TestRemindNowCapHoldsUnderRepeatsAndRaces: three "remind now" in a row
// (the jobs not run in between) are two reminders and a too-many-reminders
// refusal, which deletes nothing; and coordinators clicking at once never
// get past the cap either. Each person gets at most two reminders.
func TestRemindNowCapHoldsUnderRepeatsAndRaces(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		t.Run("in a row", func(t *testing.T) {
			w := newRemindWorld(t, storetest.Open(t, db.Driver))
			w.clk.Set(time.Date(2026, 3, 2, 4, 0, 1, 0, time.UTC))
			apptest.RunDue(t, w.a)
			path := "/api/v1/surveys/" + strconv.FormatUint(w.survey.ID, 10) + "/remind"
			var codes []int
			for range 3 {
				codes = append(codes, w.call(t, "POST", path, "", nil, nil))
			}
			require.Equal(t, []int{http.StatusAccepted, http.StatusAccepted, http.StatusConflict}, codes)
			var tps []store.Touchpoint
			require.NoError(t, w.a.DB().Where("survey_id = ? AND kind = ?", w.survey.ID, surveys.KindFeedbackReminder).Find(&tps).Error)
			require.Len(t, tps, 2, "the refused call deleted and added nothing")
			apptest.RunDue(t, w.a)
			require.Equal(t, map[string]int{"A1": 2, "A2": 2, "A3": 2}, w.reminders("A1", "A2", "A3", "A4"))
		})
		t.Run("at once", func(t *testing.T) {
			w := newRemindWorld(t, storetest.Open(t, db.Driver))
			w.clk.Set(time.Date(2026, 3, 2, 4, 0, 1, 0, time.UTC))
			apptest.RunDue(t, w.a)
			const callers = 6
			var wg sync.WaitGroup
			errs := make([]error, callers)
			start := make(chan struct{})
			for i := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = w.a.Surveys().RemindNow(context.Background(), w.survey.ID)
				}()
			}
			close(start)
			wg.Wait()
			var ok, tooMany []int
			for i, err := range errs {
				switch {
				case err == nil:
					ok = append(ok, i)
				case errors.Is(err, surveys.ErrTooMany):
					tooMany = append(tooMany, i)
				default:
					t.Fatalf("caller %d: %v", i, err)
				}
			}
			require.Len(t, ok, surveys.MaxReminders)
			require.Len(t, tooMany, callers-surveys.MaxReminders)
			apptest.RunDue(t, w.a)
			got := w.reminders("A1", "A2", "A3")
			require.Equal(t, map[string]int{"A1": 2, "A2": 2, "A3": 2}, got)
		})
		t.Run("replaces the next scheduled reminder", func(t *testing.T) {
			w := newRemindWorld(t, storetest.Open(t, db.Driver))
			ctx := context.Background()
			// Two automatic reminders, tomorrow and the day after.
			var sess store.Session
			require.NoError(t, w.a.DB().First(&sess, w.survey.SessionID).Error)
			for _, day := range []int{3, 4} {
				at := time.Date(2026, 3, day, 4, 0, 0, 0, time.UTC)
				tp := store.Touchpoint{Kind: surveys.KindFeedbackReminder, Anchor: store.AnchorAbsolute, At: &at, Audience: surveys.AudienceNotResponded, SurveyID: w.survey.ID}
				require.NoError(t, w.a.Planner().Create(ctx, w.a.DB(), &tp, sess))
			}
			w.clk.Set(time.Date(2026, 3, 2, 4, 0, 1, 0, time.UTC))
			apptest.RunDue(t, w.a)
			_, err := w.a.Surveys().RemindNow(ctx, w.survey.ID)
			require.NoError(t, err)
			use, err := surveys.Reminders(ctx, w.a.DB(), w.survey, w.clk.Now())
			require.NoError(t, err)
			require.Equal(t, 1, use.Used)
			require.Len(t, use.Planned, 1)
			require.Equal(t, "2026-03-04", use.Planned[0].RunAt.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02"), "the earliest scheduled one was replaced")
			_, err = w.a.Surveys().RemindNow(ctx, w.survey.ID)
			require.NoError(t, err)
			_, err = w.a.Surveys().RemindNow(ctx, w.survey.ID)
			require.ErrorIs(t, err, surveys.ErrTooMany)
			// Days later nothing else goes out: two reminders in all.
			w.clk.Set(time.Date(2026, 3, 5, 4, 0, 0, 0, time.UTC))
			apptest.RunDue(t, w.a)
			got := w.reminders("A1", "A2", "A3")
			keys := make([]string, 0, len(got))
			for k := range got {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			require.Equal(t, map[string]int{"A1": 2, "A2": 2, "A3": 2}, got, strings.Join(keys, ","))
		})
	})
}

func cardOf(t *testing.T, a *app.App, user string) simulator.Card {
	t.Helper()
	for _, c := range a.Sim().Inbox(user) {
		if c.Message.Kind == surveys.KindFeedback {
			return c
		}
	}
	t.Fatalf("%s has no feedback card", user)
	return simulator.Card{}
}
