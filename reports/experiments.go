package reports

import (
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/experiment"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// Outcomes of a class touchpoint experiment: what counts as a success.
const (
	// OutcomeCheckedIn: the recipient checked in to the session (a check-in
	// prompt, a make-up reminder).
	OutcomeCheckedIn = "checked_in"
	// OutcomeClickedOrCheckedIn: the recipient clicked a tracked link of
	// the card or checked in (a reminder, a custom notice).
	OutcomeClickedOrCheckedIn = "clicked_or_checked_in"
	// OutcomeResponded: the recipient completed the survey the card
	// pushes (a survey card).
	OutcomeResponded = "responded"
)

// OutcomeOf is the outcome a touchpoint's experiment is judged on.
func OutcomeOf(tp store.Touchpoint) string {
	switch {
	case tp.SurveyID != 0:
		return OutcomeResponded
	case tp.Kind == "checkin_prompt" || tp.Kind == "makeup_reminder":
		return OutcomeCheckedIn
	}
	return OutcomeClickedOrCheckedIn
}

// Experiment is one class touchpoint's A/B test: each variant's n
// delivered, its outcomes and rate, and the comparison of each with A.
type Experiment struct {
	TouchpointID uint64 `json:"touchpoint_id"`
	Kind         string `json:"kind"`
	// Outcome is what counts as a success (OutcomeCheckedIn, …);
	// Definition says it in words.
	Outcome    string       `json:"outcome"`
	Definition text.Message `json:"-"`
	// Anonymous is set for a survey card of an anonymous survey: who
	// completed it is not recorded, so no variant has outcomes or a rate
	// (n/a, never 0) and nothing is compared.
	Anonymous bool                `json:"anonymous"`
	Variants  []ExperimentVariant `json:"variants"`
	Result    *experiment.Result  `json:"result"`
}

// ExperimentVariant is one arm of a touchpoint experiment.
type ExperimentVariant struct {
	Name   string `json:"name"`
	Weight int    `json:"weight"`
	Title  string `json:"title,omitempty"`
	Body   string `json:"body,omitempty"`
	Button string `json:"button,omitempty"`
	// Timing is same, offset or best; RunAt the variant's planned time.
	Timing string     `json:"timing"`
	RunAt  *time.Time `json:"run_at,omitempty"`
	// Assigned counts the people recorded for the variant; Delivered those
	// with a sent delivery of the touchpoint (the rate's n); Outcomes those
	// of them with the outcome.
	// Outcomes and Rate's value are null for an anonymous survey (n/a).
	Assigned  int    `json:"assigned"`
	Delivered int    `json:"delivered"`
	Outcomes  *int   `json:"outcomes"`
	Rate      Figure `json:"rate"`
}

// loadExperiments reads the experiment of every touchpoint of session id
// that has variants, from the recorded assignments and stored facts only.
func (r *SessionReport) loadExperiments(tx *gorm.DB, id uint64, minSample int) error {
	r.Experiments = []Experiment{}
	var tps []store.Touchpoint
	if err := tx.Where("session_id = ? AND variants > 0", id).Order("run_at, id").Find(&tps).Error; err != nil {
		return fmt.Errorf("load touchpoints with variants: %w", err)
	}
	if len(tps) == 0 {
		return nil
	}
	checked := map[uint64]bool{}
	var ids []uint64
	if err := tx.Model(&store.Checkin{}).Where("session_id = ?", id).Pluck("employee_id", &ids).Error; err != nil {
		return fmt.Errorf("load check-ins: %w", err)
	}
	for _, e := range ids {
		checked[e] = true
	}
	for _, tp := range tps {
		e, err := loadExperiment(tx, tp, checked, minSample)
		if err != nil {
			return err
		}
		r.Experiments = append(r.Experiments, e)
	}
	return nil
}

func loadExperiment(tx *gorm.DB, tp store.Touchpoint, checked map[uint64]bool, minSample int) (Experiment, error) {
	e := Experiment{TouchpointID: tp.ID, Kind: tp.Kind, Outcome: OutcomeOf(tp), Variants: []ExperimentVariant{}}
	e.Definition = text.M("experiment:outcome."+e.Outcome, minSample)
	var vs []store.TouchpointVariant
	if err := tx.Where("touchpoint_id = ?", tp.ID).Order("name").Find(&vs).Error; err != nil {
		return e, fmt.Errorf("load variants: %w", err)
	}
	var as []store.TouchpointAssignment
	if err := tx.Where("touchpoint_id = ?", tp.ID).Find(&as).Error; err != nil {
		return e, fmt.Errorf("load assignments: %w", err)
	}
	var sent []uint64
	if err := tx.Model(&store.Delivery{}).Where("touchpoint_id = ? AND status = ?", tp.ID, store.DeliverySent).Distinct().Pluck("employee_id", &sent).Error; err != nil {
		return e, fmt.Errorf("load deliveries: %w", err)
	}
	success := map[uint64]bool{}
	if e.Outcome == OutcomeResponded {
		var sv store.Survey
		if err := tx.Select("id", "anonymous").Where("id = ?", tp.SurveyID).Limit(1).Find(&sv).Error; err != nil {
			return e, fmt.Errorf("load survey: %w", err)
		}
		e.Anonymous = sv.Anonymous
	}
	switch {
	case e.Anonymous:
		// Nobody's completion is recorded: no outcome to count.
	case e.Outcome == OutcomeResponded:
		var done []uint64
		if err := tx.Model(&store.SurveyParticipation{}).Where("survey_id = ? AND status = ?", tp.SurveyID, store.ResponseComplete).
			Distinct().Pluck("employee_id", &done).Error; err != nil {
			return e, fmt.Errorf("load responses: %w", err)
		}
		for _, id := range done {
			success[id] = true
		}
	case e.Outcome == OutcomeClickedOrCheckedIn:
		var clicked []uint64
		if err := tx.Model(&store.Click{}).Where("touchpoint_id = ? AND employee_id <> 0", tp.ID).Distinct().Pluck("employee_id", &clicked).Error; err != nil {
			return e, fmt.Errorf("load clicks: %w", err)
		}
		for _, id := range clicked {
			success[id] = true
		}
		fallthrough
	default:
		for id := range checked {
			success[id] = true
		}
	}
	delivered := make(map[uint64]bool, len(sent))
	for _, id := range sent {
		delivered[id] = true
	}
	idx := make(map[uint64]int, len(vs))
	for i, v := range vs {
		idx[v.ID] = i
		e.Variants = append(e.Variants, ExperimentVariant{Name: v.Name, Weight: v.Weight, Title: v.Title, Body: v.Body, Button: v.Button, Timing: v.Timing, RunAt: v.RunAt})
	}
	outcomes := make([]int, len(e.Variants))
	for _, a := range as {
		i, ok := idx[a.VariantID]
		if !ok {
			continue
		}
		ev := &e.Variants[i]
		ev.Assigned++
		if delivered[a.EmployeeID] {
			ev.Delivered++
			if success[a.EmployeeID] {
				outcomes[i]++
			}
		}
	}
	arms := make([]experiment.Arm, len(e.Variants))
	for i := range e.Variants {
		ev := &e.Variants[i]
		if e.Anonymous {
			ev.Rate = Figure{N: ev.Delivered, Definition: e.Definition}
			arms[i] = experiment.Arm{Name: ev.Name, N: ev.Delivered}
			continue
		}
		n := outcomes[i]
		ev.Outcomes = &n
		ev.Rate = NewFigure(n, ev.Delivered, e.Definition)
		arms[i] = experiment.Arm{Name: ev.Name, N: ev.Delivered, X: []int{n}}
	}
	e.Result = experiment.Evaluate(minSample, []string{e.Outcome}, arms)
	if e.Anonymous && e.Result != nil {
		// No outcome to compare: say so instead of "enough" or 数据不足.
		e.Result.Enough, e.Result.Comparisons = false, []experiment.Row{}
		e.Result.Status = text.M("experiment:anonymous").Bilingual()
	}
	return e, nil
}

// Tables is the experiment in lang as tables (the one model every export
// and the console's results page render): each variant's copy, timing, n
// and rate, with the status, the warning and the outcome's definition as
// notes; then the comparisons with A once the minimum sample is reached.
// Times are in loc.
func (e Experiment) Tables(lang text.Locale, loc *time.Location) []Table {
	l := func(k string, args ...any) string { return text.T(lang, "experiment:label."+k, args...) }
	vt := Table{Name: l("title", e.TouchpointID, text.T(lang, "experiment:outcome_name."+e.Outcome)),
		Header: []string{l("variant"), l("copy"), l("timing"), l("run_at"), l("assigned"), l("delivered"), l("outcomes"), l("rate")}}
	for _, v := range e.Variants {
		cp := strings.TrimSpace(strings.Join([]string{v.Title, v.Body, v.Button}, " · "))
		cp = strings.Trim(strings.ReplaceAll(cp, " ·  · ", " · "), " ·")
		run := Cell{}
		if v.RunAt != nil {
			run = Cell{V: v.RunAt.In(loc)}
		}
		outcomes, rate := Text(l("na_anonymous")), Text(l("na_anonymous"))
		if v.Outcomes != nil {
			outcomes, rate = Int(*v.Outcomes), Num(v.Rate.Value, 1)
		}
		vt.Rows = append(vt.Rows, []Cell{Text(v.Name), Text(cp), Text(text.T(lang, "experiment:timing."+v.Timing)), run,
			Int(v.Assigned), Int(v.Delivered), outcomes, rate})
	}
	if e.Result != nil {
		vt.Notes = append(vt.Notes, pick(lang, e.Result.Status), pick(lang, e.Result.Warning))
	}
	vt.Notes = append(vt.Notes, e.Definition.In(lang))
	out := []Table{vt}
	if e.Result == nil || len(e.Result.Comparisons) == 0 {
		return out
	}
	ct := Table{Name: l("comparisons", e.Result.Control),
		Header: []string{l("variant"), l("diff"), l("ci"), "z", "p", l("significant"), l("method")}}
	exact := false
	for _, c := range e.Result.Comparisons {
		exact = exact || c.Method == experiment.MethodExact
		diff, lo, hi := c.Diff, c.CILow, c.CIHigh
		sig := l("no")
		if c.Significant {
			sig = l("yes")
		}
		ct.Rows = append(ct.Rows, []Cell{Text(c.Variant), Num(&diff, 2), Text(fmt.Sprintf("[%.2f, %.2f]", lo, hi)), Num(c.Z, 3), Num(c.P, 4), Text(sig),
			Text(text.T(lang, "experiment:method."+c.Method))})
	}
	if exact {
		ct.Notes = append(ct.Notes, text.T(lang, "experiment:method_exact"))
	}
	return append(out, ct)
}

// pick is one side of a "zh-CN | en" text.
func pick(lang text.Locale, bilingual string) string {
	zh, en, ok := strings.Cut(bilingual, " | ")
	if !ok {
		return bilingual
	}
	if lang == text.EN {
		return en
	}
	return zh
}
