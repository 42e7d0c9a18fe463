package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
)

// ---- home ----

type homeData struct {
	Sessions *Table
	Loc      *time.Location
}

// home lists the visible sessions from a week ago on, soonest first.
func (c *Console) home(w http.ResponseWriter, r *http.Request, v *viewer) {
	p := c.newPage(r, v, "home.title")
	p.Nav = "home"
	var ss []store.Session
	q := c.visibleSessions(c.d.DB.WithContext(r.Context()).Model(&store.Session{}), v).
		Where("sessions.ends_at >= ?", c.now().Add(-7*24*time.Hour)).Order("sessions.starts_at").Limit(200)
	if err := q.Find(&ss).Error; err != nil {
		c.internal(w, r, v, err)
		return
	}
	t, err := c.sessionsTable(r, v, p.Lang, "sessions", ss, true)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	t.Empty = tr(p.Lang, "home.empty")
	if c.exportTable(w, r, v, c.d.Location, "sessions", t) {
		return
	}
	p.Data = homeData{Sessions: t, Loc: c.d.Location}
	c.render(w, r, http.StatusOK, "home", p)
}

// sessionsTable is the table of sessions with their check-in figures (a
// department head's part of them, suppressed below the minimum size).
func (c *Console) sessionsTable(r *http.Request, v *viewer, lang, key string, ss []store.Session, withCourse bool) (*Table, error) {
	ids := make([]uint64, len(ss))
	courseIDs := map[uint64]bool{}
	for i, s := range ss {
		ids[i] = s.ID
		courseIDs[s.CourseID] = true
	}
	k, err := c.scopedCounts(r.Context(), v, ids)
	if err != nil {
		return nil, err
	}
	courses := map[uint64]store.Course{}
	if withCourse && len(courseIDs) > 0 {
		cids := make([]uint64, 0, len(courseIDs))
		for id := range courseIDs {
			cids = append(cids, id)
		}
		var cs []store.Course
		if err := c.d.DB.WithContext(r.Context()).Where("id IN ?", cids).Find(&cs).Error; err != nil {
			return nil, fmt.Errorf("load courses: %w", err)
		}
		for _, x := range cs {
			courses[x.ID] = x
		}
	}
	t := &Table{Key: key, Title: tr(lang, "table.sessions")}
	if withCourse {
		t.Columns = append(t.Columns, tr(lang, "col.course"))
	}
	t.Columns = append(t.Columns, tr(lang, "col.session"), tr(lang, "col.starts_at"), tr(lang, "col.location"),
		tr(lang, "col.status"), tr(lang, "col.roster"), tr(lang, "col.excused"), tr(lang, "col.checked_in"),
		tr(lang, "col.checkin_rate"), tr(lang, "col.low_checkin"))
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
			hidden := Cell{V: nil, Label: tr(lang, "dept.hidden", c.d.MinGroupSize), Class: "muted"}
			row = append(row, hidden, C(nil), C(nil), C(nil), C(nil))
		} else {
			rate := n.Rate()
			low := Cell{V: rate.Low}
			if rate.Low {
				low = Cell{V: true, Label: tr(lang, "flag.low"), Class: "flag"}
			}
			row = append(row, C(n.Roster), C(n.Excused), C(n.CheckedIn), Cell{V: rate.Value, Pct: true}, low)
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
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
	var cs []store.Course
	if err := c.visibleCourses(c.d.DB.WithContext(r.Context()).Model(&store.Course{}), v).Order("courses.code").Limit(2000).Find(&cs).Error; err != nil {
		c.internal(w, r, v, err)
		return
	}
	type agg struct {
		CourseID uint64
		N        int
		Next     *time.Time
	}
	counts := map[uint64]int{}
	if len(cs) > 0 {
		ids := make([]uint64, len(cs))
		for i, x := range cs {
			ids[i] = x.ID
		}
		var rows []agg
		q := c.visibleSessions(c.d.DB.WithContext(r.Context()).Model(&store.Session{}), v).
			Select("sessions.course_id AS course_id, COUNT(*) AS n").Where("sessions.course_id IN ?", ids).Group("sessions.course_id")
		if err := q.Scan(&rows).Error; err != nil {
			c.internal(w, r, v, err)
			return
		}
		for _, x := range rows {
			counts[x.CourseID] = x.N
		}
	}
	t := &Table{Key: "courses", Title: tr(p.Lang, "table.courses"), Empty: tr(p.Lang, "courses.empty"),
		Columns: []string{tr(p.Lang, "col.code"), tr(p.Lang, "col.title"), tr(p.Lang, "col.category"), tr(p.Lang, "col.level"), tr(p.Lang, "col.owner"), tr(p.Lang, "col.sessions")}}
	for _, x := range cs {
		t.Rows = append(t.Rows, []Cell{{V: x.Code, Href: c.path(fmt.Sprintf("/courses/%d", x.ID))}, C(x.Title), C(x.Category), C(x.TargetLevel), C(x.Owner), C(counts[x.ID])})
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
	id, ok := pathID(r)
	if !ok {
		c.notFound(w, r, v)
		return
	}
	course, acc, ok := c.loadCourse(w, r, v, id, accessAggr)
	if !ok {
		return
	}
	p := c.newPage(r, v, "course.title")
	p.Nav = "courses"
	p.Title = course.Code + " " + course.Title
	var ss []store.Session
	q := c.visibleSessions(c.d.DB.WithContext(r.Context()).Model(&store.Session{}), v).Where("sessions.course_id = ?", id).Order("sessions.starts_at")
	if err := q.Find(&ss).Error; err != nil {
		c.internal(w, r, v, err)
		return
	}
	t, err := c.sessionsTable(r, v, p.Lang, "sessions", ss, false)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	t.Empty = tr(p.Lang, "course.no_sessions")
	var surveys *surveyBlock
	if c.d.Surveys != nil {
		surveys = c.surveySections(r, v, p.Lang, 0, id)
	}
	if c.exportTable(w, r, v, c.d.Location, fmt.Sprintf("course-%d", id), append([]*Table{t}, surveys.tables()...)...) {
		return
	}
	ids := make([]uint64, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	k, err := c.scopedCounts(r.Context(), v, ids)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
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
	var names []string
	c.d.DB.WithContext(r.Context()).Model(&store.Account{}).Where("role = ? AND disabled = ?", store.RoleCoordinator, false).Order("username").Pluck("username", &names)
	found := current == ""
	for _, n := range names {
		found = found || n == current
	}
	if !found {
		names = append(names, current)
	}
	return names
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
	p.Data = courseFormData{Owners: c.ownerChoices(r, ""), Levels: []int{1, 2, 3, 4, 5}}
	c.render(w, r, http.StatusOK, "course_form", p)
}

func (c *Console) courseEditPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	id, ok := pathID(r)
	if !ok {
		c.notFound(w, r, v)
		return
	}
	course, _, ok := c.loadCourse(w, r, v, id, accessWrite)
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
	}
	p.Data = courseFormData{ID: course.ID, Owners: c.ownerChoices(r, course.Owner), Levels: []int{1, 2, 3, 4, 5}}
	c.render(w, r, http.StatusOK, "course_form", p)
}

// applyCourse validates the course form into course, mirroring the REST
// API's rules; messages go to p.
func (c *Console) applyCourse(r *http.Request, v *viewer, p *page, course *store.Course) map[string]any {
	f := r.PostForm
	course.Code = strings.TrimSpace(f.Get("code"))
	course.Title = strings.TrimSpace(f.Get("title"))
	course.Category = strings.TrimSpace(f.Get("category"))
	if course.Code == "" || plan.TooLong(course.Code, plan.MaxCourseCode) {
		p.fieldError("code", "course.err_code")
	}
	if course.Title == "" || plan.TooLong(course.Title, plan.MaxCourseTitle) {
		p.fieldError("title", "course.err_title")
	}
	if plan.TooLong(course.Category, plan.MaxCategory) {
		p.fieldError("category", "course.err_category")
	}
	lvl, err := strconv.Atoi(strings.TrimSpace(f.Get("target_level")))
	if err != nil || lvl < 1 || lvl > 5 {
		p.fieldError("target_level", "course.err_level")
	} else {
		course.TargetLevel = lvl
	}
	var bs []string
	for _, line := range strings.Split(f.Get("behaviours"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			bs = append(bs, line)
		}
	}
	if len(bs) > plan.MaxBehaviours {
		p.fieldError("behaviours", "course.err_behaviours")
	}
	for _, b := range bs {
		if plan.TooLong(b, plan.MaxBehaviour) {
			p.fieldError("behaviours", "course.err_behaviour_long")
			break
		}
	}
	if bs == nil {
		bs = []string{}
	}
	b, _ := json.Marshal(bs)
	course.Behaviours = string(b)
	if v.admin() {
		owner := strings.TrimSpace(f.Get("owner"))
		if owner != "" && owner != course.Owner {
			var n int64
			c.d.DB.WithContext(r.Context()).Model(&store.Account{}).Where("username = ? AND role = ?", owner, store.RoleCoordinator).Count(&n)
			if n == 0 {
				p.fieldError("owner", "course.err_owner")
			}
		}
		course.Owner = owner
	} else if course.ID == 0 {
		course.Owner = v.name()
	}
	return map[string]any{"code": course.Code, "title": course.Title, "category": course.Category,
		"target_level": course.TargetLevel, "behaviours": bs, "owner": course.Owner}
}

func (c *Console) courseCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	if v.deptHead() {
		c.forbidden(w, r, v)
		return
	}
	p := c.newPage(r, v, "course.new")
	p.Nav = "courses"
	var course store.Course
	detail := c.applyCourse(r, v, p, &course)
	if !p.hasErrors() {
		err := c.d.DB.WithContext(r.Context()).Transaction(func(tx *gorm.DB) error {
			if err := tx.Create(&course).Error; err != nil {
				return err
			}
			return c.audit(tx, v, "course.create", fmt.Sprintf("course:%d", course.ID), detail)
		})
		switch {
		case store.IsDuplicate(err):
			p.fieldError("code", "course.err_duplicate")
		case err != nil:
			c.internal(w, r, v, err)
			return
		default:
			c.redirectOK(w, r, fmt.Sprintf("/courses/%d", course.ID), "course_created")
			return
		}
	}
	p.Data = courseFormData{Owners: c.ownerChoices(r, p.V("owner")), Levels: []int{1, 2, 3, 4, 5}}
	c.render(w, r, http.StatusUnprocessableEntity, "course_form", p)
}

func (c *Console) courseUpdate(w http.ResponseWriter, r *http.Request, v *viewer) {
	id, ok := pathID(r)
	if !ok {
		c.notFound(w, r, v)
		return
	}
	course, _, ok := c.loadCourse(w, r, v, id, accessWrite)
	if !ok {
		return
	}
	p := c.newPage(r, v, "course.edit")
	p.Nav = "courses"
	detail := c.applyCourse(r, v, p, &course)
	if !p.hasErrors() {
		err := c.d.DB.WithContext(r.Context()).Transaction(func(tx *gorm.DB) error {
			if err := tx.Save(&course).Error; err != nil {
				return err
			}
			return c.audit(tx, v, "course.update", fmt.Sprintf("course:%d", course.ID), detail)
		})
		switch {
		case store.IsDuplicate(err):
			p.fieldError("code", "course.err_duplicate")
		case err != nil:
			c.internal(w, r, v, err)
			return
		default:
			c.redirectOK(w, r, fmt.Sprintf("/courses/%d", course.ID), "course_saved")
			return
		}
	}
	p.Data = courseFormData{ID: id, Owners: c.ownerChoices(r, p.V("owner")), Levels: []int{1, 2, 3, 4, 5}}
	c.render(w, r, http.StatusUnprocessableEntity, "course_form", p)
}

// stageCell is a session's lifecycle stage (reports.Stage) as a cell.
func stageCell(lang string, s store.Session, now time.Time) Cell {
	st := reports.Stage(s, now)
	return Cell{V: st, Label: trEnum(lang, "stage", st), Class: "stage stage-" + st}
}
