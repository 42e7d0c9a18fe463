package bot

import (
	"context"
	"strings"
	"time"
)

// InboundText is a text message a person sent to the bot, normalized from
// any platform (WeCom text message, Feishu im.message.receive_v1, DingTalk
// robot message, the simulator's text box).
type InboundText struct {
	Platform Platform
	// UserID is the sender's platform user id (as in Interaction.UserID).
	UserID string
	// MessageID is the platform's id of the message; a redelivery carries
	// the same one, and it is handled once across replicas.
	MessageID string
	Text      string
	// At is when the platform says the message was sent; zero means now.
	At time.Time
	// ReplyTo is where the adapter answers (a Feishu message id, a
	// DingTalk sessionWebhook); the core never reads it.
	ReplyTo string
}

// ChatLink is a link offered in a chat answer (a check-in page, a survey
// form).
type ChatLink struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// ChatReply is what the bot answers to an inbound text. Like a tap's Reply
// it flows one way: the adapter sends it back itself (a passive reply, the
// platform's reply API, the session webhook).
type ChatReply struct {
	Text  string     `json:"text"`
	Links []ChatLink `json:"links,omitempty"`
	// Duplicate is true for a message already handled (a redelivery): the
	// adapter sends nothing.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Plain renders the reply as plain text: the text, then one line per link
// ("title：URL"), for platforms whose text messages carry no buttons.
func (r ChatReply) Plain() string {
	var b strings.Builder
	b.WriteString(r.Text)
	for _, l := range r.Links {
		b.WriteString("\n")
		b.WriteString(l.Text)
		b.WriteString("：")
		b.WriteString(l.URL)
	}
	return b.String()
}

// TextHandler answers inbound text messages. The chat service (bot/chat)
// implements it; adapters find it on the handler they are given for taps
// (the app hands them one value that implements both) and drop text when it
// is absent.
type TextHandler interface {
	HandleText(ctx context.Context, in InboundText) (ChatReply, error)
}

// TextHandlerOf returns h's TextHandler, nil when h does not answer text.
func TextHandlerOf(h InteractionHandler) TextHandler {
	th, _ := h.(TextHandler)
	return th
}
