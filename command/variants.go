package command

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/store"
)

// Variant field error codes (plan.CheckVariants).
const (
	CodeVariantCount = plan.ProblemVariantCount // not 0 and not plan.MinVariants..MaxVariants; Args: min, max
	CodeVariantCron  = plan.ProblemVariantCron  // a recurring touchpoint cannot have variants
	CodeBadTiming    = plan.ProblemTiming       // a timing that is not one of plan.Timings or not for this anchor
	CodeSameVariants = plan.ProblemSameVariants // two variants alike
)

// VariantInput is one A/B variant of a touchpoint, in order (A, B, C, D):
// copy and main button text that replace the card's where not empty, a weight
// (0 means 1), and a timing — "same" (the default: the touchpoint's time),
// "offset" (OffsetMinutes from the anchor) or "best" (the learned best hour
// of [anchor+BestFromMinutes, anchor+BestToMinutes), the touchpoint's time
// as the fallback).
type VariantInput struct {
	Title, Body, Button string
	Weight              int
	Timing              string
	OffsetMinutes       *int64
	BestFromMinutes     *int64
	BestToMinutes       *int64
}

// variantsOf turns in into store rows with typed field errors
// ("variants[i].offset" …) and plan.CheckVariants' problems against tp.
func variantsOf(in []VariantInput, tp store.Touchpoint, fs *fields) []store.TouchpointVariant {
	out := make([]store.TouchpointVariant, 0, len(in))
	var ps plan.Problems
	for i, v := range in {
		f := func(name string) string { return "variants[" + strconv.Itoa(i) + "]." + name }
		row := store.TouchpointVariant{Title: strings.TrimSpace(v.Title), Body: strings.TrimSpace(v.Body), Button: strings.TrimSpace(v.Button),
			Weight: v.Weight, Timing: v.Timing}
		if row.Weight == 0 {
			row.Weight = 1
		}
		if row.Timing == "" {
			row.Timing = store.TimingSame
		}
		if !slices.Contains(plan.Timings, row.Timing) {
			fs.add(f("timing"), CodeBadChoice, fmt.Sprintf("must be one of %v", plan.Timings), anyOf(plan.Timings)...)
		}
		minutes := func(name string, n *int64) *int64 {
			if n == nil {
				return nil
			}
			s := ps.Minutes(f(name), *n, -plan.MaxOffsetMinutes, plan.MaxOffsetMinutes)
			return &s
		}
		switch row.Timing {
		case store.TimingOffset:
			row.Offset = minutes("offset", v.OffsetMinutes)
			if v.OffsetMinutes == nil {
				fs.add(f("offset"), CodeRequired, "timing offset needs offset_minutes")
			}
		case store.TimingBest:
			row.BestFrom, row.BestTo = minutes("best_from", v.BestFromMinutes), minutes("best_to", v.BestToMinutes)
		}
		for _, extra := range []struct {
			name string
			set  bool
			ok   bool
		}{{"offset", v.OffsetMinutes != nil, row.Timing == store.TimingOffset},
			{"best_from", v.BestFromMinutes != nil, row.Timing == store.TimingBest}, {"best_to", v.BestToMinutes != nil, row.Timing == store.TimingBest}} {
			if extra.set && !extra.ok {
				fs.add(f(extra.name), CodeNotAllowed, "is not allowed with timing "+row.Timing)
			}
		}
		out = append(out, row)
	}
	if len(ps) == 0 && len(*fs) == 0 {
		ps.CheckVariants(tp, out)
	}
	fs.problems(ps)
	return out
}

// refuseSentVariants refuses (ErrConflict) to change the variants of a
// touchpoint anything of which was sent.
func (s *Service) refuseSentVariants(ctx context.Context, tpID uint64) error {
	sent, err := plan.Sent(ctx, s.DB, tpID)
	if err != nil {
		return err
	}
	if sent {
		return fmt.Errorf("touchpoint %d was already sent, its variants are fixed: %w", tpID, ErrConflict)
	}
	return nil
}

// VariantView is one variant of a touchpoint as the front doors show it:
// the variant, how many people are assigned to it so far, and when it
// fires (its planned run_at, a learned choice's basis).
type VariantView struct {
	store.TouchpointVariant
	Assigned int
}

// TouchpointVariants lists touchpoint id's variants (A first) with the
// people assigned to each so far.
func (s *Service) TouchpointVariants(ctx context.Context, a Actor, id uint64) ([]VariantView, error) {
	if _, err := s.Touchpoint(ctx, a, id); err != nil {
		return nil, err
	}
	return s.variantViews(ctx, s.DB, []uint64{id})
}

// variantViews lists the variants of touchpoints ids with their counts.
func (s *Service) variantViews(ctx context.Context, db *gorm.DB, ids []uint64) ([]VariantView, error) {
	var vs []store.TouchpointVariant
	if err := db.WithContext(ctx).Where("touchpoint_id IN ?", ids).Order("touchpoint_id, name").Find(&vs).Error; err != nil {
		return nil, fmt.Errorf("load variants: %w", err)
	}
	if len(vs) == 0 {
		return []VariantView{}, nil
	}
	var counts []struct {
		VariantID uint64
		N         int
	}
	if err := db.WithContext(ctx).Model(&store.TouchpointAssignment{}).Select("variant_id, COUNT(*) AS n").
		Where("touchpoint_id IN ?", ids).Group("variant_id").Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("count assignments: %w", err)
	}
	n := make(map[uint64]int, len(counts))
	for _, c := range counts {
		n[c.VariantID] = c.N
	}
	out := make([]VariantView, len(vs))
	for i, v := range vs {
		out[i] = VariantView{TouchpointVariant: v, Assigned: n[v.ID]}
	}
	return out, nil
}

// VariantsOf lists the variants of touchpoints ids, which the caller has
// read through this door already (ListTouchpoints, Touchpoint, a create or
// change), with their assignment counts.
func (s *Service) VariantsOf(ctx context.Context, ids []uint64) ([]VariantView, error) {
	return s.variantViews(ctx, s.DB, ids)
}

// sameVariants reports whether b would store what a holds (copy, weight,
// timing and its times, in order).
func sameVariants(a, b []store.TouchpointVariant) bool {
	if len(a) != len(b) {
		return false
	}
	eq := func(x, y *int64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	for i := range a {
		x, y := a[i], b[i]
		if x.Title != y.Title || x.Body != y.Body || x.Button != y.Button || x.Weight != y.Weight || x.Timing != y.Timing ||
			!eq(x.Offset, y.Offset) || !eq(x.BestFrom, y.BestFrom) || !eq(x.BestTo, y.BestTo) {
			return false
		}
	}
	return true
}
