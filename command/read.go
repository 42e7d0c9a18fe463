package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
)

// The read side of the one door: what the API and the console list and
// show, scoped by the actor's rights (the same rights the commands check).
// The front doors only parse and render.

// Page is one page of a list in the list's fixed order: at most Limit rows
// after Offset rows. Lists return up to Limit+1 rows, so the caller learns
// whether another page follows; Limit 0 means no limit.
type Page struct {
	Limit  int
	Offset int
}

func (p Page) apply(q *gorm.DB) *gorm.DB {
	if p.Limit > 0 {
		q = q.Limit(p.Limit + 1)
	}
	if p.Offset > 0 {
		q = q.Offset(p.Offset)
	}
	return q
}

// Access is what an actor may do with a course or a session.
type Access int

// What an actor may do, from least to most.
const (
	AccessNone      Access = iota // not even see it (answered as not found)
	AccessAggregate               // a department head: the figures of their departments
	AccessWrite                   // an admin, or the coordinator who owns the course
)

// departments are the departments a department head sees: Actor.Departments
// when the caller resolved them (DepartmentScope), else their own.
func (a Actor) departments() []string {
	if a.Departments != nil {
		return a.Departments
	}
	return []string{a.Department}
}

// DepartmentScope is the department dept and every department below it in
// the company directory: what its head sees (the scope reports use).
func (s *Service) DepartmentScope(ctx context.Context, dept string) ([]string, error) {
	if dept == "" {
		return []string{dept}, nil
	}
	ds, err := store.DepartmentSubtree(ctx, s.DB, dept)
	if err != nil {
		return []string{dept}, fmt.Errorf("read the department tree: %w", err)
	}
	return ds, nil
}

// CourseAccess decides what a may do with course.
func (s *Service) CourseAccess(ctx context.Context, a Actor, course store.Course) (Access, error) {
	switch a.Role {
	case store.RoleAdmin, store.RoleCoordinator:
		if a.CanWrite(course) {
			return AccessWrite, nil
		}
	case store.RoleDepartmentHead:
		return s.departmentAccess(ctx, a, "sessions.course_id = ?", course.ID)
	}
	return AccessNone, nil
}

// SessionAccess decides what a may do with sess of course.
func (s *Service) SessionAccess(ctx context.Context, a Actor, sess store.Session, course store.Course) (Access, error) {
	if a.Role == store.RoleDepartmentHead {
		return s.departmentAccess(ctx, a, "enrollments.session_id = ?", sess.ID)
	}
	return s.CourseAccess(ctx, a, course)
}

// departmentAccess is AccessAggregate when someone of a's departments is
// enrolled (not cancelled) where the condition says.
func (s *Service) departmentAccess(ctx context.Context, a Actor, cond string, id uint64) (Access, error) {
	var n int64
	err := s.DB.WithContext(ctx).Table("enrollments").
		Joins("JOIN sessions ON sessions.id = enrollments.session_id").
		Joins("JOIN employees ON employees.id = enrollments.employee_id").
		Where(cond, id).Where("employees.department IN ? AND enrollments.status <> ?", a.departments(), store.EnrollCancelled).
		Limit(1).Count(&n).Error
	if err != nil {
		return AccessNone, fmt.Errorf("check department access: %w", err)
	}
	if n > 0 {
		return AccessAggregate, nil
	}
	return AccessNone, nil
}

// visibleCourses restricts q (on courses) to the classes a may see; the
// campaigns' and the digests' carrier courses hold pushes, not classes.
func (s *Service) visibleCourses(q *gorm.DB, a Actor) *gorm.DB {
	q = q.Where("courses.category NOT IN ?", store.CarrierCategories())
	switch a.Role {
	case store.RoleAdmin:
		return q
	case store.RoleCoordinator:
		return q.Where("courses.owner = ? AND courses.owner <> ''", a.Name)
	case store.RoleDepartmentHead:
		sub := s.DB.Table("enrollments").Select("sessions.course_id").
			Joins("JOIN sessions ON sessions.id = enrollments.session_id").
			Joins("JOIN employees ON employees.id = enrollments.employee_id").
			Where("employees.department IN ? AND enrollments.status <> ?", a.departments(), store.EnrollCancelled)
		return q.Where("courses.id IN (?)", sub)
	}
	return q.Where("1 = 0")
}

// visibleSessions restricts q (on sessions) to the class sessions a may see.
func (s *Service) visibleSessions(q *gorm.DB, a Actor) *gorm.DB {
	q = q.Where("sessions.course_id NOT IN (?)", s.DB.Table("courses").Select("id").Where("category IN ?", store.CarrierCategories()))
	switch a.Role {
	case store.RoleAdmin:
		return q
	case store.RoleCoordinator:
		sub := s.DB.Table("courses").Select("id").Where("owner = ? AND owner <> ''", a.Name)
		return q.Where("sessions.course_id IN (?)", sub)
	case store.RoleDepartmentHead:
		sub := s.DB.Table("enrollments").Select("enrollments.session_id").
			Joins("JOIN employees ON employees.id = enrollments.employee_id").
			Where("employees.department IN ? AND enrollments.status <> ?", a.departments(), store.EnrollCancelled)
		return q.Where("sessions.id IN (?)", sub)
	}
	return q.Where("1 = 0")
}

// CourseOrder is the order of a course list.
type CourseOrder int

// Course list orders.
const (
	CoursesByID   CourseOrder = iota // oldest first (the API)
	CoursesByCode                    // by code (the console)
)

// ListCourses lists the classes a may see, in order.
func (s *Service) ListCourses(ctx context.Context, a Actor, order CourseOrder, p Page) ([]store.Course, error) {
	q := s.visibleCourses(s.DB.WithContext(ctx).Model(&store.Course{}), a)
	if order == CoursesByCode {
		q = q.Order("courses.code")
	} else {
		q = q.Order("courses.id")
	}
	var cs []store.Course
	if err := p.apply(q).Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("list courses: %w", err)
	}
	return cs, nil
}

// CountCourses counts the classes a may see.
func (s *Service) CountCourses(ctx context.Context, a Actor) (int64, error) {
	var n int64
	if err := s.visibleCourses(s.DB.WithContext(ctx).Model(&store.Course{}), a).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count courses: %w", err)
	}
	return n, nil
}

// CoursesByID loads the courses of ids (plain lookup, no rights: the
// caller shows them beside sessions a may see).
func (s *Service) CoursesByID(ctx context.Context, ids []uint64) (map[uint64]store.Course, error) {
	out := map[uint64]store.Course{}
	if len(ids) == 0 {
		return out, nil
	}
	var cs []store.Course
	if err := s.DB.WithContext(ctx).Where("id IN ?", ids).Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("load courses: %w", err)
	}
	for _, c := range cs {
		out[c.ID] = c
	}
	return out, nil
}

// Course loads a course and what a may do with it; ErrNotFound when it
// does not exist or a may not see it.
func (s *Service) Course(ctx context.Context, a Actor, id uint64) (store.Course, Access, error) {
	var c store.Course
	if err := take(ctx, s.DB, &c, id, "course"); err != nil {
		return c, AccessNone, err
	}
	acc, err := s.CourseAccess(ctx, a, c)
	if err == nil && acc == AccessNone {
		err = fmt.Errorf("course %d does not exist: %w", id, ErrNotFound)
	}
	return c, acc, err
}

// SessionQuery selects sessions.
type SessionQuery struct {
	// CourseID keeps one course's sessions; 0 keeps every course's.
	CourseID uint64
	// EndsAfter keeps sessions that end at or after it; zero keeps all.
	EndsAfter time.Time
	// Newest orders the newest first (starts_at, id descending); else the
	// soonest first.
	Newest bool
}

// ListSessions lists the class sessions a may see.
func (s *Service) ListSessions(ctx context.Context, a Actor, sq SessionQuery, p Page) ([]store.Session, error) {
	q := s.visibleSessions(s.DB.WithContext(ctx).Model(&store.Session{}), a)
	if sq.CourseID != 0 {
		q = q.Where("sessions.course_id = ?", sq.CourseID)
	}
	if !sq.EndsAfter.IsZero() {
		q = q.Where("sessions.ends_at >= ?", sq.EndsAfter)
	}
	if sq.Newest {
		q = q.Order("sessions.starts_at DESC, sessions.id DESC")
	} else {
		q = q.Order("sessions.starts_at, sessions.id")
	}
	var ss []store.Session
	if err := p.apply(q).Find(&ss).Error; err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return ss, nil
}

// SessionsPerCourse counts, per course of ids, the sessions a may see.
func (s *Service) SessionsPerCourse(ctx context.Context, a Actor, ids []uint64) (map[uint64]int, error) {
	out := map[uint64]int{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		CourseID uint64
		N        int
	}
	q := s.visibleSessions(s.DB.WithContext(ctx).Model(&store.Session{}), a).
		Select("sessions.course_id AS course_id, COUNT(*) AS n").Where("sessions.course_id IN ?", ids).Group("sessions.course_id")
	if err := q.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("count sessions: %w", err)
	}
	for _, r := range rows {
		out[r.CourseID] = r.N
	}
	return out, nil
}

// SessionView is a session with its course and what the actor may do.
type SessionView struct {
	Session store.Session
	Course  store.Course
	Access  Access
}

// Session loads a session, its course and what a may do with it;
// ErrNotFound when it does not exist or a may not see it.
func (s *Service) Session(ctx context.Context, a Actor, id uint64) (SessionView, error) {
	var v SessionView
	if err := take(ctx, s.DB, &v.Session, id, "session"); err != nil {
		return v, err
	}
	if err := s.DB.WithContext(ctx).Limit(1).Find(&v.Course, v.Session.CourseID).Error; err != nil {
		return v, fmt.Errorf("load course of session %d: %w", id, err)
	}
	acc, err := s.SessionAccess(ctx, a, v.Session, v.Course)
	if err != nil {
		return v, err
	}
	if v.Access = acc; acc == AccessNone {
		return v, fmt.Errorf("session %d does not exist: %w", id, ErrNotFound)
	}
	return v, nil
}

// sessionFor checks that a may see session id (ErrNotFound otherwise).
func (s *Service) sessionFor(ctx context.Context, a Actor, id uint64) error {
	_, err := s.Session(ctx, a, id)
	return err
}

// TeacherNames gives the teacher's name of each session of ss that has one.
func (s *Service) TeacherNames(ctx context.Context, ss []store.Session) (map[uint64]string, error) {
	ids := make([]uint64, 0, len(ss))
	for _, x := range ss {
		if x.TeacherID != nil {
			ids = append(ids, *x.TeacherID)
		}
	}
	out := map[uint64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var ts []store.Teacher
	if err := s.DB.WithContext(ctx).Where("id IN ?", ids).Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("load teachers: %w", err)
	}
	names := make(map[uint64]string, len(ts))
	for _, t := range ts {
		names[t.ID] = t.Name
	}
	for _, x := range ss {
		if x.TeacherID != nil {
			if n, ok := names[*x.TeacherID]; ok {
				out[x.ID] = n
			}
		}
	}
	return out, nil
}

// RosterRow is one person on a session's roster.
type RosterRow struct {
	EmployeeID uint64 `json:"employee_id"`
	ExternalID string `json:"external_id"`
	Name       string `json:"name"`
	Department string `json:"department"`
	ManagerID  string `json:"manager_id"`
	Platform   string `json:"platform"`
	Status     string `json:"status"`
	Note       string `json:"note"`
}

// ListRoster lists a session's roster by 工号.
func (s *Service) ListRoster(ctx context.Context, a Actor, sessionID uint64, p Page) ([]RosterRow, error) {
	if err := s.sessionFor(ctx, a, sessionID); err != nil {
		return nil, err
	}
	q := s.DB.WithContext(ctx).Table("enrollments").
		Select("employees.id AS employee_id, employees.external_id, employees.name, employees.department, employees.manager_id, employees.platform, enrollments.status, enrollments.note").
		Joins("JOIN employees ON employees.id = enrollments.employee_id").
		Where("enrollments.session_id = ?", sessionID).Order("employees.external_id")
	return scanList[RosterRow](q, p, "roster")
}

// scanList scans the page of q into rows of T.
func scanList[T any](q *gorm.DB, p Page, what string) ([]T, error) {
	var out []T
	if err := p.apply(q).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	return out, nil
}

// ListTouchpoints lists a session's touchpoints by fire time.
func (s *Service) ListTouchpoints(ctx context.Context, a Actor, sessionID uint64, p Page) ([]store.Touchpoint, error) {
	if err := s.sessionFor(ctx, a, sessionID); err != nil {
		return nil, err
	}
	var tps []store.Touchpoint
	if err := p.apply(s.DB.WithContext(ctx).Where("session_id = ?", sessionID).Order("run_at, id")).Find(&tps).Error; err != nil {
		return nil, fmt.Errorf("list touchpoints: %w", err)
	}
	return tps, nil
}

// Touchpoint loads a touchpoint a may see.
func (s *Service) Touchpoint(ctx context.Context, a Actor, id uint64) (store.Touchpoint, error) {
	var tp store.Touchpoint
	if err := take(ctx, s.DB, &tp, id, "touchpoint"); err != nil {
		return tp, err
	}
	if err := s.sessionFor(ctx, a, tp.SessionID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return tp, fmt.Errorf("touchpoint %d does not exist: %w", id, ErrNotFound)
		}
		return tp, err
	}
	return tp, nil
}

// DeliveryRow is one delivery of a touchpoint with its recipient.
type DeliveryRow struct {
	ID           uint64     `json:"id"`
	EmployeeID   uint64     `json:"employee_id"`
	ExternalID   string     `json:"external_id"`
	Name         string     `json:"name"`
	Platform     string     `json:"platform"`
	Status       string     `json:"status"`
	Attempts     int        `json:"attempts"`
	ErrorCode    string     `json:"error_code,omitempty"`
	ErrorMessage string     `json:"error_message,omitempty"`
	SentAt       *time.Time `json:"sent_at,omitempty"`
}

// ListDeliveries lists a touchpoint's deliveries in the order they were made.
func (s *Service) ListDeliveries(ctx context.Context, a Actor, touchpointID uint64, p Page) ([]DeliveryRow, error) {
	if _, err := s.Touchpoint(ctx, a, touchpointID); err != nil {
		return nil, err
	}
	q := s.DB.WithContext(ctx).Table("deliveries").
		Select("deliveries.id, deliveries.employee_id, employees.external_id, employees.name, deliveries.platform, deliveries.status, deliveries.attempts, deliveries.error_code, deliveries.error_message, deliveries.sent_at").
		Joins("JOIN employees ON employees.id = deliveries.employee_id").
		Where("deliveries.touchpoint_id = ?", touchpointID).Order("deliveries.id")
	return scanList[DeliveryRow](q, p, "deliveries")
}

// CheckinRow is one check-in with the person.
type CheckinRow struct {
	EmployeeID  uint64    `json:"employee_id"`
	ExternalID  string    `json:"external_id"`
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	Source      string    `json:"source"`
	Platform    string    `json:"platform"`
	CheckedInAt time.Time `json:"checked_in_at"`
	RecordedBy  string    `json:"recorded_by,omitempty"`
	Note        string    `json:"note,omitempty"`
}

// ListCheckins lists a session's check-ins in the order they happened.
func (s *Service) ListCheckins(ctx context.Context, a Actor, sessionID uint64, p Page) ([]CheckinRow, error) {
	if err := s.sessionFor(ctx, a, sessionID); err != nil {
		return nil, err
	}
	q := s.DB.WithContext(ctx).Table("checkins").
		Select("checkins.employee_id, employees.external_id, employees.name, checkins.kind, checkins.source, checkins.platform, checkins.checked_in_at, checkins.recorded_by, checkins.note").
		Joins("JOIN employees ON employees.id = checkins.employee_id").
		Where("checkins.session_id = ?", sessionID).Order("checkins.checked_in_at, checkins.id")
	return scanList[CheckinRow](q, p, "checkins")
}

// ListEmployees lists the company's people by 工号, of one department when
// department is not empty. Only admins see everyone.
func (s *Service) ListEmployees(ctx context.Context, a Actor, department string, p Page) ([]store.Employee, error) {
	if !a.Admin() {
		return nil, fmt.Errorf("list employees: %w", ErrForbidden)
	}
	q := s.DB.WithContext(ctx).Order("external_id")
	if department != "" {
		q = q.Where("department = ?", department)
	}
	var es []store.Employee
	if err := p.apply(q).Find(&es).Error; err != nil {
		return nil, fmt.Errorf("list employees: %w", err)
	}
	return es, nil
}

// ResponseCounts counts a survey's complete and partial responses.
func (s *Service) ResponseCounts(ctx context.Context, surveyID uint64) (complete, partial int, err error) {
	var counts []struct {
		Status string
		N      int
	}
	err = s.DB.WithContext(ctx).Model(&store.SurveyResponse{}).Select("status, COUNT(*) AS n").
		Where("survey_id = ?", surveyID).Group("status").Scan(&counts).Error
	if err != nil {
		return 0, 0, fmt.Errorf("count responses: %w", err)
	}
	for _, c := range counts {
		if c.Status == store.ResponseComplete {
			complete += c.N
		} else {
			partial += c.N
		}
	}
	return complete, partial, nil
}

// ---- signed links (no actor: the token is the right) ----

// Delivery loads a delivery with its touchpoint, session, course and
// recipient for a signed link; ErrNotFound when there is none.
func (s *Service) Delivery(ctx context.Context, id uint64) (bot.DeliveryContext, error) {
	dc, err := bot.LoadDelivery(ctx, s.DB, id)
	if errors.Is(err, bot.ErrNotFound) {
		return dc, fmt.Errorf("delivery %d: %w", id, ErrNotFound)
	}
	return dc, err
}

// DeliveryFacts loads the columns of a delivery that never change
// (touchpoint, employee, platform); ErrNotFound when there is none.
func (s *Service) DeliveryFacts(ctx context.Context, id uint64) (store.Delivery, error) {
	var d store.Delivery
	if err := s.DB.WithContext(ctx).Select("id", "touchpoint_id", "employee_id", "platform").Limit(1).Find(&d, id).Error; err != nil {
		return d, fmt.Errorf("load delivery %d: %w", id, err)
	}
	if d.ID == 0 {
		return d, fmt.Errorf("delivery %d: %w", id, ErrNotFound)
	}
	return d, nil
}

// CheckinOf is the person's check-in at the session, ok false when there
// is none.
func (s *Service) CheckinOf(ctx context.Context, sessionID, employeeID uint64) (ci store.Checkin, ok bool, err error) {
	err = s.DB.WithContext(ctx).Where("session_id = ? AND employee_id = ?", sessionID, employeeID).Limit(1).Find(&ci).Error
	if err != nil {
		return ci, false, fmt.Errorf("load check-in: %w", err)
	}
	return ci, ci.ID != 0, nil
}

// ---- operations ----

// Ready reports whether the database answers and whether its schema is
// the one this binary expects (what /readyz shows).
func (s *Service) Ready(ctx context.Context) (database, migrations error) {
	sqlDB, err := s.DB.DB()
	if err == nil {
		err = sqlDB.PingContext(ctx)
	}
	if err != nil {
		return err, nil
	}
	return nil, store.CheckCurrent(ctx, s.DB)
}

// Reports computes the figures from the service's database (package
// reports, the one place figures are computed).
func (s *Service) Reports() reports.Reader { return reports.Reader{DB: s.DB, Options: s.ReportOptions} }

// ---- clicks (recordings of what already happened) ----

// InsertClicks stores clicks with one multi-row INSERT per up to
// maxClicksPerInsert rows (a single statement: all of its rows or none),
// retried on deadlocks, lock-wait timeouts and broken connections (a failed
// INSERT stored nothing, so running it again cannot duplicate a click). The
// statement is plain SQL on the pool, not a GORM Create: a click storm
// writes many small batches, and GORM's reflection over every row (and
// MariaDB's RETURNING of the ids nobody reads) cost more of the click's CPU
// than the INSERT itself. The rows' ids are not filled in.
func (s *Service) InsertClicks(ctx context.Context, rows []store.Click) error {
	for len(rows) > 0 {
		n := min(len(rows), maxClicksPerInsert)
		q, args := insertClicks(rows[:n])
		if err := store.Retry(ctx, func() error {
			_, err := s.DB.ConnPool.ExecContext(ctx, q, args...)
			return err
		}); err != nil {
			return fmt.Errorf("insert %d clicks: %w", n, err)
		}
		rows = rows[n:]
	}
	return nil
}

// maxClicksPerInsert keeps one INSERT's placeholders (7 a row) far below
// SQLite's limit of 32,766; the click recorder's batches are smaller.
const maxClicksPerInsert = 1000

// clickColumns are the columns insertClicks writes, in its arguments' order.
const clickColumns = "INSERT INTO `clicks` (`delivery_id`,`touchpoint_id`,`employee_id`,`target`,`ua_class`,`platform`,`clicked_at`) VALUES "

// insertClicks builds the INSERT of rows and its arguments.
func insertClicks(rows []store.Click) (string, []any) {
	return insertClicksSQL(len(rows)), appendClickArgs(make([]any, 0, 7*len(rows)), rows)
}

// TouchpointAnonymous reports whether the touchpoint pushes an anonymous
// survey (its clicks must not name anyone).
func (s *Service) TouchpointAnonymous(ctx context.Context, touchpointID uint64) (bool, error) {
	var tp store.Touchpoint
	if err := s.DB.WithContext(ctx).Select("id", "survey_id").Limit(1).Find(&tp, touchpointID).Error; err != nil {
		return false, fmt.Errorf("load touchpoint of click: %w", err)
	}
	if tp.SurveyID == 0 {
		return false, nil
	}
	var sv store.Survey
	if err := s.DB.WithContext(ctx).Select("id", "anonymous").Limit(1).Find(&sv, tp.SurveyID).Error; err != nil {
		return false, fmt.Errorf("load survey of click: %w", err)
	}
	return sv.Anonymous, nil
}

// Survey loads a survey of a session a may see.
func (s *Service) Survey(ctx context.Context, a Actor, id uint64) (store.Survey, error) {
	var sv store.Survey
	if err := take(ctx, s.DB, &sv, id, "survey"); err != nil {
		return sv, err
	}
	if sv.SessionID != 0 {
		if err := s.sessionFor(ctx, a, sv.SessionID); errors.Is(err, ErrNotFound) {
			return sv, fmt.Errorf("survey %d does not exist: %w", id, ErrNotFound)
		} else if err != nil {
			return sv, err
		}
	}
	return sv, nil
}

// AuditQuery filters the audit log; empty fields keep every row.
type AuditQuery struct {
	Actor string
	// ActionPrefix keeps the actions that start with it ("session." …).
	ActionPrefix string
	Object       string
}

// AuditLog lists the audit log, newest first. Only admins read it.
func (s *Service) AuditLog(ctx context.Context, a Actor, aq AuditQuery, p Page) ([]store.AuditLog, error) {
	if !a.Admin() {
		return nil, fmt.Errorf("read the audit log: %w", ErrForbidden)
	}
	q := s.DB.WithContext(ctx).Model(&store.AuditLog{})
	if aq.Actor != "" {
		q = q.Where("actor = ?", aq.Actor)
	}
	if aq.ActionPrefix != "" {
		q = q.Where("action LIKE ? ESCAPE '!'", escapeLike(aq.ActionPrefix)+"%")
	}
	if aq.Object != "" {
		q = q.Where("object = ?", aq.Object)
	}
	var logs []store.AuditLog
	if err := p.apply(q.Order("id DESC")).Find(&logs).Error; err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	return logs, nil
}

// escapeLike escapes s for a LIKE pattern with ESCAPE '!'.
func escapeLike(s string) string {
	return strings.NewReplacer(`!`, `!!`, `%`, `!%`, `_`, `!_`).Replace(s)
}

// SessionZones gives the time zone of each session of ids that exists
// (plain lookup: zones are not secret).
func (s *Service) SessionZones(ctx context.Context, ids []uint64) (map[uint64]*time.Location, error) {
	out := make(map[uint64]*time.Location, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), 500)
		var ss []store.Session
		if err := s.DB.WithContext(ctx).Select("id", "time_zone").Where("id IN ?", ids[:n]).Find(&ss).Error; err != nil {
			return nil, fmt.Errorf("load session zones: %w", err)
		}
		for _, x := range ss {
			out[x.ID] = bot.SessionLocation(x)
		}
		ids = ids[n:]
	}
	return out, nil
}

// SurveysOf lists a session's surveys by id (plain lookup: the caller
// checked the session); named keeps only those that are not anonymous.
func (s *Service) SurveysOf(ctx context.Context, sessionID uint64, named bool) ([]store.Survey, error) {
	q := s.DB.WithContext(ctx).Where("session_id = ?", sessionID)
	if named {
		q = q.Where("anonymous = ?", false)
	}
	var svs []store.Survey
	if err := q.Order("id").Find(&svs).Error; err != nil {
		return nil, fmt.Errorf("list surveys: %w", err)
	}
	return svs, nil
}

// FailedDelivery is a delivery the platform refused or dropped, with the
// platform's own code and message.
type FailedDelivery struct {
	TouchpointID uint64
	Kind         string
	ExternalID   string
	Name         string
	Platform     string
	UserID       string
	Status       string
	Attempts     int
	ErrorCode    string
	ErrorMessage string
	UpdatedAt    time.Time
}

// FailedDeliveries lists a session's failed and dropped deliveries (at
// most 5000) by touchpoint and 工号.
func (s *Service) FailedDeliveries(ctx context.Context, a Actor, sessionID uint64) ([]FailedDelivery, error) {
	if err := s.sessionFor(ctx, a, sessionID); err != nil {
		return nil, err
	}
	q := s.DB.WithContext(ctx).Table("deliveries").
		Select("deliveries.touchpoint_id, touchpoints.kind, employees.external_id, employees.name, deliveries.platform, deliveries.user_id, deliveries.status, deliveries.attempts, deliveries.error_code, deliveries.error_message, deliveries.updated_at").
		Joins("JOIN employees ON employees.id = deliveries.employee_id").
		Joins("JOIN touchpoints ON touchpoints.id = deliveries.touchpoint_id").
		Where("deliveries.session_id = ? AND deliveries.status IN ?", sessionID, []string{store.DeliveryFailed, store.DeliveryDropped}).
		Order("deliveries.touchpoint_id, employees.external_id")
	return scanList[FailedDelivery](q, Page{Limit: 5000 - 1}, "failed deliveries")
}

// DeliveryCounts counts a session's deliveries per touchpoint.
func (s *Service) DeliveryCounts(ctx context.Context, sessionID uint64) (map[uint64]int64, error) {
	var cs []struct {
		TouchpointID uint64
		N            int64
	}
	if err := s.DB.WithContext(ctx).Model(&store.Delivery{}).Select("touchpoint_id, COUNT(*) AS n").Where("session_id = ?", sessionID).Group("touchpoint_id").Scan(&cs).Error; err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	out := make(map[uint64]int64, len(cs))
	for _, x := range cs {
		out[x.TouchpointID] = x.N
	}
	return out, nil
}

// CopySize is what copying a session as the next one takes along.
type CopySize struct {
	Roster      int64 // enrolled, not cancelled
	Touchpoints int64 // planned, neither cancelled nor an ad-hoc reminder
	Surveys     int64
}

// CopySize counts what CopySession would copy of session id.
func (s *Service) CopySize(ctx context.Context, id uint64) (CopySize, error) {
	var n CopySize
	db := s.DB.WithContext(ctx)
	if err := db.Model(&store.Enrollment{}).Where("session_id = ? AND status <> ?", id, store.EnrollCancelled).Count(&n.Roster).Error; err != nil {
		return n, fmt.Errorf("count roster: %w", err)
	}
	if err := db.Model(&store.Touchpoint{}).Where("session_id = ? AND status <> ? AND note <> ? AND note NOT LIKE ?", id, store.TouchpointCancelled,
		surveys.RemindNowNote, "ad hoc%").Count(&n.Touchpoints).Error; err != nil {
		return n, fmt.Errorf("count touchpoints: %w", err)
	}
	if err := db.Model(&store.Survey{}).Where("session_id = ?", id).Count(&n.Surveys).Error; err != nil {
		return n, fmt.Errorf("count surveys: %w", err)
	}
	return n, nil
}

// WritableCourses lists, by code, the courses a may plan sessions of: all
// for an admin, their own for a coordinator (at most 2000).
func (s *Service) WritableCourses(ctx context.Context, a Actor) ([]store.Course, error) {
	q := s.DB.WithContext(ctx).Order("code").Limit(2000)
	if !a.Admin() {
		q = q.Where("owner = ? AND owner <> ''", a.Name)
	}
	var cs []store.Course
	if err := q.Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("load courses: %w", err)
	}
	return cs, nil
}

// NotCheckedIn lists who of a session's audience has not checked in yet
// (the board's "remind the missing" names them before sending).
func (s *Service) NotCheckedIn(ctx context.Context, sessionID uint64) ([]store.Employee, error) {
	return bot.Audience(ctx, s.DB, sessionID, store.AudienceNotCheckedIn)
}

// CalendarRow is a session's event in one platform's calendar, with the
// last failed sync's code and message (empty after a success).
type CalendarRow struct {
	Platform  string
	State     string
	EventID   string
	Attendees int
	Failures  int
	ErrorCode string
	LastError string
	SyncedAt  *time.Time
	UpdatedAt time.Time
}

// CalendarEvents lists session sessionID's calendar events by platform.
func (s *Service) CalendarEvents(ctx context.Context, a Actor, sessionID uint64) ([]CalendarRow, error) {
	if err := s.sessionFor(ctx, a, sessionID); err != nil {
		return nil, err
	}
	var rows []store.CalendarEvent
	if err := s.DB.WithContext(ctx).Where("session_id = ?", sessionID).Order("platform").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list calendar events: %w", err)
	}
	out := make([]CalendarRow, 0, len(rows))
	for _, r := range rows {
		var ids []string
		_ = json.Unmarshal([]byte(r.Attendees), &ids)
		out = append(out, CalendarRow{Platform: r.Platform, State: r.State, EventID: r.EventID, Attendees: len(ids), Failures: r.Failures,
			ErrorCode: r.ErrorCode, LastError: r.LastError, SyncedAt: r.SyncedAt, UpdatedAt: r.UpdatedAt})
	}
	return out, nil
}
