package reports

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
)

// SurveyReport is what one survey's answers say, from stored facts only.
// Every figure carries its n and definition.
type SurveyReport struct {
	GeneratedAt  time.Time                  `json:"generated_at"`
	Survey       SurveyInfo                 `json:"survey"`
	ResponseRate surveys.ResponseRateResult `json:"response_rate"`
	Dimensions   []DimensionRow             `json:"dimensions"`
	NPS          *surveys.NPSResult         `json:"nps,omitempty"`
	Questions    []QuestionRow              `json:"questions"`
	Behaviours   []BehaviourRow             `json:"behaviours,omitempty"`
	Overall      *surveys.ScaleResult       `json:"overall_change,omitempty"`
	Comments     []Comment                  `json:"comments"`
	Departments  []DepartmentRow            `json:"departments"`
	Notes        []string                   `json:"notes"`
	Definitions  map[string]string          `json:"definitions"`
	// Department is set when the report counts only a department head's
	// subtree (a partial Scope): then every figure whose n is below
	// MinN is suppressed and cleared, there are no comments and no
	// department breakdown, and Suppressed is set (every figure cleared)
	// when the subtree's responses are below MinN.
	Department string `json:"department,omitempty"`
	Partial    bool   `json:"partial,omitempty"`
	Suppressed bool   `json:"suppressed,omitempty"`
	// MinN is the smallest n shown: the department breakdown's minimum in
	// a full report, every figure's in a partial one.
	MinN int `json:"-"`
	// NPSSuppressed and OverallSuppressed mark the NPS and the overall
	// change hidden in a partial scope (their n is below MinN).
	NPSSuppressed     bool                   `json:"nps_suppressed,omitempty"`
	OverallSuppressed bool                   `json:"overall_suppressed,omitempty"`
	byQuestion        map[string][]float64   // numeric answers per question key
	pairs             map[int][]surveys.Pair // before/now per behaviour
	def               surveys.Definition
}

// SurveyInfo identifies a survey.
type SurveyInfo struct {
	ID           uint64    `json:"id"`
	Kind         string    `json:"kind"`
	Title        string    `json:"title"`
	SessionID    uint64    `json:"session_id"`
	CourseID     uint64    `json:"course_id"`
	CourseTitle  string    `json:"course_title"`
	Anonymous    bool      `json:"anonymous"`
	MinGroupSize int       `json:"min_group_size"`
	OpensAt      time.Time `json:"opens_at"`
	ClosesAt     time.Time `json:"closes_at"`
	Status       string    `json:"status"`
}

// DimensionRow is the CSAT of one rating question (teacher, course,
// organisation…).
type DimensionRow struct {
	Dimension string               `json:"dimension"`
	Question  string               `json:"question"`
	Key       string               `json:"key"`
	Rating    surveys.RatingResult `json:"rating"`
	// Suppressed is set in a partial scope when the rating's n is below
	// the minimum group size: Rating is then cleared.
	Suppressed bool `json:"suppressed,omitempty"`
}

// QuestionRow counts the answers to one question.
type QuestionRow struct {
	Key      string `json:"key"`
	Type     string `json:"type"`
	Text     string `json:"text"`
	Answered int    `json:"answered"`
}

// BehaviourRow is the before/now change of one behaviour (manager follow-up).
type BehaviourRow struct {
	Index     int                  `json:"index"`
	Behaviour string               `json:"behaviour"`
	Change    surveys.ChangeResult `json:"change"`
	// Suppressed is set in a partial scope when the change's n is below
	// the minimum group size: Change is then cleared.
	Suppressed bool `json:"suppressed,omitempty"`
}

// Comment is one free-text answer. Name is empty for anonymous surveys.
type Comment struct {
	ResponseID  uint64 `json:"response_id"`
	QuestionKey string `json:"question_key"`
	Question    string `json:"question"`
	Text        string `json:"text"`
	Name        string `json:"name,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
	Subject     string `json:"subject,omitempty"`
}

// NoDepartment names the respondents without a department in a survey's
// department breakdown (its zh-CN text; presenters show
// "reports:department.none" in their language).
var NoDepartment = text.T(text.ZH, "reports:department.none")

// DepartmentRow is a breakdown by the respondents' department. Groups
// smaller than the survey's minimum group size are suppressed: only the
// fact that they exist is shown, no figure.
//
// Each figure is judged on its own n: NPS on the department's NPS answers,
// CSAT mean on its respondents who answered at least one rating question
// (see Definitions["csat_mean"]); a figure whose n is below the minimum is
// left out even when the department's response count is not.
type DepartmentRow struct {
	Department string   `json:"department"`
	Suppressed bool     `json:"suppressed"`
	Responses  *int     `json:"responses,omitempty"`
	NPS        *float64 `json:"nps,omitempty"`
	NPSN       *int     `json:"nps_n,omitempty"`
	CSATMean   *float64 `json:"csat_mean,omitempty"`
	CSATN      *int     `json:"csat_n,omitempty"`
}

// Survey builds the full report of one survey.
func Survey(ctx context.Context, db *gorm.DB, surveyID uint64, now time.Time) (*SurveyReport, error) {
	return SurveyFor(ctx, db, surveyID, now, FullScope())
}

// SurveyFor builds the report of one survey for scope: an actor who may
// not see the survey's session gets an error wrapping ErrForbidden; a
// partial scope counts only the responses given from the department
// subtree and the recipients in it, and suppresses every figure whose own
// n is below the minimum group size.
func SurveyFor(ctx context.Context, db *gorm.DB, surveyID uint64, now time.Time, scope Scope) (*SurveyReport, error) {
	db = db.WithContext(ctx)
	var sv store.Survey
	if err := take(db, &sv, surveyID, "survey"); err != nil {
		return nil, err
	}
	if err := scope.checkSession(db, sv.SessionID); err != nil {
		return nil, err
	}
	def, err := surveys.SurveyDefinition(sv)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	// resp restricts a query joined to survey_responses to the scope's
	// respondents (their department when they answered).
	resp := func(q *gorm.DB) *gorm.DB { return scope.people(q, "survey_responses.department") }
	scoped := scope.Partial()
	var course store.Course
	db.Limit(1).Find(&course, sv.CourseID)
	r := &SurveyReport{
		GeneratedAt: now.UTC(), def: def, byQuestion: map[string][]float64{}, pairs: map[int][]surveys.Pair{},
		Survey: SurveyInfo{ID: sv.ID, Kind: sv.Kind, Title: sv.Title, SessionID: sv.SessionID, CourseID: sv.CourseID, CourseTitle: course.Title,
			Anonymous: sv.Anonymous, MinGroupSize: sv.MinGroupSize, OpensAt: sv.OpensAt, ClosesAt: sv.ClosesAt, Status: sv.Status},
		Comments: []Comment{}, Departments: []DepartmentRow{}, Questions: []QuestionRow{},
		Definitions: map[string]string{}, Partial: scoped, MinN: scope.MinN(sv.MinGroupSize),
	}
	if scoped {
		r.Department = scope.Department
	}

	// Eligible: distinct recipients (per subject for follow-ups) of a sent
	// delivery of any push of the survey — first push or reminder — still
	// active (domain.md). The coordinator's escalation asks nothing.
	var eligible int64
	// One definition: surveys.EligibleQuery, the set the console's "not
	// answered" list and the reminders subtract respondents from.
	sub := scope.people(surveys.EligibleQuery(db, sv.ID), "employees.department")
	if err := db.Table("(?) AS eligible", sub).Count(&eligible).Error; err != nil {
		return nil, fmt.Errorf("reports: count eligible: %w", err)
	}
	var counts []struct {
		Status string
		N      int
	}
	if err := resp(db.Model(&store.SurveyResponse{}).Select("status, COUNT(*) AS n").Where("survey_id = ?", sv.ID)).Group("status").Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("reports: count responses: %w", err)
	}
	complete, partial := 0, 0
	for _, c := range counts {
		if c.Status == store.ResponseComplete {
			complete = c.N
		} else {
			partial = c.N
		}
	}
	// A response can exist without a delivery (a forwarded or manual link
	// is impossible, but a delivery may have been marked failed after the
	// person answered): the denominator is never below the answers.
	if int(eligible) < complete+partial {
		r.Notes = append(r.Notes, text.T(text.ZH, "reports:note.more_responses", complete+partial, eligible))
		eligible = int64(complete + partial)
	}
	if r.ResponseRate, err = surveys.ResponseRate(complete, partial, int(eligible)); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}

	// Numbers are aggregated in the database: a distribution per
	// (department, question, value), not one row per answer — a course
	// report reads a million answers.
	var dist []struct {
		Department  string
		QuestionKey string
		Number      float64
		N           int
	}
	err = resp(db.Table("survey_answers").
		Select("survey_responses.department, survey_answers.question_key, survey_answers.number, COUNT(*) AS n").
		Joins("JOIN survey_responses ON survey_responses.id = survey_answers.response_id").
		Where("survey_responses.survey_id = ? AND survey_answers.number IS NOT NULL", sv.ID)).
		Group("survey_responses.department, survey_answers.question_key, survey_answers.number").Scan(&dist).Error
	if err != nil {
		return nil, fmt.Errorf("reports: aggregate answers: %w", err)
	}
	var answeredRows []struct {
		QuestionKey string
		N           int
	}
	err = resp(db.Table("survey_answers").Select("survey_answers.question_key, COUNT(*) AS n").
		Joins("JOIN survey_responses ON survey_responses.id = survey_answers.response_id").
		Where("survey_responses.survey_id = ? AND (survey_answers.number IS NOT NULL OR survey_answers.text <> '')", sv.ID)).
		Group("survey_answers.question_key").Scan(&answeredRows).Error
	if err != nil {
		return nil, fmt.Errorf("reports: count answers: %w", err)
	}
	answered := map[string]int{}
	for _, a := range answeredRows {
		answered[a.QuestionKey] = a.N
	}
	byDept := map[string]map[string][]float64{} // department → question → values
	for _, d := range dist {
		if _, ok := def.Question(d.QuestionKey); !ok {
			continue
		}
		if byDept[d.Department] == nil {
			byDept[d.Department] = map[string][]float64{}
		}
		for range d.N {
			r.byQuestion[d.QuestionKey] = append(r.byQuestion[d.QuestionKey], d.Number)
			byDept[d.Department][d.QuestionKey] = append(byDept[d.Department][d.QuestionKey], d.Number)
		}
	}

	// Comments: only the free-text answers are read row by row; a partial
	// scope gets none (a comment may name its author).
	var textKeys, pairKeys []string
	for _, q := range def.Questions {
		if q.Type == surveys.TypeText && !scoped {
			textKeys = append(textKeys, q.Key)
		}
		if q.Behaviour > 0 && (q.Phase == "before" || q.Phase == "now") {
			pairKeys = append(pairKeys, q.Key)
		}
	}
	if len(textKeys) > 0 {
		var rows []struct {
			ResponseID   uint64
			RespondentID *uint64
			SubjectID    uint64
			QuestionKey  string
			Text         string
		}
		err = db.Table("survey_answers").
			Select("survey_answers.response_id, survey_responses.respondent_id, survey_responses.subject_id, survey_answers.question_key, survey_answers.text").
			Joins("JOIN survey_responses ON survey_responses.id = survey_answers.response_id").
			Where("survey_responses.survey_id = ? AND survey_answers.question_key IN ? AND survey_answers.text <> ''", sv.ID, textKeys).
			Order("survey_answers.response_id, survey_answers.question_key").Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("reports: load comments: %w", err)
		}
		names := map[uint64]store.Employee{}
		var ids []uint64
		for _, a := range rows {
			if a.RespondentID != nil && !sv.Anonymous {
				ids = append(ids, *a.RespondentID)
			}
			if a.SubjectID != 0 {
				ids = append(ids, a.SubjectID)
			}
		}
		if len(ids) > 0 {
			var es []store.Employee
			if err := db.Select("id", "external_id", "name").Where("id IN ?", ids).Find(&es).Error; err != nil {
				return nil, fmt.Errorf("reports: load names: %w", err)
			}
			for _, e := range es {
				names[e.ID] = e
			}
		}
		for _, a := range rows {
			if strings.TrimSpace(a.Text) == "" {
				continue
			}
			q, _ := def.Question(a.QuestionKey)
			c := Comment{ResponseID: a.ResponseID, QuestionKey: q.Key, Question: q.Text.In("zh-CN"), Text: a.Text}
			if !sv.Anonymous && a.RespondentID != nil {
				c.Name, c.ExternalID = names[*a.RespondentID].Name, names[*a.RespondentID].ExternalID
			}
			if a.SubjectID != 0 {
				c.Subject = names[a.SubjectID].Name
			}
			r.Comments = append(r.Comments, c)
		}
	}

	// Behaviour pairs come from one response's before and now answers.
	if len(pairKeys) > 0 {
		var rows []struct {
			ResponseID  uint64
			QuestionKey string
			Number      float64
		}
		err = resp(db.Table("survey_answers").Select("survey_answers.response_id, survey_answers.question_key, survey_answers.number").
			Joins("JOIN survey_responses ON survey_responses.id = survey_answers.response_id").
			Where("survey_responses.survey_id = ? AND survey_answers.question_key IN ? AND survey_answers.number IS NOT NULL", sv.ID, pairKeys)).
			Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("reports: load behaviour answers: %w", err)
		}
		byResp := map[uint64]map[string]float64{}
		for _, a := range rows {
			if byResp[a.ResponseID] == nil {
				byResp[a.ResponseID] = map[string]float64{}
			}
			byResp[a.ResponseID][a.QuestionKey] = a.Number
		}
		for _, nums := range byResp {
			for _, q := range def.Questions {
				if q.Phase != "before" || q.Behaviour == 0 {
					continue
				}
				b, okB := nums[q.Key]
				n, okN := nums[strings.TrimSuffix(q.Key, "_before")+"_now"]
				if okB && okN {
					r.pairs[q.Behaviour] = append(r.pairs[q.Behaviour], surveys.Pair{Before: b, Now: n})
				}
			}
		}
	}
	for _, q := range def.Questions {
		r.Questions = append(r.Questions, QuestionRow{Key: q.Key, Type: q.Type, Text: q.Text.In("zh-CN"), Answered: answered[q.Key]})
		switch q.Type {
		case surveys.TypeRating:
			res, err := surveys.Ratings(r.byQuestion[q.Key])
			if err != nil {
				return nil, fmt.Errorf("reports: question %s: %w", q.Key, err)
			}
			dim := q.Dimension
			if dim == "" {
				dim = q.Key
			}
			r.Dimensions = append(r.Dimensions, DimensionRow{Dimension: dim, Question: q.Text.In("zh-CN"), Key: q.Key, Rating: res})
			r.Definitions["csat"] = res.Definition.In(text.ZH)
		case surveys.TypeNPS:
			if r.NPS == nil {
				res, err := surveys.NPS(r.byQuestion[q.Key])
				if err != nil {
					return nil, fmt.Errorf("reports: question %s: %w", q.Key, err)
				}
				r.NPS = &res
				r.Definitions["nps"] = res.Definition.In(text.ZH)
			}
		case surveys.TypeChange:
			res, err := surveys.ChangeScale(r.byQuestion[q.Key])
			if err != nil {
				return nil, fmt.Errorf("reports: question %s: %w", q.Key, err)
			}
			r.Overall = &res
			r.Definitions["overall_change"] = res.Definition.In(text.ZH)
		}
	}
	for _, q := range def.Questions {
		if q.Phase == "before" && q.Behaviour > 0 {
			res, err := surveys.BehaviourChange(r.pairs[q.Behaviour])
			if err != nil {
				return nil, fmt.Errorf("reports: behaviour %d: %w", q.Behaviour, err)
			}
			r.Behaviours = append(r.Behaviours, BehaviourRow{Index: q.Behaviour, Behaviour: behaviourText(q), Change: res})
			r.Definitions["behaviour_change"] = res.Definition.In(text.ZH)
		}
	}
	r.Definitions["response_rate"] = r.ResponseRate.Definition.In(text.ZH)
	r.Definitions["departments"] = text.T(text.ZH, "reports:definition.departments", sv.MinGroupSize, sv.MinGroupSize)
	if sv.Anonymous {
		r.Definitions["departments"] += text.T(text.ZH, "reports:definition.departments_anonymous", sv.MinGroupSize)
	}
	r.Definitions["csat_mean"] = text.M("reports:definition.csat_mean", sv.MinGroupSize).Bilingual()
	r.Definitions["answers"] = text.T(text.ZH, "reports:definition.answers")

	if scoped {
		r.suppress(complete + partial)
		return r, nil
	}

	// Department breakdown, suppressed below the minimum group size; each
	// figure on its own n.
	var deptN []struct {
		Department string
		N          int
	}
	if err := db.Model(&store.SurveyResponse{}).Select("department, COUNT(*) AS n").Where("survey_id = ?", sv.ID).Group("department").Scan(&deptN).Error; err != nil {
		return nil, fmt.Errorf("reports: count departments: %w", err)
	}
	npsKey, csatKeys := "", []string{}
	for _, q := range def.Questions {
		if q.Type == surveys.TypeNPS && npsKey == "" {
			npsKey = q.Key
		}
		if q.Type == surveys.TypeRating {
			csatKeys = append(csatKeys, q.Key)
		}
	}
	// Respondents per department who answered at least one rating question:
	// the n of the department's CSAT mean.
	csatN := map[string]int{}
	if len(csatKeys) > 0 {
		var rows []struct {
			Department string
			N          int
		}
		err := db.Table("survey_answers").
			Select("survey_responses.department, COUNT(DISTINCT survey_answers.response_id) AS n").
			Joins("JOIN survey_responses ON survey_responses.id = survey_answers.response_id").
			Where("survey_responses.survey_id = ? AND survey_answers.question_key IN ? AND survey_answers.number IS NOT NULL", sv.ID, csatKeys).
			Group("survey_responses.department").Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("reports: count department ratings: %w", err)
		}
		for _, x := range rows {
			csatN[x.Department] = x.N
		}
	}
	min := r.MinN // the survey's own minimum, or the scope's when larger
	for _, d := range deptN {
		row := DepartmentRow{Department: d.Department}
		if d.Department == "" {
			row.Department = NoDepartment
			if sv.Anonymous {
				row.Department = text.T(text.ZH, "reports:department.other", min)
			}
		}
		if d.N < min {
			row.Suppressed = true
			r.Departments = append(r.Departments, row)
			continue
		}
		n := d.N
		row.Responses = &n
		vals := byDept[d.Department]
		if nn := len(vals[npsKey]); nn >= min {
			if res, err := surveys.NPS(vals[npsKey]); err == nil && res.Score != nil {
				row.NPS, row.NPSN = res.Score, &nn
			}
		}
		if cn := csatN[d.Department]; cn >= min {
			var csatVals []float64
			for _, k := range csatKeys {
				csatVals = append(csatVals, vals[k]...)
			}
			if res, err := surveys.Ratings(csatVals); err == nil && res.Mean != nil {
				row.CSATMean, row.CSATN = res.Mean, &cn
			}
		}
		r.Departments = append(r.Departments, row)
	}
	sort.Slice(r.Departments, func(i, j int) bool { return r.Departments[i].Department < r.Departments[j].Department })
	return r, nil
}

func behaviourText(q surveys.Question) string { return q.Text.In("zh-CN") }

// SessionSurveys lists the surveys of a session.
func SessionSurveys(ctx context.Context, db *gorm.DB, sessionID uint64) ([]store.Survey, error) {
	var svs []store.Survey
	if err := db.WithContext(ctx).Where("session_id = ?", sessionID).Order("opens_at, id").Find(&svs).Error; err != nil {
		return nil, fmt.Errorf("reports: list surveys: %w", err)
	}
	return svs, nil
}

// RawNumbers returns the numeric answers to a question (for tests and charts).
func (r *SurveyReport) RawNumbers(key string) []float64 { return r.byQuestion[key] }

// suppress applies a partial scope's minimum group size: below it in
// responses nothing is shown, not even how many answered; otherwise each
// figure whose own n is below it is cleared and marked.
func (r *SurveyReport) suppress(responses int) {
	min := r.MinN
	r.Departments = []DepartmentRow{}
	r.Comments = []Comment{}
	for i := range r.Questions {
		if r.Questions[i].Answered < min {
			r.Questions[i].Answered = 0
		}
	}
	// The response rate, the ratings and the NPS as the course report
	// clears them; then the behaviour changes and the overall scale.
	r.Suppressed, r.NPSSuppressed = suppressFigures(min, responses, &r.ResponseRate, r.Dimensions, &r.NPS)
	for i := range r.Behaviours {
		b := &r.Behaviours[i]
		if r.Suppressed || b.Change.N < min {
			b.Suppressed = true
			b.Change = surveys.ChangeResult{Definition: b.Change.Definition}
		}
	}
	if r.Overall != nil && (r.Suppressed || r.Overall.N < min) {
		r.OverallSuppressed = true
		r.Overall = &surveys.ScaleResult{Definition: r.Overall.Definition}
	}
	r.byQuestion, r.pairs = map[string][]float64{}, map[int][]surveys.Pair{}
}
