package reports

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
)

// surveyAgg is what the cross-session reports need of one survey: its
// numeric answers per question, its responses and who it reached.
type surveyAgg struct {
	values            map[string][]float64
	complete, partial int
	eligible          int
}

// aggregateSurveys reads the figures of many surveys in three grouped
// queries (one pass over the answers), for the course and teacher reports,
// which would otherwise run a full survey report per session.
//
// A partial scope counts only the answers given from its department
// subtree and the recipients in it.
func aggregateSurveys(ctx context.Context, db *gorm.DB, ids []uint64, scope Scope) (map[uint64]*surveyAgg, error) {
	out := make(map[uint64]*surveyAgg, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	for _, id := range ids {
		out[id] = &surveyAgg{values: map[string][]float64{}}
	}
	db = db.WithContext(ctx)
	var dist []struct {
		SurveyID    uint64
		QuestionKey string
		Number      float64
		N           int
	}
	q := db.Table("survey_answers").Select("survey_answers.survey_id, survey_answers.question_key, survey_answers.number, COUNT(*) AS n").
		Where("survey_answers.survey_id IN ? AND survey_answers.number IS NOT NULL", ids)
	if scope.Partial() {
		q = scope.people(q.Joins("JOIN survey_responses ON survey_responses.id = survey_answers.response_id"), "survey_responses.department")
	}
	err := q.Group("survey_answers.survey_id, survey_answers.question_key, survey_answers.number").Scan(&dist).Error
	if err != nil {
		return nil, fmt.Errorf("reports: aggregate answers: %w", err)
	}
	for _, d := range dist {
		a := out[d.SurveyID]
		for range d.N {
			a.values[d.QuestionKey] = append(a.values[d.QuestionKey], d.Number)
		}
	}
	var counts []struct {
		SurveyID uint64
		Status   string
		N        int
	}
	if err := scope.people(db.Model(&store.SurveyResponse{}).Select("survey_id, status, COUNT(*) AS n").Where("survey_id IN ?", ids), "survey_responses.department").
		Group("survey_id, status").Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("reports: count responses: %w", err)
	}
	for _, c := range counts {
		if c.Status == store.ResponseComplete {
			out[c.SurveyID].complete = c.N
		} else {
			out[c.SurveyID].partial += c.N
		}
	}
	sub := scope.people(surveys.EligibleQuery(db, ids...), "employees.department") // any push of the survey, reminders included (see Survey)
	var elig []struct {
		SurveyID uint64
		N        int
	}
	if err := db.Table("(?) AS e", sub).Select("e.survey_id, COUNT(*) AS n").Group("e.survey_id").Scan(&elig).Error; err != nil {
		return nil, fmt.Errorf("reports: count eligible: %w", err)
	}
	for _, e := range elig {
		out[e.SurveyID].eligible = e.N
	}
	for _, a := range out {
		// The denominator is never below the answers (see Survey).
		a.eligible = max(a.eligible, a.complete+a.partial)
	}
	return out, nil
}

// figures turns a survey's aggregate into its headline figures.
func (a *surveyAgg) figures(def surveys.Definition) (surveys.ResponseRateResult, []DimensionRow, *surveys.NPSResult, error) {
	rr, err := surveys.ResponseRate(a.complete, a.partial, a.eligible)
	if err != nil {
		return rr, nil, nil, err
	}
	var dims []DimensionRow
	var nps *surveys.NPSResult
	for _, q := range def.Questions {
		switch q.Type {
		case surveys.TypeRating:
			res, err := surveys.Ratings(a.values[q.Key])
			if err != nil {
				return rr, nil, nil, fmt.Errorf("question %s: %w", q.Key, err)
			}
			dim := q.Dimension
			if dim == "" {
				dim = q.Key
			}
			dims = append(dims, DimensionRow{Dimension: dim, Question: q.Text.In("zh-CN"), Key: q.Key, Rating: res})
		case surveys.TypeNPS:
			if nps == nil {
				res, err := surveys.NPS(a.values[q.Key])
				if err != nil {
					return rr, nil, nil, fmt.Errorf("question %s: %w", q.Key, err)
				}
				nps = &res
			}
		}
	}
	return rr, dims, nps, nil
}

// feedbackAggregates returns the first feedback survey of each session
// (feedbackSurveys) and those surveys' aggregates within scope, keyed by
// survey id.
func feedbackAggregates(ctx context.Context, db *gorm.DB, sessionIDs []uint64, scope Scope) (map[uint64]store.Survey, map[uint64]*surveyAgg, error) {
	fb, err := feedbackSurveys(ctx, db, sessionIDs)
	if err != nil {
		return nil, nil, err
	}
	svIDs := make([]uint64, 0, len(fb))
	for _, sv := range fb {
		svIDs = append(svIDs, sv.ID)
	}
	aggs, err := aggregateSurveys(ctx, db, svIDs, scope)
	if err != nil {
		return nil, nil, err
	}
	return fb, aggs, nil
}

// feedbackSurveys returns the first feedback survey of each session.
func feedbackSurveys(ctx context.Context, db *gorm.DB, sessionIDs []uint64) (map[uint64]store.Survey, error) {
	out := map[uint64]store.Survey{}
	if len(sessionIDs) == 0 {
		return out, nil
	}
	var svs []store.Survey
	if err := db.WithContext(ctx).Where("session_id IN ? AND kind = ?", sessionIDs, store.SurveyFeedback).Order("id").Find(&svs).Error; err != nil {
		return nil, fmt.Errorf("reports: load feedback surveys: %w", err)
	}
	for _, sv := range svs {
		if _, ok := out[sv.SessionID]; !ok {
			out[sv.SessionID] = sv
		}
	}
	return out, nil
}
