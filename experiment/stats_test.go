package experiment_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/experiment"
)

// TestCompareAgainstHandComputedValues: the difference, its 95% interval and
// the p-value against values worked out by hand. With every cell at 5 or
// more, the normal approximation (first row: p1 = .1, p2 = .2, pooled .15,
// se₀ = √(.15·.85·(2/100)) = .050498, z = .1/.050498 = 1.98030,
// p = erfc(z/√2) = .04767; se = √(.0009 + .0016) = .05, CI = .1 ± 1.95996·.05).
// With a cell under 5 (tiny samples, 0% and 100%), Newcombe's interval
// from the Wilson intervals, L = d − √((p2−l2)² + (u1−p1)²),
// U = d + √((u2−p2)² + (p1−l1)²), and Fisher's exact p (0/6 against 6/6:
// the two extreme tables, 2/C(12,6) = 2/924 = .0021645).
func TestCompareAgainstHandComputedValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		x1, n1, x2, n2     int
		method             string
		diff, lo, hi, z, p float64
		noZ                bool
	}{
		{10, 100, 20, 100, experiment.MethodNormal, 0.1, 0.0020018, 0.1979982, 1.9802951, 0.0476704, false},
		{50, 200, 40, 200, experiment.MethodNormal, -0.05, -0.1316978, 0.0316978, -1.1973687, 0.2311629, false},
		{1, 5, 3, 6, experiment.MethodExact, 0.3, -0.2270241, 0.6527125, 1.0299098, 0.5454545, false},
		{0, 10, 1, 10, experiment.MethodExact, 0.1, -0.1894284, 0.4041500, 1.0259784, 1, false},
		{2, 20, 9, 21, experiment.MethodExact, 0.3285714, 0.0561318, 0.5468007, 2.3735009, 0.0324654, false},
		{0, 6, 6, 6, experiment.MethodExact, 1, 0.4479840, 1, 3.4641016, 0.0021645, false},
		{3, 6, 3, 6, experiment.MethodExact, 0, -0.4417773, 0.4417773, 0, 1, false},
		// No variation: no z, but an interval and Fisher's p = 1.
		{0, 4, 0, 3, experiment.MethodExact, 0, -0.4898908, 0.5614970, 0, 1, true},
	} {
		c, ok := experiment.Compare(tc.x1, tc.n1, tc.x2, tc.n2)
		require.True(t, ok)
		require.Equal(t, tc.method, c.Method, "%d/%d vs %d/%d", tc.x1, tc.n1, tc.x2, tc.n2)
		require.InDelta(t, tc.diff, c.Diff, 1e-7)
		require.InDelta(t, tc.lo, c.CILow, 1e-7)
		require.InDelta(t, tc.hi, c.CIHigh, 1e-7)
		if tc.noZ {
			require.Nil(t, c.Z)
		} else {
			require.NotNil(t, c.Z)
			require.InDelta(t, tc.z, *c.Z, 1e-4)
		}
		require.NotNil(t, c.P)
		require.InDelta(t, tc.p, *c.P, 1e-6)
	}
	_, ok := experiment.Compare(0, 0, 1, 3)
	require.False(t, ok, "an empty group")
	_, ok = experiment.Compare(4, 3, 1, 3)
	require.False(t, ok, "more successes than trials")
}

// TestWilson: the 95% score interval by hand, (p + z²/2n ± z√(p(1−p)/n +
// z²/4n²)) / (1 + z²/n): 0/10 → [0, .2775328], 5/10 → [.2365931,
// .7634069], 10/10 → [.7224672, 1].
func TestWilson(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		x, n   int
		lo, hi float64
	}{{0, 10, 0, 0.2775328}, {5, 10, 0.2365931, 0.7634069}, {10, 10, 0.7224672, 1}} {
		lo, hi := experiment.Wilson(tc.x, tc.n)
		require.InDelta(t, tc.lo, lo, 1e-7)
		require.InDelta(t, tc.hi, hi, 1e-7)
	}
}

// TestEvaluateAgainstHandComputedValues: below the minimum sample the
// result says 数据不足 and compares nothing; at it, each variant is
// compared with the control on each metric (the first row of
// TestCompareAgainstHandComputedValues in percentage points).
func TestEvaluateAgainstHandComputedValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		min    int
		arms   []experiment.Arm
		enough bool
		status string
		rows   []experiment.Row
	}{
		{name: "small sample", min: 30, arms: []experiment.Arm{{Name: "A", N: 12, X: []int{3}}, {Name: "B", N: 29, X: []int{9}}},
			status: "数据不足：每个版本至少需要 30 人才显示比较结果（目前最少的版本为 12 人）"},
		{name: "enough", min: 100, arms: []experiment.Arm{{Name: "A", N: 100, X: []int{10}}, {Name: "B", N: 100, X: []int{20}}}, enough: true,
			status: "样本量已达到", rows: []experiment.Row{{Variant: "B", Metric: "m", X1: 10, N1: 100, X2: 20, N2: 100, Diff: 10, CILow: 0.2, CIHigh: 19.8, Method: experiment.MethodNormal, Significant: true}}},
		{name: "no variation", min: 3, arms: []experiment.Arm{{Name: "A", N: 4, X: []int{0}}, {Name: "B", N: 3, X: []int{0}}}, enough: true,
			status: "样本量已达到", rows: []experiment.Row{{Variant: "B", Metric: "m", X1: 0, N1: 4, X2: 0, N2: 3, Diff: 0, CILow: -48.99, CIHigh: 56.15, Method: experiment.MethodExact}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := experiment.Evaluate(tc.min, []string{"m"}, tc.arms)
			require.Equal(t, tc.enough, r.Enough)
			require.Equal(t, "A", r.Control)
			require.Contains(t, r.Status, tc.status)
			require.Contains(t, r.Warning, "不要因为中途看到显著结果就提前停止")
			for i := range r.Comparisons {
				if tc.rows[i].Significant {
					require.InDelta(t, 0.0477, *r.Comparisons[i].P, 1e-4)
					require.InDelta(t, 1.98, *r.Comparisons[i].Z, 1e-3)
				} else {
					require.InDelta(t, 1, *r.Comparisons[i].P, 1e-9, "Fisher's p without variation")
				}
				r.Comparisons[i].Z, r.Comparisons[i].P = nil, nil
			}
			if tc.rows == nil {
				tc.rows = []experiment.Row{}
			}
			require.Equal(t, tc.rows, r.Comparisons)
		})
	}
}

// TestPickIsStableAndFollowsWeights: the same person always gets the same
// index, 1:1:1 weights split a deterministic audience about evenly, and a
// zero weight is never picked.
func TestPickIsStableAndFollowsWeights(t *testing.T) {
	t.Parallel()
	key := []byte("seed")
	counts := make([]int, 4)
	for e := uint64(1); e <= 9000; e++ {
		i := experiment.Pick(key, "tp7", e, []int{1, 1, 0, 1})
		require.Equal(t, i, experiment.Pick(key, "tp7", e, []int{1, 1, 0, 1}))
		counts[i]++
	}
	require.Zero(t, counts[2])
	for _, i := range []int{0, 1, 3} {
		require.InDelta(t, 3000, counts[i], 200)
	}
	require.Equal(t, -1, experiment.Pick(key, "tp7", 1, []int{0, 0}))
	require.Equal(t, -1, experiment.Pick(key, "tp7", 1, nil))
}
