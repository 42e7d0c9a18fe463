package console

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
)

// teachersData is the teacher report page.
type teachersData struct {
	Year     int
	Rule     string
	Keeps    int
	Loses    int
	Teachers *Table
	Sessions *Table
}

// teachersPage shows every teacher's year under the certification rule
// (reports.Teachers): keeps or loses, with the reasons, and the sessions
// behind it. Admins and coordinators only; ?year=2026 (default: this year in
// the console's time zone).
func (c *Console) teachersPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	if !v.admin() && !v.coordinator() {
		c.forbidden(w, r, v)
		return
	}
	p := c.newPage(r, v, "teachers.title")
	p.Nav = "teachers"
	lang := p.Lang
	year := c.now().In(c.d.Location).Year()
	if ys := strings.TrimSpace(r.URL.Query().Get("year")); ys != "" {
		y, err := strconv.Atoi(ys)
		if err != nil || y < 2000 || y > 2100 {
			c.renderError(w, r, v, http.StatusBadRequest, "teachers.err_year")
			return
		}
		year = y
	}
	rep, err := c.commands().Reports().Teachers(r.Context(), year, c.d.Location, c.now())
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	zones, err := c.sessionZones(r, rep)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d := teachersData{Year: year, Rule: text.T(lang, "teachers.rule", year, reports.CertMinSessions, reports.CertMinLearners, reports.CertMinRating)}
	tt := &Table{Key: "teachers", Title: text.T(lang, "table.teachers", year), Empty: text.T(lang, "teachers.empty"),
		Columns: []string{text.T(lang, "col.teacher"), text.T(lang, "col.sessions_taught"), text.T(lang, "col.certification"), text.T(lang, "col.reasons")}}
	ts := &Table{Key: "teacher-sessions", Title: text.T(lang, "table.teacher_sessions"), Empty: text.T(lang, "teachers.empty"),
		Columns: []string{text.T(lang, "col.teacher"), text.T(lang, "col.id"), text.T(lang, "col.course"), text.T(lang, "col.starts_at"), text.T(lang, "col.learners"),
			text.T(lang, "col.teacher_rating"), text.T(lang, "col.rating_n")}}
	for _, t := range rep.Teachers {
		cert := Cell{V: t.Keeps, Label: text.T(lang, "teachers.keeps"), Class: "ok keeps"}
		if t.Keeps {
			d.Keeps++
		} else {
			d.Loses++
			cert.Label, cert.Class = text.T(lang, "teachers.loses"), "flag loses"
		}
		why := make([]string, len(t.Why))
		for i, m := range t.Why {
			why[i] = m.In(lang)
		}
		tt.Rows = append(tt.Rows, []Cell{C(t.Name), C(len(t.Sessions)), cert, C(strings.Join(why, text.T(lang, "teachers.reason_sep")))})
		for _, s := range t.Sessions {
			// As many decimals as the certification reason uses, so that the
			// table never shows 4.50 beside "4.495, below 4.5".
			rating := Cell{V: round2(s.Rating), Digits: 2}
			if s.Rating != nil {
				digits := reports.RatingDigits(*s.Rating, reports.CertMinRating)
				v := surveys.Round(*s.Rating, digits)
				rating = Cell{V: &v, Digits: digits}
			}
			ts.Rows = append(ts.Rows, []Cell{C(t.Name), {V: s.SessionID, Href: c.path(fmt.Sprintf("/sessions/%d/results", s.SessionID))}, C(s.Course), C(s.StartsAt.In(zones[s.SessionID])),
				C(s.Learners), rating, C(s.RatingN)})
		}
	}
	d.Teachers, d.Sessions = tt, ts
	// Starts are in their sessions' zones already (nil keeps them there).
	if c.exportTable(w, r, v, nil, fmt.Sprintf("teachers-%d", year), tt, ts) {
		return
	}
	p.Data = d
	c.render(w, r, http.StatusOK, "teachers", p)
}

// sessionZones is the time zone of every session in rep, by id (UTC for a
// session that is gone or names no zone), so that each start reads as its
// session's local time.
func (c *Console) sessionZones(r *http.Request, rep *reports.TeacherReport) (map[uint64]*time.Location, error) {
	ids := []uint64{}
	for _, t := range rep.Teachers {
		for _, s := range t.Sessions {
			ids = append(ids, s.SessionID)
		}
	}
	zones := make(map[uint64]*time.Location, len(ids))
	for _, id := range ids {
		zones[id] = time.UTC
	}
	found, err := c.commands().SessionZones(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	for id, loc := range found {
		zones[id] = loc
	}
	return zones, nil
}
