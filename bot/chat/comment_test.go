package chat_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/simulator"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/surveys"
)

// withFeedback checks everyone in through chat and sends them the feedback
// survey (anonymous or named) at the end of the class.
func withFeedback(t *testing.T, w *world, anonymous bool) uint64 {
	t.Helper()
	w.at(2, 5)
	for _, u := range []string{"A1", "A2", "E1"} {
		require.Contains(t, w.say(t, u, "签到").Text, "10:05")
	}
	var created struct{ Survey struct{ ID uint64 } }
	require.Equal(t, http.StatusCreated, w.call(t, "POST", "/api/v1/sessions/"+strconv.FormatUint(w.session, 10)+"/surveys", "", map[string]any{
		"template": "post_course_feedback", "anonymous": anonymous, "send_at": "2026-03-02T12:00:00+08:00",
	}, &created))
	w.clk.Set(time.Date(2026, 3, 2, 4, 0, 1, 0, time.UTC))
	apptest.RunDue(t, w.a)
	return created.Survey.ID
}

// tapNPS taps score v on user's feedback card through the simulator's
// callback path and returns the answer.
func tapNPS(t *testing.T, w *world, user, v string) simulator.TapResponse {
	t.Helper()
	var feedback []simulator.Card
	for _, c := range w.a.Sim().Inbox(user) {
		if c.Message.Kind == surveys.KindFeedback {
			feedback = append(feedback, c)
		}
	}
	return apptest.Tap(t, w.srv.URL, user, apptest.Button(t, bot.ActionNPS, v, feedback...))
}

// comment returns the nps_why answer of the survey's response that has
// the given NPS score.
func comment(t *testing.T, db *storetest.DB, survey uint64, score float64) (store.SurveyAnswer, store.SurveyResponse) {
	t.Helper()
	var nps store.SurveyAnswer
	require.NoError(t, db.Where("survey_id = ? AND question_key = ? AND number = ?", survey, "nps", score).First(&nps).Error)
	var resp store.SurveyResponse
	require.NoError(t, db.First(&resp, nps.ResponseID).Error)
	var why store.SurveyAnswer
	require.NoError(t, db.Where("response_id = ? AND question_key = ?", nps.ResponseID, "nps_why").Limit(1).Find(&why).Error)
	return why, resp
}

func TestCommentAfterScore(t *testing.T) {
	t.Parallel()
	for _, anonymous := range []bool{false, true} {
		t.Run("anonymous="+strconv.FormatBool(anonymous), func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *storetest.DB) {
				w := newWorld(t, db, "none")
				sv := withFeedback(t, w, anonymous)

				// A1 taps 9: asked why; the next reply is the comment, once.
				w.at(4, 10)
				tr := tapNPS(t, w, "A1", "9")
				require.True(t, tr.OK)
				require.Contains(t, tr.Toast, "为什么？直接回复即可")
				require.Contains(t, tr.Card.Status, "为什么？直接回复即可")
				w.at(4, 20)
				require.Contains(t, w.say(t, "A1", "案例很实用").Text, "已记下你的原因")
				r := w.say(t, "A1", "还有一句")
				require.Contains(t, r.Text, "没有看懂", "a second reply is not a second comment")
				why, resp := comment(t, db, sv, 9)
				require.Equal(t, "案例很实用", why.Text)

				// A2 taps 6 and answers after the time limit: not a comment.
				w.at(4, 21)
				require.True(t, tapNPS(t, w, "A2", "6").OK)
				w.clk.Set(w.clk.Now().Add(surveys.CommentWindow + time.Second))
				require.Contains(t, w.say(t, "A2", "太长了").Text, "没有看懂")
				late, _ := comment(t, db, sv, 6)
				require.Zero(t, late.ID, "a reply after the time limit stores nothing")
				// The unanswered prompt is deleted at its expiry by its
				// durable job, even when nothing else happens.
				var left int64
				require.NoError(t, db.Model(&store.ChatPrompt{}).Count(&left).Error)
				require.EqualValues(t, 1, left)
				apptest.RunDue(t, w.a)
				require.NoError(t, db.Model(&store.ChatPrompt{}).Count(&left).Error)
				require.Zero(t, left, "the expiry job removed it")

				// E1 replies with a command word: the command, the prompt stays.
				w.at(5, 0)
				require.True(t, tapNPS(t, w, "E1", "10").OK)
				require.Contains(t, w.say(t, "E1", "help").Text, "check in —")
				require.Contains(t, w.say(t, "E1", "Great teacher").Text, "reason is recorded")
				e1, _ := comment(t, db, sv, 10)
				require.Equal(t, "Great teacher", e1.Text)

				var prompts int64
				require.NoError(t, db.Model(&store.ChatPrompt{}).Count(&prompts).Error)
				require.Zero(t, prompts, "used or expired, no prompt is left")
				if anonymous {
					// The comment is on the anonymous response and nothing
					// about the person came with it.
					require.Nil(t, resp.RespondentID)
					require.Nil(t, resp.DeliveryID)
					require.GreaterOrEqual(t, why.ID, uint64(1)<<40, "a random id, no insertion order")
					require.Equal(t, store.AnonymousDay(why.UpdatedAt), why.UpdatedAt.UTC(), "the day only")
				} else {
					require.Equal(t, w.people["A1"].ID, *resp.RespondentID)
				}
			})
		})
	}
}
