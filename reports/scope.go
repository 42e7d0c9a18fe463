package reports

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
)

// ErrForbidden is wrapped when a scope's actor may not see the session,
// course or survey asked for.
var ErrForbidden = errors.New("forbidden")

// DefaultMinGroupSize is the smallest group whose figures are shown when a
// scope names none (domain.md: default 5).
const DefaultMinGroupSize = 5

// Actor is who a report is computed for. Role is one of store.RoleAdmin,
// store.RoleCoordinator and store.RoleDepartmentHead; the zero Actor is the
// system itself (the CLI, the API key), which may see everything.
type Actor struct {
	Username string
	Role     string
}

// Scope is what a report may contain: the actor's sessions and courses,
// the people counted (a department head's department and every department
// below it) and the smallest group whose figures are shown. The zero Scope
// is the full report (every session, every person, the survey's own
// minimum group size for breakdowns).
type Scope struct {
	Actor Actor
	// Department is the root of a department head's subtree; Departments
	// is that subtree (NewScope resolves it from the directory).
	Department  string
	Departments []string
	// MinGroupSize is the smallest n a figure of a partial scope may have;
	// a figure with a smaller n is suppressed (a survey's own minimum
	// applies when it is larger).
	MinGroupSize int
}

// FullScope is the scope of the system: every session, every person.
func FullScope() Scope { return Scope{} }

// NewScope returns actor's scope. A department head's figures count the
// people of department and of every department below it in the synced
// directory (store.DepartmentSubtree); a head without a department sees no
// figure. minGroup ≤ 0 means DefaultMinGroupSize.
func NewScope(ctx context.Context, db *gorm.DB, actor Actor, department string, minGroup int) (Scope, error) {
	if minGroup <= 0 {
		minGroup = DefaultMinGroupSize
	}
	s := Scope{Actor: actor, MinGroupSize: minGroup}
	if actor.Role != store.RoleDepartmentHead {
		return s, nil
	}
	s.Department = department
	if department == "" {
		s.Departments = []string{}
		return s, nil
	}
	names, err := store.DepartmentSubtree(ctx, db, department)
	if err != nil {
		return Scope{}, fmt.Errorf("reports: department scope: %w", err)
	}
	s.Departments = names
	return s, nil
}

// Partial reports whether the scope counts only some people (a department
// head's): every figure is then judged on its own n.
func (s Scope) Partial() bool {
	return s.Actor.Role == store.RoleDepartmentHead || s.Departments != nil
}

// minN is the smallest n shown in a partial scope for a survey whose own
// minimum group size is svMin.
func (s Scope) minN(svMin int) int {
	m := s.MinGroupSize
	if m <= 0 {
		m = DefaultMinGroupSize
	}
	return max(m, svMin, 1)
}

// Hidden reports whether a figure with n may not be shown in the scope: n
// is below the minimum group size of a partial scope.
func (s Scope) Hidden(n, svMin int) bool { return s.Partial() && n < s.minN(svMin) }

// MinN is the smallest n a figure of this scope may have, for a survey
// whose own minimum is svMin (0 for none).
func (s Scope) MinN(svMin int) int {
	if !s.Partial() {
		return max(s.MinGroupSize, svMin, 1)
	}
	return s.minN(svMin)
}

// people restricts q to the people of the scope; col is the department
// column to test (employees.department, survey_responses.department).
func (s Scope) people(q *gorm.DB, col string) *gorm.DB {
	if !s.Partial() {
		return q
	}
	if len(s.Departments) == 0 {
		return q.Where("1 = 0")
	}
	return q.Where(col+" IN ?", s.Departments)
}

// peopleSQL is people as a SQL fragment with its arguments ("" when the
// scope counts everyone).
func (s Scope) peopleSQL(col string) (string, []any) {
	if !s.Partial() {
		return "", nil
	}
	if len(s.Departments) == 0 {
		return " AND 1 = 0", nil
	}
	return " AND " + col + " IN ?", []any{s.Departments}
}

// Sessions restricts q, a query on sessions, to the sessions the actor may
// see: all for the system and admins, the own courses' for a coordinator,
// the ones with an enrolled person of the department subtree for a
// department head.
func (s Scope) Sessions(db, q *gorm.DB) *gorm.DB {
	switch s.Actor.Role {
	case "", store.RoleAdmin:
		return q
	case store.RoleCoordinator:
		sub := db.Table("courses").Select("id").Where("owner = ? AND owner <> ''", s.Actor.Username)
		return q.Where("sessions.course_id IN (?)", sub)
	case store.RoleDepartmentHead:
		sub := s.people(db.Table("enrollments").Select("enrollments.session_id").
			Joins("JOIN employees ON employees.id = enrollments.employee_id").
			Where("enrollments.status <> ?", store.EnrollCancelled), "employees.department")
		return q.Where("sessions.id IN (?)", sub)
	}
	return q.Where("1 = 0")
}

// Courses restricts q, a query on courses, to the courses the actor may
// see (as Sessions).
func (s Scope) Courses(db, q *gorm.DB) *gorm.DB {
	switch s.Actor.Role {
	case "", store.RoleAdmin:
		return q
	case store.RoleCoordinator:
		return q.Where("courses.owner = ? AND courses.owner <> ''", s.Actor.Username)
	case store.RoleDepartmentHead:
		sub := s.Sessions(db, db.Table("sessions").Select("sessions.course_id"))
		return q.Where("courses.id IN (?)", sub)
	}
	return q.Where("1 = 0")
}

// checkSession returns an error wrapping ErrForbidden when the actor may
// not see session id.
func (s Scope) checkSession(db *gorm.DB, id uint64) error {
	return s.check("session", id, s.Sessions(db, db.Table("sessions").Where("sessions.id = ?", id)))
}

// checkCourse returns an error wrapping ErrForbidden when the actor may
// not see course id.
func (s Scope) checkCourse(db *gorm.DB, id uint64) error {
	return s.check("course", id, s.Courses(db, db.Table("courses").Where("courses.id = ?", id)))
}

// check returns an error wrapping ErrForbidden when the actor is not an
// admin and visible (what id, in the actor's scope) finds nothing.
func (s Scope) check(what string, id uint64, visible *gorm.DB) error {
	if s.Actor.Role == "" || s.Actor.Role == store.RoleAdmin {
		return nil
	}
	var n int64
	if err := visible.Count(&n).Error; err != nil {
		return fmt.Errorf("reports: check access to %s %d: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("reports: %s %d: %w", what, id, ErrForbidden)
	}
	return nil
}
