package feishu

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit/kittest"
	"github.com/learnloop/learnloop/bot"
)

// TestConformance runs the adapter kit's conformance suite against the fake
// Feishu open platform.
func TestConformance(t *testing.T) {
	t.Parallel()
	kittest.Run(t, kittest.Harness{New: newConformance})
}

func newConformance(t *testing.T) *kittest.Setup {
	f := newFakeFeishu(t, IDTypeUserID)
	c, logs := testClient(t, f, nil)
	messageID := func(key string) string {
		for _, m := range f.sent() {
			if m.UUID == messageUUID(key) {
				return m.ID
			}
		}
		return ""
	}
	card := func(key string) string {
		id := messageID(key)
		var parts []string
		for _, m := range f.sent() {
			if m.ID == id {
				parts = append(parts, m.Content)
			}
		}
		for _, p := range f.patched() {
			if p.ID == id {
				parts = append(parts, p.Content)
			}
		}
		return strings.Join(parts, "\n")
	}
	// tap is the callback of u-1 tapping check-in on the card sent under
	// key; the event id makes a second one the same event again.
	tap := func(key, token string) callbackReq {
		r := newCallbackReq(t, "evt-"+key)
		r.messageID = messageID(key)
		r.value = map[string]any{valToken: token, valAction: bot.ActionCheckin, valSent: strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)}
		return r
	}
	return &kittest.Setup{
		Messenger: c,
		To:        bot.Recipient{UserID: "u-1"},
		Sent:      func() int { return len(f.sent()) },
		Card:      card,
		Faults: []kittest.Fault{
			{Name: "HTTP 500", Inject: func() { f.fail(failure{status: 500, code: 0, msg: "internal"}) }, Want: kittest.Transient},
			{Name: "HTML error page from a gateway", Inject: func() { f.fail(failure{status: 502, html: true}) }, Want: kittest.Transient},
			{Name: "HTTP 429", Inject: func() { f.fail(failure{status: 429, code: 99991400, msg: "too many requests"}) }, Want: kittest.Transient},
			{Name: "code 230020 per-user rate limit", Inject: func() { f.fail(failure{status: 200, code: 230020, msg: "rate limit"}) }, Want: kittest.Transient},
			{Name: "token refused twice", Inject: func() {
				f.fail(failure{status: 400, code: codeTenantAccessTokenInvalid, msg: "invalid token"}, failure{status: 400, code: codeTenantAccessTokenInvalid, msg: "invalid token"})
			}, Want: kittest.Transient},
			{Name: "token refused once", Inject: func() { f.fail(failure{status: 400, code: codeTenantAccessTokenInvalid, msg: "invalid token"}) }, Want: kittest.Sent},
			{Name: "code 230002 bot not in chat", Inject: func() { f.fail(failure{status: 400, code: 230002, msg: "bot is not in the chat"}) }, Want: kittest.Permanent},
		},
		Secrets: []string{testAppSecret, testVToken, testEncryptKey},
		Tokens:  f.issuedTokens,
		Logs:    logs.String,
		Echo: func() {
			toks := f.issuedTokens()
			require.NotEmpty(t, toks)
			msg := "bad request: Bearer " + toks[len(toks)-1] + " app_secret=" + testAppSecret + " " + testEncryptKey
			f.fail(failure{status: 400, code: 230001, msg: msg}, failure{status: 400, code: 230001, msg: msg})
		},
		Callback: &kittest.Callback{
			Handler: c.CallbackHandler,
			Tap:     func(t *testing.T, key, token string) *http.Request { return tap(key, token).request(t) },
			Forgeries: func(t *testing.T, key, token string) map[string]*http.Request {
				flip := func(b []byte) []byte {
					out := append([]byte(nil), b...)
					out[len(out)/2] ^= 1
					return out
				}
				mut := func(m func(*callbackReq)) *http.Request {
					r := tap(key, token)
					r.eventID += "-forged"
					m(&r)
					return r.request(t)
				}
				return map[string]*http.Request{
					"wrong signature":          mut(func(r *callbackReq) { r.sig = strings.Repeat("ab", 32) }),
					"no signature":             mut(func(r *callbackReq) { r.noSig = true }),
					"tampered body":            mut(func(r *callbackReq) { r.tamper = flip }),
					"stale timestamp":          mut(func(r *callbackReq) { r.ts = time.Now().Add(-10 * time.Minute) }),
					"wrong verification token": mut(func(r *callbackReq) { r.token = "not-the-token" }),
					"another app":              mut(func(r *callbackReq) { r.appID = "cli_other" }),
				}
			},
			// Feishu takes the new card in the callback's answer.
			Shown: func(t *testing.T, key string, answer *httptest.ResponseRecorder) string {
				return answer.Body.String()
			},
		},
	}
}
