package digests

import (
	"fmt"
	"strings"
	"time"

	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
)

// Preset cron specs of the weekly and monthly digests.
const (
	// WeeklyCron is every Monday at 09:00 (每周一 09:00).
	WeeklyCron = "0 9 * * 1"
	// MonthlyCron is the 1st of every month at 09:00 (每月1日 09:00).
	MonthlyCron = "0 9 1 * *"
)

// CronOf is the cron spec of a frequency: the preset's, or spec for an
// advanced schedule.
func CronOf(frequency, spec string) string {
	switch frequency {
	case store.DigestWeekly:
		return WeeklyCron
	case store.DigestMonthly:
		return MonthlyCron
	}
	return strings.TrimSpace(spec)
}

// maxLookBack bounds the search for a schedule's earlier fire.
const maxLookBack = 800 * 24 * time.Hour

// lastFire returns the schedule's latest fire at or before t.
func lastFire(spec string, loc *time.Location, t time.Time) (time.Time, error) {
	for back := time.Hour; back <= maxLookBack; back *= 2 {
		cur, found := t.Add(-back), time.Time{}
		for {
			n, err := scheduler.NextCron(spec, loc, cur)
			if err != nil {
				return time.Time{}, fmt.Errorf("digest schedule: %w", err)
			}
			if n.After(t) {
				break
			}
			found, cur = n, n
		}
		if !found.IsZero() {
			return found, nil
		}
	}
	return time.Time{}, fmt.Errorf("digest schedule %q: no fire in the %v before %s", spec, maxLookBack, t.UTC().Format(time.RFC3339))
}

// Period returns the period a digest sent at t covers, in loc: from the
// day of the schedule's fire before the last one at or before t to the day
// of that last one (a weekly digest on Monday 09:00 covers the week
// before, Monday 00:00 to Monday 00:00; a monthly one the month before).
// A schedule that fires more than once a day covers the time between its
// two fires.
func Period(spec string, loc *time.Location, t time.Time) (from, to time.Time, err error) {
	if loc == nil {
		loc = time.UTC
	}
	last, err := lastFire(spec, loc, t)
	if err != nil {
		return from, to, err
	}
	prev, err := lastFire(spec, loc, last.Add(-time.Nanosecond))
	if err != nil {
		return from, to, err
	}
	from, to = midnight(prev, loc), midnight(last, loc)
	if !from.Before(to) {
		from, to = prev, last
	}
	return from.UTC(), to.UTC(), nil
}

func midnight(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// occurrenceLayout is the time of a scheduled occurrence (plan's
// occurrence ids of recurring touchpoints).
const occurrenceLayout = "20060102T1504Z"

// testPrefix starts the occurrence id of a test send ("发送一次").
const testPrefix = "t"

// testLayout is the time of a test send's occurrence id.
const testLayout = "20060102T150405Z"

// testOccurrence is the occurrence id of a test send at now.
func testOccurrence(now time.Time) string { return testPrefix + now.UTC().Format(testLayout) }

// occurrenceTime is when an occurrence was due to be sent: the time in its
// id, or fallback (a one-off send's delivery time).
func occurrenceTime(occ string, fallback time.Time) (t time.Time, test bool) {
	if s, ok := strings.CutPrefix(occ, testPrefix); ok {
		if t, err := time.Parse(testLayout, s); err == nil {
			return t, true
		}
	}
	if occ != plan.OneOff {
		if t, err := time.Parse(occurrenceLayout, occ); err == nil {
			return t, false
		}
	}
	return fallback, occ == plan.OneOff
}
