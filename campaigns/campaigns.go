// Package campaigns adds targeted pushes (定向推送) to the core loop: any
// learning content pushed to an audience chosen by attributes, now, at a time
// or on a cron schedule; conversions reported by outside systems and credited
// to the last push clicked; and experiments with stable per-person variants.
//
// A campaign is carried by a session of its own in the campaigns course; each
// variant is one touchpoint of that session with kind "campaign" and audience
// "campaign", so planning (quiet hours, holidays, cron zones), the durable
// fire jobs and the fan-out (one delivery per person and occurrence, platform
// idempotency keys, tracked links) are the class pushes' own.
package campaigns

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/experiment"
	"github.com/learnloop/learnloop/internal/defaults"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/sendtime"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// KindCampaign is the touchpoint kind (and card kind) of a campaign variant.
const KindCampaign = sendtime.KindCampaign

// AudienceCampaign is the audience of a campaign variant's touchpoint: the
// campaign's audience, narrowed to the people assigned to the variant.
const AudienceCampaign = "campaign"

// CourseCode is the code of the course that holds the campaigns' carrier
// sessions.
const CourseCode = "_campaigns"

// Button kinds: what a link button opens.
const (
	ButtonCourse   = "course"
	ButtonLive     = "live"
	ButtonExam     = "exam"
	ButtonDocument = "document"
)

// Limits of a campaign.
const (
	MaxButtons  = 4
	MaxVariants = 4
	MaxBody     = 2000
	// DefaultMinGroupSize is the smallest department a report shows.
	DefaultMinGroupSize = 5
)

// Service creates, schedules, renders and reports campaigns and records
// conversions.
type Service struct {
	DB      *gorm.DB
	Planner *plan.Planner
	// Secret is the service's link secret; the assignment and webhook keys
	// are derived from it.
	Secret []byte
	// AttributionWindow is the longest time from the credited click to a
	// conversion; zero means reports.DefaultAttributionWindow.
	AttributionWindow time.Duration
	// WebhookWindow is how far a signed webhook's timestamp may be from now;
	// zero means 5 minutes.
	WebhookWindow time.Duration
	// MinSample is a new campaign's minimum sample per variant when its
	// input sets none (experiments.min_sample); zero means
	// experiment.DefaultMinSample.
	MinSample int
	Location  *time.Location
	Locale    string
	Logger    *slog.Logger
	Now       func() time.Time

	cache sync.Map // touchpoint id → cachedContent
}

func (s *Service) now() time.Time { return defaults.Now(s.Now) }

func (s *Service) log() *slog.Logger { return defaults.Logger(s.Logger) }

// DefaultMinSample is the minimum sample per variant a new campaign gets
// when its input sets none.
func (s *Service) DefaultMinSample() int {
	if s.MinSample > 0 {
		return s.MinSample
	}
	return experiment.DefaultMinSample
}

func (s *Service) window() time.Duration {
	if s.AttributionWindow > 0 {
		return s.AttributionWindow
	}
	return reports.DefaultAttributionWindow
}

// key derives a purpose-bound key from the link secret.
func (s *Service) key(purpose string) []byte {
	m := hmac.New(sha256.New, s.Secret)
	m.Write([]byte("learnloop " + purpose))
	return m.Sum(nil)
}

// Button is one link button of a campaign card; its URL becomes a tracked
// /l/ link in every card.
type Button struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
	URL  string `json:"url"`
}

// Schedule says when a campaign (or a variant) is sent: now, at a time, on
// a cron schedule in TimeZone, or "best": at the learned best hour inside
// Window (see SendTimeEstimate.Choose), falling back to At (default: the
// window's start) where data is thin.
type Schedule struct {
	Kind     string     `json:"kind"` // now, at, cron, best
	At       *time.Time `json:"at,omitempty"`
	Cron     string     `json:"cron,omitempty"`
	Window   *Window    `json:"window,omitempty"`
	TimeZone string     `json:"time_zone,omitempty"`
}

// VariantInput is one arm of an experiment; empty fields take the
// campaign's.
type VariantInput struct {
	Name    string     `json:"name"`
	Weight  int        `json:"weight,omitempty"`
	Title   string     `json:"title,omitempty"`
	Body    string     `json:"body,omitempty"`
	Buttons []Button   `json:"buttons,omitempty"`
	At      *time.Time `json:"at,omitempty"`
	Cron    string     `json:"cron,omitempty"`
	// Best sends the variant at the learned best hour inside the window,
	// falling back to the campaign's time (when inside it) or the window's
	// start: with a fixed-time control this is the "send time: fixed vs
	// learned" experiment.
	Best *Window `json:"best,omitempty"`
}

// Input is a new campaign.
type Input struct {
	Name         string         `json:"name"`
	Title        string         `json:"title"`
	Body         string         `json:"body"`
	ImageURL     string         `json:"image_url,omitempty"`
	Buttons      []Button       `json:"buttons"`
	Audience     Audience       `json:"audience"`
	Schedule     Schedule       `json:"schedule"`
	Event        string         `json:"event"`
	Locale       string         `json:"locale,omitempty"`
	MinSample    int            `json:"min_sample,omitempty"`
	MinGroupSize int            `json:"min_group_size,omitempty"`
	Variants     []VariantInput `json:"variants,omitempty"`
}

func checkText(errs *[]FieldError, field, v string, max int, required bool) {
	switch n := utf8.RuneCountInString(v); {
	case required && strings.TrimSpace(v) == "":
		*errs = append(*errs, FieldError{Field: field, Code: CodeRequired, Message: "is required"})
	case n > max:
		*errs = append(*errs, FieldError{Field: field, Code: CodeTooLong, Message: fmt.Sprintf("is longer than %d characters", max)})
	}
}

func checkURL(errs *[]FieldError, field, v string) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(v, " \t\r\n") || len(v) > 900 {
		*errs = append(*errs, FieldError{Field: field, Code: CodeBadURL, Message: "must be an http(s) URL with a host, without spaces, at most 900 bytes"})
	}
}

func checkButtons(errs *[]FieldError, field string, bs []Button) {
	if len(bs) > MaxButtons {
		*errs = append(*errs, FieldError{Field: field, Code: CodeTooMany, Message: fmt.Sprintf("at most %d buttons", MaxButtons)})
	}
	for i, b := range bs {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch b.Kind {
		case ButtonCourse, ButtonLive, ButtonExam, ButtonDocument:
		default:
			*errs = append(*errs, FieldError{Field: f + ".kind", Code: CodeBadChoice, Message: "must be one of course, live, exam, document"})
		}
		checkText(errs, f+".text", b.Text, 20, false)
		checkURL(errs, f+".url", b.URL)
	}
}

func (s *Service) checkCron(errs *[]FieldError, field, spec string, loc *time.Location) {
	if len(spec) > plan.MaxCron {
		*errs = append(*errs, FieldError{Field: field, Code: CodeTooLong, Message: fmt.Sprintf("is longer than %d characters", plan.MaxCron)})
		return
	}
	if _, err := scheduler.NextCron(spec, loc, s.now()); err != nil {
		*errs = append(*errs, FieldError{Field: field, Code: CodeBadValue, Message: err.Error()})
	}
}

func (s *Service) checkAt(errs *[]FieldError, field string, at *time.Time) {
	switch {
	case at == nil:
		*errs = append(*errs, FieldError{Field: field, Code: CodeRequired, Message: "is required for schedule at"})
	case at.Before(s.now().Add(-time.Minute)):
		*errs = append(*errs, FieldError{Field: field, Code: CodePast, Message: "is in the past"})
	case at.After(s.now().AddDate(2, 0, 0)):
		*errs = append(*errs, FieldError{Field: field, Code: CodeTooFar, Message: "is more than two years ahead"})
	}
}

// validate checks in and fills defaults; it returns the campaign's zone.
func (s *Service) validate(in *Input) (*time.Location, []FieldError) {
	var errs []FieldError
	in.Name, in.Title, in.Event = strings.TrimSpace(in.Name), strings.TrimSpace(in.Title), strings.TrimSpace(in.Event)
	checkText(&errs, "name", in.Name, 128, true)
	checkText(&errs, "title", in.Title, 128, true)
	checkText(&errs, "body", in.Body, MaxBody, false)
	if in.ImageURL != "" {
		checkURL(&errs, "image_url", in.ImageURL)
	}
	checkButtons(&errs, "buttons", in.Buttons)
	errs = append(errs, in.Audience.Validate()...)
	if !validEvent(in.Event) {
		errs = append(errs, FieldError{Field: "event", Code: CodeRequired, Message: "is required: the conversion event the campaign is judged on (letters, digits and _.:-, at most 64)"})
	}
	if in.Locale == "" {
		in.Locale = string(text.Parse(s.Locale))
	} else if _, ok := text.Exact(in.Locale); !ok {
		errs = append(errs, FieldError{Field: "locale", Code: CodeBadChoice, Message: "must be zh-CN or en"})
	}
	if in.MinSample == 0 {
		in.MinSample = s.DefaultMinSample()
	}
	if in.MinSample < 1 || in.MinSample > 1_000_000 {
		errs = append(errs, FieldError{Field: "min_sample", Code: CodeOutOfRange, Message: "must be 1–1,000,000"})
	}
	if in.MinGroupSize == 0 {
		in.MinGroupSize = DefaultMinGroupSize
	}
	if in.MinGroupSize < 1 || in.MinGroupSize > 1000 {
		errs = append(errs, FieldError{Field: "min_group_size", Code: CodeOutOfRange, Message: "must be 1–1000"})
	}
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	if in.Schedule.TimeZone != "" {
		l, err := time.LoadLocation(in.Schedule.TimeZone)
		if err != nil || in.Schedule.TimeZone == "Local" {
			errs = append(errs, FieldError{Field: "schedule.time_zone", Code: CodeBadZone, Message: "is not an IANA time zone"})
		} else {
			loc = l
		}
	}
	in.Schedule.TimeZone = loc.String()
	if in.Schedule.Kind != store.ScheduleBest {
		in.Schedule.Window = nil
	}
	switch in.Schedule.Kind {
	case store.ScheduleNow:
		now := s.now()
		in.Schedule.At, in.Schedule.Cron = &now, ""
	case store.ScheduleAt:
		s.checkAt(&errs, "schedule.at", in.Schedule.At)
		in.Schedule.Cron = ""
	case store.ScheduleCron:
		s.checkCron(&errs, "schedule.cron", in.Schedule.Cron, loc)
		in.Schedule.At = nil
	case store.ScheduleBest:
		in.Schedule.Cron = ""
		n := len(errs)
		s.checkWindow(&errs, "schedule.window", in.Schedule.Window)
		if len(errs) == n {
			w := in.Schedule.Window
			if in.Schedule.At == nil {
				at := w.From
				in.Schedule.At = &at
			} else if in.Schedule.At.Before(w.From) || !in.Schedule.At.Before(w.To) {
				errs = append(errs, FieldError{Field: "schedule.at", Code: CodeOutsideWindow, Message: "the configured time must lie inside the window"})
			}
		}
	default:
		errs = append(errs, FieldError{Field: "schedule.kind", Code: CodeBadChoice, Message: "must be one of now, at, cron, best"})
	}
	if len(in.Variants) == 0 {
		in.Variants = []VariantInput{{Name: "A"}}
	}
	if len(in.Variants) > MaxVariants {
		errs = append(errs, FieldError{Field: "variants", Code: CodeTooMany, Message: fmt.Sprintf("at most %d variants", MaxVariants)})
	}
	names := map[string]bool{}
	for i := range in.Variants {
		v := &in.Variants[i]
		f := fmt.Sprintf("variants[%d]", i)
		v.Name = strings.TrimSpace(v.Name)
		if v.Name == "" || len(v.Name) > 32 || strings.ContainsAny(v.Name, " \t\r\n") {
			errs = append(errs, FieldError{Field: f + ".name", Code: CodeRequired, Message: "is required: at most 32 characters, no spaces"})
		}
		if names[v.Name] {
			errs = append(errs, FieldError{Field: f + ".name", Code: CodeDuplicate, Message: "is used twice"})
		}
		names[v.Name] = true
		if v.Weight == 0 {
			v.Weight = 1
		}
		if v.Weight < 1 || v.Weight > 100 {
			errs = append(errs, FieldError{Field: f + ".weight", Code: CodeOutOfRange, Message: "must be 1–100"})
		}
		checkText(&errs, f+".title", v.Title, 128, false)
		checkText(&errs, f+".body", v.Body, MaxBody, false)
		checkButtons(&errs, f+".buttons", v.Buttons)
		switch {
		case v.Best != nil && (v.At != nil || v.Cron != ""):
			errs = append(errs, FieldError{Field: f + ".best", Code: CodeConflict, Message: "give best, at or cron, not two of them"})
		case v.Best != nil && in.Schedule.Kind == store.ScheduleCron:
			errs = append(errs, FieldError{Field: f + ".best", Code: CodeNeedsOneOff, Message: "a learned send time needs a one-off campaign schedule (now, at or best)"})
		case v.Best != nil:
			s.checkWindow(&errs, f+".best", v.Best)
		case v.At != nil && v.Cron != "":
			errs = append(errs, FieldError{Field: f, Code: CodeConflict, Message: "give at or cron, not both"})
		case v.At != nil:
			s.checkAt(&errs, f+".at", v.At)
		case v.Cron != "":
			s.checkCron(&errs, f+".cron", v.Cron, loc)
		}
	}
	return loc, errs
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// courseID returns the campaigns course, creating it once.
func courseID(tx *gorm.DB) (uint64, error) {
	c := store.Course{Code: CourseCode, Title: "定向推送 Campaigns", Category: store.CategoryCampaign, TargetLevel: 1, Behaviours: "[]"}
	if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "code"}}, DoNothing: true}).Create(&c).Error; err != nil {
		return 0, fmt.Errorf("create campaigns course: %w", err)
	}
	var got store.Course
	if err := tx.Select("id").Where("code = ?", CourseCode).Take(&got).Error; err != nil {
		return 0, fmt.Errorf("load campaigns course: %w", err)
	}
	return got.ID, nil
}

// carrierLife is how long a carrier session stays open: its touchpoints
// (the variants) may fire until then.
const carrierLife = 20 * 365 * 24 * time.Hour

// Create validates and stores a campaign and schedules each variant's
// touchpoint, in one transaction; bad input changes nothing.
func (s *Service) Create(ctx context.Context, in Input, actor string) (Campaign, error) {
	loc, errs := s.validate(&in)
	if len(errs) > 0 {
		return Campaign{}, &InvalidError{Fields: errs}
	}
	choices, err := s.choices(ctx, in, loc)
	if err != nil {
		return Campaign{}, err
	}
	var id uint64
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		cid, err := courseID(tx)
		if err != nil {
			return err
		}
		now := s.now()
		sess := store.Session{CourseID: cid, Title: in.Name, StartsAt: now, EndsAt: now.Add(carrierLife),
			TimeZone: loc.String(), Locale: in.Locale, Status: store.SessionPlanned}
		if err := tx.Create(&sess).Error; err != nil {
			return fmt.Errorf("create carrier session: %w", err)
		}
		c := store.Campaign{Name: in.Name, Title: in.Title, Body: in.Body, ImageURL: in.ImageURL, Buttons: mustJSON(nonNil(in.Buttons)),
			Audience: mustJSON(in.Audience), Schedule: in.Schedule.Kind, At: in.Schedule.At, CronSpec: in.Schedule.Cron,
			WindowFrom: windowEnd(in.Schedule.Window, false), WindowTo: windowEnd(in.Schedule.Window, true),
			TimeZone: loc.String(), Locale: in.Locale, Event: in.Event, MinSample: in.MinSample, MinGroupSize: in.MinGroupSize,
			SessionID: sess.ID, Status: store.CampaignScheduled, CreatedBy: actor, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&c).Error; err != nil {
			return fmt.Errorf("create campaign: %w", err)
		}
		id = c.ID
		if err := s.addVariants(ctx, tx, c, sess, in.Variants, choices, now); err != nil {
			return err
		}
		b, _ := json.Marshal(map[string]any{"name": c.Name, "event": c.Event, "schedule": c.Schedule, "variants": len(in.Variants)})
		return tx.Create(&store.AuditLog{Actor: actorOr(actor), Action: "campaign.create", Object: fmt.Sprintf("campaign:%d", c.ID), Detail: string(b), CreatedAt: now}).Error
	})
	if err != nil {
		return Campaign{}, err
	}
	return s.Get(ctx, id)
}

// choices picks the learned send time of each variant that learns one;
// they are chosen before the transaction: they only read past pushes.
func (s *Service) choices(ctx context.Context, in Input, loc *time.Location) ([]*SendTimeChoice, error) {
	out := make([]*SendTimeChoice, len(in.Variants))
	for i, v := range in.Variants {
		w, fallback, ok := learnedWindow(in.Schedule, v)
		if !ok {
			continue
		}
		c, err := s.chooseSendTime(ctx, in.Audience, loc, w, fallback)
		if err != nil {
			return nil, fmt.Errorf("choose the send time of variant %s: %w", v.Name, err)
		}
		out[i] = &c
	}
	return out, nil
}

// addVariants plans one touchpoint per variant on the carrier session and
// stores the variants with their learned send times, in tx.
func (s *Service) addVariants(ctx context.Context, tx *gorm.DB, c store.Campaign, sess store.Session, vs []VariantInput, choices []*SendTimeChoice, now time.Time) error {
	for i, v := range vs {
		tp := store.Touchpoint{Kind: KindCampaign, Anchor: store.AnchorAbsolute, Audience: AudienceCampaign, Template: KindCampaign,
			At: c.At, CronSpec: c.CronSpec, Note: fmt.Sprintf("campaign %d variant %s", c.ID, v.Name)}
		switch {
		case v.At != nil:
			at := v.At.UTC()
			tp.At, tp.CronSpec = &at, ""
		case v.Cron != "":
			tp.At, tp.CronSpec = nil, v.Cron
		}
		if ch := choices[i]; ch != nil {
			at := ch.At
			tp.At, tp.CronSpec = &at, ""
		}
		if err := s.Planner.Create(ctx, tx, &tp, sess); err != nil {
			return fmt.Errorf("schedule variant %s: %w", v.Name, err)
		}
		vb := ""
		if v.Buttons != nil {
			vb = mustJSON(v.Buttons)
		}
		row := store.CampaignVariant{CampaignID: c.ID, Name: v.Name, Weight: v.Weight, Title: v.Title, Body: v.Body, Buttons: vb,
			At: v.At, CronSpec: v.Cron, TouchpointID: tp.ID, CreatedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("create variant %s: %w", v.Name, err)
		}
		if ch := choices[i]; ch != nil {
			st := store.CampaignSendTime{VariantID: row.ID, CampaignID: c.ID, WindowFrom: ch.Window.From, WindowTo: ch.Window.To,
				FallbackAt: ch.FallbackAt, ChosenAt: ch.At, Learned: ch.Learned, Basis: ch.Basis(), CreatedAt: now}
			if err := tx.Create(&st).Error; err != nil {
				return fmt.Errorf("record the send time of variant %s: %w", v.Name, err)
			}
		}
	}
	return nil
}

// Update replaces a campaign that has sent nothing yet — content,
// audience, schedule, variants — and re-plans its variants, in one
// transaction; a paused campaign stays paused. A campaign with deliveries
// or a cancelled one answers ErrConflict (copy it into a new one instead);
// bad input changes nothing.
func (s *Service) Update(ctx context.Context, id uint64, in Input, actor string) (Campaign, error) {
	loc, errs := s.validate(&in)
	if len(errs) > 0 {
		return Campaign{}, &InvalidError{Fields: errs}
	}
	choices, err := s.choices(ctx, in, loc)
	if err != nil {
		return Campaign{}, err
	}
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		c, old, err := lockCampaign(tx, id)
		if err != nil {
			return err
		}
		if c.Status == store.CampaignCancelled {
			return fmt.Errorf("campaign %d is cancelled: %w", id, ErrConflict)
		}
		tps := make([]uint64, len(old))
		for i, v := range old {
			tps[i] = v.TouchpointID
		}
		var sent int64
		if err := tx.Model(&store.Delivery{}).Where("touchpoint_id IN ?", tps).Count(&sent).Error; err != nil {
			return err
		}
		if sent > 0 {
			return fmt.Errorf("campaign %d has already sent %d deliveries: %w", id, sent, ErrConflict)
		}
		for _, v := range old {
			if err := s.Planner.Delete(ctx, tx, v.TouchpointID); err != nil {
				return fmt.Errorf("remove variant %s: %w", v.Name, err)
			}
		}
		for _, m := range []any{&store.CampaignSendTime{}, &store.CampaignAssignment{}, &store.CampaignVariant{}} {
			if err := tx.Where("campaign_id = ?", id).Delete(m).Error; err != nil {
				return fmt.Errorf("remove the old variants: %w", err)
			}
		}
		now := s.now()
		var sess store.Session
		if err := tx.Where("id = ?", c.SessionID).Take(&sess).Error; err != nil {
			return fmt.Errorf("load carrier session: %w", err)
		}
		sess.Title, sess.TimeZone, sess.Locale = in.Name, loc.String(), in.Locale
		if err := tx.Model(&store.Session{}).Where("id = ?", sess.ID).Updates(map[string]any{"title": sess.Title, "time_zone": sess.TimeZone, "locale": sess.Locale}).Error; err != nil {
			return fmt.Errorf("update carrier session: %w", err)
		}
		c.Name, c.Title, c.Body, c.ImageURL, c.Buttons = in.Name, in.Title, in.Body, in.ImageURL, mustJSON(nonNil(in.Buttons))
		c.Audience, c.Schedule, c.At, c.CronSpec = mustJSON(in.Audience), in.Schedule.Kind, in.Schedule.At, in.Schedule.Cron
		c.WindowFrom, c.WindowTo = windowEnd(in.Schedule.Window, false), windowEnd(in.Schedule.Window, true)
		c.TimeZone, c.Locale, c.Event, c.MinSample, c.MinGroupSize, c.UpdatedAt = loc.String(), in.Locale, in.Event, in.MinSample, in.MinGroupSize, now
		if err := tx.Select("*").Omit("id", "session_id", "status", "created_by", "created_at").Updates(&c).Error; err != nil {
			return fmt.Errorf("update campaign: %w", err)
		}
		if err := s.addVariants(ctx, tx, c, sess, in.Variants, choices, now); err != nil {
			return err
		}
		if c.Status == store.CampaignPaused {
			var vs []store.CampaignVariant
			if err := tx.Where("campaign_id = ?", id).Find(&vs).Error; err != nil {
				return err
			}
			for _, v := range vs {
				if _, err := s.Planner.SetPaused(ctx, tx, v.TouchpointID, true); err != nil && !errors.Is(err, plan.ErrConflict) {
					return err
				}
			}
		}
		b, _ := json.Marshal(map[string]any{"name": c.Name, "event": c.Event, "schedule": c.Schedule, "variants": len(in.Variants)})
		return tx.Create(&store.AuditLog{Actor: actorOr(actor), Action: "campaign.update", Object: fmt.Sprintf("campaign:%d", c.ID), Detail: string(b), CreatedAt: now}).Error
	})
	if err != nil {
		return Campaign{}, err
	}
	s.cache.Range(func(k, _ any) bool { s.cache.Delete(k); return true })
	return s.Get(ctx, id)
}

func actorOr(a string) string {
	if a == "" {
		return "system"
	}
	return a
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Campaign is a stored campaign with its variants, as the API shows it.
type Campaign struct {
	ID           uint64    `json:"id"`
	Name         string    `json:"name"`
	Title        string    `json:"title"`
	Body         string    `json:"body"`
	ImageURL     string    `json:"image_url"`
	Buttons      []Button  `json:"buttons"`
	Audience     Audience  `json:"audience"`
	Schedule     Schedule  `json:"schedule"`
	Event        string    `json:"event"`
	Locale       string    `json:"locale"`
	MinSample    int       `json:"min_sample"`
	MinGroupSize int       `json:"min_group_size"`
	Status       string    `json:"status"`
	SessionID    uint64    `json:"session_id"`
	CreatedBy    string    `json:"created_by"`
	Variants     []Variant `json:"variants"`
	CreatedAt    time.Time `json:"created_at"`
}

// Variant is one arm of a campaign with its touchpoint's state.
type Variant struct {
	ID           uint64     `json:"id"`
	Name         string     `json:"name"`
	Weight       int        `json:"weight"`
	Title        string     `json:"title,omitempty"`
	Body         string     `json:"body,omitempty"`
	Buttons      []Button   `json:"buttons,omitempty"`
	At           *time.Time `json:"at,omitempty"`
	Cron         string     `json:"cron,omitempty"`
	TouchpointID uint64     `json:"touchpoint_id"`
	Status       string     `json:"status"`
	RunAt        time.Time  `json:"run_at"`
	// SendTime is the learned send time and its basis, for a variant
	// sent at the best hour of a window.
	SendTime *SendTimeChoice `json:"send_time,omitempty"`
}

// learnedWindow returns the window a variant's send time is learned in and
// the configured time it falls back to; ok is false for a fixed time.
func learnedWindow(sc Schedule, v VariantInput) (Window, time.Time, bool) {
	switch {
	case v.Best != nil:
		fallback := v.Best.From
		if sc.At != nil && !sc.At.Before(v.Best.From) && sc.At.Before(v.Best.To) {
			fallback = *sc.At
		}
		return *v.Best, fallback, true
	case sc.Kind == store.ScheduleBest && v.At == nil && v.Cron == "" && sc.Window != nil && sc.At != nil:
		return *sc.Window, *sc.At, true
	}
	return Window{}, time.Time{}, false
}

func windowEnd(w *Window, to bool) *time.Time {
	if w == nil {
		return nil
	}
	t := w.From.UTC()
	if to {
		t = w.To.UTC()
	}
	return &t
}

func toCampaign(c store.Campaign, vs []store.CampaignVariant, tps map[uint64]store.Touchpoint, sts map[uint64]SendTimeChoice) Campaign {
	out := Campaign{ID: c.ID, Name: c.Name, Title: c.Title, Body: c.Body, ImageURL: c.ImageURL, Buttons: []Button{},
		Schedule: Schedule{Kind: c.Schedule, At: c.At, Cron: c.CronSpec, TimeZone: c.TimeZone}, Event: c.Event, Locale: c.Locale,
		MinSample: c.MinSample, MinGroupSize: c.MinGroupSize, Status: c.Status, SessionID: c.SessionID, CreatedBy: c.CreatedBy, Variants: []Variant{}, CreatedAt: c.CreatedAt}
	if c.WindowFrom != nil && c.WindowTo != nil {
		out.Schedule.Window = &Window{From: c.WindowFrom.UTC(), To: c.WindowTo.UTC()}
	}
	_ = json.Unmarshal([]byte(c.Buttons), &out.Buttons)
	_ = json.Unmarshal([]byte(c.Audience), &out.Audience)
	out.Audience.Include, out.Audience.Exclude = nonNil(out.Audience.Include), nonNil(out.Audience.Exclude)
	for _, v := range vs {
		tp := tps[v.TouchpointID]
		row := Variant{ID: v.ID, Name: v.Name, Weight: v.Weight, Title: v.Title, Body: v.Body, At: v.At, Cron: v.CronSpec,
			TouchpointID: v.TouchpointID, Status: tp.Status, RunAt: tp.RunAt}
		if v.Buttons != "" {
			_ = json.Unmarshal([]byte(v.Buttons), &row.Buttons)
		}
		if st, ok := sts[v.ID]; ok {
			row.SendTime = &st
		}
		out.Variants = append(out.Variants, row)
	}
	return out
}

// Get returns one campaign.
func (s *Service) Get(ctx context.Context, id uint64) (Campaign, error) {
	out, err := s.list(ctx, s.DB.WithContext(ctx).Where("id = ?", id))
	if err != nil {
		return Campaign{}, err
	}
	if len(out) == 0 {
		return Campaign{}, fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	return out[0], nil
}

// List returns up to limit campaigns after skipping offset, in id order.
func (s *Service) List(ctx context.Context, offset, limit int) ([]Campaign, error) {
	return s.ListWhere(ctx, ListFilter{}, offset, limit)
}

// ListFilter narrows a list of campaigns; zero fields do not narrow.
type ListFilter struct {
	// CreatedBy keeps the campaigns this actor created.
	CreatedBy string
	// Reached keeps the campaigns with a delivery to someone in one of
	// these departments.
	Reached []string
	// Newest lists the newest first.
	Newest bool
}

// ListWhere returns up to limit campaigns matching f after skipping offset.
func (s *Service) ListWhere(ctx context.Context, f ListFilter, offset, limit int) ([]Campaign, error) {
	q := s.DB.WithContext(ctx).Model(&store.Campaign{})
	if f.CreatedBy != "" {
		q = q.Where("created_by = ?", f.CreatedBy)
	}
	if f.Reached != nil {
		q = q.Where("campaigns.id IN (?)", s.reachedQuery(f.Reached))
	}
	if f.Newest {
		q = q.Order("id DESC")
	} else {
		q = q.Order("id")
	}
	return s.list(ctx, q.Offset(offset).Limit(limit))
}

// reachedQuery selects the ids of campaigns with a delivery to someone in
// one of depts.
func (s *Service) reachedQuery(depts []string) *gorm.DB {
	return s.DB.Table("campaign_variants").Select("campaign_variants.campaign_id").
		Joins("JOIN deliveries ON deliveries.touchpoint_id = campaign_variants.touchpoint_id").
		Joins("JOIN employees ON employees.id = deliveries.employee_id").
		Where("employees.department IN ?", depts)
}

// Reached reports whether a campaign delivered to someone in one of depts.
func (s *Service) Reached(ctx context.Context, id uint64, depts []string) (bool, error) {
	var n int64
	if err := s.DB.WithContext(ctx).Model(&store.Campaign{}).Where("id = ? AND id IN (?)", id, s.reachedQuery(depts)).Count(&n).Error; err != nil {
		return false, fmt.Errorf("check the campaign's departments: %w", err)
	}
	return n > 0, nil
}

func (s *Service) list(ctx context.Context, q *gorm.DB) ([]Campaign, error) {
	var cs []store.Campaign
	if err := q.Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	if len(cs) == 0 {
		return nil, nil
	}
	ids := make([]uint64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	var vs []store.CampaignVariant
	if err := s.DB.WithContext(ctx).Where("campaign_id IN ?", ids).Order("campaign_id, id").Find(&vs).Error; err != nil {
		return nil, fmt.Errorf("list variants: %w", err)
	}
	tpIDs := make([]uint64, len(vs))
	for i, v := range vs {
		tpIDs[i] = v.TouchpointID
	}
	var tps []store.Touchpoint
	if len(tpIDs) > 0 {
		if err := s.DB.WithContext(ctx).Where("id IN ?", tpIDs).Find(&tps).Error; err != nil {
			return nil, fmt.Errorf("list variant touchpoints: %w", err)
		}
	}
	byTP := make(map[uint64]store.Touchpoint, len(tps))
	for _, tp := range tps {
		byTP[tp.ID] = tp
	}
	sts, err := s.sendTimes(s.DB.WithContext(ctx), ids)
	if err != nil {
		return nil, err
	}
	byCampaign := map[uint64][]store.CampaignVariant{}
	for _, v := range vs {
		byCampaign[v.CampaignID] = append(byCampaign[v.CampaignID], v)
	}
	out := make([]Campaign, len(cs))
	for i, c := range cs {
		out[i] = toCampaign(c, byCampaign[c.ID], byTP, sts)
	}
	return out, nil
}

// SetPaused pauses a scheduled campaign (every variant still to send) or
// resumes a paused one.
func (s *Service) SetPaused(ctx context.Context, id uint64, paused bool, actor string) (Campaign, error) {
	want, from := store.CampaignPaused, store.CampaignScheduled
	if !paused {
		want, from = store.CampaignScheduled, store.CampaignPaused
	}
	err := s.transition(ctx, id, from, want, actor, func(tx *gorm.DB, tp store.Touchpoint) error {
		if paused && tp.Status != store.TouchpointScheduled || !paused && tp.Status != store.TouchpointPaused {
			return nil // already sent (one-off) or not scheduled
		}
		_, err := s.Planner.SetPaused(ctx, tx, tp.ID, paused)
		return err
	})
	if err != nil {
		return Campaign{}, err
	}
	return s.Get(ctx, id)
}

// Cancel stops a campaign for good: nothing more is sent; what was sent
// stays in the reports.
func (s *Service) Cancel(ctx context.Context, id uint64, actor string) (Campaign, error) {
	err := s.transition(ctx, id, "", store.CampaignCancelled, actor, func(tx *gorm.DB, tp store.Touchpoint) error {
		if tp.Status != store.TouchpointScheduled {
			return nil
		}
		// A paused touchpoint has no job; the campaign's status keeps it so.
		_, err := s.Planner.SetPaused(ctx, tx, tp.ID, true)
		return err
	})
	if err != nil {
		return Campaign{}, err
	}
	return s.Get(ctx, id)
}

// lockCampaign reads campaign id in tx, its row locked for the
// transaction (FOR UPDATE on MySQL; SQLite has one writer), and its
// variants in order; a missing campaign is ErrNotFound.
func lockCampaign(tx *gorm.DB, id uint64) (store.Campaign, []store.CampaignVariant, error) {
	var c store.Campaign
	q := tx
	if store.IsMySQL(tx) {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Where("id = ?", id).Take(&c).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return c, nil, fmt.Errorf("campaign %d: %w", id, ErrNotFound)
		}
		return c, nil, err
	}
	var vs []store.CampaignVariant
	if err := tx.Where("campaign_id = ?", id).Order("id").Find(&vs).Error; err != nil {
		return c, nil, err
	}
	return c, vs, nil
}

func (s *Service) transition(ctx context.Context, id uint64, from, to, actor string, each func(*gorm.DB, store.Touchpoint) error) error {
	return store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		c, vs, err := lockCampaign(tx, id)
		if err != nil {
			return err
		}
		if c.Status == store.CampaignCancelled || (from != "" && c.Status != from) {
			return fmt.Errorf("campaign %d is %s: %w", id, c.Status, ErrConflict)
		}
		for _, v := range vs {
			var tp store.Touchpoint
			if err := tx.Where("id = ?", v.TouchpointID).Take(&tp).Error; err != nil {
				return fmt.Errorf("load variant touchpoint %d: %w", v.TouchpointID, err)
			}
			if err := each(tx, tp); err != nil {
				return err
			}
		}
		now := s.now()
		if err := tx.Model(&store.Campaign{}).Where("id = ?", id).Updates(map[string]any{"status": to, "updated_at": now}).Error; err != nil {
			return err
		}
		return tx.Create(&store.AuditLog{Actor: actorOr(actor), Action: "campaign." + to, Object: fmt.Sprintf("campaign:%d", id), Detail: "{}", CreatedAt: now}).Error
	})
}
