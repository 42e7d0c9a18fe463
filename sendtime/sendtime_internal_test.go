package sendtime

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/scheduler"
)

// hours returns per-hour slices with the given hour → value entries.
func hours(m map[int]int) []int {
	out := make([]int, 24)
	for h, v := range m {
		out[h] = v
	}
	return out
}

func TestBuildEstimateAgainstHandComputedValues(t *testing.T) {
	t.Parallel()
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	// 09:00: 40 sent, 10 opened within an hour → 25.0 %
	// 10:00: 30 sent, 12 opened → 40.0 %
	// 14:00: 50 sent, 15 opened → 30.0 %
	// 20:00: 3 sent, 3 opened → 100.0 %, but n = 3 < 30: not compared.
	sent := hours(map[int]int{9: 40, 10: 30, 14: 50, 20: 3})
	opened := hours(map[int]int{9: 10, 10: 12, 14: 15, 20: 3})
	delays := make([][]float64, 24)
	delays[10] = []float64{5, 1, 30, 90} // median of 1, 5, 30, 90 = (5 + 30) / 2 = 17.5
	delays[14] = []float64{7, 3, 200}    // median 7
	e := build(sh, time.Time{}, time.Time{}, "", "", 30, sent, opened, delays)
	require.Equal(t, 123, e.N, "40 + 30 + 50 + 3")
	require.Len(t, e.Hours, 24)
	want := map[int]float64{9: 25.0, 10: 40.0, 14: 30.0, 20: 100.0}
	for h, v := range want {
		require.NotNil(t, e.Hours[h].QuickOpen, h)
		require.InDelta(t, v, *e.Hours[h].QuickOpen, 1e-9, h)
	}
	require.Nil(t, e.Hours[8].QuickOpen, "no sends at 08:00: no figure")
	require.True(t, e.Hours[9].Enough)
	require.False(t, e.Hours[20].Enough, "3 < 30")
	require.InDelta(t, 17.5, *e.Hours[10].MedianMinutes, 1e-9)
	require.InDelta(t, 7.0, *e.Hours[14].MedianMinutes, 1e-9)
	require.Nil(t, e.Hours[9].MedianMinutes)
	require.NotNil(t, e.Best)
	require.Equal(t, 10, *e.Best, "40 % beats 30 % and 25 %; 20:00's 100 % has too few sends")

	// Exact comparison, not on the rounded figure: 1/3 (33.3 %) vs 333/1000 (33.3 %).
	close := build(sh, time.Time{}, time.Time{}, "", "", 3, hours(map[int]int{9: 1000, 11: 3}), hours(map[int]int{9: 333, 11: 1}), make([][]float64, 24))
	require.Equal(t, 11, *close.Best, "1/3 = 0.33333 > 0.333")

	// Ties go to the earlier hour.
	tie := build(sh, time.Time{}, time.Time{}, "", "", 1, hours(map[int]int{9: 10, 15: 20}), hours(map[int]int{9: 5, 15: 10}), make([][]float64, 24))
	require.Equal(t, 9, *tie.Best)

	// One hour with enough sends is nothing to compare.
	thin := build(sh, time.Time{}, time.Time{}, "", "", 30, hours(map[int]int{9: 40, 10: 29}), hours(map[int]int{9: 10, 10: 29}), make([][]float64, 24))
	require.Nil(t, thin.Best)
}

func TestChooseKeepsOutOfQuietHoursAndFallsBack(t *testing.T) {
	t.Parallel()
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	at := func(day, h, m int) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, sh) }
	sent := hours(map[int]int{7: 100, 9: 40, 10: 30, 14: 50, 22: 100})
	opened := hours(map[int]int{7: 90, 9: 10, 10: 12, 14: 15, 22: 95})
	e := build(sh, time.Time{}, time.Time{}, "", "", 30, sent, opened, make([][]float64, 24))
	quiet := scheduler.QuietHours{Enabled: true, Start: 21 * time.Hour, End: 8 * time.Hour, Location: sh,
		Holidays: map[string]bool{"2026-03-04": true}}

	cases := []struct {
		name    string
		w       Window
		want    time.Time
		learned bool
		reason  string
		hours   []int
	}{
		{"best hour inside the day", Window{at(2, 9, 0), at(2, 18, 0)}, at(2, 10, 0), true, ChoiceLearned,
			[]int{9, 10, 11, 12, 13, 14, 15, 16, 17}},
		{"a window starting mid-hour: its first slot starts at the window", Window{at(2, 10, 20), at(2, 15, 0)}, at(2, 10, 20), true, ChoiceLearned,
			[]int{10, 11, 12, 13, 14}},
		{"07:00 and 22:00 open fastest but are quiet hours", Window{at(2, 6, 0), at(2, 23, 0)}, at(2, 10, 0), true, ChoiceLearned,
			[]int{8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}},
		{"the window's 10:00 falls on a holiday: the next day's", Window{at(3, 11, 0), at(5, 11, 0)}, at(5, 10, 0), true, ChoiceLearned,
			[]int{11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 8, 9, 10}},
		{"only one comparable hour: the configured time", Window{at(2, 13, 0), at(2, 17, 0)}, at(2, 13, 30), false, ChoiceThinData,
			[]int{13, 14, 15, 16}},
		{"the whole window is quiet", Window{at(2, 22, 0), at(3, 7, 0)}, at(2, 13, 30), false, ChoiceNoSlot, []int{}},
		{"a whole holiday", Window{at(4, 9, 0), at(4, 18, 0)}, at(2, 13, 30), false, ChoiceNoSlot, []int{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := e.Choose(tc.w, at(2, 13, 30), quiet)
			require.Equal(t, tc.want.UTC(), c.At)
			require.Equal(t, tc.learned, c.Learned)
			require.Equal(t, tc.reason, c.Reason)
			got := []int{}
			for _, h := range c.Compared {
				got = append(got, h.Hour)
			}
			require.Equal(t, tc.hours, got, "the window's allowed hours, in window order")
			if tc.learned {
				require.Equal(t, tc.want.In(sh).Hour(), *c.Hour)
			} else {
				require.Nil(t, c.Hour)
			}
			require.Equal(t, 320, c.N)
		})
	}
}
