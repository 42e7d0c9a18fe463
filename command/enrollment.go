package command

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/store"
)

// Person names an employee: by id, or else by external id.
type Person struct {
	EmployeeID uint64
	ExternalID string
}

// RosterEntry is a person on a session's roster.
type RosterEntry struct {
	Employee   store.Employee
	Enrollment store.Enrollment
}

// FindPerson loads the employee p names: an *InvalidError when p names
// nobody, ErrNotFound when there is no such employee.
func (s *Service) FindPerson(ctx context.Context, p Person) (store.Employee, error) {
	var e store.Employee
	q := s.DB.WithContext(ctx).Limit(1)
	switch ext := strings.TrimSpace(p.ExternalID); {
	case p.EmployeeID != 0:
		q = q.Where("id = ?", p.EmployeeID)
	case ext != "":
		q = q.Where("external_id = ?", ext)
	default:
		return e, &InvalidError{Fields: []FieldError{{Field: "external_id", Code: CodeRequired, Message: "employee_id or external_id is required"}}}
	}
	if err := q.Find(&e).Error; err != nil {
		return e, fmt.Errorf("find employee: %w", err)
	}
	if e.ID == 0 {
		return e, fmt.Errorf("employee %s: %w", p.label(), ErrNotFound)
	}
	return e, nil
}

func (p Person) label() string {
	if p.EmployeeID != 0 {
		return fmt.Sprint(p.EmployeeID)
	}
	return fmt.Sprintf("%q", strings.TrimSpace(p.ExternalID))
}

// OnRoster loads p and their enrollment in session id: ErrNotEnrolled
// when they are not on its roster (or were removed from it).
func (s *Service) OnRoster(ctx context.Context, sessionID uint64, p Person) (RosterEntry, error) {
	var re RosterEntry
	e, err := s.FindPerson(ctx, p)
	if err != nil {
		return re, err
	}
	re.Employee = e
	if err := s.DB.WithContext(ctx).Where("session_id = ? AND employee_id = ?", sessionID, e.ID).Limit(1).Find(&re.Enrollment).Error; err != nil {
		return re, fmt.Errorf("find enrollment: %w", err)
	}
	if re.Enrollment.ID == 0 || re.Enrollment.Status == store.EnrollCancelled {
		return re, fmt.Errorf("%s: %w", e.ExternalID, ErrNotEnrolled)
	}
	return re, nil
}

// checkNote trims note and refuses one longer than the column (it is
// never cut).
func checkNote(note string) (string, error) {
	note = strings.TrimSpace(note)
	var ps plan.Problems
	ps.Text("note", note, plan.MaxNote, false)
	var fs fields
	fs.problems(ps)
	return note, fs.err()
}

// EnrollmentResult is a person's enrollment after a command; Changed is
// false when it already was in the wanted state.
type EnrollmentResult struct {
	Employee store.Employee
	Status   string
	Changed  bool
}

// Excuse marks p excused (请假) in session id: they leave the denominator.
func (s *Service) Excuse(ctx context.Context, a Actor, sessionID uint64, p Person, note string) (EnrollmentResult, error) {
	return s.setExcused(ctx, a, sessionID, p, note, true)
}

// Unexcuse puts an excused p back on session id's invited roster.
func (s *Service) Unexcuse(ctx context.Context, a Actor, sessionID uint64, p Person) (EnrollmentResult, error) {
	return s.setExcused(ctx, a, sessionID, p, "", false)
}

func (s *Service) setExcused(ctx context.Context, a Actor, sessionID uint64, p Person, note string, excused bool) (EnrollmentResult, error) {
	var res EnrollmentResult
	note, err := checkNote(note)
	if err != nil {
		return res, err
	}
	if _, err := s.openSession(ctx, a, sessionID); err != nil {
		return res, err
	}
	re, err := s.OnRoster(ctx, sessionID, p)
	if err != nil {
		return res, err
	}
	res.Employee = re.Employee
	from, to, action, detail := store.EnrollExcused, store.EnrollInvited, "enrollment.unexcuse", map[string]any{"employee": re.Employee.ExternalID}
	if excused {
		from, to, action = "", store.EnrollExcused, "enrollment.excuse"
		detail["note"] = note
	}
	res.Status = to
	if re.Enrollment.Status == to || (!excused && re.Enrollment.Status != from) {
		res.Status = re.Enrollment.Status
		return res, nil
	}
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		set := map[string]any{"status": to, "updated_at": s.now()}
		q := tx.Model(&store.Enrollment{}).Where("id = ? AND status <> ?", re.Enrollment.ID, store.EnrollCancelled)
		if excused {
			set["note"] = note
		} else {
			q = q.Where("status = ?", from)
		}
		r := q.Updates(set)
		if r.Error != nil {
			return fmt.Errorf("update enrollment: %w", r.Error)
		}
		if res.Changed = r.RowsAffected > 0; !res.Changed {
			return nil
		}
		if err := s.calendarChanged(ctx, tx, sessionID); err != nil {
			return err
		}
		return s.audit(tx, a, action, fmt.Sprintf("session:%d", sessionID), detail)
	})
	return res, err
}

// CheckinInput is a manual check-in: who, and optionally the kind
// (on_time, late, makeup; empty follows the windows) and a note.
type CheckinInput struct {
	Person Person
	Kind   string
	Note   string
}

// CheckinResult is the stored check-in (the earlier one when Duplicate).
type CheckinResult struct {
	Employee  store.Employee
	Checkin   store.Checkin
	Duplicate bool
}

// ManualCheckin records a check-in for someone (a dead phone, a paper
// list) through bot.Checkins.Record: Source manual, the actor as
// RecordedBy. The kind follows the windows unless given, and anything
// after the end counts as make-up.
func (s *Service) ManualCheckin(ctx context.Context, a Actor, sessionID uint64, in CheckinInput) (CheckinResult, error) {
	var res CheckinResult
	switch in.Kind {
	case "", store.CheckinOnTime, store.CheckinLate, store.CheckinMakeup:
	default:
		return res, &InvalidError{Fields: []FieldError{{Field: "kind", Code: CodeBadChoice, Args: []any{store.CheckinOnTime, store.CheckinLate, store.CheckinMakeup},
			Message: "must be on_time, late or makeup"}}}
	}
	note, err := checkNote(in.Note)
	if err != nil {
		return res, err
	}
	ss, err := s.openSession(ctx, a, sessionID)
	if err != nil {
		return res, err
	}
	e, err := s.FindPerson(ctx, in.Person)
	if err != nil {
		return res, err
	}
	res.Employee = e
	now := s.now()
	kind := in.Kind
	if kind == "" {
		k, err := bot.SessionWindows(ss).Classify(now)
		switch {
		case err == nil:
			kind = k
		case errors.Is(err, bot.ErrCheckinNotOpen):
			kind = store.CheckinOnTime
		default:
			kind = store.CheckinMakeup
		}
	}
	r, err := s.Checkins.Record(ctx, bot.CheckinRequest{SessionID: sessionID, EmployeeID: e.ID, Source: store.SourceManual,
		Kind: kind, RecordedBy: a.Name, Note: note, At: now, Session: &ss})
	switch {
	case errors.Is(err, bot.ErrNotEnrolled):
		return res, fmt.Errorf("%s: %w", e.ExternalID, ErrNotEnrolled)
	case errors.Is(err, bot.ErrSessionCanceled):
		return res, fmt.Errorf("session %d: %w", sessionID, ErrCancelled)
	case err != nil:
		return res, fmt.Errorf("record check-in: %w", err)
	}
	res.Checkin, res.Duplicate = r.Checkin, r.Duplicate
	if r.Duplicate {
		return res, nil
	}
	// The check-in happened: its audit row is written even if ctx ends.
	return res, s.auditDetached(ctx, a, "checkin.manual", fmt.Sprintf("session:%d", sessionID),
		map[string]any{"employee": e.ExternalID, "kind": kind, "note": note})
}
