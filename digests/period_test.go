package digests_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/digests"
)

func TestPeriod(t *testing.T) {
	t.Parallel()
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	cst := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, sh) }
	tests := []struct {
		name     string
		spec     string
		at       time.Time
		from, to time.Time
	}{
		{"weekly on its Monday: the week before", digests.WeeklyCron, cst(2026, 3, 9, 9, 0), cst(2026, 3, 2, 0, 0), cst(2026, 3, 9, 0, 0)},
		{"weekly moved by quiet hours", digests.WeeklyCron, cst(2026, 3, 9, 10, 30), cst(2026, 3, 2, 0, 0), cst(2026, 3, 9, 0, 0)},
		{"weekly test send mid-week: the last digest's week", digests.WeeklyCron, cst(2026, 3, 11, 15, 0), cst(2026, 3, 2, 0, 0), cst(2026, 3, 9, 0, 0)},
		{"monthly on the 1st: the month before", digests.MonthlyCron, cst(2026, 3, 1, 9, 0), cst(2026, 2, 1, 0, 0), cst(2026, 3, 1, 0, 0)},
		{"monthly across the year", digests.MonthlyCron, cst(2026, 1, 1, 9, 0), cst(2025, 12, 1, 0, 0), cst(2026, 1, 1, 0, 0)},
		{"daily: yesterday", "30 8 * * *", cst(2026, 3, 9, 8, 30), cst(2026, 3, 8, 0, 0), cst(2026, 3, 9, 0, 0)},
		{"twice a day: between its fires", "0 9,17 * * *", cst(2026, 3, 9, 17, 0), cst(2026, 3, 9, 9, 0), cst(2026, 3, 9, 17, 0)},
		{"Fridays 18:00", "0 18 * * 5", cst(2026, 3, 13, 18, 0), cst(2026, 3, 6, 0, 0), cst(2026, 3, 13, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			from, to, err := digests.Period(tt.spec, sh, tt.at)
			require.NoError(t, err)
			require.Equal(t, tt.from.UTC(), from)
			require.Equal(t, tt.to.UTC(), to)
		})
	}
	_, _, err = digests.Period("not a cron", sh, cst(2026, 3, 9, 9, 0))
	require.Error(t, err)
}

func TestCronOf(t *testing.T) {
	t.Parallel()
	require.Equal(t, "0 9 * * 1", digests.CronOf("weekly", "ignored"))
	require.Equal(t, "0 9 1 * *", digests.CronOf("monthly", ""))
	require.Equal(t, "15 8 * * 2", digests.CronOf("cron", " 15 8 * * 2 "))
}
