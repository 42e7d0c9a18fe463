package scheduler_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/scheduler"
)

func TestNextCron(t *testing.T) {
	t.Parallel()
	sh := mustLoad(t, "Asia/Shanghai")
	utc := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	tests := []struct {
		name  string
		spec  string
		loc   *time.Location
		after time.Time
		want  time.Time
	}{
		// Wednesday 2026-03-04 → Monday 2026-03-09 09:00 Shanghai.
		{"weekly Monday 09:00 Shanghai", "0 9 * * 1", sh, utc(2026, 3, 4, 0, 0), utc(2026, 3, 9, 1, 0)},
		{"strictly after", "0 9 * * 1", sh, utc(2026, 3, 9, 1, 0), utc(2026, 3, 16, 1, 0)},
		// Monday 01:00 UTC is already 09:00 in Shanghai: a UTC reading would give 09:00 UTC.
		{"zone decides the day", "0 9 * * 1", sh, utc(2026, 3, 8, 20, 0), utc(2026, 3, 9, 1, 0)},
		{"CRON_TZ in spec wins over loc", "CRON_TZ=America/New_York 0 9 * * *", sh, utc(2026, 3, 7, 0, 0), utc(2026, 3, 7, 14, 0)},
		{"CRON_TZ across DST", "CRON_TZ=America/New_York 0 9 * * *", sh, utc(2026, 3, 8, 0, 0), utc(2026, 3, 8, 13, 0)},
		{"TZ prefix", "TZ=UTC 0 9 * * *", sh, utc(2026, 3, 7, 0, 0), utc(2026, 3, 7, 9, 0)},
		{"descriptor @daily in loc", "@daily", sh, utc(2026, 3, 4, 0, 0), utc(2026, 3, 4, 16, 0)},
		{"descriptor @every", "@every 90m", sh, utc(2026, 3, 4, 0, 0), utc(2026, 3, 4, 1, 30)},
		{"nil loc is UTC", "30 * * * *", nil, utc(2026, 3, 4, 10, 15), utc(2026, 3, 4, 10, 30)},
	}
	for _, tt := range tests {
		got, err := scheduler.NextCron(tt.spec, tt.loc, tt.after)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.want, got, tt.name)
		require.Equal(t, time.UTC, got.Location(), tt.name)
	}

	bad := []struct{ spec, msg string }{
		{"", "parse cron spec"},
		{"nonsense", "parse cron spec"},
		{"61 * * * *", "parse cron spec"},
		{"0 9 * * 1 2026", "parse cron spec"}, // six fields: no seconds/years
		{"@fortnightly", "parse cron spec"},
		{"CRON_TZ=Mars/Olympus 0 9 * * *", "parse cron spec"},
		{"CRON_TZ=Asia/Shanghai", "zone without a schedule"},
		{"0 0 30 2 *", "never fires"},
	}
	for _, tt := range bad {
		_, err := scheduler.NextCron(tt.spec, sh, utc(2026, 3, 4, 0, 0))
		require.ErrorContains(t, err, tt.msg, "spec %q", tt.spec)
		require.Contains(t, err.Error(), tt.spec, "error names the spec")
	}
}
