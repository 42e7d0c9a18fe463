package surveys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/store"
)

// NextSessionShift is how far "copy as next session" moves a session by
// default.
const NextSessionShift = 7 * 24 * time.Hour

// ErrBadCopy is returned by CopySession for times it cannot use.
var ErrBadCopy = errors.New("invalid copy")

// SessionCopy is what changes in a copied session; zero fields keep the
// source's value (times shifted by NextSessionShift).
type SessionCopy struct {
	Title    string
	StartsAt time.Time
	EndsAt   time.Time
}

// CopySession stores, in tx, the next session of src's course: the same
// course, teacher, place, zone, language and check-in windows; the times of
// next (src's times a week later by default); the same plan (every
// touchpoint except ad-hoc ones — "remind now", a coordinator's reminder —
// and cancelled ones, times relative to the new session, absolute times
// shifted with it); the same surveys (fresh, open, their open/close times
// shifted with the end) with their pushes; and the roster (everyone invited
// on src, excused included, is invited; excuses and check-ins are not
// copied). The plan's jobs are enqueued.
func (s *Service) CopySession(ctx context.Context, tx *gorm.DB, src store.Session, next SessionCopy) (store.Session, error) {
	tx = tx.WithContext(ctx)
	if next.StartsAt.IsZero() {
		next.StartsAt = src.StartsAt.Add(NextSessionShift)
	}
	if next.EndsAt.IsZero() {
		next.EndsAt = next.StartsAt.Add(src.EndsAt.Sub(src.StartsAt))
	}
	if !next.EndsAt.After(next.StartsAt) {
		return store.Session{}, fmt.Errorf("%w: ends_at must be after starts_at", ErrBadCopy)
	}
	if next.EndsAt.Sub(next.StartsAt) > plan.MaxSessionLength {
		return store.Session{}, fmt.Errorf("%w: a session lasts at most %d days", ErrBadCopy, int(plan.MaxSessionLength/(24*time.Hour)))
	}
	if next.Title == "" {
		next.Title = src.Title
	}
	now := s.now()
	dst := src
	dst.ID, dst.Title, dst.StartsAt, dst.EndsAt = 0, next.Title, next.StartsAt.UTC(), next.EndsAt.UTC()
	dst.Status, dst.CreatedAt, dst.UpdatedAt = store.SessionPlanned, now, now
	if err := tx.Create(&dst).Error; err != nil {
		return dst, fmt.Errorf("copy session: %w", err)
	}
	startShift, endShift := dst.StartsAt.Sub(src.StartsAt), dst.EndsAt.Sub(src.EndsAt)

	var enr []store.Enrollment
	if err := tx.Where("session_id = ? AND status <> ?", src.ID, store.EnrollCancelled).Order("id").Find(&enr).Error; err != nil {
		return dst, fmt.Errorf("copy roster: %w", err)
	}
	if len(enr) > 0 {
		rows := make([]store.Enrollment, 0, len(enr))
		for _, e := range enr {
			rows = append(rows, store.Enrollment{SessionID: dst.ID, EmployeeID: e.EmployeeID, Status: store.EnrollInvited, CreatedAt: now, UpdatedAt: now})
		}
		if err := tx.CreateInBatches(rows, 500).Error; err != nil {
			return dst, fmt.Errorf("copy roster: %w", err)
		}
	}

	var svs []store.Survey
	if err := tx.Where("session_id = ?", src.ID).Order("id").Find(&svs).Error; err != nil {
		return dst, fmt.Errorf("copy surveys: %w", err)
	}
	surveyOf := map[uint64]uint64{}
	for _, sv := range svs {
		c := sv
		c.ID, c.SessionID, c.Status = 0, dst.ID, store.SurveyOpen
		c.OpensAt, c.ClosesAt = sv.OpensAt.Add(endShift), sv.ClosesAt.Add(endShift)
		c.CreatedAt, c.UpdatedAt = now, now
		if err := tx.Create(&c).Error; err != nil {
			return dst, fmt.Errorf("copy survey %d: %w", sv.ID, err)
		}
		surveyOf[sv.ID] = c.ID
	}

	var tps []store.Touchpoint
	if err := tx.Where("session_id = ? AND status <> ?", src.ID, store.TouchpointCancelled).Order("id").Find(&tps).Error; err != nil {
		return dst, fmt.Errorf("copy plan: %w", err)
	}
	for _, tp := range tps {
		if adHoc(tp) {
			continue
		}
		c := store.Touchpoint{Kind: tp.Kind, Anchor: tp.Anchor, Offset: tp.Offset, CronSpec: tp.CronSpec, Audience: tp.Audience,
			Template: tp.Template, Note: tp.Note}
		if tp.Status == store.TouchpointPaused {
			c.Status = store.TouchpointPaused
		}
		if tp.At != nil {
			at := tp.At.Add(startShift)
			c.At = &at
		}
		if tp.SurveyID != 0 {
			id, ok := surveyOf[tp.SurveyID]
			if !ok {
				continue // a push of another session's survey: not part of this plan
			}
			c.SurveyID = id
		}
		if err := s.Planner.Create(ctx, tx, &c, dst); err != nil {
			return dst, fmt.Errorf("copy touchpoint %d: %w", tp.ID, err)
		}
	}
	return dst, nil
}

// adHoc reports whether tp was sent by hand rather than planned: "remind
// now" on a survey, or a coordinator's reminder from the live board.
func adHoc(tp store.Touchpoint) bool {
	return tp.Note == RemindNowNote || strings.HasPrefix(tp.Note, "ad hoc")
}
