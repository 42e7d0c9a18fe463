package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// Touchpoint kinds the core loop renders.
const (
	KindReminder       = "reminder"
	KindCheckinPrompt  = "checkin_prompt"
	KindMakeupReminder = "makeup_reminder"
	KindCustom         = "custom"
)

// CardKinds lists the touchpoint kinds Renderer knows.
var CardKinds = []string{KindReminder, KindCheckinPrompt, KindMakeupReminder, KindCustom}

// CardContext is everything a card is rendered from.
type CardContext struct {
	Kind       string
	Note       string // free text for custom notices
	Session    store.Session
	Course     store.Course
	Teacher    string
	DeliveryID uint64
	Key        string
	Locale     text.Locale
	Checkin    *store.Checkin
	// Remote marks Checkin as made away from a session that requires
	// on-site check-in: the card says it does not count as present.
	Remote bool
	// Touchpoint, Recipient and Subject are set when rendering a delivery;
	// Occurrence is the delivery's occurrence ("0" for a one-off push).
	Occurrence string
	Touchpoint store.Touchpoint
	Recipient  store.Employee
	Subject    *store.Employee
	// Variant is the A/B variant whose copy the card shows (nil: none, or
	// the recipient's recorded one when Touchpoint has variants).
	Variant *VariantCopy
}

// KindRenderer renders the cards of a touchpoint kind that the bot core does
// not know (surveys register theirs in a Registry). ctx bounds any database
// read the renderer makes.
type KindRenderer func(ctx context.Context, r *Renderer, cc CardContext) (Message, error)

// Renderer turns a touchpoint and a recipient into a Message, with signed
// button tokens and tracked links.
type Renderer struct {
	Signer    *Signer
	PublicURL string        // e.g. https://learn.example.com
	LinkTTL   time.Duration // lifetime of tokens placed in a card
	Now       func() time.Time
	// Registry renders extra touchpoint kinds (nil: the core's only).
	Registry *Registry
	// Variants gives a touchpoint variant's copy (nil: no variants).
	Variants Splitter
}

func (r *Renderer) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

var zones sync.Map // name → *time.Location

// SessionLocation returns the session's time zone, UTC if unknown.
func SessionLocation(s store.Session) *time.Location {
	if s.TimeZone == "" {
		return time.UTC
	}
	if loc, ok := zones.Load(s.TimeZone); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return time.UTC
	}
	zones.Store(s.TimeZone, loc)
	return loc
}

// FormatSpan formats a session's start–end in its own zone.
func FormatSpan(s store.Session) string {
	loc := SessionLocation(s)
	st, en := s.StartsAt.In(loc), s.EndsAt.In(loc)
	if st.Format("2006-01-02") == en.Format("2006-01-02") {
		return st.Format("2006-01-02 15:04") + "–" + en.Format("15:04")
	}
	return st.Format("2006-01-02 15:04") + " – " + en.Format("2006-01-02 15:04")
}

// Expiry is when tokens placed in a card for session s expire.
func (r *Renderer) Expiry(s store.Session) time.Time { return r.expiry(s) }

func (r *Renderer) expiry(s store.Session) time.Time {
	exp := r.now().Add(r.LinkTTL)
	// Check-in tokens must outlive the make-up window.
	if end := s.EndsAt.Add(time.Duration(s.MakeupAfter) * time.Second).Add(24 * time.Hour); exp.Before(end) {
		exp = end
	}
	return exp
}

// TrackedURL rewrites target into a signed /l/ link for a delivery.
func (r *Renderer) TrackedURL(deliveryID uint64, target string, exp time.Time) string {
	return strings.TrimRight(r.PublicURL, "/") + "/l/" + r.Signer.Sign(Claims{Kind: TokenLink, DeliveryID: deliveryID, Expires: exp, Extra: target})
}

// CheckinURL returns the signed fallback check-in page for a delivery.
func (r *Renderer) CheckinURL(deliveryID uint64, exp time.Time) string {
	return strings.TrimRight(r.PublicURL, "/") + "/c/" + r.Signer.Sign(Claims{Kind: TokenCheckin, DeliveryID: deliveryID, Expires: exp})
}

// Render builds the card for cc.
func (r *Renderer) Render(ctx context.Context, cc CardContext) (Message, error) {
	v, err := r.variantOf(ctx, cc)
	if err != nil {
		return Message{}, err
	}
	m, err := r.render(ctx, cc)
	if err != nil {
		return Message{}, err
	}
	applyVariant(&m, v)
	return m, m.Validate()
}

func (r *Renderer) render(ctx context.Context, cc CardContext) (Message, error) {
	if kr, ok := r.Registry.KindRenderer(cc.Kind); ok {
		m, err := kr(ctx, r, cc)
		if err != nil {
			return Message{}, err
		}
		if m.Key == "" {
			m.Key = cc.Key
		}
		return m, nil
	}
	loc := text.Parse(string(cc.Locale))
	title := CardTitle(cc.Course, cc.Session)
	m := Message{Key: cc.Key, Kind: cc.Kind, Locale: loc}
	m.Fields = SessionFields(loc, cc.Session, cc.Teacher)
	sloc := SessionLocation(cc.Session)
	exp := r.expiry(cc.Session)
	checkinButton := func(label string) {
		if cc.Checkin != nil {
			return // a card that shows the check-in has no check-in button: nothing to sign
		}
		m.Buttons = append(m.Buttons, Button{
			Text: label, Action: ActionCheckin, Primary: true,
			Token: r.Signer.Sign(Claims{Kind: TokenInteraction, DeliveryID: cc.DeliveryID, Expires: exp, Extra: ActionCheckin}),
		})
		m.Fallback = text.T(loc, "bot:fallback.checkin", r.CheckinURL(cc.DeliveryID, exp))
	}
	switch cc.Kind {
	case KindReminder:
		m.Title = text.T(loc, "bot:reminder.title", title)
		m.Body = text.T(loc, "bot:reminder.body", cc.Course.Title, cc.Session.StartsAt.In(sloc).Format("01-02 15:04"))
	case KindCheckinPrompt:
		m.Title = text.T(loc, "bot:checkin_prompt.title", title)
		m.Body = text.T(loc, "bot:checkin_prompt.body", cc.Course.Title)
		checkinButton(text.T(loc, "bot:button.checkin"))
	case KindMakeupReminder:
		deadline := cc.Session.EndsAt.Add(time.Duration(cc.Session.MakeupAfter) * time.Second).In(sloc)
		m.Title = text.T(loc, "bot:makeup_reminder.title", title)
		m.Body = text.T(loc, "bot:makeup_reminder.body", cc.Course.Title, deadline.Format("01-02 15:04"))
		checkinButton(text.T(loc, "bot:button.makeup"))
	case KindCustom:
		m.Title = text.T(loc, "bot:custom.title", title)
		m.Body = text.T(loc, "bot:custom.body", cc.Note)
	default:
		return Message{}, fmt.Errorf("unknown card kind %q", cc.Kind)
	}
	if cc.Session.OnlineURL != "" {
		m.Buttons = append(m.Buttons, Button{Text: text.T(loc, "bot:button.join"), Action: ActionLink, URL: r.TrackedURL(cc.DeliveryID, cc.Session.OnlineURL, exp)})
	}
	if cc.Checkin != nil {
		m.Status = CheckinStatus(loc, *cc.Checkin, sloc)
		if cc.Remote {
			m.Status = text.T(loc, "bot:status.remote", cc.Checkin.CheckedInAt.In(sloc).Format("15:04"))
		}
		// A card that already shows the check-in keeps only its links
		// (checkinButton added none) and no fallback check-in link.
		m.Fallback = ""
	}
	if m.Fallback == "" {
		m.Fallback = m.Title + "\n" + m.Body
	} else {
		m.Fallback = m.Title + "\n" + m.Body + "\n" + m.Fallback
	}
	return m, nil
}

// CardTitle names a class on a card: the course, then the session's own name
// unless that already says the course ("高效沟通 · 第 1 期", not
// "高效沟通 · 高效沟通 · 第 1 期").
func CardTitle(c store.Course, s store.Session) string {
	switch st := strings.TrimSpace(s.Title); {
	case st == "" || st == c.Title:
		return c.Title
	case c.Title == "" || strings.Contains(st, c.Title):
		return st
	default:
		return c.Title + " · " + st
	}
}

// SessionFields are the time, place and teacher lines of a card.
func SessionFields(loc text.Locale, s store.Session, teacher string) []Field {
	place := s.Location
	if place == "" && s.OnlineURL != "" {
		place = text.T(loc, "bot:online")
	}
	fs := []Field{{Label: text.T(loc, "bot:field.time"), Value: FormatSpan(s)}}
	if place != "" {
		fs = append(fs, Field{Label: text.T(loc, "bot:field.place"), Value: place})
	}
	if teacher != "" {
		fs = append(fs, Field{Label: text.T(loc, "bot:field.teacher"), Value: teacher})
	}
	return fs
}

// CheckinStatus is the line a card shows after a check-in ("已签到 09:02 ✓").
func CheckinStatus(locale text.Locale, c store.Checkin, loc *time.Location) string {
	at := c.CheckedInAt.In(loc).Format("15:04")
	switch c.Kind {
	case store.CheckinLate:
		return text.T(locale, "bot:status.late", at)
	case store.CheckinMakeup:
		return text.T(locale, "bot:status.makeup", at)
	default:
		return text.T(locale, "bot:status.on_time", at)
	}
}
