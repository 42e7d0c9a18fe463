// Package experiment is the one statistics implementation of A/B tests
// (campaign variants and class touchpoint variants): the two-proportion
// comparison and an experiment's result — each variant against the first
// (the control) with its difference, 95% interval and p-value, "数据不足"
// until every variant has reached the minimum sample, and the warning
// against stopping early.
package experiment

import (
	"math"

	"github.com/learnloop/learnloop/text"
)

// Comparison compares a variant's proportion with the control's: the
// difference p2 − p1 with its 95% confidence interval (normal approximation,
// unpooled standard error) and the two-sided p-value of the two-proportion
// z-test (pooled standard error). Proportions are fractions (0–1).
type Comparison struct {
	X1, N1, X2, N2 int
	P1, P2         float64
	Diff           float64
	// CILow and CIHigh bound the 95% interval of Diff.
	CILow, CIHigh float64
	// Z and P are nil when the test is undefined: an empty group, or both
	// groups at 0% or at 100% (no variation to test).
	Z *float64
	P *float64
}

// z95 is the two-sided 95% normal quantile.
const z95 = 1.959963984540054

// Compare computes the Comparison of x2/n2 against x1/n1. It returns false
// when either group is empty.
func Compare(x1, n1, x2, n2 int) (Comparison, bool) {
	c := Comparison{X1: x1, N1: n1, X2: x2, N2: n2}
	if n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2 {
		return c, false
	}
	fn1, fn2 := float64(n1), float64(n2)
	c.P1, c.P2 = float64(x1)/fn1, float64(x2)/fn2
	c.Diff = c.P2 - c.P1
	se := math.Sqrt(c.P1*(1-c.P1)/fn1 + c.P2*(1-c.P2)/fn2)
	c.CILow, c.CIHigh = c.Diff-z95*se, c.Diff+z95*se
	pool := float64(x1+x2) / (fn1 + fn2)
	sp := math.Sqrt(pool * (1 - pool) * (1/fn1 + 1/fn2))
	if sp > 0 {
		z := c.Diff / sp
		p := math.Erfc(math.Abs(z) / math.Sqrt2)
		c.Z, c.P = &z, &p
	}
	return c, true
}

// Result compares each variant with the first (the control).
type Result struct {
	Control   string `json:"control"`
	MinSample int    `json:"min_sample"`
	// Enough is set once every variant has reached MinSample; until then
	// Status says 数据不足 and Comparisons is empty.
	Enough      bool   `json:"enough"`
	Status      string `json:"status"`
	Warning     string `json:"warning"`
	Comparisons []Row  `json:"comparisons"`
}

// Row is one variant against the control on one metric, in percentage
// points.
type Row struct {
	Variant string   `json:"variant"`
	Metric  string   `json:"metric"`
	X1      int      `json:"control_x"`
	N1      int      `json:"control_n"`
	X2      int      `json:"variant_x"`
	N2      int      `json:"variant_n"`
	Diff    float64  `json:"diff_points"`
	CILow   float64  `json:"ci95_low_points"`
	CIHigh  float64  `json:"ci95_high_points"`
	Z       *float64 `json:"z"`
	P       *float64 `json:"p_value"`
	// Significant is set when p < 0.05.
	Significant bool `json:"significant"`
}

// Arm is one variant's n and its successes on each metric of an
// evaluation (in the order of Evaluate's metrics).
type Arm struct {
	Name string
	N    int
	X    []int
}

// Evaluate compares every arm after the first with the first on each
// metric. Until the smallest arm has minSample people, the result says so
// (数据不足) and holds no comparison. Status and Warning are "zh-CN | en".
func Evaluate(minSample int, metrics []string, arms []Arm) *Result {
	if len(arms) == 0 {
		return nil
	}
	e := &Result{Control: arms[0].Name, MinSample: minSample, Warning: text.M("experiment:warning").Bilingual(), Comparisons: []Row{}}
	smallest := math.MaxInt
	for _, a := range arms {
		smallest = min(smallest, a.N)
	}
	if smallest < minSample {
		e.Status = text.M("experiment:not_enough", minSample, smallest).Bilingual()
		return e
	}
	e.Enough = true
	e.Status = text.M("experiment:enough").Bilingual()
	ctl := arms[0]
	for _, a := range arms[1:] {
		for i, m := range metrics {
			if i >= len(ctl.X) || i >= len(a.X) {
				break
			}
			cmp, ok := Compare(ctl.X[i], ctl.N, a.X[i], a.N)
			if !ok {
				continue
			}
			r := Row{Variant: a.Name, Metric: m, X1: cmp.X1, N1: cmp.N1, X2: cmp.X2, N2: cmp.N2,
				Diff: Round(100*cmp.Diff, 2), CILow: Round(100*cmp.CILow, 2), CIHigh: Round(100*cmp.CIHigh, 2)}
			if cmp.Z != nil {
				z, p := Round(*cmp.Z, 3), Round(*cmp.P, 4)
				r.Z, r.P, r.Significant = &z, &p, *cmp.P < 0.05
			}
			e.Comparisons = append(e.Comparisons, r)
		}
	}
	return e
}

// Round rounds x to digits decimals.
func Round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
