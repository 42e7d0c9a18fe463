package campaigns_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/campaigns"
	"github.com/learnloop/learnloop/store"
)

// TestCompareAgainstHandComputedValues: the difference, its 95% interval and
// the z-test against values worked out by hand (first row:
// p1 = .1, p2 = .2, pooled .15, se₀ = √(.15·.85·(2/100)) = .050498,
// z = .1/.050498 = 1.98030, p = erfc(z/√2) = .04767; se = √(.0009 + .0016) =
// .05, CI = .1 ± 1.95996·.05) and small samples.
func TestCompareAgainstHandComputedValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		x1, n1, x2, n2     int
		diff, lo, hi, z, p float64
	}{
		{10, 100, 20, 100, 0.1, 0.0020018, 0.1979982, 1.9802951, 0.0476704},
		{1, 5, 3, 6, 0.3, -0.2319657, 0.8319657, 1.0299098, 0.3030523},
		{0, 10, 1, 10, 0.1, -0.0859385, 0.2859385, 1.0259784, 0.3049018},
		{50, 200, 40, 200, -0.05, -0.1316978, 0.0316978, -1.1973687, 0.2311629},
	} {
		c, ok := campaigns.Compare(tc.x1, tc.n1, tc.x2, tc.n2)
		require.True(t, ok)
		require.InDelta(t, tc.diff, c.Diff, 1e-7)
		require.InDelta(t, tc.lo, c.CILow, 1e-7)
		require.InDelta(t, tc.hi, c.CIHigh, 1e-7)
		require.NotNil(t, c.Z)
		require.InDelta(t, tc.z, *c.Z, 1e-6)
		require.InDelta(t, tc.p, *c.P, 1e-6)
	}
	// No variation: the test is undefined, the interval is a point.
	c, ok := campaigns.Compare(0, 4, 0, 3)
	require.True(t, ok)
	require.Nil(t, c.Z)
	require.Nil(t, c.P)
	require.Zero(t, c.CILow)
	require.Zero(t, c.CIHigh)
	_, ok = campaigns.Compare(0, 0, 1, 3)
	require.False(t, ok, "an empty group")
	_, ok = campaigns.Compare(4, 3, 1, 3)
	require.False(t, ok, "more successes than trials")
}

// TestAssignIsStableAndFollowsWeights: the same person always gets the same
// variant, and 1:3 weights split a large audience about 1:3.
func TestAssignIsStableAndFollowsWeights(t *testing.T) {
	t.Parallel()
	vs := []store.CampaignVariant{{ID: 7, Weight: 1}, {ID: 8, Weight: 3}}
	key := []byte("k")
	counts := map[uint64]int{}
	for e := uint64(1); e <= 20000; e++ {
		v := campaigns.Assign(key, 42, e, vs)
		require.Equal(t, v, campaigns.Assign(key, 42, e, vs))
		counts[v]++
	}
	require.InDelta(t, 5000, counts[7], 300)
	require.InDelta(t, 15000, counts[8], 300)
	diff := 0
	for e := uint64(1); e <= 1000; e++ {
		if campaigns.Assign(key, 42, e, vs) != campaigns.Assign(key, 43, e, vs) {
			diff++
		}
	}
	require.Greater(t, diff, 200, "another campaign shuffles people afresh")
}
