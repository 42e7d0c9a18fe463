package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
)

func (c *Console) copier() command.Copier { return c.commands().Copier() }

// sessionCopyData is the "copy as next session" form: what will be copied.
type sessionCopyData struct {
	Src         store.Session
	Zone        string
	Roster      int64
	Touchpoints int64
	Surveys     int64
}

func (c *Console) copyCounts(r *http.Request, src store.Session, d *sessionCopyData) error {
	n, err := c.commands().CopySize(r.Context(), src.ID)
	d.Roster, d.Touchpoints, d.Surveys = n.Roster, n.Touchpoints, n.Surveys
	return err
}

// sessionCopyPage offers the next session of the course: the same times a
// week later, editable before saving.
func (c *Console) sessionCopyPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.loadSessionPath(w, r, v, accessWrite)
	if !ok {
		return
	}
	if c.copier() == nil {
		c.notFound(w, r, v)
		return
	}
	s := sc.Sess
	p := c.newPage(r, v, "copy.title")
	p.Nav = "courses"
	p.Session = c.head(sc, "overview")
	p.Form = url.Values{
		"title":     {s.Title},
		"starts_at": {s.StartsAt.Add(surveys.NextSessionShift).In(sc.Loc).Format(localLayout)},
		"ends_at":   {s.EndsAt.Add(surveys.NextSessionShift).In(sc.Loc).Format(localLayout)},
	}
	d := sessionCopyData{Src: s, Zone: sc.Loc.String()}
	if err := c.copyCounts(r, s, &d); err != nil {
		c.internal(w, r, v, err)
		return
	}
	p.Data = d
	c.render(w, r, http.StatusOK, "session_copy", p)
}

// copyKeys are the copy form's messages.
var copyKeys = errorKeys{
	"title": "session.err_title", "starts_at": "session.err_start", "starts_at/bad_date": "session.err_date",
	"ends_at": "session.err_end", "ends_at/end_before_start": "session.err_end_before", "ends_at/session_too_long": "session.err_too_long",
	"ends_at/bad_date": "session.err_date",
}

// sessionCopy stores the next session (command.CopySession) and opens it.
func (c *Console) sessionCopy(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.loadSessionPath(w, r, v, accessWrite)
	if !ok {
		return
	}
	if c.copier() == nil {
		c.notFound(w, r, v)
		return
	}
	src := sc.Sess
	p := c.newPage(r, v, "copy.title")
	p.Nav = "courses"
	p.Session = c.head(sc, "overview")
	f := r.PostForm
	title := strings.TrimSpace(f.Get("title"))
	in := command.CopyInput{Title: &title}
	for _, t := range []struct {
		field string
		dst   **time.Time
	}{{"starts_at", &in.StartsAt}, {"ends_at", &in.EndsAt}} {
		at, err := parseLocal(f.Get(t.field), sc.Loc)
		if err != nil {
			in.Invalid = append(in.Invalid, command.FieldError{Field: t.field, Code: command.CodeBadFormat})
			continue
		}
		*t.dst = &at
	}
	res, err := c.commands().CopySession(r.Context(), v.actor(), src.ID, in)
	switch {
	case err == nil:
		c.redirectOK(w, r, fmt.Sprintf("/sessions/%d", res.Session.ID), "session_copied")
		return
	case errors.Is(err, command.ErrForbidden):
		c.forbidden(w, r, v)
		return
	case !p.fieldErrors(err, copyKeys):
		c.internal(w, r, v, err)
		return
	}
	d := sessionCopyData{Src: src, Zone: sc.Loc.String()}
	if err := c.copyCounts(r, src, &d); err != nil {
		c.internal(w, r, v, err)
		return
	}
	p.Data = d
	c.render(w, r, http.StatusUnprocessableEntity, "session_copy", p)
}
