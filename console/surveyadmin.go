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
	"github.com/learnloop/learnloop/text"
)

// SurveyAdmin is the part of the surveys engine that adding, closing and
// reminding surveys need: command.SurveyAdmin (*surveys.Service implements
// it).
type SurveyAdmin = command.SurveyAdmin

// surveyWeek is how long after the send time a new survey stays open by
// default.
const surveyWeek = 7 * 24 * time.Hour

// templateChoice is one built-in template of the "add survey" form.
type templateChoice struct {
	Key   string
	Title string
}

// surveyManage is the survey list and "add survey" form of a session's
// Results page.
type surveyManage struct {
	Table        *Table
	Templates    []templateChoice
	Audiences    []string
	DefaultSend  string
	DefaultClose string
	Cancelled    bool
}

// addableTemplates lists the built-in templates a coordinator may add
// (manager follow-ups come from the course's behaviours).
func addableTemplates(lang text.Locale) ([]templateChoice, error) {
	defs, err := surveys.Builtin()
	if err != nil {
		return nil, err
	}
	locale := lang
	var out []templateChoice
	for _, d := range defs {
		if d.Kind == store.SurveyManagerFollowup {
			continue
		}
		out = append(out, templateChoice{Key: d.Key, Title: d.Title.In(locale)})
	}
	return out, nil
}

// surveyManage builds the survey list of sc with its close buttons and the
// defaults of the add form.
func (c *Console) surveyManage(r *http.Request, lang text.Locale, sc sessionCtx) (*surveyManage, error) {
	svs, err := c.commands().Reports().SessionSurveys(r.Context(), sc.Sess.ID)
	if err != nil {
		return nil, err
	}
	tpls, err := addableTemplates(lang)
	if err != nil {
		return nil, err
	}
	m := &surveyManage{
		Templates: tpls, Audiences: []string{store.AudienceCheckedIn, store.AudienceAll},
		DefaultSend:  sc.Sess.EndsAt.In(sc.Loc).Format(localLayout),
		DefaultClose: sc.Sess.EndsAt.Add(surveyWeek).In(sc.Loc).Format(localLayout),
		Cancelled:    sc.Sess.Status == store.SessionCancelled,
	}
	t := &Table{Key: "session_surveys", Title: text.T(lang, "svadmin.table"), Empty: text.T(lang, "svadmin.empty"),
		Columns: []string{text.T(lang, "col.id"), text.T(lang, "col.kind"), text.T(lang, "col.title"), text.T(lang, "svadmin.anonymous"),
			text.T(lang, "svadmin.opens_at"), text.T(lang, "svadmin.closes_at"), text.T(lang, "col.status"), text.T(lang, "svadmin.complete"), text.T(lang, "svadmin.partial")}}
	locale := lang
	for _, sv := range svs {
		title := sv.Title
		if def, err := surveys.SurveyDefinition(sv); err == nil {
			title = def.Title.In(locale)
		}
		complete, partial, err := c.commands().ResponseCounts(r.Context(), sv.ID)
		if err != nil {
			return nil, fmt.Errorf("survey %d: %w", sv.ID, err)
		}
		anon := text.T(lang, "no")
		if sv.Anonymous {
			anon = text.T(lang, "yes")
		}
		status := Cell{V: sv.Status, Label: text.T(lang, "survey.status_"+sv.Status)}
		if sv.Status != store.SurveyClosed && !m.Cancelled {
			status.Forms = []CellForm{{Action: fmt.Sprintf("/surveys/%d/close", sv.ID), Label: text.T(lang, "svadmin.close"), Class: "danger",
				Confirm: text.T(lang, "svadmin.confirm_close", title, sv.ID)}}
		}
		t.Rows = append(t.Rows, []Cell{C(sv.ID), {V: sv.Kind, Label: text.Enum(lang, "kind", sv.Kind)}, C(title), {V: sv.Anonymous, Label: anon},
			C(sv.OpensAt), C(sv.ClosesAt), status, C(complete), C(partial)})
	}
	m.Table = t
	return m, nil
}

// surveyAdminBack is the survey list of a session's Results page with a
// flash.
func (c *Console) surveyAdminBack(sessionID uint64, flash string) string {
	return c.path(fmt.Sprintf("/sessions/%d/results", sessionID)) + "?ok=" + url.QueryEscape(flash) + "#survey-admin"
}

// surveyCreate adds a built-in survey to a session: sent at send_at
// (default: the end of the session) to the audience (checked_in by
// default, or all), open until closes_at (default: a week after the end).
// Invalid input is shown inline on the Results page and changes nothing.
func (c *Console) surveyCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.writeSession(w, r, v, c.d.SurveyAdmin != nil)
	if !ok {
		return
	}
	p := c.newPage(r, v, "results.title")
	in := command.SurveyInput{Template: strings.TrimSpace(r.PostForm.Get("template")), Audience: r.PostForm.Get("audience"),
		Anonymous: r.PostForm.Get("anonymous") != ""}
	for _, t := range []struct {
		field string
		dst   **time.Time
	}{{"send_at", &in.SendAt}, {"closes_at", &in.ClosesAt}} {
		if s := strings.TrimSpace(r.PostForm.Get(t.field)); s != "" {
			at, err := parseLocal(s, sc.Loc)
			if err != nil {
				in.Invalid = append(in.Invalid, command.FieldError{Field: t.field, Code: command.CodeBadFormat})
				continue
			}
			*t.dst = &at
		}
	}
	_, err := c.commands().CreateSurvey(r.Context(), v.actor(), sc.Sess.ID, in)
	if err == nil {
		http.Redirect(w, r, c.surveyAdminBack(sc.Sess.ID, "survey_created"), http.StatusSeeOther)
		return
	}
	var ie *command.InvalidError
	switch {
	case errors.As(err, &ie) && (ie.Has("definition") || ie.Has("touchpoint")):
		p.fieldText("", text.T(p.Lang, "svadmin.err_invalid", err.Error()))
	case errors.Is(err, command.ErrCancelled):
		p.fieldError("", "session.err_cancelled")
	case errors.Is(err, command.ErrForbidden):
		c.forbidden(w, r, v)
		return
	case !p.fieldErrors(err, surveyKeys):
		if msg := planMessage(p.Lang, err); msg != "" {
			p.fieldText("", msg)
			break
		}
		c.internal(w, r, v, err)
		return
	}
	c.renderResults(w, r, v, sc, http.StatusUnprocessableEntity, p)
}

// surveyKeys are the survey form's messages.
var surveyKeys = errorKeys{
	"template": "svadmin.err_template", "send_at": "svadmin.err_time", "closes_at": "svadmin.err_time",
	"closes_at/end_before_start": "svadmin.err_closes_before", "send_at/bad_date": "session.err_date", "closes_at/bad_date": "session.err_date",
	"audience": "svadmin.err_audience",
}

// surveyClose closes a survey to new answers after confirmation; its
// unsent touchpoints (reminders included) are cancelled.
func (c *Console) surveyClose(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.loadSurveyFor(w, r, v, c.d.SurveyAdmin != nil)
	if !ok {
		return
	}
	lang := langOf(r)
	if sc.Survey.Status == store.SurveyClosed {
		c.showResults(w, r, v, sc.Sess, http.StatusConflict, text.T(lang, "svadmin.err_already_closed"))
		return
	}
	if !c.confirmed(w, r, v, fmt.Sprintf("/sessions/%d/results", sc.Survey.SessionID), text.T(lang, "svadmin.confirm_close", sc.Survey.Title, sc.Survey.ID)) {
		return
	}
	if _, err := c.commands().CloseSurvey(r.Context(), v.actor(), sc.Survey.ID); err != nil {
		if errors.Is(err, command.ErrNotFound) {
			c.notFound(w, r, v)
			return
		}
		c.internal(w, r, v, err)
		return
	}
	http.Redirect(w, r, c.surveyAdminBack(sc.Survey.SessionID, "survey_closed"), http.StatusSeeOther)
}
