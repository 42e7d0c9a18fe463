package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/internal/defaults"
	"github.com/learnloop/learnloop/store"
)

// Windows are a session's check-in windows as absolute instants.
type Windows struct {
	Opens       time.Time // check-in accepted from here
	OnTimeUntil time.Time // start + grace
	LateUntil   time.Time // session end
	MakeupUntil time.Time // end + make-up window (补签)
}

// SessionWindows computes s's check-in windows.
func SessionWindows(s store.Session) Windows {
	return Windows{
		Opens:       s.StartsAt.Add(-time.Duration(s.CheckinOpensBefore) * time.Second),
		OnTimeUntil: s.StartsAt.Add(time.Duration(s.CheckinGrace) * time.Second),
		LateUntil:   s.EndsAt,
		MakeupUntil: s.EndsAt.Add(time.Duration(s.MakeupAfter) * time.Second),
	}
}

// Classify returns the check-in kind for a tap at t, or an error saying why
// no check-in is possible then.
func (w Windows) Classify(t time.Time) (string, error) {
	switch {
	case t.Before(w.Opens):
		return "", ErrCheckinNotOpen
	case !t.After(w.OnTimeUntil):
		return store.CheckinOnTime, nil
	case !t.After(w.LateUntil):
		return store.CheckinLate, nil
	case !t.After(w.MakeupUntil):
		return store.CheckinMakeup, nil
	default:
		return "", ErrCheckinClosed
	}
}

// Check-in refusals. Each leaves the database unchanged.
var (
	ErrCheckinNotOpen  = errors.New("check-in has not opened")
	ErrCheckinClosed   = errors.New("check-in has closed")
	ErrNotEnrolled     = errors.New("not on the roster")
	ErrSessionCanceled = errors.New("session cancelled")
	// ErrNotFound is store.ErrNotFound: an unknown delivery or session.
	ErrNotFound = store.ErrNotFound
)

// CheckinRequest asks to record one attendee's check-in.
type CheckinRequest struct {
	SessionID  uint64
	EmployeeID uint64
	Source     string
	Platform   string
	DeliveryID *uint64
	At         time.Time
	RecordedBy string
	Note       string
	// Kind forces the kind (manual check-ins by a coordinator); empty means
	// derive it from the windows.
	Kind string
	// Session is the already loaded session, if the caller has it. On MySQL
	// it may be an older copy (the storm path checks its version and decides
	// on a fresh read when it differs); elsewhere it must be current.
	Session *store.Session
}

// CheckinResult is the stored check-in and whether it already existed.
type CheckinResult struct {
	Checkin   store.Checkin
	Duplicate bool
	// staleSession: the caller's session was not the stored one (the
	// decision was made on a fresh read); a cache holding it should drop it.
	staleSession bool
}

// Checkins records check-ins under the window rules.
type Checkins struct {
	DB  *gorm.DB
	Now func() time.Time

	group groupCommit
}

// Record stores a check-in once. A second request for the same attendee
// returns the first one with Duplicate set; nothing else changes. The fast
// path (a first tap inside a window) is one enrollment read and one INSERT.
func (c *Checkins) Record(ctx context.Context, req CheckinRequest) (CheckinResult, error) {
	res, ok, refused, err := c.recordFast(req)
	if ok || err != nil {
		return res, err
	}
	if refused {
		// The fast path's guard refused: the session may have been edited
		// since the caller read it. Decide on a fresh read.
		req.Session = nil
		res, err = c.record(ctx, req)
		res.staleSession = true
		return res, err
	}
	return c.record(ctx, req)
}

// recordFast is the storm path (MySQL): a first tap inside a window with the
// session already known is group-committed with other taps, its enrollment
// and the session version checked by the INSERT itself. ok is false when the
// full path must decide (excused, not enrolled, edited session, closed
// window, manual kinds).
func (c *Checkins) recordFast(req CheckinRequest) (res CheckinResult, ok, refused bool, err error) {
	sess := req.Session
	if sess == nil || req.Kind != "" || sess.Status == store.SessionCancelled || !store.IsMySQL(c.DB) {
		return res, false, false, nil
	}
	at := req.At
	if at.IsZero() {
		at = c.now()
	}
	at = at.UTC().Truncate(time.Millisecond)
	kind, cerr := SessionWindows(*sess).Classify(at)
	if cerr != nil {
		return res, false, true, nil // closed by the caller's copy: ask the stored session
	}
	p := &pendingCheckin{
		ci: store.Checkin{
			SessionID: req.SessionID, EmployeeID: req.EmployeeID, Kind: kind, Source: req.Source,
			Platform: req.Platform, DeliveryID: req.DeliveryID, CheckedInAt: at,
			RecordedBy: req.RecordedBy, Note: req.Note, CreatedAt: c.now().UTC().Truncate(time.Millisecond),
		},
		sessUpdated: sess.UpdatedAt.UTC(),
	}
	c.group.do(p, func(batch []*pendingCheckin) { flushCheckins(c.DB, batch) })
	switch {
	case p.err != nil:
		return res, true, false, p.err
	case p.fallback:
		return res, false, true, nil
	}
	return CheckinResult{Checkin: p.stored, Duplicate: !p.inserted}, true, false, nil
}

// record is the full path: every rule read from the database.
func (c *Checkins) record(ctx context.Context, req CheckinRequest) (CheckinResult, error) {
	db := c.DB.WithContext(ctx)
	sess := req.Session
	if sess == nil {
		var s store.Session
		if err := db.Limit(1).Find(&s, req.SessionID).Error; err != nil {
			return CheckinResult{}, fmt.Errorf("load session: %w", err)
		}
		if s.ID == 0 {
			return CheckinResult{}, fmt.Errorf("session %d: %w", req.SessionID, ErrNotFound)
		}
		sess = &s
	}
	if sess.Status == store.SessionCancelled {
		return CheckinResult{}, ErrSessionCanceled
	}
	var enr store.Enrollment
	if err := db.Where("session_id = ? AND employee_id = ?", req.SessionID, req.EmployeeID).Limit(1).Find(&enr).Error; err != nil {
		return CheckinResult{}, fmt.Errorf("load enrollment: %w", err)
	}
	if enr.ID == 0 || enr.Status == store.EnrollCancelled {
		return CheckinResult{}, ErrNotEnrolled
	}
	at := req.At
	if at.IsZero() {
		at = c.now()
	}
	kind := req.Kind
	if kind == "" {
		k, err := SessionWindows(*sess).Classify(at)
		if err != nil {
			// Outside every window: a repeated tap still answers
			// "already checked in"; anything else is refused.
			if existing, ok, ferr := c.find(ctx, req.SessionID, req.EmployeeID); ferr != nil {
				return CheckinResult{}, ferr
			} else if ok {
				return CheckinResult{Checkin: existing, Duplicate: true}, nil
			}
			return CheckinResult{}, err
		}
		kind = k
	}
	ci := store.Checkin{
		SessionID: req.SessionID, EmployeeID: req.EmployeeID, Kind: kind, Source: req.Source,
		Platform: req.Platform, DeliveryID: req.DeliveryID, CheckedInAt: at.UTC(),
		RecordedBy: req.RecordedBy, Note: req.Note, CreatedAt: c.now().UTC(),
	}
	// The tap happened: store it even if the caller goes away mid-write, and
	// run it again after a deadlock or a broken connection.
	wctx, cancel := store.Detached(ctx, writeTimeout)
	defer cancel()
	err := store.Tx(wctx, c.DB, func(tx *gorm.DB) error {
		ci.ID = 0
		if err := tx.Create(&ci).Error; err != nil {
			return err
		}
		// The webhooks' outbox row (checkin.created) commits with it.
		if err := store.RecordEventsFrom(tx, store.EventCheckin, ci.CreatedAt, "SELECT ? AS ref_id, ? AS occurred_at", ci.ID, ci.CheckedInAt); err != nil {
			return err
		}
		if enr.Status != store.EnrollExcused {
			return nil
		}
		// They came after all: the roster follows the facts.
		return tx.Model(&store.Enrollment{}).Where("id = ?", enr.ID).Update("status", store.EnrollInvited).Error
	})
	if store.IsDuplicate(err) {
		existing, ok, ferr := c.find(ctx, req.SessionID, req.EmployeeID)
		if ferr != nil {
			return CheckinResult{}, ferr
		}
		if ok {
			return CheckinResult{Checkin: existing, Duplicate: true}, nil
		}
	}
	if err != nil {
		return CheckinResult{}, fmt.Errorf("store check-in: %w", err)
	}
	return CheckinResult{Checkin: ci}, nil
}

func (c *Checkins) find(ctx context.Context, sessionID, employeeID uint64) (store.Checkin, bool, error) {
	var ci store.Checkin
	err := c.DB.WithContext(ctx).Where("session_id = ? AND employee_id = ?", sessionID, employeeID).Limit(1).Find(&ci).Error
	if err != nil {
		return ci, false, fmt.Errorf("load check-in: %w", err)
	}
	return ci, ci.ID != 0, nil
}

func (c *Checkins) now() time.Time { return defaults.Now(c.Now) }
