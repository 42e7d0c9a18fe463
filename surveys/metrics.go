package surveys

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/learnloop/learnloop/text"
)

// z95 is the two-sided 95% normal quantile used by every margin of error.
const z95 = 1.96

// The metric definitions shown beside every figure (domain.md, "Metric
// definitions") are the catalogue's surveys:metric.* texts; each result
// carries its key, and its JSON gives the definition in both languages
// (definition, definition_en), as the API documents.
const (
	npsDefinition          = "surveys:metric.nps"
	ratingDefinition       = "surveys:metric.rating"
	responseRateDefinition = "surveys:metric.response_rate"
	changeDefinition       = "surveys:metric.change"
	scaleDefinition        = "surveys:metric.scale"
)

// definitions is the JSON of a result's definition.
type definitions struct {
	Definition   string `json:"definition"`    // zh-CN
	DefinitionEN string `json:"definition_en"` // en
}

func definitionsOf(m text.Message) definitions {
	return definitions{Definition: m.In(text.ZH), DefinitionEN: m.In(text.EN)}
}

// NPSResult is the Net Promoter Score of a set of 0–10 answers.
type NPSResult struct {
	N          int `json:"n"`          // valid answers
	Promoters  int `json:"promoters"`  // 9–10
	Passives   int `json:"passives"`   // 7–8
	Detractors int `json:"detractors"` // 0–6
	// Score is 100 × (promoters − detractors) / N in −100..+100, full
	// precision (round for display with Round1); nil when N = 0.
	Score *float64 `json:"score"`
	// MOE is the 95% margin of error in points: 1.96 × sqrt((pPro + pDet −
	// (pPro − pDet)²)/N) × 100; nil when N = 0.
	MOE *float64 `json:"moe"`
	// Caveat is set when 0 < N < SmallN: the margin is unreliable (its
	// JSON: caveat, "zh-CN | en").
	Caveat text.Message `json:"-"`
	// Definition is the metric's definition (its JSON: definition and
	// definition_en).
	Definition text.Message `json:"-"`
}

// NPS computes the Net Promoter Score of scores. Every score must be an
// integer 0–10; the first one that is not makes NPS return an error naming
// its (0-based) index. No scores give N = 0, nil figures and no error.
func NPS(scores []float64) (NPSResult, error) {
	r := NPSResult{Definition: text.M(npsDefinition)}
	for i, s := range scores {
		if !isIntIn(s, 0, 10) {
			return NPSResult{}, fmt.Errorf("surveys: nps: score at index %d is %v: want an integer from 0 to 10", i, s)
		}
		switch {
		case s >= 9:
			r.Promoters++
		case s >= 7:
			r.Passives++
		default:
			r.Detractors++
		}
	}
	r.N = len(scores)
	if r.N == 0 {
		return r, nil
	}
	n := float64(r.N)
	pPro, pDet := float64(r.Promoters)/n, float64(r.Detractors)/n
	score := 100 * float64(r.Promoters-r.Detractors) / n
	d := pPro - pDet
	variance := math.Max(0, pPro+pDet-d*d)
	moe := z95 * math.Sqrt(variance/n) * 100
	r.Score, r.MOE = &score, &moe
	r.Caveat = Caveat(r.N)
	return r, nil
}

// RatingResult summarises 5-point ratings (CSAT).
type RatingResult struct {
	N    int      `json:"n"`    // answers (skipped questions are not counted)
	Mean *float64 `json:"mean"` // 1–5; nil when N = 0
	// Top2Box is 100 × count(4 or 5) / N; nil when N = 0.
	Top2Box *float64 `json:"top2_box"`
	// Top2BoxMOE is the 95% normal-approximation margin of error of Top2Box
	// in percentage points (see ProportionMOE); nil when N = 0.
	Top2BoxMOE *float64 `json:"top2_box_moe"`
	// Distribution counts the answers per value: Distribution[0] is the
	// number of 1s, …, Distribution[4] the number of 5s.
	Distribution [5]int `json:"distribution"`
	// Caveat is set when 0 < N < SmallN: the margin is unreliable (its
	// JSON: caveat, "zh-CN | en").
	Caveat text.Message `json:"-"`
	// Definition is the metric's definition (its JSON: definition and
	// definition_en).
	Definition text.Message `json:"-"`
}

// Ratings summarises 5-point ratings. Every value must be an integer 1–5;
// the first one that is not makes Ratings return an error naming its
// (0-based) index. No values give N = 0, nil figures and no error.
func Ratings(values []float64) (RatingResult, error) {
	r := RatingResult{Definition: text.M(ratingDefinition)}
	sum := 0
	for i, v := range values {
		if !isIntIn(v, 1, 5) {
			return RatingResult{}, fmt.Errorf("surveys: ratings: value at index %d is %v: want an integer from 1 to 5", i, v)
		}
		r.Distribution[int(v)-1]++
		sum += int(v)
	}
	r.N = len(values)
	if r.N == 0 {
		return r, nil
	}
	top := r.Distribution[3] + r.Distribution[4]
	mean := float64(sum) / float64(r.N)
	t2b := 100 * float64(top) / float64(r.N)
	r.Mean, r.Top2Box, r.Top2BoxMOE = &mean, &t2b, ProportionMOE(top, r.N)
	r.Caveat = Caveat(r.N)
	return r, nil
}

// ProportionMOE returns the 95% normal-approximation margin of error of the
// proportion successes/n in percentage points: 1.96 × sqrt(p(1 − p)/n) × 100.
// It returns nil when n ≤ 0 or successes is outside 0..n.
func ProportionMOE(successes, n int) *float64 {
	if n <= 0 || successes < 0 || successes > n {
		return nil
	}
	p := float64(successes) / float64(n)
	moe := z95 * math.Sqrt(p*(1-p)/float64(n)) * 100
	return &moe
}

// ResponseRateResult is the response rate of a survey, with partial
// responses counted apart.
type ResponseRateResult struct {
	Eligible int `json:"eligible"` // delivered to an active employee (the n)
	Complete int `json:"complete"`
	Partial  int `json:"partial"`
	// Rate is 100 × Complete / Eligible; nil when Eligible = 0.
	Rate *float64 `json:"rate"`
	// PartialRate is 100 × Partial / Eligible; nil when Eligible = 0.
	PartialRate *float64 `json:"partial_rate"`
	// Definition is the metric's definition (its JSON: definition and
	// definition_en).
	Definition text.Message `json:"-"`
}

// ResponseRate computes the response rate = complete / eligible and, apart,
// the partial rate = partial / eligible. A negative count, or complete +
// partial > eligible, is an error.
func ResponseRate(complete, partial, eligible int) (ResponseRateResult, error) {
	if complete < 0 || partial < 0 || eligible < 0 {
		return ResponseRateResult{}, fmt.Errorf("surveys: response rate: negative count (complete %d, partial %d, eligible %d)", complete, partial, eligible)
	}
	if complete+partial > eligible {
		return ResponseRateResult{}, fmt.Errorf("surveys: response rate: complete %d + partial %d exceed eligible %d", complete, partial, eligible)
	}
	r := ResponseRateResult{
		Eligible: eligible, Complete: complete, Partial: partial,
		Definition: text.M(responseRateDefinition),
	}
	if eligible == 0 {
		return r, nil
	}
	rate := 100 * float64(complete) / float64(eligible)
	partialRate := 100 * float64(partial) / float64(eligible)
	r.Rate, r.PartialRate = &rate, &partialRate
	return r, nil
}

// Pair is one attendee's retrospective answers for one behaviour, on the
// 1–5 frequency scale (Never … Always).
type Pair struct {
	Before float64 `json:"before"`
	Now    float64 `json:"now"`
}

// ChangeResult summarises retrospective before/now pairs for one behaviour.
type ChangeResult struct {
	N          int      `json:"n"`           // pairs (attendees with both answers)
	MeanBefore *float64 `json:"mean_before"` // nil when N = 0, as every figure below
	MeanNow    *float64 `json:"mean_now"`
	MeanDelta  *float64 `json:"mean_delta"` // mean of (now − before)
	// ShareImproved is 100 × count(now > before) / N.
	ShareImproved *float64 `json:"share_improved"`
	// ShareWorse is 100 × count(now < before) / N.
	ShareWorse *float64 `json:"share_worse"`
	// Definition is the metric's definition (its JSON: definition and
	// definition_en).
	Definition text.Message `json:"-"`
}

// BehaviourChange summarises before/now pairs. Both values of every pair
// must be integers 1–5; the first pair that is not makes BehaviourChange
// return an error naming its (0-based) index. No pairs give N = 0, nil
// figures and no error.
func BehaviourChange(pairs []Pair) (ChangeResult, error) {
	r := ChangeResult{Definition: text.M(changeDefinition)}
	var sumBefore, sumNow, improved, worse int
	for i, p := range pairs {
		if !isIntIn(p.Before, 1, 5) {
			return ChangeResult{}, fmt.Errorf("surveys: behaviour change: before value of the pair at index %d is %v: want an integer from 1 to 5", i, p.Before)
		}
		if !isIntIn(p.Now, 1, 5) {
			return ChangeResult{}, fmt.Errorf("surveys: behaviour change: now value of the pair at index %d is %v: want an integer from 1 to 5", i, p.Now)
		}
		sumBefore += int(p.Before)
		sumNow += int(p.Now)
		switch {
		case p.Now > p.Before:
			improved++
		case p.Now < p.Before:
			worse++
		}
	}
	r.N = len(pairs)
	if r.N == 0 {
		return r, nil
	}
	n := float64(r.N)
	before, now := float64(sumBefore)/n, float64(sumNow)/n
	delta := float64(sumNow-sumBefore) / n
	up, down := 100*float64(improved)/n, 100*float64(worse)/n
	r.MeanBefore, r.MeanNow, r.MeanDelta, r.ShareImproved, r.ShareWorse = &before, &now, &delta, &up, &down
	return r, nil
}

// ScaleResult summarises answers on the −3..+3 perceived-change scale.
type ScaleResult struct {
	N    int      `json:"n"`
	Mean *float64 `json:"mean"` // nil when N = 0
	// Distribution counts the answers per value; it always has the seven
	// keys −3..+3, zero counts included.
	Distribution map[int]int `json:"distribution"`
	// Definition is the metric's definition (its JSON: definition and
	// definition_en).
	Definition text.Message `json:"-"`
}

// ChangeScale summarises −3..+3 answers. Every value must be an integer
// −3..+3; the first one that is not makes ChangeScale return an error naming
// its (0-based) index. No values give N = 0, a nil mean and no error.
func ChangeScale(values []float64) (ScaleResult, error) {
	r := ScaleResult{Distribution: make(map[int]int, 7), Definition: text.M(scaleDefinition)}
	for v := -3; v <= 3; v++ {
		r.Distribution[v] = 0
	}
	sum := 0
	for i, v := range values {
		if !isIntIn(v, -3, 3) {
			return ScaleResult{}, fmt.Errorf("surveys: change scale: value at index %d is %v: want an integer from -3 to 3", i, v)
		}
		r.Distribution[int(v)]++
		sum += int(v)
	}
	r.N = len(values)
	if r.N == 0 {
		return r, nil
	}
	mean := float64(sum) / float64(r.N)
	r.Mean = &mean
	return r, nil
}

// Round1 rounds x to one decimal place, halves away from zero (for display;
// the results keep full precision). It is Round(x, 1).
func Round1(x float64) float64 { return Round(x, 1) }

// Round rounds x to digits decimal places, halves away from zero, on the
// decimal value x prints as (so 4.495 → 4.50 and −0.995 → −1.00, which
// math.Round(x*100)/100 gets wrong because 4.495×100 is 449.49999…). It is
// the one rounding rule of every figure shown or exported.
func Round(x float64, digits int) float64 {
	v, err := strconv.ParseFloat(FormatFixed(x, digits), 64)
	if err != nil {
		return x
	}
	return v
}

// FormatFixed formats x with exactly digits decimals, rounded as Round does;
// a result that rounds to zero has no minus sign. NaN and ±Inf are printed
// as strconv does.
func FormatFixed(x float64, digits int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return strconv.FormatFloat(x, 'f', digits, 64)
	}
	if digits < 0 {
		digits = 0
	}
	s := strconv.FormatFloat(math.Abs(x), 'f', -1, 64) // shortest decimal that reads back as x
	intPart, frac, _ := strings.Cut(s, ".")
	if len(frac) <= digits {
		frac += strings.Repeat("0", digits-len(frac))
	} else {
		up := frac[digits] >= '5'
		frac = frac[:digits]
		if up {
			// Add one unit in the last kept place, carrying left.
			b := []byte(intPart + frac)
			i := len(b) - 1
			for ; i >= 0; i-- {
				if b[i] == '9' {
					b[i] = '0'
					continue
				}
				b[i]++
				break
			}
			if i < 0 {
				b = append([]byte{'1'}, b...)
			}
			intPart, frac = string(b[:len(b)-digits]), string(b[len(b)-digits:])
		}
	}
	out := intPart
	if digits > 0 {
		out += "." + frac
	}
	if x < 0 && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out
}

// SmallN is the sample size below which a margin of error is shown with a
// caveat: the normal approximation behind it is unreliable.
const SmallN = 10

// Caveat is the small-sample caveat for a figure of n answers, or none
// (the zero message) when n is 0 (no figure) or at least SmallN.
func Caveat(n int) text.Message {
	if n > 0 && n < SmallN {
		return text.M("surveys:caveat.small_n", SmallN)
	}
	return text.Message{}
}

// isIntIn reports whether v is an integer in lo..hi (NaN and ±Inf are not).
func isIntIn(v float64, lo, hi int) bool {
	return v == math.Trunc(v) && v >= float64(lo) && v <= float64(hi)
}

// MarshalJSON gives the result with its definition and caveat in both
// languages.
func (r NPSResult) MarshalJSON() ([]byte, error) {
	type plain NPSResult
	return json.Marshal(struct {
		plain
		definitions
		Caveat string `json:"caveat,omitempty"`
	}{plain(r), definitionsOf(r.Definition), r.Caveat.Bilingual()})
}

// MarshalJSON gives the result with its definition and caveat in both
// languages.
func (r RatingResult) MarshalJSON() ([]byte, error) {
	type plain RatingResult
	return json.Marshal(struct {
		plain
		definitions
		Caveat string `json:"caveat,omitempty"`
	}{plain(r), definitionsOf(r.Definition), r.Caveat.Bilingual()})
}

// MarshalJSON gives the result with its definition in both languages.
func (r ResponseRateResult) MarshalJSON() ([]byte, error) {
	type plain ResponseRateResult
	return json.Marshal(struct {
		plain
		definitions
	}{plain(r), definitionsOf(r.Definition)})
}

// MarshalJSON gives the result with its definition in both languages.
func (r ChangeResult) MarshalJSON() ([]byte, error) {
	type plain ChangeResult
	return json.Marshal(struct {
		plain
		definitions
	}{plain(r), definitionsOf(r.Definition)})
}

// MarshalJSON gives the result with its definition in both languages.
func (r ScaleResult) MarshalJSON() ([]byte, error) {
	type plain ScaleResult
	return json.Marshal(struct {
		plain
		definitions
	}{plain(r), definitionsOf(r.Definition)})
}
