package console

import (
	"context"
	"fmt"

	"github.com/learnloop/learnloop/store"
)

// counts are one group's roster and check-in figures (a session, or the
// part of a session from one department).
type counts struct {
	Roster    int
	Excused   int
	CheckedIn int
	OnTime    int
	Late      int
	Makeup    int
	// Remote counts check-ins that are not proof of presence in a session
	// that requires on-site check-in (card and link taps): neither present
	// nor missing.
	Remote int
	// Suppressed hides a department group smaller than the minimum size.
	Suppressed bool
}

// Eligible is Roster − Excused, the check-in rate's denominator.
func (k counts) Eligible() int { return k.Roster - k.Excused }

// Missing counts eligible people without a check-in.
func (k counts) Missing() int { return k.Eligible() - k.CheckedIn - k.Remote }

// Rate is the check-in rate figure.
func (k counts) Rate() rateFigure { return newRate(k.CheckedIn, k.Eligible()) }

func (k *counts) add(o counts) {
	k.Roster += o.Roster
	k.Excused += o.Excused
	k.CheckedIn += o.CheckedIn
	k.OnTime += o.OnTime
	k.Late += o.Late
	k.Makeup += o.Makeup
	k.Remote += o.Remote
}

// rateFigure is a percentage with its numerator and n, and the < 50% flag
// (exact: 2 × numerator < n, never when n is 0), as in reports.
type rateFigure struct {
	Value *float64
	Num   int
	N     int
	Low   bool
}

// newRate returns 100 × num / n rounded half up to one decimal, like
// reports.Figure.
func newRate(num, n int) rateFigure {
	f := rateFigure{Num: num, N: n, Low: n > 0 && 2*num < n}
	if n > 0 {
		tenths := (2000*int64(num) + int64(n)) / (2 * int64(n))
		v := float64(tenths) / 10
		f.Value = &v
	}
	return f
}

// sessionCounts computes counts for each session id, restricted to one
// department when dept is not empty. Check-ins of excused or cancelled
// people are not counted (the reports package's definition).
func (c *Console) sessionCounts(ctx context.Context, ids []uint64, dept string) (map[uint64]counts, error) {
	out := make(map[uint64]counts, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	q := `
SELECT e.session_id, COUNT(*),
  COALESCE(SUM(CASE WHEN e.status = ? THEN 1 ELSE 0 END), 0),
  COALESCE(SUM(CASE WHEN e.status <> ? AND k.employee_id IS NOT NULL THEN 1 ELSE 0 END), 0),
  COALESCE(SUM(CASE WHEN e.status <> ? AND k.kind = ? THEN 1 ELSE 0 END), 0),
  COALESCE(SUM(CASE WHEN e.status <> ? AND k.kind = ? THEN 1 ELSE 0 END), 0),
  COALESCE(SUM(CASE WHEN e.status <> ? AND k.kind = ? THEN 1 ELSE 0 END), 0)
FROM enrollments e
LEFT JOIN checkins k ON k.session_id = e.session_id AND k.employee_id = e.employee_id`
	args := []any{
		store.EnrollExcused, store.EnrollExcused,
		store.EnrollExcused, store.CheckinOnTime,
		store.EnrollExcused, store.CheckinLate,
		store.EnrollExcused, store.CheckinMakeup,
	}
	if dept != "" {
		q += `
JOIN employees emp ON emp.id = e.employee_id`
	}
	q += `
WHERE e.session_id IN ? AND e.status <> ?`
	args = append(args, ids, store.EnrollCancelled)
	if dept != "" {
		q += ` AND emp.department = ?`
		args = append(args, dept)
	}
	q += `
GROUP BY e.session_id`
	rows, err := c.d.DB.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("count check-ins: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uint64
		var k counts
		if err := rows.Scan(&id, &k.Roster, &k.Excused, &k.CheckedIn, &k.OnTime, &k.Late, &k.Makeup); err != nil {
			return nil, fmt.Errorf("count check-ins: %w", err)
		}
		out[id] = k
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count check-ins: %w", err)
	}
	return out, nil
}

// scopedCounts is sessionCounts for what v may see: department heads get
// their department's part, suppressed below the minimum group size.
func (c *Console) scopedCounts(ctx context.Context, v *viewer, ids []uint64) (map[uint64]counts, error) {
	dept := ""
	if v.deptHead() {
		dept = v.Account.Department
	}
	m, err := c.sessionCounts(ctx, ids, dept)
	if err != nil {
		return nil, err
	}
	if dept != "" {
		for id, k := range m {
			if k.Roster < c.d.MinGroupSize {
				m[id] = counts{Suppressed: true}
			}
		}
		for _, id := range ids {
			if _, ok := m[id]; !ok {
				m[id] = counts{Suppressed: true}
			}
		}
	}
	return m, nil
}
