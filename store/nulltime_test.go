package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
)

func TestNullTimeScansDriverForms(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 3, 2, 1, 0, 0, 500_000_000, time.UTC)
	for _, v := range []any{
		want,
		want.In(time.FixedZone("CST", 8*3600)),
		"2026-03-02 01:00:00.5+00:00",
		[]byte("2026-03-02T01:00:00.5Z"),
		"2026-03-02 09:00:00.5+08:00",
		"2026-03-02 01:00:00.5",
	} {
		var n store.NullTime
		require.NoError(t, n.Scan(v), "%v", v)
		require.True(t, n.Valid)
		require.True(t, want.Equal(n.Time), "%v → %v", v, n.Time)
		require.Equal(t, time.UTC, n.Time.Location())
	}
	n := store.NullTime{Time: want, Valid: true}
	require.NoError(t, n.Scan(nil))
	require.False(t, n.Valid)
	require.True(t, n.Time.IsZero())
	require.Error(t, n.Scan("yesterday"))
	require.Error(t, n.Scan(42))
}
