package dingtalk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/handler"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/text"
)

// Text messages to the app's robot (机器人, 消息接收模式 Stream) arrive over
// the same authenticated Stream connection as card taps, on the topic
// BotMessageTopic. The answer goes back through the message's
// sessionWebhook (a short-lived URL DingTalk puts in each message; no
// token, no send quota), as a text message in the same chat. DingTalk does
// not redeliver robot messages, so a message the chat service could not
// store is answered with "请稍后再发一次" rather than an error.

// BotMessageTopic is the Stream topic of messages sent to the robot.
const BotMessageTopic = payload.BotMessageCallbackTopic

// chatTimeout bounds the chat service's work and the answer on one message.
const chatTimeout = 8 * time.Second

// maxChatReply bounds the text of one answer (DingTalk accepts 20,000
// bytes in a text message).
const maxChatReply = 8 << 10

// robotMessage is the data of a robot message frame.
type robotMessage struct {
	MsgID            string `json:"msgId"`
	MsgType          string `json:"msgtype"`
	ConversationType string `json:"conversationType"` // "1" one-to-one, "2" group
	SenderStaffID    string `json:"senderStaffId"`
	RobotCode        string `json:"robotCode"`
	CreateAt         int64  `json:"createAt"`
	SessionWebhook   string `json:"sessionWebhook"`
	WebhookExpires   int64  `json:"sessionWebhookExpiredTime"`
	Text             struct {
		Content string `json:"content"`
	} `json:"text"`
}

// botFrameHandler turns robot message frames into InboundText for th and
// answers each through its sessionWebhook, once per msgId.
func (c *Client) botFrameHandler(th bot.TextHandler) handler.IFrameHandler {
	return func(ctx context.Context, df *payload.DataFrame) (*payload.DataFrameResponse, error) {
		var m robotMessage
		if err := json.Unmarshal([]byte(df.Data), &m); err != nil || m.SenderStaffID == "" || len(m.SenderStaffID) > 128 {
			c.log.Warn("dingtalk robot message dropped", "message_id", df.GetMessageId(), "reason", "not a robot message from a member")
			return payload.NewSuccessDataFrameResponse(), nil
		}
		if m.RobotCode != "" && m.RobotCode != c.cfg.RobotCode {
			return payload.NewSuccessDataFrameResponse(), nil // another robot's
		}
		if m.ConversationType != "1" {
			return payload.NewSuccessDataFrameResponse(), nil // group chats are not commands
		}
		if m.MsgID == "" {
			m.MsgID = df.GetMessageId()
		}
		if m.MsgID == "" {
			sum := sha256.Sum256([]byte(df.Data))
			m.MsgID = "h:" + hex.EncodeToString(sum[:16])
		}
		in := bot.InboundText{Platform: bot.PlatformDingTalk, UserID: m.SenderStaffID, MessageID: m.MsgID, ReplyTo: m.SessionWebhook}
		if m.MsgType == "text" {
			in.Text = strings.TrimSpace(m.Text.Content)
		}
		if m.CreateAt > 0 {
			if t := time.UnixMilli(m.CreateAt).UTC(); !t.After(c.nowUTC()) {
				in.At = t
			}
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), chatTimeout)
		defer cancel()
		_, shared, err := c.textSeen.Do(ctx, m.MsgID, func() (struct{}, error) {
			reply, err := th.HandleText(ctx, in)
			if err != nil {
				return struct{}{}, err
			}
			if !reply.Duplicate {
				if err := c.replyBySession(ctx, m, reply.Plain()); err != nil {
					c.log.Warn("dingtalk chat answer not sent", "message_id", m.MsgID, "err", c.redact(err.Error()))
				}
			}
			return struct{}{}, nil
		})
		if err != nil && !shared {
			// Not stored, and DingTalk will not send it again: say so.
			c.log.Warn("dingtalk robot message not handled; asked the user to send it again", "message_id", m.MsgID, "err", c.redact(err.Error()))
			if rerr := c.replyBySession(ctx, m, text.T(text.ZH, "adapters:chat_retry")); rerr != nil {
				c.log.Warn("dingtalk chat answer not sent", "message_id", m.MsgID, "err", c.redact(rerr.Error()))
			}
		}
		return payload.NewSuccessDataFrameResponse(), nil
	}
}

// replyBySession posts a text message to the message's sessionWebhook. The
// URL must be on DingTalk's own hosts (or the configured API hosts) and not
// expired: it came over the authenticated connection, but it is not sent
// anywhere else.
func (c *Client) replyBySession(ctx context.Context, m robotMessage, content string) error {
	u, err := url.Parse(m.SessionWebhook)
	if err != nil || u.Host == "" || !c.sessionHost(u) {
		return fmt.Errorf("dingtalk: sessionWebhook is not a DingTalk URL")
	}
	if m.WebhookExpires > 0 && time.UnixMilli(m.WebhookExpires).Before(c.nowUTC()) {
		return fmt.Errorf("dingtalk: sessionWebhook expired")
	}
	if len(content) > maxChatReply {
		r := []rune(content[:maxChatReply])
		content = string(r[:len(r)-1])
	}
	body, err := json.Marshal(map[string]any{"msgtype": "text", "text": map[string]string{"content": content}})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("dingtalk: session reply: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil || out.ErrCode != 0 {
		return fmt.Errorf("dingtalk: session reply: status %d errcode %d %s", resp.StatusCode, out.ErrCode, out.ErrMsg)
	}
	return nil
}

// sessionHost reports whether a sessionWebhook's host is DingTalk's
// (*.dingtalk.com over https) or one of the configured API hosts.
func (c *Client) sessionHost(u *url.URL) bool {
	if u.Scheme == "https" && (u.Hostname() == "dingtalk.com" || strings.HasSuffix(u.Hostname(), ".dingtalk.com")) {
		return true
	}
	for _, base := range []string{c.cfg.OAPIBase, c.cfg.APIBase} {
		if b, err := url.Parse(base); err == nil && b.Host != "" && b.Scheme == u.Scheme && b.Host == u.Host {
			return true
		}
	}
	return false
}
