// Package command holds the write operations that the REST API (package
// web), the console, the CLI and the demo share: courses, sessions (create
// with the default plan and surveys, re-plan, cancel, copy as the next
// session), enrollments (excuse, unexcuse), manual check-ins and touchpoint
// edits. Each command takes an Actor, validates with typed field errors
// (FieldError, localized by the caller), runs its transaction with
// store.Tx, writes its audit row and returns typed results or errors
// (ErrNotFound, ErrForbidden, ErrConflict, *InvalidError).
//
// It sits above plan and surveys (inside plan it would close a cycle
// through surveys); the front doors only parse and render.
package command

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/fielderr"
	"github.com/learnloop/learnloop/internal/defaults"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
)

// Errors every command may return (wrapped, with what was wrong).
var (
	// ErrNotFound is store.ErrNotFound: the one "no such row" of learnloop.
	ErrNotFound = store.ErrNotFound
	// ErrForbidden means the actor may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrConflict means the current state does not allow it.
	ErrConflict = errors.New("conflict")
	// ErrInvalid is what an *InvalidError matches with errors.Is
	// (fielderr.ErrInvalid, the same for every domain service).
	ErrInvalid = fielderr.ErrInvalid
)

// Conflicts with their own meaning; each matches ErrConflict.
var (
	// ErrCancelled: the session is cancelled.
	ErrCancelled = fmt.Errorf("the session is cancelled: %w", ErrConflict)
	// ErrNotEnrolled: the person is not on the session's roster.
	ErrNotEnrolled = fmt.Errorf("not on the session's roster: %w", ErrConflict)
	// ErrDuplicate: a unique value (a course code) is taken.
	ErrDuplicate = fmt.Errorf("already exists: %w", ErrConflict)
)

// Field error codes. The first ones are plan.validate.go's problem kinds.
const (
	CodeRequired       = plan.ProblemRequired   // empty
	CodeTooLong        = plan.ProblemTooLong    // Args: max characters
	CodeOutOfRange     = plan.ProblemRange      // Args: min, max
	CodeBadURL         = plan.ProblemURL        // not an absolute http(s) URL with a host
	CodeBadZone        = plan.ProblemZone       // not an IANA time zone
	CodeBadDate        = plan.ProblemDate       // outside plan.MinDate..MaxDate
	CodeEndBeforeStart = plan.ProblemEndBefore  // ends_at not after starts_at
	CodeSessionTooLong = plan.ProblemTooLongRun // longer than plan.MaxSessionLength
	CodeBadFormat      = "bad_format"           // unreadable (a time, a number)
	CodeBadChoice      = "bad_choice"           // not one of the allowed values; Args: the choices
	CodeUnknown        = "unknown"              // names a row that does not exist
	CodeNotAllowed     = "not_allowed"          // names a row the actor may not use, or a field this command does not take
	CodeBadValue       = "bad_value"            // refused by the Planner (kind, audience, cron, anchor); Args: its reason
	// A touchpoint's best-time window (plan.CheckBest).
	CodeBestNotAllowed = plan.ProblemBestNotAllowed // this kind, a cron or anchor absolute cannot learn its time
	CodeWindowOrder    = plan.ProblemWindowOrder    // best_to not after best_from
	CodeWindowTooLong  = plan.ProblemWindowTooLong  // the window is longer than sendtime.MaxWindow
	CodeOutsideWindow  = plan.ProblemOutsideWindow  // the offset (the fallback) is outside the window
)

// FieldError is one invalid field: its name, a stable code and the code's
// arguments. Callers localize it; Message is the English text.
type FieldError = fielderr.Error

// InvalidError lists every invalid field of one input; nothing was changed.
type InvalidError = fielderr.Invalid

// callerFields starts a list with the caller's parse errors, giving each
// its English message when it has none.
func callerFields(in []FieldError) fields {
	fs := make(fields, 0, len(in))
	for _, f := range in {
		if f.Message == "" {
			f.Message = defaultMessage(f.Code)
		}
		fs = append(fs, f)
	}
	return fs
}

// defaultMessage is the English message of a field error's code (the
// API's language), "is invalid" for a code without one.
func defaultMessage(code string) string {
	if k := "command:code." + code; text.Has(k) {
		return text.T(text.EN, k)
	}
	return text.T(text.EN, "command:code.invalid")
}

// fields collects field errors; at most one per field (the first).
type fields []FieldError

func (fs *fields) add(field, code, msg string, args ...any) {
	if fs.has(field) {
		return
	}
	*fs = append(*fs, FieldError{Field: field, Code: code, Args: args, Message: msg})
}

func (fs fields) has(field string) bool {
	for _, f := range fs {
		if f.Field == field {
			return true
		}
	}
	return false
}

// problems adds plan's problems, renamed by names.
func (fs *fields) problems(ps plan.Problems) {
	for _, p := range ps {
		var args []any
		switch p.Kind {
		case plan.ProblemTooLong:
			args = []any{p.Max}
		case plan.ProblemRange:
			args = []any{p.Min, p.Max}
		}
		fs.add(p.Field, p.Kind, p.Error(), args...)
	}
}

func (fs fields) err() error {
	if len(fs) == 0 {
		return nil
	}
	return &InvalidError{Fields: fs}
}

// Actor is who runs a command, with which rights: a console account
// (admin, coordinator, department head) or the API token, which acts as
// an admin.
type Actor struct {
	// Name is recorded in the audit log and on manual check-ins.
	Name string
	// Role is store.RoleAdmin, store.RoleCoordinator or
	// store.RoleDepartmentHead.
	Role string
	// Token marks the API's bearer token: an admin whose course owners need
	// not be console accounts (they are the HR system's ids).
	Token bool
	// Department is a department head's department.
	Department string
	// Departments, when not nil, is what a department head sees
	// (DepartmentScope of Department, resolved once by the caller); nil
	// means Department alone.
	Departments []string
}

// TokenActor is the API token named name: it acts as an admin.
func TokenActor(name string) Actor { return Actor{Name: name, Role: store.RoleAdmin, Token: true} }

// Admin reports whether a may change everything.
func (a Actor) Admin() bool { return a.Role == store.RoleAdmin }

// CanWrite reports whether a may change course and its sessions: an
// admin, or the coordinator who owns it. Department heads only read.
func (a Actor) CanWrite(course store.Course) bool {
	switch a.Role {
	case store.RoleAdmin:
		return true
	case store.RoleCoordinator:
		return course.Owner != "" && course.Owner == a.Name
	}
	return false
}

// SurveyPlans is the part of the surveys engine sessions need
// (*surveys.Service implements it).
type SurveyPlans interface {
	// AttachDefault adds the default surveys and their touchpoints to a
	// new session in tx.
	AttachDefault(ctx context.Context, tx *gorm.DB, sess store.Session, course store.Course) ([]store.Touchpoint, error)
	// SessionMoved shifts the session's survey dates after its times
	// changed, in tx.
	SessionMoved(ctx context.Context, tx *gorm.DB, old, sess store.Session) error
}

// Copier copies a session as the next one of its course
// (*surveys.Service implements it).
type Copier interface {
	CopySession(ctx context.Context, tx *gorm.DB, src store.Session, next surveys.SessionCopy) (store.Session, error)
}

// CalendarSync keeps sessions in their attendees' platform calendars
// (*calendar.Service implements it): each call enqueues, in tx, the sync of
// what changed.
type CalendarSync interface {
	// Changed: a session, or its roster, changed.
	Changed(ctx context.Context, tx *gorm.DB, sessionID uint64) error
	// CourseChanged: a course's calendar flag changed.
	CourseChanged(ctx context.Context, tx *gorm.DB, courseID uint64) error
}

// Calendar invite choices of a course or a session (CalendarInvite).
const (
	InviteOn  = "on"
	InviteOff = "off"
	// InviteInherit: a session follows its course, a course
	// calendar.invite_default.
	InviteInherit = "inherit"
)

// InviteChoice is a stored calendar_invite flag as its choice.
func InviteChoice(b *bool) string {
	switch {
	case b == nil:
		return InviteInherit
	case *b:
		return InviteOn
	}
	return InviteOff
}

// inviteFlag sets *dst from choice v (when given), or adds a field error.
func (fs *fields) inviteFlag(v *string, dst **bool) {
	if v == nil {
		return
	}
	switch strings.TrimSpace(*v) {
	case InviteOn:
		t := true
		*dst = &t
	case InviteOff:
		f := false
		*dst = &f
	case InviteInherit, "":
		*dst = nil
	default:
		fs.add("calendar_invite", CodeBadChoice, `must be "on", "off" or "inherit"`, InviteOn, InviteOff, InviteInherit)
	}
}

// Defaults are what a new session gets when its input leaves it out.
type Defaults struct {
	Location    *time.Location
	Locale      string
	OpensBefore time.Duration
	Grace       time.Duration
	MakeupAfter time.Duration
}

// Service runs the commands. Build it where DB, Planner and the rest are
// at hand; it holds no state of its own.
type Service struct {
	DB      *gorm.DB
	Planner *plan.Planner
	// Surveys attaches default surveys, moves them with their session and
	// copies sessions; nil skips the first two and refuses copies.
	Surveys SurveyPlans
	// Admin adds, closes and reminds surveys; nil refuses those commands
	// (ErrNotFound).
	Admin SurveyAdmin
	// Checkins records manual check-ins.
	Checkins *bot.Checkins
	// RosterLookups find, on the platforms, the people a roster row names
	// only by mobile or e-mail and the company directory does not know yet
	// (directory.RosterLookups); nil resolves from the directory alone.
	RosterLookups []roster.Lookup
	// Calendar syncs sessions into the platforms' calendars; nil leaves
	// calendars alone.
	Calendar CalendarSync
	Defaults Defaults
	// ReportOptions tunes the session reports Reports gives (the
	// experiments' minimum sample).
	ReportOptions reports.Options
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time { return defaults.Now(s.Now) }

// Copier returns the service's Copier, or nil when copies are not
// available.
func (s *Service) Copier() Copier {
	cp, _ := s.Surveys.(Copier)
	return cp
}

// calendarChanged enqueues session id's calendar sync in tx.
func (s *Service) calendarChanged(ctx context.Context, tx *gorm.DB, sessionID uint64) error {
	if s.Calendar == nil || sessionID == 0 {
		return nil
	}
	return s.Calendar.Changed(ctx, tx, sessionID)
}

// audit writes one audit row in tx.
func (s *Service) audit(tx *gorm.DB, a Actor, action, object string, detail any) error {
	return store.WriteAudit(tx, a.Name, action, object, detail, s.now())
}

// take loads a row by primary key, or ErrNotFound naming what.
func take(ctx context.Context, db *gorm.DB, dst any, id uint64, what string) error {
	err := db.WithContext(ctx).Take(dst, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s %d does not exist: %w", what, id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("load %s %d: %w", what, id, err)
	}
	return nil
}

// PlanError turns the Planner's refusals into this package's errors (an
// *InvalidError for the field touchpoint, ErrConflict), for the front
// doors that call the Planner themselves, as the commands do.
func PlanError(err error) error {
	if errors.Is(err, plan.ErrInvalid) {
		return &InvalidError{Fields: []FieldError{{Field: "touchpoint", Code: CodeBadValue, Args: []any{err.Error()}, Message: err.Error()}}}
	}
	if errors.Is(err, plan.ErrConflict) && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}
