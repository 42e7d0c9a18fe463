package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"
	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/wecom/wecomtest"
)

type fakeClient struct {
	t   *testing.T
	url string
	hc  *http.Client
}

func newFake(t *testing.T, cfg Config) (*Fake, *fakeClient) {
	t.Helper()
	if cfg.CorpID == "" {
		cfg.CorpID, cfg.Secret, cfg.AgentID = "wwcorp", "sec", 1000002
	}
	f := New(cfg)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, &fakeClient{t: t, url: srv.URL, hc: &http.Client{Timeout: 5 * time.Second}}
}

func (c *fakeClient) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(c.t, err)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	require.NoError(c.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json;charset=utf-8")
	}
	resp, err := c.hc.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (c *fakeClient) token() string {
	c.t.Helper()
	_, out := c.do(http.MethodGet, "/cgi-bin/gettoken?corpid=wwcorp&corpsecret=sec", nil)
	tok, _ := out["access_token"].(string)
	require.NotEmpty(c.t, tok, "%v", out)
	return tok
}

func (c *fakeClient) control(form url.Values) int {
	c.t.Helper()
	resp, err := c.hc.PostForm(c.url+"/control", form)
	require.NoError(c.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func checkinCard(task, title string) map[string]any {
	return map[string]any{"card_type": "button_interaction", "task_id": task, "main_title": map[string]any{"title": title},
		"button_list": []map[string]any{{"type": 0, "text": "签到", "key": "ll:checkin::tok"}}}
}

func msg(to string, agent int64, card map[string]any) map[string]any {
	return map[string]any{"touser": to, "msgtype": "template_card", "agentid": agent, "template_card": card}
}

func errcode(out map[string]any) int64 {
	v, _ := out["errcode"].(float64)
	return int64(v)
}

// TestFakeEnforces checks that the fake refuses what WeCom refuses, with
// WeCom's errcodes, and counts only what it accepted.
func TestFakeEnforces(t *testing.T) {
	t.Parallel()
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f, c := newFake(t, Config{CorpID: "wwcorp", Secret: "sec", AgentID: 1000002, Members: []string{"u1", "u2", "U3"}, Now: clock})
	_, out := c.do(http.MethodGet, "/cgi-bin/gettoken?corpid=wwcorp&corpsecret=nope", nil)
	require.EqualValues(t, wecomtest.CodeInvalidSecret, errcode(out))
	_, out = c.do(http.MethodGet, "/cgi-bin/gettoken?corpid=other&corpsecret=sec", nil)
	require.EqualValues(t, wecomtest.CodeInvalidCorpID, errcode(out))
	tok := c.token()
	send := "/cgi-bin/message/send?access_token="
	tests := []struct {
		name string
		path string
		body map[string]any
		want int64
	}{
		{"accepted", send + tok, msg("u1", 1000002, checkinCard("ll-1-0-1", "签到")), 0},
		{"no token", send, msg("u1", 1000002, checkinCard("ll-1-0-2", "签到")), wecomtest.CodeTokenMissing},
		{"unknown token", send + "nope", msg("u1", 1000002, checkinCard("ll-1-0-2", "签到")), wecomtest.CodeInvalidToken},
		{"wrong agent", send + tok, msg("u1", 7, checkinCard("ll-1-0-2", "签到")), wecomtest.CodeInvalidAgent},
		{"no touser", send + tok, msg("", 1000002, checkinCard("ll-1-0-2", "签到")), wecomtest.CodeUserListLength},
		{"task_id reused", send + tok, msg("u2", 1000002, checkinCard("ll-1-0-1", "签到")), wecomtest.CodeTaskIDExists},
		{"task_id empty", send + tok, msg("u2", 1000002, checkinCard("", "签到")), wecomtest.CodeTaskIDExists},
		{"task_id of 129 bytes", send + tok, msg("u2", 1000002, checkinCard(strings.Repeat("x", 129), "签到")), wecomtest.CodeTaskIDExists},
		{"not a member", send + tok, msg("zz", 1000002, checkinCard("ll-1-0-3", "签到")), wecomtest.CodeAllInvalidUsers},
		{"same card kind again, new task_id", send + tok, msg("u1", 1000002, checkinCard("ll-1-0-9", "签到")), 0},
		{"upper-case member", send + tok, msg("U3", 1000002, checkinCard("ll-1-0-4", "签到")), 0},
	}
	for _, tc := range tests {
		_, out := c.do(http.MethodPost, tc.path, tc.body)
		require.Equal(t, tc.want, errcode(out), "%s: %v", tc.name, out)
	}
	st := f.Snapshot()
	require.Equal(t, 3, st.Accepted)
	require.Equal(t, map[string]int{"u1": 2, "u3": 1}, st.PerToUser)
	require.Equal(t, 1, st.Duplicates, "u1 got the same card kind twice")
	require.Equal(t, []string{"u1"}, st.DuplicateUsers)
	require.Equal(t, 3, st.Rejections["errcode_42014"], "reused, empty and too long")

	// Tokens expire after 7200 s.
	mu.Lock()
	now = now.Add(wecomtest.TokenTTL)
	mu.Unlock()
	_, out = c.do(http.MethodPost, send+tok, msg("u2", 1000002, checkinCard("ll-1-0-5", "签到")))
	require.EqualValues(t, wecomtest.CodeTokenExpired, errcode(out))
}

// TestFakeUpdate checks single-use response codes.
func TestFakeUpdate(t *testing.T) {
	t.Parallel()
	f, c := newFake(t, Config{})
	tok := c.token()
	_, out := c.do(http.MethodPost, "/cgi-bin/message/send?access_token="+tok, msg("u1", 1000002, checkinCard("t1", "签到")))
	require.EqualValues(t, 0, errcode(out))
	code, _ := out["response_code"].(string)
	require.NotEmpty(t, code)
	upd := func(code string) int64 {
		_, out := c.do(http.MethodPost, "/cgi-bin/message/update_template_card?access_token="+tok,
			map[string]any{"userids": []string{"u1"}, "agentid": 1000002, "response_code": code, "button": map[string]any{"replace_name": "已签到"}})
		return errcode(out)
	}
	require.EqualValues(t, 0, upd(code))
	require.EqualValues(t, wecomtest.CodeUsedRespCode, upd(code), "a response_code is single use")
	_, out = c.do(http.MethodPost, "/response_code", nil)
	require.EqualValues(t, 0, upd(out["response_code"].(string)))
	require.Equal(t, 2, f.Snapshot().Updates)
}

// TestFakeModes checks the fault modes and that bad control input changes
// nothing.
func TestFakeModes(t *testing.T) {
	t.Parallel()
	f, c := newFake(t, Config{Hold: 300 * time.Millisecond})
	tok := c.token()
	send := "/cgi-bin/message/send?access_token=" + tok

	require.Equal(t, http.StatusBadRequest, c.control(url.Values{"mode": {"teapot"}}))
	require.Equal(t, http.StatusBadRequest, c.control(url.Values{"mode": {"slow"}}))
	require.Equal(t, http.StatusBadRequest, c.control(url.Values{"mode": {"503"}, "for": {"-1s"}}))
	require.Equal(t, ModeOK, f.state().Mode)

	require.Equal(t, http.StatusOK, c.control(url.Values{"mode": {"503"}}))
	status, _ := c.do(http.MethodPost, send, msg("u1", 1000002, checkinCard("m1", "签到")))
	require.Equal(t, http.StatusServiceUnavailable, status)

	require.Equal(t, http.StatusOK, c.control(url.Values{"mode": {"ratelimit"}, "for": {"200ms"}}))
	_, out := c.do(http.MethodPost, send, msg("u1", 1000002, checkinCard("m1", "签到")))
	require.EqualValues(t, wecomtest.CodeFreqLimit, errcode(out))
	require.Eventually(t, func() bool { return f.state().Mode == ModeOK }, 5*time.Second, 10*time.Millisecond, "the window reverts")
	_, out = c.do(http.MethodPost, send, msg("u1", 1000002, checkinCard("m1", "签到")))
	require.EqualValues(t, 0, errcode(out), "refused calls did not use the task_id")

	// timeout: the client gives up, the card is delivered anyway.
	require.Equal(t, http.StatusOK, c.control(url.Values{"mode": {"timeout"}}))
	short := &http.Client{Timeout: 100 * time.Millisecond}
	req, _ := http.NewRequest(http.MethodPost, c.url+send, strings.NewReader(`{"touser":"u2","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"button_interaction","task_id":"m2","main_title":{"title":"签到"},"button_list":[{"type":0,"text":"签到","key":"k"}]}}`))
	req.Header.Set("Content-Type", "application/json")
	_, err := short.Do(req)
	require.Error(t, err, "the client times out")
	require.Eventually(t, func() bool { return f.Snapshot().HeldAccepted == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, http.StatusOK, c.control(url.Values{"mode": {"slow"}, "latency": {"50ms"}}))
	start := time.Now()
	_, out = c.do(http.MethodPost, send, msg("u2", 1000002, checkinCard("m2", "签到")))
	require.EqualValues(t, wecomtest.CodeTaskIDExists, errcode(out), "the held card's task_id is taken")
	require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	st := f.Snapshot()
	require.Equal(t, map[string]int{"u1": 1, "u2": 1}, st.PerToUser)
	require.Equal(t, 1, st.Rejections["http_503"])
	require.Equal(t, 1, st.Rejections["errcode_45009"])
}

// passiveReply seals plain as a passive reply for corp with token and key.
func passiveReply(t *testing.T, corp, token, key, plain string) string {
	t.Helper()
	random := make([]byte, 16)
	enc, err := util.EncryptMsg(random, []byte(plain), corp, key)
	require.NoError(t, err)
	ts, nonce := "1772413200", "n0nce"
	return "<xml><Encrypt><![CDATA[" + string(enc) + "]]></Encrypt><MsgSignature><![CDATA[" + util.Signature(token, ts, nonce, string(enc)) +
		"]]></MsgSignature><TimeStamp>" + ts + "</TimeStamp><Nonce><![CDATA[" + nonce + "]]></Nonce></xml>"
}

func TestPassiveAnswers(t *testing.T) {
	t.Parallel()
	const (
		token = "tkpassive"
		key   = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
		other = "kWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	)
	f, c := newFake(t, Config{CorpID: "wwcorp", Secret: "sec", AgentID: 1000002, Token: token, EncodingAESKey: key})
	head := func(to, msgType string) string {
		return "<xml><ToUserName><![CDATA[" + to + "]]></ToUserName><FromUserName><![CDATA[wwcorp]]></FromUserName><CreateTime>1772413200</CreateTime>" +
			"<MsgType><![CDATA[" + msgType + "]]></MsgType>"
	}
	button := head("u1", "update_button") + "<Button><ReplaceName><![CDATA[已签到 09:02 ✓]]></ReplaceName></Button></xml>"
	whole := func(buttons int) string {
		s := head("u1", "update_template_card") + "<TemplateCard><CardType><![CDATA[button_interaction]]></CardType><MainTitle><Title><![CDATA[签到]]></Title></MainTitle><TaskId><![CDATA[ll-1-0-1]]></TaskId>"
		for range buttons {
			s += "<ButtonList><Type>0</Type><Text><![CDATA[签到]]></Text><Style>1</Style><Key><![CDATA[ll:checkin::t]]></Key></ButtonList>"
		}
		return s + "</TemplateCard></xml>"
	}
	tests := []struct {
		name    string
		a       Answer
		updated bool
		err     string
	}{
		{"update_button", Answer{ToUser: "u1", CardType: "button_interaction", Status: 200, Body: passiveReply(t, "wwcorp", token, key, button)}, true, ""},
		{"update_template_card", Answer{ToUser: "u1", CardType: "button_interaction", Status: 200, Body: passiveReply(t, "wwcorp", token, key, whole(1))}, true, ""},
		{"empty answer", Answer{ToUser: "u1", CardType: "button_interaction", Status: 200}, false, ""},
		{"a 5xx is not read", Answer{ToUser: "u1", CardType: "button_interaction", Status: 503, Body: "x"}, false, ""},
		{"too late", Answer{ToUser: "u1", CardType: "button_interaction", Status: 200, TookMS: 5100, Body: passiveReply(t, "wwcorp", token, key, button)}, false, "stopped waiting"},
		{"signed with another token", Answer{ToUser: "u1", CardType: "button_interaction", Status: 200, Body: passiveReply(t, "wwcorp", "nope", key, button)}, false, "msg_signature"},
		{"another EncodingAESKey", Answer{ToUser: "u1", CardType: "button_interaction", Status: 200, Body: passiveReply(t, "wwcorp", token, other, button)}, false, "passive reply"},
		{"another receive id", Answer{ToUser: "u1", CardType: "button_interaction", Status: 200, Body: passiveReply(t, "wwother", token, key, button)}, false, "passive reply"},
		{"to someone else", Answer{ToUser: "u2", CardType: "button_interaction", Status: 200, Body: passiveReply(t, "wwcorp", token, key, button)}, false, "the tap came from"},
		{"a text to a tap", Answer{ToUser: "u1", CardType: "button_interaction", Status: 200, Body: passiveReply(t, "wwcorp", token, key, head("u1", "text")+"<Content>hi</Content></xml>")}, false, "not update_button"},
		{"update_button on a text_notice", Answer{ToUser: "u1", CardType: "text_notice", Status: 200, Body: passiveReply(t, "wwcorp", token, key, button)}, false, "only cards with buttons"},
		{"seven buttons", Answer{ToUser: "u1", CardType: "button_interaction", Status: 200, Body: passiveReply(t, "wwcorp", token, key, whole(7))}, false, "errcode 40016"},
		{"not XML", Answer{ToUser: "u1", CardType: "button_interaction", Status: 200, Body: "success"}, false, "is not <xml>"},
	}
	for _, tc := range tests {
		code, out := c.do(http.MethodPost, "/passive", tc.a)
		require.Equal(t, http.StatusOK, code, tc.name)
		require.Equal(t, tc.updated, out["updated"], "%s: %v", tc.name, out)
		if tc.err == "" {
			require.Nil(t, out["error"], tc.name)
		} else {
			require.Contains(t, out["error"], tc.err, tc.name)
		}
	}
	st := f.Snapshot()
	require.Equal(t, 2, st.PassiveUpdates)
	require.Equal(t, 9, st.Rejections["passive_refused"])

	// Without the callback keys the fake cannot read answers.
	_, c2 := newFake(t, Config{})
	code, _ := c2.do(http.MethodPost, "/passive", Answer{ToUser: "u1", Status: 200})
	require.Equal(t, http.StatusNotImplemented, code)
}
