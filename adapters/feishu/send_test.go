package feishu

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/text"
)

func checkinMessage(key string) bot.Message {
	return bot.Message{
		Key: key, Kind: bot.KindCheckinPrompt, Title: "签到提醒：高效沟通", Body: "《高效沟通》即将开始，请点击下方按钮签到。",
		Fields: []bot.Field{{Label: "时间", Value: "2026-03-02 10:00–12:00"}, {Label: "地点", Value: "3F A"}},
		Buttons: []bot.Button{
			{Text: "签到", Action: bot.ActionCheckin, Token: "tok-checkin", Primary: true},
			{Text: "进入课堂", Action: bot.ActionLink, URL: "https://learn.example.com/l/abc_DEF-1?x=1&y=2"},
		},
		Fallback: "签到提醒：高效沟通\n《高效沟通》即将开始\n无法点击按钮？打开链接签到：https://learn.example.com/c/tok_1-2",
		Locale:   text.ZH,
	}
}

func TestSendCardToFakeFeishu(t *testing.T) {
	t.Parallel()
	for _, idType := range []string{IDTypeOpenID, IDTypeUserID, IDTypeUnionID, IDTypeEmail} {
		t.Run(idType, func(t *testing.T) {
			t.Parallel()
			f := newFakeFeishu(t, idType)
			c, _ := testClient(t, f, nil)
			rc, err := c.Send(context.Background(), bot.Recipient{UserID: "u-1"}, checkinMessage("ll-1-x-1"))
			require.NoError(t, err)
			require.Equal(t, "om_fake0001", rc.Handle)
			require.False(t, rc.SentAt.IsZero())
			sent := f.sent()
			require.Len(t, sent, 1)
			require.Equal(t, idType, sent[0].ReceiveIDType)
			require.Equal(t, "u-1", sent[0].ReceiveID)
			require.Equal(t, "ll-1-x-1", sent[0].UUID)
			require.Equal(t, "2.0", sent[0].Card["schema"])
		})
	}
}

func TestSendUUIDDedup(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeUserID)
	c, _ := testClient(t, f, nil)
	ctx := context.Background()
	m := checkinMessage("ll-7-2026030201-42")
	first, err := c.Send(ctx, bot.Recipient{UserID: "u-1"}, m)
	require.NoError(t, err)
	again, err := c.Send(ctx, bot.Recipient{UserID: "u-1"}, m) // a retry after a crash
	require.NoError(t, err)
	require.Equal(t, first.Handle, again.Handle)
	require.Len(t, f.sent(), 1, "one message for one delivery key")

	// A key longer than Feishu's 50-character uuid is hashed, stably.
	long := checkinMessage("ll-" + strings.Repeat("9", 60))
	a, err := c.Send(ctx, bot.Recipient{UserID: "u-2"}, long)
	require.NoError(t, err)
	b, err := c.Send(ctx, bot.Recipient{UserID: "u-2"}, long)
	require.NoError(t, err)
	require.Equal(t, a.Handle, b.Handle)
	sent := f.sent()
	require.Len(t, sent, 2)
	require.LessOrEqual(t, len(sent[1].UUID), 50)
	require.Equal(t, messageUUID(long.Key), sent[1].UUID)
}

func TestSendErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		failures  []failure
		permanent bool
		code      string
		wantMsg   string
		requests  int // message requests the client made
	}{
		{"rate limited (HTTP 429)", []failure{{status: 429, code: 99991400, msg: "request trigger frequency limit"}}, false, "", "frequency limit", 1},
		{"per-user rate limit", []failure{{status: 400, code: 230020, msg: "This operation triggers the frequency limit."}}, false, "", "frequency limit", 1},
		{"server error JSON", []failure{{status: 500, code: 1, msg: "internal error"}}, false, "", "internal error", 1},
		{"gateway page", []failure{{status: 502, html: true}}, false, "", "", 1},
		{"user not in app scope", []failure{{status: 400, code: 230013, msg: "Bot has NO availability to this user."}}, true, "230013", "availability", 1},
		{"bad parameter", []failure{{status: 400, code: 230001, msg: "Your request contains an invalid request parameter."}}, true, "230001", "invalid request", 1},
		{"token expired twice", []failure{{status: 400, code: 99991663, msg: "Invalid access token"}, {status: 400, code: 99991663, msg: "Invalid access token"}}, false, "", "Invalid access token", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeFeishu(t, IDTypeUserID)
			c, _ := testClient(t, f, nil)
			f.fail(tc.failures...)
			_, err := c.Send(context.Background(), bot.Recipient{UserID: "u-1"}, checkinMessage("k1"))
			require.Error(t, err)
			var perm *bot.PermanentError
			require.Equal(t, tc.permanent, errors.As(err, &perm), "permanent? %v", err)
			if tc.permanent {
				require.Equal(t, tc.code, perm.Code)
				require.Contains(t, perm.Message, tc.wantMsg)
			} else {
				require.Contains(t, err.Error(), tc.wantMsg)
			}
			_, reqs, _ := f.counts()
			require.Equal(t, tc.requests, reqs)
			require.Empty(t, f.sent())
		})
	}
}

func TestSendRenewsExpiredToken(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeUserID)
	c, _ := testClient(t, f, nil)
	ctx := context.Background()
	_, err := c.Send(ctx, bot.Recipient{UserID: "u-1"}, checkinMessage("k1"))
	require.NoError(t, err)
	fetches, _, _ := f.counts()
	require.Equal(t, 1, fetches)

	// Feishu invalidates the token before its stated expiry: the client
	// evicts it, fetches a new one and the send succeeds.
	f.revokeTokens()
	_, err = c.Send(ctx, bot.Recipient{UserID: "u-2"}, checkinMessage("k2"))
	require.NoError(t, err)
	fetches, reqs, _ := f.counts()
	require.Equal(t, 2, fetches)
	require.Equal(t, 3, reqs, "one rejected attempt, one retry")
	require.Len(t, f.sent(), 2)

	// The fresh token stays cached.
	_, err = c.Send(ctx, bot.Recipient{UserID: "u-3"}, checkinMessage("k3"))
	require.NoError(t, err)
	fetches, _, _ = f.counts()
	require.Equal(t, 2, fetches)
}

func TestSendRejectsBeforeCalling(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeUserID)
	c, _ := testClient(t, f, nil)
	huge := checkinMessage("k-big")
	huge.Body = strings.Repeat("很长的正文", 3000) // ~45 KB
	cases := []struct {
		name string
		to   bot.Recipient
		m    bot.Message
		code string
	}{
		{"no user id", bot.Recipient{}, checkinMessage("k"), "no_user_id"},
		{"invalid message", bot.Recipient{UserID: "u"}, bot.Message{Key: "k"}, "invalid_message"},
		{"card over 30 KB", bot.Recipient{UserID: "u"}, huge, "card_too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Send(context.Background(), tc.to, tc.m)
			var perm *bot.PermanentError
			require.ErrorAs(t, err, &perm)
			require.Equal(t, tc.code, perm.Code)
		})
	}
	_, reqs, _ := f.counts()
	require.Zero(t, reqs)
}

// TestSendBodyLimit: Feishu's 30 KB limit is on the request body, in which
// the card is a JSON-escaped string. A card under 30 KB on its own can be
// over it once escaped ("<" becomes \u003c, six bytes): it fails before any
// call, for a send and for a patch. Chinese text is not escaped and still
// fits.
func TestSendBodyLimit(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeUserID)
	c, _ := testClient(t, f, nil)
	ctx := context.Background()
	m := checkinMessage("k-esc")
	m.Body = strings.Repeat("<b>", 2600)
	raw, err := cardJSON(m, time.Now().Unix())
	require.NoError(t, err)
	require.Less(t, len(raw), 30*1024, "the card alone fits")

	_, err = c.Send(ctx, bot.Recipient{UserID: "u-1"}, m)
	var perm *bot.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, "card_too_large", perm.Code)
	require.Contains(t, perm.Message, "request body is")
	err = c.UpdateCard(ctx, bot.Recipient{UserID: "u-1"}, "om_fake0001", m)
	require.ErrorAs(t, err, &perm)
	require.Equal(t, "card_too_large", perm.Code)
	_, reqs, _ := f.counts()
	require.Zero(t, reqs)
	require.Empty(t, f.patched())

	zh := checkinMessage("k-zh")
	zh.Body = strings.Repeat("很长的正文", 1500) // ~22 KB, unescaped in the body
	_, err = c.Send(ctx, bot.Recipient{UserID: "u-1"}, zh)
	require.NoError(t, err)
}

func TestUpdateCardPatches(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeUserID)
	c, _ := testClient(t, f, nil)
	ctx := context.Background()
	rc, err := c.Send(ctx, bot.Recipient{UserID: "u-1"}, checkinMessage("k1"))
	require.NoError(t, err)
	done := checkinMessage("k1")
	done.Buttons, done.Status, done.Fallback = done.Buttons[1:], "已签到 09:02 ✓", ""

	// Without a handle there is nothing to patch.
	require.NoError(t, c.UpdateCard(ctx, bot.Recipient{UserID: "u-1"}, "", done))
	require.Empty(t, f.patched())

	require.NoError(t, c.UpdateCard(ctx, bot.Recipient{UserID: "u-1"}, rc.Handle, done))
	p := f.patched()
	require.Len(t, p, 1)
	require.Equal(t, rc.Handle, p[0].ID)
	require.Contains(t, p[0].Content, "已签到 09:02 ✓")
	require.NotContains(t, p[0].Content, "tok-checkin")

	err = c.UpdateCard(ctx, bot.Recipient{UserID: "u-1"}, "om_unknown", done)
	var perm *bot.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, "230001", perm.Code)
}

func TestDoctor(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeUserID)
	good, _ := testClient(t, f, nil)
	require.NoError(t, good.Doctor(context.Background()))

	bad, _ := testClient(t, f, func(c *Config) { c.AppSecret = "wrong-secret-value" })
	err := bad.Doctor(context.Background())
	require.Error(t, err)
	require.Contains(t, err.Error(), "code 10014")
	require.Contains(t, err.Error(), "app secret invalid")
	require.Contains(t, err.Error(), "platforms.feishu.app_secret")
	require.NotContains(t, err.Error(), "wrong-secret-value")

	down, _ := testClient(t, f, func(c *Config) { c.APIBase = "http://127.0.0.1:1" })
	err = down.Doctor(context.Background())
	require.ErrorContains(t, err, "cannot reach")
}

// TestNoSecretsInLogsOrErrors drives every failure path against the fake
// and checks that no credential or access token shows up anywhere.
func TestNoSecretsInLogsOrErrors(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeEmail)
	c, logs := testClient(t, f, nil)
	ctx := context.Background()
	var errs []string
	note := func(err error) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	_, err := c.Send(ctx, bot.Recipient{UserID: "a@example.com"}, checkinMessage("k0"))
	require.NoError(t, err)
	f.fail(failure{status: 500, code: 1, msg: "internal error"}, failure{status: 502, html: true},
		failure{status: 429, code: 99991400, msg: "limit"}, failure{status: 400, code: 230013, msg: "no availability"},
		failure{status: 400, code: 99991663, msg: "Invalid access token"}, failure{status: 400, code: 99991663, msg: "Invalid access token"})
	for i := range 5 {
		_, err := c.Send(ctx, bot.Recipient{UserID: "a@example.com"}, checkinMessage("k"+string(rune('a'+i))))
		note(err)
	}
	f.revokeTokens()
	note(c.UpdateCard(ctx, bot.Recipient{}, "om_nope", checkinMessage("k")))
	f.mu.Lock()
	f.tokenFail = &failure{status: 502, html: true}
	f.mu.Unlock()
	f.revokeTokens()
	_, err = c.Send(ctx, bot.Recipient{UserID: "a@example.com"}, checkinMessage("kz"))
	note(err)
	note(c.Doctor(ctx))
	f.mu.Lock()
	f.tokenFail = &failure{status: 200, code: 10014, msg: "app secret invalid"}
	f.mu.Unlock()
	note(c.Doctor(ctx))

	// Callbacks refused for every reason are logged too.
	h := c.CallbackHandler(bot.InteractionHandlerFunc(func(context.Context, bot.Interaction) (bot.Reply, error) {
		return bot.Reply{}, errors.New("db down")
	}))
	for _, mut := range []func(*callbackReq){
		func(r *callbackReq) { r.token = "wrong-token" },
		func(r *callbackReq) { r.sig = strings.Repeat("0", 64) },
		func(r *callbackReq) { r.ts = time.Now().Add(-time.Hour) },
		nil,
	} {
		cr := newCallbackReq(t, "evt-"+time.Now().String())
		if mut != nil {
			mut(&cr)
		}
		rec := cr.do(t, h)
		errs = append(errs, rec.Body.String())
	}

	require.GreaterOrEqual(t, len(errs), 8)
	out := logs.String() + "\n" + strings.Join(errs, "\n")
	require.NotEmpty(t, logs.String())
	secrets := append([]string{testAppSecret, testVToken, testEncryptKey}, f.issuedTokens()...)
	for _, s := range secrets {
		require.NotContains(t, out, s)
	}
}
