package campaigns_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/campaigns"
	"github.com/learnloop/learnloop/store"
)

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
