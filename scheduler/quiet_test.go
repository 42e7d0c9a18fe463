package scheduler_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/scheduler"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func TestQuietHoursNext(t *testing.T) {
	t.Parallel()
	sh := mustLoad(t, "Asia/Shanghai")
	ny := mustLoad(t, "America/New_York")
	at := func(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	night := scheduler.QuietHours{Enabled: true, Start: 21 * time.Hour, End: 8 * time.Hour, Location: sh}
	// 2026-10-01 (Thu) and 10-02 are holidays; Sat 10-10 is a make-up working day.
	calendar := night
	calendar.Holidays = map[string]bool{"2026-10-01": true, "2026-10-02": true}
	calendar.Workdays = map[string]bool{"2026-10-10": true}
	weekends := calendar
	weekends.SkipWeekends = true
	lunch := scheduler.QuietHours{Enabled: true, Start: 12 * time.Hour, End: 14 * time.Hour, Location: sh}
	nyNight := night
	nyNight.Location = ny

	tests := []struct {
		name string
		q    scheduler.QuietHours
		in   time.Time
		want time.Time
	}{
		{"23:00 moves to 08:00 next day", night, at(sh, 2026, 3, 3, 23, 0), at(sh, 2026, 3, 4, 8, 0)},
		{"07:59 moves to 08:00 same day", night, at(sh, 2026, 3, 3, 7, 59), at(sh, 2026, 3, 3, 8, 0)},
		{"12:00 unchanged", night, at(sh, 2026, 3, 3, 12, 0), at(sh, 2026, 3, 3, 12, 0)},
		{"08:00 is open", night, at(sh, 2026, 3, 3, 8, 0), at(sh, 2026, 3, 3, 8, 0)},
		{"21:00 is quiet", night, at(sh, 2026, 3, 3, 21, 0), at(sh, 2026, 3, 4, 8, 0)},
		{"20:59:59 is open", night, at(sh, 2026, 3, 3, 20, 59).Add(59 * time.Second), at(sh, 2026, 3, 3, 20, 59).Add(59 * time.Second)},
		{"midnight moves to 08:00", night, at(sh, 2026, 3, 4, 0, 0), at(sh, 2026, 3, 4, 8, 0)},
		{"input in UTC is read in the rule's zone", night, time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC), at(sh, 2026, 3, 4, 8, 0)},
		{"month end rolls over", night, at(sh, 2026, 2, 28, 22, 0), at(sh, 2026, 3, 1, 8, 0)},

		{"daytime window: inside moves to its end", lunch, at(sh, 2026, 3, 3, 13, 0), at(sh, 2026, 3, 3, 14, 0)},
		{"daytime window: start is quiet", lunch, at(sh, 2026, 3, 3, 12, 0), at(sh, 2026, 3, 3, 14, 0)},
		{"daytime window: before is open", lunch, at(sh, 2026, 3, 3, 11, 59), at(sh, 2026, 3, 3, 11, 59)},
		{"daytime window: end is open", lunch, at(sh, 2026, 3, 3, 14, 0), at(sh, 2026, 3, 3, 14, 0)},
		{"daytime window: night is open", lunch, at(sh, 2026, 3, 3, 23, 0), at(sh, 2026, 3, 3, 23, 0)},

		{"holiday moves to next allowed day 08:00", calendar, at(sh, 2026, 10, 1, 10, 0), at(sh, 2026, 10, 3, 8, 0)},
		{"evening before a holiday skips it", calendar, at(sh, 2026, 9, 30, 22, 0), at(sh, 2026, 10, 3, 8, 0)},
		{"last holiday evening opens next morning", calendar, at(sh, 2026, 10, 2, 22, 0), at(sh, 2026, 10, 3, 8, 0)},
		{"weekends allowed without SkipWeekends", calendar, at(sh, 2026, 10, 11, 10, 0), at(sh, 2026, 10, 11, 10, 0)},
		{"SkipWeekends: holiday then weekend", weekends, at(sh, 2026, 10, 1, 10, 0), at(sh, 2026, 10, 5, 8, 0)},
		{"SkipWeekends: Sunday moves to Monday", weekends, at(sh, 2026, 10, 11, 10, 0), at(sh, 2026, 10, 12, 8, 0)},
		{"SkipWeekends: make-up Saturday (调休) allowed", weekends, at(sh, 2026, 10, 10, 10, 0), at(sh, 2026, 10, 10, 10, 0)},
		{"SkipWeekends: Friday night to make-up Saturday", weekends, at(sh, 2026, 10, 9, 22, 0), at(sh, 2026, 10, 10, 8, 0)},
		{"SkipWeekends: ordinary Saturday to Monday", weekends, at(sh, 2026, 10, 17, 9, 0), at(sh, 2026, 10, 19, 8, 0)},

		// DST starts 2026-03-08 02:00 in New York: 23:00 EST → 08:00 EDT is 12:00 UTC, not 13:00.
		{"New York across spring DST", nyNight, at(ny, 2026, 3, 7, 23, 0), time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)},
		// DST ends 2026-11-01 02:00: 23:00 EDT → 08:00 EST is 13:00 UTC, not 12:00.
		{"New York across autumn DST", nyNight, at(ny, 2026, 10, 31, 23, 0), time.Date(2026, 11, 1, 13, 0, 0, 0, time.UTC)},
		{"New York 07:30 on DST day", nyNight, at(ny, 2026, 3, 8, 7, 30), time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)},

		{"nil location is UTC", scheduler.QuietHours{Enabled: true, Start: 21 * time.Hour, End: 8 * time.Hour}, time.Date(2026, 3, 3, 22, 0, 0, 0, time.UTC), time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC)},
		{"Start == End has no window", scheduler.QuietHours{Enabled: true, Start: 8 * time.Hour, End: 8 * time.Hour, Location: sh}, at(sh, 2026, 3, 3, 3, 0), at(sh, 2026, 3, 3, 3, 0)},
	}
	for _, tt := range tests {
		got := tt.q.Next(tt.in)
		require.True(t, got.Equal(tt.want), "%s: Next(%s) = %s, want %s", tt.name, tt.in, got.In(tt.want.Location()), tt.want)
		require.Equal(t, time.UTC, got.Location(), "%s: result in UTC", tt.name)
		require.Equal(t, got, tt.q.Next(got), "%s: an allowed time is a fixed point", tt.name)
	}

	t.Run("disabled returns the input", func(t *testing.T) {
		t.Parallel()
		off := night
		off.Enabled = false
		off.Holidays = map[string]bool{"2026-03-03": true}
		in := at(sh, 2026, 3, 3, 23, 0)
		require.Equal(t, in, off.Next(in))
	})
}

func TestParseClock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "21:00", want: 21 * time.Hour},
		{in: "08:00", want: 8 * time.Hour},
		{in: "8:30", want: 8*time.Hour + 30*time.Minute},
		{in: " 00:00 ", want: 0},
		{in: "23:59:59", want: 23*time.Hour + 59*time.Minute + 59*time.Second},
		{in: "24:00", want: 24 * time.Hour},
		{in: "24:01", wantErr: true},
		{in: "25:00", wantErr: true},
		{in: "12:60", wantErr: true},
		{in: "12", wantErr: true},
		{in: "", wantErr: true},
		{in: "ab:cd", wantErr: true},
		{in: "-1:00", wantErr: true},
		{in: "+1:00", wantErr: true},
		{in: "1:2:3:4", wantErr: true},
		{in: "123:00", wantErr: true},
	}
	for _, tt := range tests {
		got, err := scheduler.ParseClock(tt.in)
		if tt.wantErr {
			require.Error(t, err, "ParseClock(%q)", tt.in)
			require.Contains(t, err.Error(), "parse clock")
			continue
		}
		require.NoError(t, err, "ParseClock(%q)", tt.in)
		require.Equal(t, tt.want, got, "ParseClock(%q)", tt.in)
	}
}

// TestQuietHoursIn: the configured rules (21:00–08:00 and a holiday, read
// in Shanghai) applied in a New York session's zone.
func TestQuietHoursIn(t *testing.T) {
	t.Parallel()
	sh, ny := mustLoad(t, "Asia/Shanghai"), mustLoad(t, "America/New_York")
	q := scheduler.QuietHours{Enabled: true, Start: 21 * time.Hour, End: 8 * time.Hour, Location: sh,
		Holidays: map[string]bool{"2026-03-04": true}}
	cases := []struct {
		name string
		loc  *time.Location
		in   time.Time
		want time.Time
	}{
		{"11:00 in New York is daytime there", ny, time.Date(2026, 3, 2, 11, 0, 0, 0, ny), time.Date(2026, 3, 2, 11, 0, 0, 0, ny)},
		{"the same instant read in Shanghai is 00:00 quiet", sh, time.Date(2026, 3, 2, 11, 0, 0, 0, ny), time.Date(2026, 3, 3, 8, 0, 0, 0, sh)},
		{"22:30 in New York waits for 08:00 New York", ny, time.Date(2026, 3, 2, 22, 30, 0, 0, ny), time.Date(2026, 3, 3, 8, 0, 0, 0, ny)},
		{"a holiday is New York's calendar day", ny, time.Date(2026, 3, 4, 10, 0, 0, 0, ny), time.Date(2026, 3, 5, 8, 0, 0, 0, ny)},
		{"the evening before the holiday in New York is not the holiday", ny, time.Date(2026, 3, 3, 19, 0, 0, 0, ny), time.Date(2026, 3, 3, 19, 0, 0, 0, ny)},
		{"nil keeps the configured zone", nil, time.Date(2026, 3, 2, 11, 0, 0, 0, ny), time.Date(2026, 3, 3, 8, 0, 0, 0, sh)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := q.In(tc.loc).Next(tc.in)
			require.True(t, tc.want.Equal(got), "got %s want %s", got.In(ny), tc.want.In(ny))
		})
	}
	require.Equal(t, sh, q.Location, "In does not change the configured rules")
}
