package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/internal/defaults"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
)

// SurveyReports is the console's SurveyResults: the figures of the reports
// package (response rate, CSAT per dimension, NPS, behaviour change, the
// department breakdown), SVG charts, the comments with their triage, the
// non-respondents, and "remind now" through the surveys service. Pass it
// as Deps.Surveys.
//
// Scope rules: a department head (SurveyScope.Department) gets only figures
// computed from respondents of that department, every figure with n below
// the minimum group size hidden, and no comments, names or other
// departments. Anonymous surveys never show a name, a subject or the list
// of non-respondents (only how many there are).
type SurveyReports struct {
	// Commands reads the comments' triage and the sessions' zones;
	// its Reports() computes the figures.
	Commands *command.Service
	// Service lists non-respondents and sends reminders; nil hides both.
	Service *surveys.Service
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location shows dates that belong to no session; nil means UTC.
	Location *time.Location
}

// NewSurveyReports returns the survey results read through cmds, using
// svc for the non-respondents and reminders.
func NewSurveyReports(cmds *command.Service, svc *surveys.Service, now func() time.Time, loc *time.Location) *SurveyReports {
	return &SurveyReports{Commands: cmds, Service: svc, Now: now, Location: loc}
}

func (s *SurveyReports) reports() reports.Reader { return s.Commands.Reports() }

func (s *SurveyReports) now() time.Time { return defaults.Now(s.Now) }

func (s *SurveyReports) loc() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.UTC
}

// RemindNow sends a reminder to the survey's non-respondents now
// (surveys.Service.RemindNow, at most surveys.MaxReminders per survey).
func (s *SurveyReports) RemindNow(ctx context.Context, surveyID uint64) (store.Touchpoint, error) {
	if s.Service == nil {
		return store.Touchpoint{}, fmt.Errorf("remind survey %d: %w", surveyID, surveys.ErrNotFound)
	}
	return s.Service.RemindNow(ctx, surveyID)
}

// deptScope reports whether the scope is a department head's.
func deptScope(scope SurveyScope) bool {
	return scope.Department != "" || scope.Role == store.RoleDepartmentHead
}

// reportScope is scope as reports takes it: a department head's subtree
// (or a scope naming a department) is partial.
func (s *SurveyReports) reportScope(ctx context.Context, scope SurveyScope) (reports.Scope, error) {
	a := reports.Actor{Username: scope.Username, Role: scope.Role}
	if deptScope(scope) {
		a.Role = store.RoleDepartmentHead
	}
	return s.reports().NewScope(ctx, a, scope.Department, scope.MinGroupSize)
}

// SessionSurveys returns one section per survey of the session.
func (s *SurveyReports) SessionSurveys(ctx context.Context, sessionID uint64, scope SurveyScope) ([]ResultSection, error) {
	svs, err := s.reports().SessionSurveys(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	var out []ResultSection
	for _, sv := range svs {
		def, err := surveys.SurveyDefinition(sv)
		if err != nil {
			return nil, fmt.Errorf("survey %d: %w", sv.ID, err)
		}
		var sec ResultSection
		if deptScope(scope) {
			sec, err = s.deptSection(ctx, sv, def, scope)
		} else {
			sec, err = s.fullSection(ctx, sv, def, scope)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sec)
	}
	return out, nil
}

func f2(p *float64) string {
	if p == nil {
		return "—"
	}
	return surveys.FormatFixed(*p, 2)
}

func pct1(p *float64) string {
	if p == nil {
		return "—"
	}
	return surveys.FormatFixed(*p, 1) + "%"
}

func moeText(p *float64) string {
	if p == nil {
		return ""
	}
	return " ±" + surveys.FormatFixed(*p, 1)
}

func noteColumn(lang text.Locale) string { return text.T(lang, "survey.note_column") }

func signed(p *float64) string {
	if p == nil {
		return "—"
	}
	v := surveys.FormatFixed(*p, 1)
	if surveys.Round1(*p) > 0 {
		return "+" + v
	}
	return v
}

// round2 keeps two decimals in exports (what the page shows).
func round2(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := surveys.Round(*p, 2)
	return &v
}

func round1(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := surveys.Round1(*p)
	return &v
}

// surveyTitle is the section title: the survey's title in lang, its status
// and when it closes.
func (s *SurveyReports) surveyTitle(lang text.Locale, sv store.Survey, def surveys.Definition) string {
	title := def.Title.In(lang)
	if title == "" {
		title = sv.Title
	}
	status := text.T(lang, "survey.status_open")
	if !surveys.Open(sv, s.now()) {
		status = text.T(lang, "survey.status_closed")
	}
	return fmt.Sprintf("%s · %s", title, status)
}

// dimensionLabel names a rating dimension in lang.
func dimensionLabel(lang text.Locale, dim, question string) string {
	if k := "dim." + dim; text.Has(k) {
		return text.T(lang, k)
	}
	if question != "" {
		return question
	}
	return dim
}

// questionText is the text of a question in lang.
func questionText(lang text.Locale, def surveys.Definition, key string) string {
	if q, ok := def.Question(key); ok {
		if t := q.Text.In(lang); t != "" {
			return t
		}
	}
	return key
}

func ratingValue(lang text.Locale, r surveys.RatingResult) string {
	if r.N == 0 {
		return "—"
	}
	v := text.T(lang, "survey.rating_value", f2(r.Mean), pct1(r.Top2Box), moeText(r.Top2BoxMOE))
	if c := r.Caveat.In(lang); c != "" {
		v += " ⚠ " + c
	}
	return v
}

func npsValue(lang text.Locale, r surveys.NPSResult) string {
	if r.N == 0 {
		return "—"
	}
	v := signed(r.Score) + moeText(r.MOE)
	if c := r.Caveat.In(lang); c != "" {
		v += " ⚠ " + c
	}
	return v
}

func changeValue(lang text.Locale, c surveys.ChangeResult) string {
	if c.N == 0 {
		return "—"
	}
	return text.T(lang, "survey.change_value", pct1(c.ShareImproved), f2(c.MeanBefore), f2(c.MeanNow), signed(c.MeanDelta))
}

// ---- tables shared by the full and the department view ----

func dimensionsTable(lang text.Locale, key string, rows []reports.DimensionRow, def *surveys.Definition, minN int) *Table {
	t := &Table{Key: key, Title: text.T(lang, "table.survey_dimensions"), Empty: text.T(lang, "survey.no_answers"),
		Columns: []string{text.T(lang, "col.dimension"), text.T(lang, "col.question"), text.T(lang, "col.n"), text.T(lang, "col.mean"), text.T(lang, "col.top2box"), text.T(lang, "col.moe"),
			text.T(lang, "chart.score", 1), text.T(lang, "chart.score", 2), text.T(lang, "chart.score", 3), text.T(lang, "chart.score", 4), text.T(lang, "chart.score", 5), noteColumn(lang)}}
	for _, d := range rows {
		q := d.Question
		if def != nil {
			q = questionText(lang, *def, d.Key)
		}
		row := []Cell{C(dimensionLabel(lang, d.Dimension, "")), C(q)}
		if d.Suppressed {
			row = append(row, Cell{V: hiddenText(lang, minN), Class: "muted"})
			t.Rows = append(t.Rows, row)
			continue
		}
		row = append(row, C(d.Rating.N), Cell{V: round2(d.Rating.Mean), Digits: 2}, Cell{V: round1(d.Rating.Top2Box), Pct: true}, C(round1(d.Rating.Top2BoxMOE)))
		for _, n := range d.Rating.Distribution {
			row = append(row, C(n))
		}
		row = append(row, Cell{V: d.Rating.Caveat.In(lang), Class: "muted"})
		t.Rows = append(t.Rows, row)
	}
	return t
}

func behavioursTable(lang text.Locale, key string, rows []reports.BehaviourRow, def surveys.Definition, minN int) *Table {
	t := &Table{Key: key, Title: text.T(lang, "table.survey_behaviours"), Empty: text.T(lang, "survey.no_answers"),
		Columns: []string{text.T(lang, "col.behaviour"), text.T(lang, "col.n"), text.T(lang, "behaviour.before"), text.T(lang, "behaviour.now"), text.T(lang, "col.mean_change"),
			text.T(lang, "col.share_improved"), text.T(lang, "col.share_worse")}}
	for _, b := range rows {
		label := behaviourLabel(lang, def, b)
		if b.Suppressed {
			t.Rows = append(t.Rows, []Cell{C(label), {V: hiddenText(lang, minN), Class: "muted"}})
			continue
		}
		c := b.Change
		t.Rows = append(t.Rows, []Cell{C(label), C(c.N), Cell{V: round2(c.MeanBefore), Digits: 2}, Cell{V: round2(c.MeanNow), Digits: 2}, Cell{V: round2(c.MeanDelta), Digits: 2},
			{V: round1(c.ShareImproved), Pct: true}, {V: round1(c.ShareWorse), Pct: true}})
	}
	return t
}

// behaviourLabel is the behaviour's text in lang (from the "before"
// question of its pair).
func behaviourLabel(lang text.Locale, def surveys.Definition, b reports.BehaviourRow) string {
	for _, q := range def.Questions {
		if q.Behaviour == b.Index && q.Phase == "before" {
			if t := q.Text.In(lang); t != "" {
				return t
			}
		}
	}
	return b.Behaviour
}

func hiddenText(lang text.Locale, minN int) string { return text.T(lang, "survey.hidden_group", minN) }

func csatBars(lang text.Locale, rows []reports.DimensionRow) []distBar {
	var bars []distBar
	for _, d := range rows {
		if d.Suppressed || d.Rating.N == 0 {
			continue
		}
		bars = append(bars, distBar{Label: fmt.Sprintf("%s (n=%d)", dimensionLabel(lang, d.Dimension, d.Question), d.Rating.N), Counts: d.Rating.Distribution[:]})
	}
	return bars
}

// hidden are the figures reports suppressed besides the rows' own flags.
type hidden struct{ NPS, Overall bool }

// figuresAndCharts renders the headline figures and charts of dimensions,
// NPS, behaviours and the overall change; the figures reports suppressed
// are shown as hidden.
func figuresAndCharts(lang text.Locale, def surveys.Definition, dims []reports.DimensionRow, nps *surveys.NPSResult, behaviours []reports.BehaviourRow, overall *surveys.ScaleResult, h hidden) ([]ResultFigure, []template.HTML) {
	var figs []ResultFigure
	var charts []template.HTML
	for _, d := range dims {
		f := ResultFigure{Label: dimensionLabel(lang, d.Dimension, d.Question), Value: ratingValue(lang, d.Rating), N: d.Rating.N,
			Definition: d.Rating.Definition.In(lang), Suppressed: d.Suppressed}
		if d.Dimension == "teacher" && d.Rating.Mean != nil && *d.Rating.Mean < reports.CertMinRating && !f.Suppressed {
			f.Flag = true
			f.Definition += " " + text.T(lang, "survey.teacher_target", reports.CertMinRating)
		}
		figs = append(figs, f)
	}
	if bars := csatBars(lang, dims); len(bars) > 0 {
		charts = append(charts, csatChart(lang, bars))
	}
	if nps != nil {
		figs = append(figs, ResultFigure{Label: "NPS", Value: npsValue(lang, *nps), N: nps.N, Definition: nps.Definition.In(lang), Suppressed: h.NPS})
		if nps.N > 0 && !h.NPS {
			charts = append(charts, npsChart(lang, nps.Detractors, nps.Passives, nps.Promoters))
		}
	}
	var bn []beforeNow
	for _, b := range behaviours {
		hidden := b.Suppressed
		figs = append(figs, ResultFigure{Label: text.T(lang, "survey.behaviour_label", behaviourLabel(lang, def, b)), Value: changeValue(lang, b.Change), N: b.Change.N,
			Definition: b.Change.Definition.In(lang), Suppressed: hidden})
		if !hidden && b.Change.N > 0 {
			bn = append(bn, beforeNow{Label: behaviourLabel(lang, def, b), Before: b.Change.MeanBefore, Now: b.Change.MeanNow, N: b.Change.N})
		}
	}
	if len(bn) > 0 {
		charts = append(charts, behaviourChart(lang, bn))
	}
	if overall != nil {
		v := "—"
		if overall.Mean != nil {
			v = signed(round2(overall.Mean))
		}
		figs = append(figs, ResultFigure{Label: text.T(lang, "survey.overall_change"), Value: v, N: overall.N,
			Definition: overall.Definition.In(lang), Suppressed: h.Overall})
	}
	return figs, charts
}

// surveyReport computes the report of sv in scope.
func (s *SurveyReports) surveyReport(ctx context.Context, sv store.Survey, scope SurveyScope) (*reports.SurveyReport, error) {
	rs, err := s.reportScope(ctx, scope)
	if err != nil {
		return nil, err
	}
	return s.reports().SurveyFor(ctx, sv.ID, s.now(), rs)
}

// answerTables are the dimension and behaviour tables of rep, those it has.
func answerTables(lang text.Locale, key string, rep *reports.SurveyReport, def surveys.Definition) []*Table {
	var ts []*Table
	if len(rep.Dimensions) > 0 {
		ts = append(ts, dimensionsTable(lang, key+"-dimensions", rep.Dimensions, &def, rep.MinN))
	}
	if len(rep.Behaviours) > 0 {
		ts = append(ts, behavioursTable(lang, key+"-behaviours", rep.Behaviours, def, rep.MinN))
	}
	return ts
}

// ---- the full view (admins, the owning coordinator) ----

func (s *SurveyReports) fullSection(ctx context.Context, sv store.Survey, def surveys.Definition, scope SurveyScope) (ResultSection, error) {
	lang := scope.Lang
	rep, err := s.surveyReport(ctx, sv, scope)
	if err != nil {
		return ResultSection{}, err
	}
	minN := rep.MinN
	key := fmt.Sprintf("survey-%d", sv.ID)
	sec := ResultSection{Key: fmt.Sprint(sv.ID), Title: s.surveyTitle(lang, sv, def)}
	rr := rep.ResponseRate
	sec.Figures = append(sec.Figures,
		ResultFigure{Label: text.T(lang, "survey.response_rate"), Value: fmt.Sprintf("%s (%d/%d)", pct1(rr.Rate), rr.Complete, rr.Eligible), N: rr.Eligible,
			Definition: rr.Definition.In(lang)},
		ResultFigure{Label: text.T(lang, "survey.partial_rate"), Value: fmt.Sprintf("%s (%d/%d)", pct1(rr.PartialRate), rr.Partial, rr.Eligible), N: rr.Eligible,
			Definition: rr.Definition.In(lang)},
	)
	// The whole survey's figures are shown to its coordinator whatever n;
	// the minimum group size applies to the department breakdown.
	figs, charts := figuresAndCharts(lang, def, rep.Dimensions, rep.NPS, rep.Behaviours, rep.Overall, hidden{})
	sec.Figures = append(sec.Figures, figs...)
	sec.Charts = charts
	sec.Tables = append(sec.Tables, answerTables(lang, key, rep, def)...)
	comments, err := s.commentsTable(ctx, lang, key+"-comments", sv, def, rep.Comments)
	if err != nil {
		return sec, err
	}
	sec.Tables = append(sec.Tables, comments)

	open := surveys.Open(sv, s.now())
	var notes []string
	if s.Service != nil {
		missing, err := s.Service.Missing(ctx, sv)
		if err != nil {
			return sec, fmt.Errorf("survey %d: non-respondents: %w", sv.ID, err)
		}
		sec.Tables = append(sec.Tables, missingTable(lang, key+"-missing", sv, missing))
		use, err := s.Service.Reminders(ctx, sv)
		if err != nil {
			return sec, err
		}
		sent := use.Used
		notes = append(notes, text.T(lang, "survey.reminders_sent", sent, surveys.MaxReminders))
		if open && len(missing) > 0 && sent < surveys.MaxReminders {
			sec.Actions = append(sec.Actions, CellForm{Action: fmt.Sprintf("/surveys/%d/remind", sv.ID), Label: text.T(lang, "survey.remind_now", len(missing)),
				Class: "remind-survey", Confirm: text.T(lang, "survey.confirm_remind", len(missing))})
		}
	}
	if !open {
		notes = append(notes, text.T(lang, "survey.closed_note"))
	}
	if sv.Anonymous {
		notes = append(notes, text.T(lang, "survey.anonymous_note"))
	}
	sec.Tables = append(sec.Tables, departmentsTable(lang, key+"-departments", rep.Departments, minN))
	notes = append(notes, text.T(lang, "survey.dept_note", minN))
	sec.Note = strings.Join(notes, " ")
	return sec, nil
}

func (s *SurveyReports) commentsTable(ctx context.Context, lang text.Locale, key string, sv store.Survey, def surveys.Definition, comments []reports.Comment) (*Table, error) {
	named := !sv.Anonymous
	followup := sv.Kind == store.SurveyManagerFollowup
	cols := []string{text.T(lang, "col.question"), text.T(lang, "col.comment")}
	if named {
		cols = append(cols, text.T(lang, "col.name"), text.T(lang, "col.external_id"))
		if followup {
			cols = append(cols, text.T(lang, "col.subject"))
		}
	}
	cols = append(cols, text.T(lang, "col.tag"))
	if named {
		cols = append(cols, text.T(lang, "col.follow_up_call"))
	}
	cols = append(cols, text.T(lang, "col.tagged_by"))
	t := &Table{Key: key, Title: text.T(lang, "table.survey_comments"), Empty: text.T(lang, "survey.no_comments"), Columns: cols}
	ids := make([]uint64, 0, len(comments))
	for _, c := range comments {
		ids = append(ids, c.ResponseID)
	}
	rows, err := s.Commands.CommentTags(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("survey %d: %w", sv.ID, err)
	}
	tags := map[string]store.CommentTag{}
	for _, x := range rows {
		tags[fmt.Sprintf("%d/%s", x.ResponseID, x.QuestionKey)] = x
	}
	action := fmt.Sprintf("/surveys/%d/comments", sv.ID)
	for _, c := range comments {
		tag := tags[fmt.Sprintf("%d/%s", c.ResponseID, c.QuestionKey)]
		ident := [][2]string{{"response_id", fmt.Sprint(c.ResponseID)}, {"question_key", c.QuestionKey}}
		row := []Cell{C(questionText(lang, def, c.QuestionKey)), {V: c.Text, Class: "comment-text"}}
		if named {
			row = append(row, C(c.Name), C(c.ExternalID))
			if followup {
				row = append(row, C(c.Subject))
			}
		}
		tagCell := Cell{V: tag.Tag, Label: text.Enum(lang, "tag", tag.Tag), Class: "triage"}
		if tag.Tag == "" {
			tagCell.Label = text.T(lang, "tag.none")
		}
		for _, tg := range []string{store.TagShortTerm, store.TagLongTerm, store.TagNoAction} {
			tagCell.Forms = append(tagCell.Forms, CellForm{Action: action + "/tag", Fields: append(append([][2]string{}, ident...), [2]string{"tag", tg}),
				Label: text.T(lang, "tag."+tg), Class: "tag-" + tg, Pressed: tag.Tag == tg, Confirm: text.T(lang, "comment.confirm_tag", text.T(lang, "tag."+tg))})
		}
		row = append(row, tagCell)
		if named {
			fu := Cell{V: tag.FollowUpCall, Class: "follow-up"}
			next, label := "1", text.T(lang, "comment.follow_up_on")
			if tag.FollowUpCall {
				fu.Label = text.T(lang, "comment.follow_up_yes")
				next, label = "0", text.T(lang, "comment.follow_up_off")
			}
			fu.Forms = []CellForm{{Action: action + "/follow-up", Fields: append(append([][2]string{}, ident...), [2]string{"follow_up_call", next}),
				Label: label, Class: "follow-up-btn", Pressed: tag.FollowUpCall, Confirm: text.T(lang, "comment.confirm_follow_up_"+next, c.Name)}}
			row = append(row, fu)
		}
		var by any
		if tag.By != "" {
			by = tag.By
		}
		row = append(row, C(by))
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

func missingTable(lang text.Locale, key string, sv store.Survey, missing []surveys.MissingRow) *Table {
	t := &Table{Key: key, Title: text.T(lang, "table.survey_missing", len(missing)), Empty: text.T(lang, "survey.none_missing")}
	if sv.Anonymous {
		// Who has not answered an anonymous survey tells who has.
		t.Columns = []string{text.T(lang, "col.missing_count")}
		t.Rows = [][]Cell{{C(len(missing))}}
		t.Empty = text.T(lang, "survey.missing_anonymous")
		return t
	}
	followup := sv.Kind == store.SurveyManagerFollowup
	t.Columns = []string{text.T(lang, "col.external_id"), text.T(lang, "col.name"), text.T(lang, "col.department")}
	if followup {
		t.Columns = append(t.Columns, text.T(lang, "col.subject_external_id"), text.T(lang, "col.subject"))
	}
	for _, m := range missing {
		row := []Cell{C(m.ExternalID), C(m.Name), C(m.Department)}
		if followup {
			row = append(row, C(m.SubjectExternalID), C(m.SubjectName))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func departmentsTable(lang text.Locale, key string, rows []reports.DepartmentRow, minN int) *Table {
	t := &Table{Key: key, Title: text.T(lang, "table.survey_departments"), Empty: text.T(lang, "survey.no_answers"),
		Columns: []string{text.T(lang, "col.department"), text.T(lang, "col.responses"), text.T(lang, "col.csat_mean"), "NPS"}}
	for _, d := range rows {
		dept := d.Department
		if dept == reports.NoDepartment {
			dept = text.T(lang, "survey.no_department")
		}
		if d.Suppressed || d.Responses == nil {
			t.Rows = append(t.Rows, []Cell{C(dept), {V: hiddenText(lang, minN), Class: "muted suppressed"}, C(nil), C(nil)})
			continue
		}
		t.Rows = append(t.Rows, []Cell{C(dept), C(*d.Responses), Cell{V: round2(d.CSATMean), Digits: 2}, C(round1(d.NPS))})
	}
	return t
}

// ---- the department view ----

func (s *SurveyReports) deptSection(ctx context.Context, sv store.Survey, def surveys.Definition, scope SurveyScope) (ResultSection, error) {
	lang := scope.Lang
	rep, err := s.surveyReport(ctx, sv, scope)
	if err != nil {
		return ResultSection{}, err
	}
	minN := rep.MinN
	sec := ResultSection{Key: fmt.Sprint(sv.ID), Title: s.surveyTitle(lang, sv, def), Note: text.T(lang, "survey.dept_scope", scope.Department, minN)}
	if scope.Department == "" {
		sec.Figures = []ResultFigure{{Label: text.T(lang, "col.responses"), Suppressed: true}}
		return sec, nil
	}
	if rep.Suppressed {
		// Too few to show anything, not even how many answered.
		sec.Figures = []ResultFigure{{Label: text.T(lang, "col.responses"), Suppressed: true, Definition: text.T(lang, "survey.dept_hidden", minN)}}
		return sec, nil
	}
	rr := rep.ResponseRate
	sec.Figures = append(sec.Figures, ResultFigure{Label: text.T(lang, "survey.response_rate"), Value: fmt.Sprintf("%s (%d/%d)", pct1(rr.Rate), rr.Complete, rr.Eligible),
		N: rr.Eligible, Definition: rr.Definition.In(lang) + " " + text.T(lang, "survey.dept_definition")})
	figs, charts := figuresAndCharts(lang, def, rep.Dimensions, rep.NPS, rep.Behaviours, rep.Overall, hidden{NPS: rep.NPSSuppressed, Overall: rep.OverallSuppressed})
	sec.Figures = append(sec.Figures, figs...)
	sec.Charts = charts
	key := fmt.Sprintf("survey-%d", sv.ID)
	sec.Tables = append(sec.Tables, answerTables(lang, key, rep, def)...)
	return sec, nil
}

// ---- courses ----

// CourseSurveys returns the course's pooled feedback figures and one row
// per session.
func (s *SurveyReports) CourseSurveys(ctx context.Context, courseID uint64, scope SurveyScope) ([]ResultSection, error) {
	if deptScope(scope) {
		return s.deptCourse(ctx, courseID, scope)
	}
	lang := scope.Lang
	rep, err := s.reports().Course(ctx, courseID, s.now())
	if errors.Is(err, reports.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	hasSurvey := false
	for _, r := range rep.Sessions {
		if r.SurveyID != 0 {
			hasSurvey = true
		}
	}
	if !hasSurvey {
		return nil, nil
	}
	sec := ResultSection{Key: "course", Title: text.T(lang, "survey.course_title"), Note: text.T(lang, "def.pooled")}
	figs, charts := figuresAndCharts(lang, surveys.Definition{}, rep.Dimensions, rep.NPS, nil, nil, hidden{})
	sec.Figures, sec.Charts = figs, charts
	sec.Tables = append(sec.Tables, dimensionsTable(lang, "course-survey-dimensions", rep.Dimensions, nil, 0))
	t := courseSessionsTable(lang, rep.Dimensions)
	for _, r := range rep.Sessions {
		if r.SurveyID == 0 {
			continue
		}
		row := []Cell{C(r.Title), C(r.StartsAt.In(s.sessionLoc(ctx, r.SessionID))), C(r.Teacher)}
		if r.ResponseRate != nil {
			row = append(row, Cell{V: round1(r.ResponseRate.Rate), Pct: true}, C(r.ResponseRate.Complete), C(r.ResponseRate.Eligible))
		} else {
			row = append(row, C(nil), C(nil), C(nil))
		}
		byKey := map[string]reports.DimensionRow{}
		for _, d := range r.Dimensions {
			byKey[d.Key] = d
		}
		for _, d := range rep.Dimensions {
			row = append(row, Cell{V: round2(byKey[d.Key].Rating.Mean), Digits: 2}, C(byKey[d.Key].Rating.N))
		}
		if r.NPS != nil {
			row = append(row, C(round1(r.NPS.Score)), C(r.NPS.N))
		} else {
			row = append(row, C(nil), C(nil))
		}
		t.Rows = append(t.Rows, row)
	}
	sec.Tables = append(sec.Tables, t)
	return []ResultSection{sec}, nil
}

func courseSessionsTable(lang text.Locale, dims []reports.DimensionRow) *Table {
	t := &Table{Key: "course-survey-sessions", Title: text.T(lang, "table.survey_sessions"), Empty: text.T(lang, "survey.no_answers"),
		Columns: []string{text.T(lang, "col.session"), text.T(lang, "col.starts_at"), text.T(lang, "col.teacher"), text.T(lang, "survey.response_rate"), text.T(lang, "col.complete"), text.T(lang, "col.eligible_survey")}}
	for _, d := range dims {
		name := dimensionLabel(lang, d.Dimension, d.Question)
		t.Columns = append(t.Columns, name, name+" n")
	}
	t.Columns = append(t.Columns, "NPS", "NPS n")
	return t
}

// deptCourse renders reports.CourseFor of a department head's subtree:
// the pooled feedback figures and one row per session, each figure hidden
// when reports suppressed it.
func (s *SurveyReports) deptCourse(ctx context.Context, courseID uint64, scope SurveyScope) ([]ResultSection, error) {
	lang := scope.Lang
	rs, err := s.reportScope(ctx, scope)
	if err != nil {
		return nil, err
	}
	rep, err := s.reports().CourseFor(ctx, courseID, s.now(), rs)
	if errors.Is(err, reports.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var poolDef *surveys.Definition
	for _, r := range rep.Sessions {
		if r.SurveyID == 0 {
			continue
		}
		svs, err := s.Commands.SurveysOf(ctx, r.SessionID, false)
		if err != nil {
			return nil, fmt.Errorf("survey %d: %w", r.SurveyID, err)
		}
		var sv store.Survey
		for _, x := range svs {
			if x.ID == r.SurveyID {
				sv = x
			}
		}
		def, err := surveys.SurveyDefinition(sv)
		if err != nil {
			return nil, err
		}
		poolDef = &def
		break
	}
	if poolDef == nil {
		return nil, nil
	}
	minN := rep.MinN
	sec := ResultSection{Key: "course", Title: text.T(lang, "survey.course_title"), Note: text.T(lang, "def.pooled") + " " + text.T(lang, "survey.dept_scope", scope.Department, minN)}
	if rep.Suppressed {
		sec.Figures = []ResultFigure{{Label: text.T(lang, "col.responses"), Suppressed: true, Definition: text.T(lang, "survey.dept_hidden", minN)}}
	} else {
		sec.Figures, sec.Charts = figuresAndCharts(lang, *poolDef, rep.Dimensions, rep.NPS, nil, nil, hidden{NPS: rep.NPSSuppressed})
		sec.Tables = append(sec.Tables, dimensionsTable(lang, "course-survey-dimensions", rep.Dimensions, poolDef, minN))
	}
	t := &Table{Key: "course-survey-sessions", Title: text.T(lang, "table.survey_sessions"), Empty: text.T(lang, "survey.no_answers"),
		Columns: []string{text.T(lang, "col.session"), text.T(lang, "col.starts_at"), text.T(lang, "col.responses")}}
	for _, d := range rep.Dimensions {
		t.Columns = append(t.Columns, dimensionLabel(lang, d.Dimension, d.Question))
	}
	t.Columns = append(t.Columns, "NPS")
	for _, r := range rep.Sessions {
		if r.SurveyID == 0 || r.ResponseRate == nil {
			continue
		}
		row := []Cell{C(r.Title), C(r.StartsAt.In(s.sessionLoc(ctx, r.SessionID)))}
		if r.SurveySuppressed {
			row = append(row, Cell{V: hiddenText(lang, minN), Class: "muted suppressed"})
			t.Rows = append(t.Rows, row)
			continue
		}
		row = append(row, C(r.ResponseRate.Complete+r.ResponseRate.Partial))
		byKey := map[string]reports.DimensionRow{}
		for _, d := range r.Dimensions {
			byKey[d.Key] = d
		}
		for _, d := range rep.Dimensions {
			sd, ok := byKey[d.Key]
			if !ok || sd.Suppressed {
				row = append(row, C(nil))
				continue
			}
			row = append(row, Cell{V: round2(sd.Rating.Mean), Digits: 2})
		}
		if r.NPS != nil && !r.NPSSuppressed {
			row = append(row, C(round1(r.NPS.Score)))
		} else {
			row = append(row, C(nil))
		}
		t.Rows = append(t.Rows, row)
	}
	sec.Tables = append(sec.Tables, t)
	return []ResultSection{sec}, nil
}

// sessionLoc is the time zone of session id (Location when the session
// cannot be read).
func (s *SurveyReports) sessionLoc(ctx context.Context, id uint64) *time.Location {
	zones, err := s.Commands.SessionZones(ctx, []uint64{id})
	if loc, ok := zones[id]; ok && err == nil {
		return loc
	}
	return s.loc()
}
