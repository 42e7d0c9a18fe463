package dingtalk_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/learnloop/learnloop/adapters/dingtalk"
	"github.com/learnloop/learnloop/adapters/kit/kittest"
	"github.com/learnloop/learnloop/bot"
)

const (
	testCallbackToken  = "CBTOKEN-conformance-xyz"
	testCallbackAESKey = "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7"
)

// TestConformance runs the adapter kit's conformance suite against the fake
// DingTalk (interactive cards, HTTP card callbacks).
func TestConformance(t *testing.T) {
	t.Parallel()
	t.Run("template", func(t *testing.T) {
		t.Parallel()
		kittest.Run(t, kittest.Harness{New: func(t *testing.T) *kittest.Setup { return newConformance(t, false) }})
	})
	t.Run("standard card", func(t *testing.T) {
		t.Parallel()
		kittest.Run(t, kittest.Harness{New: func(t *testing.T) *kittest.Setup { return newConformance(t, true) }})
	})
}

// issued lists every access token the fake handed out (both APIs).
func (f *fakeDT) issued() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for i := 1; i <= f.apiTokenCalls; i++ {
		out = append(out, "newtok-"+strconv.Itoa(i))
	}
	for i := 1; i <= f.oapiTokenN; i++ {
		out = append(out, "oldtok-"+strconv.Itoa(i))
	}
	return out
}

// newConformance is the suite's setup on a custom template, or with std on
// the built-in StandardCard (sent and updated through the im 1.0 robot card
// API, tapped through the button's id).
func newConformance(t *testing.T, std bool) *kittest.Setup {
	b := setup(t, true, func(c *dingtalk.Config) {
		c.CallbackToken, c.CallbackAESKey = testCallbackToken, testCallbackAESKey
		if std {
			c.CardTemplateID = ""
		}
	}, dingtalk.WithQuotaPause(time.Millisecond))
	card := func(key string) string {
		c := b.f.card(key)
		if c == nil {
			return ""
		}
		if c.Standard != nil {
			return standardText(c.Standard)
		}
		raw, _ := json.Marshal(map[string]any{"public": c.Public, "private": c.Private})
		return string(raw)
	}
	request := func(q, body string) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/callbacks/dingtalk?"+q, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	tapJSON := func(key, token string) string {
		if std {
			// The id of the card's check-in button (TestSendStandardCard
			// checks the card carries exactly this id).
			return dingtalk.CardCallbackJSONIDs(t, key, "dt001", "ll.checkin.."+token)
		}
		return dingtalk.CardCallbackJSON(t, key, "dt001", map[string]any{"action": bot.ActionCheckin, "token": token, "value": ""})
	}
	create, update := "/v1.0/card/instances/createAndDeliver", "/v1.0/card/instances"
	if std {
		create, update = stdSendPath, stdUpdatePath
	}
	return &kittest.Setup{
		Messenger: b.c,
		To:        bot.Recipient{UserID: "dt001"},
		Sent: func() int {
			b.f.mu.Lock()
			defer b.f.mu.Unlock()
			return len(b.f.cards)
		},
		Card: card,
		Faults: []kittest.Fault{
			{Name: "HTTP 500", Inject: func() { b.f.fail(create, 500, `{"code":"SystemError","message":"busy"}`) }, Want: kittest.Transient},
			{Name: "QPS limit", Inject: func() {
				b.f.fail(create, 403, `{"code":"Forbidden.AccessDenied.QpsLimitForApi","message":"qps"}`)
			}, Want: kittest.Transient},
			{Name: "token refused twice", Inject: func() {
				b.f.fail(create, 401, `{"code":"InvalidAuthentication","message":"token invalid"}`)
				b.f.fail(create, 401, `{"code":"InvalidAuthentication","message":"token invalid"}`)
			}, Want: kittest.Transient},
			{Name: "token refused once", Inject: func() {
				b.f.fail(create, 401, `{"code":"InvalidAuthentication","message":"token invalid"}`)
			}, Want: kittest.Sent},
			{Name: "bad parameter", Inject: func() { b.f.fail(create, 400, `{"code":"param.invalid","message":"bad template"}`) }, Want: kittest.Permanent},
			{Name: "user outside the robot's range", Inject: func() {
				b.f.mu.Lock()
				b.f.unknownUsers["dt001"] = true
				b.f.mu.Unlock()
			}, Want: kittest.Permanent},
		},
		Secrets: []string{testAppSecret, testCallbackToken, testCallbackAESKey},
		Tokens:  b.f.issued,
		Logs:    b.log.String,
		Echo: func() {
			toks := b.f.issued()
			echo := `{"code":"param.invalid","message":"token ` + toks[len(toks)-1] + ` appsecret=` + testAppSecret + ` key ` + testCallbackAESKey + `"}`
			b.f.fail(create, 400, echo)
			b.f.fail(update, 400, echo)
		},
		Callback: &kittest.Callback{
			Handler: b.c.CallbackHandler,
			Tap: func(t *testing.T, key, token string) *http.Request {
				q, body := dingtalk.SealCallback(t, b.c, tapJSON(key, token), time.Now())
				return request(q.Encode(), body)
			},
			Forgeries: func(t *testing.T, key, token string) map[string]*http.Request {
				plain := tapJSON(key, token)
				q, body := dingtalk.SealCallback(t, b.c, plain, time.Now())
				sq, sbody := dingtalk.SealCallback(t, b.c, plain, time.Now().Add(-10*time.Minute))
				clone := func(v url.Values) url.Values {
					out := url.Values{}
					for k, vs := range v {
						out[k] = append([]string(nil), vs...)
					}
					return out
				}
				bad := clone(q)
				bad.Set("msg_signature", strings.Repeat("0", 40))
				i := strings.Index(body, `"encrypt":"`) + len(`"encrypt":"`) + 5
				tampered := body[:i] + string(rune('A'+(body[i]-'A'+1)%26)) + body[i+1:]
				noSig := clone(q)
				noSig.Del("msg_signature")
				return map[string]*http.Request{
					"wrong signature":     request(bad.Encode(), body),
					"no signature":        request(noSig.Encode(), body),
					"stale timestamp":     request(sq.Encode(), sbody),
					"tampered ciphertext": request(q.Encode(), tampered),
				}
			},
		},
	}
}
