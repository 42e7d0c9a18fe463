package console

import (
	"math"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/scheduler"
)

func TestRecurrenceCronBothWays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		r    recurrence
		cron string
	}{
		{"none", recurrence{Repeat: repeatNone}, ""},
		{"weekdays", recurrence{Repeat: repeatWeekdays, Hour: 9, Minute: 30}, "30 9 * * 1-5"},
		{"weekly one day", recurrence{Repeat: repeatWeekly, Days: []int{1}, Hour: 9}, "0 9 * * 1"},
		{"weekly Mon Wed Sun", recurrence{Repeat: repeatWeekly, Days: []int{0, 1, 3}, Hour: 18, Minute: 5}, "5 18 * * 0,1,3"},
		{"weekly Mon to Fri ticked", recurrence{Repeat: repeatWeekly, Days: []int{1, 2, 3, 4, 5}, Hour: 8}, "0 8 * * 1,2,3,4,5"},
		{"every day", recurrence{Repeat: repeatWeekly, Days: []int{0, 1, 2, 3, 4, 5, 6}, Hour: 7, Minute: 45}, "45 7 * * *"},
		{"monthly", recurrence{Repeat: repeatMonthly, Day: 15, Hour: 10}, "0 10 15 * *"},
		{"monthly last possible", recurrence{Repeat: repeatMonthly, Day: 31, Hour: 23, Minute: 59}, "59 23 31 * *"},
		{"advanced", recurrence{Repeat: repeatCron, Cron: "*/30 9-17 * * 1-5"}, "*/30 9-17 * * 1-5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.cron, tc.r.cron(), "picker → cron")
			require.Equal(t, tc.r, parseRecurrence(tc.cron), "cron → picker")
			if tc.cron != "" {
				_, err := scheduler.NextCron(tc.cron, time.UTC, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
				require.NoError(t, err, "the scheduler reads what the picker writes")
			}
		})
	}
}

func TestParseRecurrenceKeepsWhatThePickerCannotSay(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{
		"@daily", "@every 1h", "CRON_TZ=Asia/Tokyo 0 9 * * 1", "0 9 1 1 *", "0 9 1 * 1", "*/15 9 * * 1",
		"0 9-17 * * 1-5", "0 9 * * MON", "0 9 * * 1-3", "0 9 * * 1,1", "0 9 L * *", "0 24 * * *", "60 9 * * *",
		"0 9 * *", "0 9 0 * *", "0 9 32 * *", "not a cron",
	} {
		r := parseRecurrence(spec)
		require.Equal(t, recurrence{Repeat: repeatCron, Cron: spec}, r, spec)
		require.Equal(t, spec, r.cron(), "the advanced field keeps %q as written", spec)
	}
	// The same schedule written another way reads into the picker.
	require.Equal(t, recurrence{Repeat: repeatWeekly, Days: []int{0, 2}, Hour: 9, Minute: 5}, parseRecurrence(" 05 09 * * 7,2 "))
}

func TestRecurrenceForm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		form url.Values
		cron string
		errs []command.FieldError
	}{
		{"once", url.Values{"repeat": {"none"}, "cron": {"0 9 * * 1"}}, "", nil},
		{"weekdays", url.Values{"repeat": {"weekdays"}, "repeat_time": {"08:30"}}, "30 8 * * 1-5", nil},
		{"weekly", url.Values{"repeat": {"weekly"}, "repeat_time": {"9:00"}, "repeat_days": {"3", "1", "3"}}, "0 9 * * 1,3", nil},
		{"monthly", url.Values{"repeat": {"monthly"}, "repeat_time": {"18:00"}, "repeat_day": {"1"}}, "0 18 1 * *", nil},
		{"advanced", url.Values{"repeat": {"cron"}, "cron": {" 0 9 * * 1 "}, "repeat_time": {"bad"}}, "0 9 * * 1", nil},
		{"no picker: the cron field as written", url.Values{"cron": {"0 09 * * 1"}}, "0 09 * * 1", nil},
		{"no picker, no cron", url.Values{}, "", nil},
		{"unknown choice", url.Values{"repeat": {"yearly"}}, "", []command.FieldError{{Field: "repeat", Code: command.CodeBadChoice}}},
		{"bad time", url.Values{"repeat": {"weekdays"}, "repeat_time": {"25:00"}}, "", []command.FieldError{{Field: "repeat_time", Code: command.CodeBadFormat}}},
		{"no day ticked", url.Values{"repeat": {"weekly"}, "repeat_time": {"09:00"}}, "", []command.FieldError{{Field: "repeat_days", Code: command.CodeRequired}}},
		{"bad day", url.Values{"repeat": {"weekly"}, "repeat_time": {"09:00"}, "repeat_days": {"7"}}, "", []command.FieldError{{Field: "repeat_days", Code: command.CodeBadChoice}}},
		{"day of month 0", url.Values{"repeat": {"monthly"}, "repeat_time": {"09:00"}, "repeat_day": {"0"}}, "", []command.FieldError{{Field: "repeat_day", Code: command.CodeBadFormat}}},
		{"empty advanced", url.Values{"repeat": {"cron"}, "cron": {" "}}, "", []command.FieldError{{Field: "cron", Code: command.CodeRequired}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, errs := recurrenceForm(tc.form)
			require.Equal(t, tc.errs, errs)
			if errs == nil {
				require.Equal(t, tc.cron, r.cron())
			}
		})
	}
}

func TestSetRecurrenceShowsTheRuleInThePicker(t *testing.T) {
	t.Parallel()
	f := url.Values{}
	setRecurrence(f, parseRecurrence("15 9 * * 2,4"))
	require.Equal(t, "weekly", f.Get("repeat"))
	require.Equal(t, "09:15", f.Get("repeat_time"))
	require.Equal(t, []string{"2", "4"}, f["repeat_days"])
	r, errs := recurrenceForm(f)
	require.Nil(t, errs)
	require.Equal(t, "15 9 * * 2,4", r.cron(), "posting the form back unchanged keeps the rule")

	f = url.Values{}
	setRecurrence(f, parseRecurrence("@hourly"))
	require.Equal(t, "cron", f.Get("repeat"))
	require.Equal(t, "@hourly", f.Get("cron"), "the advanced field shows what the picker cannot")
}

func TestDescribeRecurrence(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ spec, zh, en string }{
		{"0 9 * * 1-5", "每个工作日 09:00", "every weekday at 09:00"},
		{"30 18 * * 3,1", "每周周一、周三 18:30", "weekly on Mon, Wed at 18:30"},
		{"0 7 * * *", "每天 07:00", "every day at 07:00"},
		{"0 10 15 * *", "每月 15 日 10:00", "monthly on day 15 at 10:00"},
		{"@daily", "周期 @daily", "recurring @daily"},
	} {
		require.Equal(t, tc.zh, describeRecurrence("zh-CN", parseRecurrence(tc.spec)), tc.spec)
		require.Equal(t, tc.en, describeRecurrence("en", parseRecurrence(tc.spec)), tc.spec)
	}
}

func TestDurationUnits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		minutes int64
		value   int64
		unit    string
	}{
		{0, 0, unitMinutes}, {15, 15, unitMinutes}, {90, 90, unitMinutes}, {60, 1, unitHours}, {120, 2, unitHours},
		{1440, 1, unitDays}, {1500, 25, unitHours}, {43200, 30, unitDays}, {-60, -1, unitHours}, {-1441, -1441, unitMinutes},
	} {
		v, u := splitMinutes(tc.minutes)
		require.Equal(t, tc.value, v, "%d minutes", tc.minutes)
		require.Equal(t, tc.unit, u, "%d minutes", tc.minutes)
		back, ok := joinMinutes(strconv.FormatInt(v, 10), u)
		require.True(t, ok)
		require.Equal(t, tc.minutes, back, "largest exact unit reads back")
	}
	for _, tc := range []struct {
		value, unit string
		minutes     int64
		ok          bool
	}{
		{"15", "", 15, true}, {" 2 ", "hours", 120, true}, {"3", "days", 4320, true}, {"-1", "days", -1440, true},
		{"1.5", "hours", 0, false}, {"", "minutes", 0, false}, {"1", "weeks", 0, false},
		{"9223372036854775807", "days", math.MaxInt64, true}, {"-9223372036854775807", "hours", math.MinInt64, true},
	} {
		n, ok := joinMinutes(tc.value, tc.unit)
		require.Equal(t, tc.ok, ok, "%q %q", tc.value, tc.unit)
		require.Equal(t, tc.minutes, n, "%q %q", tc.value, tc.unit)
	}
}

func TestOffsetField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		form    url.Values
		minutes int64
		code    string
	}{
		{"an hour before", url.Values{"offset": {"1"}, "offset_unit": {"hours"}, "offset_dir": {"before"}}, -60, ""},
		{"two days after", url.Values{"offset": {"2"}, "offset_unit": {"days"}, "offset_dir": {"after"}}, 2880, ""},
		{"signed minutes, no direction", url.Values{"offset": {"-15"}}, -15, ""},
		{"negative with a direction", url.Values{"offset": {"-15"}, "offset_dir": {"before"}}, 0, command.CodeBadFormat},
		{"unknown direction", url.Values{"offset": {"15"}, "offset_dir": {"sideways"}}, 0, command.CodeBadChoice},
		{"not a number", url.Values{"offset": {"soon"}, "offset_dir": {"after"}}, 0, command.CodeBadFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, errs := offsetField(tc.form)
			if tc.code != "" {
				require.Equal(t, []command.FieldError{{Field: "offset", Code: tc.code}}, errs)
				return
			}
			require.Nil(t, errs)
			require.Equal(t, tc.minutes, *n)
			f := url.Values{}
			setOffset(f, tc.minutes*60)
			back, errs := offsetField(f)
			require.Nil(t, errs)
			require.Equal(t, tc.minutes, *back, "shown and read back")
		})
	}
}
