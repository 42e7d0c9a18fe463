package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/learnloop/learnloop/store"
)

// VariantCopy is what a touchpoint variant changes on a card: its title,
// body and main (primary) button's text, where not empty.
type VariantCopy struct {
	// ID is the variant's id, Name its letter (A–D).
	ID     uint64
	Name   string
	Title  string
	Body   string
	Button string
}

// Splitter splits a touchpoint's audience among its A/B variants (the
// planner's variants implement it). Only touchpoints with Variants > 0
// are asked.
type Splitter interface {
	// Split records the variant of each target of tp not yet assigned one
	// (the first recorded wins) and returns every target's variant by
	// employee id, before their delivery rows are written.
	Split(ctx context.Context, tpID uint64, targets []Target) (map[uint64]VariantCopy, error)
	// Assigned returns the variant recorded for employeeID in touchpoint
	// tpID; ok is false when none is.
	Assigned(ctx context.Context, tpID, employeeID uint64) (v VariantCopy, ok bool, err error)
}

// WithVariant returns a copy of cc that renders variant v's copy.
func (cc CardContext) WithVariant(v VariantCopy) CardContext {
	cc.Variant = &v
	return cc
}

// applyVariant puts v's copy on m: its title, body and the main button's
// text where v has them, and the plain-text form to match.
func applyVariant(m *Message, v *VariantCopy) {
	if v == nil {
		return
	}
	oldTitle, oldBody := m.Title, m.Body
	if v.Title != "" {
		m.Title = v.Title
	}
	if v.Body != "" {
		m.Body = v.Body
	}
	if v.Button != "" {
		// The main (primary) button only: a score card's scale keeps its
		// numbers.
		for i := range m.Buttons {
			if m.Buttons[i].Primary {
				m.Buttons[i].Text = v.Button
				break
			}
		}
	}
	if m.Fallback != "" {
		m.Fallback = strings.Replace(m.Fallback, oldTitle+"\n"+oldBody, m.Title+"\n"+m.Body, 1)
	}
}

// variantOf is the copy a card of cc shows: the one the fan-out resolved,
// else the recorded assignment of its recipient (a card re-rendered after a
// tap), else none.
func (r *Renderer) variantOf(ctx context.Context, cc CardContext) (*VariantCopy, error) {
	if cc.Variant != nil || cc.Touchpoint.Variants == 0 || cc.Recipient.ID == 0 || r.Variants == nil {
		return cc.Variant, nil
	}
	v, ok, err := r.Variants.Assigned(ctx, cc.Touchpoint.ID, cc.Recipient.ID)
	if err != nil {
		return nil, fmt.Errorf("load variant of touchpoint %d: %w", cc.Touchpoint.ID, err)
	}
	if !ok {
		return nil, nil
	}
	return &v, nil
}

// variantSplit keeps one fire's variants by employee id (written by the
// audience's resolution, read by the send workers).
type variantSplit struct {
	mu sync.Mutex
	m  map[uint64]VariantCopy
}

func (s *variantSplit) put(m map[uint64]VariantCopy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[uint64]VariantCopy, len(m))
	}
	for k, v := range m {
		s.m[k] = v
	}
}

func (s *variantSplit) get(id uint64) (VariantCopy, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	return v, ok
}

// forget drops the variants of people whose rows are done (people.forget).
func (s *variantSplit) forget(rows []store.Delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		return
	}
	for _, r := range rows {
		if r.SubjectID == 0 {
			delete(s.m, r.EmployeeID)
		}
	}
}

// forget drops what the run keeps of the recipients of rows whose send is
// over for it: their card's person and variant.
func (f *fireJob) forget(rows []store.Delivery) {
	f.emp.forget(rows)
	f.variants.forget(rows)
}

// split records and applies tp's variants to one page of targets: every
// target is assigned, and only those of the variant this fire sends (all
// when it sends every variant) are kept.
func (f *fireJob) split(ctx context.Context, targets []Target) ([]Target, error) {
	if f.tp.Variants == 0 || f.d.Renderer == nil || f.d.Renderer.Variants == nil || len(targets) == 0 {
		return targets, nil
	}
	m, err := f.d.Renderer.Variants.Split(ctx, f.tp.ID, targets)
	if err != nil {
		return nil, fmt.Errorf("split touchpoint %d among its variants: %w", f.tp.ID, err)
	}
	if f.variant == 0 {
		f.variants.put(m)
		return targets, nil
	}
	kept := targets[:0:0]
	for _, t := range targets {
		if m[t.Employee.ID].ID == f.variant {
			kept = append(kept, t)
		} else {
			delete(m, t.Employee.ID) // not sent by this run
		}
	}
	f.variants.put(m)
	return kept, nil
}
