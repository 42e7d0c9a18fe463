package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/experiment"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// Register adds the campaign card kind and audience to reg (see
// bot.Registry); app hands the same registry to the Renderer and the
// Deliverer.
func (s *Service) Register(reg *bot.Registry) error {
	return errors.Join(reg.Kind(KindCampaign, s.renderCard), reg.PagedAudience(AudienceCampaign, s.audience))
}

// content is what a variant's cards show.
type content struct {
	campaign store.Campaign
	variant  store.CampaignVariant
	title    string
	body     string
	buttons  []Button
	at       time.Time
}

// compose fills a content's title, body and buttons from its campaign and
// variant: the variant's own copy wins where it has any.
func (c *content) compose() error {
	c.title, c.body = c.campaign.Title, c.campaign.Body
	if c.variant.Title != "" {
		c.title = c.variant.Title
	}
	if c.variant.Body != "" {
		c.body = c.variant.Body
	}
	raw := c.campaign.Buttons
	if c.variant.Buttons != "" {
		raw = c.variant.Buttons
	}
	c.buttons = nil
	if err := json.Unmarshal([]byte(raw), &c.buttons); err != nil && raw != "" {
		return fmt.Errorf("campaign %d buttons: %w", c.campaign.ID, err)
	}
	return nil
}

// contentTTL is how long a fan-out reuses a variant's loaded content.
const contentTTL = 30 * time.Second

func (s *Service) content(ctx context.Context, db *gorm.DB, tpID uint64, cached bool) (content, error) {
	type entry struct {
		c  content
		at time.Time
	}
	if cached {
		if v, ok := s.cache.Load(tpID); ok && time.Since(v.(entry).at) < contentTTL {
			return v.(entry).c, nil
		}
	}
	var c content
	if err := db.WithContext(ctx).Where("touchpoint_id = ?", tpID).Take(&c.variant).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return c, fmt.Errorf("touchpoint %d is no campaign variant: %w", tpID, ErrNotFound)
		}
		return c, fmt.Errorf("load variant: %w", err)
	}
	if err := db.WithContext(ctx).Where("id = ?", c.variant.CampaignID).Take(&c.campaign).Error; err != nil {
		return c, fmt.Errorf("load campaign %d: %w", c.variant.CampaignID, err)
	}
	if err := c.compose(); err != nil {
		return c, err
	}
	s.cache.Store(tpID, entry{c: c, at: time.Now()})
	return c, nil
}

// buttonLabel is a button's text when the campaign gave none.
func buttonLabel(loc text.Locale, kind string) string {
	switch kind {
	case ButtonCourse:
		return text.T(loc, "campaigns:button.course")
	case ButtonLive:
		return text.T(loc, "campaigns:button.live")
	case ButtonExam:
		return text.T(loc, "campaigns:button.exam")
	case ButtonDocument:
		return text.T(loc, "campaigns:button.document")
	}
	return ""
}

// linkLifetime is the shortest lifetime of a campaign card's links.
const linkLifetime = 30 * 24 * time.Hour

// renderCard renders a campaign variant's card: title, body, image and up to
// four link buttons, each a tracked /l/ link of the delivery.
func (s *Service) renderCard(ctx context.Context, r *bot.Renderer, cc bot.CardContext) (bot.Message, error) {
	c, err := s.content(ctx, s.DB, cc.Touchpoint.ID, true)
	if err != nil {
		return bot.Message{}, err
	}
	return render(r, c, cc.DeliveryID, cc.Key, cc.Locale, s.now()), nil
}

func render(r *bot.Renderer, c content, deliveryID uint64, key string, locale text.Locale, now time.Time) bot.Message {
	loc := text.Parse(string(locale))
	if locale == "" {
		loc = text.Parse(c.campaign.Locale)
	}
	exp := now.Add(max(r.LinkTTL, linkLifetime))
	m := bot.Message{Key: key, Kind: KindCampaign, Locale: loc, Title: c.title, Body: c.body}
	fallback := m.Title + "\n" + m.Body
	if c.campaign.ImageURL != "" {
		// bot.Message has no picture element yet: the image is a line of
		// the card and of its plain-text form.
		label := text.T(loc, "campaigns:picture")
		img := r.TrackedURL(deliveryID, c.campaign.ImageURL, exp)
		m.Fields = append(m.Fields, bot.Field{Label: label, Value: img})
		fallback += "\n" + label + ": " + img
	}
	for i, b := range c.buttons {
		label := b.Text
		if label == "" {
			label = buttonLabel(loc, b.Kind)
		}
		u := r.TrackedURL(deliveryID, b.URL, exp)
		m.Buttons = append(m.Buttons, bot.Button{Text: label, Action: bot.ActionLink, URL: u, Primary: i == 0})
		fallback += "\n" + label + ": " + u
	}
	m.Fallback = fallback
	return m
}

// audience resolves a variant's recipients when its touchpoint fires, a page
// at a time: the campaign's audience now, narrowed to the people assigned to
// the variant (each page's new assignments are recorded before it is
// handed on). A paused or cancelled campaign sends nothing.
func (s *Service) audience(ctx context.Context, db *gorm.DB, tp store.Touchpoint, _ store.Session, page int, f func([]bot.Target) error) error {
	c, err := s.content(ctx, db, tp.ID, false)
	if err != nil {
		return err
	}
	if c.campaign.Status != store.CampaignScheduled {
		s.log().Info("campaign not sent", "campaign", c.campaign.ID, "status", c.campaign.Status)
		return nil
	}
	var aud Audience
	if err := json.Unmarshal([]byte(c.campaign.Audience), &aud); err != nil {
		return fmt.Errorf("campaign %d audience: %w", c.campaign.ID, err)
	}
	var vs []store.CampaignVariant
	if err := db.WithContext(ctx).Where("campaign_id = ?", c.campaign.ID).Order("id").Find(&vs).Error; err != nil {
		return fmt.Errorf("load variants: %w", err)
	}
	if page <= 0 {
		page = 5000
	}
	out := make([]bot.Target, 0, page)
	return ResolvePages(ctx, db, aud, page, func(people []store.Employee) error {
		if len(vs) > 1 {
			assigned, err := s.assign(ctx, db, c.campaign.ID, vs, people)
			if err != nil {
				return err
			}
			kept := people[:0]
			for _, p := range people {
				if assigned[p.ID] == c.variant.ID {
					kept = append(kept, p)
				}
			}
			people = kept
		}
		if len(people) == 0 {
			return nil
		}
		out = out[:0]
		for _, p := range people {
			out = append(out, bot.Target{Employee: p})
		}
		return f(out)
	})
}

// Assign returns the variant a person gets in a campaign: the variants'
// weights laid end to end, picked by experiment.Pick on "campaign:employee".
// The same person always gets the same variant.
func Assign(key []byte, campaignID, employeeID uint64, vs []store.CampaignVariant) uint64 {
	weights := make([]int, len(vs))
	for i, v := range vs {
		weights[i] = v.Weight
	}
	i := experiment.Pick(key, strconv.FormatUint(campaignID, 10), employeeID, weights)
	if i < 0 {
		return 0
	}
	return vs[i].ID
}

// assign records the variant of every person of people (one page of the
// audience, in id order) not yet assigned in the campaign and returns the
// recorded assignment of each (the first recorded wins, so a concurrent
// resolution cannot move anybody). Only the page's id range of assignments
// is read, so a large campaign is never loaded whole.
func (s *Service) assign(ctx context.Context, db *gorm.DB, campaignID uint64, vs []store.CampaignVariant, people []store.Employee) (map[uint64]uint64, error) {
	if len(people) == 0 {
		return map[uint64]uint64{}, nil
	}
	lo, hi := people[0].ID, people[0].ID
	for _, p := range people {
		lo, hi = min(lo, p.ID), max(hi, p.ID)
	}
	load := func() (map[uint64]uint64, error) {
		var rows []store.CampaignAssignment
		if err := db.WithContext(ctx).Select("employee_id", "variant_id").
			Where("campaign_id = ? AND employee_id BETWEEN ? AND ?", campaignID, lo, hi).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("load assignments: %w", err)
		}
		out := make(map[uint64]uint64, len(rows))
		for _, r := range rows {
			out[r.EmployeeID] = r.VariantID
		}
		return out, nil
	}
	got, err := load()
	if err != nil {
		return nil, err
	}
	key := s.key("campaign assignment")
	now := s.now()
	var fresh []store.CampaignAssignment
	for _, p := range people {
		if _, ok := got[p.ID]; !ok {
			fresh = append(fresh, store.CampaignAssignment{CampaignID: campaignID, EmployeeID: p.ID, VariantID: Assign(key, campaignID, p.ID, vs), AssignedAt: now})
		}
	}
	if len(fresh) == 0 {
		return got, nil
	}
	for i := 0; i < len(fresh); i += 1000 {
		part := fresh[i:min(i+1000, len(fresh))]
		if err := store.Retry(ctx, func() error {
			return db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&part).Error
		}); err != nil {
			return nil, fmt.Errorf("record assignments: %w", err)
		}
	}
	return load()
}

// Preview renders each variant's card as it will be sent, without sending
// or storing anything; links point at delivery 0, which the /l/ handler
// refuses. Each preview carries the variant's planned send time (the
// learned one, with its basis, where the variant learns it).
func (s *Service) Preview(ctx context.Context, r *bot.Renderer, id uint64) ([]VariantPreview, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]VariantPreview, 0, len(c.Variants))
	for _, v := range c.Variants {
		ct, err := s.content(ctx, s.DB, v.TouchpointID, false)
		if err != nil {
			return nil, err
		}
		at := v.RunAt
		out = append(out, VariantPreview{Variant: v.Name, Card: render(r, ct, 0, "preview-"+strconv.FormatUint(v.ID, 10), text.Locale(ct.campaign.Locale), s.now()),
			SendAt: &at, SendTime: v.SendTime})
	}
	return out, nil
}

// PreviewInput validates a campaign not yet created and renders each
// variant's card from the same content rules as the send, with the send
// time each variant would get (a learned one is estimated now). Nothing is
// stored; bad input returns an *InvalidError.
func (s *Service) PreviewInput(ctx context.Context, r *bot.Renderer, in Input) ([]VariantPreview, error) {
	loc, errs := s.validate(&in)
	if len(errs) > 0 {
		return nil, &InvalidError{Fields: errs}
	}
	camp := store.Campaign{Title: in.Title, Body: in.Body, ImageURL: in.ImageURL, Buttons: mustJSON(nonNil(in.Buttons)), Locale: in.Locale}
	out := make([]VariantPreview, 0, len(in.Variants))
	for i, v := range in.Variants {
		ct := content{campaign: camp, variant: store.CampaignVariant{Name: v.Name, Title: v.Title, Body: v.Body}}
		if v.Buttons != nil {
			ct.variant.Buttons = mustJSON(v.Buttons)
		}
		if err := ct.compose(); err != nil {
			return nil, err
		}
		p := VariantPreview{Variant: v.Name, Card: render(r, ct, 0, "preview-"+strconv.Itoa(i), text.Locale(in.Locale), s.now())}
		if w, fallback, ok := learnedWindow(in.Schedule, v); ok {
			ch, err := s.chooseSendTime(ctx, in.Audience, loc, w, fallback)
			if err != nil {
				return nil, err
			}
			p.SendTime = &ch
			at := s.quiet(loc).Next(ch.At)
			p.SendAt = &at
		} else if at := firstTime(v.At, in.Schedule.At); at != nil {
			t := s.quiet(loc).Next(*at)
			p.SendAt = &t
		}
		out = append(out, p)
	}
	return out, nil
}

func firstTime(ts ...*time.Time) *time.Time {
	for _, t := range ts {
		if t != nil {
			return t
		}
	}
	return nil
}

// VariantPreview is one variant's card as it will be sent and when.
type VariantPreview struct {
	Variant string      `json:"variant"`
	Card    bot.Message `json:"card"`
	// SendAt is the planned send time (after quiet hours and holidays);
	// nil for a cron schedule not yet planned.
	SendAt *time.Time `json:"send_at,omitempty"`
	// SendTime is the learned send time and its basis, when the variant
	// learns it.
	SendTime *SendTimeChoice `json:"send_time,omitempty"`
}
