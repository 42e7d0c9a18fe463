package console

import (
	"context"
	"html/template"
	"net/http"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// SurveyResults is the extension point for the surveys engine: the Results
// pages of a session and of a course show the sections it returns (CSAT and
// NPS with n and margin of error, comment triage, non-respondents, manager
// follow-up, teacher figures). Deps.Surveys may be nil; the pages then show
// no survey section.
//
// Implementations must respect the scope: a non-empty Department limits the
// figures to respondents of that department, and any group smaller than
// MinGroupSize must be suppressed (Figure.Suppressed, or no row) — the
// console shows what it is given.
type SurveyResults interface {
	// SessionSurveys returns the survey sections of one class session.
	SessionSurveys(ctx context.Context, sessionID uint64, scope SurveyScope) ([]ResultSection, error)
	// CourseSurveys returns the survey sections of a course (all sessions).
	CourseSurveys(ctx context.Context, courseID uint64, scope SurveyScope) ([]ResultSection, error)
}

// SurveyScope says who is looking and what they may see.
type SurveyScope struct {
	// Username and Role are the viewing account (store.Role*).
	Username string
	Role     string
	// Department is set for department heads: only that department's
	// respondents may be counted.
	Department string
	// MinGroupSize is the smallest group whose figures may be shown.
	MinGroupSize int
	// Lang is the viewer's language.
	Lang text.Locale
}

// ResultSection is one block of survey results: headline figures, optional
// inline SVG charts and tables. Tables are offered as CSV and XLSX like every
// other table of the console (their keys must be unique on the page and not
// one of "summary", "attendees", "touchpoints", "sessions").
type ResultSection struct {
	// Key names the section on the page (id="survey-KEY"); optional.
	Key     string
	Title   string
	Figures []ResultFigure
	// Charts are inline SVG charts built with the console's chart helpers
	// (every text in them escaped); they need no JavaScript.
	Charts []template.HTML
	Tables []*Table
	// Actions are buttons under the title (e.g. "remind non-respondents
	// now"); shown only to viewers who may change the course.
	Actions []CellForm
	// Note is shown under the title (the definitions, the scope).
	Note string
}

// SurveyReminder is implemented by a Deps.Surveys that can remind a
// survey's non-respondents now (SurveyReports does, through
// surveys.Service.RemindNow). The console's "remind now" action uses it;
// without it the action answers 404.
type SurveyReminder interface {
	// RemindNow sends a reminder to the survey's non-respondents now. It
	// returns an error wrapping surveys.ErrTooMany when the cap of
	// reminders is reached, surveys.ErrClosed when the survey is closed and
	// surveys.ErrNotFound for an unknown survey.
	RemindNow(ctx context.Context, surveyID uint64) (store.Touchpoint, error)
}

// ResultFigure is one survey figure with its n and definition.
type ResultFigure struct {
	Label      string
	Value      string
	N          int
	Definition string
	// Flag marks a figure that needs attention (e.g. CSAT below target).
	Flag bool
	// Suppressed hides the value (group below the minimum size).
	Suppressed bool
}

// surveyBlock is what the results templates render.
type surveyBlock struct {
	Sections []ResultSection
	Error    string
}

// surveySections asks Deps.Surveys for a session's (sessionID ≠ 0) or a
// course's sections. A failure is shown in place of the section; the rest
// of the page still works.
func (c *Console) surveySections(r *http.Request, v *viewer, lang text.Locale, sessionID, courseID uint64) *surveyBlock {
	scope := SurveyScope{Username: v.name(), Role: v.Account.Role, MinGroupSize: c.d.MinGroupSize, Lang: lang}
	if v.deptHead() {
		scope.Department = v.Account.Department
	}
	var (
		secs []ResultSection
		err  error
	)
	if sessionID != 0 {
		secs, err = c.d.Surveys.SessionSurveys(r.Context(), sessionID, scope)
	} else {
		secs, err = c.d.Surveys.CourseSurveys(r.Context(), courseID, scope)
	}
	if err != nil {
		c.log().Error("console: survey results", "session", sessionID, "course", courseID, "err", err)
		return &surveyBlock{Error: text.T(lang, "surveys.error")}
	}
	return &surveyBlock{Sections: secs}
}

// surveyTables lists the survey tables of a block for export.
func (b *surveyBlock) tables() []*Table {
	if b == nil {
		return nil
	}
	var out []*Table
	for _, s := range b.Sections {
		out = append(out, s.Tables...)
	}
	return out
}
