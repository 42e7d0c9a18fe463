package wecom

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit/kittest"
	"github.com/learnloop/learnloop/adapters/wecom/wecomtest"
	"github.com/learnloop/learnloop/bot"
)

// TextEvent is a decrypted text message as WeCom sends it (path/90239).
type TextEvent struct {
	To, From, Content, MsgID string
	CreateTime, AgentID      int64
}

// XML renders the message as WeCom's XML.
func (e TextEvent) XML() string {
	return fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime>"+
		"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%s</MsgId><AgentID>%d</AgentID></xml>",
		e.To, e.From, e.CreateTime, e.Content, e.MsgID, e.AgentID)
}

// Passive is a passive reply as WeCom reads it.
type Passive struct {
	ToUserName, FromUserName, MsgType, Content string
	CreateTime                                 int64
}

// OpenPassiveReply checks an encrypted Passive reply the way WeCom does —
// the outer XML, the signature over the token, timestamp, nonce and
// ciphertext, decryption with the SDK for the corp, a text of at most 2048
// bytes — and returns the message.
func OpenPassiveReply(t *testing.T, cfg Config, body []byte) Passive {
	t.Helper()
	plain, err := wecomtest.OpenPassive(cfg.Token, cfg.EncodingAESKey, cfg.CorpID, body)
	require.NoError(t, err, "WeCom drops a reply it cannot open: %s", body)
	var p Passive
	require.NoError(t, xml.Unmarshal(plain, &p))
	require.Equal(t, "text", p.MsgType)
	require.LessOrEqual(t, len(p.Content), 2048)
	return p
}

// texter is a TextHandler (and InteractionHandler) that counts and keeps
// what it got.
type texter struct {
	recorder
	kittest.Texts
}

func TestTextMessageIsAnsweredWithAPassiveReply(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	x := &texter{Texts: kittest.Texts{Answer: func(bot.InboundText) (bot.ChatReply, error) {
		return bot.ChatReply{Text: "已签到 10:05 ·《高效沟通》", Links: []bot.ChatLink{{Text: "问卷", URL: "https://learn.example.com/s/x"}}}, nil
	}}}
	h := b.c.CallbackHandler(x)
	ev := TextEvent{To: b.cfg.CorpID, From: "zhangwei", Content: "签到", MsgID: "7300000000000000001", CreateTime: b.clk.Now().Unix(), AgentID: b.cfg.AgentID}
	var first []byte
	// WeCom retries a message it had no answer to; each retry is re-signed.
	for i := range 3 {
		q, body := SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), ev.XML())
		rec := post(h, q, body)
		require.Equal(t, http.StatusOK, rec.Code)
		p := OpenPassiveReply(t, b.cfg, rec.Body.Bytes())
		require.Equal(t, "zhangwei", p.ToUserName)
		require.Equal(t, b.cfg.CorpID, p.FromUserName)
		require.Equal(t, "已签到 10:05 ·《高效沟通》\n问卷：https://learn.example.com/s/x", p.Content)
		if i == 0 {
			first = rec.Body.Bytes()
		}
		b.clk.Advance(2 * time.Second)
	}
	require.NotEmpty(t, first)
	require.EqualValues(t, 1, x.Calls(), "the chat service sees the message once")
	require.Equal(t, bot.InboundText{Platform: bot.PlatformWeCom, UserID: "zhangwei", MessageID: ev.MsgID, Text: "签到", At: time.Unix(ev.CreateTime, 0).UTC()}, x.Got()[0])
	require.Zero(t, x.calls.Load(), "a text message is not a tap")
	require.Empty(t, b.f.Cards(), "a Passive reply needs no send call")
}

func TestTextMessageRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	x := &texter{}
	h := b.c.CallbackHandler(x)
	ev := TextEvent{To: b.cfg.CorpID, From: "zhangwei", Content: "帮助", MsgID: "7300000000000000002", CreateTime: b.clk.Now().Unix(), AgentID: b.cfg.AgentID}
	forged := b.cfg
	forged.Token = "not-the-token"
	other := b.cfg
	other.EncodingAESKey = randomAESKey()
	cases := []struct {
		name string
		req  func() (string, string)
		code int
	}{
		{"forged signature", func() (string, string) { return SignedCallback(forged, b.cfg.CorpID, b.clk.Now(), ev.XML()) }, http.StatusForbidden},
		{"another corp's receive id", func() (string, string) { return SignedCallback(b.cfg, "other-corp", b.clk.Now(), ev.XML()) }, http.StatusBadRequest},
		{"another key", func() (string, string) { return SignedCallback(other, b.cfg.CorpID, b.clk.Now(), ev.XML()) }, http.StatusBadRequest},
		{"stale timestamp", func() (string, string) {
			return SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now().Add(-time.Hour), ev.XML())
		}, http.StatusBadRequest},
	}
	for _, c := range cases {
		q, body := c.req()
		rec := post(h, q, body)
		require.Equal(t, c.code, rec.Code, c.name)
		require.NotContains(t, rec.Body.String(), "Encrypt", c.name)
	}
	require.Zero(t, x.Calls(), "nothing refused reaches the chat service")

	// Another app's message is acknowledged and dropped.
	o := ev
	o.AgentID = b.cfg.AgentID + 1
	q, body := SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), o.XML())
	rec := post(h, q, body)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Empty(t, rec.Body.String())
	require.Zero(t, x.Calls())

	// A handler that does not answer text: acknowledged, nothing sent.
	q, body = SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), ev.XML())
	rec = post(b.c.CallbackHandler(&recorder{}), q, body)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Empty(t, rec.Body.String())
}

func TestTextMessageFailureAndDuplicate(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	fail := true
	x := &texter{Texts: kittest.Texts{Answer: func(in bot.InboundText) (bot.ChatReply, error) {
		if fail {
			fail = false
			return bot.ChatReply{}, errors.New("database is down")
		}
		if in.MessageID == "handled-elsewhere" {
			return bot.ChatReply{Duplicate: true}, nil
		}
		return bot.ChatReply{Text: strings.Repeat("好", 1000)}, nil
	}}}
	h := b.c.CallbackHandler(x)
	const hold = 200 * time.Millisecond
	h.(*callbackHandler).failHold = hold
	ev := TextEvent{To: b.cfg.CorpID, From: "zhangwei", Content: "我的课程", MsgID: "7300000000000000003", CreateTime: b.clk.Now().Unix(), AgentID: b.cfg.AgentID}
	q, body := SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), ev.XML())
	start := time.Now()
	require.Equal(t, http.StatusInternalServerError, post(h, q, body).Code, "never a silent success")
	require.GreaterOrEqual(t, time.Since(start), hold, "answered after WeCom stopped waiting, so that it retries")
	q, body = SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), ev.XML())
	rec := post(h, q, body)
	require.Equal(t, http.StatusOK, rec.Code)
	p := OpenPassiveReply(t, b.cfg, rec.Body.Bytes())
	require.Equal(t, strings.Repeat("好", 682), p.Content, "cut to 2048 bytes on a character boundary")
	// A message another replica handled: an empty answer stops the retries.
	ev.MsgID = "handled-elsewhere"
	q, body = SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), ev.XML())
	rec = post(h, q, body)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Empty(t, rec.Body.String())
	require.NotContains(t, b.log.String(), b.cfg.EncodingAESKey)
}
