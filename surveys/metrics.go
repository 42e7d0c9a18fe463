package surveys

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// z95 is the two-sided 95% normal quantile used by every margin of error.
const z95 = 1.96

// Metric definitions shown beside every figure (domain.md, "Metric
// definitions").
const (
	npsDefinitionZH = "净推荐值（NPS）：回答为 0–10 的整数，9–10 分为推荐者，7–8 分为中立者，0–6 分为贬损者。" +
		"公式：NPS = 100 × (推荐者 − 贬损者) ÷ n，n = 有效回答数；取值 −100 到 +100，是数值而非百分比。" +
		"误差范围（95%）：se = √((p推荐 + p贬损 − (p推荐 − p贬损)²) ÷ n)，MOE = 1.96 × se × 100（分）"
	npsDefinitionEN = "Net Promoter Score (NPS): answers are integers 0–10; promoters 9–10, passives 7–8, detractors 0–6. " +
		"Formula: NPS = 100 × (promoters − detractors) ÷ n, n = valid answers; ranges from −100 to +100 and is a number, not a percentage. " +
		"Margin of error (95%): se = √((p_pro + p_det − (p_pro − p_det)²) ÷ n), MOE = 1.96 × se × 100 (points)"

	ratingDefinitionZH = "满意度（5 分制，1–5 的整数）：均值 = 各回答分数之和 ÷ n；满意率（Top-2-box / CSAT）= 100 × 4 分或 5 分的回答数 ÷ n；" +
		"n = 回答了该题的人数，跳过的不计入分母。满意率误差范围（95%，正态近似）：1.96 × √(p × (1 − p) ÷ n) × 100（百分点）"
	ratingDefinitionEN = "Satisfaction (5-point scale, integers 1–5): mean = sum of answers ÷ n; top-2-box (CSAT) = 100 × answers of 4 or 5 ÷ n; " +
		"n = people who answered the question, skipped ones are not in the denominator. " +
		"Top-2-box margin of error (95%, normal approximation): 1.96 × √(p × (1 − p) ÷ n) × 100 (percentage points)"

	responseRateDefinitionZH = "回复率 = 100 × 完整回复数 ÷ 应答人数（问卷已送达的在职员工数）；部分回复单独统计，不计入回复率：" +
		"部分回复率 = 100 × 部分回复数 ÷ 应答人数。应答人数为 0 时不计算"
	responseRateDefinitionEN = "Response rate = 100 × complete responses ÷ eligible (active employees the survey was delivered to); " +
		"partial responses are counted apart, never in the response rate: partial rate = 100 × partial responses ÷ eligible. " +
		"Not computed when eligible is 0"

	changeDefinitionZH = "行为改变（回溯式前后测）：直线经理为每位学员评“培训前”和“现在”的行为频率（1 = 从不，2 = 很少，3 = 有时，4 = 经常，5 = 总是）。" +
		"培训前均值、现在均值 = 评分之和 ÷ n；平均变化 = Σ(现在 − 培训前) ÷ n；改善比例 = 100 × (现在 > 培训前) 的学员数 ÷ n；" +
		"变差比例 = 100 × (现在 < 培训前) 的学员数 ÷ n；n = 两项都已回答的学员数"
	changeDefinitionEN = "Behaviour change (retrospective then-test): the direct manager rates how often each attendee showed the behaviour before the training and now " +
		"(1 = never, 2 = rarely, 3 = sometimes, 4 = often, 5 = always). Mean before, mean now = sum of ratings ÷ n; mean change = Σ(now − before) ÷ n; " +
		"share improved = 100 × attendees with now > before ÷ n; share worse = 100 × attendees with now < before ÷ n; n = attendees with both answers"

	scaleDefinitionZH = "总体变化（−3 到 +3 的整数，−3 = 明显变差，0 = 没有变化，+3 = 明显改善）：均值 = 各回答之和 ÷ n，n = 回答了该题的人数；分布为每个分值的回答数"
	scaleDefinitionEN = "Overall change (integers −3 to +3, −3 = much worse, 0 = no change, +3 = much better): mean = sum of answers ÷ n, " +
		"n = people who answered the question; the distribution counts the answers per value"
)

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
	// Caveat is set when 0 < N < SmallN: the margin is unreliable.
	Caveat       string `json:"caveat,omitempty"`
	Definition   string `json:"definition"` // zh-CN
	DefinitionEN string `json:"definition_en"`
}

// NPS computes the Net Promoter Score of scores. Every score must be an
// integer 0–10; the first one that is not makes NPS return an error naming
// its (0-based) index. No scores give N = 0, nil figures and no error.
func NPS(scores []float64) (NPSResult, error) {
	r := NPSResult{Definition: npsDefinitionZH, DefinitionEN: npsDefinitionEN}
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
	// Caveat is set when 0 < N < SmallN: the margin is unreliable.
	Caveat       string `json:"caveat,omitempty"`
	Definition   string `json:"definition"` // zh-CN
	DefinitionEN string `json:"definition_en"`
}

// Ratings summarises 5-point ratings. Every value must be an integer 1–5;
// the first one that is not makes Ratings return an error naming its
// (0-based) index. No values give N = 0, nil figures and no error.
func Ratings(values []float64) (RatingResult, error) {
	r := RatingResult{Definition: ratingDefinitionZH, DefinitionEN: ratingDefinitionEN}
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
	PartialRate  *float64 `json:"partial_rate"`
	Definition   string   `json:"definition"` // zh-CN
	DefinitionEN string   `json:"definition_en"`
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
		Definition: responseRateDefinitionZH, DefinitionEN: responseRateDefinitionEN,
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
	ShareWorse   *float64 `json:"share_worse"`
	Definition   string   `json:"definition"` // zh-CN
	DefinitionEN string   `json:"definition_en"`
}

// BehaviourChange summarises before/now pairs. Both values of every pair
// must be integers 1–5; the first pair that is not makes BehaviourChange
// return an error naming its (0-based) index. No pairs give N = 0, nil
// figures and no error.
func BehaviourChange(pairs []Pair) (ChangeResult, error) {
	r := ChangeResult{Definition: changeDefinitionZH, DefinitionEN: changeDefinitionEN}
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
	Definition   string      `json:"definition"` // zh-CN
	DefinitionEN string      `json:"definition_en"`
}

// ChangeScale summarises −3..+3 answers. Every value must be an integer
// −3..+3; the first one that is not makes ChangeScale return an error naming
// its (0-based) index. No values give N = 0, a nil mean and no error.
func ChangeScale(values []float64) (ScaleResult, error) {
	r := ScaleResult{Distribution: make(map[int]int, 7), Definition: scaleDefinitionZH, DefinitionEN: scaleDefinitionEN}
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

// smallNCaveat is the caveat beside a margin of error when 0 < n < SmallN.
const smallNCaveat = "n < 10：误差范围基于正态近似，样本过小时不可靠，仅供参考 | n < 10: the margin of error uses a normal approximation that is unreliable for so few answers; treat it as indicative only"

// Caveat is the small-sample caveat for a figure of n answers, or "" when
// n is 0 (no figure) or at least SmallN.
func Caveat(n int) string {
	if n > 0 && n < SmallN {
		return smallNCaveat
	}
	return ""
}

// isIntIn reports whether v is an integer in lo..hi (NaN and ±Inf are not).
func isIntIn(v float64, lo, hi int) bool {
	return v == math.Trunc(v) && v >= float64(lo) && v <= float64(hi)
}
