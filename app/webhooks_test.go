package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/webhooks"
)

// TestCompletedResponsesAreWebhookEvents: a named feedback survey answered
// through the real card and form; a partial answer (NPS in the card) sends
// nothing, a complete form sends one response.submitted with the person and
// the answers, signed.
func TestCompletedResponsesAreWebhookEvents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		// The receiver is on loopback: a service allowed to reach it, on
		// the app's database and clock (the app's own refuses loopback).
		svc, err := webhooks.New(webhooks.Deps{DB: b.a.DB(), Key: []byte("e2e-webhook-key-0123456789"), Opts: webhooks.Options{AllowPrivate: true}, Now: b.clk.Now})
		require.NoError(t, err)
		var mu sync.Mutex
		var secret []byte
		var got []webhooks.Envelope
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			if err := webhooks.Verify(secret, r.Header.Get(webhooks.SignatureHeader), body, b.clk.Now(), webhooks.Tolerance); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			var env webhooks.Envelope
			require.NoError(t, json.Unmarshal(body, &env))
			got = append(got, env)
		}))
		t.Cleanup(rcv.Close)
		target := rcv.URL
		ep, err := svc.Create(context.Background(), webhooks.Input{URL: &target, Events: []string{store.EventResponse}}, "test")
		require.NoError(t, err)
		secret = []byte(ep.Secret)

		sid, tps := surveyFixture(t, b)
		b.clk.Set(time.Date(2026, 3, 2, 2, 5, 0, 0, time.UTC))
		for _, id := range []string{"E001", "E002"} {
			require.Equal(t, http.StatusCreated, b.call(t, "POST", "/api/v1/sessions/"+u(sid)+"/checkins", "", map[string]any{"external_id": id}, nil))
		}
		b.clk.Set(time.Date(2026, 3, 2, 4, 0, 1, 0, time.UTC))
		b.runDue(t)
		require.Equal(t, []string{"E001", "E002"}, deliveredTo(t, b, tps[surveys.KindFeedback][0]))
		c1 := cardWith(t, b, "E001", surveys.KindFeedback)
		require.True(t, apptest.Tap(t, b.srv.URL, "E001", apptest.Button(t, bot.ActionNPS, "9", c1)).OK)
		c2 := cardWith(t, b, "E002", surveys.KindFeedback)
		code, body := postForm(t, formURL(t, b, c2), url.Values{"action": {"submit"}, "q_teacher_satisfaction": {"5"}, "q_course_satisfaction": {"4"},
			"q_organisation_satisfaction": {"4"}, "q_nps": {"10"}, "q_suggestions": {"多一些案例"}})
		require.Equal(t, http.StatusSeeOther, code, body)

		_, err = svc.RunOnce(context.Background())
		require.NoError(t, err)
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, got, 1, "the partial card answer sends nothing")
		require.Equal(t, store.EventResponse, got[0].Type)
		var d webhooks.ResponseData
		require.NoError(t, json.Unmarshal(got[0].Data, &d))
		require.Equal(t, "E002", d.EmployeeID)
		require.Equal(t, store.ResponseComplete, d.Status)
		require.NotNil(t, d.SubmittedAt)
		answers := map[string]webhooks.Answer{}
		for _, a := range d.Answers {
			answers[a.Question] = a
		}
		require.NotNil(t, answers["nps"].Number, "%v", d.Answers)
		require.InDelta(t, 10, *answers["nps"].Number, 0)
		require.Equal(t, "多一些案例", answers["suggestions"].Text)
	})
}
