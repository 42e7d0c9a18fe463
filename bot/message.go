// Package bot is learnloop's platform-neutral core: the message and card model,
// the Messenger interface that adapters implement, delivery fan-out, the
// interaction router (check-in, answers) and tracked links.
package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/learnloop/learnloop/text"
)

// Platform names a chat platform.
type Platform string

// Platforms learnloop can deliver to.
const (
	PlatformSimulator Platform = "simulator"
	PlatformWeCom     Platform = "wecom"
	PlatformFeishu    Platform = "feishu"
	PlatformDingTalk  Platform = "dingtalk"
)

// Actions a button can carry.
const (
	ActionCheckin = "checkin" // one-tap check-in
	ActionRate    = "rate"    // 1–5 rating; Value is the score
	ActionNPS     = "nps"     // 0–10 NPS; Value is the score
	ActionLink    = "link"    // opens URL; no callback
)

// Recipient is one person a message goes to.
type Recipient struct {
	EmployeeID uint64
	UserID     string // the platform's user id
	Name       string
	Locale     text.Locale
}

// Field is a label/value line on a card ("时间", "09:00–12:00").
type Field struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Button is one tappable control on a card. Callback buttons carry Action and
// Token; link buttons carry URL (already rewritten to a tracked link).
type Button struct {
	Text   string `json:"text"`
	Action string `json:"action"`
	// Value is the choice this button makes (a score), empty for check-in.
	Value string `json:"value,omitempty"`
	// Token is the signed interaction token; the router verifies it.
	Token string `json:"token,omitempty"`
	URL   string `json:"url,omitempty"`
	// Primary marks the main call to action.
	Primary bool `json:"primary,omitempty"`
}

// Choice is a single-choice question answered inside the card (NPS 0–10 on
// platforms whose button rows are too short).
type Choice struct {
	Question string   `json:"question"`
	Action   string   `json:"action"`
	Token    string   `json:"token"`
	Options  []string `json:"options"`
	Submit   string   `json:"submit"`
}

// Message is a platform-neutral card.
type Message struct {
	// Key identifies the delivery; adapters use it as the platform's
	// idempotency key (WeCom task_id, Feishu uuid, DingTalk outTrackId).
	Key     string   `json:"key"`
	Kind    string   `json:"kind"`
	Title   string   `json:"title"`
	Body    string   `json:"body"`
	Fields  []Field  `json:"fields,omitempty"`
	Buttons []Button `json:"buttons,omitempty"`
	Choice  *Choice  `json:"choice,omitempty"`
	// Status replaces the buttons after a tap ("已签到 09:02 ✓").
	Status string `json:"status,omitempty"`
	// Fallback is a plain-text rendering with links, for platforms or
	// clients that cannot show buttons.
	Fallback string      `json:"fallback,omitempty"`
	Locale   text.Locale `json:"locale,omitempty"`
}

// Validate checks the limits every adapter relies on.
func (m Message) Validate() error {
	var errs []error
	if m.Key == "" {
		errs = append(errs, errors.New("message key is empty"))
	}
	if m.Title == "" {
		errs = append(errs, errors.New("message title is empty"))
	}
	for i, b := range m.Buttons {
		if b.Text == "" {
			errs = append(errs, fmt.Errorf("button %d has no text", i))
		}
		if b.Action == ActionLink && b.URL == "" {
			errs = append(errs, fmt.Errorf("link button %d has no url", i))
		}
		if b.Action != ActionLink && b.Token == "" {
			errs = append(errs, fmt.Errorf("callback button %d has no token", i))
		}
	}
	return errors.Join(errs...)
}

// Receipt is what a platform returned for one sent message; it is stored on
// the delivery so the card can be updated later.
type Receipt struct {
	// Handle is the platform's message id, response code or track id.
	Handle string
	SentAt time.Time
}

// Messenger sends a message on one chat platform. Implemented by adapters/*.
type Messenger interface {
	Platform() Platform
	Send(ctx context.Context, to Recipient, m Message) (Receipt, error)
}

// BatchMessenger is optional: adapters whose platform takes many recipients in
// one call implement it. Results are per recipient, in the order given.
type BatchMessenger interface {
	Messenger
	// MaxBatch is the largest number of recipients one SendBatch accepts.
	MaxBatch() int
	SendBatch(ctx context.Context, to []Recipient, m func(Recipient) Message) []Result
}

// Result is the outcome of one recipient of a batch.
type Result struct {
	Receipt Receipt
	Err     error
}

// CardUpdater is optional: adapters that can edit a sent card implement it.
type CardUpdater interface {
	UpdateCard(ctx context.Context, to Recipient, handle string, m Message) error
}

// Pacer is optional: adapters with platform rate limits report how long to
// wait before sending to recipient; delivery honours it.
type Pacer interface {
	Wait(ctx context.Context, to Recipient) error
}

// PermanentError marks a send failure that must not be retried. Code and
// Message carry the platform's own error.
type PermanentError struct {
	Code    string
	Message string
	Err     error
}

// Error implements error.
func (e *PermanentError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("permanent: %s %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("permanent: %s %s", e.Code, e.Message)
}

// Unwrap returns the wrapped error.
func (e *PermanentError) Unwrap() error { return e.Err }

// DroppedError marks a message the platform accepted but will not show
// (silently dropped over-limit sends, unknown users reported later).
type DroppedError struct {
	Code    string
	Message string
}

// Error implements error.
func (e *DroppedError) Error() string { return fmt.Sprintf("dropped: %s %s", e.Code, e.Message) }

// Permanent wraps err as a PermanentError with the platform's code and message.
func Permanent(code, msg string, err error) error {
	return &PermanentError{Code: code, Message: msg, Err: err}
}
