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

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
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
	sc, p, ok := c.sessionTab(w, r, v, accessAggr, "session.title", "overview")
	if !ok {
		return
	}
	p.Title = sc.Sess.Title
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
	return c.commands().TeacherName(r.Context(), s)
}

// ---- session form ----

type sessionFormData struct {
	ID      uint64
	Courses []store.Course
	Create  bool
	Zones   []zoneChoice
}

func (c *Console) writableCourses(r *http.Request, v *viewer) ([]store.Course, error) {
	return c.commands().WritableCourses(r.Context(), v.actor())
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
		"plan": {"default"}, "calendar_invite": {command.InviteInherit},
	}
	setMinutes(p.Form, command.FieldOpensBefore, int64(c.d.Checkin.OpensBefore/time.Minute))
	setMinutes(p.Form, command.FieldGrace, int64(c.d.Checkin.Grace/time.Minute))
	setMinutes(p.Form, command.FieldMakeupAfter, int64(c.d.Checkin.MakeupAfter/time.Minute))
	p.Data = sessionFormData{Courses: cs, Create: true, Zones: c.zoneChoices(p.Lang, p.V("time_zone"))}
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
	p := c.tabPage(r, v, sc, "session.edit", "edit")
	p.Form = url.Values{
		"course_id": {strconv.FormatUint(s.CourseID, 10)}, "title": {s.Title},
		"starts_at": {s.StartsAt.In(sc.Loc).Format(localLayout)}, "ends_at": {s.EndsAt.In(sc.Loc).Format(localLayout)},
		"time_zone": {s.TimeZone}, "locale": {s.Locale}, "location": {s.Location}, "online_url": {s.OnlineURL},
		"teacher": {c.teacherName(r, s)}, "calendar_invite": {command.InviteChoice(s.CalendarInvite)},
	}
	setMinutes(p.Form, command.FieldOpensBefore, s.CheckinOpensBefore/60)
	setMinutes(p.Form, command.FieldGrace, s.CheckinGrace/60)
	setMinutes(p.Form, command.FieldMakeupAfter, s.MakeupAfter/60)
	p.Data = sessionFormData{ID: s.ID, Courses: cs, Zones: c.zoneChoices(p.Lang, s.TimeZone)}
	c.render(w, r, http.StatusOK, "session_form", p)
}

// sessionInput parses the session form for command.CreateSession and
// UpdateSession; times are read in the form's zone, and what cannot be
// read joins the command's own field errors.
func (c *Console) sessionInput(r *http.Request, create bool) command.SessionInput {
	f := r.PostForm
	var in command.SessionInput
	str := func(name string) *string { v := f.Get(name); return &v }
	if cid, err := strconv.ParseUint(strings.TrimSpace(f.Get("course_id")), 10, 64); err != nil || cid == 0 {
		in.Invalid = append(in.Invalid, command.FieldError{Field: "course_id", Code: command.CodeRequired})
	} else {
		in.CourseID = &cid
	}
	if t := strings.TrimSpace(f.Get("title")); t != "" || !create {
		in.Title = &t
	}
	in.TimeZone, in.Locale, in.Location, in.OnlineURL, in.Teacher = str("time_zone"), str("locale"), str("location"), str("online_url"), str("teacher")
	loc, err := plan.Zone(strings.TrimSpace(f.Get("time_zone"))) // IANA names only: not "Local"
	if err != nil {
		loc = c.d.Location
	}
	in.StartsAt, in.EndsAt = startEnd(f, loc, &in.Invalid)
	for _, m := range []struct {
		field string
		dst   **int64
	}{{command.FieldOpensBefore, &in.OpensBeforeMinutes}, {command.FieldGrace, &in.GraceMinutes}, {command.FieldMakeupAfter, &in.MakeupAfterMinutes}} {
		n, errs := minutesField(f, m.field) // value and unit (分钟/小时/天)
		in.Invalid = append(in.Invalid, errs...)
		*m.dst = n
	}
	if create {
		in.Plan = str("plan")
	}
	if _, ok := f["calendar_invite"]; ok {
		in.CalendarInvite = str("calendar_invite")
	}
	return in
}

// startEnd reads the form's starts_at and ends_at in loc; one that cannot
// be read is nil, with its bad_format error added to invalid.
func startEnd(f url.Values, loc *time.Location, invalid *[]command.FieldError) (starts, ends *time.Time) {
	read := func(field string) *time.Time {
		at, err := parseLocal(f.Get(field), loc)
		if err != nil {
			*invalid = append(*invalid, command.FieldError{Field: field, Code: command.CodeBadFormat})
			return nil
		}
		return &at
	}
	starts = read("starts_at")
	return starts, read("ends_at")
}

func (c *Console) sessionCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	if v.deptHead() {
		c.forbidden(w, r, v)
		return
	}
	p := c.newPage(r, v, "session.new")
	p.Nav = "courses"
	res, err := c.commands().CreateSession(r.Context(), v.actor(), c.sessionInput(r, true))
	d := sessionFormData{Create: true, Zones: c.zoneChoices(p.Lang, p.V("time_zone"))}
	c.sessionSaved(w, r, v, p, res.Session.ID, err, "session_created", d)
}

func (c *Console) sessionUpdate(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, p, ok := c.sessionTab(w, r, v, accessWrite, "session.edit", "edit")
	if !ok {
		return
	}
	_, err := c.commands().UpdateSession(r.Context(), v.actor(), sc.Sess.ID, c.sessionInput(r, false))
	d := sessionFormData{ID: sc.Sess.ID, Zones: c.zoneChoices(p.Lang, sc.Sess.TimeZone, p.V("time_zone"))}
	c.sessionSaved(w, r, v, p, sc.Sess.ID, err, "session_saved", d)
}

// sessionSaved answers the session form's command: on to session id, or
// the form (d, with the writable courses) again with its messages.
func (c *Console) sessionSaved(w http.ResponseWriter, r *http.Request, v *viewer, p *page, id uint64, err error, flash string, d sessionFormData) {
	switch {
	case err == nil:
		c.redirectOK(w, r, fmt.Sprintf("/sessions/%d", id), flash)
		return
	case errors.Is(err, command.ErrCancelled):
		p.fieldError("", "session.err_cancelled")
	case errors.Is(err, command.ErrForbidden):
		c.forbidden(w, r, v)
		return
	case !p.fieldErrors(err, sessionKeys):
		c.internal(w, r, v, err)
		return
	}
	cs, err := c.writableCourses(r, v)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d.Courses = cs
	p.Data = d
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
	if !c.confirmed(w, r, v, back, text.T(langOf(r), "session.confirm_cancel", sc.Sess.Title)) {
		return
	}
	if _, _, err := c.commands().CancelSession(r.Context(), v.actor(), sc.Sess.ID); err != nil {
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
	// Requests are the excuse requests asked in chat (请假), pending first.
	Requests []excuseRequestRow
}

func (c *Console) rosterTable(r *http.Request, v *viewer, lang text.Locale, sessionID uint64) (*Table, error) {
	rows, err := c.commands().ListRoster(r.Context(), c.reader(r.Context(), v), sessionID, command.Page{})
	if err != nil {
		return nil, err
	}
	t := &Table{Key: "roster", Title: text.T(lang, "table.roster"), Empty: text.T(lang, "roster.empty"),
		Columns: []string{text.T(lang, "col.external_id"), text.T(lang, "col.name"), text.T(lang, "col.department"), text.T(lang, "col.manager_id"), text.T(lang, "col.platform"), text.T(lang, "col.enrollment"), text.T(lang, "col.note")}}
	for _, x := range rows {
		t.Rows = append(t.Rows, []Cell{C(x.ExternalID), C(x.Name), C(x.Department), C(x.ManagerID), C(x.Platform),
			{V: x.Status, Label: text.Enum(lang, "enroll", x.Status)}, C(x.Note)})
	}
	return t, nil
}

func (c *Console) rosterPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, p, ok := c.sessionTab(w, r, v, accessWrite, "roster.title", "roster")
	if !ok {
		return
	}
	t, err := c.rosterTable(r, v, p.Lang, sc.Sess.ID)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	if c.exportTable(w, r, v, sc.Loc, fmt.Sprintf("session-%d", sc.Sess.ID), t) {
		return
	}
	d := rosterData{Roster: t, Columns: strings.Join(roster.Columns, ","), Loc: sc.Loc}
	if d.Requests, err = c.excuseRequests(r, v, sc, p.Lang); err != nil {
		c.internal(w, r, v, err)
		return
	}
	if p.Flash == "flash.roster_imported" {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		added, _ := strconv.Atoi(r.URL.Query().Get("new"))
		d.Imported = text.T(p.Lang, "roster.imported", n, added)
		p.Flash = ""
	}
	p.Data = d
	c.render(w, r, http.StatusOK, "roster", p)
}

// rosterUpload parses an uploaded CSV or XLSX roster. A file with any bad
// row is shown with every bad line and reason, and nothing is saved.
func (c *Console) rosterUpload(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, p, ok := c.sessionTab(w, r, v, accessWrite, "roster.title", "roster")
	if !ok {
		return
	}
	d := rosterData{Columns: strings.Join(roster.Columns, ","), Loc: sc.Loc}
	fail := func(code int) {
		t, err := c.rosterTable(r, v, p.Lang, sc.Sess.ID)
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
		res, err = c.commands().ImportRoster(r.Context(), v.actor(), sc.Sess.ID, rows, map[string]any{"file": hdr.Filename})
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
	http.Redirect(w, r, c.path(fmt.Sprintf("/sessions/%d/roster?ok=roster_imported&n=%d&new=%d", sc.Sess.ID, res.Employees, res.Enrolled)), http.StatusSeeOther)
}
