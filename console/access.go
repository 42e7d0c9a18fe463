package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
)

// access is what a viewer may do with a course or session.
type access int

const (
	accessNone  access = iota // not even see it (answered 404)
	accessAggr                // department head: aggregates of their department
	accessWrite               // admin, or the coordinator who owns the course
)

// courseAccess decides what v may do with course.
func (c *Console) courseAccess(ctx context.Context, v *viewer, course store.Course) (access, error) {
	switch {
	case v.admin():
		return accessWrite, nil
	case v.coordinator():
		if course.Owner != "" && course.Owner == v.name() {
			return accessWrite, nil
		}
		return accessNone, nil
	case v.deptHead():
		var n int64
		err := c.d.DB.WithContext(ctx).Table("enrollments").
			Joins("JOIN sessions ON sessions.id = enrollments.session_id").
			Joins("JOIN employees ON employees.id = enrollments.employee_id").
			Where("sessions.course_id = ? AND employees.department IN ? AND enrollments.status <> ?", course.ID, c.departments(ctx, v), store.EnrollCancelled).
			Limit(1).Count(&n).Error
		if err != nil {
			return accessNone, fmt.Errorf("check department access: %w", err)
		}
		if n > 0 {
			return accessAggr, nil
		}
	}
	return accessNone, nil
}

// sessionAccess decides what v may do with sess of course.
func (c *Console) sessionAccess(ctx context.Context, v *viewer, sess store.Session, course store.Course) (access, error) {
	switch {
	case v.admin(), v.coordinator():
		return c.courseAccess(ctx, v, course)
	case v.deptHead():
		var n int64
		err := c.d.DB.WithContext(ctx).Table("enrollments").
			Joins("JOIN employees ON employees.id = enrollments.employee_id").
			Where("enrollments.session_id = ? AND employees.department IN ? AND enrollments.status <> ?", sess.ID, c.departments(ctx, v), store.EnrollCancelled).
			Limit(1).Count(&n).Error
		if err != nil {
			return accessNone, fmt.Errorf("check department access: %w", err)
		}
		if n > 0 {
			return accessAggr, nil
		}
	}
	return accessNone, nil
}

// visibleCourses restricts q (on courses) to the courses v may see.
// departments is what a department head sees: their department and every
// department below it in the company directory (the scope reports use).
// Without a directory, or when it cannot be read, it is their department.
func (c *Console) departments(ctx context.Context, v *viewer) []string {
	v.deptsOnce.Do(func() {
		v.depts = []string{v.Account.Department}
		if v.Account.Department == "" {
			return
		}
		if ctx == nil {
			ctx = context.Background()
		}
		ds, err := store.DepartmentSubtree(ctx, c.d.DB, v.Account.Department)
		if err != nil {
			c.d.Logger.Warn("read the department tree; scoping to the department itself", "department", v.Account.Department, "err", err)
			return
		}
		v.depts = ds
	})
	return v.depts
}

func (c *Console) visibleCourses(q *gorm.DB, v *viewer) *gorm.DB {
	// The campaigns' carrier course holds pushes, not classes.
	q = q.Where("courses.category <> ?", store.CategoryCampaign)
	switch {
	case v.admin():
		return q
	case v.coordinator():
		return q.Where("courses.owner = ? AND courses.owner <> ''", v.name())
	case v.deptHead():
		sub := c.d.DB.Table("enrollments").Select("sessions.course_id").
			Joins("JOIN sessions ON sessions.id = enrollments.session_id").
			Joins("JOIN employees ON employees.id = enrollments.employee_id").
			Where("employees.department IN ? AND enrollments.status <> ?", c.departments(q.Statement.Context, v), store.EnrollCancelled)
		return q.Where("courses.id IN (?)", sub)
	}
	return q.Where("1 = 0")
}

// visibleSessions restricts q (on sessions) to the sessions v may see.
func (c *Console) visibleSessions(q *gorm.DB, v *viewer) *gorm.DB {
	q = q.Where("sessions.course_id NOT IN (?)", c.d.DB.Table("courses").Select("id").Where("category = ?", store.CategoryCampaign))
	switch {
	case v.admin():
		return q
	case v.coordinator():
		sub := c.d.DB.Table("courses").Select("id").Where("owner = ? AND owner <> ''", v.name())
		return q.Where("sessions.course_id IN (?)", sub)
	case v.deptHead():
		sub := c.d.DB.Table("enrollments").Select("enrollments.session_id").
			Joins("JOIN employees ON employees.id = enrollments.employee_id").
			Where("employees.department IN ? AND enrollments.status <> ?", c.departments(q.Statement.Context, v), store.EnrollCancelled)
		return q.Where("sessions.id IN (?)", sub)
	}
	return q.Where("1 = 0")
}

// loadCourse loads the course of the {id} path value and checks access. It
// answers the request itself (404, 403) and returns false when the handler
// must stop. want is the least access needed.
func (c *Console) loadCourse(w http.ResponseWriter, r *http.Request, v *viewer, id uint64, want access) (store.Course, access, bool) {
	var course store.Course
	err := c.d.DB.WithContext(r.Context()).Take(&course, id).Error
	if isNotFound(err) {
		c.notFound(w, r, v)
		return course, accessNone, false
	}
	if err != nil {
		c.internal(w, r, v, err)
		return course, accessNone, false
	}
	acc, err := c.courseAccess(r.Context(), v, course)
	if err != nil {
		c.internal(w, r, v, err)
		return course, accessNone, false
	}
	if acc == accessNone {
		c.notFound(w, r, v)
		return course, acc, false
	}
	if acc < want {
		c.forbidden(w, r, v)
		return course, acc, false
	}
	return course, acc, true
}

// sessionCtx is a loaded session with its course and the viewer's access.
type sessionCtx struct {
	Sess   store.Session
	Course store.Course
	Access access
	Loc    *time.Location
}

// loadSession loads a session by id and checks the viewer's access.
func (c *Console) loadSession(w http.ResponseWriter, r *http.Request, v *viewer, id uint64, want access) (sessionCtx, bool) {
	var sc sessionCtx
	db := c.d.DB.WithContext(r.Context())
	err := db.Take(&sc.Sess, id).Error
	if isNotFound(err) {
		c.notFound(w, r, v)
		return sc, false
	}
	if err != nil {
		c.internal(w, r, v, err)
		return sc, false
	}
	if err := db.Take(&sc.Course, sc.Sess.CourseID).Error; err != nil && !isNotFound(err) {
		c.internal(w, r, v, err)
		return sc, false
	}
	acc, err := c.sessionAccess(r.Context(), v, sc.Sess, sc.Course)
	if err != nil {
		c.internal(w, r, v, err)
		return sc, false
	}
	sc.Access = acc
	sc.Loc = bot.SessionLocation(sc.Sess)
	if acc == accessNone {
		c.notFound(w, r, v)
		return sc, false
	}
	if acc < want {
		c.forbidden(w, r, v)
		return sc, false
	}
	return sc, true
}

// loadSessionPath is loadSession for the {id} path value.
func (c *Console) loadSessionPath(w http.ResponseWriter, r *http.Request, v *viewer, want access) (sessionCtx, bool) {
	id, ok := pathID(r)
	if !ok {
		c.notFound(w, r, v)
		return sessionCtx{}, false
	}
	return c.loadSession(w, r, v, id, want)
}

// head builds the session header and tabs.
func (c *Console) head(sc sessionCtx, tab string) *sessionHead {
	return &sessionHead{
		ID: sc.Sess.ID, Title: sc.Sess.Title, Course: sc.Course, Span: bot.FormatSpan(sc.Sess),
		Status: sc.Sess.Status, Stage: reports.Stage(sc.Sess, c.now()), Tab: tab, Write: sc.Access == accessWrite, ReadOnly: sc.Access == accessAggr,
	}
}

// commands is the one door behind the console and the API.
func (c *Console) commands() *command.Service { return c.d.Commands }

// actor is who v is to a command.
func (v *viewer) actor() command.Actor {
	return command.Actor{Name: v.name(), Role: v.Account.Role}
}

// errorKeys localizes a command's field errors: the message key of a field,
// or of a field with a code ("ends_at/end_before_start").
type errorKeys map[string]string

// key is the message key of f, or "" when there is none.
func (k errorKeys) key(f command.FieldError) string {
	if key, ok := k[f.Field+"/"+f.Code]; ok {
		return key
	}
	return k[f.Field]
}

// fieldErrors puts a command's field errors on p, localized by keys; a
// field without a key shows the command's English message.
func (p *page) fieldErrors(err error, keys errorKeys) bool {
	var ie *command.InvalidError
	if !errors.As(err, &ie) {
		return false
	}
	for _, f := range ie.Fields {
		if key := keys.key(f); key != "" {
			p.fieldError(f.Field, key)
		} else {
			p.fieldText(f.Field, f.Message)
		}
	}
	return true
}

// sessionKeys are the session form's messages.
var sessionKeys = errorKeys{
	"course_id": "session.err_course", "title": "session.err_title", "time_zone": "session.err_zone",
	"starts_at": "session.err_start", "starts_at/bad_date": "session.err_date",
	"ends_at": "session.err_end", "ends_at/end_before_start": "session.err_end_before", "ends_at/session_too_long": "session.err_too_long",
	"ends_at/bad_date": "session.err_date", "locale": "session.err_locale", "location": "session.err_location",
	"online_url": "session.err_url", "teacher": "session.err_teacher", "plan": "session.err_plan",
	command.FieldOpensBefore: "session.err_minutes", command.FieldGrace: "session.err_minutes", command.FieldMakeupAfter: "session.err_minutes",
}
