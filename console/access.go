package console

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
)

// access is what a viewer may do with a course or session
// (command.Access, in the same order).
type access int

const (
	accessNone  = access(command.AccessNone)      // not even see it (answered 404)
	accessAggr  = access(command.AccessAggregate) // department head: aggregates of their department
	accessWrite = access(command.AccessWrite)     // admin, or the coordinator who owns the course
)

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
		ds, err := c.commands().DepartmentScope(ctx, v.Account.Department)
		if err != nil {
			c.d.Logger.Warn("read the department tree; scoping to the department itself", "department", v.Account.Department, "err", err)
			return
		}
		v.depts = ds
	})
	return v.depts
}

// reader is who v is to the read side: a department head with the
// departments they see.
func (c *Console) reader(ctx context.Context, v *viewer) command.Actor {
	a := v.actor()
	if v.deptHead() {
		a.Department, a.Departments = v.Account.Department, c.departments(ctx, v)
	}
	return a
}

// courseAccess decides what v may do with course.
func (c *Console) courseAccess(ctx context.Context, v *viewer, course store.Course) (access, error) {
	acc, err := c.commands().CourseAccess(ctx, c.reader(ctx, v), course)
	return access(acc), err
}

// loadCourse loads the course of the {id} path value and checks access. It
// answers the request itself (404, 403) and returns false when the handler
// must stop. want is the least access needed.
func (c *Console) loadCourse(w http.ResponseWriter, r *http.Request, v *viewer, id uint64, want access) (store.Course, access, bool) {
	course, acc, err := c.commands().Course(r.Context(), c.reader(r.Context(), v), id)
	return course, access(acc), c.accessOK(w, r, v, access(acc), want, err)
}

// loadPath loads the {id} path value's row with get: 404 for a bad id or
// a row that does not exist, 500 for any other error; it reports whether
// the handler goes on.
func loadPath[T any](c *Console, w http.ResponseWriter, r *http.Request, v *viewer, get func(context.Context, uint64) (T, error)) (T, bool) {
	id, ok := pathID(r)
	if !ok {
		c.notFound(w, r, v)
		var zero T
		return zero, false
	}
	x, err := get(r.Context(), id)
	return x, c.loaded(w, r, v, err)
}

// loadCoursePath is loadCourse for the {id} path value.
func (c *Console) loadCoursePath(w http.ResponseWriter, r *http.Request, v *viewer, want access) (store.Course, access, bool) {
	id, ok := pathID(r)
	if !ok {
		c.notFound(w, r, v)
		return store.Course{}, 0, false
	}
	return c.loadCourse(w, r, v, id, want)
}

// accessOK answers a load's error (404 for what does not exist or may not
// be seen, 500) or too little access (403) and reports whether the
// handler goes on.
func (c *Console) accessOK(w http.ResponseWriter, r *http.Request, v *viewer, acc, want access, err error) bool {
	if !c.loaded(w, r, v, err) {
		return false
	}
	if acc < want {
		c.forbidden(w, r, v)
		return false
	}
	return true
}

// loaded answers a load's error: 404 for what does not exist
// (store.ErrNotFound, the one of every package), 500 for anything else;
// it reports whether the handler goes on.
func (c *Console) loaded(w http.ResponseWriter, r *http.Request, v *viewer, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, command.ErrNotFound):
		c.notFound(w, r, v)
	default:
		c.internal(w, r, v, err)
	}
	return false
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
	sv, err := c.commands().Session(r.Context(), c.reader(r.Context(), v), id)
	sc := sessionCtx{Sess: sv.Session, Course: sv.Course, Access: access(sv.Access), Loc: bot.SessionLocation(sv.Session)}
	return sc, c.accessOK(w, r, v, sc.Access, want, err)
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

// adminPage starts a page only admins open (403 for anyone else) under
// the nav item nav.
func (c *Console) adminPage(w http.ResponseWriter, r *http.Request, v *viewer, title, nav string) (*page, bool) {
	if !v.admin() {
		c.forbidden(w, r, v)
		return nil, false
	}
	p := c.newPage(r, v, title)
	p.Nav = nav
	return p, true
}

// writeSession is loadSessionPath for write access to a page of an
// optional part of the console: not found while on is false.
func (c *Console) writeSession(w http.ResponseWriter, r *http.Request, v *viewer, on bool) (sessionCtx, bool) {
	if !on {
		c.notFound(w, r, v)
		return sessionCtx{}, false
	}
	return c.loadSessionPath(w, r, v, accessWrite)
}

// head builds the session header and tabs.
func (c *Console) head(sc sessionCtx, tab string) *sessionHead {
	return &sessionHead{
		ID: sc.Sess.ID, Title: sc.Sess.Title, Course: sc.Course, Span: bot.FormatSpan(sc.Sess),
		Status: sc.Sess.Status, Stage: reports.Stage(sc.Sess, c.now()), Tab: tab, Write: sc.Access == accessWrite, ReadOnly: sc.Access == accessAggr,
	}
}

// sessionTab loads the {id} session (loadSessionPath) and starts the page
// of its tab.
func (c *Console) sessionTab(w http.ResponseWriter, r *http.Request, v *viewer, want access, title, tab string) (sessionCtx, *page, bool) {
	sc, ok := c.loadSessionPath(w, r, v, want)
	if !ok {
		return sc, nil, false
	}
	return sc, c.tabPage(r, v, sc, title, tab), true
}

// tabPage is a page of sc's tab, under the courses nav.
func (c *Console) tabPage(r *http.Request, v *viewer, sc sessionCtx, title, tab string) *page {
	p := c.newPage(r, v, title)
	p.Nav = "courses"
	p.Session = c.head(sc, tab)
	return p
}

// commands is the one door behind the console and the API.
func (c *Console) commands() *command.Service { return c.d.Commands }

// actor is who v is to a command.
func (v *viewer) actor() command.Actor {
	return command.Actor{Name: v.name(), Role: v.Account.Role}
}

// errorKeys localizes a command's or a domain service's field errors: the message key of a field,
// or of a field with a code ("ends_at/end_before_start").
type errorKeys map[string]string

// key is the message key of f, or "" when there is none.
func (k errorKeys) key(f command.FieldError) string {
	if key, ok := k[f.Field+"/"+f.Code]; ok {
		return key
	}
	return k[f.Field]
}

// fieldErrors puts the field errors of a command or a domain service
// (digests, webhooks) on p, localized by keys; a field without a key shows
// the English message. It reports whether err was an *InvalidError.
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
	"online_url": "session.err_url", "teacher": "session.err_teacher", "plan": "session.err_plan", "calendar_invite": "invite.err",
	command.FieldOpensBefore: "session.err_minutes", command.FieldGrace: "session.err_minutes", command.FieldMakeupAfter: "session.err_minutes",
}

// commandErr answers an error of a command or a read: 404 for
// command.ErrNotFound, 403 for command.ErrForbidden, 500 for the rest.
func (c *Console) commandErr(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	switch {
	case errors.Is(err, command.ErrNotFound):
		c.notFound(w, r, v)
	case errors.Is(err, command.ErrForbidden):
		c.forbidden(w, r, v)
	default:
		c.internal(w, r, v, err)
	}
}
