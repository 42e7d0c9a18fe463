package console

import (
	"context"

	"github.com/learnloop/learnloop/reports"
)

// counts are one group's roster and check-in figures as reports computes
// them (reports.Counts: the on-site rule, the department scope and the
// minimum group size are applied there); the console only renders them.
type counts struct{ reports.Counts }

// Rate is the check-in rate figure of reports.
func (k counts) Rate() rateFigure { return rateFigure{k.Counts.Rate()} }

// add sums o into k (reports.Counts.Sum).
func (k *counts) add(o counts) { k.Sum(o.Counts) }

// rateFigure is reports' check-in rate with the names the templates use.
type rateFigure struct{ reports.CheckinRate }

// Num is the rate's numerator.
func (f rateFigure) Num() int { return f.Numerator }

// scope is what v may see of reports' figures: everything for admins and
// coordinators on their own courses, the department subtree of a
// department head, with the console's minimum group size.
func (c *Console) scope(ctx context.Context, v *viewer) (reports.Scope, error) {
	var a reports.Actor
	dept := ""
	if v != nil {
		a = reports.Actor{Username: v.name(), Role: v.Account.Role}
		dept = v.Account.Department
	}
	return c.commands().Reports().NewScope(ctx, a, dept, c.d.MinGroupSize)
}

// scopedCounts returns reports.SessionCounts of ids for what v may see:
// department heads get their department subtree's part, suppressed below
// the minimum group size.
func (c *Console) scopedCounts(ctx context.Context, v *viewer, ids []uint64) (map[uint64]counts, error) {
	scope, err := c.scope(ctx, v)
	if err != nil {
		return nil, err
	}
	m, err := c.commands().Reports().SessionCounts(ctx, ids, scope)
	if err != nil {
		return nil, err
	}
	out := make(map[uint64]counts, len(m))
	for id, k := range m {
		out[id] = counts{k}
	}
	return out, nil
}
