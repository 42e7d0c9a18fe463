package console

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/store"
)

// localLayout is the value format of <input type="datetime-local">.
const localLayout = "2006-01-02T15:04"

func parseLocal(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{localLayout, "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is not YYYY-MM-DDTHH:MM", s)
}

// ---- session overview ----

type sessionData struct {
	Sess    store.Session
	Teacher string
	Windows bot.Windows
	Loc     *time.Location
	Counts  counts
	Chart   string
	Dept    string
	CanEdit bool
	// Stage is reports.Stage of the session now.
	Stage string
	// CanCopy offers "copy as next session" (write access, any stage).
	CanCopy bool
}

func (c *Console) sessionPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.loadSessionPath(w, r, v, accessAggr)
	if !ok {
		return
	}
	p := c.newPage(r, v, "session.title")
	p.Nav = "courses"
	p.Title = sc.Sess.Title
	p.Session = c.head(sc, "overview")
	k, err := c.scopedCounts(r.Context(), v, []uint64{sc.Sess.ID})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d := sessionData{Sess: sc.Sess, Windows: bot.SessionWindows(sc.Sess), Loc: sc.Loc, Counts: k[sc.Sess.ID],
		CanEdit: sc.Access == accessWrite && sc.Sess.Status != store.SessionCancelled,
		Stage:   reports.Stage(sc.Sess, c.now()), CanCopy: sc.Access == accessWrite && c.copier() != nil}
	if v.deptHead() {
		d.Dept = v.Account.Department
	}
	if !d.Counts.Suppressed {
		d.Chart = stackChart(p.Lang, d.Counts)
	}
	d.Teacher = c.teacherName(r, sc.Sess)
	p.Data = d
	c.render(w, r, http.StatusOK, "session", p)
}

func (c *Console) teacherName(r *http.Request, s store.Session) string {
	if s.TeacherID == nil {
		return ""
	}
	var t store.Teacher
	c.d.DB.WithContext(r.Context()).Limit(1).Find(&t, *s.TeacherID)
	return t.Name
}

// ---- session form ----

type sessionFormData struct {
	ID      uint64
	Courses []store.Course
	Create  bool
	Zones   []string
}

var commonZones = []string{"Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles", "UTC"}

func (c *Console) writableCourses(r *http.Request, v *viewer) ([]store.Course, error) {
	var cs []store.Course
	q := c.d.DB.WithContext(r.Context()).Order("code").Limit(2000)
	if !v.admin() {
		q = q.Where("owner = ? AND owner <> ''", v.name())
	}
	if err := q.Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("load courses: %w", err)
	}
	return cs, nil
}

func (c *Console) zones() []string {
	z := c.d.Location.String()
	for _, x := range commonZones {
		if x == z {
			return commonZones
		}
	}
	return append([]string{z}, commonZones...)
}

func (c *Console) sessionNewPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	if v.deptHead() {
		c.forbidden(w, r, v)
		return
	}
	cs, err := c.writableCourses(r, v)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	p := c.newPage(r, v, "session.new")
	p.Nav = "courses"
	p.Form = url.Values{
		"course_id": {r.URL.Query().Get("course_id")}, "time_zone": {c.d.Location.String()}, "locale": {c.d.Locale},
		"opens_before": {strconv.FormatInt(int64(c.d.Checkin.OpensBefore/time.Minute), 10)},
		"grace":        {strconv.FormatInt(int64(c.d.Checkin.Grace/time.Minute), 10)},
		"makeup_after": {strconv.FormatInt(int64(c.d.Checkin.MakeupAfter/time.Minute), 10)},
		"plan":         {"default"},
	}
	p.Data = sessionFormData{Courses: cs, Create: true, Zones: c.zones()}
	c.render(w, r, http.StatusOK, "session_form", p)
}

func (c *Console) sessionEditPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.loadSessionPath(w, r, v, accessWrite)
	if !ok {
		return
	}
	cs, err := c.writableCourses(r, v)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	s := sc.Sess
	p := c.newPage(r, v, "session.edit")
	p.Nav = "courses"
	p.Session = c.head(sc, "edit")
	p.Form = url.Values{
		"course_id": {strconv.FormatUint(s.CourseID, 10)}, "title": {s.Title},
		"starts_at": {s.StartsAt.In(sc.Loc).Format(localLayout)}, "ends_at": {s.EndsAt.In(sc.Loc).Format(localLayout)},
		"time_zone": {s.TimeZone}, "locale": {s.Locale}, "location": {s.Location}, "online_url": {s.OnlineURL},
		"teacher":      {c.teacherName(r, s)},
		"opens_before": {strconv.FormatInt(s.CheckinOpensBefore/60, 10)}, "grace": {strconv.FormatInt(s.CheckinGrace/60, 10)},
		"makeup_after": {strconv.FormatInt(s.MakeupAfter/60, 10)},
	}
	p.Data = sessionFormData{ID: s.ID, Courses: cs, Zones: c.zones()}
	c.render(w, r, http.StatusOK, "session_form", p)
}

// applySession validates the session form into s (mirroring the REST API's
// rules) and returns the audit detail.
func (c *Console) applySession(r *http.Request, v *viewer, p *page, s *store.Session, create bool) map[string]any {
	f := r.PostForm
	cid, err := strconv.ParseUint(strings.TrimSpace(f.Get("course_id")), 10, 64)
	if err != nil || cid == 0 {
		p.fieldError("course_id", "session.err_course")
	} else {
		var course store.Course
		if err := c.d.DB.WithContext(r.Context()).Limit(1).Find(&course, cid).Error; err != nil || course.ID == 0 {
			p.fieldError("course_id", "session.err_course")
		} else if acc, err := c.courseAccess(r.Context(), v, course); err != nil || acc != accessWrite {
			p.fieldError("course_id", "session.err_course")
		} else {
			s.CourseID = cid
			if strings.TrimSpace(f.Get("title")) == "" {
				s.Title = course.Title
			}
		}
	}
	if t := strings.TrimSpace(f.Get("title")); t != "" {
		if plan.TooLong(t, plan.MaxSessionTitle) {
			p.fieldError("title", "session.err_title")
		}
		s.Title = t
	}
	tz := strings.TrimSpace(f.Get("time_zone"))
	loc, err := plan.Zone(tz) // IANA names only: not "Local"
	if err != nil {
		p.fieldError("time_zone", "session.err_zone")
		loc = c.d.Location
	} else {
		s.TimeZone = tz
	}
	start, err := parseLocal(f.Get("starts_at"), loc)
	switch {
	case err != nil:
		p.fieldError("starts_at", "session.err_start")
	case !plan.InDateRange(start):
		p.fieldError("starts_at", "session.err_date")
	default:
		s.StartsAt = start
	}
	end, err := parseLocal(f.Get("ends_at"), loc)
	switch {
	case err != nil:
		p.fieldError("ends_at", "session.err_end")
	case !s.StartsAt.IsZero() && !end.After(s.StartsAt):
		p.fieldError("ends_at", "session.err_end_before")
	case !s.StartsAt.IsZero() && end.Sub(s.StartsAt) > plan.MaxSessionLength:
		p.fieldError("ends_at", "session.err_too_long")
	case !plan.InDateRange(end):
		p.fieldError("ends_at", "session.err_date")
	default:
		s.EndsAt = end
	}
	switch l := f.Get("locale"); l {
	case bot.LocaleZH, bot.LocaleEN:
		s.Locale = l
	default:
		p.fieldError("locale", "session.err_locale")
	}
	s.Location = strings.TrimSpace(f.Get("location"))
	if plan.TooLong(s.Location, plan.MaxLocation) {
		p.fieldError("location", "session.err_location")
	}
	s.OnlineURL = strings.TrimSpace(f.Get("online_url"))
	if s.OnlineURL != "" && (!plan.ValidURL(s.OnlineURL) || plan.TooLong(s.OnlineURL, plan.MaxOnlineURL)) {
		p.fieldError("online_url", "session.err_url")
	}
	if plan.TooLong(strings.TrimSpace(f.Get("teacher")), plan.MaxTeacher) {
		p.fieldError("teacher", "session.err_teacher")
	}
	minutes := func(field string, dst *int64) {
		n, err := strconv.ParseInt(strings.TrimSpace(f.Get(field)), 10, 64)
		if err != nil || n < 0 || n > plan.MaxWindowMinutes {
			p.fieldError(field, "session.err_minutes")
			return
		}
		*dst = n * 60
	}
	minutes("opens_before", &s.CheckinOpensBefore)
	minutes("grace", &s.CheckinGrace)
	minutes("makeup_after", &s.MakeupAfter)
	if create {
		if pl := f.Get("plan"); pl != "default" && pl != "none" {
			p.fieldError("plan", "session.err_plan")
		}
	}
	detail := map[string]any{
		"course_id": s.CourseID, "title": s.Title, "starts_at": s.StartsAt, "ends_at": s.EndsAt, "time_zone": s.TimeZone,
		"locale": s.Locale, "location": s.Location, "online_url": s.OnlineURL, "teacher": strings.TrimSpace(f.Get("teacher")),
		"checkin": map[string]int64{"opens_before_minutes": s.CheckinOpensBefore / 60, "grace_minutes": s.CheckinGrace / 60, "makeup_after_minutes": s.MakeupAfter / 60},
	}
	if create {
		detail["plan"] = f.Get("plan")
	}
	return detail
}

// teacherID finds or creates the teacher named name (as the REST API does).
func (c *Console) teacherID(tx *gorm.DB, name string) (*uint64, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, nil
	}
	var t store.Teacher
	if err := tx.Where("name = ?", name).Limit(1).Find(&t).Error; err != nil {
		return nil, fmt.Errorf("find teacher: %w", err)
	}
	if t.ID == 0 {
		t = store.Teacher{Name: name, CreatedAt: c.now()}
		if err := tx.Create(&t).Error; err != nil {
			return nil, fmt.Errorf("create teacher: %w", err)
		}
	}
	return &t.ID, nil
}

func (c *Console) sessionCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	if v.deptHead() {
		c.forbidden(w, r, v)
		return
	}
	p := c.newPage(r, v, "session.new")
	p.Nav = "courses"
	s := store.Session{Status: store.SessionPlanned}
	detail := c.applySession(r, v, p, &s, true)
	if !p.hasErrors() {
		err := c.d.DB.WithContext(r.Context()).Transaction(func(tx *gorm.DB) error {
			id, err := c.teacherID(tx, r.PostForm.Get("teacher"))
			if err != nil {
				return err
			}
			s.TeacherID = id
			if err := tx.Create(&s).Error; err != nil {
				return fmt.Errorf("create session: %w", err)
			}
			if r.PostForm.Get("plan") == "default" {
				if _, err := c.d.Planner.ApplyDefault(r.Context(), tx, s); err != nil {
					return fmt.Errorf("apply default plan: %w", err)
				}
				if c.d.SurveyPlans != nil {
					var course store.Course
					if err := tx.Take(&course, s.CourseID).Error; err != nil {
						return fmt.Errorf("load course: %w", err)
					}
					if _, err := c.d.SurveyPlans.AttachDefault(r.Context(), tx, s, course); err != nil {
						return fmt.Errorf("attach default surveys: %w", err)
					}
				}
			}
			return c.audit(tx, v, "session.create", fmt.Sprintf("session:%d", s.ID), detail)
		})
		if err != nil {
			c.internal(w, r, v, err)
			return
		}
		c.redirectOK(w, r, fmt.Sprintf("/sessions/%d", s.ID), "session_created")
		return
	}
	cs, err := c.writableCourses(r, v)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	p.Data = sessionFormData{Courses: cs, Create: true, Zones: c.zones()}
	c.render(w, r, http.StatusUnprocessableEntity, "session_form", p)
}

func (c *Console) sessionUpdate(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.loadSessionPath(w, r, v, accessWrite)
	if !ok {
		return
	}
	p := c.newPage(r, v, "session.edit")
	p.Nav = "courses"
	p.Session = c.head(sc, "edit")
	s := sc.Sess
	old := sc.Sess
	if s.Status == store.SessionCancelled {
		p.fieldError("", "session.err_cancelled")
	}
	detail := c.applySession(r, v, p, &s, false)
	if !p.hasErrors() {
		err := c.d.DB.WithContext(r.Context()).Transaction(func(tx *gorm.DB) error {
			if c.d.SurveyPlans != nil {
				if err := c.d.SurveyPlans.SessionMoved(r.Context(), tx, old, s); err != nil {
					return fmt.Errorf("move surveys: %w", err)
				}
			}
			id, err := c.teacherID(tx, r.PostForm.Get("teacher"))
			if err != nil {
				return err
			}
			s.TeacherID = id
			if err := tx.Save(&s).Error; err != nil {
				return fmt.Errorf("save session: %w", err)
			}
			if err := c.d.Planner.Reschedule(r.Context(), tx, s); err != nil {
				return fmt.Errorf("reschedule: %w", err)
			}
			return c.audit(tx, v, "session.update", fmt.Sprintf("session:%d", s.ID), detail)
		})
		if err != nil {
			c.internal(w, r, v, err)
			return
		}
		c.redirectOK(w, r, fmt.Sprintf("/sessions/%d", s.ID), "session_saved")
		return
	}
	cs, err := c.writableCourses(r, v)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	p.Data = sessionFormData{ID: s.ID, Courses: cs, Zones: c.zones()}
	c.render(w, r, http.StatusUnprocessableEntity, "session_form", p)
}

func (c *Console) sessionCancel(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.loadSessionPath(w, r, v, accessWrite)
	if !ok {
		return
	}
	back := fmt.Sprintf("/sessions/%d", sc.Sess.ID)
	if sc.Sess.Status == store.SessionCancelled {
		c.redirectOK(w, r, back, "")
		return
	}
	if !c.confirmed(w, r, v, back, tr(langOf(r), "session.confirm_cancel", sc.Sess.Title)) {
		return
	}
	s := sc.Sess
	s.Status = store.SessionCancelled
	err := c.d.DB.WithContext(r.Context()).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&store.Session{}).Where("id = ?", s.ID).Update("status", s.Status).Error; err != nil {
			return err
		}
		if err := c.d.Planner.Reschedule(r.Context(), tx, s); err != nil {
			return err
		}
		return c.audit(tx, v, "session.cancel", fmt.Sprintf("session:%d", s.ID), nil)
	})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	c.redirectOK(w, r, back, "session_cancelled")
}

// ---- roster ----

type rosterData struct {
	Roster *Table
	Errors []roster.RowError
	File   string
	// Imported reports the last successful import.
	Imported string
	Columns  string
	Loc      *time.Location
}

func (c *Console) rosterTable(r *http.Request, lang string, sessionID uint64) (*Table, error) {
	type row struct {
		ExternalID, Name, Department, ManagerID, Platform, Status, Note string
	}
	var rows []row
	err := c.d.DB.WithContext(r.Context()).Table("enrollments").
		Select("employees.external_id, employees.name, employees.department, employees.manager_id, employees.platform, enrollments.status, enrollments.note").
		Joins("JOIN employees ON employees.id = enrollments.employee_id").
		Where("enrollments.session_id = ?", sessionID).Order("employees.external_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load roster: %w", err)
	}
	t := &Table{Key: "roster", Title: tr(lang, "table.roster"), Empty: tr(lang, "roster.empty"),
		Columns: []string{tr(lang, "col.external_id"), tr(lang, "col.name"), tr(lang, "col.department"), tr(lang, "col.manager_id"), tr(lang, "col.platform"), tr(lang, "col.enrollment"), tr(lang, "col.note")}}
	for _, x := range rows {
		t.Rows = append(t.Rows, []Cell{C(x.ExternalID), C(x.Name), C(x.Department), C(x.ManagerID), C(x.Platform),
			{V: x.Status, Label: trEnum(lang, "enroll", x.Status)}, C(x.Note)})
	}
	return t, nil
}

func (c *Console) rosterPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.loadSessionPath(w, r, v, accessWrite)
	if !ok {
		return
	}
	p := c.newPage(r, v, "roster.title")
	p.Nav = "courses"
	p.Session = c.head(sc, "roster")
	t, err := c.rosterTable(r, p.Lang, sc.Sess.ID)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	if c.exportTable(w, r, v, sc.Loc, fmt.Sprintf("session-%d", sc.Sess.ID), t) {
		return
	}
	d := rosterData{Roster: t, Columns: strings.Join(roster.Columns, ","), Loc: sc.Loc}
	if p.Flash == "flash.roster_imported" {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		added, _ := strconv.Atoi(r.URL.Query().Get("new"))
		d.Imported = tr(p.Lang, "roster.imported", n, added)
		p.Flash = ""
	}
	p.Data = d
	c.render(w, r, http.StatusOK, "roster", p)
}

// rosterUpload parses an uploaded CSV or XLSX roster. A file with any bad
// row is shown with every bad line and reason, and nothing is saved.
func (c *Console) rosterUpload(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.loadSessionPath(w, r, v, accessWrite)
	if !ok {
		return
	}
	p := c.newPage(r, v, "roster.title")
	p.Nav = "courses"
	p.Session = c.head(sc, "roster")
	d := rosterData{Columns: strings.Join(roster.Columns, ","), Loc: sc.Loc}
	fail := func(code int) {
		t, err := c.rosterTable(r, p.Lang, sc.Sess.ID)
		if err != nil {
			c.internal(w, r, v, err)
			return
		}
		d.Roster = t
		p.Data = d
		c.render(w, r, code, "roster", p)
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		p.fieldError("file", "roster.err_no_file")
		fail(http.StatusUnprocessableEntity)
		return
	}
	defer file.Close()
	d.File = hdr.Filename
	data, err := io.ReadAll(io.LimitReader(file, roster.MaxFileBytes+1))
	if err != nil {
		p.fieldError("file", "roster.err_read")
		fail(http.StatusUnprocessableEntity)
		return
	}
	if len(data) > roster.MaxFileBytes {
		p.fieldError("file", "roster.err_too_big")
		fail(http.StatusUnprocessableEntity)
		return
	}
	var rows []roster.Row
	ext := strings.ToLower(filepath.Ext(hdr.Filename))
	if ext == ".xlsx" || bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		rows, err = roster.ParseXLSX(bytes.NewReader(data))
	} else {
		rows, err = roster.ParseCSV(bytes.NewReader(data))
	}
	var res roster.Result
	if err == nil {
		res, err = roster.Import(r.Context(), c.d.DB, v.importActor(), sc.Sess.ID, rows)
	}
	var ve *roster.ValidationError
	if errors.As(err, &ve) {
		d.Errors = rosterErrors(p.Lang, ve.Rows)
		p.fieldErrorf("file", "roster.err_rows", len(ve.Rows))
		fail(http.StatusUnprocessableEntity)
		return
	}
	if errors.Is(err, roster.ErrNotManaged) {
		c.forbidden(w, r, v)
		return
	}
	if err != nil && rows == nil {
		p.fieldText("file", err.Error())
		fail(http.StatusUnprocessableEntity)
		return
	}
	if err != nil {
		c.internal(w, r, v, fmt.Errorf("import roster: %w", err))
		return
	}
	detail := map[string]any{"employees": res.Employees, "enrolled": res.Enrolled, "file": hdr.Filename}
	if err := c.audit(c.d.DB.WithContext(r.Context()), v, "roster.import", fmt.Sprintf("session:%d", sc.Sess.ID), detail); err != nil {
		c.internal(w, r, v, err)
		return
	}
	http.Redirect(w, r, c.path(fmt.Sprintf("/sessions/%d/roster?ok=roster_imported&n=%d&new=%d", sc.Sess.ID, res.Employees, res.Enrolled)), http.StatusSeeOther)
}
