package dingtalk

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
)

type vector struct {
	Token        string `json:"token"`
	AESKey       string `json:"aes_key"`
	Owner        string `json:"owner_key"`
	Timestamp    string `json:"timestamp"`
	Nonce        string `json:"nonce"`
	Encrypt      string `json:"encrypt"`
	MsgSignature string `json:"msg_signature"`
	Plaintext    string `json:"plaintext"`
	PadLen       int    `json:"pkcs7_pad_len"`
}

// loadVector reads the published DingTalk callback vector
// (open-dingtalk/DingTalk-Callback-Crypto DingCallbackCrypto3.py).
func loadVector(t testing.TB) vector {
	t.Helper()
	raw, err := os.ReadFile("testdata/crypto_vectors.json")
	require.NoError(t, err)
	var v struct {
		DingTalk vector `json:"dingtalk_http_callback"`
	}
	require.NoError(t, json.Unmarshal(raw, &v))
	return v.DingTalk
}

func (v vector) at() time.Time {
	ms, _ := strconv.ParseInt(v.Timestamp, 10, 64)
	return time.UnixMilli(ms)
}

// recorder is an InteractionHandler that records what it is given.
type recorder struct {
	mu    sync.Mutex
	calls []bot.Interaction
	delay time.Duration
	err   error
}

func (r *recorder) HandleInteraction(ctx context.Context, in bot.Interaction) (bot.Reply, error) {
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, in)
	if r.err != nil {
		return bot.Reply{}, r.err
	}
	return bot.Reply{OK: true, Toast: "签到成功"}, nil
}

func (r *recorder) n() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// vectorClient is a client that owns the vector's callback settings.
func vectorClient(t testing.TB, v vector, owner string, now time.Time) *Client {
	t.Helper()
	c, err := New(Config{
		AppKey: owner, AppSecret: "s", CardTemplateID: "tpl", CallbackMode: ModeHTTP,
		CallbackToken: v.Token, CallbackAESKey: v.AESKey,
	}, WithNow(func() time.Time { return now }), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	return c
}

func post(h http.Handler, q url.Values, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/callbacks/dingtalk?"+q.Encode(), strings.NewReader(body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func vectorQuery(v vector) url.Values {
	return url.Values{"signature": {v.MsgSignature}, "timestamp": {v.Timestamp}, "nonce": {v.Nonce}}
}

func TestPublishedVector(t *testing.T) {
	t.Parallel()
	v := loadVector(t)
	require.Equal(t, v.MsgSignature, signature(v.Token, v.Timestamp, v.Nonce, v.Encrypt))
	key, err := decodeAESKey(v.AESKey)
	require.NoError(t, err)
	plain, err := decrypt(key, v.Encrypt, v.Owner)
	require.NoError(t, err)
	require.Equal(t, v.Plaintext, string(plain))

	// The vector's padding is 31 bytes: more than an AES block, so an
	// unpadder capped at 16 would fail it.
	raw, _ := base64.StdEncoding.DecodeString(v.Encrypt)
	block, _ := aes.NewCipher(key)
	buf := make([]byte, len(raw))
	cipher.NewCBCDecrypter(block, key[:16]).CryptBlocks(buf, raw)
	require.Equal(t, v.PadLen, int(buf[len(buf)-1]))

	_, err = decrypt(key, v.Encrypt, "dingotherapp")
	require.ErrorIs(t, err, ErrWrongOwner)
}

func TestCallbackVectorThroughHandler(t *testing.T) {
	t.Parallel()
	v := loadVector(t)
	c := vectorClient(t, v, v.Owner, v.at().Add(30*time.Second))
	rec := &recorder{}
	h := c.CallbackHandler(rec)
	for _, sigParam := range []string{"signature", "msg_signature"} {
		q := url.Values{sigParam: {v.MsgSignature}, "timestamp": {v.Timestamp}, "nonce": {v.Nonce}}
		w := post(h, q, `{"encrypt":"`+v.Encrypt+`"}`)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())

		// The answer is the encrypted "success", signed with the same scheme.
		var reply struct {
			Sig   string `json:"msg_signature"`
			TS    string `json:"timeStamp"`
			Nonce string `json:"nonce"`
			Enc   string `json:"encrypt"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &reply))
		require.Equal(t, signature(v.Token, reply.TS, reply.Nonce, reply.Enc), reply.Sig)
		require.Equal(t, strconv.FormatInt(v.at().Add(30*time.Second).UnixMilli(), 10), reply.TS)
		plain, err := decrypt(c.aesKey, reply.Enc, v.Owner)
		require.NoError(t, err)
		require.Equal(t, "success", string(plain))
	}
	require.Zero(t, rec.n(), "check_url is not an interaction")
}

func TestCallbackRejected(t *testing.T) {
	t.Parallel()
	v := loadVector(t)
	body := `{"encrypt":"` + v.Encrypt + `"}`
	with := func(k, val string) url.Values {
		q := vectorQuery(v)
		if val == "" {
			q.Del(k)
		} else {
			q.Set(k, val)
		}
		return q
	}
	cases := []struct {
		name   string
		owner  string
		now    time.Time
		method string
		q      url.Values
		body   string
		status int
	}{
		{name: "wrong signature", q: with("signature", "03044561471240d4a14bb09372dfcfd4fd0e40cc"), status: 401},
		{name: "signature of other body", q: vectorQuery(v), body: `{"encrypt":"` + v.Encrypt[:len(v.Encrypt)-4] + `AAA="}`, status: 401},
		{name: "wrong app key", owner: "dingotherappkey", status: 403},
		{name: "stale timestamp", now: v.at().Add(6 * time.Minute), status: 401},
		{name: "timestamp from the future", now: v.at().Add(-6 * time.Minute), status: 401},
		{name: "tampered timestamp", q: with("timestamp", "1608001896815"), status: 401},
		{name: "no nonce", q: with("nonce", ""), status: 400},
		{name: "no signature", q: with("signature", ""), status: 400},
		{name: "not json", body: "encrypt=" + v.Encrypt, status: 400},
		{name: "no encrypt", body: `{"data":"x"}`, status: 400},
		{name: "get", method: http.MethodGet, status: 405},
		{name: "too large", body: `{"encrypt":"` + strings.Repeat("A", maxCallbackBody) + `"}`, status: 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			owner, now, q, b, method := v.Owner, v.at(), vectorQuery(v), body, http.MethodPost
			if tc.owner != "" {
				owner = tc.owner
			}
			if !tc.now.IsZero() {
				now = tc.now
			}
			if tc.q != nil {
				q = tc.q
			}
			if tc.body != "" {
				b = tc.body
			}
			if tc.method != "" {
				method = tc.method
			}
			rec := &recorder{}
			h := vectorClient(t, v, owner, now).CallbackHandler(rec)
			req := httptest.NewRequest(method, "/callbacks/dingtalk?"+q.Encode(), strings.NewReader(b))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			require.NotContains(t, w.Body.String(), "encrypt", "no success answer")
			require.Zero(t, rec.n(), "nothing handed to the router")
		})
	}
}

// sealed builds a signed, encrypted HTTP callback for plain.
func sealed(t testing.TB, c *Client, plain string, at time.Time) (url.Values, string) {
	t.Helper()
	enc, err := encrypt(c.aesKey, []byte(plain), c.cfg.AppKey)
	require.NoError(t, err)
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	nonce := randomNonce()
	return url.Values{"msg_signature": {signature(c.cfg.CallbackToken, ts, nonce, enc)}, "timestamp": {ts}, "nonce": {nonce}},
		`{"encrypt":"` + enc + `"}`
}

func cardCallbackJSON(t testing.TB, outTrackID, user string, params map[string]any) string {
	t.Helper()
	content, err := json.Marshal(map[string]any{"cardPrivateData": map[string]any{"actionIds": []string{"checkin"}, "params": params}})
	require.NoError(t, err)
	raw, err := json.Marshal(map[string]any{"outTrackId": outTrackID, "userId": user, "userIdType": 1, "corpId": "dingcorp", "content": string(content), "type": "actionCallback"})
	require.NoError(t, err)
	return string(raw)
}

func cardCallbackJSONIDs(t testing.TB, bizID, user, buttonID string) string {
	t.Helper()
	content, err := json.Marshal(map[string]any{"cardPrivateData": map[string]any{"actionIds": []string{buttonID}, "params": map[string]any{}}})
	require.NoError(t, err)
	raw, err := json.Marshal(map[string]any{"outTrackId": bizID, "userId": user, "userIdType": 1, "corpId": "dingcorp", "content": string(content), "type": "actionCallback"})
	require.NoError(t, err)
	return string(raw)
}

func TestCallbackTap(t *testing.T) {
	t.Parallel()
	v := loadVector(t)
	now := time.Date(2026, 3, 2, 1, 47, 0, 0, time.UTC)
	c := vectorClient(t, v, "dingappkey0001", now)
	rec := &recorder{}
	h := c.CallbackHandler(rec)
	plain := cardCallbackJSON(t, "ll-7-0-1", "dt001", map[string]any{"action": "checkin", "token": "itok-1", "value": ""})
	q, body := sealed(t, c, plain, now)
	for range 3 { // DingTalk retries: the router sees the tap once
		w := post(h, q, body)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	}
	require.Equal(t, 1, rec.n())
	in := rec.calls[0]
	require.Equal(t, bot.PlatformDingTalk, in.Platform)
	require.Equal(t, "dt001", in.UserID)
	require.Equal(t, "checkin", in.Action)
	require.Equal(t, "itok-1", in.Token)
	require.Equal(t, "card", in.Source)
	require.True(t, strings.HasPrefix(in.DedupKey, "http:"))

	// A numeric score arrives as a number.
	q, body = sealed(t, c, cardCallbackJSON(t, "ll-8-0-1", "dt001", map[string]any{"action": "nps", "token": "t2", "value": 9}), now)
	require.Equal(t, http.StatusOK, post(h, q, body).Code)
	require.Equal(t, "9", rec.calls[1].Value)

	// A tap without a token is refused, nothing recorded.
	q, body = sealed(t, c, cardCallbackJSON(t, "ll-8-0-2", "dt001", map[string]any{"action": "checkin"}), now)
	require.Equal(t, http.StatusBadRequest, post(h, q, body).Code)
	require.Equal(t, 2, rec.n())
}

func TestCallbackDeadline(t *testing.T) {
	t.Parallel()
	v := loadVector(t)
	now := time.Date(2026, 3, 2, 1, 47, 0, 0, time.UTC)
	c := vectorClient(t, v, "dingappkey0001", now)
	rec := &recorder{delay: 2 * time.Second}
	h := c.CallbackHandler(rec)
	q, body := sealed(t, c, cardCallbackJSON(t, "ll-7-0-1", "dt001", map[string]any{"action": "checkin", "token": "itok-1"}), now)
	start := time.Now()
	w := post(h, q, body)
	require.Less(t, time.Since(start), 1500*time.Millisecond, "DingTalk wants an answer within 1.5 s")
	require.Equal(t, http.StatusServiceUnavailable, w.Code, "not stored yet: no success, DingTalk retries")
	// The retry waits for the run in flight and succeeds without a second call.
	require.Eventually(t, func() bool { return post(h, q, body).Code == http.StatusOK }, 5*time.Second, 100*time.Millisecond)
	require.Equal(t, 1, rec.n())
}

func TestCallbackHandlerError(t *testing.T) {
	t.Parallel()
	v := loadVector(t)
	now := time.Date(2026, 3, 2, 1, 47, 0, 0, time.UTC)
	c := vectorClient(t, v, "dingappkey0001", now)
	rec := &recorder{err: errors.New("database is down")}
	h := c.CallbackHandler(rec)
	q, body := sealed(t, c, cardCallbackJSON(t, "ll-7-0-1", "dt001", map[string]any{"action": "checkin", "token": "itok-1"}), now)
	require.Equal(t, http.StatusServiceUnavailable, post(h, q, body).Code)
	rec.mu.Lock()
	rec.err = nil
	rec.mu.Unlock()
	require.Equal(t, http.StatusOK, post(h, q, body).Code, "a failed run is retried")
	require.Equal(t, 2, rec.n())
}

func TestCallbackNotConfigured(t *testing.T) {
	t.Parallel()
	c, err := New(Config{AppKey: "k", AppSecret: "s", CardTemplateID: "t"})
	require.NoError(t, err)
	w := post(c.CallbackHandler(&recorder{}), url.Values{}, "{}")
	require.Equal(t, http.StatusNotFound, w.Code)
}

func TestCryptoRoundTrip(t *testing.T) {
	t.Parallel()
	v := loadVector(t)
	key, err := decodeAESKey(v.AESKey)
	require.NoError(t, err)
	// Every padding length 1–32 occurs.
	for n := 0; n < 80; n++ {
		msg := bytes.Repeat([]byte{'x'}, n)
		enc, err := encrypt(key, msg, "owner")
		require.NoError(t, err)
		got, err := decrypt(key, enc, "owner")
		require.NoError(t, err, n)
		require.Equal(t, msg, got)
	}
	_, err = decrypt(key, "not base64!", "owner")
	require.ErrorIs(t, err, ErrBadPayload)
	_, err = decrypt(key, base64.StdEncoding.EncodeToString([]byte("short")), "owner")
	require.ErrorIs(t, err, ErrBadPayload)
}

func TestParseCardCallback(t *testing.T) {
	t.Parallel()
	ok := func(params map[string]any) string { return cardCallbackJSON(t, "ll-1-0-1", "dt001", params) }
	cases := []struct {
		name   string
		in     string
		action string
		value  string
		err    bool
	}{
		{name: "checkin", in: ok(map[string]any{"action": "checkin", "token": "t"}), action: "checkin"},
		{name: "rate number", in: ok(map[string]any{"action": "rate", "token": "t", "value": 4}), action: "rate", value: "4"},
		{name: "action from actionIds", in: ok(map[string]any{"token": "t"}), action: "checkin"},
		{name: "no token", in: ok(map[string]any{"action": "checkin"}), err: true},
		{name: "token too long", in: ok(map[string]any{"token": strings.Repeat("a", 5000)}), err: true},
		{name: "no user", in: `{"outTrackId":"x","content":"{}"}`, err: true},
		{name: "unionid", in: `{"outTrackId":"x","userId":"u","userIdType":2,"content":"{\"cardPrivateData\":{\"params\":{\"token\":\"t\"}}}"}`, err: true},
		{name: "content not json", in: `{"outTrackId":"x","userId":"u","content":"nope"}`, err: true},
		{name: "not json", in: `[`, err: true},
	}
	for _, tc := range cases {
		tap, err := parseCardCallback([]byte(tc.in))
		if tc.err {
			require.ErrorIs(t, err, errBadTap, tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.action, tap.Action, tc.name)
		require.Equal(t, tc.value, tap.Value, tc.name)
		require.Equal(t, "t", tap.Token, tc.name)
	}
}
