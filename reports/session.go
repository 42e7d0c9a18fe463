// Package reports turns stored facts (rosters, check-ins, deliveries, clicks)
// into the reports a training team reads: the session report of the core loop,
// with every figure carrying its n and its definition, and CSV/XLSX exports.
package reports

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/experiment"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// ErrNotFound is wrapped by Session when the session does not exist.
var ErrNotFound = store.ErrNotFound

// DefaultAttributionWindow is how long after a click a check-in is still
// credited to the clicked push.
const DefaultAttributionWindow = 24 * time.Hour

// Options tunes a session report. The zero value means the defaults.
type Options struct {
	// AttributionWindow is the longest time from the credited click to the
	// check-in; zero means DefaultAttributionWindow.
	AttributionWindow time.Duration
	// ExperimentMinSample is the delivered n each touchpoint variant needs
	// before its comparison is shown; zero means
	// experiment.DefaultMinSample.
	ExperimentMinSample int
}

// SessionReport is the report of one class session: who was expected, who came
// (on time, late, make-up), and how each push of the session was delivered,
// clicked and converted.
type SessionReport struct {
	GeneratedAt time.Time   `json:"generated_at"`
	Session     SessionInfo `json:"session"`
	Windows     Windows     `json:"windows"`
	// Roster counts enrollments that are not cancelled.
	Roster int `json:"roster"`
	// Excused counts roster entries with status excused.
	Excused int `json:"excused"`
	// Eligible is Roster − Excused, the check-in rate's denominator.
	Eligible int `json:"eligible"`
	// CheckedIn counts distinct eligible people with a check-in; OnTime, Late
	// and Makeup split it by the stored check-in kind.
	CheckedIn int `json:"checked_in"`
	OnTime    int `json:"on_time"`
	Late      int `json:"late"`
	Makeup    int `json:"makeup"`
	// CheckinRate is 100 × CheckedIn / Eligible.
	CheckinRate Figure `json:"checkin_rate"`
	// LowCheckin is set when Eligible > 0 and the check-in rate is below 50%.
	LowCheckin bool `json:"low_checkin"`
	// RequireOnsite is set when the session requires on-site check-in (现场
	// 签到): CheckedIn, OnTime, Late, Makeup and the rate then count only
	// check-ins that prove presence (qr, room_code, manual), and Remote
	// counts the others (card, link, remote).
	RequireOnsite bool `json:"require_onsite"`
	// Remote counts eligible people checked in without proof of presence
	// in a session that requires it; 0 otherwise.
	Remote int `json:"remote"`
	// BySource splits eligible people's check-ins by source, every source
	// listed (card, link, qr, room_code, manual, remote), each saying
	// whether it counted as present.
	BySource []SourceRow `json:"by_source"`
	// Touchpoints lists the session's pushes ordered by run time.
	Touchpoints []TouchpointRow `json:"touchpoints"`
	// Attendees lists every roster person (cancelled enrollments excluded),
	// ordered by external id.
	Attendees []AttendeeRow `json:"attendees"`
	// Experiments are the A/B tests of the session's touchpoints that have
	// variants (experiments.go), in run order.
	Experiments []Experiment `json:"experiments"`
	// Definitions gives every figure's definition and formula in zh-CN, by key.
	Definitions map[string]string `json:"definitions"`
}

// SessionInfo describes the session a report is about.
type SessionInfo struct {
	ID          uint64    `json:"id"`
	CourseCode  string    `json:"course_code"`
	CourseTitle string    `json:"course_title"`
	Title       string    `json:"title"`
	StartsAt    time.Time `json:"starts_at"`
	EndsAt      time.Time `json:"ends_at"`
	TimeZone    string    `json:"time_zone"`
	Location    string    `json:"location"`
	OnlineURL   string    `json:"online_url,omitempty"`
	Teacher     string    `json:"teacher"`
	Status      string    `json:"status"`
}

// Windows are the check-in windows the report used, as UTC instants, and the
// attribution window used for conversions.
type Windows struct {
	Opens       time.Time `json:"opens"`         // starts_at − checkin_opens_before
	OnTimeUntil time.Time `json:"on_time_until"` // starts_at + checkin_grace
	LateUntil   time.Time `json:"late_until"`    // ends_at
	MakeupUntil time.Time `json:"makeup_until"`  // ends_at + makeup_after
	// AttributionSeconds is the conversion attribution window in seconds.
	AttributionSeconds int64 `json:"attribution_window_seconds"`
}

// Figure is a computed percentage with its denominator, numerator and
// definition. Value is rounded to one decimal (half up) and nil when N is 0.
type Figure struct {
	Value     *float64 `json:"value"`
	N         int      `json:"n"`
	Numerator int      `json:"numerator"`
	// Definition is the figure's meaning, localized by the presenter (its
	// JSON: definition, "zh-CN | en").
	Definition text.Message `json:"-"`
}

// MarshalJSON gives the figure with its definition in both languages, as
// the API documents it.
func (f Figure) MarshalJSON() ([]byte, error) {
	type plain Figure
	return json.Marshal(struct {
		plain
		Definition string `json:"definition"`
	}{plain(f), f.Definition.Bilingual()})
}

// DeliveryCounts counts a touchpoint's deliveries by status. Pending includes
// deliveries in the sending state.
type DeliveryCounts struct {
	Total   int `json:"total"`
	Sent    int `json:"sent"`
	Failed  int `json:"failed"`
	Dropped int `json:"dropped"`
	Pending int `json:"pending"`
}

// PlatformRow is one platform's share of a touchpoint's deliveries and its most
// frequent failure (among failed and dropped deliveries with an error).
type PlatformRow struct {
	Platform string `json:"platform"`
	DeliveryCounts
	TopErrorCode    string `json:"top_error_code,omitempty"`
	TopErrorMessage string `json:"top_error_message,omitempty"`
	TopErrorCount   int    `json:"top_error_count,omitempty"`
}

// TouchpointRow is one push of the session with its delivery, click and
// conversion figures.
type TouchpointRow struct {
	ID         uint64         `json:"id"`
	Kind       string         `json:"kind"`
	Audience   string         `json:"audience"`
	Status     string         `json:"status"`
	RunAt      time.Time      `json:"run_at"`
	FiredAt    *time.Time     `json:"fired_at,omitempty"`
	Deliveries DeliveryCounts `json:"deliveries"`
	// Clicks counts every click on the touchpoint's links; Clickers counts
	// distinct employees who clicked.
	Clicks       int    `json:"clicks"`
	Clickers     int    `json:"clickers"`
	ClickThrough Figure `json:"click_through"`
	// Conversions counts distinct eligible recipients whose check-in is
	// credited to this touchpoint (last push clicked before it, within the
	// attribution window).
	Conversions    int           `json:"conversions"`
	ConversionRate Figure        `json:"conversion_rate"`
	Platforms      []PlatformRow `json:"platforms"`
}

// AttendeeRow is one roster person and their check-in, if any.
type AttendeeRow struct {
	EmployeeID    uint64     `json:"-"`
	ExternalID    string     `json:"external_id"`
	Name          string     `json:"name"`
	Department    string     `json:"department"`
	Enrollment    string     `json:"enrollment"`
	CheckinKind   string     `json:"checkin_kind"`
	CheckedInAt   *time.Time `json:"checked_in_at"`
	CheckinSource string     `json:"checkin_source"`
	// Present is set when the check-in counts as present (any check-in,
	// unless the session requires on-site check-in; then qr, room_code
	// or manual only).
	Present bool `json:"present"`
	// Missing is set for eligible (not excused) people who are not
	// present: without a check-in, or checked in only remotely where the
	// session requires on-site check-in.
	Missing bool `json:"missing"`
}

// SourceRow is one check-in source's share of a session's eligible people.
type SourceRow struct {
	Source  string `json:"source"`
	Count   int    `json:"count"`
	Present bool   `json:"present"`
	// OnTime, Late and Makeup split Count by the stored check-in kind.
	OnTime int `json:"on_time"`
	Late   int `json:"late"`
	Makeup int `json:"makeup"`
}

// Check-in sources in report order.
var reportSources = []string{store.SourceCard, store.SourceChat, store.SourceLink, store.SourceQR, store.SourceRoomCode, store.SourceManual, store.SourceRemote}

// Session builds the report of one class session from stored facts only. now
// is used only for "generated_at". An unknown id gives an error wrapping
// ErrNotFound.
func Session(ctx context.Context, db *gorm.DB, sessionID uint64, now time.Time) (*SessionReport, error) {
	return SessionWith(ctx, db, sessionID, now, Options{})
}

// SessionWith is Session with explicit options.
func SessionWith(ctx context.Context, db *gorm.DB, sessionID uint64, now time.Time, opts Options) (*SessionReport, error) {
	window := opts.AttributionWindow
	if window <= 0 {
		window = DefaultAttributionWindow
	}
	minSample := opts.ExperimentMinSample
	if minSample <= 0 {
		minSample = experiment.DefaultMinSample
	}
	r := &SessionReport{GeneratedAt: now.UTC()}
	// One transaction so every figure comes from the same snapshot (InnoDB
	// repeatable read; SQLite read transaction).
	var txOpts []*sql.TxOptions
	if store.IsMySQL(db) {
		txOpts = append(txOpts, &sql.TxOptions{ReadOnly: true})
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := r.loadSession(tx, sessionID, window); err != nil {
			return err
		}
		if err := r.loadOnsite(tx, sessionID); err != nil {
			return err
		}
		if err := r.loadAttendees(tx, sessionID); err != nil {
			return err
		}
		r.splitSources()
		if err := r.loadTouchpoints(tx, sessionID, window); err != nil {
			return err
		}
		return r.loadExperiments(tx, sessionID, minSample)
	}, txOpts...)
	if err != nil {
		return nil, err
	}
	r.Eligible = r.Roster - r.Excused
	r.CheckinRate, r.LowCheckin = checkinFigure(r.CheckedIn, r.Eligible)
	r.Definitions = definitionsZH(window)
	r.addPresenceDefinitions()
	if len(r.Experiments) > 0 {
		r.Definitions["experiment"] = text.T(text.ZH, "experiment:definition", minSample)
		for _, e := range r.Experiments {
			r.Definitions["experiment_"+e.Outcome] = e.Definition.In(text.ZH)
		}
	}
	return r, nil
}

// loadOnsite reads whether the session requires on-site check-in.
func (r *SessionReport) loadOnsite(tx *gorm.DB, id uint64) error {
	var ps store.PresenceSetting
	if err := tx.Limit(1).Find(&ps, "session_id = ?", id).Error; err != nil {
		return fmt.Errorf("reports: load presence rules of session %d: %w", id, err)
	}
	r.RequireOnsite = ps.RequireOnsite
	return nil
}

// splitSources splits eligible people's check-ins by source and kind from
// the attendee rows already loaded (no further query).
func (r *SessionReport) splitSources() {
	counts := map[string]*SourceRow{}
	for _, a := range r.Attendees {
		if a.Enrollment == store.EnrollExcused || a.CheckinKind == "" {
			continue
		}
		row := counts[a.CheckinSource]
		if row == nil {
			row = &SourceRow{Source: a.CheckinSource, Present: presentSource(a.CheckinSource, r.RequireOnsite)}
			counts[a.CheckinSource] = row
		}
		row.Count++
		switch a.CheckinKind {
		case store.CheckinOnTime:
			row.OnTime++
		case store.CheckinLate:
			row.Late++
		case store.CheckinMakeup:
			row.Makeup++
		}
	}
	// Every known source, in order, then any other stored one.
	r.BySource = make([]SourceRow, 0, len(reportSources))
	for _, src := range reportSources {
		if row := counts[src]; row != nil {
			r.BySource = append(r.BySource, *row)
			delete(counts, src)
		} else {
			r.BySource = append(r.BySource, SourceRow{Source: src, Present: presentSource(src, r.RequireOnsite)})
		}
	}
	for _, src := range slices.Sorted(maps.Keys(counts)) {
		r.BySource = append(r.BySource, *counts[src])
	}
}

// addPresenceDefinitions says what counted as present: the check-in rate's
// definition (in the figure and the map) names the sources it counted.
func (r *SessionReport) addPresenceDefinitions() {
	present := text.M("reports:present.any")
	if r.RequireOnsite {
		present = text.M("reports:present.onsite")
	}
	r.CheckinRate.Definition = text.M("reports:definition.checkin_rate_present", definitionOf("checkin_rate", 0), present)
	r.Definitions["checkin_sources"] = text.T(text.ZH, "reports:definition.checkin_sources")
	r.Definitions["present"] = present.In(text.ZH)
	r.Definitions["remote"] = text.T(text.ZH, "reports:definition.remote")
	r.Definitions["checkin_rate"] = r.CheckinRate.Definition.In(text.ZH)
}

// checkinFigure computes the check-in rate and the low-check-in flag. The flag
// compares exactly (2 × checked < eligible), not the rounded value.
func checkinFigure(checked, eligible int) (Figure, bool) {
	f := NewFigure(checked, eligible, definitionOf("checkin_rate", 0))
	return f, eligible > 0 && 2*checked < eligible
}

// NewFigure returns 100 × num / n rounded half up to one decimal (the
// reports' rule), with its definition; a nil value when n is 0.
func NewFigure(num, n int, def text.Message) Figure {
	f := Figure{N: n, Numerator: num, Definition: def}
	if n > 0 {
		neg := num < 0
		a := int64(num)
		if neg {
			a = -a
		}
		tenths := (2000*a + int64(n)) / (2 * int64(n))
		if neg {
			tenths = -tenths
		}
		v := float64(tenths) / 10
		f.Value = &v
	}
	return f
}

// take loads the row dst with primary key id, or an error wrapping
// ErrNotFound naming what.
func take(db *gorm.DB, dst any, id uint64, what string) error {
	res := db.Limit(1).Find(dst, id)
	if res.Error != nil {
		return fmt.Errorf("reports: load %s %d: %w", what, id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("reports: %s %d: %w", what, id, ErrNotFound)
	}
	return nil
}

func (r *SessionReport) loadSession(tx *gorm.DB, id uint64, window time.Duration) error {
	var s store.Session
	if err := take(tx, &s, id, "session"); err != nil {
		return err
	}
	info := SessionInfo{
		ID: s.ID, Title: s.Title, StartsAt: s.StartsAt.UTC(), EndsAt: s.EndsAt.UTC(),
		TimeZone: s.TimeZone, Location: s.Location, OnlineURL: s.OnlineURL, Status: s.Status,
	}
	var c store.Course
	switch err := tx.Take(&c, s.CourseID).Error; {
	case err == nil:
		info.CourseCode, info.CourseTitle = c.Code, c.Title
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("reports: load course %d: %w", s.CourseID, err)
	}
	if s.TeacherID != nil {
		var t store.Teacher
		switch err := tx.Take(&t, *s.TeacherID).Error; {
		case err == nil:
			info.Teacher = t.Name
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return fmt.Errorf("reports: load teacher %d: %w", *s.TeacherID, err)
		}
	}
	r.Session = info
	r.Windows = Windows{
		Opens:              info.StartsAt.Add(-time.Duration(s.CheckinOpensBefore) * time.Second),
		OnTimeUntil:        info.StartsAt.Add(time.Duration(s.CheckinGrace) * time.Second),
		LateUntil:          info.EndsAt,
		MakeupUntil:        info.EndsAt.Add(time.Duration(s.MakeupAfter) * time.Second),
		AttributionSeconds: int64(window / time.Second),
	}
	return nil
}

func (r *SessionReport) loadAttendees(tx *gorm.DB, id uint64) error {
	rows, err := tx.Raw(`
SELECT emp.id, emp.external_id, emp.name, COALESCE(emp.department, ''), e.status,
  k.kind, k.checked_in_at, k.source
FROM enrollments e
JOIN employees emp ON emp.id = e.employee_id
LEFT JOIN checkins k ON k.session_id = e.session_id AND k.employee_id = e.employee_id
WHERE e.session_id = ? AND e.status <> ?`, id, store.EnrollCancelled).Rows()
	if err != nil {
		return fmt.Errorf("reports: list attendees of session %d: %w", id, err)
	}
	defer rows.Close()
	r.Attendees = []AttendeeRow{}
	var k Counts
	for rows.Next() {
		var (
			a            AttendeeRow
			kind, source sql.NullString
			at           store.NullTime
		)
		if err := rows.Scan(&a.EmployeeID, &a.ExternalID, &a.Name, &a.Department, &a.Enrollment, &kind, &at, &source); err != nil {
			return fmt.Errorf("reports: scan attendee: %w", err)
		}
		a.CheckinKind, a.CheckinSource = kind.String, source.String
		if at.Valid {
			t := at.Time
			a.CheckedInAt = &t
		}
		// The one attendance rule (Counts.Add) counts the headline figures
		// from the rows listed; remote check-ins are listed as missing.
		state := k.Add(Attendance{Enrollment: a.Enrollment, CheckedIn: kind.Valid, Kind: a.CheckinKind, Source: a.CheckinSource}, r.RequireOnsite)
		a.Present = state == StatePresent
		a.Missing = state == StateMissing || state == StateRemote
		r.Attendees = append(r.Attendees, a)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reports: list attendees of session %d: %w", id, err)
	}
	r.Roster, r.Excused, r.CheckedIn, r.OnTime, r.Late, r.Makeup, r.Remote = k.Roster, k.Excused, k.CheckedIn, k.OnTime, k.Late, k.Makeup, k.Remote
	// Sorted here rather than in SQL: byte order is the same on every database,
	// and it spares MariaDB a filesort of the wide rows.
	sort.Slice(r.Attendees, func(i, j int) bool {
		a, b := r.Attendees[i], r.Attendees[j]
		if a.ExternalID != b.ExternalID {
			return a.ExternalID < b.ExternalID
		}
		return a.EmployeeID < b.EmployeeID
	})
	return nil
}

func (r *SessionReport) loadTouchpoints(tx *gorm.DB, id uint64, window time.Duration) error {
	var tps []store.Touchpoint
	if err := tx.Where("session_id = ?", id).Order("run_at, id").Find(&tps).Error; err != nil {
		return fmt.Errorf("reports: list touchpoints of session %d: %w", id, err)
	}
	r.Touchpoints = make([]TouchpointRow, len(tps))
	byID := make(map[uint64]*TouchpointRow, len(tps))
	platforms := make(map[uint64]map[string]*PlatformRow, len(tps))
	for i, tp := range tps {
		row := &r.Touchpoints[i]
		*row = TouchpointRow{
			ID: tp.ID, Kind: tp.Kind, Audience: tp.Audience, Status: tp.Status,
			RunAt: tp.RunAt.UTC(), Platforms: []PlatformRow{},
		}
		if tp.FiredAt != nil {
			f := tp.FiredAt.UTC()
			row.FiredAt = &f
		}
		byID[tp.ID] = row
		platforms[tp.ID] = map[string]*PlatformRow{}
	}
	if len(tps) == 0 {
		return nil
	}
	platform := func(tpID uint64, name string) *PlatformRow {
		m := platforms[tpID]
		p := m[name]
		if p == nil {
			p = &PlatformRow{Platform: name}
			m[name] = p
		}
		return p
	}

	// Deliveries by touchpoint, platform and status.
	rows, err := tx.Raw(`
SELECT d.touchpoint_id, d.platform, d.status, COUNT(*)
FROM deliveries d
JOIN touchpoints t ON t.id = d.touchpoint_id
WHERE t.session_id = ?
GROUP BY d.touchpoint_id, d.platform, d.status`, id).Rows()
	if err != nil {
		return fmt.Errorf("reports: count deliveries of session %d: %w", id, err)
	}
	err = scanRows(rows, func(rows *sql.Rows) error {
		var (
			tpID             uint64
			platName, status string
			n                int
		)
		if err := rows.Scan(&tpID, &platName, &status, &n); err != nil {
			return err
		}
		row := byID[tpID]
		if row == nil {
			return nil
		}
		row.Deliveries.add(status, n)
		platform(tpID, platName).DeliveryCounts.add(status, n)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reports: count deliveries of session %d: %w", id, err)
	}

	// The most frequent error per touchpoint and platform.
	rows, err = tx.Raw(`
SELECT d.touchpoint_id, d.platform, COALESCE(d.error_code, ''), COALESCE(d.error_message, ''), COUNT(*)
FROM deliveries d
JOIN touchpoints t ON t.id = d.touchpoint_id
WHERE t.session_id = ? AND d.status IN (?, ?)
  AND (COALESCE(d.error_code, '') <> '' OR COALESCE(d.error_message, '') <> '')
GROUP BY d.touchpoint_id, d.platform, d.error_code, d.error_message`,
		id, store.DeliveryFailed, store.DeliveryDropped).Rows()
	if err != nil {
		return fmt.Errorf("reports: count delivery errors of session %d: %w", id, err)
	}
	err = scanRows(rows, func(rows *sql.Rows) error {
		var (
			tpID                uint64
			platName, code, msg string
			n                   int
		)
		if err := rows.Scan(&tpID, &platName, &code, &msg, &n); err != nil {
			return err
		}
		if byID[tpID] == nil {
			return nil
		}
		p := platform(tpID, platName)
		// Most frequent wins; ties go to the smaller code, then message, so the
		// choice does not depend on row order.
		if n > p.TopErrorCount || (n == p.TopErrorCount &&
			(code < p.TopErrorCode || (code == p.TopErrorCode && msg < p.TopErrorMessage))) {
			p.TopErrorCode, p.TopErrorMessage, p.TopErrorCount = code, msg, n
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reports: count delivery errors of session %d: %w", id, err)
	}

	// Clicks and distinct clickers per touchpoint. Clicks on an anonymous
	// survey's links carry no person (employee 0): counted as clicks only.
	rows, err = tx.Raw(`
SELECT c.touchpoint_id, COUNT(*), COUNT(DISTINCT CASE WHEN c.employee_id <> 0 THEN c.employee_id END)
FROM clicks c
JOIN touchpoints t ON t.id = c.touchpoint_id
WHERE t.session_id = ?
GROUP BY c.touchpoint_id`, id).Rows()
	if err != nil {
		return fmt.Errorf("reports: count clicks of session %d: %w", id, err)
	}
	err = scanRows(rows, func(rows *sql.Rows) error {
		var (
			tpID             uint64
			clicks, clickers int
		)
		if err := rows.Scan(&tpID, &clicks, &clickers); err != nil {
			return err
		}
		if row := byID[tpID]; row != nil {
			row.Clicks, row.Clickers = clicks, clickers
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reports: count clicks of session %d: %w", id, err)
	}

	// Conversions: for each person with a check-in, the last click on any of
	// this session's pushes at or before the check-in (ties on the click time go
	// to the higher touchpoint id). It is credited when the person is eligible
	// and the click lies within the attribution window. Eligibility and the
	// check-in time come from the attendee rows already loaded.
	attendees := make(map[uint64]*AttendeeRow, len(r.Attendees))
	for i := range r.Attendees {
		a := &r.Attendees[i]
		if a.Enrollment != store.EnrollExcused && a.CheckedInAt != nil {
			attendees[a.EmployeeID] = a
		}
	}
	rows, err = tx.Raw(`
SELECT x.employee_id, x.touchpoint_id, x.clicked_at FROM (
  SELECT c.employee_id, c.touchpoint_id, c.clicked_at,
    ROW_NUMBER() OVER (PARTITION BY c.employee_id
      ORDER BY c.clicked_at DESC, c.touchpoint_id DESC, c.id DESC) AS rn
  FROM clicks c
  JOIN touchpoints t ON t.id = c.touchpoint_id
  JOIN checkins k ON k.session_id = t.session_id AND k.employee_id = c.employee_id
  WHERE t.session_id = ? AND c.clicked_at <= k.checked_in_at
) x WHERE x.rn = 1`, id).Rows()
	if err != nil {
		return fmt.Errorf("reports: attribute check-ins of session %d: %w", id, err)
	}
	err = scanRows(rows, func(rows *sql.Rows) error {
		var (
			empID, tpID uint64
			clicked     store.NullTime
		)
		if err := rows.Scan(&empID, &tpID, &clicked); err != nil {
			return err
		}
		a := attendees[empID]
		if a == nil || !clicked.Valid {
			return nil
		}
		d := a.CheckedInAt.Sub(clicked.Time)
		if d < 0 || d > window {
			return nil
		}
		if row := byID[tpID]; row != nil {
			row.Conversions++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reports: attribute check-ins of session %d: %w", id, err)
	}

	for i := range r.Touchpoints {
		row := &r.Touchpoints[i]
		row.ClickThrough = NewFigure(row.Clickers, row.Deliveries.Sent, definitionOf("click_through", window))
		row.ConversionRate = NewFigure(row.Conversions, row.Deliveries.Sent, definitionOf("conversion_rate", window))
		m := platforms[row.ID]
		for _, name := range slices.Sorted(maps.Keys(m)) {
			row.Platforms = append(row.Platforms, *m[name])
		}
	}
	return nil
}

func (c *DeliveryCounts) add(status string, n int) {
	c.Total += n
	switch status {
	case store.DeliverySent:
		c.Sent += n
	case store.DeliveryFailed:
		c.Failed += n
	case store.DeliveryDropped:
		c.Dropped += n
	case store.DeliveryPending, store.DeliverySending:
		c.Pending += n
	}
}

func scanRows(rows *sql.Rows, f func(*sql.Rows) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
