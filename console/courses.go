package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// ---- home ----

type homeData struct {
	// Sessions holds each start in its session's zone.
	Sessions *Table
}

// home lists the visible sessions from a week ago on, soonest first.
func (c *Console) home(w http.ResponseWriter, r *http.Request, v *viewer) {
	p := c.newPage(r, v, "home.title")
	p.Nav = "home"
	t, _, err := c.sessionsTable(r, v, p.Lang, command.SessionQuery{EndsAfter: c.now().Add(-7 * 24 * time.Hour)}, command.Page{Limit: 200 - 1}, true)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	t.Empty = text.T(p.Lang, "home.empty")
	if err := c.noCourseNote(r, v, p.Lang, t); err != nil {
		c.internal(w, r, v, err)
		return
	}
	// Each start is already in its session's zone (sessionsTable): a nil
	// location keeps it there, on screen and in the export.
	if c.exportTable(w, r, v, nil, "sessions", t) {
		return
	}
	p.Data = homeData{Sessions: t}
	c.render(w, r, http.StatusOK, "home", p)
}

// noCourseNote tells a coordinator who owns no course why t is empty (a
// course lists its coordinator as its owner) instead of t's usual empty
// text; other viewers keep it.
func (c *Console) noCourseNote(r *http.Request, v *viewer, lang text.Locale, t *Table) error {
	if !v.coordinator() || len(t.Rows) > 0 {
		return nil
	}
	n, err := c.commands().CountCourses(r.Context(), c.reader(r.Context(), v))
	if err != nil {
		return fmt.Errorf("count owned courses: %w", err)
	}
	if n == 0 {
		t.Empty = text.T(lang, "coordinator.no_courses", v.name())
	}
	return nil
}

// listedSessions are the sessions of a list with their check-in counts as
// the viewer may see them (a department head's part of them, suppressed
// below the minimum size), by session id.
type listedSessions struct {
	sessions []store.Session
	counts   map[uint64]counts
}

// listSessions lists the sessions of q that v may see (the page pg of them)
// with their counts.
func (c *Console) listSessions(r *http.Request, v *viewer, q command.SessionQuery, pg command.Page) (listedSessions, error) {
	ss, err := c.commands().ListSessions(r.Context(), c.reader(r.Context(), v), q, pg)
	if err != nil {
		return listedSessions{}, err
	}
	ids := make([]uint64, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	k, err := c.scopedCounts(r.Context(), v, ids)
	if err != nil {
		return listedSessions{}, err
	}
	return listedSessions{sessions: ss, counts: k}, nil
}

// sessionsTable lists the sessions of q that v may see (the page pg of
// them): their table with their check-in figures and, withCourse, their
// courses, and the sessions with their counts it shows.
func (c *Console) sessionsTable(r *http.Request, v *viewer, lang text.Locale, q command.SessionQuery, pg command.Page, withCourse bool) (*Table, listedSessions, error) {
	ls, err := c.listSessions(r, v, q, pg)
	if err != nil {
		return nil, ls, err
	}
	ss, k := ls.sessions, ls.counts
	courseIDs := map[uint64]bool{}
	for _, s := range ss {
		courseIDs[s.CourseID] = true
	}
	courses := map[uint64]store.Course{}
	if withCourse && len(courseIDs) > 0 {
		cids := make([]uint64, 0, len(courseIDs))
		for id := range courseIDs {
			cids = append(cids, id)
		}
		cs, err := c.commands().CoursesByID(r.Context(), cids)
		if err != nil {
			return nil, ls, err
		}
		courses = cs
	}
	t := &Table{Key: "sessions", Title: text.T(lang, "table.sessions")}
	if withCourse {
		t.Columns = append(t.Columns, text.T(lang, "col.course"))
	}
	t.Columns = append(t.Columns, text.T(lang, "col.session"), text.T(lang, "col.starts_at"), text.T(lang, "col.location"),
		text.T(lang, "col.status"), text.T(lang, "col.roster"), text.T(lang, "col.excused"), text.T(lang, "col.checked_in"),
		text.T(lang, "col.checkin_rate"), text.T(lang, "col.low_checkin"))
	for _, s := range ss {
		loc := sessionLoc(s)
		var row []Cell
		if withCourse {
			cr := courses[s.CourseID]
			row = append(row, Cell{V: cr.Code + " " + cr.Title})
		}
		href := c.path(fmt.Sprintf("/sessions/%d", s.ID))
		row = append(row, Cell{V: s.Title, Href: href}, C(s.StartsAt.In(loc)), C(s.Location),
			stageCell(lang, s, c.now()))
		n := k[s.ID]
		if n.Suppressed {
			hidden := Cell{V: nil, Label: text.T(lang, "dept.hidden", c.d.MinGroupSize), Class: "muted"}
			row = append(row, hidden, C(nil), C(nil), C(nil), C(nil))
		} else {
			rate := n.Rate()
			low := Cell{V: rate.Low}
			if rate.Low {
				low = Cell{V: true, Label: text.T(lang, "flag.low"), Class: "flag"}
			}
			row = append(row, C(n.Roster), C(n.Excused), C(n.CheckedIn), Cell{V: rate.Value, Pct: true}, low)
		}
		t.Rows = append(t.Rows, row)
	}
	return t, ls, nil
}

func sessionLoc(s store.Session) *time.Location {
	if loc, err := time.LoadLocation(s.TimeZone); err == nil && s.TimeZone != "" {
		return loc
	}
	return time.UTC
}

// ---- courses ----

type coursesData struct {
	Courses *Table
	CanAdd  bool
}

func (c *Console) coursesPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	p := c.newPage(r, v, "courses.title")
	p.Nav = "courses"
	rd := c.reader(r.Context(), v)
	cs, err := c.commands().ListCourses(r.Context(), rd, command.CoursesByCode, command.Page{Limit: 2000 - 1})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	ids := make([]uint64, len(cs))
	for i, x := range cs {
		ids[i] = x.ID
	}
	counts, err := c.commands().SessionsPerCourse(r.Context(), rd, ids)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	t := &Table{Key: "courses", Title: text.T(p.Lang, "table.courses"), Empty: text.T(p.Lang, "courses.empty"),
		Columns: []string{text.T(p.Lang, "col.code"), text.T(p.Lang, "col.title"), text.T(p.Lang, "col.category"), text.T(p.Lang, "col.level"), text.T(p.Lang, "col.owner"), text.T(p.Lang, "col.sessions")}}
	for _, x := range cs {
		t.Rows = append(t.Rows, []Cell{{V: x.Code, Href: c.path(fmt.Sprintf("/courses/%d", x.ID))}, C(x.Title), C(x.Category), C(x.TargetLevel), C(x.Owner), C(counts[x.ID])})
	}
	if len(cs) == 0 {
		if err := c.noCourseNote(r, v, p.Lang, t); err != nil {
			c.internal(w, r, v, err)
			return
		}
	}
	if c.exportTable(w, r, v, c.d.Location, "courses", t) {
		return
	}
	p.Data = coursesData{Courses: t, CanAdd: !v.deptHead()}
	c.render(w, r, http.StatusOK, "courses", p)
}

type courseData struct {
	Course     store.Course
	Behaviours []string
	Write      bool
	Sessions   *Table
	Total      counts
	Chart      string
	Surveys    *surveyBlock
	Dept       string
}

func (c *Console) coursePage(w http.ResponseWriter, r *http.Request, v *viewer) {
	course, acc, ok := c.loadCoursePath(w, r, v, accessAggr)
	if !ok {
		return
	}
	id := course.ID
	p := c.newPage(r, v, "course.title")
	p.Nav = "courses"
	p.Title = course.Code + " " + course.Title
	t, ls, err := c.sessionsTable(r, v, p.Lang, command.SessionQuery{CourseID: id}, command.Page{}, false)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	t.Empty = text.T(p.Lang, "course.no_sessions")
	var surveys *surveyBlock
	if c.d.Surveys != nil {
		surveys = c.surveySections(r, v, p.Lang, 0, id)
	}
	// Times are in their sessions' zones already (nil keeps them there).
	if c.exportTable(w, r, v, nil, fmt.Sprintf("course-%d", id), append([]*Table{t}, surveys.tables()...)...) {
		return
	}
	ss, k := ls.sessions, ls.counts
	d := courseData{Course: course, Write: acc == accessWrite}
	_ = json.Unmarshal([]byte(course.Behaviours), &d.Behaviours)
	if v.deptHead() {
		d.Dept = v.Account.Department
	}
	var bars []rateBar
	for _, s := range ss {
		n := k[s.ID]
		if s.Status != store.SessionCancelled && !n.Suppressed {
			d.Total.add(n)
		}
		if s.Status == store.SessionCancelled {
			continue
		}
		bars = append(bars, rateBar{Label: s.StartsAt.In(sessionLoc(s)).Format("01-02"), Rate: n.Rate(), Suppressed: n.Suppressed})
	}
	d.Sessions = t
	d.Chart = rateChart(p.Lang, bars)
	d.Surveys = surveys
	p.Data = d
	c.render(w, r, http.StatusOK, "course", p)
}

// ---- course form ----

type courseFormData struct {
	ID     uint64
	Owners []string
	Levels []int
}

func (c *Console) ownerChoices(r *http.Request, current string) []string {
	names, err := c.d.Accounts.Coordinators(r.Context())
	if err != nil {
		c.log().Warn("list coordinators for the owner choice", "err", err)
	}
	found := current == ""
	for _, n := range names {
		found = found || n == current
	}
	if !found {
		names = append(names, current)
	}
	return names
}

// courseForm renders the course form on p: course id (0: a new one), the
// owner choices around owner, levels 1–5.
func (c *Console) courseForm(w http.ResponseWriter, r *http.Request, p *page, code int, id uint64, owner string) {
	p.Data = courseFormData{ID: id, Owners: c.ownerChoices(r, owner), Levels: []int{1, 2, 3, 4, 5}}
	c.render(w, r, code, "course_form", p)
}

func (c *Console) courseNewPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	if v.deptHead() {
		c.forbidden(w, r, v)
		return
	}
	p := c.newPage(r, v, "course.new")
	p.Nav = "courses"
	p.Form.Set("target_level", "1")
	if v.coordinator() {
		p.Form.Set("owner", v.name())
	}
	c.courseForm(w, r, p, http.StatusOK, 0, "")
}

func (c *Console) courseEditPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	course, _, ok := c.loadCoursePath(w, r, v, accessWrite)
	if !ok {
		return
	}
	p := c.newPage(r, v, "course.edit")
	p.Nav = "courses"
	var bs []string
	_ = json.Unmarshal([]byte(course.Behaviours), &bs)
	p.Form = url.Values{
		"code": {course.Code}, "title": {course.Title}, "category": {course.Category},
		"target_level": {strconv.Itoa(course.TargetLevel)}, "behaviours": {strings.Join(bs, "\n")}, "owner": {course.Owner},
		"calendar_invite": {command.InviteChoice(course.CalendarInvite)},
	}
	c.courseForm(w, r, p, http.StatusOK, course.ID, course.Owner)
}

// courseKeys are the course form's messages.
var courseKeys = errorKeys{
	"code": "course.err_code", "title": "course.err_title", "category": "course.err_category", "target_level": "course.err_level",
	"behaviours": "course.err_behaviour_long", "behaviours/out_of_range": "course.err_behaviours", "owner": "course.err_owner",
	"calendar_invite": "invite.err",
}

// courseInput parses the course form for command.CreateCourse and
// UpdateCourse: one behaviour a line.
func courseInput(r *http.Request) command.CourseInput {
	f := r.PostForm
	str := func(name string) *string { v := f.Get(name); return &v }
	in := command.CourseInput{Code: str("code"), Title: str("title"), Category: str("category"), Owner: str("owner")}
	if lvl, err := strconv.Atoi(strings.TrimSpace(f.Get("target_level"))); err != nil {
		in.Invalid = append(in.Invalid, command.FieldError{Field: "target_level", Code: command.CodeBadFormat})
	} else {
		in.TargetLevel = &lvl
	}
	bs := []string{}
	for _, line := range strings.Split(f.Get("behaviours"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			bs = append(bs, line)
		}
	}
	in.Behaviours = &bs
	if _, ok := f["calendar_invite"]; ok {
		in.CalendarInvite = str("calendar_invite")
	}
	return in
}

// courseSaved answers a course command: the course page, or the form
// with its messages.
func (c *Console) courseSaved(w http.ResponseWriter, r *http.Request, v *viewer, p *page, course store.Course, err error, flash string) bool {
	switch {
	case err == nil:
		c.redirectOK(w, r, fmt.Sprintf("/courses/%d", course.ID), flash)
	case errors.Is(err, command.ErrDuplicate):
		p.fieldError("code", "course.err_duplicate")
		return false
	case errors.Is(err, command.ErrForbidden):
		c.forbidden(w, r, v)
	case p.fieldErrors(err, courseKeys):
		return false
	default:
		c.internal(w, r, v, err)
	}
	return true
}

func (c *Console) courseCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	if v.deptHead() {
		c.forbidden(w, r, v)
		return
	}
	p := c.newPage(r, v, "course.new")
	p.Nav = "courses"
	course, err := c.commands().CreateCourse(r.Context(), v.actor(), courseInput(r))
	if c.courseSaved(w, r, v, p, course, err, "course_created") {
		return
	}
	c.courseForm(w, r, p, http.StatusUnprocessableEntity, 0, p.V("owner"))
}

func (c *Console) courseUpdate(w http.ResponseWriter, r *http.Request, v *viewer) {
	course, _, ok := c.loadCoursePath(w, r, v, accessWrite)
	if !ok {
		return
	}
	id := course.ID
	p := c.newPage(r, v, "course.edit")
	p.Nav = "courses"
	course, err := c.commands().UpdateCourse(r.Context(), v.actor(), id, courseInput(r))
	if c.courseSaved(w, r, v, p, course, err, "course_saved") {
		return
	}
	c.courseForm(w, r, p, http.StatusUnprocessableEntity, id, p.V("owner"))
}

// stageCell is a session's lifecycle stage (reports.Stage) as a cell.
func stageCell(lang text.Locale, s store.Session, now time.Time) Cell {
	st := reports.Stage(s, now)
	return Cell{V: st, Label: text.Enum(lang, "stage", st), Class: "stage stage-" + st}
}
