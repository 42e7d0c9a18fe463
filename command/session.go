package command

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
)

// Plan choices of a new session.
const (
	PlanDefault = "default" // the default plan and the default surveys
	PlanNone    = "none"
)

// SessionInput creates or changes a session; nil fields keep their value
// (on create: Defaults, the course's title, the default plan).
type SessionInput struct {
	CourseID           *uint64
	Title              *string
	StartsAt           *time.Time
	EndsAt             *time.Time
	Location           *string
	OnlineURL          *string
	Teacher            *string
	TimeZone           *string
	Locale             *string
	OpensBeforeMinutes *int64
	GraceMinutes       *int64
	MakeupAfterMinutes *int64
	// OpensBefore, Grace and MakeupAfter give a window to the second (the
	// demo's short sessions); the minutes fields win when both are set.
	OpensBefore *time.Duration
	Grace       *time.Duration
	MakeupAfter *time.Duration
	// Plan is PlanDefault (when nil) or PlanNone; only on create.
	Plan *string
	// CalendarInvite is InviteOn, InviteOff or InviteInherit (follow the
	// course); nil keeps it (on create: inherit).
	CalendarInvite *string
	// Invalid are the caller's own parse errors; they join the command's
	// and nothing is stored.
	Invalid []FieldError
}

// SessionResult is a stored session with its touchpoints (those the
// command planned: on create and copy).
type SessionResult struct {
	Session     store.Session
	Teacher     string
	Touchpoints []store.Touchpoint
}

// Session field names of the windows.
const (
	FieldOpensBefore = "opens_before"
	FieldGrace       = "grace"
	FieldMakeupAfter = "makeup_after"
)

// applySession validates in onto ss: the course (existing, writable by a),
// plan's bounds, the locale and plan choice. It returns the course.
func (s *Service) applySession(ctx context.Context, a Actor, in SessionInput, ss *store.Session, create bool) (store.Course, map[string]any, error) {
	fs := callerFields(in.Invalid)
	var course store.Course
	if in.CourseID != nil {
		ss.CourseID = *in.CourseID
	}
	switch {
	case fs.has("course_id"):
	case ss.CourseID == 0:
		fs.add("course_id", CodeRequired, "is required")
	default:
		err := take(ctx, s.DB, &course, ss.CourseID, "course")
		switch {
		case errors.Is(err, ErrNotFound):
			fs.add("course_id", CodeUnknown, fmt.Sprintf("course %d does not exist", ss.CourseID))
		case err != nil:
			return course, nil, err
		case !a.CanWrite(course):
			fs.add("course_id", CodeNotAllowed, fmt.Sprintf("course %d is not yours to plan", ss.CourseID))
		}
	}
	if in.Title != nil {
		ss.Title = strings.TrimSpace(*in.Title)
	}
	if ss.Title == "" {
		ss.Title = course.Title
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	set(&ss.Location, in.Location)
	set(&ss.OnlineURL, in.OnlineURL)
	set(&ss.TimeZone, in.TimeZone)
	set(&ss.Locale, in.Locale)
	if in.StartsAt != nil {
		ss.StartsAt = in.StartsAt.UTC()
	}
	if in.EndsAt != nil {
		ss.EndsAt = in.EndsAt.UTC()
	}
	var ps plan.Problems
	for _, m := range []struct {
		field string
		in    *int64
		d     *time.Duration
		out   *int64
	}{{FieldOpensBefore, in.OpensBeforeMinutes, in.OpensBefore, &ss.CheckinOpensBefore}, {FieldGrace, in.GraceMinutes, in.Grace, &ss.CheckinGrace},
		{FieldMakeupAfter, in.MakeupAfterMinutes, in.MakeupAfter, &ss.MakeupAfter}} {
		switch {
		case m.in != nil:
			*m.out = ps.Minutes(m.field, *m.in, 0, plan.MaxWindowMinutes)
		case m.d != nil && (*m.d < 0 || *m.d > plan.MaxWindowMinutes*time.Minute):
			ps = append(ps, plan.Problem{Field: m.field, Kind: plan.ProblemRange, Min: 0, Max: plan.MaxWindowMinutes})
		case m.d != nil:
			*m.out = int64(*m.d / time.Second)
		}
	}
	teacher := ""
	if in.Teacher != nil {
		teacher = strings.TrimSpace(*in.Teacher)
	}
	ps.CheckSession(*ss, teacher)
	fs.problems(ps)
	if ss.StartsAt.IsZero() {
		fs.add("starts_at", CodeRequired, "is required (RFC 3339, e.g. 2026-03-02T09:00:00+08:00)")
	}
	if ss.EndsAt.IsZero() {
		fs.add("ends_at", CodeRequired, "is required (RFC 3339)")
	}
	if _, ok := text.Exact(ss.Locale); !ok {
		fs.add("locale", CodeBadChoice, "must be zh-CN or en", text.ZH, text.EN)
	}
	fs.inviteFlag(in.CalendarInvite, &ss.CalendarInvite)
	if in.Plan != nil {
		switch {
		case !create:
			fs.add("plan", CodeNotAllowed, "only accepted when creating a session")
		case *in.Plan != PlanDefault && *in.Plan != PlanNone:
			fs.add("plan", CodeBadChoice, `must be "default" or "none"`, PlanDefault, PlanNone)
		}
	}
	if err := fs.err(); err != nil {
		return course, nil, err
	}
	detail := map[string]any{
		"course_id": ss.CourseID, "title": ss.Title, "starts_at": ss.StartsAt, "ends_at": ss.EndsAt, "time_zone": ss.TimeZone,
		"locale": ss.Locale, "location": ss.Location, "online_url": ss.OnlineURL, "calendar_invite": InviteChoice(ss.CalendarInvite),
		"checkin": map[string]int64{"opens_before_minutes": ss.CheckinOpensBefore / 60, "grace_minutes": ss.CheckinGrace / 60, "makeup_after_minutes": ss.MakeupAfter / 60},
	}
	if in.Teacher != nil {
		detail["teacher"] = teacher
	}
	if create {
		detail["plan"] = PlanDefault
		if in.Plan != nil {
			detail["plan"] = *in.Plan
		}
	}
	return course, detail, nil
}

// teacherID finds or creates the teacher named name in tx.
func (s *Service) teacherID(tx *gorm.DB, name string) (*uint64, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, nil
	}
	var t store.Teacher
	if err := tx.Where("name = ?", name).Limit(1).Find(&t).Error; err != nil {
		return nil, fmt.Errorf("find teacher: %w", err)
	}
	if t.ID == 0 {
		t = store.Teacher{Name: name, CreatedAt: s.now()}
		if err := tx.Create(&t).Error; err != nil {
			return nil, fmt.Errorf("create teacher: %w", err)
		}
	}
	return &t.ID, nil
}

// TeacherName is the name of sess's teacher, or "".
func (s *Service) TeacherName(ctx context.Context, sess store.Session) string {
	if sess.TeacherID == nil {
		return ""
	}
	var t store.Teacher
	s.DB.WithContext(ctx).Limit(1).Find(&t, *sess.TeacherID)
	return t.Name
}

// CreateSession stores a new session of a course the actor may write and,
// unless in.Plan is PlanNone, gives it the default plan and the default
// surveys.
func (s *Service) CreateSession(ctx context.Context, a Actor, in SessionInput) (SessionResult, error) {
	if a.Role != store.RoleAdmin && a.Role != store.RoleCoordinator {
		return SessionResult{}, fmt.Errorf("create session: %w", ErrForbidden)
	}
	d := s.Defaults
	if d.Location == nil {
		d.Location = time.UTC
	}
	base := store.Session{
		TimeZone: d.Location.String(), Locale: string(text.Parse(d.Locale)), Status: store.SessionPlanned,
		CheckinOpensBefore: int64(d.OpensBefore / time.Second), CheckinGrace: int64(d.Grace / time.Second),
		MakeupAfter: int64(d.MakeupAfter / time.Second),
	}
	course, detail, err := s.applySession(ctx, a, in, &base, true)
	if err != nil {
		return SessionResult{}, err
	}
	var res SessionResult
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		res = SessionResult{Session: base}
		ss := &res.Session
		if in.Teacher != nil {
			id, err := s.teacherID(tx, *in.Teacher)
			if err != nil {
				return err
			}
			ss.TeacherID = id
		}
		if err := tx.Create(ss).Error; err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		if in.Plan == nil || *in.Plan == PlanDefault {
			tps, err := s.Planner.ApplyDefault(ctx, tx, *ss)
			if err != nil {
				return fmt.Errorf("apply default plan: %w", err)
			}
			res.Touchpoints = tps
			if s.Surveys != nil {
				more, err := s.Surveys.AttachDefault(ctx, tx, *ss, course)
				if err != nil {
					return fmt.Errorf("attach default surveys: %w", err)
				}
				res.Touchpoints = append(res.Touchpoints, more...)
			}
		}
		if err := s.calendarChanged(ctx, tx, ss.ID); err != nil {
			return err
		}
		return s.audit(tx, a, "session.create", fmt.Sprintf("session:%d", ss.ID), detail)
	})
	if err != nil {
		return SessionResult{}, err
	}
	if in.Teacher != nil {
		res.Teacher = strings.TrimSpace(*in.Teacher)
	}
	return res, nil
}

// writableSession loads session id and checks that a may change it.
func (s *Service) writableSession(ctx context.Context, a Actor, id uint64) (store.Session, error) {
	var ss store.Session
	if err := take(ctx, s.DB, &ss, id, "session"); err != nil {
		return ss, err
	}
	if a.Admin() {
		return ss, nil
	}
	var course store.Course
	if err := take(ctx, s.DB, &course, ss.CourseID, "course"); err != nil && !errors.Is(err, ErrNotFound) {
		return ss, err
	}
	if !a.CanWrite(course) {
		return ss, fmt.Errorf("session %d: %w", id, ErrForbidden)
	}
	return ss, nil
}

// UpdateSession changes session id and re-plans it: its touchpoints'
// times and jobs follow the new times, and so do its surveys.
func (s *Service) UpdateSession(ctx context.Context, a Actor, id uint64, in SessionInput) (SessionResult, error) {
	old, err := s.writableSession(ctx, a, id)
	if err != nil {
		return SessionResult{}, err
	}
	if old.Status == store.SessionCancelled {
		return SessionResult{}, fmt.Errorf("session %d: %w", id, ErrCancelled)
	}
	next := old
	_, detail, err := s.applySession(ctx, a, in, &next, false)
	if err != nil {
		return SessionResult{}, err
	}
	var res SessionResult
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		res = SessionResult{Session: next}
		ss := &res.Session
		if s.Surveys != nil {
			if err := s.Surveys.SessionMoved(ctx, tx, old, *ss); err != nil {
				return fmt.Errorf("move surveys: %w", err)
			}
		}
		if in.Teacher != nil {
			id, err := s.teacherID(tx, *in.Teacher)
			if err != nil {
				return err
			}
			ss.TeacherID = id
		}
		if err := tx.Save(ss).Error; err != nil {
			return fmt.Errorf("save session: %w", err)
		}
		if err := s.Planner.Reschedule(ctx, tx, *ss); err != nil {
			return fmt.Errorf("reschedule: %w", err)
		}
		if err := s.calendarChanged(ctx, tx, ss.ID); err != nil {
			return err
		}
		return s.audit(tx, a, "session.update", fmt.Sprintf("session:%d", ss.ID), detail)
	})
	if err != nil {
		return SessionResult{}, err
	}
	res.Teacher = s.TeacherName(ctx, res.Session)
	return res, nil
}

// CancelSession cancels session id: its pending touchpoints are
// cancelled with their jobs. Cancelling a cancelled session changes
// nothing (Changed is false).
func (s *Service) CancelSession(ctx context.Context, a Actor, id uint64) (store.Session, bool, error) {
	ss, err := s.writableSession(ctx, a, id)
	if err != nil {
		return ss, false, err
	}
	if ss.Status == store.SessionCancelled {
		return ss, false, nil
	}
	ss.Status = store.SessionCancelled
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		if err := tx.Model(&store.Session{}).Where("id = ?", ss.ID).Update("status", ss.Status).Error; err != nil {
			return fmt.Errorf("cancel session: %w", err)
		}
		if err := s.Planner.Reschedule(ctx, tx, ss); err != nil {
			return fmt.Errorf("reschedule: %w", err)
		}
		if err := s.calendarChanged(ctx, tx, ss.ID); err != nil {
			return err
		}
		return s.audit(tx, a, "session.cancel", fmt.Sprintf("session:%d", ss.ID), nil)
	})
	return ss, err == nil, err
}

// CopyInput changes the copied session; nil fields keep the source's title
// and its times a week later (surveys.NextSessionShift).
type CopyInput struct {
	Title    *string
	StartsAt *time.Time
	EndsAt   *time.Time
	// Invalid are the caller's own parse errors.
	Invalid []FieldError
}

// CopySession stores the next session of session id's course: the same
// plan, surveys and roster, new times (surveys.Service.CopySession).
func (s *Service) CopySession(ctx context.Context, a Actor, id uint64, in CopyInput) (SessionResult, error) {
	cp := s.Copier()
	if cp == nil {
		return SessionResult{}, fmt.Errorf("copy session: surveys are not configured: %w", ErrConflict)
	}
	src, err := s.writableSession(ctx, a, id)
	if err != nil {
		return SessionResult{}, err
	}
	fs := callerFields(in.Invalid)
	next := surveys.SessionCopy{}
	var ps plan.Problems
	if in.Title != nil {
		next.Title = strings.TrimSpace(*in.Title)
		ps.Text("title", next.Title, plan.MaxSessionTitle, false)
	}
	if in.StartsAt != nil {
		next.StartsAt = in.StartsAt.UTC()
	}
	if in.EndsAt != nil {
		next.EndsAt = in.EndsAt.UTC()
		if in.StartsAt == nil {
			fs.add("ends_at", CodeRequired, "give starts_at with ends_at")
		}
	}
	// The bounds of any session: dates in range, end after start, length.
	probe := src
	probe.Title = next.Title
	if !next.StartsAt.IsZero() {
		probe.StartsAt = next.StartsAt
		probe.EndsAt = next.StartsAt.Add(src.EndsAt.Sub(src.StartsAt))
	} else {
		probe.StartsAt, probe.EndsAt = src.StartsAt.Add(surveys.NextSessionShift), src.EndsAt.Add(surveys.NextSessionShift)
	}
	if !next.EndsAt.IsZero() {
		probe.EndsAt = next.EndsAt
	}
	for _, p := range probeProblems(probe) {
		ps = append(ps, p)
	}
	fs.problems(ps)
	if err := fs.err(); err != nil {
		return SessionResult{}, err
	}
	var res SessionResult
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		dst, err := cp.CopySession(ctx, tx, src, next)
		if err != nil {
			return err
		}
		res = SessionResult{Session: dst}
		if err := tx.Where("session_id = ?", dst.ID).Order("run_at, id").Find(&res.Touchpoints).Error; err != nil {
			return fmt.Errorf("load touchpoints: %w", err)
		}
		if err := s.calendarChanged(ctx, tx, dst.ID); err != nil {
			return err
		}
		return s.audit(tx, a, "session.copy", fmt.Sprintf("session:%d", dst.ID), map[string]any{
			"from": src.ID, "title": dst.Title, "starts_at": dst.StartsAt, "ends_at": dst.EndsAt})
	})
	if errors.Is(err, surveys.ErrBadCopy) {
		return SessionResult{}, &InvalidError{Fields: []FieldError{{Field: "ends_at", Code: CodeEndBeforeStart, Message: err.Error()}}}
	}
	if err != nil {
		return SessionResult{}, err
	}
	res.Teacher = s.TeacherName(ctx, res.Session)
	return res, nil
}

// probeProblems are plan's problems of the copied session's times.
func probeProblems(ss store.Session) plan.Problems {
	var ps plan.Problems
	ps.CheckSession(ss, "")
	out := ps[:0]
	for _, p := range ps {
		if p.Field == "starts_at" || p.Field == "ends_at" {
			out = append(out, p)
		}
	}
	return out
}
