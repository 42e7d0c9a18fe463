package scheduler

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// QuietHours says when sends are not allowed: a daily quiet window, holidays
// and, optionally, weekends, all in Location's wall-clock time.
type QuietHours struct {
	// Enabled turns the rules on; when false Next returns its argument.
	Enabled bool
	// Start and End are offsets since local midnight (see ParseClock). The
	// quiet window is [Start, End); Start > End is overnight, e.g. 21:00–08:00.
	// Start == End means no daily quiet window.
	Start, End time.Duration
	// Location is the zone the rules are read in; nil means UTC.
	Location *time.Location
	// Holidays are "2006-01-02" days with no sends at all.
	Holidays map[string]bool
	// Workdays are make-up working days (调休): allowed even on weekends.
	Workdays map[string]bool
	// SkipWeekends makes Saturdays and Sundays days off, except Workdays.
	SkipWeekends bool
}

// In returns the same rules read in loc: the quiet window, holidays and
// weekends in loc's wall-clock time and dates. A nil loc keeps q's zone.
func (q QuietHours) In(loc *time.Location) QuietHours {
	if loc != nil {
		q.Location = loc
	}
	return q
}

// maxDaysOff bounds Next's search for an allowed day.
const maxDaysOff = 3660

// Next returns the earliest allowed instant at or after t, in UTC. A time in
// the quiet window moves to End (the same morning, or the next one for an
// overnight window's evening part); a day off (a holiday, or a weekend day
// with SkipWeekends unless it is a Workday) moves to End on the next allowed
// day. With Enabled false it returns t unchanged.
func (q QuietHours) Next(t time.Time) time.Time {
	if !q.Enabled {
		return t
	}
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	for range maxDaysOff {
		y, m, d := lt.Date()
		if !q.allowedDay(lt) {
			lt = atClock(y, m, d+1, q.End, loc)
			continue
		}
		tod := sinceMidnight(lt)
		switch {
		case q.Start < q.End && tod >= q.Start && tod < q.End:
			lt = atClock(y, m, d, q.End, loc) // daytime window: reopens today
		case q.Start > q.End && tod >= q.Start:
			lt = atClock(y, m, d+1, q.End, loc) // overnight, evening part
		case q.Start > q.End && tod < q.End:
			lt = atClock(y, m, d, q.End, loc) // overnight, morning part
		default:
			return lt.UTC()
		}
		// The new instant is outside the window; loop to check its day.
		if q.allowedDay(lt) {
			return lt.UTC()
		}
	}
	return lt.UTC()
}

// allowedDay reports whether sends are allowed on t's local date.
func (q QuietHours) allowedDay(t time.Time) bool {
	day := t.Format(time.DateOnly)
	if q.Holidays[day] {
		return false
	}
	if q.Workdays[day] {
		return true
	}
	if q.SkipWeekends {
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			return false
		}
	}
	return true
}

// sinceMidnight is t's wall-clock time of day.
func sinceMidnight(t time.Time) time.Duration {
	h, m, s := t.Clock()
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(s)*time.Second + time.Duration(t.Nanosecond())
}

// atClock is the instant the wall clock in loc shows clock on the given date
// (day may overflow into the next month, clock may be 24h). Wall-clock
// arithmetic, so a DST change in between does not shift the result.
func atClock(y int, m time.Month, d int, clock time.Duration, loc *time.Location) time.Time {
	return time.Date(y, m, d, 0, 0, 0, int(clock), loc)
}

// ParseClock parses a wall-clock time "HH:MM" or "HH:MM:SS" into an offset
// since midnight: "21:00" is 21h. "24:00" is accepted as the end of the day.
func ParseClock(s string) (time.Duration, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("parse clock %q: want HH:MM or HH:MM:SS", s)
	}
	var v [3]int
	limits := [3]int{24, 59, 59}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || len(p) == 0 || len(p) > 2 || strings.Trim(p, "0123456789") != "" || n > limits[i] {
			return 0, fmt.Errorf("parse clock %q: bad field %q", s, p)
		}
		v[i] = n
	}
	d := time.Duration(v[0])*time.Hour + time.Duration(v[1])*time.Minute + time.Duration(v[2])*time.Second
	if d > 24*time.Hour {
		return 0, fmt.Errorf("parse clock %q: past 24:00", s)
	}
	return d, nil
}
