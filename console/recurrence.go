package console

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// The touchpoint form's repeat picker: what it offers, turned into the
// five-field cron spec the touchpoint stores (read in the session's zone
// by scheduler.NextCron) and back.
const (
	repeatNone     = "none"     // fires once, at its anchor + offset
	repeatWeekdays = "weekdays" // Monday to Friday at a time of day
	repeatWeekly   = "weekly"   // on the checked weekdays at a time of day
	repeatMonthly  = "monthly"  // on one day of the month at a time of day
	repeatCron     = "cron"     // advanced: the cron spec as written
)

// repeatChoices are the picker's options in the order the form shows them.
var repeatChoices = []string{repeatNone, repeatWeekdays, repeatWeekly, repeatMonthly, repeatCron}

// weekdayOrder lists the weekdays Monday first, as the form shows them
// (cron's numbers: 0 is Sunday).
var weekdayOrder = []int{1, 2, 3, 4, 5, 6, 0}

// weekdayValues are the weekday checkboxes' values, Monday first.
func weekdayValues() []string {
	out := make([]string, len(weekdayOrder))
	for i, d := range weekdayOrder {
		out[i] = strconv.Itoa(d)
	}
	return out
}

// recurrence is one state of the repeat picker.
type recurrence struct {
	Repeat string
	// Days are the weekdays of repeatWeekly (0 = Sunday … 6), ascending.
	Days []int
	// Day is the day of the month of repeatMonthly (1–31).
	Day int
	// Hour and Minute are the time of day of the picker's rules.
	Hour, Minute int
	// Cron is the spec of repeatCron, as written.
	Cron string
}

// parseRecurrence reads a stored cron spec into the picker: "" is
// repeatNone; a spec the picker cannot express stays repeatCron with the
// spec as it is.
func parseRecurrence(spec string) recurrence {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return recurrence{Repeat: repeatNone}
	}
	advanced := recurrence{Repeat: repeatCron, Cron: spec}
	f := strings.Fields(spec)
	if len(f) != 5 || f[3] != "*" {
		return advanced
	}
	minute, okM := cronNumber(f[0], 0, 59)
	hour, okH := cronNumber(f[1], 0, 23)
	if !okM || !okH {
		return advanced
	}
	r := recurrence{Hour: hour, Minute: minute}
	dom, dow := f[2], f[4]
	switch {
	case dom == "*" && dow == "1-5":
		r.Repeat = repeatWeekdays
	case dom == "*" && dow == "*":
		r.Repeat, r.Days = repeatWeekly, []int{0, 1, 2, 3, 4, 5, 6}
	case dom == "*":
		days, ok := cronDays(dow)
		if !ok {
			return advanced
		}
		r.Repeat, r.Days = repeatWeekly, days
	case dow == "*":
		d, ok := cronNumber(dom, 1, 31)
		if !ok {
			return advanced
		}
		r.Repeat, r.Day = repeatMonthly, d
	default:
		return advanced
	}
	return r
}

// cronNumber reads a plain decimal cron field in [min, max].
func cronNumber(s string, min, max int) (int, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= min && n <= max
}

// cronDays reads a comma list of weekday numbers (7 is Sunday too).
func cronDays(s string) ([]int, bool) {
	var days []int
	for _, part := range strings.Split(s, ",") {
		d, ok := cronNumber(part, 0, 7)
		if !ok {
			return nil, false
		}
		d %= 7
		if slices.Contains(days, d) {
			return nil, false
		}
		days = append(days, d)
	}
	slices.Sort(days)
	return days, true
}

// cron is the spec of r ("" for repeatNone). The picker's fields must
// be in range (recurrenceForm checks them).
func (r recurrence) cron() string {
	at := fmt.Sprintf("%d %d", r.Minute, r.Hour)
	switch r.Repeat {
	case repeatWeekdays:
		return at + " * * 1-5"
	case repeatWeekly:
		if len(r.Days) == 7 {
			return at + " * * *"
		}
		days := make([]string, len(r.Days))
		for i, d := range r.Days {
			days[i] = strconv.Itoa(d)
		}
		return at + " * * " + strings.Join(days, ",")
	case repeatMonthly:
		return fmt.Sprintf("%s %d * *", at, r.Day)
	case repeatCron:
		return strings.TrimSpace(r.Cron)
	}
	return ""
}

// Clock is r's time of day as <input type="time"> writes it.
func (r recurrence) Clock() string { return fmt.Sprintf("%02d:%02d", r.Hour, r.Minute) }

// recurrenceForm reads the picker's fields; what cannot be read is a field
// error of the picker's own field (repeat, repeat_days, repeat_day,
// repeat_time).
func recurrenceForm(f url.Values) (recurrence, []command.FieldError) {
	r := recurrence{Repeat: strings.TrimSpace(f.Get("repeat"))}
	if r.Repeat == "" {
		// A form without the picker (an older page, a script): the cron
		// field alone says it, as written.
		if spec := strings.TrimSpace(f.Get("cron")); spec != "" {
			return recurrence{Repeat: repeatCron, Cron: spec}, nil
		}
		return recurrence{Repeat: repeatNone}, nil
	}
	var errs []command.FieldError
	bad := func(field, code string) { errs = append(errs, command.FieldError{Field: field, Code: code}) }
	if !slices.Contains(repeatChoices, r.Repeat) {
		bad("repeat", command.CodeBadChoice)
		return r, errs
	}
	switch r.Repeat {
	case repeatNone:
		return r, nil
	case repeatCron:
		r.Cron = strings.TrimSpace(f.Get("cron"))
		if r.Cron == "" {
			bad("cron", command.CodeRequired)
		}
		return r, errs
	}
	h, m, ok := parseClock(f.Get("repeat_time"))
	if !ok {
		bad("repeat_time", command.CodeBadFormat)
	}
	r.Hour, r.Minute = h, m
	switch r.Repeat {
	case repeatWeekly:
		for _, s := range f["repeat_days"] {
			d, ok := cronNumber(strings.TrimSpace(s), 0, 6)
			if !ok {
				bad("repeat_days", command.CodeBadChoice)
				return r, errs
			}
			if !slices.Contains(r.Days, d) {
				r.Days = append(r.Days, d)
			}
		}
		slices.Sort(r.Days)
		if len(r.Days) == 0 {
			bad("repeat_days", command.CodeRequired)
		}
	case repeatMonthly:
		d, ok := cronNumber(strings.TrimSpace(f.Get("repeat_day")), 1, 31)
		if !ok {
			bad("repeat_day", command.CodeBadFormat)
		}
		r.Day = d
	}
	return r, errs
}

// parseClock reads "HH:MM" (or "H:MM").
func parseClock(s string) (hour, minute int, ok bool) {
	hs, ms, found := strings.Cut(strings.TrimSpace(s), ":")
	if !found || len(ms) != 2 {
		return 0, 0, false
	}
	h, okH := cronNumber(hs, 0, 23)
	m, okM := cronNumber(ms, 0, 59)
	return h, m, okH && okM && len(hs) <= 2
}

// setRecurrence writes r into the form values the picker shows.
func setRecurrence(f url.Values, r recurrence) {
	f.Set("repeat", r.Repeat)
	f.Set("cron", r.cron())
	if r.Repeat == repeatNone || r.Repeat == repeatCron {
		r.Hour, r.Minute = 9, 0 // what the picker offers when switched to a rule
	}
	f.Set("repeat_time", r.Clock())
	days := make([]string, len(r.Days))
	for i, d := range r.Days {
		days[i] = strconv.Itoa(d)
	}
	f["repeat_days"] = days
	if r.Day > 0 {
		f.Set("repeat_day", strconv.Itoa(r.Day))
	} else {
		f.Set("repeat_day", "1")
	}
}

// A duration field of a form: a whole number and a unit (minutes, hours,
// days), stored by the command in minutes.
const (
	unitMinutes = "minutes"
	unitHours   = "hours"
	unitDays    = "days"
)

// durationUnits are the units, largest first, with their minutes.
var durationUnits = []struct {
	Name    string
	Minutes int64
}{{unitDays, 24 * 60}, {unitHours, 60}, {unitMinutes, 1}}

// unitNames are the unit select's options in the order the form shows them.
var unitNames = []string{unitMinutes, unitHours, unitDays}

// splitMinutes shows n minutes in the largest unit that holds it exactly
// (0 is 0 minutes).
func splitMinutes(n int64) (value int64, unit string) {
	if n == 0 {
		return 0, unitMinutes
	}
	for _, u := range durationUnits {
		if n%u.Minutes == 0 {
			return n / u.Minutes, u.Name
		}
	}
	return n, unitMinutes
}

// joinMinutes reads a value and its unit ("" is minutes) as minutes. A
// value too large for any bound is saturated, so the command reports it
// out of range instead of it wrapping around.
func joinMinutes(value, unit string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil {
		return 0, false
	}
	factor := int64(0)
	switch strings.TrimSpace(unit) {
	case "", unitMinutes:
		factor = 1
	case unitHours:
		factor = 60
	case unitDays:
		factor = 24 * 60
	default:
		return 0, false
	}
	switch {
	case n > math.MaxInt64/factor:
		return math.MaxInt64, true
	case n < math.MinInt64/factor:
		return math.MinInt64, true
	}
	return n * factor, true
}

// setMinutes writes n minutes into a form's value and unit fields.
func setMinutes(f url.Values, field string, n int64) {
	v, u := splitMinutes(n)
	f.Set(field, strconv.FormatInt(v, 10))
	f.Set(field+"_unit", u)
}

// minutesField reads a duration field of the form (field, field_unit) for
// a command; an unreadable one is a bad_format error of field.
func minutesField(f url.Values, field string) (*int64, []command.FieldError) {
	n, ok := joinMinutes(f.Get(field), f.Get(field+"_unit"))
	if !ok {
		return nil, []command.FieldError{{Field: field, Code: command.CodeBadFormat}}
	}
	return &n, nil
}

// Offset directions of the touchpoint form.
const (
	dirBefore = "before"
	dirAfter  = "after"
)

// setOffset writes a touchpoint's offset (seconds) into the form as a
// value, a unit and a direction.
func setOffset(f url.Values, seconds int64) { setSigned(f, "offset", seconds) }

// setSigned writes seconds relative to an anchor into the form's field as
// a value, a unit and a direction (field_dir).
func setSigned(f url.Values, field string, seconds int64) {
	m := seconds / 60
	dir := dirAfter
	if m < 0 {
		dir, m = dirBefore, -m
	}
	setMinutes(f, field, m)
	f.Set(field+"_dir", dir)
}

// offsetField reads the touchpoint form's offset: a value, a unit and a
// direction (before is negative). Without a direction the value's sign
// says it; with one, the value is not negative.
func offsetField(f url.Values) (*int64, []command.FieldError) { return signedField(f, "offset") }

// signedField reads minutes relative to an anchor (the offset, a
// best-time window's bounds): field, field_unit and field_dir.
func signedField(f url.Values, field string) (*int64, []command.FieldError) {
	n, errs := minutesField(f, field)
	if errs != nil {
		return nil, errs
	}
	switch strings.TrimSpace(f.Get(field + "_dir")) {
	case "":
	case dirAfter:
		if *n < 0 {
			return nil, []command.FieldError{{Field: field, Code: command.CodeBadFormat}}
		}
	case dirBefore:
		if *n < 0 {
			return nil, []command.FieldError{{Field: field, Code: command.CodeBadFormat}}
		}
		*n = -*n
	default:
		return nil, []command.FieldError{{Field: field, Code: command.CodeBadChoice}}
	}
	return n, nil
}

// Timings of the touchpoint form: at the configured offset, or at the
// learned best time inside a window.
const (
	timingFixed = "fixed"
	timingBest  = "best"
)

// setBest writes a touchpoint's timing and window into the form; one
// without a window gets the default window (48 to 2 hours before its
// anchor) for when the person switches to best time.
func setBest(f url.Values, tp store.Touchpoint) {
	from, to := int64(-48*60*60), int64(-2*60*60)
	f.Set("timing", timingFixed)
	if tp.BestTime() {
		f.Set("timing", timingBest)
		from, to = *tp.BestFrom, *tp.BestTo
	}
	setSigned(f, "best_from", from)
	setSigned(f, "best_to", to)
}

// bestFields reads the form's timing: "best" gives the window's bounds,
// "fixed" turns a window off, nothing keeps what the touchpoint has.
func bestFields(f url.Values, in *command.TouchpointInput) {
	switch strings.TrimSpace(f.Get("timing")) {
	case "":
	case timingFixed:
		off := false
		in.BestTime = &off
	case timingBest:
		on := true
		in.BestTime = &on
		var errs []command.FieldError
		in.BestFromMinutes, errs = signedField(f, "best_from")
		in.Invalid = append(in.Invalid, errs...)
		in.BestToMinutes, errs = signedField(f, "best_to")
		in.Invalid = append(in.Invalid, errs...)
	default:
		in.Invalid = append(in.Invalid, command.FieldError{Field: "best_from", Code: command.CodeBadChoice})
	}
}

// describeRecurrence says r in words ("每周一、周三 09:00"); a spec the
// picker cannot express is shown as it is.
func describeRecurrence(lang text.Locale, r recurrence) string {
	switch r.Repeat {
	case repeatWeekdays:
		return text.T(lang, "repeat.rule_weekdays", r.Clock())
	case repeatWeekly:
		if len(r.Days) == 7 {
			return text.T(lang, "repeat.rule_daily", r.Clock())
		}
		names := make([]string, 0, len(r.Days))
		for _, d := range weekdayOrder {
			if slices.Contains(r.Days, d) {
				names = append(names, text.T(lang, "weekday."+strconv.Itoa(d)))
			}
		}
		return text.T(lang, "repeat.rule_weekly", strings.Join(names, text.T(lang, "repeat.list_sep")), r.Clock())
	case repeatMonthly:
		return text.T(lang, "repeat.rule_monthly", r.Day, r.Clock())
	case repeatNone:
		return ""
	}
	return text.T(lang, "tp.cron_rule", r.cron())
}
