// Package simulator is a chat platform that lives inside learnloop: it keeps
// each employee's inbox in memory and serves the /sim page where a newcomer
// picks an employee, sees the cards as they would appear and taps them. Taps
// take the same path as real callbacks: router, store, card update.
package simulator

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/learnloop/learnloop/bot"
)

// Card is one message in a simulated inbox.
type Card struct {
	Key       string      `json:"key"`
	UserID    string      `json:"user_id"`
	Message   bot.Message `json:"message"`
	SentAt    time.Time   `json:"sent_at"`
	UpdatedAt time.Time   `json:"updated_at,omitempty"`
	Updates   int         `json:"updates"`
}

// User is someone the /sim page can act as.
type User struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Department string `json:"department"`
}

// Options configures a Client.
type Options struct {
	// Directory lists the people the page offers; nil shows inbox owners.
	Directory func(ctx context.Context) ([]User, error)
	Now       func() time.Time
	// MaxPerUser caps each inbox (oldest dropped); 0 means 200.
	MaxPerUser int
	// MaxCards caps all inboxes together (the oldest card anywhere is
	// dropped, and counted): a fan-out to 100,000 people keeps at most this
	// many cards in memory. 0 means 20,000.
	MaxCards int
}

// Client is the simulator platform.
type Client struct {
	opts  Options
	mu    sync.Mutex
	inbox map[string][]*Card
	byKey map[string]*Card
	sends int
	// order holds the cards kept, oldest first from head (some of them
	// dropped already by their inbox's own cap); kept counts those not.
	order   []*Card
	head    int
	kept    int
	dropped int
	// chats holds each person's recent chat lines (see chat.go).
	chats map[string][]ChatLine
	seq   uint64
}

var (
	_ bot.Messenger   = (*Client)(nil)
	_ bot.CardUpdater = (*Client)(nil)
)

// New returns an empty simulator.
func New(opts Options) *Client {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxPerUser <= 0 {
		opts.MaxPerUser = 200
	}
	if opts.MaxCards <= 0 {
		opts.MaxCards = 20000
	}
	return &Client{opts: opts, inbox: map[string][]*Card{}, byKey: map[string]*Card{}, chats: map[string][]ChatLine{}}
}

// Platform implements bot.Messenger.
func (c *Client) Platform() bot.Platform { return bot.PlatformSimulator }

// ErrUnknownCard is returned when an update names a card that was never sent.
var ErrUnknownCard = errors.New("simulator: unknown card")

// Send implements bot.Messenger. A second send with the same key replaces
// nothing and returns the first receipt, as the real platforms' idempotency
// keys do.
func (c *Client) Send(ctx context.Context, to bot.Recipient, m bot.Message) (bot.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return bot.Receipt{}, err
	}
	if err := m.Validate(); err != nil {
		return bot.Receipt{}, bot.Permanent("invalid_message", err.Error(), nil)
	}
	if to.UserID == "" {
		return bot.Receipt{}, bot.Permanent("no_user", "recipient has no user id", nil)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if card, ok := c.byKey[m.Key]; ok {
		return bot.Receipt{Handle: card.Key, SentAt: card.SentAt}, nil
	}
	card := &Card{Key: m.Key, UserID: to.UserID, Message: m, SentAt: c.opts.Now().UTC()}
	box := append(c.inbox[to.UserID], card)
	if len(box) > c.opts.MaxPerUser {
		c.forget(box[0])
		box = box[1:]
	}
	c.inbox[to.UserID] = box
	c.byKey[m.Key] = card
	c.order = append(c.order, card)
	c.kept++
	c.sends++
	for c.kept > c.opts.MaxCards {
		c.dropOldest()
	}
	return bot.Receipt{Handle: card.Key, SentAt: card.SentAt}, nil
}

// forget drops card from the key index and the count of kept cards; c.mu
// is held. Its inbox drops it itself.
func (c *Client) forget(card *Card) {
	delete(c.byKey, card.Key)
	card.Key = "" // marks it dropped in c.order
	c.kept--
	c.dropped++
}

// dropOldest drops the oldest card kept anywhere; c.mu is held. The oldest
// card overall is its own inbox's oldest, since every inbox is in send order.
func (c *Client) dropOldest() {
	for c.head < len(c.order) {
		card := c.order[c.head]
		c.order[c.head] = nil
		c.head++
		if card.Key == "" {
			continue // dropped already by its inbox's cap
		}
		box := c.inbox[card.UserID]
		c.forget(card)
		if len(box) <= 1 {
			delete(c.inbox, card.UserID)
		} else {
			c.inbox[card.UserID] = box[1:]
		}
		break
	}
	if c.head > len(c.order)/2 {
		c.order = append(c.order[:0], c.order[c.head:]...)
		c.head = 0
	}
}

// UpdateCard implements bot.CardUpdater.
func (c *Client) UpdateCard(ctx context.Context, to bot.Recipient, handle string, m bot.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	card, ok := c.byKey[handle]
	if !ok || card.UserID != to.UserID {
		return fmt.Errorf("%w %q", ErrUnknownCard, handle)
	}
	card.Message = m
	card.UpdatedAt = c.opts.Now().UTC()
	card.Updates++
	return nil
}

// replace puts m in place of user's card with m's key (the delivery key
// the card was sent under); ErrUnknownCard when user has no such card.
func (c *Client) replace(user string, m bot.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	card, ok := c.byKey[m.Key]
	if !ok || card.UserID != user {
		return fmt.Errorf("%w %q", ErrUnknownCard, m.Key)
	}
	card.Message = m
	card.UpdatedAt = c.opts.Now().UTC()
	card.Updates++
	return nil
}

// Inbox returns a copy of user's cards, newest first.
func (c *Client) Inbox(user string) []Card {
	c.mu.Lock()
	defer c.mu.Unlock()
	box := c.inbox[user]
	out := make([]Card, len(box))
	for i, card := range box {
		out[len(box)-1-i] = *card
	}
	return out
}

// Dropped counts the cards dropped to keep the inboxes within their caps.
func (c *Client) Dropped() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// Sends counts accepted sends (duplicates excluded).
func (c *Client) Sends() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sends
}

func (c *Client) users(ctx context.Context) ([]User, error) {
	if c.opts.Directory != nil {
		return c.opts.Directory(ctx)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]User, 0, len(c.inbox))
	for id := range c.inbox {
		out = append(out, User{ID: id, Name: id})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
