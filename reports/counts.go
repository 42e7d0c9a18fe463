package reports

import (
	"context"
	"database/sql"
	"fmt"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
)

// presentSources are the check-in sources that prove presence: in a session
// that requires on-site check-in only they count as present.
var presentSources = []string{store.SourceQR, store.SourceRoomCode, store.SourceManual}

// PresentSource reports whether a check-in from source counts as present in
// a session where on-site check-in is required (onsite) or not. It is the one
// rule for the report, the live board and the course and session pages.
func PresentSource(source string, onsite bool) bool {
	if !onsite {
		return true
	}
	for _, s := range presentSources {
		if s == source {
			return true
		}
	}
	return false
}

// presentSource is PresentSource.
func presentSource(source string, onsite bool) bool { return PresentSource(source, onsite) }

// Attendance states, as Counts.Add returns them.
const (
	StateExcused = "excused" // excused: not eligible
	StatePresent = "present" // checked in, counted as present
	StateRemote  = "remote"  // checked in without proof of presence where it is required
	StateMissing = "missing" // eligible, not checked in
)

// Attendance is one roster entry (cancelled enrollments are not roster
// entries): its enrollment status and its check-in, if any.
type Attendance struct {
	Enrollment string
	// CheckedIn is set when there is a check-in; Kind and Source are its
	// stored kind and source.
	CheckedIn bool
	Kind      string
	Source    string
}

// Counts are one group's roster and check-in figures: a session, or the
// part of a session a scope may see.
type Counts struct {
	// Roster counts enrollments that are not cancelled; Excused those
	// with status excused.
	Roster  int `json:"roster"`
	Excused int `json:"excused"`
	// CheckedIn counts eligible people present (PresentSource); OnTime,
	// Late and Makeup split it by the stored check-in kind.
	CheckedIn int `json:"checked_in"`
	OnTime    int `json:"on_time"`
	Late      int `json:"late"`
	Makeup    int `json:"makeup"`
	// Remote counts eligible people checked in without proof of presence
	// in a session that requires it: neither present nor missing.
	Remote int `json:"remote"`
	// Suppressed is set when the scope may not show the group: it is
	// partial and the group's n (its eligible people) is below the
	// minimum group size. Every other field is then zero.
	Suppressed bool `json:"suppressed"`
}

// Eligible is Roster − Excused, the check-in rate's denominator.
func (k Counts) Eligible() int { return k.Roster - k.Excused }

// Missing counts eligible people neither present nor remote.
func (k Counts) Missing() int { return k.Eligible() - k.CheckedIn - k.Remote }

// Rate is the check-in rate, 100 × CheckedIn / Eligible, with the < 50%
// flag.
func (k Counts) Rate() CheckinRate {
	f, low := checkinFigure(k.CheckedIn, k.Eligible())
	return CheckinRate{Figure: f, Low: low}
}

// CheckinRate is a check-in rate figure and its low flag (exact: 2 ×
// numerator < n, never when n is 0).
type CheckinRate struct {
	Figure
	Low bool `json:"low"`
}

// Add counts one roster entry of a session (onsite: on-site check-in
// required) and says where it goes.
func (k *Counts) Add(a Attendance, onsite bool) string {
	k.Roster++
	switch {
	case a.Enrollment == store.EnrollExcused:
		k.Excused++
		return StateExcused
	case !a.CheckedIn:
		return StateMissing
	case !PresentSource(a.Source, onsite):
		k.Remote++
		return StateRemote
	}
	k.CheckedIn++
	switch a.Kind {
	case store.CheckinOnTime:
		k.OnTime++
	case store.CheckinLate:
		k.Late++
	case store.CheckinMakeup:
		k.Makeup++
	}
	return StatePresent
}

// Sum adds o's counts to k (a course's total over its sessions).
func (k *Counts) Sum(o Counts) {
	k.Roster += o.Roster
	k.Excused += o.Excused
	k.CheckedIn += o.CheckedIn
	k.OnTime += o.OnTime
	k.Late += o.Late
	k.Makeup += o.Makeup
	k.Remote += o.Remote
}

// SessionCounts computes the counts of each session of ids for what scope
// may see, in one grouped query: check-ins of excused or cancelled people
// are not counted, and where a session requires on-site check-in only
// PresentSource check-ins count as present, the others as remote (the rule
// of Session). In a partial scope only the people of the department subtree
// are counted and a group whose n is below the minimum group size is
// suppressed; a session the scope counts nobody of is suppressed too. The
// actor's rights are the caller's to check (Scope.Sessions).
func SessionCounts(ctx context.Context, db *gorm.DB, ids []uint64, scope Scope) (map[uint64]Counts, error) {
	out := make(map[uint64]Counts, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	// present: a check-in that counts as present.
	present := `k.employee_id IS NOT NULL AND (COALESCE(ps.require_onsite, ?) = ? OR k.source IN ?)`
	q := `
SELECT e.session_id, COUNT(*),
  COALESCE(SUM(CASE WHEN e.status = ? THEN 1 ELSE 0 END), 0),
  COALESCE(SUM(CASE WHEN e.status <> ? AND ` + present + ` THEN 1 ELSE 0 END), 0),
  COALESCE(SUM(CASE WHEN e.status <> ? AND ` + present + ` AND k.kind = ? THEN 1 ELSE 0 END), 0),
  COALESCE(SUM(CASE WHEN e.status <> ? AND ` + present + ` AND k.kind = ? THEN 1 ELSE 0 END), 0),
  COALESCE(SUM(CASE WHEN e.status <> ? AND ` + present + ` AND k.kind = ? THEN 1 ELSE 0 END), 0),
  COALESCE(SUM(CASE WHEN e.status <> ? AND k.employee_id IS NOT NULL AND NOT (` + present + `) THEN 1 ELSE 0 END), 0)
FROM enrollments e
LEFT JOIN checkins k ON k.session_id = e.session_id AND k.employee_id = e.employee_id
LEFT JOIN presence_settings ps ON ps.session_id = e.session_id`
	p := []any{false, false, presentSources}
	args := []any{store.EnrollExcused}
	args = append(append(args, store.EnrollExcused), p...)
	for _, kind := range []string{store.CheckinOnTime, store.CheckinLate, store.CheckinMakeup} {
		args = append(append(append(args, store.EnrollExcused), p...), kind)
	}
	args = append(append(args, store.EnrollExcused), p...)
	cond, condArgs := scope.peopleSQL("emp.department")
	if cond != "" {
		q += `
JOIN employees emp ON emp.id = e.employee_id`
	}
	q += `
WHERE e.session_id IN ? AND e.status <> ?` + cond + `
GROUP BY e.session_id`
	args = append(append(args, ids, store.EnrollCancelled), condArgs...)
	rows, err := db.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("reports: count check-ins: %w", err)
	}
	err = scanRows(rows, func(rows *sql.Rows) error {
		var id uint64
		var k Counts
		if err := rows.Scan(&id, &k.Roster, &k.Excused, &k.CheckedIn, &k.OnTime, &k.Late, &k.Makeup, &k.Remote); err != nil {
			return err
		}
		out[id] = k
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reports: count check-ins: %w", err)
	}
	if scope.Partial() {
		for _, id := range ids {
			if k := out[id]; scope.Hidden(k.Eligible(), 0) || k.Roster == 0 {
				out[id] = Counts{Suppressed: true}
			}
		}
	}
	return out, nil
}

// Counts returns the report's headline counts.
func (r *SessionReport) Counts() Counts {
	return Counts{Roster: r.Roster, Excused: r.Excused, CheckedIn: r.CheckedIn, OnTime: r.OnTime, Late: r.Late, Makeup: r.Makeup, Remote: r.Remote}
}
