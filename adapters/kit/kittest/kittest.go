// Package kittest is the conformance suite every platform adapter runs
// against its fake platform, in the spirit of Alertmanager's notify/test:
// an adapter's test builds a small Harness (how to start a client on a
// fresh fake, how to script the fake's faults, how to sign a callback) and
// calls Run. The suite checks what every adapter promises the core loop:
//
//   - send: a card reaches the fake, and a resend under the same delivery
//     key is one message (the platform's idempotency key);
//   - update: UpdateCard with the send's handle changes that card;
//   - retry classification: each scripted fault is reported as the outcome
//     the delivery loop needs (transient, permanent or dropped);
//   - no secret in errors: credentials and access tokens never appear in an
//     error, a wrapped error or a log line, even when the platform echoes
//     them;
//   - callbacks: forgeries (bad signature, stale, tampered, …) are refused
//     with a 4xx before anything sees them; a genuine tap reaches the
//     handler once however often the platform delivers it, and the adapter
//     applies the Reply's card itself (taps flow one way).
package kittest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/text"
)

// Outcome is how the delivery loop treats the result of a send.
type Outcome string

// Outcomes of a send.
const (
	Sent      Outcome = "sent"
	Transient Outcome = "transient" // retried later
	Permanent Outcome = "permanent" // failed, with the platform's code
	Dropped   Outcome = "dropped"   // accepted but not shown
)

// Classify returns the Outcome the delivery loop derives from err.
func Classify(err error) Outcome {
	var pe *bot.PermanentError
	var de *bot.DroppedError
	switch {
	case err == nil:
		return Sent
	case errors.As(err, &de):
		return Dropped
	case errors.As(err, &pe):
		return Permanent
	}
	return Transient
}

// Harness is what an adapter gives the suite.
type Harness struct {
	// New starts a fresh fake and a client on it, for one subtest.
	New func(t *testing.T) *Setup
}

// Setup is one client on one fake.
type Setup struct {
	// Messenger is the client under test; it must implement
	// bot.CardUpdater for the update checks to run.
	Messenger bot.Messenger
	// To is a recipient the fake knows.
	To bot.Recipient
	// Sent returns how many messages the fake has accepted (and would show).
	Sent func() int
	// Card returns, as text, everything the fake would now show for the
	// card sent under key (its content after updates); "" when unknown.
	Card func(key string) string
	// Faults script the fake's next answer to a send, each with the
	// outcome the adapter must report (see RetryCase).
	Faults []Fault
	// Secrets are credential values that must never leave the adapter;
	// Tokens returns the access tokens the fake issued so far.
	Secrets []string
	Tokens  func() []string
	// Logs returns what the client logged.
	Logs func() string
	// Echo scripts the fake's next answers (to a send and an update) to be
	// refusals that echo the credentials and the current access token
	// back, as some platforms and proxies do.
	Echo func()
	// Callback is nil for a platform without signed callbacks.
	Callback *Callback
}

// Fault is one scripted failure of a send.
type Fault struct {
	Name   string
	Inject func()
	Want   Outcome
}

// Callback describes an adapter's signed HTTP callbacks.
type Callback struct {
	// Handler is the adapter's callback handler for h.
	Handler func(h bot.InteractionHandler) http.Handler
	// Tap returns a genuine, signed callback of To tapping the check-in
	// button (carrying token) on the card sent under key. Two calls with
	// the same arguments must be two deliveries of the same event (a
	// platform redelivery), each signed afresh.
	Tap func(t *testing.T, key, token string) *http.Request
	// Forgeries returns requests the handler must refuse, by name: the
	// same tap with a bad signature, a stale timestamp, a tampered body,
	// another app's id, and so on.
	Forgeries func(t *testing.T, key, token string) map[string]*http.Request
	// Shown returns, as text, the card now in place after the tap: from
	// the callback's answer (platforms that take the card inline, where
	// the fake checks the answer as the platform would) or from the fake
	// (an update call). nil: Setup.Card(key). When set, it is also asked
	// about a redelivery's answer, which must carry the same card.
	Shown func(t *testing.T, key string, answer *httptest.ResponseRecorder) string
}

// CheckinCard is the card the suite sends: a check-in button with token and
// a link.
func CheckinCard(key, token string) bot.Message {
	return bot.Message{
		Key: key, Kind: bot.KindCheckinPrompt, Title: "签到提醒：高效沟通", Body: "《高效沟通》即将开始，请点击下方按钮签到。",
		Fields: []bot.Field{{Label: "时间", Value: "2026-03-02 10:00–12:00"}, {Label: "地点", Value: "3F A"}},
		Buttons: []bot.Button{
			{Text: "签到", Action: bot.ActionCheckin, Token: token, Primary: true},
			{Text: "进入课堂", Action: bot.ActionLink, URL: "https://learn.example.com/l/link-" + key},
		},
		Fallback: "签到提醒：高效沟通\n无法点击按钮？打开链接签到：https://learn.example.com/c/chk-" + key,
		Locale:   text.ZH,
	}
}

// CheckedIn is card after a check-in: its status line instead of the
// check-in button.
func CheckedIn(card bot.Message, status string) bot.Message {
	done := card
	done.Status, done.Fallback = status, ""
	done.Buttons = nil
	for _, b := range card.Buttons {
		if b.Action == bot.ActionLink {
			done.Buttons = append(done.Buttons, b)
		}
	}
	return done
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	t.Run("send", func(t *testing.T) { t.Parallel(); testSend(t, h.New(t)) })
	t.Run("update", func(t *testing.T) { t.Parallel(); testUpdate(t, h.New(t)) })
	t.Run("retry classification", func(t *testing.T) {
		t.Parallel()
		probe := h.New(t)
		require.NotEmpty(t, probe.Faults, "the harness scripts no faults")
		for i := range probe.Faults {
			t.Run(probe.Faults[i].Name, func(t *testing.T) {
				t.Parallel()
				s := h.New(t)
				f := s.Faults[i]
				f.Inject()
				_, err := s.Messenger.Send(context.Background(), s.To, CheckinCard(fmt.Sprintf("ll-90-0-%d", i), "tok-fault"))
				require.Equal(t, f.Want, Classify(err), "error: %v", err)
			})
		}
	})
	t.Run("no secret in errors", func(t *testing.T) { t.Parallel(); testNoSecret(t, h.New(t)) })
	t.Run("callbacks", func(t *testing.T) {
		t.Parallel()
		if h.New(t).Callback == nil {
			t.Skip("no signed callbacks")
		}
		t.Run("forgeries refused", func(t *testing.T) { t.Parallel(); testForgeries(t, h.New(t)) })
		t.Run("tap flows one way", func(t *testing.T) { t.Parallel(); testTap(t, h.New(t)) })
	})
}

func testSend(t *testing.T, s *Setup) {
	ctx := context.Background()
	m := CheckinCard("ll-91-0-1", "tok-send")
	rc, err := s.Messenger.Send(ctx, s.To, m)
	require.NoError(t, err)
	require.False(t, rc.SentAt.IsZero(), "a receipt says when")
	require.Equal(t, 1, s.Sent())
	require.Contains(t, s.Card(m.Key), "签到提醒：高效沟通")
	_, err = s.Messenger.Send(ctx, s.To, m) // a resend after a crash
	require.NoError(t, err)
	require.Equal(t, 1, s.Sent(), "a resend under the same key is one message")
}

func testUpdate(t *testing.T, s *Setup) {
	up, ok := s.Messenger.(bot.CardUpdater)
	if !ok {
		t.Skip("no bot.CardUpdater")
	}
	ctx := context.Background()
	m := CheckinCard("ll-92-0-1", "tok-update")
	rc, err := s.Messenger.Send(ctx, s.To, m)
	require.NoError(t, err)
	require.NotContains(t, s.Card(m.Key), "已签到 09:02 ✓")
	require.NoError(t, up.UpdateCard(ctx, s.To, rc.Handle, CheckedIn(m, "已签到 09:02 ✓")))
	require.Contains(t, s.Card(m.Key), "已签到 09:02 ✓", "the card was updated in place")
	require.Equal(t, 1, s.Sent(), "an update is not a second message")
}

func testNoSecret(t *testing.T, s *Setup) {
	ctx := context.Background()
	m := CheckinCard("ll-93-0-1", "tok-secret")
	rc, err := s.Messenger.Send(ctx, s.To, m) // fetches a token
	require.NoError(t, err)
	var texts []string
	note := func(err error) {
		for e := err; e != nil; e = errors.Unwrap(e) {
			texts = append(texts, e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e))
		}
	}
	s.Echo()
	_, err = s.Messenger.Send(ctx, s.To, CheckinCard("ll-93-0-2", "tok-secret-2"))
	require.Error(t, err, "the fake was scripted to refuse")
	note(err)
	if up, ok := s.Messenger.(bot.CardUpdater); ok {
		note(up.UpdateCard(ctx, s.To, rc.Handle, CheckedIn(m, "已签到 09:02 ✓")))
	}
	all := strings.Join(texts, "\n") + "\n" + s.Logs()
	secrets := append(append([]string(nil), s.Secrets...), s.Tokens()...)
	require.NotEmpty(t, s.Tokens(), "the fake issued a token")
	for _, sec := range secrets {
		require.NotEmpty(t, sec)
		require.NotContains(t, all, sec, "a secret left the adapter")
	}
}

// recorder is the suite's interaction handler: it counts taps, answers with
// the checked-in card and counts the updates the adapter reports.
type recorder struct {
	mu      sync.Mutex
	taps    []bot.Interaction
	reply   bot.Reply
	updates []error
}

func (r *recorder) HandleInteraction(_ context.Context, in bot.Interaction) (bot.Reply, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.taps = append(r.taps, in)
	return r.reply, nil
}

// CardUpdated implements bot.CardUpdateCounter.
func (r *recorder) CardUpdated(_ bot.Platform, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates = append(r.updates, err)
}

func (r *recorder) counts() (taps, updates int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.taps), len(r.updates)
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func testForgeries(t *testing.T, s *Setup) {
	m := CheckinCard("ll-94-0-1", "tok-forged")
	_, err := s.Messenger.Send(context.Background(), s.To, m)
	require.NoError(t, err)
	r := &recorder{reply: bot.Reply{OK: true, Toast: "签到成功 09:02"}}
	h := s.Callback.Handler(r)
	forged := s.Callback.Forgeries(t, m.Key, "tok-forged")
	require.NotEmpty(t, forged, "the harness forges nothing")
	for name, req := range forged {
		rec := serve(h, req)
		require.GreaterOrEqual(t, rec.Code, 400, "%s: %s", name, rec.Body.String())
		require.Less(t, rec.Code, 500, "%s: a forgery is the sender's fault", name)
		taps, _ := r.counts()
		require.Zero(t, taps, "%s reached the handler", name)
	}
	require.NotContains(t, s.Card(m.Key), "已签到", "a forgery changes no card")
}

func testTap(t *testing.T, s *Setup) {
	m := CheckinCard("ll-95-0-1", "tok-tap")
	_, err := s.Messenger.Send(context.Background(), s.To, m)
	require.NoError(t, err)
	done := CheckedIn(m, "已签到 09:02 ✓")
	r := &recorder{reply: bot.Reply{OK: true, Toast: "签到成功 09:02", Card: &done}}
	h := s.Callback.Handler(r)
	rec := serve(h, s.Callback.Tap(t, m.Key, "tok-tap"))
	require.Less(t, rec.Code, 300, rec.Body.String())
	taps, updates := r.counts()
	require.Equal(t, 1, taps)
	in := r.taps[0]
	require.Equal(t, s.Messenger.Platform(), in.Platform)
	require.Equal(t, s.To.UserID, in.UserID)
	require.Equal(t, bot.ActionCheckin, in.Action)
	require.Equal(t, "tok-tap", in.Token)
	shown := s.Card(m.Key)
	if s.Callback.Shown != nil {
		shown = s.Callback.Shown(t, m.Key, rec)
	}
	require.Contains(t, shown, "已签到 09:02 ✓", "the adapter applied the reply's card")
	require.Equal(t, 1, updates, "the applied update is counted once")
	require.NoError(t, r.updates[0])
	require.Equal(t, 1, s.Sent(), "the card changed in place")

	// The platform delivers the same tap again: the handler is not called again.
	rec = serve(h, s.Callback.Tap(t, m.Key, "tok-tap"))
	require.Less(t, rec.Code, 300, rec.Body.String())
	taps, updates = r.counts()
	require.Equal(t, 1, taps, "a redelivery does not reach the handler")
	require.Equal(t, 1, updates, "nor counts the update again")
	if s.Callback.Shown != nil {
		// The platform applies whichever answer it read: a redelivery's
		// answer (it came because the first one was not read) must carry
		// the same card.
		require.Contains(t, s.Callback.Shown(t, m.Key, rec), "已签到 09:02 ✓", "a redelivery's answer carries the card too")
	}
	require.Equal(t, 1, s.Sent(), "still one message")
}
