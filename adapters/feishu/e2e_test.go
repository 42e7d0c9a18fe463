package feishu_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/feishu"
	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

type clock = apptest.Clock

type e2e struct {
	a    *app.App
	srv  *httptest.Server
	clk  *clock
	fake *feishu.FakeServer
}

func setupE2E(t *testing.T, db *storetest.DB, tweaks ...func(*config.Config)) *e2e {
	t.Helper()
	clk := apptest.NewClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)) // 09:00 Shanghai
	fake := feishu.NewFakeServer(t, feishu.IDTypeUserID)
	client, err := feishu.New(feishu.Config{
		AppID: feishu.TestAppID, AppSecret: feishu.TestAppSecret, VerificationToken: feishu.TestVToken,
		EncryptKey: feishu.TestEncryptKey, APIBase: fake.URL(), ReceiveIDType: feishu.IDTypeUserID, Timeout: 5 * time.Second,
	}, feishu.WithNow(clk.Now))
	require.NoError(t, err)

	var callbacks http.Handler
	a, srv := apptest.Start(t, db.DB, clk, "feishu-e2e-link-secret-0123456789", func(cfg *config.Config, o *app.Options) {
		for _, tw := range tweaks {
			tw(cfg)
		}
		o.Messengers = map[bot.Platform]bot.Messenger{bot.PlatformFeishu: client}
		o.Mounts = map[string]http.Handler{"/callbacks/feishu": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			callbacks.ServeHTTP(w, r)
		})}
	})
	callbacks = client.CallbackHandler(a.Router())
	return &e2e{a: a, srv: srv, clk: clk, fake: fake}
}

func (e *e2e) api(t *testing.T, method, path, ctype string, body any, out any) int {
	t.Helper()
	return apptest.Call(t, e.srv.URL, method, path, ctype, body, out)
}

// tap posts an encrypted, signed card.action.trigger the way Feishu does
// and returns the decoded answer.
func (e *e2e) tap(t *testing.T, eventID, userID string, msg feishu.SentMessage, value map[string]any) (int, map[string]any) {
	t.Helper()
	now := e.clk.Now()
	ev := map[string]any{
		"schema": "2.0",
		"header": map[string]any{"event_id": eventID, "token": feishu.TestVToken, "create_time": strconv.FormatInt(now.UnixMilli(), 10),
			"event_type": "card.action.trigger", "tenant_key": "t1", "app_id": feishu.TestAppID},
		"event": map[string]any{
			"operator": map[string]any{"open_id": "ou_" + userID, "user_id": userID, "union_id": "on_" + userID},
			"token":    "c-update-token", "host": "im_message",
			"action":  map[string]any{"tag": "button", "value": value},
			"context": map[string]any{"open_message_id": msg.ID, "open_chat_id": "oc_1"},
		},
	}
	plain, err := json.Marshal(ev)
	require.NoError(t, err)
	enc, err := feishu.Encrypt(plain, feishu.TestEncryptKey)
	require.NoError(t, err)
	body, _ := json.Marshal(map[string]string{"encrypt": enc})
	ts, nonce := strconv.FormatInt(now.Unix(), 10), "n-"+eventID
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/callbacks/feishu", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Lark-Request-Timestamp", ts)
	req.Header.Set("X-Lark-Request-Nonce", nonce)
	req.Header.Set("X-Lark-Signature", feishu.Signature(ts, nonce, feishu.TestEncryptKey, body))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Less(t, time.Since(start), 3*time.Second, "Feishu's answer deadline")
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

// callbackValue finds the callback button with action in a sent card.
func callbackValue(t *testing.T, card map[string]any, action string) map[string]any {
	t.Helper()
	return callbackValueOf(t, card, action, "")
}

// callbackValueOf finds the callback button with action (and value, unless
// empty) in a sent card.
func callbackValueOf(t *testing.T, card map[string]any, action, value string) map[string]any {
	t.Helper()
	var found map[string]any
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == "callback" {
				if val, ok := x["value"].(map[string]any); ok && val["action"] == action && (value == "" || val["value"] == value) {
					found = val
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(card)
	require.NotNil(t, found, "no %s %s button in card", action, value)
	return found
}

func toast(t *testing.T, ans map[string]any) (typ, content string) {
	t.Helper()
	tm, ok := ans["toast"].(map[string]any)
	require.True(t, ok, "answer has a toast: %v", ans)
	return tm["type"].(string), tm["content"].(string)
}

func TestEndToEndHTTPCallbacks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := setupE2E(t, db)
		s := apptest.NewSession(t, e.srv.URL, apptest.SessionSpec{
			Course:  map[string]any{"code": "COMM-101", "title": "高效沟通"},
			Session: apptest.Morning(),
			Roster:  "external_id,name,department,platform,feishu_id\nE001,张伟,销售,feishu,u-001\nE002,王芳,销售,feishu,u-002\nE003,李娜,市场,feishu,u-003\n",
		})

		// Push: the check-in prompt goes out as one card per person.
		e.clk.Set(s.Touchpoint(t, bot.KindCheckinPrompt).RunAt.Add(time.Second))
		apptest.RunDue(t, e.a)
		sent := e.fake.Sent()
		require.Len(t, sent, 3)
		byUser := map[string]feishu.SentMessage{}
		for _, m := range sent {
			require.Equal(t, "user_id", m.ReceiveIDType)
			require.Equal(t, "2.0", m.Card["schema"])
			require.LessOrEqual(t, len(m.Content), 30*1024)
			byUser[m.ReceiveID] = m
		}
		var d store.Delivery
		require.NoError(t, db.Where("user_id = ?", "u-001").First(&d).Error)
		require.Equal(t, store.DeliverySent, d.Status)
		require.Equal(t, byUser["u-001"].ID, d.Handle, "the message id is stored for later updates")
		require.Equal(t, d.Key, byUser["u-001"].UUID, "the delivery key is the uuid")

		// Tap: E001 checks in at 09:47; Feishu delivers the callback three
		// times, and E001 taps a second time.
		e.clk.Set(time.Date(2026, 3, 2, 1, 47, 0, 0, time.UTC))
		val := callbackValue(t, byUser["u-001"].Card, bot.ActionCheckin)
		var first map[string]any
		for i := range 3 {
			code, ans := e.tap(t, "evt-1", "u-001", byUser["u-001"], val)
			require.Equal(t, http.StatusOK, code)
			if i == 0 {
				first = ans
			}
			require.Equal(t, first, ans, "a redelivered event gets the same answer")
		}
		typ, content := toast(t, first)
		require.Equal(t, "success", typ)
		require.Equal(t, "签到成功 09:47", content)
		card, ok := first["card"].(map[string]any)
		require.True(t, ok, "the answer carries the updated card")
		require.Equal(t, "raw", card["type"])
		data, _ := json.Marshal(card["data"])
		require.Contains(t, string(data), "已签到 09:47 ✓")
		require.Contains(t, string(data), `"schema":"2.0"`)
		require.NotContains(t, string(data), `"action":"checkin"`, "the check-in button is gone")

		code, ans := e.tap(t, "evt-2", "u-001", byUser["u-001"], val)
		require.Equal(t, http.StatusOK, code)
		typ, content = toast(t, ans)
		require.Equal(t, "info", typ)
		require.Equal(t, "您已签到 09:47", content)

		var n int64
		require.NoError(t, db.Model(&store.Checkin{}).Count(&n).Error)
		require.EqualValues(t, 1, n, "one check-in however often the callback comes")

		// A forwarded card does not check anybody else in.
		_, ans = e.tap(t, "evt-3", "u-002", byUser["u-001"], val)
		typ, _ = toast(t, ans)
		require.Equal(t, "warning", typ)
		require.Nil(t, ans["card"])
		require.NoError(t, db.Model(&store.Checkin{}).Count(&n).Error)
		require.EqualValues(t, 1, n)
		require.Empty(t, e.fake.Patched(), "taps are answered in the callback response, not with PATCH")

		// E002 checks in through the /c/ fallback link in its card: that
		// card is then updated in place with PATCH.
		link := regexp.MustCompile(`\((https?://[^)]+/c/[^)]+)\)`).FindStringSubmatch(byUser["u-002"].Content)
		require.Len(t, link, 2, "the card carries the fallback check-in link")
		resp, err := http.Post(link[1], "application/x-www-form-urlencoded", nil)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		patched := e.fake.Patched()
		require.Len(t, patched, 1)
		require.Equal(t, byUser["u-002"].ID, patched[0].ID)
		require.Contains(t, patched[0].Content, "已签到 09:47 ✓")
		require.NoError(t, db.Model(&store.Checkin{}).Count(&n).Error)
		require.EqualValues(t, 2, n)
	})
}

// TestEndToEndNPSCard: a survey's NPS question goes out as a Feishu card
// with two rows of 0–10 buttons; a tap on 9 is answered with the updated
// card and stored once.
func TestEndToEndNPSCard(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := setupE2E(t, db)
		s := apptest.NewSession(t, e.srv.URL, apptest.SessionSpec{
			Course:  map[string]any{"code": "NPS-1", "title": "合规培训"},
			Session: map[string]any{"starts_at": "2026-03-02T10:00:00+08:00", "ends_at": "2026-03-02T12:00:00+08:00", "plan": "none"},
			Roster:  "external_id,name,department,platform,feishu_id\nA1,甲,销售,feishu,u-001\nA2,乙,销售,feishu,u-002\n",
		})
		sid := strconv.FormatUint(s.ID, 10)
		e.clk.Set(time.Date(2026, 3, 2, 2, 5, 0, 0, time.UTC))
		for _, id := range []string{"A1", "A2"} {
			require.Equal(t, http.StatusCreated, e.api(t, "POST", "/api/v1/sessions/"+sid+"/checkins", "", map[string]any{"external_id": id}, nil))
		}
		require.Equal(t, http.StatusCreated, e.api(t, "POST", "/api/v1/sessions/"+sid+"/surveys", "", map[string]any{"template": "nps", "send_at": "2026-03-02T11:50:00+08:00"}, nil))
		e.clk.Set(time.Date(2026, 3, 2, 3, 50, 1, 0, time.UTC))
		apptest.RunDue(t, e.a)
		sent := e.fake.Sent()
		require.Len(t, sent, 2)
		var mine feishu.SentMessage
		for _, m := range sent {
			if m.ReceiveID == "u-001" {
				mine = m
			}
		}
		require.NotEmpty(t, mine.ID)
		require.Equal(t, 11, strings.Count(mine.Content, `"action":"nps"`), "one set of 0–10 buttons")
		val := callbackValueOf(t, mine.Card, bot.ActionNPS, "9")

		var first map[string]any
		for i := range 2 {
			code, ans := e.tap(t, "evt-nps", "u-001", mine, val)
			require.Equal(t, http.StatusOK, code)
			if i == 0 {
				first = ans
			}
			require.Equal(t, first, ans)
		}
		typ, content := toast(t, first)
		require.Equal(t, "success", typ)
		require.Equal(t, "感谢评分：9 分。为什么？直接回复即可", content, "Feishu hands text on: the bot asks why")
		data, _ := json.Marshal(first["card"])
		require.Contains(t, string(data), "已评分：9 分 ✓ · 为什么？直接回复即可")
		require.NotContains(t, string(data), `"action":"nps"`, "the score buttons are gone")
		var n int64
		require.NoError(t, db.Model(&store.SurveyResponse{}).Count(&n).Error)
		require.EqualValues(t, 1, n)
	})
}
