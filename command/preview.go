package command

import (
	"context"
	"fmt"
	"strings"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/store"
)

// MaxPreview bounds how many fires PreviewTouchpoint returns.
const MaxPreview = 50

// PreviewTouchpoint returns the next n fires (plan.Planner.Fires: the
// scheduler's cron in the session's zone, quiet hours and holidays) that
// in would give touchpoint id of session sessionID — id 0 is a new one —
// without storing anything. in is checked as CreateTouchpoint and
// UpdateTouchpoint check it, with the same errors.
func (s *Service) PreviewTouchpoint(ctx context.Context, a Actor, sessionID, id uint64, in TouchpointInput, n int) ([]plan.Fire, error) {
	if n < 1 || n > MaxPreview {
		var fs fields
		fs.add("n", CodeOutOfRange, fmt.Sprintf("must be between 1 and %d", MaxPreview), 1, MaxPreview)
		return nil, fs.err()
	}
	d, err := s.draft(ctx, a, sessionID, id, in)
	if err != nil {
		return nil, err
	}
	fires, err := s.Planner.Fires(ctx, d.Touchpoint, d.Session, n)
	if err != nil {
		return nil, PlanError(err)
	}
	return fires, nil
}

// DraftVariants is a touchpoint as a form would save it and each of its
// variants' fire: nothing is stored.
type DraftVariants struct {
	Touchpoint store.Touchpoint
	Session    store.Session
	Variants   []plan.VariantFire
}

// PreviewVariants checks in as PreviewTouchpoint does and returns each of
// its variants (in's, or the stored ones when in leaves them) with the
// time it would fire now.
func (s *Service) PreviewVariants(ctx context.Context, a Actor, sessionID, id uint64, in TouchpointInput) (DraftVariants, error) {
	d, err := s.draft(ctx, a, sessionID, id, in)
	if err != nil {
		return DraftVariants{}, err
	}
	vs := d.variants
	if in.Variants == nil && id != 0 {
		if vs, err = plan.LoadVariants(ctx, s.DB, id); err != nil {
			return DraftVariants{}, err
		}
	}
	for i := range vs {
		vs[i].Name = plan.VariantNames[i]
	}
	out := DraftVariants{Touchpoint: d.Touchpoint, Session: d.Session}
	if out.Variants, err = s.Planner.VariantFires(ctx, d.Touchpoint, d.Session, vs); err != nil {
		return out, PlanError(err)
	}
	return out, nil
}

// draft is a touchpoint checked as a save would check it, not stored.
type draft struct {
	Touchpoint store.Touchpoint
	Session    store.Session
	variants   []store.TouchpointVariant
}

func (s *Service) draft(ctx context.Context, a Actor, sessionID, id uint64, in TouchpointInput) (draft, error) {
	var (
		tp   store.Touchpoint
		orig *store.Touchpoint
		ss   store.Session
		err  error
	)
	if id == 0 {
		if ss, err = s.openSession(ctx, a, sessionID); err != nil {
			return draft{}, err
		}
		tp = store.Touchpoint{SessionID: ss.ID, Anchor: store.AnchorStart, Audience: store.AudienceAll, Status: store.TouchpointScheduled}
	} else {
		if tp, ss, err = s.touchpoint(ctx, a, id); err != nil {
			return draft{}, err
		}
		if tp.SessionID != sessionID {
			return draft{}, fmt.Errorf("touchpoint %d of session %d: %w", id, sessionID, ErrNotFound)
		}
		o := tp
		orig = &o
	}
	if in.Note == nil && id == 0 || in.Note != nil && strings.TrimSpace(*in.Note) == "" {
		// The message text decides nothing about the times: a custom
		// touchpoint whose text is not written yet still previews.
		note := "(preview)"
		in.Note = &note
	}
	_, vs, err := s.applyTouchpoint(in, &tp, orig, bot.SessionLocation(ss))
	if err != nil {
		return draft{}, err
	}
	if err := s.Planner.Validate(tp); err != nil {
		return draft{}, PlanError(err)
	}
	return draft{Touchpoint: tp, Session: ss, variants: vs}, nil
}
