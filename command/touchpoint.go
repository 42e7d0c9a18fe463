package command

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
)

// TouchpointInput creates or changes a touchpoint; nil fields keep their
// value (on create: anchor start, audience all).
type TouchpointInput struct {
	Kind          *string
	Anchor        *string
	OffsetMinutes *int64
	At            *time.Time
	Cron          *string
	Audience      *string
	Note          *string
	// BestTime true sends the touchpoint at the learned best hour inside
	// [anchor+BestFromMinutes, anchor+BestToMinutes), falling back to
	// anchor+OffsetMinutes where data is thin (plan.CheckBest has the
	// rules); false goes back to the fixed offset; nil keeps it, or turns
	// it on when a window bound is given.
	BestTime        *bool
	BestFromMinutes *int64
	BestToMinutes   *int64
	// Variants, when not nil, replaces the touchpoint's A/B variants
	// (empty removes them); refused (ErrConflict) once anything of it was
	// sent.
	Variants *[]VariantInput
	// Invalid are the caller's own parse errors.
	Invalid []FieldError
}

// Anchors are the anchors a touchpoint may have.
var Anchors = []string{store.AnchorStart, store.AnchorEnd, store.AnchorAbsolute}

// CoreAudiences are the audiences of the core loop's touchpoints.
var CoreAudiences = []string{store.AudienceAll, store.AudienceNotCheckedIn, store.AudienceCheckedIn}

// Choices are the kinds and audiences tp may have: new touchpoints
// (nil) and the core loop's are of bot.CardKinds with CoreAudiences; one of
// a kind another package registered on the Planner (a survey push, which
// belongs to its survey) keeps its kind and may use the registered
// audiences too.
func (s *Service) Choices(tp *store.Touchpoint) (kinds, audiences []string) {
	if tp == nil || slices.Contains(bot.CardKinds, tp.Kind) {
		return bot.CardKinds, CoreAudiences
	}
	extra := make([]string, 0, len(s.Planner.Audiences))
	for a, ok := range s.Planner.Audiences {
		if ok {
			extra = append(extra, a)
		}
	}
	sort.Strings(extra)
	return []string{tp.Kind}, append(append([]string(nil), CoreAudiences...), extra...)
}

// applyTouchpoint validates in onto tp with typed field errors; the
// Planner validates again when it stores it. It returns the audit detail.
func (s *Service) applyTouchpoint(in TouchpointInput, tp *store.Touchpoint, orig *store.Touchpoint, loc *time.Location) (map[string]any, []store.TouchpointVariant, error) {
	fs := callerFields(in.Invalid)
	kinds, auds := s.Choices(orig)
	if in.Kind != nil && *in.Kind != tp.Kind {
		tp.Kind, tp.Template = *in.Kind, *in.Kind
	}
	switch {
	case tp.Kind == "":
		fs.add("kind", CodeRequired, "is required", anyOf(kinds)...)
	case !slices.Contains(kinds, tp.Kind):
		fs.add("kind", CodeBadChoice, fmt.Sprintf("must be one of %v", kinds), anyOf(kinds)...)
	}
	if in.Anchor != nil {
		tp.Anchor = *in.Anchor
	}
	if !slices.Contains(Anchors, tp.Anchor) {
		fs.add("anchor", CodeBadChoice, fmt.Sprintf("must be one of %v", Anchors), anyOf(Anchors)...)
	}
	if in.Audience != nil {
		tp.Audience = *in.Audience
	}
	if !slices.Contains(auds, tp.Audience) {
		fs.add("audience", CodeBadChoice, fmt.Sprintf("must be one of %v", auds), anyOf(auds)...)
	}
	var ps plan.Problems
	if in.Cron != nil {
		tp.CronSpec = strings.TrimSpace(*in.Cron)
	}
	ps.Text("cron", tp.CronSpec, plan.MaxCron, false)
	if len(ps) == 0 && tp.CronSpec != "" {
		if _, err := scheduler.NextCron(tp.CronSpec, loc, s.now()); err != nil {
			fs.add("cron", CodeBadFormat, "is not a cron spec: "+err.Error(), err.Error())
		}
	}
	if in.At != nil {
		at := in.At.UTC()
		tp.At = &at
	}
	if in.OffsetMinutes != nil {
		tp.Offset = ps.Minutes("offset", *in.OffsetMinutes, -plan.MaxOffsetMinutes, plan.MaxOffsetMinutes)
	}
	if tp.Anchor == store.AnchorAbsolute {
		switch {
		case tp.At != nil:
			ps.Date("at", *tp.At)
		case tp.CronSpec == "" && !fs.has("at"):
			fs.add("at", CodeRequired, "is required with anchor absolute and no cron")
		}
	} else if slices.Contains(Anchors, tp.Anchor) {
		tp.At = nil
	}
	if in.Note != nil {
		tp.Note = strings.TrimSpace(*in.Note)
	}
	ps.Text("note", tp.Note, plan.MaxNote, false)
	applyBest(in, tp, &fs, &ps)
	fs.problems(ps)
	if tp.Kind == bot.KindCustom && tp.Note == "" {
		fs.add("note", CodeRequired, "a custom touchpoint needs a note (the message text)")
	}
	var vs []store.TouchpointVariant
	if in.Variants != nil && len(fs) == 0 {
		vs = variantsOf(*in.Variants, *tp, &fs)
	}
	if err := fs.err(); err != nil {
		return nil, nil, err
	}
	d := map[string]any{"kind": tp.Kind, "anchor": tp.Anchor, "offset_minutes": tp.Offset / 60, "at": tp.At,
		"cron": tp.CronSpec, "audience": tp.Audience, "note": tp.Note}
	if tp.BestTime() {
		d["best_from_minutes"], d["best_to_minutes"] = *tp.BestFrom/60, *tp.BestTo/60
	}
	if in.Variants != nil {
		d["variants"] = variantAudit(vs)
	}
	return d, vs, nil
}

// variantAudit is what the audit row says of variants vs.
func variantAudit(vs []store.TouchpointVariant) []map[string]any {
	out := make([]map[string]any, len(vs))
	for i, v := range vs {
		out[i] = map[string]any{"name": plan.VariantNames[i], "title": v.Title, "body": v.Body, "button": v.Button, "weight": v.Weight, "timing": v.Timing,
			"offset": v.Offset, "best_from": v.BestFrom, "best_to": v.BestTo}
	}
	return out
}

// applyBest applies in's best-time window onto tp and checks it with the
// Planner's rules (plan.CheckBest) once the other fields are valid.
func applyBest(in TouchpointInput, tp *store.Touchpoint, fs *fields, ps *plan.Problems) {
	off := in.BestTime != nil && !*in.BestTime
	if off {
		tp.BestFrom, tp.BestTo = nil, nil
	}
	for _, b := range []struct {
		field string
		in    *int64
		dst   **int64
	}{{"best_from", in.BestFromMinutes, &tp.BestFrom}, {"best_to", in.BestToMinutes, &tp.BestTo}} {
		switch {
		case b.in == nil:
		case off:
			fs.add(b.field, CodeNotAllowed, "is not allowed with best_time false")
		default:
			v := ps.Minutes(b.field, *b.in, -plan.MaxOffsetMinutes, plan.MaxOffsetMinutes)
			*b.dst = &v
		}
	}
	if in.BestTime != nil && *in.BestTime && tp.BestFrom == nil && tp.BestTo == nil {
		fs.add("best_from", CodeRequired, "best_time needs best_from_minutes and best_to_minutes")
		return
	}
	if len(*ps) == 0 && len(*fs) == 0 {
		ps.CheckBest(*tp)
	}
}

func anyOf(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// openSession loads session id for a touchpoint edit: writable by a and
// not cancelled.
func (s *Service) openSession(ctx context.Context, a Actor, id uint64) (store.Session, error) {
	ss, err := s.writableSession(ctx, a, id)
	if err != nil {
		return ss, err
	}
	if ss.Status == store.SessionCancelled {
		return ss, fmt.Errorf("session %d: %w", id, ErrCancelled)
	}
	return ss, nil
}

// touchpoint loads touchpoint id and its open session.
func (s *Service) touchpoint(ctx context.Context, a Actor, id uint64) (store.Touchpoint, store.Session, error) {
	var tp store.Touchpoint
	if err := take(ctx, s.DB, &tp, id, "touchpoint"); err != nil {
		return tp, store.Session{}, err
	}
	ss, err := s.openSession(ctx, a, tp.SessionID)
	return tp, ss, err
}

// CreateTouchpoint adds a touchpoint to session id and schedules it.
func (s *Service) CreateTouchpoint(ctx context.Context, a Actor, sessionID uint64, in TouchpointInput) (store.Touchpoint, error) {
	ss, err := s.openSession(ctx, a, sessionID)
	if err != nil {
		return store.Touchpoint{}, err
	}
	base := store.Touchpoint{Anchor: store.AnchorStart, Audience: store.AudienceAll, Status: store.TouchpointScheduled}
	detail, vs, err := s.applyTouchpoint(in, &base, nil, bot.SessionLocation(ss))
	if err != nil {
		return store.Touchpoint{}, err
	}
	var tp store.Touchpoint
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		tp = base
		if err := s.Planner.Create(ctx, tx, &tp, ss); err != nil {
			return err
		}
		if len(vs) > 0 {
			if err := s.Planner.SetVariants(ctx, tx, &tp, ss, vs); err != nil {
				return err
			}
		}
		return s.audit(tx, a, "touchpoint.create", fmt.Sprintf("touchpoint:%d", tp.ID), detail)
	})
	return tp, PlanError(err)
}

// UpdateTouchpoint changes touchpoint id and reschedules it.
func (s *Service) UpdateTouchpoint(ctx context.Context, a Actor, id uint64, in TouchpointInput) (store.Touchpoint, error) {
	orig, ss, err := s.touchpoint(ctx, a, id)
	if err != nil {
		return orig, err
	}
	next := orig
	detail, vs, err := s.applyTouchpoint(in, &next, &orig, bot.SessionLocation(ss))
	if err != nil {
		return orig, err
	}
	change := in.Variants != nil
	if change {
		// A form that sends the variants unchanged (the console's always
		// does) changes nothing, and is no conflict once sent.
		old, err := plan.LoadVariants(ctx, s.DB, id)
		if err != nil {
			return orig, err
		}
		if change = !sameVariants(old, vs); change {
			if err := s.refuseSentVariants(ctx, id); err != nil {
				return orig, err
			}
		}
	}
	var tp store.Touchpoint
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		tp = next
		if err := s.Planner.Update(ctx, tx, &tp); err != nil {
			return err
		}
		if change {
			if err := s.Planner.SetVariants(ctx, tx, &tp, ss, vs); err != nil {
				return err
			}
		}
		return s.audit(tx, a, "touchpoint.update", fmt.Sprintf("touchpoint:%d", tp.ID), detail)
	})
	return tp, PlanError(err)
}

// DeleteTouchpoint removes touchpoint id (one with deliveries is
// cancelled instead) and cancels its job.
func (s *Service) DeleteTouchpoint(ctx context.Context, a Actor, id uint64) error {
	if _, _, err := s.touchpoint(ctx, a, id); err != nil {
		return err
	}
	err := store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		if err := s.Planner.Delete(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(tx, a, "touchpoint.delete", fmt.Sprintf("touchpoint:%d", id), nil)
	})
	return PlanError(err)
}

// SetPaused pauses (or resumes) touchpoint id.
func (s *Service) SetPaused(ctx context.Context, a Actor, id uint64, paused bool) (store.Touchpoint, error) {
	if _, _, err := s.touchpoint(ctx, a, id); err != nil {
		return store.Touchpoint{}, err
	}
	action := "touchpoint.resume"
	if paused {
		action = "touchpoint.pause"
	}
	var tp store.Touchpoint
	err := store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		if tp, err = s.Planner.SetPaused(ctx, tx, id, paused); err != nil {
			return err
		}
		return s.audit(tx, a, action, fmt.Sprintf("touchpoint:%d", id), nil)
	})
	return tp, PlanError(err)
}

// SendNow fires touchpoint id now (plan.Planner.SendNow); detail joins the
// audit row's.
func (s *Service) SendNow(ctx context.Context, a Actor, id uint64, detail map[string]any) (store.Job, error) {
	if _, _, err := s.touchpoint(ctx, a, id); err != nil {
		return store.Job{}, err
	}
	job, err := s.Planner.SendNow(ctx, id)
	if err != nil {
		return job, PlanError(err)
	}
	d := map[string]any{"job": job.ID}
	for k, v := range detail {
		d[k] = v
	}
	// The job is queued: its audit row is written even if ctx ends.
	return job, s.auditDetached(ctx, a, "touchpoint.send_now", fmt.Sprintf("touchpoint:%d", id), d)
}

// RemindMissing creates an ad-hoc make-up reminder to everyone in
// session id not checked in and sends it now. It refuses (ErrConflict)
// when nobody can check in any more or nobody is missing; Missing is how
// many it reaches.
func (s *Service) RemindMissing(ctx context.Context, a Actor, sessionID uint64) (store.Touchpoint, int, error) {
	ss, err := s.openSession(ctx, a, sessionID)
	if err != nil {
		return store.Touchpoint{}, 0, err
	}
	now := s.now()
	if now.After(bot.SessionWindows(ss).MakeupUntil) {
		return store.Touchpoint{}, 0, fmt.Errorf("check-in has closed: %w", ErrClosed)
	}
	missing, err := bot.Audience(ctx, s.DB, ss.ID, store.AudienceNotCheckedIn)
	if err != nil {
		return store.Touchpoint{}, 0, fmt.Errorf("find missing: %w", err)
	}
	if len(missing) == 0 {
		return store.Touchpoint{}, 0, fmt.Errorf("everyone has checked in: %w", ErrNoneMissing)
	}
	var tp store.Touchpoint
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		tp = store.Touchpoint{Kind: bot.KindMakeupReminder, Template: bot.KindMakeupReminder, Anchor: store.AnchorAbsolute, At: &now,
			Audience: store.AudienceNotCheckedIn, Status: store.TouchpointScheduled, Note: cut.Runes("ad hoc: "+a.Name, plan.MaxNote)}
		if err := s.Planner.Create(ctx, tx, &tp, ss); err != nil {
			return err
		}
		return s.audit(tx, a, "touchpoint.create", fmt.Sprintf("touchpoint:%d", tp.ID),
			map[string]any{"kind": tp.Kind, "anchor": tp.Anchor, "at": tp.At, "audience": tp.Audience, "note": tp.Note, "ad_hoc": true})
	})
	if err != nil {
		return tp, 0, PlanError(err)
	}
	if _, err := s.SendNow(ctx, a, tp.ID, map[string]any{"missing": len(missing)}); err != nil {
		return tp, 0, err
	}
	return tp, len(missing), nil
}

// Conflicts of RemindMissing; each matches ErrConflict.
var (
	// ErrClosed: check-in has closed, nobody can check in any more.
	ErrClosed = fmt.Errorf("check-in closed: %w", ErrConflict)
	// ErrNoneMissing: everyone has checked in.
	ErrNoneMissing = fmt.Errorf("nobody missing: %w", ErrConflict)
)
