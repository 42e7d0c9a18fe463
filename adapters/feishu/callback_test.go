package feishu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/directory/contact"
)

// callbackReq builds a card.action.trigger callback the way Feishu sends
// it: schema 2.0 JSON, encrypted with the encrypt key and signed.
type callbackReq struct {
	eventID    string
	token      string // header.token
	appID      string
	openID     string
	userID     string
	unionID    string
	value      any
	messageID  string
	createTime time.Time
	ts         time.Time
	nonce      string
	encryptKey string // "" sends plain JSON
	sig        string // overrides the computed signature
	noSig      bool
	plain      []byte              // overrides the plaintext JSON
	tamper     func([]byte) []byte // edits the final body after signing
}

func newCallbackReq(t testing.TB, eventID string) callbackReq {
	now := time.Now()
	return callbackReq{
		eventID: eventID, token: testVToken, appID: testAppID,
		openID: "ou_tapper", userID: "u-1", unionID: "on_tapper", messageID: "om_fake0001",
		value:      map[string]any{valToken: "signed-token", valAction: bot.ActionCheckin, valSent: strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)},
		createTime: now, ts: now, nonce: "nonce-1", encryptKey: testEncryptKey,
	}
}

func (r callbackReq) payload(t testing.TB) []byte {
	if r.plain != nil {
		return r.plain
	}
	op := map[string]any{"open_id": r.openID}
	if r.userID != "" {
		op["user_id"] = r.userID
	}
	if r.unionID != "" {
		op["union_id"] = r.unionID
	}
	ev := map[string]any{
		"schema": "2.0",
		"header": map[string]any{
			"event_id": r.eventID, "token": r.token, "create_time": strconv.FormatInt(r.createTime.UnixMilli(), 10),
			"event_type": eventCardAction, "tenant_key": "tenant-1", "app_id": r.appID,
		},
		"event": map[string]any{
			"operator": op, "token": "c-card-update-token", "host": "im_message",
			"action":  map[string]any{"value": r.value, "tag": "button"},
			"context": map[string]any{"open_message_id": r.messageID, "open_chat_id": "oc_1"},
		},
	}
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	return b
}

func (r callbackReq) request(t testing.TB) *http.Request {
	body := r.payload(t)
	if r.encryptKey != "" {
		enc, err := Encrypt(body, r.encryptKey)
		require.NoError(t, err)
		body, err = json.Marshal(map[string]string{"encrypt": enc})
		require.NoError(t, err)
	}
	ts := strconv.FormatInt(r.ts.Unix(), 10)
	sig := r.sig
	if sig == "" && r.encryptKey != "" {
		sig = Signature(ts, r.nonce, r.encryptKey, body)
	}
	if r.tamper != nil {
		body = r.tamper(body)
	}
	req := httptest.NewRequest(http.MethodPost, "/callbacks/feishu", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(headerTimestamp, ts)
	req.Header.Set(headerNonce, r.nonce)
	if !r.noSig && sig != "" {
		req.Header.Set(headerSignature, sig)
	}
	return req
}

func (r callbackReq) do(t testing.TB, h http.Handler) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r.request(t))
	return rec
}

// recorder is an InteractionHandler that records what it is given.
type recorder struct {
	mu            sync.Mutex
	calls         []bot.Interaction
	reply         func(bot.Interaction) (bot.Reply, error)
	storageErrors []string // actions counted through bot.StorageErrorCounter
}

// CallbackStorageError implements bot.StorageErrorCounter.
func (r *recorder) CallbackStorageError(p bot.Platform, action string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.storageErrors = append(r.storageErrors, string(p)+"/"+action)
}

func (r *recorder) counted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.storageErrors...)
}

func (r *recorder) HandleInteraction(_ context.Context, in bot.Interaction) (bot.Reply, error) {
	r.mu.Lock()
	r.calls = append(r.calls, in)
	r.mu.Unlock()
	if r.reply != nil {
		return r.reply(in)
	}
	card := checkinMessage("k1")
	card.Buttons, card.Status, card.Fallback = card.Buttons[1:], "已签到 09:02 ✓", ""
	return bot.Reply{OK: true, Toast: "签到成功 09:02", Card: &card}, nil
}

func (r *recorder) n() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

type cardAnswer struct {
	Toast *struct {
		Type    string `json:"type"`
		Content string `json:"content"`
	} `json:"toast"`
	Card *struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	} `json:"card"`
}

func decodeAnswer(t testing.TB, rec *httptest.ResponseRecorder) cardAnswer {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var a cardAnswer
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &a), rec.Body.String())
	return a
}

func TestURLVerification(t *testing.T) {
	t.Parallel()
	v := loadVectors(t).Derived.Challenge
	cases := []struct {
		name   string
		cfg    func(*Config)
		body   string
		status int
		want   string
	}{
		{"plain", func(c *Config) { c.EncryptKey = "" }, `{"challenge":"abc123","token":"` + testVToken + `","type":"url_verification"}`, 200, `{"challenge":"abc123"}`},
		{"plain wrong token", func(c *Config) { c.EncryptKey = "" }, `{"challenge":"abc123","token":"nope","type":"url_verification"}`, 401, ""},
		{"encrypted vector", func(c *Config) { c.EncryptKey, c.VerificationToken = v.EncryptKey, "xxxxxx" }, `{"encrypt":"` + v.Encrypt + `"}`, 200, `{"challenge":"ajls384kdjx98XX"}`},
		{"encrypted wrong token", func(c *Config) { c.EncryptKey = v.EncryptKey }, `{"encrypt":"` + v.Encrypt + `"}`, 401, ""},
		{"plain while a key is set", nil, `{"challenge":"abc123","token":"` + testVToken + `","type":"url_verification"}`, 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeFeishu(t, IDTypeUserID)
			c, _ := testClient(t, f, tc.cfg)
			rec := httptest.NewRecorder()
			c.CallbackHandler(&recorder{}).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/callbacks/feishu", strings.NewReader(tc.body)))
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.want != "" {
				require.JSONEq(t, tc.want, rec.Body.String())
			}
		})
	}
}

func TestCardActionCallback(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeUserID)
	c, _ := testClient(t, f, nil)
	h := &recorder{}
	cr := newCallbackReq(t, "evt-1")
	cr.value = map[string]any{valToken: "signed-token", valAction: bot.ActionRate, valValue: "4", valSent: strconv.FormatInt(time.Now().Unix(), 10)}
	a := decodeAnswer(t, cr.do(t, c.CallbackHandler(h)))

	require.Equal(t, 1, h.n())
	in := h.calls[0]
	require.Equal(t, bot.PlatformFeishu, in.Platform)
	require.Equal(t, "u-1", in.UserID)
	require.Equal(t, bot.ActionRate, in.Action)
	require.Equal(t, "4", in.Value)
	require.Equal(t, "signed-token", in.Token)
	require.Equal(t, "evt-1", in.DedupKey)
	require.Equal(t, "card", in.Source)
	require.WithinDuration(t, time.Now(), in.At, 5*time.Second)

	require.NotNil(t, a.Toast)
	require.Equal(t, "success", a.Toast.Type)
	require.Equal(t, "签到成功 09:02", a.Toast.Content)
	require.NotNil(t, a.Card, "the answer carries the new card")
	require.Empty(t, f.patched(), "the tap's card travels in the answer, not in a PATCH")
	require.Equal(t, "raw", a.Card.Type)
	require.Equal(t, "2.0", a.Card.Data["schema"])
	raw, _ := json.Marshal(a.Card.Data)
	require.Contains(t, string(raw), "已签到 09:02 ✓")
	require.NotContains(t, string(raw), "tok-checkin", "the check-in button is gone")
}

func TestCardActionOperatorID(t *testing.T) {
	t.Parallel()
	cases := []struct {
		idType  string
		mutate  func(*callbackReq)
		want    string
		lookups int
	}{
		{IDTypeOpenID, nil, "ou_tapper", 0},
		{IDTypeUserID, nil, "u-1", 0},
		{IDTypeUnionID, nil, "on_tapper", 0},
		{IDTypeEmail, nil, "tapper@example.com", 1},
		{IDTypeUserID, func(r *callbackReq) { r.userID = "" }, "u-looked-up", 1}, // no employee-id permission
	}
	for _, tc := range cases {
		t.Run(tc.idType, func(t *testing.T) {
			t.Parallel()
			f := newFakeFeishu(t, tc.idType)
			f.users["ou_tapper"] = map[string]string{"open_id": "ou_tapper", "email": "tapper@example.com", "user_id": "u-looked-up", "union_id": "on_x"}
			c, _ := testClient(t, f, nil)
			h := &recorder{}
			for i := range 2 { // the second tap uses the cached id
				cr := newCallbackReq(t, "evt-"+strconv.Itoa(i))
				if tc.mutate != nil {
					tc.mutate(&cr)
				}
				decodeAnswer(t, cr.do(t, c.CallbackHandler(h)))
			}
			require.Equal(t, 2, h.n())
			require.Equal(t, tc.want, h.calls[0].UserID)
			require.Equal(t, tc.want, h.calls[1].UserID)
			_, _, lookups := f.counts()
			require.Equal(t, tc.lookups, lookups)
		})
	}
}

func TestCardActionUnknownUser(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeEmail) // no users known: contact lookup fails
	c, _ := testClient(t, f, nil)
	h := &recorder{}
	a := decodeAnswer(t, newCallbackReq(t, "evt-1").do(t, c.CallbackHandler(h)))
	require.Zero(t, h.n())
	require.Equal(t, "error", a.Toast.Type)
	require.Nil(t, a.Card)
	require.Zero(t, c.seen.Len(), "not remembered: a redelivery tries again")
}

// TestCallbackRejects: every bad callback is refused with a 4xx before the
// router sees it, and nothing is remembered.
func TestCallbackRejects(t *testing.T) {
	t.Parallel()
	flip := func(b []byte) []byte {
		var m map[string]string
		_ = json.Unmarshal(b, &m)
		e := []byte(m["encrypt"])
		e[10] ^= 'A' ^ 'B'
		m["encrypt"] = string(e)
		out, _ := json.Marshal(m)
		return out
	}
	cases := []struct {
		name   string
		cfg    func(*Config)
		mutate func(*callbackReq)
		method string
		status int
	}{
		{"tampered body", nil, func(r *callbackReq) { r.tamper = flip }, "", 401},
		{"wrong signature", nil, func(r *callbackReq) { r.sig = strings.Repeat("ab", 32) }, "", 401},
		{"missing signature", nil, func(r *callbackReq) { r.noSig = true }, "", 401},
		{"wrong verification token", nil, func(r *callbackReq) { r.token = "not-the-token" }, "", 401},
		{"empty verification token", nil, func(r *callbackReq) { r.token = "" }, "", 401},
		{"stale timestamp", nil, func(r *callbackReq) { r.ts = time.Now().Add(-6 * time.Minute) }, "", 401},
		{"future timestamp", nil, func(r *callbackReq) { r.ts = time.Now().Add(6 * time.Minute) }, "", 401},
		{"another app", nil, func(r *callbackReq) { r.appID = "cli_other" }, "", 401},
		{"bad padding", nil, nil, "", 400}, // see badPaddingRequest
		{"encrypted with another key", nil, func(r *callbackReq) { r.encryptKey = "other-key"; r.sig = "" }, "", 401},
		{"not encrypted though a key is set", nil, func(r *callbackReq) { r.encryptKey = "" }, "", 400},
		{"encrypted though no key is set", func(c *Config) { c.EncryptKey = "" }, nil, "", 400},
		{"no-key mode: wrong token", func(c *Config) { c.EncryptKey = "" }, func(r *callbackReq) { r.encryptKey = ""; r.token = "nope" }, "", 401},
		{"no-key mode: stale timestamp", func(c *Config) { c.EncryptKey = "" }, func(r *callbackReq) { r.encryptKey = ""; r.ts = time.Now().Add(-time.Hour) }, "", 401},
		{"value without token", nil, func(r *callbackReq) { r.value = map[string]any{valAction: "checkin"} }, "", 400},
		{"value not an object", nil, func(r *callbackReq) { r.value = "checkin" }, "", 400},
		{"link action", nil, func(r *callbackReq) { r.value = map[string]any{valToken: "t", valAction: bot.ActionLink} }, "", 400},
		{"bad action", nil, func(r *callbackReq) { r.value = map[string]any{valToken: "t", valAction: "DROP TABLE"} }, "", 400},
		{"no operator", nil, func(r *callbackReq) { r.openID, r.userID, r.unionID = "", "", "" }, "", 400},
		{"no event id", nil, func(r *callbackReq) { r.eventID = "" }, "", 400},
		{"schema 1.0 event", nil, func(r *callbackReq) {
			r.plain = []byte(`{"uuid":"x","token":"` + testVToken + `","type":"event_callback","event":{}}`)
		}, "", 400},
		{"not JSON", nil, func(r *callbackReq) { r.plain = []byte("hello") }, "", 400},
		{"GET", nil, nil, http.MethodGet, 405},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeFeishu(t, IDTypeUserID)
			c, _ := testClient(t, f, tc.cfg)
			h := &recorder{}
			cr := newCallbackReq(t, "evt-bad")
			if tc.mutate != nil {
				tc.mutate(&cr)
			}
			req := cr.request(t)
			if tc.name == "bad padding" {
				req = badPaddingRequest(t)
			}
			if tc.method != "" {
				req.Method = tc.method
			}
			rec := httptest.NewRecorder()
			c.CallbackHandler(h).ServeHTTP(rec, req)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			require.Zero(t, h.n(), "nothing reaches the router")
			require.Zero(t, c.seen.Len(), "nothing remembered")
		})
	}
}

// badPaddingRequest is correctly encrypted and signed, but the plaintext's
// last block carries a broken PKCS#7 pad.
func badPaddingRequest(t testing.TB) *http.Request {
	t.Helper()
	plain := []byte(`{"schema":"2.0"}` + "0123456789abc\x03\x03\x04")
	// Encrypt without adding padding: plain is already 32 bytes.
	require.Equal(t, 0, len(plain)%16)
	enc := encryptNoPad(t, plain, testEncryptKey)
	body, _ := json.Marshal(map[string]string{"encrypt": enc})
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req := httptest.NewRequest(http.MethodPost, "/callbacks/feishu", bytes.NewReader(body))
	req.Header.Set(headerTimestamp, ts)
	req.Header.Set(headerNonce, "n")
	req.Header.Set(headerSignature, Signature(ts, "n", testEncryptKey, body))
	return req
}

func TestCallbackDedup(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeUserID)
	c, _ := testClient(t, f, nil)
	h := &recorder{}
	handler := c.CallbackHandler(h)
	var first string
	for i := range 4 { // Feishu retries up to 4 times
		rec := newCallbackReq(t, "evt-dup").do(t, handler)
		require.Equal(t, http.StatusOK, rec.Code)
		if i == 0 {
			first = rec.Body.String()
		}
		require.Equal(t, first, rec.Body.String(), "a redelivery gets the first answer")
	}
	require.Equal(t, 1, h.n())

	// A failed first attempt is not remembered: the redelivery runs again.
	fails := &recorder{}
	var calls atomic.Int32
	fails.reply = func(bot.Interaction) (bot.Reply, error) {
		if calls.Add(1) == 1 {
			return bot.Reply{}, errors.New("database is down")
		}
		return bot.Reply{OK: true, Toast: "ok"}, nil
	}
	hf := c.CallbackHandler(fails)
	rec := newCallbackReq(t, "evt-retry").do(t, hf)
	require.Equal(t, http.StatusOK, rec.Code, "Feishu does not redeliver callbacks: answer, never fail")
	a := decodeAnswer(t, rec)
	require.Equal(t, "warning", a.Toast.Type)
	require.Equal(t, "请稍后再点一次", a.Toast.Content)
	require.Nil(t, a.Card, "the card is left as it is, still tappable")
	require.Equal(t, []string{"feishu/checkin"}, fails.counted())
	a = decodeAnswer(t, newCallbackReq(t, "evt-retry").do(t, hf))
	require.Equal(t, "success", a.Toast.Type)
	require.Equal(t, 2, fails.n())
	require.Len(t, fails.counted(), 1)

	// An English recipient's card says so in its callback values.
	calls.Store(0)
	cr := newCallbackReq(t, "evt-retry-en")
	cr.value = map[string]any{valToken: "signed-token", valAction: bot.ActionRate, valValue: "4", valLang: "en"}
	a = decodeAnswer(t, cr.do(t, hf))
	require.Equal(t, "Please tap again in a moment", a.Toast.Content)
	require.Equal(t, []string{"feishu/checkin", "feishu/rate"}, fails.counted())
}

func TestCallbackDedupInFlight(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeUserID)
	c, _ := testClient(t, f, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	h := &recorder{}
	h.reply = func(bot.Interaction) (bot.Reply, error) {
		close(entered)
		<-release
		return bot.Reply{OK: true, Toast: "签到成功"}, nil
	}
	handler := c.CallbackHandler(h)
	var wg sync.WaitGroup
	var firstBody string
	wg.Add(1)
	go func() {
		defer wg.Done()
		firstBody = newCallbackReq(t, "evt-x").do(t, handler).Body.String()
	}()
	<-entered
	done := make(chan string)
	go func() { done <- newCallbackReq(t, "evt-x").do(t, handler).Body.String() }()
	time.Sleep(50 * time.Millisecond) // the second delivery is waiting
	close(release)
	second := <-done
	wg.Wait()
	require.Equal(t, firstBody, second)
	require.Equal(t, 1, h.n())
}

func TestCallbackOldCard(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeUserID)
	c, _ := testClient(t, f, nil)
	h := &recorder{}
	cr := newCallbackReq(t, "evt-old")
	cr.value = map[string]any{valToken: "signed-token", valAction: bot.ActionCheckin, valSent: strconv.FormatInt(time.Now().Add(-15*24*time.Hour).Unix(), 10)}
	a := decodeAnswer(t, cr.do(t, c.CallbackHandler(h)))
	require.Equal(t, 1, h.n(), "the tap itself still counts")
	require.Nil(t, a.Card, "Feishu would refuse to update a 15-day-old card")
	require.Contains(t, a.Toast.Content, "签到成功 09:02")
	require.Contains(t, a.Toast.Content, "14 天")
}

func TestCallbackRefusalToast(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeUserID)
	c, _ := testClient(t, f, nil)
	h := &recorder{reply: func(bot.Interaction) (bot.Reply, error) {
		return bot.Reply{Toast: "该操作已失效，请使用最新消息"}, nil
	}}
	a := decodeAnswer(t, newCallbackReq(t, "evt-r").do(t, c.CallbackHandler(h)))
	require.Equal(t, "warning", a.Toast.Type)
	require.Nil(t, a.Card)
}

func TestOtherEventsAcknowledged(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeUserID)
	c, _ := testClient(t, f, nil)
	h := &recorder{}
	cr := newCallbackReq(t, "evt-msg")
	cr.plain = []byte(`{"schema":"2.0","header":{"event_id":"e9","event_type":"im.message.receive_v1","token":"` + testVToken + `","app_id":"` + testAppID + `"},"event":{}}`)
	rec := cr.do(t, c.CallbackHandler(h))
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{}`, rec.Body.String())
	require.Zero(t, h.n())
}

// TestLongConnectionDispatcher feeds card.action.trigger payloads through
// the SDK dispatcher's Do, which is exactly what the ws client calls for
// every event frame.
func TestLongConnectionDispatcher(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeUserID)
	c, _ := testClient(t, f, func(c *Config) { c.EncryptKey = "" })
	h := &recorder{}
	d := c.dispatcher(h)
	ctx := context.Background()

	cr := newCallbackReq(t, "evt-ws-1")
	out, err := d.Do(ctx, cr.payload(t))
	require.NoError(t, err)
	raw, err := json.Marshal(out)
	require.NoError(t, err)
	var a cardAnswer
	require.NoError(t, json.Unmarshal(raw, &a))
	require.Equal(t, "success", a.Toast.Type)
	require.Equal(t, "2.0", a.Card.Data["schema"])
	require.Equal(t, 1, h.n())
	require.Equal(t, "u-1", h.calls[0].UserID)

	// Redelivered after a slow answer: same answer, router not called again.
	again, err := d.Do(ctx, cr.payload(t))
	require.NoError(t, err)
	raw2, _ := json.Marshal(again)
	require.JSONEq(t, string(raw), string(raw2))
	require.Equal(t, 1, h.n())

	// No token over the authenticated connection is fine; a wrong one is not.
	noTok := newCallbackReq(t, "evt-ws-2")
	noTok.token = ""
	_, err = d.Do(ctx, noTok.payload(t))
	require.NoError(t, err)
	require.Equal(t, 2, h.n())
	bad := newCallbackReq(t, "evt-ws-3")
	bad.token = "wrong"
	out, err = d.Do(ctx, bad.payload(t))
	require.NoError(t, err)
	raw, _ = json.Marshal(out)
	require.Contains(t, string(raw), `"type":"error"`)
	require.Equal(t, 2, h.n())
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"empty", Config{}, "app id is empty"},
		{"id type", Config{AppID: "a", AppSecret: "b", VerificationToken: "c", ReceiveIDType: "phone"}, "receive id type"},
		{"mode", Config{AppID: "a", AppSecret: "b", VerificationToken: "c", CallbackMode: "stream"}, "callback mode"},
		{"api base", Config{AppID: "a", AppSecret: "b", VerificationToken: "c", APIBase: "open.feishu.cn"}, "api base"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestFromConfig(t *testing.T) {
	t.Parallel()
	fc := config.Default().Platforms.Feishu
	fc.Enabled, fc.AppID, fc.AppSecret, fc.VerificationToken, fc.EncryptKey = true, "cli_x", "sec", "vt", "ek"
	fc.ReceiveIDType, fc.CallbackMaxSkew = IDTypeOpenID, config.Duration(time.Minute)
	c, err := FromConfig(fc, "https://learn.example.com/")
	require.NoError(t, err)
	require.Equal(t, Config{
		AppID: "cli_x", AppSecret: "sec", VerificationToken: "vt", EncryptKey: "ek", APIBase: "https://open.feishu.cn",
		ReceiveIDType: IDTypeOpenID, CallbackMode: ModeHTTP, Timeout: 10 * time.Second, CallbackMaxSkew: time.Minute,
		Limits: Limits{AppPerSecond: 50, AppPerMinute: 1000, UserPerSecond: 5}, PublicURL: "https://learn.example.com/",
	}, c.cfg)
	require.Equal(t, "https://learn.example.com/callbacks/feishu", c.CallbackURL())
	require.Equal(t, bot.PlatformFeishu, c.Platform())
}

// TestLongConnectionContactEvents feeds contact events through the SDK
// dispatcher, as the ws client does: each reaches the contact handler once,
// and a handler failure makes the dispatcher fail (Feishu sends it again).
func TestLongConnectionContactEvents(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeUserID)
	var got []contact.Change
	fail := false
	ch := contact.HandlerFunc(func(_ context.Context, c contact.Change) error {
		if fail {
			return errors.New("database down")
		}
		got = append(got, c)
		return nil
	})
	c, _ := testClient(t, f, func(c *Config) { c.EncryptKey = "" }, WithContactHandler(ch))
	d := c.dispatcher(&recorder{})
	ctx := context.Background()
	ev := func(id, typ, object string) []byte {
		return []byte(`{"schema":"2.0","header":{"event_id":"` + id + `","event_type":"` + typ + `","create_time":"` +
			strconv.FormatInt(time.Now().UnixMilli(), 10) + `","app_id":"` + testAppID + `"},"event":{"object":` + object + `}}`)
	}
	_, err := d.Do(ctx, ev("w1", "contact.user.created_v3", `{"open_id":"ou_1","user_id":"u-1","name":"新人"}`))
	require.NoError(t, err)
	_, err = d.Do(ctx, ev("w1", "contact.user.created_v3", `{"open_id":"ou_1","user_id":"u-1","name":"新人"}`))
	require.NoError(t, err)
	_, err = d.Do(ctx, ev("w2", "contact.department.updated_v3", `{"open_department_id":"od-1","name":"研发部","parent_department_id":"0"}`))
	require.NoError(t, err)
	require.Len(t, got, 2, "the redelivery is not handed on again")
	require.Equal(t, contact.Change{Platform: "feishu", EventID: "w1", Type: "contact.user.created_v3", Kind: contact.UserUpsert,
		UserID: "u-1", At: got[0].At}, got[0])
	require.False(t, got[0].At.IsZero())
	require.Equal(t, &contact.Department{ID: "od-1", ParentID: "0", Name: "研发部"}, got[1].Dept)

	fail = true
	_, err = d.Do(ctx, ev("w3", "contact.user.deleted_v3", `{"open_id":"ou_2","user_id":"u-2"}`))
	require.Error(t, err, "answered as a failure: Feishu sends it again")
	fail = false
	_, err = d.Do(ctx, ev("w3", "contact.user.deleted_v3", `{"open_id":"ou_2","user_id":"u-2"}`))
	require.NoError(t, err)
	require.Equal(t, contact.UserDelete, got[2].Kind)

	// A wrong verification token is refused (and not sent again).
	bad := bytes.Replace(ev("w4", "contact.user.deleted_v3", `{"user_id":"u-3"}`), []byte(`"app_id"`), []byte(`"token":"wrong","app_id"`), 1)
	_, err = d.Do(ctx, bad)
	require.NoError(t, err)
	require.Len(t, got, 3)
}
