package dingtalk_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/dingtalk"
	"github.com/learnloop/learnloop/adapters/kit/kittest"
	"github.com/learnloop/learnloop/bot"
)

type bundle struct {
	f   *fakeDT
	c   *dingtalk.Client
	log *kittest.LogBuffer
}

// setup builds a client against a fresh fake. cardMode selects interactive
// cards (a template) or the work-notification fallback.
func setup(t *testing.T, cardMode bool, mutate func(*dingtalk.Config), opts ...dingtalk.Option) *bundle {
	t.Helper()
	f := newFakeDT(t)
	logs := &kittest.LogBuffer{}
	cfg := dingtalk.Config{
		AppKey: testAppKey, AppSecret: testAppSecret, AgentID: testAgentID,
		APIBase: f.URL(), OAPIBase: f.URL(), PublicURL: testPublicURL, Timeout: 3 * time.Second,
	}
	if cardMode {
		cfg.CardTemplateID = testTemplate
	} else {
		cfg.Cards = dingtalk.CardsNotice
	}
	if mutate != nil {
		mutate(&cfg)
	}
	all := append([]dingtalk.Option{
		dingtalk.WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		dingtalk.WithRateLimit(1000, 1000),
		dingtalk.WithResultWait(2 * time.Second),
	}, opts...)
	c, err := dingtalk.New(cfg, all...)
	require.NoError(t, err)
	return &bundle{f: f, c: c, log: logs}
}

func checkinMessage(key string, deliveryID int) bot.Message {
	checkin := fmt.Sprintf("%s/c/chk%d_tok-%d", testPublicURL, deliveryID, deliveryID)
	return bot.Message{
		Key: key, Kind: bot.KindCheckinPrompt, Title: "签到：高效沟通", Body: "课程即将开始，请签到。",
		Fields: []bot.Field{{Label: "时间", Value: "2026-03-02 10:00–12:00"}, {Label: "地点", Value: "3F A"}},
		Buttons: []bot.Button{
			{Text: "签到", Action: bot.ActionCheckin, Token: "itok-" + strconv.Itoa(deliveryID), Primary: true},
			{Text: "进入课堂", Action: bot.ActionLink, URL: testPublicURL + "/l/link" + strconv.Itoa(deliveryID)},
		},
		Fallback: "签到：高效沟通\n课程即将开始，请签到。\n无法点击按钮？打开链接签到：" + checkin,
	}
}

func TestSendCard(t *testing.T) {
	t.Parallel()
	b := setup(t, true, nil)
	ctx := context.Background()
	m := checkinMessage("ll-7-0-1", 1)
	rc, err := b.c.Send(ctx, bot.Recipient{EmployeeID: 1, UserID: "dt001"}, m)
	require.NoError(t, err)
	require.Equal(t, "ll-7-0-1", rc.Handle, "the handle is the outTrackId")
	require.False(t, rc.SentAt.IsZero())

	card := b.f.card("ll-7-0-1")
	require.NotNil(t, card)
	require.Equal(t, "dt001", card.UserID)
	require.Equal(t, "签到：高效沟通", card.Public["title"])
	require.Equal(t, "true", card.Public["show_checkin"])
	require.Equal(t, "签到", card.Public["checkin_text"])
	require.Equal(t, "false", card.Public["done"])
	require.Equal(t, "false", card.Public["show_rate"])
	require.Equal(t, `[{"label":"时间","value":"2026-03-02 10:00–12:00"},{"label":"地点","value":"3F A"}]`, card.Public["fields"])
	require.Contains(t, card.Public["content"], "**地点**：3F A")
	require.Equal(t, "true", card.Public["show_link1"])
	require.Equal(t, "dingtalk://dingtalkclient/page/link?url="+url.QueryEscape(testPublicURL+"/l/link1")+"&pc_slide=false", card.Public["link1_url"])
	require.Equal(t, "itok-1", card.Private["checkin_token"], "the signed token is private to the recipient")
	require.Equal(t, testPublicURL+"/c/chk1_tok-1", card.Private["checkin_url"])
	for k, v := range card.Public {
		require.NotContains(t, v, "itok-", "public variable %s carries a token", k)
	}
	// Every variable the README documents is sent, and nothing else.
	require.Len(t, card.Public, len(dingtalk.PublicVars))
	require.Len(t, card.Private, len(dingtalk.PrivateVars))
}

func TestSendCardScores(t *testing.T) {
	t.Parallel()
	b := setup(t, true, nil)
	m := bot.Message{Key: "ll-9-0-2", Title: "请评分", Body: "本次课程如何？", Choice: &bot.Choice{
		Question: "推荐给同事的可能性？", Action: bot.ActionNPS, Token: "npstok", Options: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"},
	}}
	for v := 1; v <= 5; v++ {
		m.Buttons = append(m.Buttons, bot.Button{Text: strconv.Itoa(v) + "★", Action: bot.ActionRate, Value: strconv.Itoa(v), Token: "ratetok" + strconv.Itoa(v)})
	}
	m.Buttons = append(m.Buttons, bot.Button{Text: "9★", Action: bot.ActionRate, Value: "9", Token: "ratetok9"}) // outside 1–5: dropped
	_, err := b.c.Send(context.Background(), bot.Recipient{UserID: "dt002"}, m)
	require.NoError(t, err)
	card := b.f.card("ll-9-0-2")
	require.Equal(t, "true", card.Public["show_rate"])
	require.Equal(t, "true", card.Public["show_nps"])
	require.Equal(t, "推荐给同事的可能性？", card.Public["nps_question"])
	require.Equal(t, "false", card.Public["show_checkin"])
	for v := 1; v <= 5; v++ {
		require.Equal(t, "ratetok"+strconv.Itoa(v), card.Private["rate_token_"+strconv.Itoa(v)])
	}
	for v := 0; v <= 10; v++ {
		require.Equal(t, "npstok", card.Private["nps_token_"+strconv.Itoa(v)])
	}
	require.NotContains(t, card.Private, "rate_token_9")
}

// checkedIn sends the check-in card ll-7-0-1 to dt001 and updates it as a
// tap does (the status set, the check-in button gone: the renderer keeps
// only links); it returns the update and the fake's card.
func checkedIn(t *testing.T, b *bundle) (bot.Message, *fakeCard) {
	t.Helper()
	ctx := context.Background()
	to := bot.Recipient{UserID: "dt001"}
	m := checkinMessage("ll-7-0-1", 1)
	_, err := b.c.Send(ctx, to, m)
	require.NoError(t, err)
	done := m
	done.Status, done.Fallback = "已签到 09:47 ✓", ""
	done.Buttons = done.Buttons[1:]
	require.NoError(t, b.c.UpdateCard(ctx, to, "ll-7-0-1", done))
	return done, b.f.card("ll-7-0-1")
}

func TestUpdateCard(t *testing.T) {
	t.Parallel()
	b := setup(t, true, nil)
	ctx := context.Background()
	to := bot.Recipient{UserID: "dt001"}
	done, card := checkedIn(t, b)
	require.Equal(t, 1, card.Updates)
	require.Equal(t, "已签到 09:47 ✓", card.Public["status"])
	require.Equal(t, "true", card.Public["done"])
	require.Equal(t, "false", card.Public["show_checkin"])
	require.Equal(t, "true", card.Public["show_link1"])
	require.Empty(t, card.Private["checkin_token"], "the used token is cleared")

	// A card DingTalk does not know is an error; a work notification
	// handle is a no-op (work notifications cannot be edited).
	require.Error(t, b.c.UpdateCard(ctx, to, "ll-unknown", done))
	n := b.f.callCount("/v1.0/card/instances")
	require.NoError(t, b.c.UpdateCard(ctx, to, "wn:1234", done))
	require.Equal(t, n, b.f.callCount("/v1.0/card/instances"))
	require.Error(t, b.c.UpdateCard(ctx, to, "", done))
}

func TestSendCardErrors(t *testing.T) {
	t.Parallel()
	const path = "/v1.0/card/instances/createAndDeliver"
	cases := []struct {
		name      string
		status    int
		body      string
		user      string
		permanent string // expected PermanentError code; "" = transient
		paused    bool   // the client pauses after it
	}{
		// QPS quota: transient, and the client backs off.
		{name: "quota", status: http.StatusForbidden, body: `{"code":"Forbidden.AccessDenied.QpsLimitForApi","message":"调用频率超限","requestid":"r"}`, paused: true},
		{name: "429", status: http.StatusTooManyRequests, body: `{"code":"Throttling","message":"slow down"}`, paused: true},
		// 5xx, even with an HTML body: transient.
		{name: "bad gateway", status: http.StatusBadGateway, body: `<html>502 Bad Gateway</html>`},
		{name: "500 json", status: http.StatusInternalServerError, body: `{"code":"SystemError","message":"系统错误"}`},
		// A refusal: permanent, with DingTalk's code and message.
		{name: "bad template", status: http.StatusBadRequest, body: `{"code":"param.cardTemplateIdInvalid","message":"模板不存在","requestid":"r"}`, permanent: "param.cardTemplateIdInvalid"},
		// Delivered to nobody: permanent.
		{name: "unknown user", user: "ghost", permanent: "deliver_failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, true, nil, dingtalk.WithQuotaPause(time.Hour))
			if tc.status != 0 {
				b.f.fail(path, tc.status, tc.body)
			}
			user := "dt001"
			if tc.user != "" {
				user = tc.user
				b.f.mu.Lock()
				b.f.unknownUsers[user] = true
				b.f.mu.Unlock()
			}
			_, err := b.c.Send(context.Background(), bot.Recipient{UserID: user}, checkinMessage("ll-1-0-1", 1))
			require.Error(t, err)
			var pe *bot.PermanentError
			if tc.permanent != "" {
				require.ErrorAs(t, err, &pe)
				require.Equal(t, tc.permanent, pe.Code)
				require.NotEmpty(t, pe.Message)
				return
			}
			require.False(t, errors.As(err, &pe), "transient expected, got %v", err)
			calls := b.f.callCount(path)
			_, err = b.c.Send(context.Background(), bot.Recipient{UserID: "dt002"}, checkinMessage("ll-1-0-2", 2))
			if tc.paused {
				require.ErrorContains(t, err, "paused")
				require.Equal(t, calls, b.f.callCount(path), "no call during the pause")
			} else {
				require.NoError(t, err, "a 5xx does not pause sending")
			}
		})
	}
}

func TestQuotaPauseEnds(t *testing.T) {
	t.Parallel()
	b := setup(t, true, nil, dingtalk.WithQuotaPause(100*time.Millisecond))
	b.f.fail("/v1.0/card/instances/createAndDeliver", http.StatusForbidden, `{"code":"Forbidden.AccessDenied.QpsLimitForApi","message":"超限"}`)
	ctx := context.Background()
	_, err := b.c.Send(ctx, bot.Recipient{UserID: "dt001"}, checkinMessage("ll-1-0-1", 1))
	require.Error(t, err)
	// The Pacer waits out the pause, then sending works again.
	require.NoError(t, b.c.Wait(ctx, bot.Recipient{UserID: "dt001"}))
	_, err = b.c.Send(ctx, bot.Recipient{UserID: "dt001"}, checkinMessage("ll-1-0-1", 1))
	require.NoError(t, err)
	// A pause longer than the caller's deadline is reported at once.
	b.f.fail("/v1.0/card/instances/createAndDeliver", http.StatusForbidden, `{"code":"Forbidden.AccessDenied.QpsLimitForApi","message":"超限"}`)
	_, err = b.c.Send(ctx, bot.Recipient{UserID: "dt002"}, checkinMessage("ll-1-0-2", 2))
	require.Error(t, err)
	dctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	require.ErrorContains(t, b.c.Wait(dctx, bot.Recipient{UserID: "dt002"}), "paused")
}

func TestTokenRefresh(t *testing.T) {
	t.Parallel()
	for _, cardMode := range []bool{true, false} {
		t.Run(fmt.Sprintf("card=%v", cardMode), func(t *testing.T) {
			t.Parallel()
			b := setup(t, cardMode, nil)
			ctx := context.Background()
			to := bot.Recipient{UserID: "dt001"}
			for i := range 3 {
				_, err := b.c.Send(ctx, to, checkinMessage("ll-1-0-"+strconv.Itoa(i), i+1))
				require.NoError(t, err)
			}
			tokenPath := "/gettoken"
			if cardMode {
				tokenPath = "/v1.0/oauth2/accessToken"
			}
			require.Equal(t, 1, b.f.callCount(tokenPath), "the token is cached")
			// DingTalk expires the token early: the client refreshes once and retries.
			b.f.revokeTokens()
			_, err := b.c.Send(ctx, to, checkinMessage("ll-1-0-9", 9))
			require.NoError(t, err)
			require.Equal(t, 2, b.f.callCount(tokenPath))
		})
	}
}

func TestWrongCredentials(t *testing.T) {
	t.Parallel()
	for _, cardMode := range []bool{true, false} {
		t.Run(fmt.Sprintf("card=%v", cardMode), func(t *testing.T) {
			t.Parallel()
			b := setup(t, cardMode, func(c *dingtalk.Config) { c.AppSecret = "wrong-secret-value" })
			_, err := b.c.Send(context.Background(), bot.Recipient{UserID: "dt001"}, checkinMessage("ll-1-0-1", 1))
			var pe *bot.PermanentError
			require.ErrorAs(t, err, &pe)
			if cardMode {
				require.Equal(t, "invalidClientIdOrSecret", pe.Code)
			} else {
				require.Equal(t, "40089", pe.Code)
			}
			require.NotContains(t, err.Error(), "wrong-secret-value")

			err = b.c.Doctor(context.Background())
			require.Error(t, err)
			require.NotContains(t, err.Error(), "wrong-secret-value")
			if cardMode {
				require.ErrorContains(t, err, "invalidClientIdOrSecret 无效的clientId或者clientSecret")
			} else {
				require.ErrorContains(t, err, "40089 不合法的appKey或appSecret")
			}
		})
	}
}

func TestDoctor(t *testing.T) {
	t.Parallel()
	for _, cardMode := range []bool{true, false} {
		t.Run(fmt.Sprintf("card=%v", cardMode), func(t *testing.T) {
			t.Parallel()
			b := setup(t, cardMode, nil)
			require.NoError(t, b.c.Doctor(context.Background()))
			if cardMode {
				require.Equal(t, 1, b.f.callCount("/v1.0/gateway/connections/open"), "stream credentials are checked")
			} else {
				require.Equal(t, 1, b.f.callCount("/gettoken"))
			}
		})
	}
}

func TestNoticeFallback(t *testing.T) {
	t.Parallel()
	b := setup(t, false, nil)
	to := []bot.Recipient{{EmployeeID: 1, UserID: "dt001"}, {EmployeeID: 2, UserID: "dt002"}, {EmployeeID: 3, UserID: "dt003"}}
	res := b.c.SendBatch(context.Background(), to, func(r bot.Recipient) bot.Message {
		return checkinMessage("ll-5-0-"+strconv.FormatUint(r.EmployeeID, 10), int(r.EmployeeID))
	})
	require.Len(t, res, 3)
	for i, r := range res {
		require.NoError(t, r.Err, to[i].UserID)
		require.True(t, strings.HasPrefix(r.Receipt.Handle, "wn:"), r.Receipt.Handle)
	}
	// Each message carries its own check-in link, so each is its own call.
	require.Equal(t, 3, b.f.callCount("/topapi/message/corpconversation/asyncsend_v2"))
	b.f.mu.Lock()
	defer b.f.mu.Unlock()
	require.Len(t, b.f.tasks, 3)
	for _, task := range b.f.tasks {
		require.Len(t, task.users, 1)
	}
}

func TestNoticeContent(t *testing.T) {
	t.Parallel()
	b := setup(t, false, nil)
	m := checkinMessage("ll-5-0-1", 1)
	m.Buttons = append(m.Buttons, bot.Button{Text: "5★", Action: bot.ActionRate, Value: "5", Token: "r"})
	_, err := b.c.Send(context.Background(), bot.Recipient{UserID: "dt001"}, m)
	require.NoError(t, err)
	b.f.mu.Lock()
	captured := b.f.noticeBodies
	b.f.mu.Unlock()
	require.Len(t, captured, 1)
	body := captured[0]
	require.Contains(t, body, `"msgtype":"action_card"`)
	require.Contains(t, body, `"agent_id":4242`)
	require.Contains(t, body, `"userid_list":"dt001"`)
	require.Contains(t, body, url.QueryEscape(testPublicURL+"/c/chk1_tok-1"), "the check-in button opens the signed /c/ link")
	require.Contains(t, body, url.QueryEscape(testPublicURL+"/l/link1"), "link buttons keep their tracked link")
	require.Contains(t, body, "ll-5-0", "the content carries the occurrence reference")
	require.NotContains(t, body, "itok-1", "the interaction token is useless without a callback")
	require.NotContains(t, body, `"5★"`, "rating buttons need a callback; dropped")
}

func TestNoticeBatching(t *testing.T) {
	t.Parallel()
	b := setup(t, false, nil)
	const n = 250
	to := make([]bot.Recipient, n)
	for i := range to {
		to[i] = bot.Recipient{EmployeeID: uint64(i + 1), UserID: fmt.Sprintf("u%03d", i)}
	}
	// A reminder without per-person links: identical content for everyone
	// in the occurrence, so it goes out 100 users per call.
	res := b.c.SendBatch(context.Background(), to, func(r bot.Recipient) bot.Message {
		return bot.Message{Key: fmt.Sprintf("ll-3-0-%d", r.EmployeeID), Title: "明天上课", Body: "高效沟通 03-02 10:00"}
	})
	for _, r := range res {
		require.NoError(t, r.Err)
	}
	require.Equal(t, 3, b.f.callCount("/topapi/message/corpconversation/asyncsend_v2"))
	b.f.mu.Lock()
	require.Equal(t, 100, b.f.maxUsersSeen)
	b.f.mu.Unlock()

	// The next touchpoint with the same text is different content (its
	// reference differs), so DingTalk delivers it too.
	res = b.c.SendBatch(context.Background(), to[:5], func(r bot.Recipient) bot.Message {
		return bot.Message{Key: fmt.Sprintf("ll-4-0-%d", r.EmployeeID), Title: "明天上课", Body: "高效沟通 03-02 10:00"}
	})
	for _, r := range res {
		require.NoError(t, r.Err)
	}
}

func TestNoticeDropped(t *testing.T) {
	t.Parallel()
	b := setup(t, false, nil)
	b.f.mu.Lock()
	b.f.dailyLimit = 2
	b.f.unknownUsers["ghost"] = true
	b.f.mu.Unlock()
	ctx := context.Background()
	send := func(key, user string) error {
		_, err := b.c.Send(ctx, bot.Recipient{UserID: user}, bot.Message{Key: key, Title: "提醒", Body: "同样的内容"})
		return err
	}
	require.NoError(t, send("ll-1-0-1", "dt001"))
	// The same delivery again (a retry after a crash): DingTalk silently drops it.
	err := send("ll-1-0-1", "dt001")
	var de *bot.DroppedError
	require.ErrorAs(t, err, &de)
	require.Equal(t, dingtalk.CodeDuplicate, de.Code)

	require.NoError(t, send("ll-2-0-1", "dt001"))
	err = send("ll-3-0-1", "dt001")
	require.ErrorAs(t, err, &de, "over the daily limit")
	require.Equal(t, dingtalk.CodeDailyLimit, de.Code)

	err = send("ll-1-0-9", "ghost")
	var pe *bot.PermanentError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "invalid_user", pe.Code)
}

func TestNoticeResultPending(t *testing.T) {
	t.Parallel()
	b := setup(t, false, nil, dingtalk.WithResultWait(300*time.Millisecond))
	b.f.mu.Lock()
	b.f.pendingPolls = 1000
	b.f.mu.Unlock()
	ctx := context.Background()
	rc, err := b.c.Send(ctx, bot.Recipient{UserID: "dt001"}, bot.Message{Key: "ll-1-0-1", Title: "提醒", Body: "x"})
	require.NoError(t, err, "not classified in time: reported sent")
	require.ErrorIs(t, b.c.CheckDelivery(ctx, rc.Handle, "dt001"), dingtalk.ErrPending)

	// Later DingTalk has finished: a reconcile job finds the outcome.
	b.f.mu.Lock()
	for _, task := range b.f.tasks {
		task.polls = 0
	}
	b.f.mu.Unlock()
	require.NoError(t, b.c.CheckDelivery(ctx, rc.Handle, "dt001"))

	rc2, err := b.c.Send(ctx, bot.Recipient{UserID: "dt001"}, bot.Message{Key: "ll-1-0-1", Title: "提醒", Body: "x"})
	require.NoError(t, err)
	b.f.mu.Lock()
	for _, task := range b.f.tasks {
		task.polls = 0
	}
	b.f.mu.Unlock()
	var de *bot.DroppedError
	require.ErrorAs(t, b.c.CheckDelivery(ctx, rc2.Handle, "dt001"), &de)
	require.Equal(t, dingtalk.CodeDuplicate, de.Code)

	require.NoError(t, b.c.CheckDelivery(ctx, "ll-1-0-1", "dt001"), "cards are delivered when created")
	require.Error(t, b.c.CheckDelivery(ctx, "wn:x", "dt001"))
}

func TestNoticeErrors(t *testing.T) {
	t.Parallel()
	const path = "/topapi/message/corpconversation/asyncsend_v2"
	cases := []struct {
		name      string
		status    int
		body      string
		permanent string
		paused    bool
	}{
		{name: "app quota", status: 200, body: `{"errcode":143103,"errmsg":"企业单应用消息发送人次QPM超限"}`, paused: true},
		{name: "corp quota", status: 200, body: `{"errcode":143104,"errmsg":"企业每分钟发送人次QPM超限"}`, paused: true},
		{name: "system busy", status: 200, body: `{"errcode":-1,"errmsg":"系统繁忙"}`},
		{name: "5xx", status: 503, body: `<html>503</html>`},
		{name: "forbidden content", status: 200, body: `{"errcode":1430002,"errmsg":"包含违禁内容"}`, permanent: "1430002"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// One call at a time, so that the fault hits the first chunk.
			b := setup(t, false, nil, dingtalk.WithQuotaPause(time.Hour), dingtalk.WithConcurrency(1))
			b.f.fail(path, tc.status, tc.body)
			to := []bot.Recipient{{EmployeeID: 1, UserID: "dt001"}, {EmployeeID: 2, UserID: "dt002"}}
			res := b.c.SendBatch(context.Background(), to, func(r bot.Recipient) bot.Message {
				return checkinMessage("ll-1-0-"+strconv.FormatUint(r.EmployeeID, 10), int(r.EmployeeID))
			})
			var pe *bot.PermanentError
			if tc.permanent != "" {
				require.ErrorAs(t, res[0].Err, &pe)
				require.Equal(t, tc.permanent, pe.Code)
				require.Equal(t, "包含违禁内容", pe.Message)
				require.NoError(t, res[1].Err)
				return
			}
			require.Error(t, res[0].Err)
			require.False(t, errors.As(res[0].Err, &pe), "transient expected: %v", res[0].Err)
			if tc.paused {
				require.ErrorContains(t, res[1].Err, "paused", "the rest of the batch waits for the next attempt")
				require.Equal(t, 1, b.f.callCount(path))
			} else {
				require.NoError(t, res[1].Err)
			}
		})
	}
}

func TestNoticeTooLong(t *testing.T) {
	t.Parallel()
	b := setup(t, false, nil)
	m := checkinMessage("ll-1-0-1", 1)
	m.Body = strings.Repeat("很长的说明文字。", 400)
	_, err := b.c.Send(context.Background(), bot.Recipient{UserID: "dt001"}, m)
	require.NoError(t, err, "the body is shortened to fit 2048 bytes (the fake enforces it)")
}

func TestRejectBeforeSending(t *testing.T) {
	t.Parallel()
	b := setup(t, true, nil)
	cases := map[string]struct {
		to bot.Recipient
		m  bot.Message
	}{
		"no user id":      {bot.Recipient{}, checkinMessage("ll-1-0-1", 1)},
		"separator in id": {bot.Recipient{UserID: "a;b"}, checkinMessage("ll-1-0-1", 1)},
		"invalid message": {bot.Recipient{UserID: "dt001"}, bot.Message{Key: "k"}},
	}
	for name, tc := range cases {
		_, err := b.c.Send(context.Background(), tc.to, tc.m)
		var pe *bot.PermanentError
		require.ErrorAs(t, err, &pe, name)
	}
	require.Zero(t, b.f.callCount("/v1.0/card/instances/createAndDeliver"))
}

// TestNoSecretInLogsOrErrors drives every failure path while the fake
// echoes tokens and secrets back, and checks that no log line and no error
// string carries them.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	t.Parallel()
	for _, cardMode := range []bool{true, false} {
		t.Run(fmt.Sprintf("card=%v", cardMode), func(t *testing.T) {
			t.Parallel()
			b := setup(t, cardMode, func(c *dingtalk.Config) {
				c.CallbackToken = "CBTOKEN-secret-xyz"
				c.CallbackAESKey = "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7"
			}, dingtalk.WithQuotaPause(time.Millisecond))
			ctx := context.Background()
			var errs []string
			send := func(i int) {
				_, err := b.c.Send(ctx, bot.Recipient{UserID: "dt001"}, checkinMessage("ll-1-0-"+strconv.Itoa(i), i))
				if err != nil {
					errs = append(errs, err.Error(), fmt.Sprintf("%+v", err))
				}
			}
			send(1) // fetches newtok-1 / oldtok-1
			echo := `{"code":"param.invalid","message":"token newtok-1 and secret ` + testAppSecret + ` rejected"}`
			oecho := `{"errcode":40035,"errmsg":"access_token=oldtok-1 appsecret=` + testAppSecret + ` bad"}`
			for _, p := range []string{"/v1.0/card/instances/createAndDeliver", "/v1.0/card/instances"} {
				b.f.fail(p, http.StatusBadRequest, echo)
				b.f.fail(p, http.StatusForbidden, `{"code":"Forbidden.AccessDenied.QpsLimitForApi","message":"newtok-1"}`)
			}
			b.f.fail("/topapi/message/corpconversation/asyncsend_v2", http.StatusOK, oecho)
			b.f.fail("/topapi/message/corpconversation/asyncsend_v2", http.StatusOK, `{"errcode":143103,"errmsg":"oldtok-1"}`)
			b.f.fail("/topapi/message/corpconversation/getsendresult", http.StatusOK, oecho)
			send(2)
			time.Sleep(5 * time.Millisecond)
			send(3)
			time.Sleep(5 * time.Millisecond)
			send(4)
			if err := b.c.UpdateCard(ctx, bot.Recipient{UserID: "dt001"}, "ll-1-0-1", checkinMessage("ll-1-0-1", 1)); err != nil {
				errs = append(errs, err.Error())
			}
			if err := b.c.CheckDelivery(ctx, "wn:1001", "dt001"); err != nil {
				errs = append(errs, err.Error())
			}
			// Transport failures: the URL (with the token) must not leak.
			dead, err := dingtalk.New(dingtalk.Config{
				AppKey: testAppKey, AppSecret: testAppSecret, AgentID: testAgentID,
				APIBase: "http://127.0.0.1:1", OAPIBase: "http://127.0.0.1:1", Timeout: time.Second,
			}, dingtalk.WithLogger(slog.New(slog.NewJSONHandler(b.log, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			require.NoError(t, err)
			_, err = dead.Send(ctx, bot.Recipient{UserID: "dt001"}, checkinMessage("ll-1-0-5", 5))
			require.Error(t, err)
			errs = append(errs, err.Error())
			require.Error(t, dead.Doctor(ctx))
			errs = append(errs, dead.Doctor(ctx).Error())

			all := b.log.String() + "\n" + strings.Join(errs, "\n")
			require.NotEmpty(t, errs)
			for _, secret := range []string{testAppSecret, "newtok-1", "oldtok-1", "CBTOKEN-secret-xyz", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7"} {
				require.NotContains(t, all, secret)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	base := dingtalk.Config{AppKey: "k", AppSecret: "s", CardTemplateID: "t"}
	cases := []struct {
		name   string
		mutate func(*dingtalk.Config)
		err    string
	}{
		{"ok", func(*dingtalk.Config) {}, ""},
		{"no key", func(c *dingtalk.Config) { c.AppKey = "" }, "app_key and app_secret"},
		{"no template: the built-in StandardCard", func(c *dingtalk.Config) { c.CardTemplateID = "" }, ""},
		{"template without an id", func(c *dingtalk.Config) { c.Cards, c.CardTemplateID = dingtalk.CardsTemplate, "" }, "card_template_id"},
		{"work notifications without an agent", func(c *dingtalk.Config) { c.Cards = dingtalk.CardsNotice }, "agent_id"},
		{"unknown card kind", func(c *dingtalk.Config) { c.Cards = "adaptive" }, "not standard, template or work_notification"},
		{"bad mode", func(c *dingtalk.Config) { c.CallbackMode = "ws" }, "callback mode"},
		{"http without crypto", func(c *dingtalk.Config) { c.CallbackMode = "http" }, "callback_aes_key"},
		{"short aes key", func(c *dingtalk.Config) { c.CallbackToken, c.CallbackAESKey = "t", "abc" }, "43 characters"},
		{"bad api base", func(c *dingtalk.Config) { c.APIBase = "ftp://x" }, "api base"},
	}
	for _, tc := range cases {
		cfg := base
		tc.mutate(&cfg)
		_, err := dingtalk.New(cfg)
		if tc.err == "" {
			require.NoError(t, err, tc.name)
		} else {
			require.ErrorContains(t, err, tc.err, tc.name)
		}
	}
}

// TestREADMEListsTemplateVariables keeps the README's template contract in
// step with the variables the adapter sends.
func TestREADMEListsTemplateVariables(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	readme := string(raw)
	for _, v := range dingtalk.PublicVars {
		require.Contains(t, readme, "`"+v+"`", "README misses public variable %s", v)
	}
	for _, v := range dingtalk.PrivateVars {
		if strings.HasPrefix(v, "rate_token_") || strings.HasPrefix(v, "nps_token_") {
			continue // documented as ranges
		}
		require.Contains(t, readme, "`"+v+"`", "README misses private variable %s", v)
	}
	require.Contains(t, readme, "`rate_token_1` … `rate_token_5`")
	require.Contains(t, readme, "`nps_token_0` … `nps_token_10`")
	for _, p := range []string{dingtalk.ParamAction, dingtalk.ParamValue, dingtalk.ParamToken} {
		require.Contains(t, readme, "`"+p+"`")
	}
}

func TestPacing(t *testing.T) {
	t.Parallel()
	t.Run("cards", func(t *testing.T) {
		t.Parallel()
		// 20 cards per second, no burst: 10 cards take at least 450 ms
		// even with 8 calls in flight.
		b := setup(t, true, nil, dingtalk.WithRateLimit(20, 1))
		to := make([]bot.Recipient, 10)
		for i := range to {
			to[i] = bot.Recipient{EmployeeID: uint64(i + 1), UserID: fmt.Sprintf("u%d", i)}
		}
		start := time.Now()
		res := b.c.SendBatch(context.Background(), to, func(r bot.Recipient) bot.Message {
			return checkinMessage(fmt.Sprintf("ll-1-0-%d", r.EmployeeID), int(r.EmployeeID))
		})
		require.GreaterOrEqual(t, time.Since(start), 450*time.Millisecond)
		for _, r := range res {
			require.NoError(t, r.Err)
		}
	})
	t.Run("notified people", func(t *testing.T) {
		t.Parallel()
		// The limit counts people, not calls: 250 people at 200 per second
		// (burst 100) take at least 750 ms in three calls.
		b := setup(t, false, nil, dingtalk.WithRateLimit(200, 100))
		to := make([]bot.Recipient, 250)
		for i := range to {
			to[i] = bot.Recipient{EmployeeID: uint64(i + 1), UserID: fmt.Sprintf("u%03d", i)}
		}
		start := time.Now()
		res := b.c.SendBatch(context.Background(), to, func(r bot.Recipient) bot.Message {
			return bot.Message{Key: fmt.Sprintf("ll-3-0-%d", r.EmployeeID), Title: "明天上课", Body: "高效沟通"}
		})
		require.GreaterOrEqual(t, time.Since(start), 700*time.Millisecond)
		for _, r := range res {
			require.NoError(t, r.Err)
		}
		require.Equal(t, 3, b.f.callCount("/topapi/message/corpconversation/asyncsend_v2"))
	})
}

// TestNoticeAuthError88: errcode 88 is an authentication failure whose
// sub_code says why. A missing permission (60011) fails the delivery at
// once, naming code, sub_code and message, without fetching a new token
// and calling again; a token sub_code (40014) is refreshed once.
func TestNoticeAuthError88(t *testing.T) {
	t.Parallel()
	const path = "/topapi/message/corpconversation/asyncsend_v2"
	ctx := context.Background()
	send := func(b *bundle, key string) error {
		_, err := b.c.Send(ctx, bot.Recipient{UserID: "dt001"}, bot.Message{Key: key, Title: "提醒", Body: "x"})
		return err
	}

	b := setup(t, false, nil)
	require.NoError(t, send(b, "ll-1-0-1"))
	b.f.fail(path, http.StatusOK, `{"errcode":88,"errmsg":"ding talk error[subcode=60011,submsg=没有调用该接口的权限]","sub_code":"60011","sub_msg":"没有调用该接口的权限","request_id":"r1"}`)
	err := send(b, "ll-2-0-1")
	var pe *bot.PermanentError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "88", pe.Code)
	require.Contains(t, pe.Message, "sub_code 60011: 没有调用该接口的权限")
	require.Contains(t, pe.Message, "ding talk error", "DingTalk's own errmsg is kept")
	require.Equal(t, 2, b.f.callCount(path), "no second call after the refusal")
	require.Equal(t, 1, b.f.callCount("/gettoken"), "the token is not refreshed for a missing permission")

	// sub_code as a number, and an HTTP error status: the same.
	b.f.fail(path, http.StatusForbidden, `{"errcode":88,"sub_code":60011,"sub_msg":"没有调用该接口的权限"}`)
	require.ErrorAs(t, send(b, "ll-3-0-1"), &pe)
	require.Equal(t, "88", pe.Code)
	require.Contains(t, pe.Message, "sub_code 60011")

	// 88 for a bad token: refreshed once, then sent.
	b = setup(t, false, nil)
	b.f.fail(path, http.StatusOK, `{"errcode":88,"errmsg":"不合法的access_token","sub_code":"40014","sub_msg":"不合法的access_token"}`)
	require.NoError(t, send(b, "ll-1-0-1"))
	require.Equal(t, 2, b.f.callCount("/gettoken"))
	require.Equal(t, 2, b.f.callCount(path))
}

// TestNoticeTooFastIsRetried: getsendresult's forbidden_list with 143103 /
// 143104 ("too fast, retry later") is transient: the delivery is retried
// later (and sending pauses), not recorded as dropped. The retry is sent.
func TestNoticeTooFastIsRetried(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"143103", "143104"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			b := setup(t, false, nil, dingtalk.WithQuotaPause(50*time.Millisecond))
			b.f.mu.Lock()
			b.f.forbid = map[string]string{"dt001": code}
			b.f.mu.Unlock()
			ctx := context.Background()
			m := bot.Message{Key: "ll-1-0-1", Title: "提醒", Body: "x"}
			_, err := b.c.Send(ctx, bot.Recipient{UserID: "dt001"}, m)
			require.Error(t, err)
			var de *bot.DroppedError
			var pe *bot.PermanentError
			require.False(t, errors.As(err, &de), "not a final drop: %v", err)
			require.False(t, errors.As(err, &pe), "not permanent: %v", err)
			require.ErrorContains(t, err, code)
			var ae *dingtalk.APIError
			require.ErrorAs(t, err, &ae)
			require.True(t, ae.Temporary())

			require.Eventually(t, func() bool {
				_, err := b.c.Send(ctx, bot.Recipient{UserID: "dt001"}, m)
				return err == nil
			}, 5*time.Second, 20*time.Millisecond, "after the pause the retry goes out")
		})
	}
}

// TestCheckDeliveryTooFast: found only later by a reconcile, a 143103
// refusal is reported as not delivered (nothing will resend it).
func TestCheckDeliveryTooFast(t *testing.T) {
	t.Parallel()
	b := setup(t, false, nil, dingtalk.WithResultWait(0))
	b.f.mu.Lock()
	b.f.forbid = map[string]string{"dt001": "143103"}
	b.f.mu.Unlock()
	ctx := context.Background()
	rc, err := b.c.Send(ctx, bot.Recipient{UserID: "dt001"}, bot.Message{Key: "ll-1-0-1", Title: "提醒", Body: "x"})
	require.NoError(t, err, "no result wait: reported sent")
	var de *bot.DroppedError
	require.ErrorAs(t, b.c.CheckDelivery(ctx, rc.Handle, "dt001"), &de)
	require.Equal(t, "143103", de.Code)
}
