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
// difference p2 − p1 with its 95% confidence interval and the two-sided
// p-value of the test of equal proportions. Proportions are fractions
// (0–1). With every cell (successes and failures of each group) at 5 or
// more, Method is MethodNormal: the normal-approximation interval
// (unpooled standard error) and the two-proportion z-test (pooled standard
// error). With a cell under 5 the normal approximation does not hold and
// Method is MethodExact: Newcombe's hybrid score interval (from the two
// Wilson intervals) and Fisher's exact test (two-sided, tables no more
// likely than the observed one).
type Comparison struct {
	X1, N1, X2, N2 int
	P1, P2         float64
	Diff           float64
	// CILow and CIHigh bound the 95% interval of Diff.
	CILow, CIHigh float64
	// Method is MethodNormal or MethodExact.
	Method string
	// Z is the pooled z statistic, nil when it is undefined (both groups
	// at 0% or at 100%: no variation). P is the p-value: the z-test's, or
	// Fisher's with MethodExact (defined then even without variation); nil
	// when a normal test is undefined.
	Z *float64
	P *float64
}

// Methods of a Comparison.
const (
	// MethodNormal is the normal approximation: Wald interval, z-test.
	MethodNormal = "normal"
	// MethodExact is for small cells: Newcombe–Wilson interval, Fisher's
	// exact test.
	MethodExact = "exact"
)

// MinNormalCell is the smallest cell count (successes or failures of a
// group) for which the normal approximation is used.
const MinNormalCell = 5

// z95 is the two-sided 95% normal quantile.
const z95 = 1.959963984540054

// Compare computes the Comparison of x2/n2 against x1/n1. It returns false
// when either group is empty.
func Compare(x1, n1, x2, n2 int) (Comparison, bool) {
	c := Comparison{X1: x1, N1: n1, X2: x2, N2: n2, Method: MethodNormal}
	if n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2 {
		return c, false
	}
	fn1, fn2 := float64(n1), float64(n2)
	c.P1, c.P2 = float64(x1)/fn1, float64(x2)/fn2
	c.Diff = c.P2 - c.P1
	pool := float64(x1+x2) / (fn1 + fn2)
	sp := math.Sqrt(pool * (1 - pool) * (1/fn1 + 1/fn2))
	if sp > 0 {
		z := c.Diff / sp
		c.Z = &z
	}
	if min(x1, n1-x1, x2, n2-x2) < MinNormalCell {
		c.Method = MethodExact
		l1, u1 := Wilson(x1, n1)
		l2, u2 := Wilson(x2, n2)
		c.CILow = c.Diff - math.Sqrt((c.P2-l2)*(c.P2-l2)+(u1-c.P1)*(u1-c.P1))
		c.CIHigh = c.Diff + math.Sqrt((u2-c.P2)*(u2-c.P2)+(c.P1-l1)*(c.P1-l1))
		p := Fisher(x1, n1, x2, n2)
		c.P = &p
		return c, true
	}
	se := math.Sqrt(c.P1*(1-c.P1)/fn1 + c.P2*(1-c.P2)/fn2)
	c.CILow, c.CIHigh = c.Diff-z95*se, c.Diff+z95*se
	if c.Z != nil {
		p := math.Erfc(math.Abs(*c.Z) / math.Sqrt2)
		c.P = &p
	}
	return c, true
}

// Wilson is the 95% Wilson score interval of the proportion x/n (n > 0).
func Wilson(x, n int) (lo, hi float64) {
	fn := float64(n)
	p := float64(x) / fn
	z2 := z95 * z95
	den := 1 + z2/fn
	center := (p + z2/(2*fn)) / den
	half := z95 * math.Sqrt(p*(1-p)/fn+z2/(4*fn*fn)) / den
	return max(0, center-half), min(1, center+half)
}

// Fisher is the two-sided p-value of Fisher's exact test of x1/n1 against
// x2/n2: the probability, with the margins fixed, of the tables no more
// likely than the observed one.
func Fisher(x1, n1, x2, n2 int) float64 {
	k, n := x1+x2, n1+n2
	logp := func(a int) float64 { // hypergeometric log P(X1 = a)
		return logChoose(n1, a) + logChoose(n2, k-a) - logChoose(n, k)
	}
	obs := logp(x1)
	total := 0.0
	for a := max(0, k-n2); a <= min(k, n1); a++ {
		if lp := logp(a); lp <= obs+1e-7 {
			total += math.Exp(lp)
		}
	}
	return min(total, 1)
}

func logChoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// DefaultMinSample is the people each variant of an experiment — a
// campaign's or a class touchpoint's — must have been delivered to before
// its comparison is shown (数据不足 until then): the one default, which the
// configuration's experiments.min_sample replaces and a campaign may set
// for itself before it starts.
const DefaultMinSample = 100

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
	// Method is how the interval and p were computed: normal, or exact
	// when a cell is under 5 (Comparison).
	Method string `json:"method"`
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
				Diff: Round(100*cmp.Diff, 2), CILow: Round(100*cmp.CILow, 2), CIHigh: Round(100*cmp.CIHigh, 2), Method: cmp.Method}
			if cmp.Z != nil {
				z := Round(*cmp.Z, 3)
				r.Z = &z
			}
			if cmp.P != nil {
				p := Round(*cmp.P, 4)
				r.P, r.Significant = &p, *cmp.P < 0.05
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
