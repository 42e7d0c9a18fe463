package wecom

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit/kittest"
	"github.com/learnloop/learnloop/adapters/wecom/wecomtest"
	"github.com/learnloop/learnloop/bot"
)

// TestConformance runs the adapter kit's conformance suite against the fake
// WeCom.
func TestConformance(t *testing.T) {
	t.Parallel()
	kittest.Run(t, kittest.Harness{New: newConformance})
}

func newConformance(t *testing.T) *kittest.Setup {
	b := setup(t, "zhangwei")
	var mu sync.Mutex
	tapCodes := map[string]string{}  // delivery key → the tap's response_code
	tapTimes := map[string]int64{}   // delivery key → the tap's CreateTime
	sentAt := map[string]time.Time{} // delivery key → when the last tap was delivered
	card := func(key string) string {
		var parts []string
		codes := map[string]bool{}
		for _, c := range b.f.Cards() {
			if c.Card.TaskID == taskID(key) {
				raw, _ := json.Marshal(c.Raw)
				parts = append(parts, string(raw))
				codes[c.ResponseCode] = true
			}
		}
		mu.Lock()
		if code, ok := tapCodes[key]; ok {
			codes[code] = true
		}
		mu.Unlock()
		for _, u := range b.f.Updates() {
			if !codes[u.ResponseCode] {
				continue
			}
			parts = append(parts, u.ReplaceName)
			if u.Card != nil {
				raw, _ := json.Marshal(u.Card)
				parts = append(parts, string(raw))
			}
		}
		return strings.Join(parts, "\n")
	}
	tapEvent := func(key, token string) CardEvent {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := tapCodes[key]; !ok {
			tapCodes[key] = b.f.IssueResponseCode()
			tapTimes[key] = b.clk.Now().Unix()
		}
		return CardEvent{To: b.cfg.CorpID, From: "zhangwei", EventKey: "ll:checkin::" + token, TaskID: taskID(key),
			CardType: cardButtonInteraction, ResponseCode: tapCodes[key], CreateTime: tapTimes[key], AgentID: b.cfg.AgentID}
	}
	request := func(query, body string) *http.Request {
		req := httptest.NewRequest(http.MethodPost, CallbackPath, strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", "text/xml")
		return req
	}
	lastToken := func() string {
		toks := b.f.Tokens()
		if len(toks) == 0 {
			return ""
		}
		return toks[len(toks)-1]
	}
	return &kittest.Setup{
		Messenger: b.c,
		To:        bot.Recipient{UserID: "zhangwei"},
		Sent:      func() int { return len(b.f.Cards()) },
		Card:      card,
		Faults: []kittest.Fault{
			{Name: "HTTP 502 from a proxy", Inject: func() { b.f.Fail(pathSend, Fault{Status: http.StatusBadGateway}) }, Want: kittest.Transient},
			{Name: "errcode -1 system busy", Inject: func() { b.f.Fail(pathSend, Fault{ErrCode: codeBusy}) }, Want: kittest.Transient},
			{Name: "errcode 45009 frequency limit", Inject: func() { b.f.Fail(pathSend, Fault{ErrCode: codeFreqLimit}) }, Want: kittest.Transient},
			{Name: "token refused twice", Inject: func() {
				b.f.Fail(pathSend, Fault{ErrCode: codeInvalidToken}, Fault{ErrCode: codeInvalidToken})
			}, Want: kittest.Transient},
			{Name: "token refused once", Inject: func() { b.f.Fail(pathSend, Fault{ErrCode: codeTokenExpired}) }, Want: kittest.Sent},
			{Name: "errcode 81013 unknown user", Inject: func() { b.f.Fail(pathSend, Fault{ErrCode: codeAllInvalidUser}) }, Want: kittest.Permanent},
			{Name: "errcode 40058 bad parameter", Inject: func() { b.f.Fail(pathSend, Fault{ErrCode: wecomtest.CodeInvalidParam}) }, Want: kittest.Permanent},
		},
		Secrets: []string{b.cfg.Secret, b.cfg.EncodingAESKey, b.cfg.Token},
		Tokens:  b.f.Tokens,
		Logs:    b.log.String,
		Echo: func() {
			msg := "invalid access_token=" + lastToken() + " for corpsecret " + b.cfg.Secret + " key " + b.cfg.EncodingAESKey
			b.f.Fail(pathSend, Fault{ErrCode: wecomtest.CodeInvalidParam, ErrMsg: msg})
			b.f.Fail(pathUpdate, Fault{ErrCode: wecomtest.CodeInvalidParam, ErrMsg: msg})
		},
		Callback: &kittest.Callback{
			Handler: b.c.CallbackHandler,
			Tap: func(t *testing.T, key, token string) *http.Request {
				ev := tapEvent(key, token)
				q, body := SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), ev.XML())
				mu.Lock()
				sentAt[key] = time.Now()
				mu.Unlock()
				return request(q, body)
			},
			// WeCom takes the card's update in the callback's answer (a
			// passive reply): the fake reads it as WeCom does.
			Shown: func(t *testing.T, key string, answer *httptest.ResponseRecorder) string {
				mu.Lock()
				sent := sentAt[key]
				mu.Unlock()
				ev := tapEvent(key, "") // the tapper, card type and response_code of that tap
				require.NoError(t, b.f.Answer(b.cfg, ev, sent, answer.Code, answer.Body.Bytes()))
				return card(key)
			},
			Forgeries: func(t *testing.T, key, token string) map[string]*http.Request {
				ev := tapEvent(key, token).XML()
				q, body := SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), ev)
				stale, staleBody := SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now().Add(-10*time.Minute), ev)
				other, otherBody := SignedCallback(b.cfg, "wwanothercorp", b.clk.Now(), ev)
				wrongKey := b.cfg
				wrongKey.Token = "not-the-token"
				forged, forgedBody := SignedCallback(wrongKey, b.cfg.CorpID, b.clk.Now(), ev)
				i := strings.Index(body, "<Encrypt><![CDATA[") + len("<Encrypt><![CDATA[") + 5
				tampered := body[:i] + string(rune('A'+(body[i]-'A'+1)%26)) + body[i+1:]
				return map[string]*http.Request{
					"signed with another token": request(forged, forgedBody),
					"stale timestamp":           request(stale, staleBody),
					"another corp's receive id": request(other, otherBody),
					"tampered ciphertext":       request(q, tampered),
					"no signature":              request(strings.Replace(q, "msg_signature=", "x=", 1), body),
				}
			},
		},
	}
}
