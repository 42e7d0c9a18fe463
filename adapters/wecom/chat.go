package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/bot"
)

// Inbound text messages (接收消息, path/90239) arrive encrypted on the same
// callback URL as card taps, with the same signature and timestamp checks.
// They are answered with an encrypted passive reply (被动回复, path/90241)
// in the callback's own answer: no access token, no send quota, and the
// answer arrives in the chat the message came from. The chat service
// answers within WeCom's 5 s wait; a message it could not handle is
// answered after that wait (like a tap), so WeCom sends it again.

// maxReplyBytes bounds a passive text reply: WeCom accepts text messages
// of up to 2048 bytes.
const maxReplyBytes = 2048

// textMessage is a decrypted text message's own fields (beside event's).
type textMessage struct {
	Content string `xml:"Content" json:"Content"`
	MsgID   msgID  `xml:"MsgId" json:"MsgId"`
}

// msgID is a MsgId as text: XML carries digits, JSON a number or a string.
type msgID string

// UnmarshalJSON implements json.Unmarshaler.
func (m *msgID) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*m = msgID(n.String())
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*m = msgID(s)
	return nil
}

// parseText turns a decrypted MsgType=text callback into an InboundText;
// ok is false for another app's message.
func (c *Client) parseText(plain []byte, ev event) (bot.InboundText, bool, error) {
	if ev.AgentID != 0 && ev.AgentID != c.cfg.AgentID {
		return bot.InboundText{}, false, nil
	}
	var m textMessage
	if err := decode(plain, &m); err != nil {
		return bot.InboundText{}, false, errors.New("wecom: text message is not a WeCom message")
	}
	if ev.FromUserName == "" || len(ev.FromUserName) > 64 {
		return bot.InboundText{}, false, errors.New("wecom: text message has no valid FromUserName")
	}
	if len(m.MsgID) > 64 || !utf8.ValidString(m.Content) {
		return bot.InboundText{}, false, errors.New("wecom: text message has an invalid MsgId or content")
	}
	in := bot.InboundText{Platform: bot.PlatformWeCom, UserID: ev.FromUserName, MessageID: string(m.MsgID), Text: m.Content}
	if ev.CreateTime > 0 {
		in.At = time.Unix(ev.CreateTime, 0).UTC()
	}
	if in.MessageID == "" {
		// Every text message carries a MsgId; without one, the sender and
		// the second it was sent identify it across WeCom's retries.
		in.MessageID = "t:" + ev.FromUserName + ":" + strconv.FormatInt(ev.CreateTime, 10)
	}
	return in, true, nil
}

// textMessage answers one verified text message with an encrypted passive
// reply, handing it to the chat service once per MsgId (a redelivery to this
// replica shares the first run's answer; one to another replica is
// recognised by the chat service and answered empty).
func (cb *callbackHandler) textMessage(w http.ResponseWriter, r *http.Request, start time.Time, in bot.InboundText) {
	th := bot.TextHandlerOf(cb.h)
	if th == nil {
		w.WriteHeader(http.StatusOK) // text is not handled here: acknowledge
		return
	}
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(r.Context()), handleTimeout+time.Second)
	reply, shared, err := cb.c.textSeen.Do(wctx, "msg:"+in.UserID+":"+in.MessageID, func() (bot.ChatReply, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), handleTimeout)
		defer cancel()
		return th.HandleText(ctx, in)
	})
	wcancel()
	if err != nil {
		if !shared {
			cb.c.log.Warn("wecom text message not handled; WeCom will retry", "user", in.UserID, "err", cb.c.redactor.Error(err))
		}
		cb.hold(r.Context(), start)
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	if reply.Duplicate {
		w.WriteHeader(http.StatusOK) // handled on another replica
		return
	}
	body, err := cb.c.sealPassive(cb.c.passiveText(in.UserID, reply.Plain()))
	if err != nil {
		cb.c.log.Error("wecom passive reply not built", "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	cb.c.log.Info("wecom text message", "user", in.UserID, "shared", shared)
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = w.Write(body)
}

// textSeenCap bounds the in-memory record of text messages handled.
const textSeenCap = 50_000

func newTextSeen(now func() time.Time) *kit.Dedup[bot.ChatReply] {
	return kit.NewDedup[bot.ChatReply](10*time.Minute, textSeenCap, now)
}
