package simulator

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/learnloop/learnloop/bot"
)

// maxChatLines caps each person's chat history kept in memory.
const maxChatLines = 50

// maxChatText bounds one message typed into the simulator.
const maxChatText = 2000

// ChatLine is one line of a person's chat with the bot: what they typed
// (FromBot false) or what the bot answered.
type ChatLine struct {
	FromBot bool           `json:"from_bot"`
	Text    string         `json:"text"`
	Links   []bot.ChatLink `json:"links,omitempty"`
	At      time.Time      `json:"at"`
}

// SayRequest is the JSON body of POST /sim/api/say.
type SayRequest struct {
	User string `json:"user"`
	Text string `json:"text"`
	// MessageID is the platform message id; empty means a fresh one. The
	// same id twice is one message (a redelivery).
	MessageID string `json:"message_id,omitempty"`
}

// Say hands text typed by user to h as a platform's text message would
// arrive, and shows the answer in their chat, as an adapter sends it back.
// A redelivered message id gets no second answer.
func (c *Client) Say(ctx context.Context, h bot.TextHandler, r SayRequest) (bot.ChatReply, error) {
	t := strings.TrimSpace(r.Text)
	if r.User == "" || t == "" || utf8.RuneCountInString(t) > maxChatText {
		return bot.ChatReply{}, fmt.Errorf("simulator: a message needs a user and 1–%d characters of text", maxChatText)
	}
	now := c.opts.Now().UTC()
	id := r.MessageID
	c.mu.Lock()
	if id == "" {
		c.seq++
		id = fmt.Sprintf("sim-%d-%d", now.UnixNano(), c.seq)
	}
	c.mu.Unlock()
	reply, err := h.HandleText(ctx, bot.InboundText{Platform: bot.PlatformSimulator, UserID: r.User, MessageID: id, Text: t, At: now})
	if err != nil {
		return bot.ChatReply{}, err
	}
	if reply.Duplicate {
		return reply, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	lines := append(c.chats[r.User], ChatLine{Text: t, At: now}, ChatLine{FromBot: true, Text: reply.Text, Links: reply.Links, At: c.opts.Now().UTC()})
	if len(lines) > maxChatLines {
		lines = append([]ChatLine(nil), lines[len(lines)-maxChatLines:]...)
	}
	c.chats[r.User] = lines
	return reply, nil
}

// Chat returns user's recent chat lines, oldest first.
func (c *Client) Chat(user string) []ChatLine {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]ChatLine(nil), c.chats[user]...)
}
