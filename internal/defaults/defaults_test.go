package defaults_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/internal/defaults"
)

func TestNow(t *testing.T) {
	t.Parallel()
	shanghai := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, shanghai)
	tests := []struct {
		name string
		now  func() time.Time
		want func(t *testing.T, got time.Time)
	}{
		{"injected clock, in UTC", func() time.Time { return at }, func(t *testing.T, got time.Time) {
			require.Equal(t, time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC), got)
		}},
		{"nil: the wall clock, in UTC", nil, func(t *testing.T, got time.Time) {
			require.Equal(t, time.UTC, got.Location())
			require.WithinDuration(t, time.Now(), got, time.Minute)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.want(t, defaults.Now(tc.now))
		})
	}
}

func TestLogger(t *testing.T) {
	t.Parallel()
	l := slog.New(slog.DiscardHandler)
	require.Same(t, l, defaults.Logger(l))
	require.Same(t, slog.Default(), defaults.Logger(nil))
}
