package bench

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// rounds is LEARNLOOP_BENCH_ROUNDS (default 3): how many times each
// benchmark runs its baseline and its product measurement, interleaved.
func rounds() int { return envInt("LEARNLOOP_BENCH_ROUNDS", 3) }

// comparison names one benchmark's baseline and product measurements.
type comparison struct {
	// Title is printed above the summary ("check-in storm, 10000 taps, 100 clients").
	Title string
	// Unit is what both measurements are in ("/s", "s", "ms").
	Unit string
	// Base and Prod label the two measurements in the printout.
	Base, Prod string
	// BaseMetric and ProdMetric are the b.ReportMetric units of their
	// medians ("raw_inserts/s", "checkins/s").
	BaseMetric, ProdMetric string
	// Target states the design's target for the ratio prod/base.
	Target string
}

// outcome is what interleave measured, one value per round.
type outcome struct {
	Base, Prod, Ratio []float64
}

// interleave runs base and product alternately (base, product, base,
// product, …) for rounds() rounds, each call on fresh state the callbacks
// prepare themselves, and prints the min/median/max of each measurement
// and of the per-round ratio prod/base. It reports the medians as metrics,
// the ratio's as "ratio". Each callback returns its measurement in c.Unit
// and times only the part it measures.
func interleave(b *testing.B, c comparison, base, prod func(round int) float64) outcome {
	b.Helper()
	n := rounds()
	var o outcome
	for r := range n {
		bv := base(r)
		pv := prod(r)
		if bv <= 0 || pv <= 0 {
			b.Fatalf("%s: round %d measured base %v, product %v: both must be positive", c.Title, r, bv, pv)
		}
		o.Base, o.Prod, o.Ratio = append(o.Base, bv), append(o.Prod, pv), append(o.Ratio, pv/bv)
	}
	fmt.Printf("%s — %d rounds, interleaved\n", c.Title, n)
	pairs := make([]string, n)
	for r := range n {
		pairs[r] = strings.TrimSpace(num(o.Base[r])) + " → " + strings.TrimSpace(num(o.Prod[r]))
	}
	fmt.Printf("  rounds (baseline → product, %s): %s\n", c.Unit, strings.Join(pairs, ", "))
	summary(b, c.Base+" ("+c.Unit+")", c.BaseMetric, o.Base)
	summary(b, c.Prod+" ("+c.Unit+")", c.ProdMetric, o.Prod)
	summary(b, "ratio product / baseline", "ratio", o.Ratio)
	if c.Target != "" {
		fmt.Printf("  target: %s\n", c.Target)
	}
	return o
}

// summary prints the min/median/max of one measurement over the rounds
// and, when metric is not empty, reports the median under that unit.
func summary(b *testing.B, label, metric string, xs []float64) {
	b.Helper()
	lo, med, hi := spread(xs)
	fmt.Printf("  %-44s min %s  median %s  max %s\n", label, num(lo), num(med), num(hi))
	if metric != "" {
		b.ReportMetric(med, metric)
	}
}

// spread returns the minimum, median and maximum of xs (the median of an
// even count is the mean of the middle two).
func spread(xs []float64) (lo, med, hi float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	med = s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[0], med, s[len(s)-1]
}

// num formats a measurement: an integer from 100 up, else three
// significant digits.
func num(v float64) string {
	if v >= 100 || v <= -100 {
		return fmt.Sprintf("%8.0f", v)
	}
	return fmt.Sprintf("%8.3g", v)
}

func TestSpread(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		xs          []float64
		lo, med, hi float64
	}{
		{"one", []float64{2}, 2, 2, 2},
		{"odd, unsorted", []float64{3, 1, 2}, 1, 2, 3},
		{"even: mean of the middle two", []float64{4, 1, 3, 2}, 1, 2.5, 4},
		{"empty", nil, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := slices.Clone(tc.xs)
			lo, med, hi := spread(tc.xs)
			require.Equal(t, []float64{tc.lo, tc.med, tc.hi}, []float64{lo, med, hi})
			require.Equal(t, in, tc.xs, "the rounds keep their order")
		})
	}
}
