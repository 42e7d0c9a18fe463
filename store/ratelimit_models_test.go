package store_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm/schema"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestRateLimitModelMatchesSchema: the migrated rate_limits table has
// exactly the RateLimit struct's columns, its primary key and the
// expires_at index the pruning reads.
func TestRateLimitModelMatchesSchema(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		s, err := schema.Parse(&store.RateLimit{}, &sync.Map{}, db.NamingStrategy)
		require.NoError(t, err)
		var want []string
		for _, f := range s.Fields {
			if f.DBName != "" {
				want = append(want, f.DBName)
			}
		}
		cols, err := db.Migrator().ColumnTypes(&store.RateLimit{})
		require.NoError(t, err)
		var got []string
		for _, c := range cols {
			got = append(got, c.Name())
			if c.Name() == "rate_key" {
				pk, ok := c.PrimaryKey()
				require.True(t, ok && pk, "rate_key is the primary key")
			}
		}
		require.ElementsMatch(t, want, got)
		require.True(t, db.Migrator().HasIndex(&store.RateLimit{}, "ExpiresAt"), "expires_at is indexed")
	})
}
