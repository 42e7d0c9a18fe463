package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
)

// surveyCtx is a survey loaded for an action, with its session.
type surveyCtx struct {
	Survey store.Survey
	Sess   sessionCtx
}

// loadSurveyPath loads the survey of the {id} path value for a change: the
// viewer must be an admin or the coordinator owning its course (anyone else
// gets 404, department heads 403, as for every session action). Without a
// survey engine there is nothing to act on (404).
func (c *Console) loadSurveyPath(w http.ResponseWriter, r *http.Request, v *viewer) (surveyCtx, bool) {
	return c.loadSurveyFor(w, r, v, c.d.Surveys != nil)
}

// loadSurveyFor is loadSurveyPath for an action that is available only
// when enabled (404 otherwise).
func (c *Console) loadSurveyFor(w http.ResponseWriter, r *http.Request, v *viewer, enabled bool) (surveyCtx, bool) {
	var sc surveyCtx
	id, ok := pathID(r)
	if !ok || !enabled {
		c.notFound(w, r, v)
		return sc, false
	}
	sv, err := c.commands().Survey(r.Context(), c.reader(r.Context(), v), id)
	if err != nil {
		c.commandErr(w, r, v, err)
		return sc, false
	}
	if sc.Survey = sv; sc.Survey.SessionID == 0 {
		c.notFound(w, r, v)
		return sc, false
	}
	sc.Sess, ok = c.loadSession(w, r, v, sc.Survey.SessionID, accessWrite)
	return sc, ok
}

// surveyBack is the Results page of the survey's session with a flash,
// scrolled to the survey.
func (c *Console) surveyBack(sc surveyCtx, flash string) string {
	u := c.path(fmt.Sprintf("/sessions/%d/results", sc.Survey.SessionID))
	if flash != "" {
		u += "?ok=" + url.QueryEscape(flash)
	}
	return u + fmt.Sprintf("#survey-%d", sc.Survey.ID)
}

// commentTag sets the triage tag of a comment (short_term, long_term,
// no_action).
func (c *Console) commentTag(w http.ResponseWriter, r *http.Request, v *viewer) {
	c.commentAction(w, r, v, "tag")
}

// commentFollowUp sets or clears a comment's "follow-up call" flag
// (follow_up_call=1|0).
func (c *Console) commentFollowUp(w http.ResponseWriter, r *http.Request, v *viewer) {
	c.commentAction(w, r, v, "follow_up")
}

func (c *Console) commentAction(w http.ResponseWriter, r *http.Request, v *viewer, what string) {
	sc, ok := c.loadSurveyPath(w, r, v)
	if !ok {
		return
	}
	lang := langOf(r)
	in := command.CommentTriage{QuestionKey: r.PostForm.Get("question_key")}
	in.ResponseID, _ = strconv.ParseUint(strings.TrimSpace(r.PostForm.Get("response_id")), 10, 64)
	var msg, flash string
	if what == "tag" {
		tag := r.PostForm.Get("tag")
		in.Tag = &tag
		msg, flash = text.T(lang, "comment.confirm_tag", text.Enum(lang, "tag", tag)), "comment_tagged"
	} else {
		switch r.PostForm.Get("follow_up_call") {
		case "1", "0":
			on := r.PostForm.Get("follow_up_call") == "1"
			in.FollowUpCall = &on
		default:
			in.Invalid = append(in.Invalid, command.FieldError{Field: "follow_up_call", Code: command.CodeBadChoice})
		}
		msg, flash = text.T(lang, "comment.confirm_follow_up_generic"), "follow_up_saved"
	}
	_, err := c.commands().CheckCommentTriage(r.Context(), v.actor(), sc.Survey.ID, in)
	if err == nil && !c.confirmed(w, r, v, fmt.Sprintf("/sessions/%d/results", sc.Survey.SessionID), msg) {
		return
	}
	if err == nil {
		_, err = c.commands().TriageComment(r.Context(), v.actor(), sc.Survey.ID, in)
	}
	var inv *command.InvalidError
	switch {
	case err == nil:
		http.Redirect(w, r, c.surveyBack(sc, flash), http.StatusSeeOther)
	case errors.Is(err, command.ErrNoComment):
		c.showResults(w, r, v, sc.Sess, http.StatusUnprocessableEntity, text.T(lang, "comment.err_no_comment"))
	case errors.As(err, &inv) && inv.Has("follow_up_call"):
		c.showResults(w, r, v, sc.Sess, http.StatusUnprocessableEntity, text.T(lang, "comment.err_follow_up"))
	case errors.As(err, &inv):
		c.showResults(w, r, v, sc.Sess, http.StatusUnprocessableEntity, text.T(lang, "comment.err_tag"))
	case errors.Is(err, command.ErrAnonymous):
		// Nobody to call back.
		c.showResults(w, r, v, sc.Sess, http.StatusUnprocessableEntity, text.T(lang, "comment.err_anonymous"))
	default:
		c.commandErr(w, r, v, err)
	}
}

// surveyRemind reminds a survey's non-respondents now. The cap of
// surveys.MaxReminders and a closed survey are shown inline on the Results
// page; nothing is sent then.
func (c *Console) surveyRemind(w http.ResponseWriter, r *http.Request, v *viewer) {
	if _, ok := c.d.Surveys.(SurveyReminder); !ok || c.commands().Admin == nil {
		c.notFound(w, r, v)
		return
	}
	sc, ok := c.loadSurveyPath(w, r, v)
	if !ok {
		return
	}
	lang := langOf(r)
	if !c.confirmed(w, r, v, fmt.Sprintf("/sessions/%d/results", sc.Survey.SessionID), text.T(lang, "survey.confirm_remind_generic")) {
		return
	}
	tp, err := c.commands().RemindSurvey(r.Context(), v.actor(), sc.Survey.ID)
	switch {
	case errors.Is(err, surveys.ErrTooMany):
		c.showResults(w, r, v, sc.Sess, http.StatusConflict, text.T(lang, "survey.err_too_many", surveys.MaxReminders))
		return
	case errors.Is(err, surveys.ErrNoneMissing):
		c.showResults(w, r, v, sc.Sess, http.StatusConflict, text.T(lang, "survey.err_none_missing"))
		return
	case errors.Is(err, surveys.ErrClosed):
		c.showResults(w, r, v, sc.Sess, http.StatusConflict, text.T(lang, "survey.err_closed"))
		return
	case errors.Is(err, command.ErrNotFound):
		c.notFound(w, r, v)
		return
	case errors.Is(err, command.ErrForbidden):
		c.forbidden(w, r, v)
		return
	case err != nil && tp.ID == 0:
		c.internal(w, r, v, err)
		return
	case err != nil:
		// The reminder exists and is audited though queueing it failed: the
		// scheduler's touchpoint job still sends it.
		c.log().Error("console: survey reminder queued late", "survey", sc.Survey.ID, "touchpoint", tp.ID, "err", err)
	}
	http.Redirect(w, r, c.surveyBack(sc, "survey_reminded"), http.StatusSeeOther)
}
