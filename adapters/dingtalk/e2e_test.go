package dingtalk_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/dingtalk"
	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

type clock = apptest.Clock

type e2e struct {
	a   *app.App
	srv *httptest.Server
	clk *clock
	f   *fakeDT
	c   *dingtalk.Client
	db  *storetest.DB
}

// e2eSetup builds the whole service (app.New) with the DingTalk adapter
// talking to the fake DingTalk.
func e2eSetup(t *testing.T, db *storetest.DB, cards string, mutate ...func(*dingtalk.Config)) *e2e {
	t.Helper()
	clk := apptest.NewClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)) // 09:00 Shanghai
	f := newFakeDT(t)
	// The router exists only once the app is built: the mounted handler
	// reaches it through a (the lead mounts c.CallbackHandler(a.Router())).
	var a *app.App
	router := bot.InteractionHandlerFunc(func(ctx context.Context, in bot.Interaction) (bot.Reply, error) {
		return a.Router().HandleInteraction(ctx, in)
	})
	var c *dingtalk.Client
	a, srv := apptest.Start(t, db.DB, clk, "e2e-link-secret-0123456789", func(acfg *config.Config, o *app.Options) {
		cfg := dingtalk.Config{
			AppKey: testAppKey, AppSecret: testAppSecret, AgentID: testAgentID,
			CallbackToken: "cbtoken", CallbackAESKey: "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7",
			APIBase: f.URL(), OAPIBase: f.URL(), PublicURL: acfg.HTTP.PublicURL, Timeout: 3 * time.Second,
		}
		switch cards {
		case dingtalk.CardsTemplate:
			cfg.CardTemplateID = testTemplate
		case dingtalk.CardsNotice:
			cfg.Cards = cards
		}
		for _, m := range mutate {
			m(&cfg)
		}
		var err error
		c, err = dingtalk.New(cfg, dingtalk.WithNow(clk.Now), dingtalk.WithRateLimit(1000, 1000),
			dingtalk.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		require.NoError(t, err)
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		o.Messengers = map[bot.Platform]bot.Messenger{bot.PlatformDingTalk: c}
		o.Mounts = map[string]http.Handler{"/callbacks/dingtalk": c.CallbackHandler(router)}
	})
	return &e2e{a: a, srv: srv, clk: clk, f: f, c: c, db: db}
}

// runStream runs the client's Stream connection on the app's router until
// the test ends, and waits for the first connection.
func (e *e2e) runStream(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- e.c.Run(ctx, e.a.Router()) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-runErr)
	})
	e.f.gw.waitConnected(t, 1)
}

func (e *e2e) call(t *testing.T, method, path, ctype string, body any, out any) int {
	t.Helper()
	return apptest.Call(t, e.srv.URL, method, path, ctype, body, out)
}

// plan creates a session at 10:00 Shanghai with three DingTalk employees
// and moves the clock to its check-in prompt (start−15m), then fires it.
func (e *e2e) planAndFire(t *testing.T) {
	t.Helper()
	s := apptest.NewSession(t, e.srv.URL, apptest.SessionSpec{
		Course:  map[string]any{"code": "COMM-101", "title": "高效沟通"},
		Session: apptest.Morning(),
		Roster:  "external_id,name,department,platform,dingtalk_id\nE001,张伟,销售,dingtalk,dt001\nE002,王芳,销售,dingtalk,dt002\nE003,李娜,市场,dingtalk,dt003\n",
	})
	e.clk.Set(s.Touchpoint(t, bot.KindCheckinPrompt).RunAt.Add(time.Second))
	apptest.RunDue(t, e.a)
	var deliveries []store.Delivery
	require.NoError(t, e.db.Order("id").Find(&deliveries).Error)
	require.Len(t, deliveries, 3)
	for _, d := range deliveries {
		require.Equal(t, store.DeliverySent, d.Status, "%s: %s %s", d.UserID, d.ErrorCode, d.ErrorMessage)
		require.Equal(t, "dingtalk", d.Platform)
	}
	e.clk.Set(time.Date(2026, 3, 2, 1, 47, 0, 0, time.UTC)) // 09:47 Shanghai
}

func (e *e2e) checkins(t *testing.T) int64 {
	t.Helper()
	var n int64
	require.NoError(t, e.db.Model(&store.Checkin{}).Count(&n).Error)
	return n
}

func deliveryOf(t *testing.T, db *storetest.DB, user string) store.Delivery {
	t.Helper()
	var d store.Delivery
	require.NoError(t, db.Where("user_id = ?", user).First(&d).Error)
	return d
}

// TestEndToEndStream: push a card → tap it through the real Stream SDK →
// one check-in even when the frame is redelivered → card updated; then a
// disconnect frame and a tap on the new connection.
func TestEndToEndStream(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := e2eSetup(t, db, dingtalk.CardsTemplate)
		e.runStream(t)
		gw := e.f.gw

		e.planAndFire(t)
		d1 := deliveryOf(t, db, "dt001")
		require.Equal(t, d1.Key, d1.Handle, "the receipt handle is the outTrackId")
		card := e.f.card(d1.Key)
		require.NotNil(t, card)
		require.Equal(t, "true", card.Public["show_checkin"])
		require.Contains(t, card.Private["checkin_url"], e.srv.URL+"/c/")
		tok := card.Private["checkin_token"]
		tap := func(msgID, user, token string) []byte {
			return tapFrame(t, msgID, deliveryOf(t, db, user).Key, user, map[string]any{"action": "checkin", "token": token, "value": ""})
		}

		gw.push("m1", tap("m1", "dt001", tok))
		a := gw.waitAck(t, "m1")
		require.Equal(t, 200, a.Code)
		pub, priv := cardResponse(t, a)
		require.Equal(t, "已签到 09:47 ✓", pub["status"], "the card is updated in the callback answer")
		require.Equal(t, "false", pub["show_checkin"])
		require.Equal(t, "签到成功 09:47", priv["toast"])
		require.EqualValues(t, 1, e.checkins(t))

		// Redelivered with the same message id, and again as a new message:
		// still one check-in.
		gw.pushOnce(tap("m1", "dt001", tok))
		require.Equal(t, a.Data, gw.waitAck(t, "m1").Data)
		gw.push("m1b", tap("m1b", "dt001", tok))
		_, priv = cardResponse(t, gw.waitAck(t, "m1b"))
		require.Equal(t, "您已签到 09:47", priv["toast"])
		require.EqualValues(t, 1, e.checkins(t))
		var ci store.Checkin
		require.NoError(t, db.First(&ci).Error)
		require.Equal(t, store.SourceCard, ci.Source)
		require.Equal(t, "dingtalk", ci.Platform)

		// dt002 taps dt001's card (a forwarded token): refused, nothing stored.
		gw.push("m2x", tap("m2x", "dt002", tok))
		pub, priv = cardResponse(t, gw.waitAck(t, "m2x"))
		require.Nil(t, pub)
		require.Equal(t, "该操作已失效，请使用最新消息", priv["toast"])
		require.EqualValues(t, 1, e.checkins(t))

		// A forged HTTP callback (bad signature) records nothing.
		q := url.Values{"msg_signature": {"0000000000000000000000000000000000000000"}, "timestamp": {strconv.FormatInt(e.clk.Now().UnixMilli(), 10)}, "nonce": {"n"}}
		resp, err := http.Post(e.srv.URL+"/callbacks/dingtalk?"+q.Encode(), "application/json", strings.NewReader(`{"encrypt":"AAAA"}`))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.EqualValues(t, 1, e.checkins(t))

		// The gateway rotates the connection; dt002 taps on the new one.
		gw.disconnect("d1")
		gw.waitConnected(t, 2)
		tok2 := e.f.card(deliveryOf(t, db, "dt002").Key).Private["checkin_token"]
		gw.push("m2", tap("m2", "dt002", tok2))
		a = gw.waitAck(t, "m2")
		require.Equal(t, 200, a.Code)
		require.Equal(t, 2, a.Conn)
		require.EqualValues(t, 2, e.checkins(t))
	})
}

// TestEndToEndWorkNotification: without a card template the check-in
// prompt goes out as a work notification whose button opens the signed /c/
// page; checking in there is stored.
func TestEndToEndWorkNotification(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := e2eSetup(t, db, dingtalk.CardsNotice)
		e.planAndFire(t)
		d := deliveryOf(t, db, "dt001")
		require.True(t, strings.HasPrefix(d.Handle, "wn:"), d.Handle)

		e.f.mu.Lock()
		bodies := append([]string(nil), e.f.noticeBodies...)
		e.f.mu.Unlock()
		require.Len(t, bodies, 3, "each notification carries its own check-in link")
		var checkinURL string
		for _, b := range bodies {
			if !strings.Contains(b, `"userid_list":"dt001"`) {
				continue
			}
			var req struct {
				Msg struct {
					ActionCard struct {
						Buttons []struct {
							Title     string `json:"title"`
							ActionURL string `json:"action_url"`
						} `json:"btn_json_list"`
					} `json:"action_card"`
				} `json:"msg"`
			}
			require.NoError(t, json.Unmarshal([]byte(b), &req))
			require.NotEmpty(t, req.Msg.ActionCard.Buttons, b)
			require.Equal(t, "签到", req.Msg.ActionCard.Buttons[0].Title)
			wrapped, err := url.Parse(req.Msg.ActionCard.Buttons[0].ActionURL)
			require.NoError(t, err)
			require.Equal(t, "dingtalk", wrapped.Scheme)
			checkinURL = wrapped.Query().Get("url")
		}
		require.True(t, strings.HasPrefix(checkinURL, e.srv.URL+"/c/"), checkinURL)

		resp, err := http.Post(checkinURL, "application/x-www-form-urlencoded", nil)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.EqualValues(t, 1, e.checkins(t))
		var ci store.Checkin
		require.NoError(t, db.First(&ci).Error)
		require.Equal(t, store.SourceLink, ci.Source)
		require.NoError(t, e.c.CheckDelivery(context.Background(), d.Handle, "dt001"))
	})
}

// TestEndToEndStreamStorageError: with the real router and its storage
// failing (the checkins table is gone), a Stream tap is answered 200 with
// the "tap again" toast, the card is not changed, nothing is stored and
// learnloop_callbacks_total{outcome="storage_error"} counts it; once
// storage is back the next tap checks in.
func TestEndToEndStreamStorageError(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := e2eSetup(t, db, dingtalk.CardsTemplate)
		e.runStream(t)
		gw := e.f.gw
		e.planAndFire(t)
		d := deliveryOf(t, db, "dt001")
		tok := e.f.card(d.Key).Private["checkin_token"]
		tap := func(id string) []byte {
			return tapFrame(t, id, d.Key, "dt001", map[string]any{"action": "checkin", "token": tok, "value": ""})
		}

		require.NoError(t, db.Exec("ALTER TABLE checkins RENAME TO checkins_off").Error)
		gw.push("s1", tap("s1"))
		a := gw.waitAck(t, "s1")
		require.Equal(t, 200, a.Code)
		pub, priv := cardResponse(t, a)
		require.Nil(t, pub)
		require.Equal(t, map[string]string{"toast": "请稍后再点一次"}, priv)
		require.Zero(t, gw.unackedCount())
		require.Equal(t, 1.0, counterValue(t, e.a, "learnloop_callbacks_total",
			map[string]string{"platform": "dingtalk", "action": "checkin", "outcome": "storage_error"}))
		require.NoError(t, db.Exec("ALTER TABLE checkins_off RENAME TO checkins").Error)
		require.EqualValues(t, 0, e.checkins(t))

		gw.push("s2", tap("s2"))
		pub, _ = cardResponse(t, gw.waitAck(t, "s2"))
		require.Equal(t, "已签到 09:47 ✓", pub["status"])
		require.EqualValues(t, 1, e.checkins(t))
	})
}

// counterValue reads one counter series from the app's registry (0 when
// the series does not exist).
func counterValue(t *testing.T, a *app.App, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := a.Registry().Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
