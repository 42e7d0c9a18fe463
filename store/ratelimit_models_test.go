package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestRateLimitModelMatchesSchema: the migrated rate_limits table has
// exactly the RateLimit struct's columns, its primary key and the
// expires_at index the pruning reads.
func TestRateLimitModelMatchesSchema(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		requireMatchesTables(t, db, &store.RateLimit{})
		cols, err := db.Migrator().ColumnTypes(&store.RateLimit{})
		require.NoError(t, err)
		keys := map[string]bool{}
		for _, c := range cols {
			pk, ok := c.PrimaryKey()
			keys[c.Name()] = ok && pk
		}
		require.True(t, keys["rate_key"], "rate_key is the primary key")
		require.True(t, db.Migrator().HasIndex(&store.RateLimit{}, "ExpiresAt"), "expires_at is indexed")
	})
}
