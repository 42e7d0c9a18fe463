package plan

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/experiment"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
)

// A touchpoint's A/B variants: 2 to MaxVariants arms, named A (the control)
// to D; each may change the card's title, body and button text and send at
// its own time (TimingOffset, TimingBest). Only a one-off touchpoint has
// variants (each variant's time is one fire).
const (
	MinVariants = 2
	MaxVariants = 4
	// MaxVariantTitle, MaxVariantButton and MaxVariantBody bound a
	// variant's texts (the columns of store.TouchpointVariant; the body
	// like a note).
	MaxVariantTitle  = 255
	MaxVariantButton = 64
	MaxVariantBody   = 1000
	// MaxVariantWeight bounds a variant's share.
	MaxVariantWeight = 100
)

// Variant problems (CheckVariants).
const (
	ProblemVariantCount = "variant_count" // not 0 and not MinVariants..MaxVariants
	ProblemVariantCron  = "variant_cron"  // a recurring touchpoint cannot have variants
	ProblemTiming       = "bad_timing"    // timing not same, offset or best
	ProblemSameVariants = "same_variants" // two variants that send the same card at the same time
)

// VariantNames are the variants' names in order.
var VariantNames = []string{"A", "B", "C", "D"}

// Timings are the variant timings.
var Timings = []string{store.TimingSame, store.TimingOffset, store.TimingBest}

// variantTouchpoint is tp as variant v sends it: v's offset, or v's
// best-time window with tp's time as the fallback.
func variantTouchpoint(tp store.Touchpoint, v store.TouchpointVariant) store.Touchpoint {
	switch v.Timing {
	case store.TimingOffset:
		if v.Offset != nil {
			tp.Offset = *v.Offset
		}
		tp.BestFrom, tp.BestTo = nil, nil
	case store.TimingBest:
		tp.BestFrom, tp.BestTo = v.BestFrom, v.BestTo
	}
	return tp
}

// CheckVariants adds the problems of vs as the variants of tp: none or
// MinVariants..MaxVariants, a one-off touchpoint, texts within their
// columns, a timing each with its offset in range or its window valid as
// CheckBest has it (fields "variants[i].…"), no two variants alike.
func (ps *Problems) CheckVariants(tp store.Touchpoint, vs []store.TouchpointVariant) {
	if len(vs) == 0 {
		return
	}
	if len(vs) < MinVariants || len(vs) > MaxVariants {
		*ps = append(*ps, Problem{Field: "variants", Kind: ProblemVariantCount, Min: MinVariants, Max: MaxVariants})
		return
	}
	if tp.CronSpec != "" {
		*ps = append(*ps, Problem{Field: "variants", Kind: ProblemVariantCron})
		return
	}
	seen := map[string]bool{}
	for i, v := range vs {
		f := func(name string) string { return "variants[" + strconv.Itoa(i) + "]." + name }
		ps.Text(f("title"), v.Title, MaxVariantTitle, false)
		ps.Text(f("body"), v.Body, MaxVariantBody, false)
		ps.Text(f("button"), v.Button, MaxVariantButton, false)
		if v.Weight < 1 || v.Weight > MaxVariantWeight {
			*ps = append(*ps, Problem{Field: f("weight"), Kind: ProblemRange, Min: 1, Max: MaxVariantWeight})
		}
		switch v.Timing {
		case store.TimingSame:
		case store.TimingOffset:
			if tp.Anchor == store.AnchorAbsolute {
				*ps = append(*ps, Problem{Field: f("timing"), Kind: ProblemTiming})
			} else if v.Offset == nil || *v.Offset < -MaxOffsetMinutes*60 || *v.Offset > MaxOffsetMinutes*60 {
				*ps = append(*ps, Problem{Field: f("offset"), Kind: ProblemRange, Min: -MaxOffsetMinutes, Max: MaxOffsetMinutes})
			}
		case store.TimingBest:
			var bs Problems
			vt := variantTouchpoint(tp, v)
			if vt.BestFrom == nil && vt.BestTo == nil {
				bs = append(bs, Problem{Field: "best_from", Kind: ProblemRequired})
			}
			bs.CheckBest(vt)
			for _, b := range bs {
				b.Field = f(b.Field)
				*ps = append(*ps, b)
			}
		default:
			*ps = append(*ps, Problem{Field: f("timing"), Kind: ProblemTiming})
		}
		key := fmt.Sprintf("%q|%q|%q|%s|%v|%v|%v", v.Title, v.Body, v.Button, v.Timing, deref(v.Offset), deref(v.BestFrom), deref(v.BestTo))
		if seen[key] {
			*ps = append(*ps, Problem{Field: f("title"), Kind: ProblemSameVariants})
		}
		seen[key] = true
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// Sent reports whether anything of touchpoint tpID was delivered (a
// delivery row exists), after which its variants are fixed.
func Sent(ctx context.Context, db *gorm.DB, tpID uint64) (bool, error) {
	var n int64
	if err := db.WithContext(ctx).Model(&store.Delivery{}).Where("touchpoint_id = ?", tpID).Limit(1).Count(&n).Error; err != nil {
		return false, fmt.Errorf("count deliveries of touchpoint %d: %w", tpID, err)
	}
	return n > 0, nil
}

// SetVariants replaces the variants of touchpoint tp (in sess) with vs
// (none removes them), plans each variant's fire time and schedules its
// job, in tx. It refuses (ErrConflict) once anything of tp was sent, and
// (ErrInvalid) what CheckVariants refuses.
func (p *Planner) SetVariants(ctx context.Context, tx *gorm.DB, tp *store.Touchpoint, sess store.Session, vs []store.TouchpointVariant) error {
	var ps Problems
	ps.CheckVariants(*tp, vs)
	if len(ps) > 0 {
		errs := make([]error, len(ps))
		for i, pr := range ps {
			errs[i] = fmt.Errorf("%s %w", pr.Field, pr)
		}
		return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	sent, err := Sent(ctx, tx, tp.ID)
	if err != nil {
		return err
	}
	if sent {
		return fmt.Errorf("touchpoint %d was already sent, its variants are fixed: %w", tp.ID, ErrConflict)
	}
	db := tx.WithContext(ctx)
	var old []store.TouchpointVariant
	if err := db.Where("touchpoint_id = ?", tp.ID).Find(&old).Error; err != nil {
		return fmt.Errorf("load variants: %w", err)
	}
	if err := p.cancelJobs(ctx, tx, *tp, old); err != nil {
		return err
	}
	if err := db.Where("touchpoint_id = ?", tp.ID).Delete(&store.TouchpointAssignment{}).Error; err != nil {
		return fmt.Errorf("clear assignments: %w", err)
	}
	if err := db.Where("touchpoint_id = ?", tp.ID).Delete(&store.TouchpointVariant{}).Error; err != nil {
		return fmt.Errorf("clear variants: %w", err)
	}
	now := p.now()
	for i := range vs {
		vs[i].ID, vs[i].TouchpointID, vs[i].Name, vs[i].CreatedAt = 0, tp.ID, VariantNames[i], now
	}
	if len(vs) > 0 {
		if err := db.Create(&vs).Error; err != nil {
			return fmt.Errorf("create variants: %w", err)
		}
	}
	tp.Variants = len(vs)
	if err := db.Model(&store.Touchpoint{}).Where("id = ?", tp.ID).Update("variants", tp.Variants).Error; err != nil {
		return fmt.Errorf("count variants: %w", err)
	}
	if err := p.planVariants(ctx, tx, *tp, sess); err != nil {
		return err
	}
	return p.enqueue(ctx, tx, *tp)
}

// LoadVariants returns touchpoint tpID's variants in name order.
func LoadVariants(ctx context.Context, db *gorm.DB, tpID uint64) ([]store.TouchpointVariant, error) {
	var vs []store.TouchpointVariant
	if err := db.WithContext(ctx).Where("touchpoint_id = ?", tpID).Order("name").Find(&vs).Error; err != nil {
		return nil, fmt.Errorf("load variants of touchpoint %d: %w", tpID, err)
	}
	return vs, nil
}

// planVariants computes and stores each variant's fire time (and learned
// choice) from tp as just planned: a TimingSame variant sends when tp
// does.
func (p *Planner) planVariants(ctx context.Context, tx *gorm.DB, tp store.Touchpoint, sess store.Session) error {
	if tp.Variants == 0 {
		return nil
	}
	vs, err := LoadVariants(ctx, tx, tp.ID)
	if err != nil {
		return err
	}
	for _, v := range vs {
		vt := tp
		if v.Timing != store.TimingSame {
			vt = variantTouchpoint(tp, v)
			if err := p.computeRunAt(ctx, tx, &vt, sess); err != nil {
				return err
			}
		}
		at := vt.RunAt
		if err := tx.WithContext(ctx).Model(&store.TouchpointVariant{}).Where("id = ?", v.ID).
			Updates(map[string]any{"run_at": at, "send_basis": vt.SendBasis}).Error; err != nil {
			return fmt.Errorf("plan variant %s: %w", v.Name, err)
		}
	}
	return nil
}

func variantJobKey(tpID uint64, occ string, variantID uint64) string {
	return jobKey(tpID, occ) + ":v" + strconv.FormatUint(variantID, 10)
}

// cancelJobs cancels tp's fire job and those of its variants vs.
func (p *Planner) cancelJobs(ctx context.Context, tx *gorm.DB, tp store.Touchpoint, vs []store.TouchpointVariant) error {
	occ := p.occurrence(tp)
	if err := p.Sched.CancelKey(ctx, tx, jobKey(tp.ID, occ)); err != nil {
		return err
	}
	for _, v := range vs {
		if err := p.Sched.CancelKey(ctx, tx, variantJobKey(tp.ID, occ, v.ID)); err != nil {
			return err
		}
	}
	return nil
}

// VariantFire is one variant's planned fire: its name and copy, when it
// goes out and, for a learned time, the choice.
type VariantFire struct {
	Variant store.TouchpointVariant
	Fire    Fire
}

// VariantFires returns each variant of vs as tp sends it now: the fire
// time after quiet hours (a learned one chosen as planning would choose it
// now).
func (p *Planner) VariantFires(ctx context.Context, tp store.Touchpoint, sess store.Session, vs []store.TouchpointVariant) ([]VariantFire, error) {
	out := make([]VariantFire, 0, len(vs))
	for _, v := range vs {
		fs, err := p.Fires(ctx, variantTouchpoint(tp, v), sess, 1)
		if err != nil {
			return out, err
		}
		vf := VariantFire{Variant: v}
		if len(fs) > 0 {
			vf.Fire = fs[0]
		}
		out = append(out, vf)
	}
	return out, nil
}

// Splitter assigns people to touchpoint variants and records it
// (bot.Splitter): the variant is experiment.Pick over the variants'
// weights with a key derived from the app's secret, on "tp<id>:employee",
// written to touchpoint_assignments before the person's delivery row; the
// first row written wins, so every occurrence and replica agrees.
type Splitter struct {
	DB  *gorm.DB
	Key []byte
	Now func() time.Time

	cache sync.Map // touchpoint id → splitEntry
}

type splitEntry struct {
	vs []store.TouchpointVariant
	at time.Time
}

// splitTTL is how long a touchpoint's loaded variants are reused.
const splitTTL = 30 * time.Second

func (s *Splitter) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Splitter) variants(ctx context.Context, tpID uint64) ([]store.TouchpointVariant, error) {
	if e, ok := s.cache.Load(tpID); ok && time.Since(e.(splitEntry).at) < splitTTL {
		return e.(splitEntry).vs, nil
	}
	vs, err := LoadVariants(ctx, s.DB, tpID)
	if err != nil {
		return nil, err
	}
	s.cache.Store(tpID, splitEntry{vs: vs, at: time.Now()})
	return vs, nil
}

func copyOf(v store.TouchpointVariant) bot.VariantCopy {
	return bot.VariantCopy{ID: v.ID, Name: v.Name, Title: v.Title, Body: v.Body, Button: v.Button}
}

// Pick is the variant experiment.Pick gives employeeID in tp among vs.
func Pick(key []byte, tpID, employeeID uint64, vs []store.TouchpointVariant) (store.TouchpointVariant, bool) {
	weights := make([]int, len(vs))
	for i, v := range vs {
		weights[i] = v.Weight
	}
	i := experiment.Pick(key, "tp"+strconv.FormatUint(tpID, 10), employeeID, weights)
	if i < 0 {
		return store.TouchpointVariant{}, false
	}
	return vs[i], true
}

// Split implements bot.Splitter.
func (s *Splitter) Split(ctx context.Context, tpID uint64, targets []bot.Target) (map[uint64]bot.VariantCopy, error) {
	vs, err := s.variants(ctx, tpID)
	if err != nil || len(vs) == 0 {
		return map[uint64]bot.VariantCopy{}, err
	}
	byID := make(map[uint64]store.TouchpointVariant, len(vs))
	for _, v := range vs {
		byID[v.ID] = v
	}
	ids := make([]uint64, len(targets))
	for i, t := range targets {
		ids[i] = t.Employee.ID
	}
	got, err := s.assigned(ctx, tpID, ids)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var fresh []store.TouchpointAssignment
	for _, id := range ids {
		if _, ok := got[id]; ok {
			continue
		}
		if v, ok := Pick(s.Key, tpID, id, vs); ok {
			fresh = append(fresh, store.TouchpointAssignment{TouchpointID: tpID, EmployeeID: id, VariantID: v.ID, AssignedAt: now})
			got[id] = 0 // not twice in one page
		}
	}
	if len(fresh) > 0 {
		for i := 0; i < len(fresh); i += 1000 {
			part := fresh[i:min(i+1000, len(fresh))]
			if err := store.Retry(ctx, func() error {
				return s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&part).Error
			}); err != nil {
				return nil, fmt.Errorf("record assignments: %w", err)
			}
		}
		// Read back: a concurrent fire may have recorded some first.
		if got, err = s.assigned(ctx, tpID, ids); err != nil {
			return nil, err
		}
	}
	out := make(map[uint64]bot.VariantCopy, len(got))
	for e, vid := range got {
		if v, ok := byID[vid]; ok {
			out[e] = copyOf(v)
		}
	}
	return out, nil
}

func (s *Splitter) assigned(ctx context.Context, tpID uint64, ids []uint64) (map[uint64]uint64, error) {
	out := make(map[uint64]uint64, len(ids))
	for i := 0; i < len(ids); i += 1000 {
		var rows []store.TouchpointAssignment
		if err := s.DB.WithContext(ctx).Select("employee_id", "variant_id").
			Where("touchpoint_id = ? AND employee_id IN ?", tpID, ids[i:min(i+1000, len(ids))]).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("load assignments: %w", err)
		}
		for _, r := range rows {
			out[r.EmployeeID] = r.VariantID
		}
	}
	return out, nil
}

// Assigned implements bot.Splitter.
func (s *Splitter) Assigned(ctx context.Context, tpID, employeeID uint64) (bot.VariantCopy, bool, error) {
	got, err := s.assigned(ctx, tpID, []uint64{employeeID})
	if err != nil {
		return bot.VariantCopy{}, false, err
	}
	vid, ok := got[employeeID]
	if !ok {
		return bot.VariantCopy{}, false, nil
	}
	vs, err := s.variants(ctx, tpID)
	if err != nil {
		return bot.VariantCopy{}, false, err
	}
	for _, v := range vs {
		if v.ID == vid {
			return copyOf(v), true, nil
		}
	}
	return bot.VariantCopy{}, false, nil
}

// AssignmentKey derives the Splitter's key from the app's secret (its own
// purpose, so it is no link signing key).
func AssignmentKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("learnloop touchpoint assignment"))
	return m.Sum(nil)
}

// movePendingVariants plans again, after session sess moved, the variants
// still waiting for their own time of a touchpoint whose first variants
// already went out (it is fired, so Reschedule does not replan it): each
// such variant's job moves to its new time, or is cancelled when that time
// makes a reminder pointless, as planning a touchpoint would.
func (p *Planner) movePendingVariants(ctx context.Context, tx *gorm.DB, sess store.Session) error {
	var tps []store.Touchpoint
	if err := tx.WithContext(ctx).Where("session_id = ? AND status = ? AND variants > 0 AND (cron_spec = '' OR cron_spec IS NULL)", sess.ID, store.TouchpointFired).
		Find(&tps).Error; err != nil {
		return fmt.Errorf("load sent touchpoints with variants: %w", err)
	}
	for _, tp := range tps {
		if err := p.replanVariants(ctx, tx, tp, sess, func(state string) bool { return state == store.JobAvailable }); err != nil {
			return err
		}
	}
	return nil
}

// variantJobStates is the state of the fire job of each variant of
// one-off touchpoint tpID, by variant id ("" when it has none).
func variantJobStates(ctx context.Context, db *gorm.DB, tpID uint64, vs []store.TouchpointVariant) (map[uint64]string, error) {
	keys := make([]string, len(vs))
	byKey := make(map[string]uint64, len(vs))
	for i, v := range vs {
		keys[i] = variantJobKey(tpID, OneOff, v.ID)
		byKey[keys[i]] = v.ID
	}
	out := make(map[uint64]string, len(vs))
	if len(keys) == 0 {
		return out, nil
	}
	var jobs []store.Job
	if err := db.WithContext(ctx).Select("unique_key", "state").Where("unique_key IN ?", keys).Find(&jobs).Error; err != nil {
		return nil, fmt.Errorf("load the variants' jobs of touchpoint %d: %w", tpID, err)
	}
	for _, j := range jobs {
		if j.UniqueKey != nil {
			out[byKey[*j.UniqueKey]] = j.State
		}
	}
	return out, nil
}

// VariantsWaiting reports whether tp, a one-off touchpoint whose first
// variants already went out (status fired), still has variants waiting for
// their own time: those a pause holds, a resume sends and a cancel drops.
func VariantsWaiting(ctx context.Context, db *gorm.DB, tp store.Touchpoint) (bool, error) {
	if tp.Status != store.TouchpointFired || tp.Variants == 0 || tp.CronSpec != "" {
		return false, nil
	}
	vs, err := LoadVariants(ctx, db, tp.ID)
	if err != nil {
		return false, err
	}
	states, err := variantJobStates(ctx, db, tp.ID, vs)
	if err != nil {
		return false, err
	}
	for _, st := range states {
		if st == store.JobAvailable {
			return true, nil
		}
	}
	return false, nil
}

// VariantsWaiting is VariantsWaiting on the planner's database.
func (p *Planner) VariantsWaiting(ctx context.Context, tp store.Touchpoint) (bool, error) {
	return VariantsWaiting(ctx, p.DB, tp)
}

// pauseVariants pauses tp, a one-off touchpoint of which some variants
// were sent: the variants still waiting keep their people and lose their
// jobs until a resume.
func (p *Planner) pauseVariants(ctx context.Context, tx *gorm.DB, tp *store.Touchpoint) error {
	vs, err := LoadVariants(ctx, tx, tp.ID)
	if err != nil {
		return err
	}
	tp.Status = store.TouchpointPaused
	if err := tx.WithContext(ctx).Model(tp).Update("status", tp.Status).Error; err != nil {
		return fmt.Errorf("pause touchpoint %d: %w", tp.ID, err)
	}
	return p.cancelJobs(ctx, tx, *tp, vs)
}

// resumeVariants resumes tp, a paused one-off touchpoint of which some
// variants were sent before the pause: it is fired again (what was sent
// stays sent) and every variant whose job has not run is planned again
// from now, as a session move plans it.
func (p *Planner) resumeVariants(ctx context.Context, tx *gorm.DB, tp *store.Touchpoint) error {
	var sess store.Session
	if err := tx.WithContext(ctx).First(&sess, tp.SessionID).Error; err != nil {
		return fmt.Errorf("load session: %w", err)
	}
	tp.Status = store.TouchpointFired
	if err := tx.WithContext(ctx).Model(tp).Update("status", tp.Status).Error; err != nil {
		return fmt.Errorf("resume touchpoint %d: %w", tp.ID, err)
	}
	return p.replanVariants(ctx, tx, *tp, sess, func(state string) bool {
		return state != store.JobRunning && state != store.JobCompleted && state != store.JobFailed
	})
}

// replanVariants plans again each variant of tp (fired, so not planned as
// a whole) whose job state pending accepts: its time from now, its job
// moved there, or cancelled when that time makes it pointless.
func (p *Planner) replanVariants(ctx context.Context, tx *gorm.DB, tp store.Touchpoint, sess store.Session, pending func(state string) bool) error {
	vs, err := LoadVariants(ctx, tx, tp.ID)
	if err != nil {
		return err
	}
	states, err := variantJobStates(ctx, tx, tp.ID, vs)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if !pending(states[v.ID]) {
			continue
		}
		key := variantJobKey(tp.ID, OneOff, v.ID)
		vt := variantTouchpoint(tp, v)
		vt.Status = store.TouchpointScheduled
		if err := p.computeRunAt(ctx, tx, &vt, sess); err != nil {
			return err
		}
		if vt.Status != store.TouchpointScheduled {
			if err := p.Sched.CancelKey(ctx, tx, key); err != nil {
				return err
			}
			continue
		}
		if err := tx.WithContext(ctx).Model(&store.TouchpointVariant{}).Where("id = ?", v.ID).
			Updates(map[string]any{"run_at": vt.RunAt, "send_basis": vt.SendBasis}).Error; err != nil {
			return fmt.Errorf("plan variant %s: %w", v.Name, err)
		}
		if _, _, err := p.Sched.Enqueue(ctx, tx, scheduler.JobSpec{
			Kind: JobFire, UniqueKey: key, Replace: true, RunAt: vt.RunAt,
			Payload: FirePayload{TouchpointID: tp.ID, Occurrence: OneOff, Variant: v.ID},
		}); err != nil {
			return fmt.Errorf("plan variant %s of touchpoint %d: %w", v.Name, tp.ID, err)
		}
	}
	return nil
}
