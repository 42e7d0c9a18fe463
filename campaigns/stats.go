package campaigns

import "math"

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
