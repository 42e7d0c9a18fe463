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
	var (
		tp   store.Touchpoint
		orig *store.Touchpoint
		ss   store.Session
		err  error
	)
	if id == 0 {
		if ss, err = s.openSession(ctx, a, sessionID); err != nil {
			return nil, err
		}
		tp = store.Touchpoint{SessionID: ss.ID, Anchor: store.AnchorStart, Audience: store.AudienceAll, Status: store.TouchpointScheduled}
	} else {
		if tp, ss, err = s.touchpoint(ctx, a, id); err != nil {
			return nil, err
		}
		if tp.SessionID != sessionID {
			return nil, fmt.Errorf("touchpoint %d of session %d: %w", id, sessionID, ErrNotFound)
		}
		o := tp
		orig = &o
	}
	if in.Note == nil && id == 0 || in.Note != nil && strings.TrimSpace(*in.Note) == "" {
		// The message text decides nothing about the times: a custom
		// touchpoint whose text is not written yet still previews.
		draft := "(preview)"
		in.Note = &draft
	}
	if _, _, err := s.applyTouchpoint(in, &tp, orig, bot.SessionLocation(ss)); err != nil {
		return nil, err
	}
	if err := s.Planner.Validate(tp); err != nil {
		return nil, planErr(err)
	}
	fires, err := s.Planner.Fires(ctx, tp, ss, n)
	if err != nil {
		return nil, planErr(err)
	}
	return fires, nil
}
