package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
)

// SessionCopier copies a session as the next one of its course: same plan,
// surveys and roster, new times (*surveys.Service implements it, and the
// REST API's copy endpoint calls the same method). The console finds it on
// Deps.SurveyPlans.
type SessionCopier interface {
	CopySession(ctx context.Context, tx *gorm.DB, src store.Session, next surveys.SessionCopy) (store.Session, error)
}

func (c *Console) copier() SessionCopier {
	cp, _ := c.d.SurveyPlans.(SessionCopier)
	return cp
}

// sessionCopyData is the "copy as next session" form: what will be copied.
type sessionCopyData struct {
	Src         store.Session
	Zone        string
	Roster      int64
	Touchpoints int64
	Surveys     int64
}

func (c *Console) copyCounts(r *http.Request, src store.Session, d *sessionCopyData) error {
	db := c.d.DB.WithContext(r.Context())
	if err := db.Model(&store.Enrollment{}).Where("session_id = ? AND status <> ?", src.ID, store.EnrollCancelled).Count(&d.Roster).Error; err != nil {
		return fmt.Errorf("count roster: %w", err)
	}
	if err := db.Model(&store.Touchpoint{}).Where("session_id = ? AND status <> ? AND note <> ? AND note NOT LIKE ?", src.ID, store.TouchpointCancelled,
		surveys.RemindNowNote, "ad hoc%").Count(&d.Touchpoints).Error; err != nil {
		return fmt.Errorf("count touchpoints: %w", err)
	}
	if err := db.Model(&store.Survey{}).Where("session_id = ?", src.ID).Count(&d.Surveys).Error; err != nil {
		return fmt.Errorf("count surveys: %w", err)
	}
	return nil
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

// sessionCopy stores the next session (surveys.Service.CopySession) and
// opens it.
func (c *Console) sessionCopy(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.loadSessionPath(w, r, v, accessWrite)
	if !ok {
		return
	}
	cp := c.copier()
	if cp == nil {
		c.notFound(w, r, v)
		return
	}
	src := sc.Sess
	p := c.newPage(r, v, "copy.title")
	p.Nav = "courses"
	p.Session = c.head(sc, "overview")
	f := r.PostForm
	next := surveys.SessionCopy{Title: strings.TrimSpace(f.Get("title"))}
	if len(next.Title) > 255 {
		p.fieldError("title", "session.err_title")
	}
	start, err := parseLocal(f.Get("starts_at"), sc.Loc)
	if err != nil {
		p.fieldError("starts_at", "session.err_start")
	}
	end, err := parseLocal(f.Get("ends_at"), sc.Loc)
	switch {
	case err != nil:
		p.fieldError("ends_at", "session.err_end")
	case !start.IsZero() && !end.After(start):
		p.fieldError("ends_at", "session.err_end_before")
	case !start.IsZero() && end.Sub(start) > 14*24*time.Hour:
		p.fieldError("ends_at", "session.err_too_long")
	}
	next.StartsAt, next.EndsAt = start, end
	if !p.hasErrors() {
		var dst store.Session
		err := store.Tx(r.Context(), c.d.DB, func(tx *gorm.DB) error {
			var err error
			if dst, err = cp.CopySession(r.Context(), tx, src, next); err != nil {
				return err
			}
			return c.audit(tx, v, "session.copy", fmt.Sprintf("session:%d", dst.ID), map[string]any{
				"from": src.ID, "title": dst.Title, "starts_at": dst.StartsAt, "ends_at": dst.EndsAt})
		})
		if errors.Is(err, surveys.ErrBadCopy) {
			p.fieldError("ends_at", "session.err_end_before")
		} else if err != nil {
			c.internal(w, r, v, err)
			return
		} else {
			c.redirectOK(w, r, fmt.Sprintf("/sessions/%d", dst.ID), "session_copied")
			return
		}
	}
	d := sessionCopyData{Src: src, Zone: sc.Loc.String()}
	if err := c.copyCounts(r, src, &d); err != nil {
		c.internal(w, r, v, err)
		return
	}
	p.Data = d
	c.render(w, r, http.StatusUnprocessableEntity, "session_copy", p)
}
