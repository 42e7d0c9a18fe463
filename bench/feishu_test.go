package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/feishu"
	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/store"
)

const (
	feishuAppID      = "cli_bench_app"
	feishuAppSecret  = "bench-app-secret-value"
	feishuVToken     = "bench-verification-token"
	feishuEncryptKey = "bench-encrypt-key-0123"
)

// fakeFeishu is a Feishu open platform without limits: it issues tenant
// tokens for the app's credentials, accepts interactive cards sent by
// user_id with a bearer token it issued, and keeps each user's latest
// message id and check-in button value (what Feishu echoes in a tap).
type fakeFeishu struct {
	srv *httptest.Server

	mu      sync.Mutex
	token   string
	cards   map[string]feishuCard // receive_id → latest card
	n       int
	bad     []string
	patches atomic.Int64
}

type feishuCard struct {
	messageID string
	value     map[string]any // the check-in button's callback value
}

func newFakeFeishu(b *testing.B) *fakeFeishu {
	f := &fakeFeishu{token: "t-bench-tenant-token", cards: map[string]feishuCard{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /open-apis/auth/v3/tenant_access_token/internal", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			AppID     string `json:"app_id"`
			AppSecret string `json:"app_secret"`
		}
		if json.NewDecoder(r.Body).Decode(&req) != nil || req.AppID != feishuAppID || req.AppSecret != feishuAppSecret {
			writeJSON(w, map[string]any{"code": 10014, "msg": "app secret invalid"})
			return
		}
		writeJSON(w, map[string]any{"code": 0, "msg": "ok", "tenant_access_token": f.token, "expire": 7200})
	})
	mux.HandleFunc("POST /open-apis/im/v1/messages", func(w http.ResponseWriter, r *http.Request) {
		if !f.authorized(w, r) {
			return
		}
		var req struct {
			ReceiveID string `json:"receive_id"`
			MsgType   string `json:"msg_type"`
			Content   string `json:"content"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.URL.Query().Get("receive_id_type") != feishu.IDTypeUserID ||
			req.ReceiveID == "" || req.MsgType != "interactive" {
			f.badf("bad message request: %v %s", err, r.URL.RawQuery)
			w.WriteHeader(http.StatusBadRequest)
			writeJSON(w, map[string]any{"code": 230001, "msg": "Your request contains an invalid request parameter."})
			return
		}
		var card any
		if err := json.Unmarshal([]byte(req.Content), &card); err != nil || len(req.Content) > 30*1024 {
			f.badf("bad card for %s: %v (%d bytes)", req.ReceiveID, err, len(req.Content))
			w.WriteHeader(http.StatusBadRequest)
			writeJSON(w, map[string]any{"code": 230099, "msg": "Failed to create card content"})
			return
		}
		f.mu.Lock()
		f.n++
		id := fmt.Sprintf("om_bench%07d", f.n)
		f.cards[req.ReceiveID] = feishuCard{messageID: id, value: callbackValue(card, bot.ActionCheckin)}
		f.mu.Unlock()
		writeJSON(w, map[string]any{"code": 0, "msg": "success", "data": map[string]any{"message_id": id, "msg_type": "interactive",
			"create_time": strconv.FormatInt(time.Now().UnixMilli(), 10)}})
	})
	mux.HandleFunc("PATCH /open-apis/im/v1/messages/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !f.authorized(w, r) {
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		f.patches.Add(1)
		writeJSON(w, map[string]any{"code": 0, "msg": "success"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.badf("unexpected %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	f.srv = httptest.NewServer(mux)
	b.Cleanup(func() {
		f.srv.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.bad) > 0 {
			b.Errorf("fake Feishu saw bad requests:\n%s", strings.Join(f.bad, "\n"))
		}
	})
	return f
}

func (f *fakeFeishu) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]any{"code": 99991663, "msg": "Invalid access token for authorization."})
		return false
	}
	return true
}

func (f *fakeFeishu) badf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bad = append(f.bad, fmt.Sprintf(format, args...))
}

func (f *fakeFeishu) card(user string) feishuCard {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cards[user]
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// callbackValue finds the value of the callback behaviour whose action is
// action anywhere in a card (nil when there is none).
func callbackValue(card any, action string) map[string]any {
	switch x := card.(type) {
	case map[string]any:
		if x["type"] == "callback" {
			if v, ok := x["value"].(map[string]any); ok && v["action"] == action {
				return v
			}
		}
		for _, c := range x {
			if v := callbackValue(c, action); v != nil {
				return v
			}
		}
	case []any:
		for _, c := range x {
			if v := callbackValue(c, action); v != nil {
				return v
			}
		}
	}
	return nil
}

// newFeishuRig is learnloop with the Feishu adapter in HTTP callback mode
// with an encrypt key, against the fake Feishu: taps are encrypted, signed
// card.action.trigger callbacks posted to /callbacks/feishu, acknowledged
// with a success toast and the updated card once stored.
func newFeishuRig(b *testing.B) *rig {
	fake := newFakeFeishu(b)
	s := newService(b, 40, func(s *service, _ *config.Config, opts *app.Options) {
		fc, err := feishu.New(feishu.Config{
			AppID: feishuAppID, AppSecret: feishuAppSecret, VerificationToken: feishuVToken, EncryptKey: feishuEncryptKey,
			APIBase: fake.srv.URL, ReceiveIDType: feishu.IDTypeUserID, CallbackMode: feishu.ModeHTTP, Timeout: 10 * time.Second,
			CallbackMaxSkew: 5 * time.Minute,
		}, feishu.WithNow(s.clock), feishu.WithLogger(slog.New(slog.DiscardHandler)), feishu.WithLimiter(unlimited{s.clock}))
		require.NoError(b, err)
		router := bot.InteractionHandlerFunc(func(ctx context.Context, in bot.Interaction) (bot.Reply, error) {
			return s.a.Router().HandleInteraction(ctx, in)
		})
		opts.Messengers = map[bot.Platform]bot.Messenger{bot.PlatformFeishu: fc}
		opts.Mounts = map[string]http.Handler{"/callbacks/feishu": fc.CallbackHandler(router)}
	})
	s.platform = "feishu"
	cl := httpClient(100)
	var events atomic.Int64
	r := &rig{name: "Feishu card.action.trigger callbacks (signature, AES decrypt, dedup, router, card in the answer)", s: s, clients: 1 << 30}
	r.note = func() string {
		return fmt.Sprintf("PATCH card updates: %d (taps are answered with the card)", fake.patches.Load())
	}
	r.taps = func(b *testing.B, ds []store.Delivery) func(i int) error {
		type cb struct {
			body           []byte
			ts, nonce, sig string
		}
		cbs := make([]cb, len(ds))
		now := s.clock() // the callback's timestamp is checked against the app's clock
		for i, d := range ds {
			card := fake.card(d.UserID)
			require.NotNil(b, card.value, "%s got a card with a check-in button", d.UserID)
			require.Equal(b, d.Handle, card.messageID, "the delivery's handle is the message id")
			id := fmt.Sprintf("evt-bench-%d", events.Add(1))
			ev := map[string]any{
				"schema": "2.0",
				"header": map[string]any{"event_id": id, "token": feishuVToken, "create_time": strconv.FormatInt(now.UnixMilli(), 10),
					"event_type": "card.action.trigger", "tenant_key": "t1", "app_id": feishuAppID},
				"event": map[string]any{
					"operator": map[string]any{"open_id": "ou_" + d.UserID, "user_id": d.UserID, "union_id": "on_" + d.UserID},
					"token":    "c-update-token", "host": "im_message",
					"action":  map[string]any{"tag": "button", "value": card.value},
					"context": map[string]any{"open_message_id": card.messageID, "open_chat_id": "oc_1"},
				},
			}
			plain, err := json.Marshal(ev)
			require.NoError(b, err)
			enc, err := feishu.Encrypt(plain, feishuEncryptKey)
			require.NoError(b, err)
			body, _ := json.Marshal(map[string]string{"encrypt": enc})
			ts, nonce := strconv.FormatInt(now.Unix(), 10), "n-"+id
			cbs[i] = cb{body: body, ts: ts, nonce: nonce, sig: feishu.Signature(ts, nonce, feishuEncryptKey, body)}
		}
		return func(i int) error {
			req, err := http.NewRequest(http.MethodPost, s.srv.URL+"/callbacks/feishu", bytes.NewReader(cbs[i].body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Lark-Request-Timestamp", cbs[i].ts)
			req.Header.Set("X-Lark-Request-Nonce", cbs[i].nonce)
			req.Header.Set("X-Lark-Signature", cbs[i].sig)
			resp, err := cl.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var ans struct {
				Toast *struct{ Type, Content string } `json:"toast"`
				Card  *struct{ Type string }          `json:"card"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != http.StatusOK || ans.Toast == nil ||
				ans.Toast.Type != "success" || ans.Card == nil {
				return fmt.Errorf("feishu tap %d: status %d, answer %+v, err %v", i, resp.StatusCode, ans.Toast, err)
			}
			return nil
		}
	}
	return r
}
