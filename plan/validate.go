package plan

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/sendtime"
	"github.com/learnloop/learnloop/store"
)

// The bounds every writer of sessions, courses, touchpoints and notes (the
// admin API and the console) applies, in one place. Text lengths are the
// column sizes of store/models.go, counted in characters (MySQL's utf8mb4
// VARCHAR(n) holds n characters).
const (
	MaxCourseCode   = 64
	MaxCourseTitle  = 255
	MaxCategory     = 64
	MaxOwner        = 64
	MaxBehaviour    = 255
	MaxBehaviours   = 4
	MaxSessionTitle = 255
	MaxLocation     = 255
	MaxOnlineURL    = 1024
	MaxTeacher      = 128
	MaxNote         = 255
	MaxCron         = 128

	// MaxWindowMinutes bounds each check-in window (opens_before, grace,
	// makeup_after): 30 days.
	MaxWindowMinutes = 30 * 24 * 60
	// MaxOffsetMinutes bounds a touchpoint's offset from its anchor: ±90
	// days.
	MaxOffsetMinutes = 90 * 24 * 60
	// MaxSessionLength bounds how long one session lasts.
	MaxSessionLength = 14 * 24 * time.Hour
)

// Dates of sessions and absolute touchpoints lie in [MinDate, MaxDate).
var (
	MinDate = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxDate = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Problem kinds: what is wrong with a field. Callers localize them.
const (
	ProblemRequired   = "required"     // empty
	ProblemTooLong    = "too_long"     // more than Max characters
	ProblemRange      = "out_of_range" // outside Min..Max
	ProblemURL        = "bad_url"      // not an absolute http(s) URL with a host
	ProblemZone       = "bad_zone"     // not an IANA time zone name
	ProblemDate       = "bad_date"     // outside MinDate..MaxDate
	ProblemEndBefore  = "end_before_start"
	ProblemTooLongRun = "session_too_long" // longer than MaxSessionLength
	// The best-time window's problems (CheckBest).
	ProblemBestNotAllowed = "best_not_allowed" // this kind, a cron or anchor absolute cannot learn its time
	ProblemWindowOrder    = "window_order"     // best_to not after best_from
	ProblemWindowTooLong  = "window_too_long"  // longer than sendtime.MaxWindow
	ProblemOutsideWindow  = "outside_window"   // the configured offset is outside the window
)

// Problem is one invalid field. Error gives an English message; callers
// that localize use Kind, Min and Max.
type Problem struct {
	Field string
	Kind  string
	Min   int64
	Max   int64
}

// Error implements error.
func (p Problem) Error() string {
	switch p.Kind {
	case ProblemRequired:
		return "is required"
	case ProblemTooLong:
		return fmt.Sprintf("is longer than %d characters", p.Max)
	case ProblemRange:
		return fmt.Sprintf("must be between %d and %d", p.Min, p.Max)
	case ProblemURL:
		return "must be an absolute http(s) URL with a host and no spaces"
	case ProblemZone:
		return "is not an IANA time zone such as Asia/Shanghai"
	case ProblemDate:
		return fmt.Sprintf("must lie between %s and %s", MinDate.Format(time.DateOnly), MaxDate.AddDate(0, 0, -1).Format(time.DateOnly))
	case ProblemEndBefore:
		return "must be after starts_at"
	case ProblemTooLongRun:
		return fmt.Sprintf("a session lasts at most %d days", int(MaxSessionLength/(24*time.Hour)))
	case ProblemBestNotAllowed:
		return fmt.Sprintf("a learned send time needs a one-off touchpoint of kind %s anchored at the start or the end", strings.Join(BestKinds, ", "))
	case ProblemWindowOrder:
		return "must be after best_from"
	case ProblemWindowTooLong:
		return fmt.Sprintf("the window lasts at most %d days", int(sendtime.MaxWindow/(24*time.Hour)))
	case ProblemOutsideWindow:
		return "the configured time (the offset) must lie inside the best-time window"
	case ProblemVariantCount:
		return fmt.Sprintf("a touchpoint has no variants or %d to %d", p.Min, p.Max)
	case ProblemVariantCron:
		return "a recurring touchpoint cannot have variants"
	case ProblemTiming:
		return fmt.Sprintf("must be one of %v (offset needs anchor start or end)", Timings)
	case ProblemSameVariants:
		return "two variants send the same card at the same time"
	}
	return p.Kind
}

// Problems collects the problems of one input.
type Problems []Problem

// Text adds a problem when v has more than max characters, or is empty
// and required.
func (ps *Problems) Text(field, v string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(v) == "":
		*ps = append(*ps, Problem{Field: field, Kind: ProblemRequired})
	case !utf8.ValidString(v) || utf8.RuneCountInString(v) > max:
		*ps = append(*ps, Problem{Field: field, Kind: ProblemTooLong, Max: int64(max)})
	}
}

// Minutes converts minutes to seconds when min ≤ n ≤ max and adds a
// problem otherwise (the seconds are then 0); the bound comes first, so no
// value overflows.
func (ps *Problems) Minutes(field string, n, min, max int64) int64 {
	if n < min || n > max {
		*ps = append(*ps, Problem{Field: field, Kind: ProblemRange, Min: min, Max: max})
		return 0
	}
	return n * 60
}

// InDateRange reports whether t lies in [MinDate, MaxDate).
func InDateRange(t time.Time) bool { return !t.Before(MinDate) && t.Before(MaxDate) }

// TooLong reports whether v has more than max characters (or is not
// UTF-8 text).
func TooLong(v string, max int) bool { return !utf8.ValidString(v) || utf8.RuneCountInString(v) > max }

// Date adds a problem when t is outside [MinDate, MaxDate).
func (ps *Problems) Date(field string, t time.Time) {
	if !InDateRange(t) {
		*ps = append(*ps, Problem{Field: field, Kind: ProblemDate})
	}
}

// URL adds a problem unless v is empty or an absolute http(s) URL with a
// host, without spaces or control characters, of at most MaxOnlineURL.
func (ps *Problems) URL(field, v string) {
	if v == "" {
		return
	}
	if utf8.RuneCountInString(v) > MaxOnlineURL {
		*ps = append(*ps, Problem{Field: field, Kind: ProblemTooLong, Max: MaxOnlineURL})
		return
	}
	if !ValidURL(v) {
		*ps = append(*ps, Problem{Field: field, Kind: ProblemURL})
	}
}

// Zone adds a problem unless name is an IANA time zone name.
func (ps *Problems) Zone(field, name string) {
	if _, err := Zone(name); err != nil {
		*ps = append(*ps, Problem{Field: field, Kind: ProblemZone})
	}
}

// ValidURL reports whether v is an absolute http(s) URL with a host and no
// whitespace or control characters.
func ValidURL(v string) bool {
	for _, r := range v {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" {
		return false
	}
	host := u.Hostname()
	return host != "" && !strings.ContainsAny(host, "/\\@")
}

// Zone loads an IANA time zone. It refuses "", "Local" (the server's own
// zone, which differs between machines) and anything time.LoadLocation
// does not know.
func Zone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || strings.TrimSpace(name) != name {
		return nil, fmt.Errorf("%q is not an IANA time zone", name)
	}
	return time.LoadLocation(name)
}

// CheckSession adds the problems of a session about to be stored: texts
// against their columns, the zone, dates in range, the end after the start
// and at most MaxSessionLength later, windows within MaxWindowMinutes.
// teacher is the teacher's name as given.
func (ps *Problems) CheckSession(s store.Session, teacher string) {
	ps.Text("title", s.Title, MaxSessionTitle, false)
	ps.Text("location", s.Location, MaxLocation, false)
	ps.URL("online_url", s.OnlineURL)
	ps.Text("teacher", teacher, MaxTeacher, false)
	ps.Zone("time_zone", s.TimeZone)
	if !s.StartsAt.IsZero() {
		ps.Date("starts_at", s.StartsAt)
	}
	switch {
	case s.EndsAt.IsZero() || s.StartsAt.IsZero():
	case !s.EndsAt.After(s.StartsAt):
		*ps = append(*ps, Problem{Field: "ends_at", Kind: ProblemEndBefore})
	case s.EndsAt.Sub(s.StartsAt) > MaxSessionLength:
		*ps = append(*ps, Problem{Field: "ends_at", Kind: ProblemTooLongRun})
	default:
		ps.Date("ends_at", s.EndsAt)
	}
	for _, w := range []struct {
		field string
		secs  int64
	}{{"opens_before", s.CheckinOpensBefore}, {"grace", s.CheckinGrace}, {"makeup_after", s.MakeupAfter}} {
		if w.secs < 0 || w.secs > MaxWindowMinutes*60 {
			*ps = append(*ps, Problem{Field: w.field, Kind: ProblemRange, Min: 0, Max: MaxWindowMinutes})
		}
	}
}

// CheckCourse adds the problems of a course about to be stored.
func (ps *Problems) CheckCourse(c store.Course, behaviours []string) {
	ps.Text("code", c.Code, MaxCourseCode, true)
	ps.Text("title", c.Title, MaxCourseTitle, true)
	ps.Text("category", c.Category, MaxCategory, false)
	ps.Text("owner", c.Owner, MaxOwner, false)
	if len(behaviours) > MaxBehaviours {
		*ps = append(*ps, Problem{Field: "behaviours", Kind: ProblemRange, Min: 0, Max: MaxBehaviours})
	}
	for _, b := range behaviours {
		ps.Text("behaviours", b, MaxBehaviour, true)
	}
}

// BestKinds are the touchpoint kinds that may send at a learned best time
// inside a window: pushes people read when they choose to. The check-in
// prompt keeps its time, bound to the class start; survey pushes keep
// theirs, bound to the class end; campaign variants learn theirs in
// package campaigns.
var BestKinds = []string{bot.KindReminder, bot.KindMakeupReminder, bot.KindCustom}

// CheckBest adds the problems of tp's best-time window, if it has one: a
// one-off touchpoint of BestKinds anchored at the start or the end, the
// window [best_from, best_to) within ±MaxOffsetMinutes of the anchor, at
// most sendtime.MaxWindow long, the offset (the configured time it falls
// back to) inside it.
func (ps *Problems) CheckBest(tp store.Touchpoint) {
	if tp.BestFrom == nil && tp.BestTo == nil {
		return
	}
	switch {
	case tp.BestFrom == nil:
		*ps = append(*ps, Problem{Field: "best_from", Kind: ProblemRequired})
		return
	case tp.BestTo == nil:
		*ps = append(*ps, Problem{Field: "best_to", Kind: ProblemRequired})
		return
	}
	if !slices.Contains(BestKinds, tp.Kind) || tp.CronSpec != "" || (tp.Anchor != store.AnchorStart && tp.Anchor != store.AnchorEnd) {
		*ps = append(*ps, Problem{Field: "best_from", Kind: ProblemBestNotAllowed})
		return
	}
	from, to := *tp.BestFrom, *tp.BestTo
	bad := false
	for _, f := range []struct {
		field string
		secs  int64
	}{{"best_from", from}, {"best_to", to}} {
		if f.secs < -MaxOffsetMinutes*60 || f.secs > MaxOffsetMinutes*60 {
			*ps = append(*ps, Problem{Field: f.field, Kind: ProblemRange, Min: -MaxOffsetMinutes, Max: MaxOffsetMinutes})
			bad = true
		}
	}
	switch {
	case bad:
	case to <= from:
		*ps = append(*ps, Problem{Field: "best_to", Kind: ProblemWindowOrder})
	case time.Duration(to-from)*time.Second > sendtime.MaxWindow:
		*ps = append(*ps, Problem{Field: "best_to", Kind: ProblemWindowTooLong})
	case tp.Offset < from || tp.Offset >= to:
		*ps = append(*ps, Problem{Field: "offset", Kind: ProblemOutsideWindow})
	}
}
