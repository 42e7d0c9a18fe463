package scheduler

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser is robfig/cron's standard five-field parser plus descriptors
// (@daily, @weekly, @every 1h, …) and a CRON_TZ=/TZ= prefix.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// NextCron returns the first time strictly after after that spec fires, in
// UTC. The spec is read in loc (nil means UTC) unless it starts with its own
// CRON_TZ= or TZ= zone, which wins. An invalid spec, or one that never fires,
// is an error.
func NextCron(spec string, loc *time.Location, after time.Time) (time.Time, error) {
	spec = strings.TrimSpace(spec)
	if loc == nil {
		loc = time.UTC
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		if !strings.Contains(spec, " ") {
			// robfig/cron slices past the zone name and would panic here.
			return time.Time{}, fmt.Errorf("parse cron spec %q: zone without a schedule", spec)
		}
	}
	sched, err := cronParser.Parse(spec)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse cron spec %q: %w", spec, err)
	}
	// A spec without its own zone is evaluated in the zone of the time given.
	next := sched.Next(after.In(loc))
	if next.IsZero() {
		return time.Time{}, fmt.Errorf("cron spec %q never fires after %s", spec, after.UTC().Format(time.RFC3339))
	}
	return next.UTC(), nil
}
