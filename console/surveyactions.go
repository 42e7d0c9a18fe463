package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

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
	if err := c.d.DB.WithContext(r.Context()).Limit(1).Find(&sc.Survey, id).Error; err != nil {
		c.internal(w, r, v, err)
		return sc, false
	}
	if sc.Survey.ID == 0 || sc.Survey.SessionID == 0 {
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

// commentRef is the comment a triage form names, checked to be a non-empty
// free-text answer to the survey.
type commentRef struct {
	ResponseID  uint64
	QuestionKey string
	Text        string
}

var errNoComment = errors.New("no such comment")

func (c *Console) findComment(r *http.Request, sv store.Survey) (commentRef, error) {
	ref := commentRef{QuestionKey: strings.TrimSpace(r.PostForm.Get("question_key"))}
	id, err := strconv.ParseUint(strings.TrimSpace(r.PostForm.Get("response_id")), 10, 64)
	if err != nil || id == 0 || ref.QuestionKey == "" {
		return ref, errNoComment
	}
	ref.ResponseID = id
	def, err := surveys.SurveyDefinition(sv)
	if err != nil {
		return ref, err
	}
	if q, ok := def.Question(ref.QuestionKey); !ok || q.Type != surveys.TypeText {
		return ref, errNoComment
	}
	var texts []string
	err = c.d.DB.WithContext(r.Context()).Table("survey_answers").
		Joins("JOIN survey_responses ON survey_responses.id = survey_answers.response_id").
		Where("survey_responses.survey_id = ? AND survey_answers.response_id = ? AND survey_answers.question_key = ?", sv.ID, id, ref.QuestionKey).
		Limit(1).Pluck("survey_answers.text", &texts).Error
	if err != nil {
		return ref, fmt.Errorf("load comment: %w", err)
	}
	if len(texts) == 0 || strings.TrimSpace(texts[0]) == "" {
		return ref, errNoComment
	}
	ref.Text = texts[0]
	return ref, nil
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
	ref, err := c.findComment(r, sc.Survey)
	if errors.Is(err, errNoComment) {
		c.showResults(w, r, v, sc.Sess, http.StatusUnprocessableEntity, text.T(lang, "comment.err_no_comment"))
		return
	}
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	now := c.now()
	row := store.CommentTag{ResponseID: ref.ResponseID, QuestionKey: ref.QuestionKey, By: truncate(v.name(), 128), At: now}
	var (
		msg     string
		columns []string
		detail  = map[string]any{"survey": sc.Survey.ID, "response": ref.ResponseID, "question": ref.QuestionKey}
		action  string
		flash   string
	)
	switch what {
	case "tag":
		tag := r.PostForm.Get("tag")
		switch tag {
		case store.TagShortTerm, store.TagLongTerm, store.TagNoAction:
		default:
			c.showResults(w, r, v, sc.Sess, http.StatusUnprocessableEntity, text.T(lang, "comment.err_tag"))
			return
		}
		row.Tag = tag
		columns = []string{"tag", "by", "at"}
		msg = text.T(lang, "comment.confirm_tag", text.T(lang, "tag."+tag))
		detail["tag"] = tag
		action, flash = "comment.tag", "comment_tagged"
	default:
		switch r.PostForm.Get("follow_up_call") {
		case "1":
			row.FollowUpCall = true
		case "0":
		default:
			c.showResults(w, r, v, sc.Sess, http.StatusUnprocessableEntity, text.T(lang, "comment.err_follow_up"))
			return
		}
		if sc.Survey.Anonymous {
			// Nobody to call back.
			c.showResults(w, r, v, sc.Sess, http.StatusUnprocessableEntity, text.T(lang, "comment.err_anonymous"))
			return
		}
		columns = []string{"follow_up_call", "by", "at"}
		msg = text.T(lang, "comment.confirm_follow_up_generic")
		detail["follow_up_call"] = row.FollowUpCall
		action, flash = "comment.follow_up", "follow_up_saved"
	}
	if !c.confirmed(w, r, v, fmt.Sprintf("/sessions/%d/results", sc.Survey.SessionID), msg) {
		return
	}
	err = c.d.DB.WithContext(r.Context()).Transaction(func(tx *gorm.DB) error {
		var old store.CommentTag
		if err := tx.Where("response_id = ? AND question_key = ?", ref.ResponseID, ref.QuestionKey).Limit(1).Find(&old).Error; err != nil {
			return err
		}
		if old.ID != 0 {
			detail["old_tag"], detail["old_follow_up_call"] = old.Tag, old.FollowUpCall
		}
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "response_id"}, {Name: "question_key"}},
			DoUpdates: clause.AssignmentColumns(columns),
		}).Create(&row).Error; err != nil {
			return fmt.Errorf("save comment tag: %w", err)
		}
		return c.audit(tx, v, action, fmt.Sprintf("survey:%d", sc.Survey.ID), detail)
	})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	http.Redirect(w, r, c.surveyBack(sc, flash), http.StatusSeeOther)
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
