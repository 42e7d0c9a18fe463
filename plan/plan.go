// Package plan turns a class session's touchpoints into scheduled jobs: the
// default plan, fire times after quiet hours, "send now", pause and the job
// handler that hands a due touchpoint to delivery.
package plan

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/defaults"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/sendtime"
	"github.com/learnloop/learnloop/store"
)

// JobFire is the job kind that fires one touchpoint occurrence.
const JobFire = "touchpoint.fire"

// OneOff is the occurrence id of a touchpoint that fires once.
const OneOff = "0"

// Spec describes one touchpoint of a plan.
type Spec struct {
	Kind     string        `json:"kind"`
	Anchor   string        `json:"anchor"`
	Offset   time.Duration `json:"offset"`
	Audience string        `json:"audience"`
}

// DefaultPlan is applied to every new session: a reminder a day before, a
// check-in prompt 15 minutes before the start, and a make-up reminder an hour
// after the end to those who have not checked in.
func DefaultPlan() []Spec {
	return []Spec{
		{Kind: bot.KindReminder, Anchor: store.AnchorStart, Offset: -24 * time.Hour, Audience: store.AudienceAll},
		{Kind: bot.KindCheckinPrompt, Anchor: store.AnchorStart, Offset: -15 * time.Minute, Audience: store.AudienceAll},
		{Kind: bot.KindMakeupReminder, Anchor: store.AnchorEnd, Offset: time.Hour, Audience: store.AudienceNotCheckedIn},
	}
}

// FirePayload is the JSON payload of a JobFire job.
type FirePayload struct {
	TouchpointID uint64 `json:"touchpoint_id"`
	Occurrence   string `json:"occurrence"`
	// Variant, when set, fires only the people assigned to that A/B
	// variant of the touchpoint (its own fire time).
	Variant uint64 `json:"variant,omitempty"`
}

// Planner schedules touchpoints.
type Planner struct {
	DB    *gorm.DB
	Sched *scheduler.Scheduler
	Quiet scheduler.QuietHours
	Now   func() time.Time
	// Kinds and Audiences accept touchpoint kinds and audiences beyond the
	// core loop's (surveys register theirs); nil means none.
	Kinds     map[string]bool
	Audiences map[string]bool
}

func (p *Planner) now() time.Time { return defaults.Now(p.Now) }

// Plan errors.
var (
	ErrInvalid  = errors.New("invalid touchpoint")
	ErrNotFound = store.ErrNotFound // one not-found for every package
	ErrConflict = errors.New("conflict")
)

// Due returns when tp should fire before quiet hours are applied. For cron
// touchpoints it is the next occurrence after `after`.
func Due(tp store.Touchpoint, sess store.Session, after time.Time) (time.Time, error) {
	if tp.CronSpec != "" {
		return scheduler.NextCron(tp.CronSpec, bot.SessionLocation(sess), after)
	}
	switch tp.Anchor {
	case store.AnchorStart:
		return sess.StartsAt.Add(time.Duration(tp.Offset) * time.Second).UTC(), nil
	case store.AnchorEnd:
		return sess.EndsAt.Add(time.Duration(tp.Offset) * time.Second).UTC(), nil
	case store.AnchorAbsolute:
		if tp.At == nil {
			return time.Time{}, fmt.Errorf("absolute touchpoint has no time: %w", ErrInvalid)
		}
		return tp.At.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("unknown anchor %q: %w", tp.Anchor, ErrInvalid)
}

// Validate checks a touchpoint of the core loop before it is stored.
func Validate(tp store.Touchpoint) error { return (&Planner{}).Validate(tp) }

// Validate checks a touchpoint before it is stored, accepting p's extra
// kinds and audiences.
func (p *Planner) Validate(tp store.Touchpoint) error {
	var errs []error
	known := p.Kinds[tp.Kind]
	kinds := append([]string(nil), bot.CardKinds...)
	for k := range p.Kinds {
		kinds = append(kinds, k)
	}
	for _, k := range bot.CardKinds {
		known = known || k == tp.Kind
	}
	if !known {
		sort.Strings(kinds)
		errs = append(errs, fmt.Errorf("kind %q is not one of %v", tp.Kind, kinds))
	}
	switch {
	case tp.Audience == store.AudienceAll, tp.Audience == store.AudienceNotCheckedIn, tp.Audience == store.AudienceCheckedIn, p.Audiences[tp.Audience]:
	default:
		auds := []string{store.AudienceAll, store.AudienceNotCheckedIn, store.AudienceCheckedIn}
		for a := range p.Audiences {
			auds = append(auds, a)
		}
		sort.Strings(auds)
		errs = append(errs, fmt.Errorf("audience %q is not one of %v", tp.Audience, auds))
	}
	switch tp.Anchor {
	case store.AnchorStart, store.AnchorEnd:
	case store.AnchorAbsolute:
		if tp.At == nil && tp.CronSpec == "" {
			errs = append(errs, errors.New("anchor absolute needs at"))
		}
	default:
		errs = append(errs, fmt.Errorf("anchor %q is not one of start, end, absolute", tp.Anchor))
	}
	if tp.CronSpec != "" {
		if _, err := scheduler.NextCron(tp.CronSpec, time.UTC, time.Now()); err != nil {
			errs = append(errs, fmt.Errorf("cron: %v", err))
		}
	}
	if tp.Kind == bot.KindCustom && tp.Note == "" {
		errs = append(errs, errors.New("custom touchpoint needs a note (the message text)"))
	}
	// The bounds the API and the console apply to their input (validate.go).
	var ps Problems
	if tp.Anchor != store.AnchorAbsolute && (tp.Offset < -MaxOffsetMinutes*60 || tp.Offset > MaxOffsetMinutes*60) {
		ps = append(ps, Problem{Field: "offset", Kind: ProblemRange, Min: -MaxOffsetMinutes, Max: MaxOffsetMinutes})
	}
	if tp.At != nil {
		ps.Date("at", *tp.At)
	}
	ps.Text("cron", tp.CronSpec, MaxCron, false)
	ps.Text("note", tp.Note, MaxNote, false)
	ps.CheckBest(tp)
	for _, p := range ps {
		errs = append(errs, fmt.Errorf("%s %w", p.Field, p))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// ApplyDefault creates and schedules the default plan for sess in tx.
func (p *Planner) ApplyDefault(ctx context.Context, tx *gorm.DB, sess store.Session) ([]store.Touchpoint, error) {
	return p.Apply(ctx, tx, sess, DefaultPlan())
}

// Apply creates and schedules specs for sess in tx.
func (p *Planner) Apply(ctx context.Context, tx *gorm.DB, sess store.Session, specs []Spec) ([]store.Touchpoint, error) {
	out := make([]store.Touchpoint, 0, len(specs))
	for _, s := range specs {
		tp := store.Touchpoint{
			SessionID: sess.ID, Kind: s.Kind, Anchor: s.Anchor, Offset: int64(s.Offset / time.Second),
			Audience: s.Audience, Template: s.Kind, Status: store.TouchpointScheduled,
		}
		if err := p.Create(ctx, tx, &tp, sess); err != nil {
			return out, err
		}
		out = append(out, tp)
	}
	return out, nil
}

// Create validates, stores and schedules a new touchpoint.
func (p *Planner) Create(ctx context.Context, tx *gorm.DB, tp *store.Touchpoint, sess store.Session) error {
	if tp.Template == "" {
		tp.Template = tp.Kind
	}
	if tp.Status == "" {
		tp.Status = store.TouchpointScheduled
	}
	if err := p.Validate(*tp); err != nil {
		return err
	}
	tp.SessionID = sess.ID
	if err := p.computeRunAt(ctx, tx, tp, sess); err != nil {
		return err
	}
	if err := tx.WithContext(ctx).Create(tp).Error; err != nil {
		return fmt.Errorf("create touchpoint: %w", err)
	}
	if err := p.planVariants(ctx, tx, *tp, sess); err != nil {
		return err
	}
	return p.enqueue(ctx, tx, *tp)
}

// computeRunAt sets RunAt from the anchor (or, for a best-time
// touchpoint, the learned best hour of its window, read in db) and quiet
// hours, and marks a reminder whose time has passed as skipped.
func (p *Planner) computeRunAt(ctx context.Context, db *gorm.DB, tp *store.Touchpoint, sess store.Session) error {
	now := p.now()
	due, err := Due(*tp, sess, now)
	if err != nil {
		return err
	}
	tp.SendBasis = ""
	if tp.Status == store.TouchpointScheduled {
		ch, ok, err := p.choose(ctx, db, *tp, sess, due, now)
		if err != nil {
			return err
		}
		if ok {
			due, tp.SendBasis = ch.At, ch.Basis()
		}
	}
	if tp.CronSpec == "" && due.Before(now) && tp.Status == store.TouchpointScheduled {
		// A reminder for a class about to start is pointless; prompts that
		// are still useful go out now.
		useful := now.Before(bot.SessionWindows(sess).MakeupUntil)
		if tp.Kind == bot.KindReminder || !useful {
			tp.Status = store.TouchpointSkipped
			tp.Note = cmp.Or(tp.Note, "time already passed when planned")
		}
		due = now
	}
	moved := p.QuietFor(sess).Next(due).UTC()
	if tp.Kind == bot.KindCheckinPrompt && moved.After(sess.StartsAt) && !due.After(sess.StartsAt) {
		// A class that starts inside quiet hours (07:30) still gets its
		// check-in prompt before it starts: people are on their way.
		moved = due
	}
	tp.RunAt = moved
	return nil
}

// BestWindow is the best-time window of tp in absolute times, when it has
// one.
func BestWindow(tp store.Touchpoint, sess store.Session) (sendtime.Window, bool) {
	if !tp.BestTime() || tp.CronSpec != "" {
		return sendtime.Window{}, false
	}
	var anchor time.Time
	switch tp.Anchor {
	case store.AnchorStart:
		anchor = sess.StartsAt
	case store.AnchorEnd:
		anchor = sess.EndsAt
	default:
		return sendtime.Window{}, false
	}
	return sendtime.Window{From: anchor.Add(time.Duration(*tp.BestFrom) * time.Second).UTC(), To: anchor.Add(time.Duration(*tp.BestTo) * time.Second).UTC()}, true
}

// choose picks the send time of a best-time touchpoint from the past
// pushes of the session's roster (sendtime.Read, in the session's zone,
// from db): the part of its window still ahead of now, with fallback (the
// configured time, or the window's first moment still ahead) where data is
// thin. ok is false for a touchpoint without a window or whose window has
// passed.
func (p *Planner) choose(ctx context.Context, db *gorm.DB, tp store.Touchpoint, sess store.Session, fallback, now time.Time) (sendtime.Choice, bool, error) {
	w, ok := BestWindow(tp, sess)
	if !ok {
		return sendtime.Choice{}, false, nil
	}
	if w.From.Before(now) {
		w.From = now
	}
	if !w.To.After(w.From) {
		return sendtime.Choice{}, false, nil
	}
	if fallback.Before(w.From) {
		fallback = w.From
	}
	if db == nil {
		db = p.DB
	}
	roster := db.WithContext(ctx).Model(&store.Enrollment{}).Select("employee_id").Where("session_id = ?", sess.ID)
	est, err := sendtime.Read(ctx, db, sendtime.Query{Employees: roster, Location: bot.SessionLocation(sess)}, now)
	if err != nil {
		return sendtime.Choice{}, false, fmt.Errorf("learn the send time of touchpoint %d: %w", tp.ID, err)
	}
	return est.Choose(w, fallback, p.QuietFor(sess)), true, nil
}

// QuietFor is the quiet hours and holidays read in the session's time
// zone: they protect the people in that class, who live by its clock (an
// 11:00 New York reminder is not moved by Shanghai's night). A session
// without a zone keeps the configured one.
func (p *Planner) QuietFor(sess store.Session) scheduler.QuietHours {
	if sess.TimeZone == "" {
		return p.Quiet
	}
	return p.Quiet.In(bot.SessionLocation(sess))
}

func jobKey(tpID uint64, occ string) string { return "tp:" + strconv.FormatUint(tpID, 10) + ":" + occ }

func (p *Planner) occurrence(tp store.Touchpoint) string {
	if tp.CronSpec == "" {
		return OneOff
	}
	return tp.RunAt.UTC().Format("20060102T1504Z")
}

func (p *Planner) enqueue(ctx context.Context, tx *gorm.DB, tp store.Touchpoint) error {
	occ := p.occurrence(tp)
	if tp.Variants > 0 {
		return p.enqueueVariants(ctx, tx, tp, occ)
	}
	if tp.Status != store.TouchpointScheduled {
		return p.Sched.CancelKey(ctx, tx, jobKey(tp.ID, occ))
	}
	_, _, err := p.Sched.Enqueue(ctx, tx, scheduler.JobSpec{
		Kind: JobFire, UniqueKey: jobKey(tp.ID, occ), Replace: true, RunAt: tp.RunAt,
		Payload: FirePayload{TouchpointID: tp.ID, Occurrence: occ},
	})
	if err != nil {
		return fmt.Errorf("schedule touchpoint %d: %w", tp.ID, err)
	}
	return nil
}

// enqueueVariants schedules one fire job per variant of tp, at the
// variant's planned time, instead of tp's own (cancelled), or cancels them
// all when tp is not scheduled.
func (p *Planner) enqueueVariants(ctx context.Context, tx *gorm.DB, tp store.Touchpoint, occ string) error {
	vs, err := LoadVariants(ctx, tx, tp.ID)
	if err != nil {
		return err
	}
	if err := p.cancelJobs(ctx, tx, tp, vs); err != nil || tp.Status != store.TouchpointScheduled {
		return err
	}
	for _, v := range vs {
		at := tp.RunAt
		if v.RunAt != nil {
			at = *v.RunAt
		}
		if _, _, err := p.Sched.Enqueue(ctx, tx, scheduler.JobSpec{
			Kind: JobFire, UniqueKey: variantJobKey(tp.ID, occ, v.ID), Replace: true, RunAt: at,
			Payload: FirePayload{TouchpointID: tp.ID, Occurrence: occ, Variant: v.ID},
		}); err != nil {
			return fmt.Errorf("schedule variant %s of touchpoint %d: %w", v.Name, tp.ID, err)
		}
	}
	return nil
}

// Update stores changes to a touchpoint and reschedules it.
func (p *Planner) Update(ctx context.Context, tx *gorm.DB, tp *store.Touchpoint) error {
	if err := p.Validate(*tp); err != nil {
		return err
	}
	var sess store.Session
	if err := tx.WithContext(ctx).First(&sess, tp.SessionID).Error; err != nil {
		return fmt.Errorf("load session: %w", err)
	}
	var old store.Touchpoint
	if err := tx.WithContext(ctx).First(&old, tp.ID).Error; err != nil {
		return fmt.Errorf("touchpoint %d: %w", tp.ID, ErrNotFound)
	}
	if old.Status == store.TouchpointFired && old.CronSpec == "" {
		return fmt.Errorf("touchpoint %d was already sent: %w", tp.ID, ErrConflict)
	}
	if tp.Status == store.TouchpointSkipped || tp.Status == "" {
		tp.Status = store.TouchpointScheduled
	}
	oldOcc := p.occurrence(old)
	if err := p.computeRunAt(ctx, tx, tp, sess); err != nil {
		return err
	}
	if err := tx.WithContext(ctx).Save(tp).Error; err != nil {
		return fmt.Errorf("save touchpoint: %w", err)
	}
	if err := p.planVariants(ctx, tx, *tp, sess); err != nil {
		return err
	}
	if newOcc := p.occurrence(*tp); newOcc != oldOcc {
		if err := p.Sched.CancelKey(ctx, tx, jobKey(tp.ID, oldOcc)); err != nil {
			return err
		}
	}
	return p.enqueue(ctx, tx, *tp)
}

// SetPaused pauses or resumes a touchpoint.
func (p *Planner) SetPaused(ctx context.Context, tx *gorm.DB, tpID uint64, paused bool) (store.Touchpoint, error) {
	var tp store.Touchpoint
	if err := tx.WithContext(ctx).First(&tp, tpID).Error; err != nil {
		return tp, fmt.Errorf("touchpoint %d: %w", tpID, ErrNotFound)
	}
	if paused {
		// Some variants sent, some waiting for their own time: the pause
		// holds those still to send.
		waiting, err := VariantsWaiting(ctx, tx, tp)
		if err != nil {
			return tp, err
		}
		if waiting {
			return tp, p.pauseVariants(ctx, tx, &tp)
		}
		if tp.Status != store.TouchpointScheduled {
			return tp, fmt.Errorf("touchpoint %d is %s: %w", tpID, tp.Status, ErrConflict)
		}
		tp.Status = store.TouchpointPaused
		if err := tx.WithContext(ctx).Model(&tp).Update("status", tp.Status).Error; err != nil {
			return tp, err
		}
		return tp, p.enqueue(ctx, tx, tp)
	}
	if tp.Status != store.TouchpointPaused {
		return tp, fmt.Errorf("touchpoint %d is %s: %w", tpID, tp.Status, ErrConflict)
	}
	if tp.Variants > 0 && tp.CronSpec == "" {
		sent, err := Sent(ctx, tx, tp.ID)
		if err != nil {
			return tp, err
		}
		if sent {
			return tp, p.resumeVariants(ctx, tx, &tp)
		}
	}
	tp.Status = store.TouchpointScheduled
	return tp, p.Update(ctx, tx, &tp)
}

// Delete removes a touchpoint that has not been sent and cancels its job.
func (p *Planner) Delete(ctx context.Context, tx *gorm.DB, tpID uint64) error {
	var tp store.Touchpoint
	if err := tx.WithContext(ctx).First(&tp, tpID).Error; err != nil {
		return fmt.Errorf("touchpoint %d: %w", tpID, ErrNotFound)
	}
	var n int64
	if err := tx.WithContext(ctx).Model(&store.Delivery{}).Where("touchpoint_id = ?", tpID).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		// Deliveries are facts reports rely on: cancel instead of deleting.
		if err := tx.WithContext(ctx).Model(&tp).Update("status", store.TouchpointCancelled).Error; err != nil {
			return err
		}
	} else if err := tx.WithContext(ctx).Delete(&tp).Error; err != nil {
		return err
	}
	vs, err := LoadVariants(ctx, tx, tp.ID)
	if err != nil {
		return err
	}
	if n == 0 && len(vs) > 0 {
		if err := tx.WithContext(ctx).Where("touchpoint_id = ?", tp.ID).Delete(&store.TouchpointVariant{}).Error; err != nil {
			return fmt.Errorf("delete variants: %w", err)
		}
	}
	return p.cancelJobs(ctx, tx, tp, vs)
}

// Reschedule recomputes every pending touchpoint of a session (after its
// times changed) or cancels them (when it was cancelled).
func (p *Planner) Reschedule(ctx context.Context, tx *gorm.DB, sess store.Session) error {
	var tps []store.Touchpoint
	if err := tx.WithContext(ctx).Where("session_id = ? AND status IN ?", sess.ID, []string{store.TouchpointScheduled, store.TouchpointSkipped}).Find(&tps).Error; err != nil {
		return err
	}
	for i := range tps {
		tp := &tps[i]
		if sess.Status == store.SessionCancelled {
			vs, err := LoadVariants(ctx, tx, tp.ID)
			if err != nil {
				return err
			}
			if err := p.cancelJobs(ctx, tx, *tp, vs); err != nil {
				return err
			}
			continue
		}
		if err := p.Update(ctx, tx, tp); err != nil {
			return err
		}
	}
	if sess.Status == store.SessionCancelled {
		return nil // a cancelled session's fires send nothing
	}
	return p.movePendingVariants(ctx, tx, sess)
}

// Rechoose plans again the scheduled best-time touchpoints of session
// sessionID, in tx: their estimate reads the roster's past pushes, so a
// roster change can change the choice.
func (p *Planner) Rechoose(ctx context.Context, tx *gorm.DB, sessionID uint64) error {
	var tps []store.Touchpoint
	if err := tx.WithContext(ctx).Where("session_id = ? AND status = ? AND best_from IS NOT NULL AND best_to IS NOT NULL AND (cron_spec = '' OR cron_spec IS NULL)",
		sessionID, store.TouchpointScheduled).Find(&tps).Error; err != nil {
		return fmt.Errorf("load best-time touchpoints: %w", err)
	}
	for i := range tps {
		if err := p.Update(ctx, tx, &tps[i]); err != nil {
			return err
		}
	}
	return nil
}

// Preview returns the next n fire times of tp after quiet hours.
func (p *Planner) Preview(ctx context.Context, tp store.Touchpoint, sess store.Session, n int) ([]time.Time, error) {
	fires, err := p.Fires(ctx, tp, sess, n)
	out := make([]time.Time, len(fires))
	for i, f := range fires {
		out[i] = f.At
	}
	return out, err
}

// Fire is one fire time of a touchpoint: Due is what its rule gives, At
// the time it goes out after quiet hours and holidays. A best-time
// touchpoint's Due is its configured time and SendTime the learned choice
// At comes from, with its basis.
type Fire struct {
	Due      time.Time
	At       time.Time
	SendTime *sendtime.Choice
}

// Moved reports whether quiet hours or a holiday moved the fire (from
// its due time, or from the learned choice).
func (f Fire) Moved() bool {
	if f.SendTime != nil {
		return !f.At.Equal(f.SendTime.At)
	}
	return !f.At.Equal(f.Due)
}

// Fires returns the next n fires of tp after now (one for a touchpoint
// that fires once), each with its due time and its time after quiet hours;
// a best-time touchpoint's is chosen as planning would choose it now.
func (p *Planner) Fires(ctx context.Context, tp store.Touchpoint, sess store.Session, n int) ([]Fire, error) {
	var out []Fire
	after := p.now()
	for len(out) < n {
		due, err := Due(tp, sess, after)
		if err != nil {
			return out, err
		}
		f := Fire{Due: due, At: p.QuietFor(sess).Next(due).UTC()}
		ch, ok, err := p.choose(ctx, nil, tp, sess, due, after)
		if err != nil {
			return out, err
		}
		if ok {
			f.SendTime, f.At = &ch, p.QuietFor(sess).Next(ch.At).UTC()
		}
		out = append(out, f)
		if tp.CronSpec == "" {
			break
		}
		after = due
	}
	return out, nil
}

// SendNow fires a touchpoint immediately. Deliveries are unique per
// (touchpoint, occurrence, recipient), so a second "send now" reaches only
// people added since.
func (p *Planner) SendNow(ctx context.Context, tpID uint64) (store.Job, error) {
	var tp store.Touchpoint
	if err := p.DB.WithContext(ctx).First(&tp, tpID).Error; err != nil {
		return store.Job{}, fmt.Errorf("touchpoint %d: %w", tpID, ErrNotFound)
	}
	if tp.Status == store.TouchpointCancelled {
		return store.Job{}, fmt.Errorf("touchpoint %d is cancelled: %w", tpID, ErrConflict)
	}
	if tp.Status == store.TouchpointPaused {
		return store.Job{}, fmt.Errorf("touchpoint %d is paused: %w", tpID, ErrConflict)
	}
	job, _, err := p.Sched.Enqueue(ctx, nil, scheduler.JobSpec{
		Kind: JobFire, UniqueKey: jobKey(tp.ID, "now"), Replace: true, RunAt: p.now(),
		Payload: FirePayload{TouchpointID: tp.ID, Occurrence: OneOff},
	})
	if err != nil {
		return job, fmt.Errorf("send touchpoint %d now: %w", tpID, err)
	}
	return job, nil
}

// FireHandler returns the scheduler handler for JobFire jobs.
func (p *Planner) FireHandler(d *bot.Deliverer) scheduler.Handler {
	return func(ctx context.Context, job store.Job) error {
		var pl FirePayload
		if err := json.Unmarshal([]byte(job.Payload), &pl); err != nil || pl.TouchpointID == 0 {
			return scheduler.Cancel(fmt.Errorf("bad fire payload %q", job.Payload))
		}
		// The job has one holder at a time: rows a previous holder left
		// "sending" are taken over at once (see bot.WithClaimOwner).
		_, err := d.FireVariant(bot.WithClaimOwner(ctx, fmt.Sprintf("job%d", job.ID)), pl.TouchpointID, pl.Occurrence, pl.Variant)
		var unsettled *bot.UnsettledError
		switch {
		case errors.Is(err, bot.ErrNotFound):
			return scheduler.Cancel(err)
		case errors.As(err, &unsettled):
			return scheduler.Snooze(unsettled.Wait)
		}
		if err != nil {
			return err
		}
		return p.scheduleNext(ctx, pl)
	}
}

// scheduleNext enqueues a recurring touchpoint's next occurrence.
func (p *Planner) scheduleNext(ctx context.Context, pl FirePayload) error {
	var tp store.Touchpoint
	if err := p.DB.WithContext(ctx).First(&tp, pl.TouchpointID).Error; err != nil {
		return nil
	}
	if tp.CronSpec == "" || pl.Occurrence == OneOff {
		return nil
	}
	var sess store.Session
	if err := p.DB.WithContext(ctx).First(&sess, tp.SessionID).Error; err != nil {
		return err
	}
	tp.Status = store.TouchpointScheduled
	due, err := Due(tp, sess, p.now())
	if err != nil {
		return scheduler.Cancel(err)
	}
	tp.RunAt = p.QuietFor(sess).Next(due).UTC()
	if err := p.DB.WithContext(ctx).Model(&tp).Updates(map[string]any{"status": tp.Status, "run_at": tp.RunAt}).Error; err != nil {
		return err
	}
	return p.enqueue(ctx, p.DB, tp)
}
