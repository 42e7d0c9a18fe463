package dingtalk_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/dingtalk"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/text"
)

// fakeRouter stands in for bot.Router: it records taps by token (one
// check-in per token however often it comes) and answers as the Router does,
// with a Reply carrying the checked-in card, which the adapter applies.
type fakeRouter struct {
	c    *dingtalk.Client
	msgs map[string]bot.Message // by outTrackId

	mu            sync.Mutex
	calls         map[string]int // by message token
	checkins      map[string]bool
	failNext      int
	storageErrors map[string]int // by action
}

// CallbackStorageError implements bot.StorageErrorCounter.
func (r *fakeRouter) CallbackStorageError(p bot.Platform, action string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p != bot.PlatformDingTalk {
		panic("storage error counted for " + string(p))
	}
	if r.storageErrors == nil {
		r.storageErrors = map[string]int{}
	}
	r.storageErrors[action]++
}

func (r *fakeRouter) storageErrorCount(action string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.storageErrors[action]
}

func (r *fakeRouter) HandleInteraction(ctx context.Context, in bot.Interaction) (bot.Reply, error) {
	r.mu.Lock()
	r.calls[in.Token]++
	if r.failNext > 0 {
		r.failNext--
		r.mu.Unlock()
		return bot.Reply{}, errors.New("database unavailable")
	}
	dup := r.checkins[in.Token]
	r.checkins[in.Token] = true
	r.mu.Unlock()
	var m bot.Message
	ok := false
	for _, mm := range r.msgs {
		if len(mm.Buttons) > 0 && mm.Buttons[0].Token == in.Token {
			m, ok = mm, true
		}
	}
	if !ok || in.Platform != bot.PlatformDingTalk || in.Action != bot.ActionCheckin {
		return bot.Reply{Toast: "该操作已失效"}, nil
	}
	done := m
	done.Status, done.Fallback, done.Buttons = "已签到 09:47 ✓", "", done.Buttons[1:]
	return bot.Reply{OK: true, Duplicate: dup, Toast: "签到成功 09:47", Card: &done}, nil
}

func (r *fakeRouter) count(tok string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[tok]
}

func TestStreamCardCallbacks(t *testing.T) {
	t.Parallel()
	b := setup(t, true, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	router := &fakeRouter{c: b.c, msgs: map[string]bot.Message{}, calls: map[string]int{}, checkins: map[string]bool{}}
	users := []string{"dt001", "dt002", "dt003", "dt004"}
	tokens := map[string]string{}
	for i, u := range users {
		m := checkinMessage("ll-7-0-"+u, i+1)
		router.msgs[m.Key] = m
		_, err := b.c.Send(ctx, bot.Recipient{UserID: u}, m)
		require.NoError(t, err)
		tokens[u] = b.f.card(m.Key).Private["checkin_token"]
		require.NotEmpty(t, tokens[u])
	}
	tap := func(msgID, user string) []byte {
		return tapFrame(t, msgID, "ll-7-0-"+user, user, map[string]any{"action": "checkin", "token": tokens[user], "value": ""})
	}

	runErr := make(chan error, 1)
	go func() { runErr <- b.c.Run(ctx, router) }()
	gw := b.f.gw
	gw.waitConnected(t, 1)

	// Push → tap → acknowledged with the updated card.
	gw.push("m1", tap("m1", "dt001"))
	a := gw.waitAck(t, "m1")
	require.Equal(t, 200, a.Code)
	pub, priv := cardResponse(t, a)
	require.Equal(t, "已签到 09:47 ✓", pub["status"])
	require.Equal(t, "true", pub["done"])
	require.Equal(t, "false", pub["show_checkin"])
	require.Equal(t, "签到成功 09:47", priv["toast"])
	require.Empty(t, priv["checkin_token"])
	require.Zero(t, b.f.callCount("/v1.0/card/instances"), "the update rides on the callback answer")

	// The same frame again: answered from the first run, the router is not called.
	gw.pushOnce(tap("m1", "dt001"))
	a2 := gw.waitAck(t, "m1")
	require.Equal(t, a.Data, a2.Data)
	require.Equal(t, 1, router.count(tokens["dt001"]))

	// The gateway rotates the connection: the SDK acknowledges the
	// disconnect frame and reconnects; a tap on the new connection works.
	gw.disconnect("d1")
	require.Equal(t, 200, gw.waitAck(t, "d1").Code)
	gw.waitConnected(t, 2)
	gw.push("m2", tap("m2", "dt002"))
	a = gw.waitAck(t, "m2")
	require.Equal(t, 200, a.Code)
	require.Equal(t, 2, a.Conn)

	// A tap right before a disconnect: whether its answer makes it out on
	// the old connection or the gateway redelivers it on the new one, it is
	// stored exactly once and acknowledged.
	gw.push("m3", tap("m3", "dt003"))
	gw.disconnect("d2")
	gw.waitConnected(t, 3)
	require.Eventually(t, func() bool { return gw.unackedCount() == 0 }, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, 1, router.count(tokens["dt003"]))

	// The router fails (storage down). DingTalk never redelivers a card
	// callback, so the frame is answered 200 with a private "tap again"
	// toast, no public change and the tokens left in place; the tap is
	// counted. The person's next tap (a new callback) is stored.
	router.mu.Lock()
	router.failNext = 1
	router.mu.Unlock()
	gw.push("m4", tap("m4", "dt004"))
	a = gw.waitAck(t, "m4")
	require.Equal(t, 200, a.Code)
	pub, priv = cardResponse(t, a)
	require.Nil(t, pub, "the card's public data is not touched")
	require.Equal(t, map[string]string{"toast": "请稍后再点一次"}, priv, "only the toast changes: the check-in token stays")
	require.Zero(t, gw.unackedCount())
	require.Equal(t, 1, router.storageErrorCount(bot.ActionCheckin))
	gw.push("m4b", tap("m4b", "dt004"))
	a = gw.waitAck(t, "m4b")
	require.Equal(t, 200, a.Code)
	pub, _ = cardResponse(t, a)
	require.Equal(t, "已签到 09:47 ✓", pub["status"])
	require.Equal(t, 2, router.count(tokens["dt004"]))

	// A malformed frame is acknowledged (redelivering cannot fix it) and
	// reaches nobody.
	gw.push("m5", tapFrame(t, "m5", "ll-7-0-dt001", "dt001", map[string]any{"action": "checkin"}))
	require.Equal(t, 200, gw.waitAck(t, "m5").Code)

	cancel()
	select {
	case err := <-runErr:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestRunWithoutStream(t *testing.T) {
	t.Parallel()
	// Work notifications have no card callbacks: Run only waits.
	b := setup(t, false, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	require.NoError(t, b.c.Run(ctx, &fakeRouter{}))
	require.Zero(t, b.f.callCount("/v1.0/gateway/connections/open"))
}

func TestRunRetriesFirstConnect(t *testing.T) {
	t.Parallel()
	b := setup(t, true, nil)
	b.f.fail("/v1.0/gateway/connections/open", 503, `{"code":"ServiceUnavailable"}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- b.c.Run(ctx, &fakeRouter{}) }()
	b.f.gw.waitConnected(t, 1)
	require.Equal(t, 2, b.f.callCount("/v1.0/gateway/connections/open"))
	cancel()
	require.NoError(t, <-done)
	require.NotContains(t, b.log.String(), testAppSecret)
}

func TestRunInHTTPModeStillReceivesCardTaps(t *testing.T) {
	t.Parallel()
	// callback_mode http moves event subscriptions to /callbacks/dingtalk;
	// cards are created with callbackType STREAM, so Run still connects.
	b := setup(t, true, func(c *dingtalk.Config) {
		c.CallbackMode, c.CallbackToken, c.CallbackAESKey = dingtalk.ModeHTTP, "tok", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7"
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.c.Run(ctx, &fakeRouter{}) }()
	b.f.gw.waitConnected(t, 1)
	cancel()
	require.NoError(t, <-done)
}

// TestStreamStorageErrorEnglish: a card sent to an English recipient
// carries its language in the token variables, so the "tap again" toast
// after a storage error is in English; the router still gets the bare
// token.
func TestStreamStorageErrorEnglish(t *testing.T) {
	t.Parallel()
	b := setup(t, true, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	router := &fakeRouter{c: b.c, msgs: map[string]bot.Message{}, calls: map[string]int{}, checkins: map[string]bool{}}
	m := checkinMessage("ll-7-0-dt009", 9)
	m.Locale = text.EN
	router.msgs[m.Key] = m
	_, err := b.c.Send(ctx, bot.Recipient{UserID: "dt009", Locale: text.EN}, m)
	require.NoError(t, err)
	cardTok := b.f.card(m.Key).Private["checkin_token"]
	require.Equal(t, "en."+m.Buttons[0].Token, cardTok)

	runErr := make(chan error, 1)
	go func() { runErr <- b.c.Run(ctx, router) }()
	gw := b.f.gw
	gw.waitConnected(t, 1)

	router.mu.Lock()
	router.failNext = 1
	router.mu.Unlock()
	gw.push("e1", tapFrame(t, "e1", m.Key, "dt009", map[string]any{"action": "checkin", "token": cardTok, "value": ""}))
	a := gw.waitAck(t, "e1")
	require.Equal(t, 200, a.Code)
	pub, priv := cardResponse(t, a)
	require.Nil(t, pub)
	require.Equal(t, "Please tap again in a moment", priv["toast"])
	require.Equal(t, 1, router.count(m.Buttons[0].Token), "the router sees the token without the language prefix")

	gw.push("e2", tapFrame(t, "e2", m.Key, "dt009", map[string]any{"action": "checkin", "token": cardTok, "value": ""}))
	pub, _ = cardResponse(t, gw.waitAck(t, "e2"))
	require.Equal(t, "已签到 09:47 ✓", pub["status"])
	cancel()
	require.NoError(t, <-runErr)
}
