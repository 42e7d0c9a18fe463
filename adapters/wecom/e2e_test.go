package wecom_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit/kittest"
	"github.com/learnloop/learnloop/adapters/wecom"
	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/bot/chat"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

type clock = apptest.Clock

// countingHandler passes taps to the app's router and counts them, and
// text messages to the app's chat service.
type countingHandler struct {
	calls atomic.Int32
	next  atomic.Pointer[bot.Router]
	chat  atomic.Pointer[chat.Service]
}

func (h *countingHandler) HandleInteraction(ctx context.Context, in bot.Interaction) (bot.Reply, error) {
	h.calls.Add(1)
	return h.next.Load().HandleInteraction(ctx, in)
}

func (h *countingHandler) HandleText(ctx context.Context, in bot.InboundText) (bot.ChatReply, error) {
	return h.chat.Load().HandleText(ctx, in)
}

type env struct {
	a    *app.App
	srv  *httptest.Server
	clk  *clock
	fake *wecom.FakeWeCom
	wcfg wecom.Config
	taps *countingHandler
	logs *kittest.LogBuffer
}

func setupApp(t *testing.T, db *storetest.DB, tweaks ...func(*config.Config)) *env {
	t.Helper()
	clk := apptest.NewClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)) // 09:00 Shanghai
	fake := wecom.NewFakeWeCom(t, "zhangwei", "wangfang")                // lisi is not a member
	fake.Now = clk.Now
	wcfg := fake.Config()
	logs := &kittest.LogBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client, err := wecom.New(wcfg, wecom.WithNow(clk.Now), wecom.WithLogger(logger))
	require.NoError(t, err)
	taps := &countingHandler{}

	a, srv := apptest.Start(t, db.DB, clk, "wecom-e2e-link-secret-0123456789", func(cfg *config.Config, o *app.Options) {
		for _, tw := range tweaks {
			tw(cfg)
		}
		o.Logger = logger
		o.Messengers = map[bot.Platform]bot.Messenger{bot.PlatformWeCom: client}
		o.Mounts = map[string]http.Handler{wecom.CallbackPath: client.CallbackHandler(taps)}
	})
	taps.next.Store(a.Router())
	taps.chat.Store(a.Chat())
	return &env{a: a, srv: srv, clk: clk, fake: fake, wcfg: wcfg, taps: taps, logs: logs}
}

func (e *env) call(t *testing.T, method, path, ctype string, body any, out any) int {
	t.Helper()
	return apptest.Call(t, e.srv.URL, method, path, ctype, body, out)
}

func (e *env) runDue(t *testing.T) {
	t.Helper()
	apptest.RunDue(t, e.a)
}

// callback posts a signed, encrypted template_card_event as WeCom does and
// takes the answer as WeCom does (the fake checks a passive reply).
func (e *env) callback(t *testing.T, ev wecom.CardEvent) int {
	t.Helper()
	q, body := wecom.SignedCallback(e.wcfg, e.wcfg.CorpID, e.clk.Now(), ev.XML())
	sent := time.Now()
	resp, err := http.Post(e.srv.URL+wecom.CallbackPath+"?"+q, "text/xml", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.NoError(t, e.fake.Answer(e.wcfg, ev, sent, resp.StatusCode, b), "WeCom takes the answer")
	return resp.StatusCode
}

func TestEndToEndWeComCheckin(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := setupApp(t, db)

		// A session at 10:00 Shanghai with three WeCom employees.
		sess := apptest.NewSession(t, e.srv.URL, apptest.SessionSpec{
			Course:  map[string]any{"code": "COMM-101", "title": "高效沟通"},
			Session: apptest.Morning(),
			Roster:  "external_id,name,department,platform,wecom_id\nE001,张伟,销售,wecom,zhangwei\nE002,王芳,销售,wecom,wangfang\nE003,李四,市场,wecom,lisi\n",
		})
		prompt := sess.Touchpoint(t, bot.KindCheckinPrompt)
		promptID := prompt.ID
		require.NotZero(t, promptID)

		// The check-in prompt fires: WeCom receives one card per member.
		e.clk.Set(prompt.RunAt.Add(time.Second))
		e.runDue(t)
		cards := e.fake.Cards()
		require.Len(t, cards, 2)
		var deliveries []store.Delivery
		require.NoError(t, db.Where("touchpoint_id = ?", promptID).Order("id").Find(&deliveries).Error)
		require.Len(t, deliveries, 3)
		byUser := map[string]store.Delivery{}
		for _, d := range deliveries {
			byUser[d.UserID] = d
		}
		require.Equal(t, store.DeliveryFailed, byUser["lisi"].Status, "invaliduser fails exactly that delivery")
		require.Equal(t, wecom.CodeInvalidUser, byUser["lisi"].ErrorCode)
		require.Contains(t, byUser["lisi"].ErrorMessage, "lisi")
		for _, u := range []string{"zhangwei", "wangfang"} {
			d := byUser[u]
			require.Equal(t, store.DeliverySent, d.Status, u)
			c := e.fake.CardsFor(u)
			require.Len(t, c, 1, u)
			require.Equal(t, d.Key, c[0].Card.TaskID, "task_id is the delivery key")
			require.Equal(t, c[0].ResponseCode, d.Handle, "the send's response_code is stored")
			require.Equal(t, "button_interaction", c[0].Card.CardType)
		}
		card := e.fake.CardsFor("zhangwei")[0]
		key := card.Card.ButtonList[0].Key
		require.True(t, strings.HasPrefix(key, "ll:checkin::"), key)
		require.NotEqual(t, key, e.fake.CardsFor("wangfang")[0].Card.ButtonList[0].Key, "each card carries its own token")

		// zhangwei taps at 09:47; WeCom delivers the callback three times.
		e.clk.Set(time.Date(2026, 3, 2, 1, 47, 0, 0, time.UTC))
		rc := e.fake.IssueResponseCode()
		ev := wecom.CardEvent{To: e.wcfg.CorpID, From: "zhangwei", EventKey: key, TaskID: card.Card.TaskID,
			CardType: "button_interaction", ResponseCode: rc, CreateTime: e.clk.Now().Unix(), AgentID: e.wcfg.AgentID}
		for range 3 {
			require.Equal(t, http.StatusOK, e.callback(t, ev))
		}
		var checkins []store.Checkin
		require.NoError(t, db.Find(&checkins).Error)
		require.Len(t, checkins, 1, "one check-in for three deliveries of the tap")
		require.Equal(t, byUser["zhangwei"].EmployeeID, checkins[0].EmployeeID)
		require.Equal(t, "card", checkins[0].Source)
		require.Equal(t, "wecom", checkins[0].Platform)
		require.Equal(t, store.CheckinOnTime, checkins[0].Kind)
		require.EqualValues(t, 1, e.taps.calls.Load(), "the redeliveries did not reach the router")

		// The card was updated in place by each answer (a passive
		// update_button), with no update_template_card call.
		ups := e.fake.Updates()
		require.Len(t, ups, 3)
		for _, u := range ups {
			require.True(t, u.Passive)
			require.Equal(t, rc, u.ResponseCode)
			require.Equal(t, "已签到 09:47 ✓", u.ReplaceName)
			require.Equal(t, []string{"zhangwei"}, u.UserIDs)
		}

		// wangfang replaying zhangwei's button checks nobody in.
		forged := ev
		forged.From, forged.CreateTime, forged.ResponseCode = "wangfang", ev.CreateTime+5, e.fake.IssueResponseCode()
		require.Equal(t, http.StatusOK, e.callback(t, forged))
		var n int64
		require.NoError(t, db.Model(&store.Checkin{}).Count(&n).Error)
		require.EqualValues(t, 1, n)
		require.Len(t, e.fake.Updates(), 3, "a refused tap changes no card")

		// Sending the prompt again makes no second card.
		require.Equal(t, http.StatusAccepted, e.call(t, "POST", "/api/v1/touchpoints/"+jsonNum(promptID)+"/send-now", "", nil, nil))
		e.runDue(t)
		require.Len(t, e.fake.Cards(), 2)

		// Nothing secret was logged on the way.
		for _, s := range append(e.fake.Tokens(), e.wcfg.Secret, e.wcfg.EncodingAESKey) {
			require.NotContains(t, e.logs.String(), s)
		}
	})
}

func jsonNum(id uint64) string { b, _ := json.Marshal(id); return string(b) }
