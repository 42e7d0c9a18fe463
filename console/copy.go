package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

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

// copySession loads the {id} session for the copy form (not found without
// a copier) and starts its page.
func (c *Console) copySession(w http.ResponseWriter, r *http.Request, v *viewer) (sessionCtx, *page, bool) {
	sc, p, ok := c.sessionTab(w, r, v, accessWrite, "copy.title", "overview")
	if ok && c.copier() == nil {
		c.notFound(w, r, v)
		return sc, nil, false
	}
	return sc, p, ok
}

// renderCopy renders the copy form of sc on p with what the copy takes
// along (roster, touchpoints, surveys).
func (c *Console) renderCopy(w http.ResponseWriter, r *http.Request, v *viewer, sc sessionCtx, code int, p *page) {
	n, err := c.commands().CopySize(r.Context(), sc.Sess.ID)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	p.Data = sessionCopyData{Src: sc.Sess, Zone: sc.Loc.String(), Roster: n.Roster, Touchpoints: n.Touchpoints, Surveys: n.Surveys}
	c.render(w, r, code, "session_copy", p)
}

// sessionCopyPage offers the next session of the course: the same times a
// week later, editable before saving.
func (c *Console) sessionCopyPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, p, ok := c.copySession(w, r, v)
	if !ok {
		return
	}
	s := sc.Sess
	p.Form = url.Values{
		"title":     {s.Title},
		"starts_at": {s.StartsAt.Add(surveys.NextSessionShift).In(sc.Loc).Format(localLayout)},
		"ends_at":   {s.EndsAt.Add(surveys.NextSessionShift).In(sc.Loc).Format(localLayout)},
	}
	c.renderCopy(w, r, v, sc, http.StatusOK, p)
}

// copyKeys are the copy form's messages.
var copyKeys = errorKeys{
	"title": "session.err_title", "starts_at": "session.err_start", "starts_at/bad_date": "session.err_date",
	"ends_at": "session.err_end", "ends_at/end_before_start": "session.err_end_before", "ends_at/session_too_long": "session.err_too_long",
	"ends_at/bad_date": "session.err_date",
}

// sessionCopy stores the next session (command.CopySession) and opens it.
func (c *Console) sessionCopy(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, p, ok := c.copySession(w, r, v)
	if !ok {
		return
	}
	src := sc.Sess
	f := r.PostForm
	title := strings.TrimSpace(f.Get("title"))
	in := command.CopyInput{Title: &title}
	in.StartsAt, in.EndsAt = startEnd(f, sc.Loc, &in.Invalid)
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
	c.renderCopy(w, r, v, sc, http.StatusUnprocessableEntity, p)
}
