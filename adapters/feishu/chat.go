package feishu

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher"
	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/cut"
)

// Text messages to the bot arrive as the event im.message.receive_v1
// (事件订阅; permission im:message.p2p_msg:readonly), over the HTTP callback or
// the long connection, verified like card taps. The answer goes back with
// the IM reply API (POST /open-apis/im/v1/messages/{message_id}/reply) as a
// text message in the same chat. Events, unlike card callbacks, are sent
// again when not acknowledged: a message the chat service could not store
// is answered with an error so that Feishu redelivers it.

const eventMessageReceive = "im.message.receive_v1"

// maxTextBytes bounds the text of one reply (Feishu allows 150 KB).
const maxTextBytes = 8 << 10

// inboundMessage is a text message event, with the sender's ids.
type inboundMessage struct {
	openID, userID, unionID string
	messageID, chatType     string
	text                    string
	at                      time.Time
}

// messageEvent is the event of an im.message.receive_v1.
type messageEvent struct {
	Sender struct {
		SenderID struct {
			OpenID  string `json:"open_id"`
			UserID  string `json:"user_id"`
			UnionID string `json:"union_id"`
		} `json:"sender_id"`
		SenderType string `json:"sender_type"`
	} `json:"sender"`
	Message struct {
		MessageID   string `json:"message_id"`
		CreateTime  string `json:"create_time"`
		ChatType    string `json:"chat_type"`
		MessageType string `json:"message_type"`
		Content     string `json:"content"`
	} `json:"message"`
}

// mentionRE matches the placeholders Feishu puts for @mentions.
var mentionRE = regexp.MustCompile(`@_user_\d+`)

// parseMessageEvent decodes a verified im.message.receive_v1. A message
// that is not text keeps an empty text (the bot answers it with the help).
func parseMessageEvent(raw json.RawMessage, now time.Time) (*inboundMessage, error) {
	var ev messageEvent
	if len(raw) == 0 || json.Unmarshal(raw, &ev) != nil {
		return nil, malformed("message event is not an object")
	}
	s := ev.Sender.SenderID
	if s.OpenID == "" && s.UserID == "" && s.UnionID == "" {
		return nil, malformed("message event without sender")
	}
	if ev.Message.MessageID == "" || len(ev.Message.MessageID) > 128 {
		return nil, malformed("message event without message_id")
	}
	m := &inboundMessage{openID: s.OpenID, userID: s.UserID, unionID: s.UnionID, messageID: ev.Message.MessageID,
		chatType: ev.Message.ChatType, at: eventTime(ev.Message.CreateTime, now)}
	if ev.Sender.SenderType != "" && ev.Sender.SenderType != "user" {
		m.chatType = "" // an app's own message: not for the bot to answer
	}
	if ev.Message.MessageType == larkim.MsgTypeText {
		var c struct {
			Text string `json:"text"`
		}
		if json.Unmarshal([]byte(ev.Message.Content), &c) != nil {
			return nil, malformed("text message content is not JSON")
		}
		m.text = strings.TrimSpace(mentionRE.ReplaceAllString(c.Text, ""))
	}
	return m, nil
}

// takeMessage hands a one-to-one message to the chat service once per
// message id and sends its answer with the reply API. false means the
// message was not stored and Feishu should send it again.
func (c *Client) takeMessage(ctx context.Context, h bot.InteractionHandler, req *request) bool {
	th := bot.TextHandlerOf(h)
	m := req.message
	if th == nil || m.chatType != "p2p" {
		return true // group chats and apps' messages are not commands: acknowledged
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callbackBudget)
	defer cancel()
	_, shared, err := c.msgSeen.Do(ctx, m.messageID, func() (struct{}, error) {
		uid, err := c.operatorID(ctx, &cardAction{openID: m.openID, userID: m.userID, unionID: m.unionID})
		if err != nil {
			return struct{}{}, err
		}
		reply, err := th.HandleText(ctx, bot.InboundText{Platform: bot.PlatformFeishu, UserID: uid, MessageID: m.messageID, Text: m.text, At: m.at, ReplyTo: m.messageID})
		if err != nil || reply.Duplicate {
			return struct{}{}, err
		}
		if err := c.Reply(ctx, m.messageID, reply); err != nil {
			// Stored: a redelivery would be a duplicate, so the answer is
			// not retried; the person can ask again.
			c.log.WarnContext(ctx, "feishu chat answer not sent", "message", m.messageID, "err", err)
		}
		return struct{}{}, nil
	})
	if err != nil {
		c.log.WarnContext(ctx, "feishu text message not handled; Feishu will send it again", "event", req.eventID, "err", c.scrub(err))
		return false
	}
	c.log.InfoContext(ctx, "feishu text message", "event", req.eventID, "duplicate", shared)
	return true
}

// Reply answers the message messageID with the chat reply as a text
// message in the same chat (im/v1 messages/{id}/reply), de-duplicated by
// Feishu on a uuid derived from the message id.
func (c *Client) Reply(ctx context.Context, messageID string, r bot.ChatReply) error {
	content, err := json.Marshal(map[string]string{"text": cut.Bytes(r.Plain(), maxTextBytes)})
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte("reply:" + messageID))
	body := larkim.NewReplyMessageReqBodyBuilder().MsgType(larkim.MsgTypeText).Content(string(content)).Uuid(hex.EncodeToString(sum[:16])).Build()
	return c.call(ctx, "reply message", "m:"+messageID, func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
		req := larkim.NewReplyMessageReqBuilder().MessageId(messageID).Body(body).Build()
		resp, err := c.sdk.Im.V1.Message.Reply(ctx, req, opt)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		return resp.ApiResp, resp.CodeError, nil
	})
}

// onMessageEvents registers im.message.receive_v1 with the long
// connection's dispatcher: the same parsing and de-duplication as HTTP; an
// error makes the SDK answer a failure, so that Feishu sends it again.
func (c *Client) onMessageEvents(d *dispatcher.EventDispatcher, h bot.InteractionHandler) {
	if bot.TextHandlerOf(h) == nil {
		return
	}
	d.OnP2MessageReceiveV1(func(ctx context.Context, ev *larkim.P2MessageReceiveV1) error {
		var body []byte
		if ev != nil && ev.EventReq != nil {
			body = ev.EventReq.Body
		}
		req, err := c.parseEnvelope(body, c.now(), false)
		if err == nil && req.kind != kindMessage {
			err = malformed("not a message event")
		}
		if err != nil {
			c.log.WarnContext(ctx, "feishu long-connection event refused", "reason", err.Error())
			return nil
		}
		if !c.takeMessage(ctx, h, req) {
			return errNotHandled
		}
		return nil
	})
}

var errNotHandled = malformed("text message not handled")
