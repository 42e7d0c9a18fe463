package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// ErrTransient is returned by Fire when some deliveries failed in a way that a
// later attempt may fix; they stay pending and the job is retried.
var ErrTransient = errors.New("some deliveries failed transiently")

// Deliverer fans a touchpoint out to its audience: one delivery row per
// recipient, each sent at most once.
type Deliverer struct {
	DB              *gorm.DB
	Messengers      map[Platform]Messenger
	Renderer        *Renderer
	DefaultPlatform Platform
	// BatchSize is how many delivery rows are written per INSERT.
	BatchSize int
	// Workers is how many sends run at once per platform.
	Workers int
	// Chunk is how many rows a worker claims at a time on a platform that
	// neither paces nor batches its sends (default 500, see claimChunk).
	Chunk int
	// StaleSending is how old a "sending" row must be before it is retried
	// (the process that claimed it died); the delivery key makes the
	// platform drop the duplicate.
	StaleSending time.Duration
	// SendTimeout bounds one platform call once it has started; a started
	// send is allowed to finish (and is recorded) after ctx is cancelled.
	// Default 15s; keep it below the shutdown budget.
	SendTimeout time.Duration
	Logger      *slog.Logger
	Metrics     *Metrics
	Now         func() time.Time
	// Audiences resolves audiences beyond the built-in all, not_checked_in
	// and checked_in (surveys register "not_responded", managers…), page
	// by page (Registry.AudienceFuncs).
	Audiences map[string]PagedAudienceFunc
	// AudiencePage is how many people an audience is resolved at a time
	// (default 5000).
	AudiencePage int
	// readBack makes a fan-out read the ids of the rows it wrote back even
	// where the INSERT returns them (MySQL's path, tested on every database).
	readBack bool
}

// Target is one recipient of a touchpoint, optionally about a subject (the
// direct report a manager is asked about).
type Target struct {
	Employee store.Employee
	Subject  *store.Employee
}

// AudienceFunc resolves a named audience at send time.
type AudienceFunc func(ctx context.Context, db *gorm.DB, tp store.Touchpoint, sess store.Session) ([]Target, error)

// PagedAudienceFunc resolves a named audience at send time a page at a
// time: it calls f with successive slices of at most page targets (each
// person once across the pages) and returns f's first error. The slice
// passed to f is not used after f returns, so it may be reused.
type PagedAudienceFunc func(ctx context.Context, db *gorm.DB, tp store.Touchpoint, sess store.Session, page int, f func([]Target) error) error

// Paged returns af as a PagedAudienceFunc that resolves the whole audience
// and hands it on in pages.
func (af AudienceFunc) Paged() PagedAudienceFunc {
	return func(ctx context.Context, db *gorm.DB, tp store.Touchpoint, sess store.Session, page int, f func([]Target) error) error {
		targets, err := af(ctx, db, tp, sess)
		if err != nil {
			return err
		}
		if page <= 0 {
			page = len(targets)
		}
		for i := 0; i < len(targets); i += page {
			if err := f(targets[i:min(i+page, len(targets))]); err != nil {
				return err
			}
		}
		return nil
	}
}

// FireStats summarizes one Fire.
type FireStats struct {
	Audience int // recipients resolved at send time
	Created  int // new delivery rows
	Sent     int
	Failed   int // permanent failures (incl. no platform id)
	Retrying int // transient failures left pending
	Resent   int // rows taken over from a run that died or went silent while sending them
	// Unsettled counts rows still pending or sending when Fire returned.
	Unsettled int
	Skipped   bool
	Reason    string
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

// Audience resolves who a touchpoint goes to right now.
func Audience(ctx context.Context, db *gorm.DB, sessionID uint64, audience string) ([]store.Employee, error) {
	q, err := audienceQuery(ctx, db, sessionID, audience)
	if err != nil {
		return nil, err
	}
	var out []store.Employee
	if err := q.Order("employees.id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("resolve audience: %w", err)
	}
	return out, nil
}

func audienceQuery(ctx context.Context, db *gorm.DB, sessionID uint64, audience string) (*gorm.DB, error) {
	q := db.WithContext(ctx).Model(&store.Employee{}).
		Joins("JOIN enrollments ON enrollments.employee_id = employees.id").
		Where("enrollments.session_id = ? AND enrollments.status = ? AND employees.active = ?", sessionID, store.EnrollInvited, true)
	checked := db.Model(&store.Checkin{}).Select("employee_id").Where("session_id = ?", sessionID)
	switch audience {
	case store.AudienceAll, "":
	case store.AudienceNotCheckedIn:
		q = q.Where("employees.id NOT IN (?)", checked)
	case store.AudienceCheckedIn:
		q = q.Where("employees.id IN (?)", checked)
	default:
		return nil, fmt.Errorf("unknown audience %q", audience)
	}
	return q, nil
}

// audiencePages resolves a built-in audience in pages of n people (keyset on
// the employee id), calling f with each page. The page's slice is reused for
// the next one (its people are scanned into one array of n, not a growing
// slice per page), so f must not keep it.
func audiencePages(ctx context.Context, db *gorm.DB, sessionID uint64, audience string, n int, f func([]store.Employee) error) error {
	return store.EmployeePages(n, func() (*gorm.DB, error) { return audienceQuery(ctx, db, sessionID, audience) }, f)
}

// PlatformUserID returns e's user id on p, empty when unknown.
func PlatformUserID(e store.Employee, p Platform) string {
	switch p {
	case PlatformWeCom:
		return e.WecomID
	case PlatformFeishu:
		return e.FeishuID
	case PlatformDingTalk:
		return e.DingtalkID
	case PlatformSimulator:
		return e.ExternalID
	}
	return ""
}

// DeliveryKey is the idempotency key of one delivery; it is also what the
// platforms see as task_id / uuid / outTrackId (only [0-9A-Za-z_-]).
func DeliveryKey(touchpointID uint64, occurrence string, employeeID, subjectID uint64) string {
	if subjectID != 0 {
		return fmt.Sprintf("ll-%d-%s-%d-%d", touchpointID, occurrence, employeeID, subjectID)
	}
	return fmt.Sprintf("ll-%d-%s-%d", touchpointID, occurrence, employeeID)
}

// Fire delivers touchpoint tpID's occurrence to its audience. It returns nil
// only when every delivery row of the occurrence is settled (sent, failed,
// dropped or skipped): rows left pending by a transient failure return an
// error wrapping ErrTransient (retry with backoff); rows another live run is
// still sending return an *UnsettledError (check again later). When ctx is
// done it claims and starts nothing more, records what was sent, hands the
// rest back as pending and returns ctx's error.
func (d *Deliverer) Fire(ctx context.Context, tpID uint64, occurrence string) (FireStats, error) {
	return d.FireVariant(ctx, tpID, occurrence, 0)
}

// FireVariant is Fire for the people assigned to one A/B variant of the
// touchpoint (a variant with a fire time of its own); variant 0 sends to
// everybody, each with their variant's copy. Everybody resolved is
// assigned, so a person's variant is the same whichever fire meets them
// first, and one delivery per person per occurrence stays the rule.
func (d *Deliverer) FireVariant(ctx context.Context, tpID uint64, occurrence string, variant uint64) (FireStats, error) {
	var st FireStats
	db := d.DB.WithContext(ctx)
	var tp store.Touchpoint
	if err := db.First(&tp, tpID).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return st, fmt.Errorf("touchpoint %d: %w", tpID, ErrNotFound)
		}
		return st, fmt.Errorf("load touchpoint: %w", err)
	}
	var sess store.Session
	if err := db.First(&sess, tp.SessionID).Error; err != nil {
		return st, fmt.Errorf("load session %d: %w", tp.SessionID, err)
	}
	var course store.Course
	if err := db.First(&course, sess.CourseID).Error; err != nil {
		return st, fmt.Errorf("load course %d: %w", sess.CourseID, err)
	}
	switch {
	case tp.Status == store.TouchpointPaused, tp.Status == store.TouchpointCancelled:
		st.Skipped, st.Reason = true, "touchpoint "+tp.Status
		return st, nil
	case sess.Status == store.SessionCancelled:
		st.Skipped, st.Reason = true, "session cancelled"
		return st, nil
	}
	teacher := ""
	if sess.TeacherID != nil {
		var t store.Teacher
		if err := db.Limit(1).Find(&t, *sess.TeacherID).Error; err == nil {
			teacher = t.Name
		}
	}

	now := d.now()
	var before, after int64
	if err := db.Model(&store.Delivery{}).Where("touchpoint_id = ? AND occurrence = ?", tp.ID, occurrence).Count(&before).Error; err != nil {
		return st, fmt.Errorf("count deliveries: %w", err)
	}
	job := &fireJob{d: d, tp: tp, sess: sess, course: course, teacher: teacher, emp: &people{m: map[uint64]person{}},
		owner: claimOwner(ctx), token: claimOwner(ctx) + "." + newClaimToken(), occ: occurrence, variant: variant}
	// The rows are written a batch at a time while the batches written
	// before are already being claimed and sent: the first pass follows
	// the inserts (keyset on id) instead of waiting for the whole audience.
	// On a first run (no row yet), the rows of platforms without pacing or
	// batches are not written pending and claimed later: each worker writes
	// its chunk already claimed right before sending it, one write less per
	// row (the rows of paced and batch platforms are written pending up
	// front, as their sends take a while).
	if before == 0 {
		job.direct = &sender{f: job, ctx: ctx, st: &st, write: true, pools: map[Platform]*pool{}}
	}
	cctx, stopCreating := context.WithCancel(ctx)
	defer stopCreating()
	var audience int
	var createErr error
	flushed := make(chan struct{}, 1)
	created := make(chan struct{})
	go func() {
		defer close(created)
		audience, createErr = job.create(cctx, now, flushed)
	}()
	// Send what is claimable, page by page. A row another run released, or
	// one created by a concurrent Fire after the scan, is picked up by a
	// further pass; a transient failure waits for the job's retry.
	for pass := 0; pass < 3; pass++ {
		follow := created
		if pass > 0 {
			follow = nil
		}
		err := job.sendClaimable(ctx, &st, flushed, follow)
		if pass == 0 {
			if err != nil {
				stopCreating()
			}
			<-created
			if job.direct != nil {
				if derr := job.direct.close(); err == nil {
					err = derr
				}
			}
			st.Audience = audience
			if err == nil && createErr != nil {
				return st, createErr
			}
		}
		if err != nil {
			return st, err
		}
		if pass == 0 {
			// (RowsAffected of an upsert differs between MySQL and SQLite: count.)
			if err := db.Model(&store.Delivery{}).Where("touchpoint_id = ? AND occurrence = ?", tp.ID, occurrence).Count(&after).Error; err != nil {
				return st, fmt.Errorf("count deliveries: %w", err)
			}
			st.Created = int(after - before)
			// A touchpoint with variants paused or cancelled while this
			// variant's fire ran keeps that status: the pause or cancel
			// holds or drops the variants still to send, and a resume
			// plans them again (plan.SetPaused). Without variants the
			// fire's outcome wins, as before.
			status := gorm.Expr("CASE WHEN variants > 0 AND status IN (?, ?) THEN status ELSE ? END",
				store.TouchpointPaused, store.TouchpointCancelled, store.TouchpointFired)
			if err := db.Model(&store.Touchpoint{}).Where("id = ?", tp.ID).Updates(map[string]any{"status": status, "fired_at": now}).Error; err != nil {
				return st, fmt.Errorf("mark touchpoint fired: %w", err)
			}
		}
		if st.Retrying > 0 {
			break
		}
		var left int64
		if err := job.claimable(db.Model(&store.Delivery{}).Where("touchpoint_id = ? AND occurrence = ?", tp.ID, occurrence), d.now()).Count(&left).Error; err != nil {
			return st, fmt.Errorf("count claimable deliveries: %w", err)
		}
		if left == 0 {
			break
		}
	}
	var failedNow int64
	_ = db.Model(&store.Delivery{}).Where("touchpoint_id = ? AND occurrence = ? AND status = ? AND error_code IN ?", tp.ID, occurrence, store.DeliveryFailed, []string{"no_platform", "no_user_id"}).Count(&failedNow)
	st.Failed += int(failedNow)
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	log.Info("touchpoint fired", "touchpoint", tp.ID, "kind", tp.Kind, "occurrence", occurrence, "audience", st.Audience,
		"created", st.Created, "sent", st.Sent, "failed", st.Failed, "retrying", st.Retrying, "resent", st.Resent)
	return st, job.settled(ctx, &st)
}

// create resolves the audience now and writes its delivery rows, a batch
// at a time (a registered audience of 100,000 is never held whole, nor are
// its rows); after each batch it signals flushed (without blocking). Only
// what a card needs is kept per person. It returns the audience's size.
func (f *fireJob) create(ctx context.Context, now time.Time, flushed chan<- struct{}) (int, error) {
	d, tp, sess, occurrence := f.d, f.tp, f.sess, f.occ
	db := d.DB.WithContext(ctx)
	batch := d.BatchSize
	if batch <= 0 {
		batch = 500
	}
	audience := 0
	rows := make([]store.Delivery, 0, batch)
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		var failedKeys []string
		for _, r := range rows {
			if r.Status == store.DeliveryFailed {
				failedKeys = append(failedKeys, r.Key)
			}
		}
		var err error
		if len(failedKeys) == 0 {
			err = store.Retry(ctx, func() error { return db.Clauses(clause.OnConflict{DoNothing: true}).Create(rows).Error })
		} else {
			// Rows failed at creation are webhook events (delivery.failed),
			// recorded with them in one more statement.
			err = store.Tx(ctx, d.DB, func(tx *gorm.DB) error {
				if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(rows).Error; err != nil {
					return err
				}
				return recordFailedEvents(tx, now, "`key` IN ?", failedKeys)
			})
		}
		rows = rows[:0]
		if err != nil {
			return fmt.Errorf("create deliveries: %w", err)
		}
		select {
		case flushed <- struct{}{}:
		default:
		}
		return nil
	}
	addTargets := func(targets []Target) error {
		targets, err := f.split(ctx, targets)
		if err != nil {
			return err
		}
		audience += len(targets)
		for _, t := range targets {
			e := t.Employee
			f.emp.keep(e)
			var subject uint64
			if t.Subject != nil {
				subject = t.Subject.ID
				f.emp.keep(*t.Subject)
			}
			p := Platform(e.Platform)
			if p == "" {
				p = d.DefaultPlatform
			}
			row := store.Delivery{
				TouchpointID: tp.ID, Occurrence: occurrence, EmployeeID: e.ID, SubjectID: subject, SessionID: sess.ID,
				Key: DeliveryKey(tp.ID, occurrence, e.ID, subject), Platform: string(p), UserID: PlatformUserID(e, p),
				Status: store.DeliveryPending, CreatedAt: now, UpdatedAt: now,
			}
			if _, ok := d.Messengers[p]; !ok {
				row.Status, row.ErrorCode, row.ErrorMessage = store.DeliveryFailed, "no_platform", fmt.Sprintf("platform %q is not enabled", p)
			} else if row.UserID == "" {
				row.Status, row.ErrorCode, row.ErrorMessage = store.DeliveryFailed, "no_user_id", fmt.Sprintf("employee has no %s user id", p)
			} else if f.direct != nil && direct(d.Messengers[p]) {
				if err := f.direct.add(d.Messengers[p], row); err != nil {
					return err
				}
				continue
			}
			rows = append(rows, row)
			if len(rows) == batch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return flush()
	}
	page := d.AudiencePage
	if page <= 0 {
		page = 5000
	}
	if af, ok := d.Audiences[tp.Audience]; ok {
		// A write error of addTargets is returned as is; anything else
		// is the audience's own.
		var addErr error
		err := af(ctx, db, tp, sess, page, func(targets []Target) error {
			addErr = addTargets(targets)
			return addErr
		})
		switch {
		case addErr != nil:
			return audience, addErr
		case err != nil:
			return audience, fmt.Errorf("resolve audience %s: %w", tp.Audience, err)
		}
		return audience, nil
	}
	targets := make([]Target, 0, page)
	err := audiencePages(ctx, db, sess.ID, tp.Audience, page, func(ps []store.Employee) error {
		targets = targets[:0]
		for _, e := range ps {
			targets = append(targets, Target{Employee: e})
		}
		return addTargets(targets)
	})
	return audience, err
}

// direct reports whether m's rows are written claimed by the worker about
// to send them: m neither paces nor batches its sends.
func direct(m Messenger) bool {
	_, paced := m.(Pacer)
	_, batch := m.(BatchMessenger)
	return !paced && !batch
}

// people holds what a card needs of each recipient of one Fire (three
// strings a person, not a whole employee row: a touchpoint to 100,000 people
// keeps 100,000 of them); the rows' writer fills it while the send workers
// read it.
type people struct {
	mu sync.RWMutex
	m  map[uint64]person
}

// person is what a card needs of a recipient.
type person struct{ externalID, name, locale string }

// keep stores what a card needs of e.
func (p *people) keep(e store.Employee) {
	p.mu.Lock()
	p.m[e.ID] = person{externalID: e.ExternalID, name: e.Name, locale: e.Locale}
	p.mu.Unlock()
}

// forget drops the recipients of rows whose send is over for this run
// (recorded, or not ours to send): each person has one row per occurrence,
// so a run that sends as it resolves keeps only the people in flight, not
// the whole audience (100,000 people were ≈ 10 MB held to the end). The
// people of rows about a subject stay (a manager has a row per direct
// report); a row sent again later in the run loads its recipient anew
// (message).
func (p *people) forget(rows []store.Delivery) {
	p.mu.Lock()
	for _, r := range rows {
		if r.SubjectID == 0 {
			delete(p.m, r.EmployeeID)
		}
	}
	p.mu.Unlock()
}

// get returns the person with id (with what a card needs), if kept.
func (p *people) get(id uint64) (store.Employee, bool) {
	p.mu.RLock()
	e, ok := p.m[id]
	p.mu.RUnlock()
	return store.Employee{ID: id, ExternalID: e.externalID, Name: e.name, Locale: e.locale}, ok
}

// settled decides whether the occurrence is done: every row sent, failed,
// dropped or skipped. Rows still pending retry the job with backoff; rows
// another live run is sending snooze it until they are settled or stale.
func (f *fireJob) settled(ctx context.Context, st *FireStats) error {
	db := f.d.DB.WithContext(ctx)
	unsettled := func(status string) *gorm.DB {
		return db.Model(&store.Delivery{}).Where("touchpoint_id = ? AND occurrence = ? AND status = ?", f.tp.ID, f.occ, status)
	}
	var pending, sending int64
	if err := unsettled(store.DeliveryPending).Count(&pending).Error; err != nil {
		return fmt.Errorf("count pending deliveries: %w", err)
	}
	if err := unsettled(store.DeliverySending).Count(&sending).Error; err != nil {
		return fmt.Errorf("count sending deliveries: %w", err)
	}
	var oldest store.Delivery
	if sending > 0 {
		if err := unsettled(store.DeliverySending).Select("id", "updated_at").Order("updated_at").Limit(1).Find(&oldest).Error; err != nil {
			return fmt.Errorf("load oldest sending delivery: %w", err)
		}
	}
	st.Unsettled = int(pending + sending)
	switch {
	case st.Retrying > 0 || pending > 0:
		return fmt.Errorf("touchpoint %d: %d deliveries pending: %w", f.tp.ID, max(int64(st.Retrying), pending), ErrTransient)
	case sending > 0:
		wait := oldest.UpdatedAt.Add(f.d.staleSending()).Sub(f.d.now())
		return &UnsettledError{Sending: int(sending), Wait: min(max(wait, time.Second), 30*time.Second)}
	}
	return nil
}

// UnsettledError says another run is still sending some of the occurrence's
// deliveries; the job should run again after Wait (when they are settled or
// stale) without counting a failed attempt.
type UnsettledError struct {
	Sending int
	Wait    time.Duration
}

// Error implements error.
func (e *UnsettledError) Error() string {
	return fmt.Sprintf("%d deliveries are being sent by another run; checking again in %s", e.Sending, e.Wait)
}

func (d *Deliverer) staleSending() time.Duration {
	if d.StaleSending > 0 {
		return d.StaleSending
	}
	return 10 * time.Minute
}

func (d *Deliverer) sendTimeout() time.Duration {
	if d.SendTimeout > 0 {
		return d.SendTimeout
	}
	return 15 * time.Second
}

// claimOwnerKey carries the durable owner of a Fire call (see WithClaimOwner).
type claimOwnerKey struct{}

// WithClaimOwner marks the Fire calls made under ctx as runs on behalf of
// owner: a durable job that has one holder at a time (e.g. "job42"). A row
// left "sending" by another run of the same owner was claimed by a holder
// that has since lost the job (killed, crashed, shut down or cut off), so Fire
// resends it at once under the same platform idempotency key rather than
// waiting for StaleSending. owner must not contain '.', '%' or '_'.
func WithClaimOwner(ctx context.Context, owner string) context.Context {
	return context.WithValue(ctx, claimOwnerKey{}, owner)
}

func claimOwner(ctx context.Context) string {
	if o, _ := ctx.Value(claimOwnerKey{}).(string); o != "" {
		return o
	}
	return "x"
}

type fireJob struct {
	d       *Deliverer
	tp      store.Touchpoint
	sess    store.Session
	course  store.Course
	teacher string
	emp     *people
	// owner and token identify this run's claims: token is owner + "." +
	// random, written into claim_token of every row this run sends.
	owner, token string
	occ          string
	// direct, when set, takes the rows of platforms that neither pace nor
	// batch their sends as they are resolved: its workers write each chunk
	// already claimed, just before sending it (see create).
	direct *sender
	// variant, when set, is the one A/B variant of tp this run sends (its
	// own fire time); variants keeps each resolved person's variant.
	variant  uint64
	variants variantSplit
	// mu guards the FireStats the senders add to.
	mu sync.Mutex
	// settle merges the workers' settles of sent chunks.
	settle settler
}

// claimable narrows q to the rows this run may claim: pending ones, those
// left sending by an earlier run of the same owner, and those whose sender
// has been silent for StaleSending.
func (f *fireJob) claimable(q *gorm.DB, now time.Time) *gorm.DB {
	stale := now.Add(-f.d.staleSending())
	if f.owner == "x" {
		return q.Where("(status = ? OR (status = ? AND updated_at < ?))", store.DeliveryPending, store.DeliverySending, stale)
	}
	return q.Where("(status = ? OR (status = ? AND (updated_at < ? OR (claim_token LIKE ? AND claim_token <> ?))))",
		store.DeliveryPending, store.DeliverySending, stale, f.owner+".%", f.token)
}

// sendClaimable sends every row of the occurrence this run may claim. With
// created set it follows rows still being written: when it has caught up it
// waits for the next flushed batch, and it ends once created is closed and
// nothing claimable is left. One pool of workers per platform lives for the
// whole pass, so pages do not wait for each other's last chunk.
func (f *fireJob) sendClaimable(ctx context.Context, st *FireStats, flushed <-chan struct{}, created <-chan struct{}) error {
	db := f.d.DB.WithContext(ctx)
	s := &sender{f: f, ctx: ctx, st: st, pools: map[Platform]*pool{}}
	err := func() error {
		// Keyset on id from the occurrence's first row: the scan never
		// walks the ids of the rows of older touchpoints.
		var last uint64
		found := false
		for {
			done := created == nil
			if !done {
				select {
				case <-created:
					done = true
				default:
				}
			}
			if !found {
				var first *uint64
				if err := db.Model(&store.Delivery{}).Where("touchpoint_id = ? AND occurrence = ?", f.tp.ID, f.occ).Select("MIN(id)").Scan(&first).Error; err != nil {
					if ctx.Err() != nil {
						return nil // the pool reports ctx's error
					}
					return fmt.Errorf("load first delivery: %w", err)
				}
				if first != nil {
					last, found = *first-1, true
				}
			}
			var page []store.Delivery
			if found {
				q := db.Select("id", "touchpoint_id", "occurrence", "employee_id", "subject_id", "session_id", "key", "platform", "user_id", "status", "attempts", "claim_token").
					Where("touchpoint_id = ? AND occurrence = ? AND id > ?", f.tp.ID, f.occ, last)
				if err := f.claimable(q, f.d.now()).Order("id").Limit(2000).Find(&page).Error; err != nil {
					if ctx.Err() != nil {
						// Cancelled mid-query: SQLite says "interrupted (9)",
						// not ctx's error, which the pool reports.
						return nil
					}
					return fmt.Errorf("load pending deliveries: %w", err)
				}
			}
			if len(page) == 0 {
				if done {
					return nil
				}
				select {
				case <-flushed:
				case <-created:
				case <-ctx.Done():
					return nil // the pool reports ctx's error
				}
				continue
			}
			last = page[len(page)-1].ID
			if err := s.feed(page); err != nil {
				return err
			}
			if s.failed() || ctx.Err() != nil {
				return nil
			}
		}
	}()
	if cerr := s.close(); err == nil {
		err = cerr
	}
	return err
}

// sender runs one pass's send workers: per platform, one pool fed chunk by
// chunk.
type sender struct {
	f     *fireJob
	ctx   context.Context
	st    *FireStats
	pools map[Platform]*pool
	// write: the chunks are rows not written yet, which the worker writes
	// claimed (claimNew) instead of claiming existing rows (claim).
	write bool

	mu       sync.Mutex
	firstErr error
	wg       sync.WaitGroup
}

// pool is one platform's workers and the chunk being filled for them.
type pool struct {
	m       Messenger
	bm      BatchMessenger
	isBatch bool
	size    int
	chunks  chan []store.Delivery
	buf     []store.Delivery
}

// feed hands a page of claimable rows to their platforms' workers, a full
// chunk at a time; rows of a platform no longer enabled fail at once.
func (s *sender) feed(page []store.Delivery) error {
	var unsendable map[Platform][]store.Delivery
	for _, r := range page {
		p := Platform(r.Platform)
		pl := s.pools[p]
		if pl == nil {
			m, ok := s.f.d.Messengers[p]
			if !ok {
				// Created while the platform was enabled, and it is not any
				// more: nothing can send them, so they fail with the reason.
				if unsendable == nil {
					unsendable = map[Platform][]store.Delivery{}
				}
				unsendable[p] = append(unsendable[p], r)
				continue
			}
			if err := s.add(m, r); err != nil {
				return nil // the pool reports it
			}
			continue
		}
		pl.buf = append(pl.buf, r)
		if len(pl.buf) == pl.size {
			if !s.push(pl) {
				return nil
			}
		}
	}
	for p, rows := range unsendable {
		// counted with the other no_platform rows at the end
		if err := s.f.failUnsendable(s.ctx, p, rows); err != nil {
			return err
		}
	}
	return nil
}

// errStopped is returned by add once the sender takes no more rows (its
// context is done or a chunk failed); the sender's close reports why.
var errStopped = errors.New("sender stopped")

// add queues r for m's workers, handing over a chunk once it is full.
func (s *sender) add(m Messenger, r store.Delivery) error {
	pl := s.pools[m.Platform()]
	if pl == nil {
		pl = s.start(m)
	}
	pl.buf = append(pl.buf, r)
	if len(pl.buf) == pl.size && !s.push(pl) {
		return errStopped
	}
	return nil
}

// start begins the pool of m's platform.
func (s *sender) start(m Messenger) *pool {
	bm, isBatch := m.(BatchMessenger)
	pl := &pool{m: m, bm: bm, isBatch: isBatch, size: claimChunk, chunks: make(chan []store.Delivery)}
	if s.f.d.Chunk > 0 {
		pl.size = s.f.d.Chunk
	}
	if _, paced := m.(Pacer); paced {
		// A paced platform sends slowly: claim little at a time, so rows do
		// not wait long in "sending" and a takeover resends few of them.
		pl.size = pacedClaimChunk
	}
	if isBatch && bm.MaxBatch() > 1 {
		pl.size = bm.MaxBatch()
	}
	workers := s.f.d.Workers
	if workers <= 0 {
		workers = 8
	}
	if isBatch {
		workers = 1 // batch APIs pace per call; one call at a time per platform
	}
	s.pools[m.Platform()] = pl
	for range workers {
		s.wg.Go(func() { s.work(pl) })
	}
	return pl
}

// work claims and sends chunks of pl until its channel is closed. Workers
// claim a chunk only when they are about to send it; once ctx is done no
// new chunk is claimed and no new send starts, and what was sent is still
// recorded.
func (s *sender) work(pl *pool) {
	for c := range pl.chunks {
		if s.ctx.Err() != nil {
			continue
		}
		var (
			won    []store.Delivery
			resent int
			err    error
		)
		if s.write {
			won, err = s.f.claimNew(s.ctx, c)
		} else {
			won, resent, err = s.f.claim(s.ctx, c)
		}
		if err != nil {
			s.record(chunkOutcome{}, err)
			continue
		}
		if len(won) == 0 {
			s.f.forget(c)
			continue
		}
		o, err := s.f.sendChunk(s.ctx, pl.m, pl.bm, pl.isBatch, won)
		o.resent = resent
		s.record(o, err)
		s.f.forget(c)
	}
}

// push hands pl's filled chunk to a worker; false once ctx is done.
func (s *sender) push(pl *pool) bool {
	c := pl.buf
	pl.buf = make([]store.Delivery, 0, pl.size)
	if s.failed() {
		return false
	}
	select {
	case pl.chunks <- c:
		return true
	case <-s.ctx.Done():
		return false
	}
}

func (s *sender) failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstErr != nil
}

func (s *sender) record(o chunkOutcome, e error) {
	s.f.mu.Lock()
	st := s.st
	st.Sent, st.Failed, st.Retrying, st.Resent = st.Sent+o.sent, st.Failed+o.failed, st.Retrying+o.retry, st.Resent+o.resent
	s.f.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e != nil && s.firstErr == nil {
		s.firstErr = e
	}
}

// close hands over the partly filled chunks, waits for the workers and
// returns the first error (ctx's when it is done).
func (s *sender) close() error {
	platforms := make([]Platform, 0, len(s.pools))
	for p := range s.pools {
		platforms = append(platforms, p)
	}
	sort.Slice(platforms, func(i, j int) bool { return platforms[i] < platforms[j] })
	for _, p := range platforms {
		pl := s.pools[p]
		if len(pl.buf) > 0 && s.ctx.Err() == nil {
			s.push(pl)
		}
		close(pl.chunks)
	}
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.firstErr == nil && s.ctx.Err() != nil {
		s.firstErr = s.ctx.Err()
	}
	return s.firstErr
}

// failUnsendable fails rows of a platform that is no longer enabled.
func (f *fireJob) failUnsendable(ctx context.Context, p Platform, rows []store.Delivery) error {
	ids := make([]uint64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	now := f.d.now()
	err := store.Tx(ctx, f.d.DB, func(tx *gorm.DB) error {
		err := f.claimable(tx.Model(&store.Delivery{}).Where("id IN ?", ids), now).Updates(map[string]any{
			"status": store.DeliveryFailed, "error_code": "no_platform", "updated_at": now,
			"error_message": fmt.Sprintf("platform %q is not enabled", p),
		}).Error
		if err != nil {
			return err
		}
		return recordFailedEvents(tx, now, "id IN ?", ids)
	})
	if err != nil {
		return fmt.Errorf("fail deliveries of disabled platform %s: %w", p, err)
	}
	for range rows {
		f.d.Metrics.delivery(string(p), store.DeliveryFailed)
	}
	return nil
}

func (f *fireJob) recipient(row store.Delivery) Recipient {
	e, _ := f.emp.get(row.EmployeeID)
	return Recipient{EmployeeID: row.EmployeeID, UserID: row.UserID, Name: e.Name, Locale: f.locale(e)}
}

func (f *fireJob) locale(e store.Employee) text.Locale {
	if e.Locale != "" {
		return text.Parse(e.Locale)
	}
	return text.Parse(f.sess.Locale)
}

func (f *fireJob) message(ctx context.Context, row store.Delivery) (Message, error) {
	e, ok := f.emp.get(row.EmployeeID)
	if !ok {
		// A row created by an earlier run: its recipient was not resolved
		// in this one (the audience changed since). Load what a card needs.
		if err := f.d.DB.Select("id", "external_id", "name", "locale").Limit(1).Find(&e, row.EmployeeID).Error; err != nil {
			return Message{}, fmt.Errorf("load recipient %d: %w", row.EmployeeID, err)
		}
		f.emp.keep(e)
	}
	cc := CardContext{
		Kind: f.tp.Kind, Note: f.tp.Note, Session: f.sess, Course: f.course, Teacher: f.teacher,
		DeliveryID: row.ID, Key: row.Key, Locale: f.locale(e), Occurrence: row.Occurrence,
		Touchpoint: f.tp, Recipient: e,
	}
	if v, ok := f.variants.get(e.ID); ok {
		cc.Variant = &v
	}
	if row.SubjectID != 0 {
		subj, ok := f.emp.get(row.SubjectID)
		if !ok {
			if err := f.d.DB.Limit(1).Find(&subj, row.SubjectID).Error; err != nil {
				return Message{}, fmt.Errorf("load subject %d: %w", row.SubjectID, err)
			}
			f.emp.keep(subj)
		}
		cc.Subject = &subj
	}
	return f.d.Renderer.Render(ctx, cc)
}

// claim marks rows as sending under this run's token, so two runs never
// both send a row. It returns the rows won and how many of them were taken
// over from a dead or silent run.
func (f *fireJob) claim(ctx context.Context, rows []store.Delivery) (won []store.Delivery, resent int, err error) {
	now := f.d.now()
	ids := make([]uint64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	// Claiming and reading back what was won is one unit: a cancellation
	// between the two would leave rows claimed that nobody sends.
	wctx, cancel := store.Detached(ctx, writeTimeout)
	defer cancel()
	var affected int64
	err = store.Retry(wctx, func() error {
		q := f.claimable(f.d.DB.WithContext(wctx).Model(&store.Delivery{}).Where("id IN ?", ids), now)
		res := q.Updates(map[string]any{"status": store.DeliverySending, "claim_token": f.token, "attempts": gorm.Expr("attempts + 1"), "updated_at": now})
		affected = res.RowsAffected
		return res.Error
	})
	if err == nil && affected == int64(len(rows)) {
		// Won them all (the usual case): no need to read them back.
		won = make([]store.Delivery, len(rows))
		for i, r := range rows {
			r.Status, r.ClaimToken, r.Attempts, r.UpdatedAt = store.DeliverySending, f.token, r.Attempts+1, now
			won[i] = r
		}
	} else if err == nil && affected > 0 {
		err = store.Retry(wctx, func() error {
			won = won[:0]
			return f.d.DB.WithContext(wctx).Where("id IN ? AND claim_token = ? AND status = ?", ids, f.token, store.DeliverySending).Order("id").Find(&won).Error
		})
	}
	before := make(map[uint64]string, len(rows))
	for _, r := range rows {
		before[r.ID] = r.Status
	}
	for _, r := range won {
		if before[r.ID] == store.DeliverySending {
			resent++
			f.d.Metrics.delivery(r.Platform, "resent")
		} else {
			f.d.Metrics.delivery(r.Platform, store.DeliverySending)
		}
	}
	return won, resent, nil
}

// claimNew writes rows that do not exist yet already claimed by this run
// (status sending, this run's token, one attempt) and returns those it
// wrote with their ids: a row another run wrote first (a concurrent Fire of
// the same occurrence) is that run's to send. Where the database returns
// what an INSERT wrote (MariaDB ≥ 10.5, SQLite) this is one statement;
// elsewhere (MySQL) the ids are read back.
func (f *fireJob) claimNew(ctx context.Context, rows []store.Delivery) ([]store.Delivery, error) {
	now := f.d.now()
	for i := range rows {
		r := &rows[i]
		r.ID, r.Status, r.ClaimToken, r.Attempts, r.UpdatedAt = 0, store.DeliverySending, f.token, 1, now
	}
	// Writing and reading back what was won is one unit: a cancellation
	// between the two would leave rows claimed that nobody sends.
	wctx, cancel := store.Detached(ctx, writeTimeout)
	defer cancel()
	db := f.d.DB.WithContext(wctx)
	returning := !f.d.readBack && slices.Contains(db.Callback().Create().Clauses, "RETURNING")
	q, args := insertClaimed(rows, store.IsMySQL(db), returning)
	// The rows this run wrote: those carrying its claim token (on MariaDB
	// the upsert also returns a row another run wrote, with its token).
	// The statement goes to the connection pool as it is: through GORM it
	// was rebuilt and its 16 arguments a row copied once more (a chunk's
	// 8,000), and the returned rows scanned by reflection.
	pool := db.Statement.ConnPool
	ours := make([]claimedRow, 0, len(rows))
	if err := store.Retry(wctx, func() error {
		ours = ours[:0]
		if !returning {
			_, err := pool.ExecContext(wctx, q, args...)
			return err
		}
		rs, err := pool.QueryContext(wctx, q, args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var r claimedRow
			if err := rs.Scan(&r.ID, &r.Key, &r.ClaimToken); err != nil {
				return err
			}
			ours = append(ours, r)
		}
		return rs.Err()
	}); err != nil {
		return nil, fmt.Errorf("create deliveries: %w", err)
	}
	if !returning {
		keys := make([]string, len(rows))
		for i, r := range rows {
			keys[i] = r.Key
		}
		if err := store.Retry(wctx, func() error {
			ours = ours[:0]
			return db.Model(&store.Delivery{}).Select("id", "key", "claim_token").Where(map[string]any{"key": keys, "claim_token": f.token}).Scan(&ours).Error
		}); err != nil {
			return nil, fmt.Errorf("load created deliveries: %w", err)
		}
	}
	byKey := make(map[string]uint64, len(ours))
	for _, r := range ours {
		if r.ClaimToken == f.token {
			byKey[r.Key] = r.ID
		}
	}
	won := rows[:0:0]
	for _, r := range rows {
		if id, ok := byKey[r.Key]; ok {
			r.ID = id
			won = append(won, r)
			f.d.Metrics.delivery(r.Platform, store.DeliverySending)
		}
	}
	return won, nil
}

// claimedRow is what claimNew learns of a row it tried to write.
type claimedRow struct {
	ID         uint64
	Key        string
	ClaimToken string
}

// insertColumns are the columns insertClaimed writes, in order.
const insertColumns = "touchpoint_id, occurrence, employee_id, subject_id, session_id, `key`, platform, user_id, status, attempts, claim_token, error_code, error_message, handle, created_at, updated_at"

// insertClaimed builds the multi-row INSERT of rows that leaves a row that
// exists already as it is, returning each row's id, key and claim token
// when returning is set. It is plain SQL, not GORM's reflection: the
// fan-out writes every recipient through it.
func insertClaimed(rows []store.Delivery, mysql, returning bool) (string, []any) {
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	var b strings.Builder
	b.Grow(len("INSERT INTO deliveries () VALUES ") + len(insertColumns) + len(rows)*(len(row)+2) + 64)
	b.WriteString("INSERT INTO deliveries (" + insertColumns + ") VALUES ")
	args := make([]any, 0, 16*len(rows))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
		args = append(args, r.TouchpointID, r.Occurrence, r.EmployeeID, r.SubjectID, r.SessionID, r.Key, r.Platform, r.UserID,
			r.Status, r.Attempts, r.ClaimToken, r.ErrorCode, r.ErrorMessage, r.Handle, r.CreatedAt, r.UpdatedAt)
	}
	if mysql {
		b.WriteString(" ON DUPLICATE KEY UPDATE id = id")
	} else {
		b.WriteString(" ON CONFLICT DO NOTHING")
	}
	if returning {
		b.WriteString(" RETURNING id, `key`, claim_token")
	}
	return b.String(), args
}

func newClaimToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// claimChunk is how many rows a worker claims at a time by default
// (Deliverer.Chunk) for messengers that send one recipient per call without
// pacing: a run never holds more than Workers × claimChunk rows in
// "sending" that it has not sent yet (a
// takeover after kill -9 resends at most that many under their delivery
// keys). 500 rather than 100: a fifth of the statements per recipient
// (measured: fan-out ratio to the bulk INSERT 4.4 → 2.3 at 50,000).
const claimChunk = 500

// pacedClaimChunk is the chunk for messengers that pace their sends (Pacer).
const pacedClaimChunk = 10

// writeTimeout bounds the writes that record what already happened (a send
// the platform accepted, a tap), which run even when the caller's context is
// done.
const writeTimeout = 10 * time.Second

// chunkOutcome counts what became of one claimed chunk.
type chunkOutcome struct {
	sent, failed, retry, released, resent int
}

// errNotSent marks a claimed row whose send never started (shutdown): it is
// handed back as pending, its attempt returned.
var errNotSent = errors.New("send not started")

func (f *fireJob) sendChunk(ctx context.Context, m Messenger, bm BatchMessenger, isBatch bool, rows []store.Delivery) (chunkOutcome, error) {
	var o chunkOutcome
	results := make([]Result, len(rows))
	// A send that has started is allowed to finish when ctx is cancelled
	// (its result is recorded); it is bounded by SendTimeout.
	sendCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), f.d.sendTimeout())
	}
	if isBatch {
		if err := f.sendBatch(ctx, m, bm, rows, results, sendCtx); err != nil {
			return o, err
		}
	} else {
		// One recipient per call: each card is rendered just before its
		// send and dropped after it, so a chunk holds rows, not cards.
		for i, r := range rows {
			if ctx.Err() != nil {
				results[i] = Result{Err: errNotSent}
				continue
			}
			msg, rerr := f.message(ctx, r)
			if rerr != nil {
				results[i] = Result{Err: Permanent("render", rerr.Error(), nil)}
				continue
			}
			to := f.recipient(r)
			if p, isPacer := m.(Pacer); isPacer {
				if werr := p.Wait(ctx, to); werr != nil {
					if ctx.Err() != nil {
						werr = errNotSent
					}
					results[i] = Result{Err: werr}
					continue
				}
			}
			sctx, cancel := sendCtx()
			rc, serr := m.Send(sctx, to, msg)
			cancel()
			results[i] = Result{Receipt: rc, Err: serr}
		}
	}
	wctx, cancel := store.Detached(ctx, writeTimeout)
	defer cancel()
	statuses, err := f.record(wctx, rows, results, !isBatch && direct(m))
	if err != nil {
		return o, err
	}
	for i, r := range rows {
		f.d.Metrics.delivery(r.Platform, statuses[i])
		switch {
		case statuses[i] == store.DeliverySent:
			o.sent++
		case errors.Is(results[i].Err, errNotSent):
			o.released++
		case statuses[i] == store.DeliveryPending:
			o.retry++
		default:
			o.failed++
		}
	}
	return o, nil
}

// sendBatch renders rows' cards and sends them in one batch call, filling
// results; an error means the outcome is unknown (the rows stay sending for
// a resend under their idempotency keys).
func (f *fireJob) sendBatch(ctx context.Context, m Messenger, bm BatchMessenger, rows []store.Delivery, results []Result, sendCtx func() (context.Context, context.CancelFunc)) error {
	msgs := make([]Message, len(rows))
	var ok []int // indexes of rows with a message
	for i, r := range rows {
		msg, rerr := f.message(ctx, r)
		if rerr != nil {
			results[i] = Result{Err: Permanent("render", rerr.Error(), nil)}
			continue
		}
		msgs[i] = msg
		ok = append(ok, i)
	}
	switch {
	case len(ok) == 0:
		return nil
	case ctx.Err() != nil:
		for _, i := range ok {
			results[i] = Result{Err: errNotSent}
		}
		return nil
	}
	to := make([]Recipient, len(ok))
	byEmp := make(map[uint64]int, len(ok))
	for k, i := range ok {
		to[k] = f.recipient(rows[i])
		byEmp[rows[i].EmployeeID] = i
	}
	sctx, cancel := sendCtx()
	res := bm.SendBatch(sctx, to, func(rc Recipient) Message { return msgs[byEmp[rc.EmployeeID]] })
	cancel()
	if len(res) != len(ok) {
		return fmt.Errorf("%s: batch returned %d results for %d recipients", m.Platform(), len(res), len(ok))
	}
	for k, i := range ok {
		results[i] = res[k]
	}
	return nil
}

// record stores the outcome of a claimed chunk in one transaction, retried
// after deadlocks: sent rows in one statement, the rest one by one. Every
// write is a compare-and-set on this run's claim token, so a run that lost
// its rows to another cannot overwrite their outcome.
//
// With merge set (platforms that neither pace nor batch, whose workers
// finish chunks faster than the database settles them) a chunk whose rows
// were all sent is settled together with the other workers' (settler);
// paced and batch platforms, whose sends bound them, settle each chunk on
// its own.
func (f *fireJob) record(ctx context.Context, rows []store.Delivery, results []Result, merge bool) ([]string, error) {
	statuses := make([]string, len(rows))
	allSent := true
	for _, res := range results {
		allSent = allSent && res.Err == nil
	}
	if allSent {
		// The usual case is one statement: no transaction needed.
		for i := range statuses {
			statuses[i] = store.DeliverySent
		}
		if !merge {
			return statuses, store.Retry(ctx, func() error { return f.finishSent(f.d.DB.WithContext(ctx), rows, results) })
		}
		return statuses, f.settle.sent(ctx, f, rows, results)
	}
	err := store.Tx(ctx, f.d.DB, func(tx *gorm.DB) error {
		var sentRows []store.Delivery
		var sentRes []Result
		var failed []uint64
		for i, r := range rows {
			if results[i].Err == nil {
				statuses[i] = store.DeliverySent
				sentRows, sentRes = append(sentRows, r), append(sentRes, results[i])
				continue
			}
			status, upd := f.outcome(results[i])
			statuses[i] = status
			if err := tx.Model(&store.Delivery{}).Where("id = ? AND claim_token = ? AND status = ?", r.ID, f.token, store.DeliverySending).Updates(upd).Error; err != nil {
				return fmt.Errorf("record delivery %d: %w", r.ID, err)
			}
			if status == store.DeliveryFailed {
				failed = append(failed, r.ID)
			}
		}
		if len(failed) > 0 {
			if err := recordFailedEvents(tx, f.d.now(), "id IN ?", failed); err != nil {
				return err
			}
		}
		return f.finishSent(tx, sentRows, sentRes)
	})
	return statuses, err
}

// finishSent marks successfully sent rows in one statement: the fan-out hot
// path writes one UPDATE for several chunks, not one per recipient. It is
// plain SQL (a compare-and-set on the claim token), not GORM's reflection.
func (f *fireJob) finishSent(tx *gorm.DB, rows []store.Delivery, res []Result) error {
	if len(rows) == 0 {
		return nil
	}
	now := f.d.now()
	ids := make([]uint64, len(rows))
	same := true
	for i, r := range rows {
		ids[i] = r.ID
		same = same && res[i].Receipt.Handle == res[0].Receipt.Handle
	}
	var q strings.Builder
	args := make([]any, 0, 8)
	q.WriteString("UPDATE deliveries SET status = ?, sent_at = ?, updated_at = ?, error_code = '', error_message = '', handle = ")
	args = append(args, store.DeliverySent, now, now)
	if same {
		q.WriteString("?")
		args = append(args, res[0].Receipt.Handle)
	} else {
		q.WriteString("CASE id")
		for i, r := range rows {
			q.WriteString(" WHEN ? THEN ?")
			args = append(args, r.ID, res[i].Receipt.Handle)
		}
		q.WriteString(" END")
	}
	q.WriteString(" WHERE id IN ? AND claim_token = ? AND status = ?")
	args = append(args, ids, f.token, store.DeliverySending)
	if err := tx.Exec(q.String(), args...).Error; err != nil {
		return fmt.Errorf("record %d sent deliveries: %w", len(rows), err)
	}
	return nil
}

// settleRows is the most rows one merged settle UPDATE writes.
const settleRows = 2000

// settler merges the settles of a run's chunks whose rows were all sent into
// one UPDATE (group commit): a worker hands its chunk over and waits until
// its rows are durable; the first one in runs the UPDATE, and the chunks
// that finish meanwhile go into the next one it runs.
type settler struct {
	mu    sync.Mutex
	queue []*settleReq
	busy  bool
}

// settleReq is one chunk waiting for its settle.
type settleReq struct {
	rows []store.Delivery
	res  []Result
	err  error
	done chan struct{}
}

// sent records rows (all sent, with their results) and returns once they
// are durable, or with the error of the UPDATE that carried them.
func (s *settler) sent(ctx context.Context, f *fireJob, rows []store.Delivery, res []Result) error {
	req := &settleReq{rows: rows, res: res, done: make(chan struct{})}
	s.mu.Lock()
	s.queue = append(s.queue, req)
	if s.busy {
		s.mu.Unlock()
		<-req.done
		return req.err
	}
	s.busy = true
	for len(s.queue) > 0 {
		n, take := 0, 0
		for take < len(s.queue) && (take == 0 || n+len(s.queue[take].rows) <= settleRows) {
			n += len(s.queue[take].rows)
			take++
		}
		batch := s.queue[:take:take]
		s.queue = s.queue[take:]
		s.mu.Unlock()
		all, allRes := batch[0].rows, batch[0].res
		if len(batch) > 1 {
			all, allRes = make([]store.Delivery, 0, n), make([]Result, 0, n)
			for _, b := range batch {
				all, allRes = append(all, b.rows...), append(allRes, b.res...)
			}
		}
		// What was sent is recorded even when ctx is done, each UPDATE
		// within its own writeTimeout.
		wctx, cancel := store.Detached(ctx, writeTimeout)
		err := store.Retry(wctx, func() error { return f.finishSent(f.d.DB.WithContext(wctx), all, allRes) })
		cancel()
		for _, b := range batch {
			b.err = err
			close(b.done)
		}
		s.mu.Lock()
	}
	s.busy = false
	s.mu.Unlock()
	return req.err
}

// outcome maps a failed send to the row's next status and its updates.
func (f *fireJob) outcome(res Result) (string, map[string]any) {
	upd := map[string]any{"updated_at": f.d.now()}
	var perm *PermanentError
	var drop *DroppedError
	status := ""
	switch {
	case errors.Is(res.Err, errNotSent):
		// Never sent: back to pending with the attempt given back.
		status = store.DeliveryPending
		upd["attempts"] = gorm.Expr("attempts - 1")
		upd["claim_token"] = ""
	case errors.As(res.Err, &perm):
		status = store.DeliveryFailed
		upd["error_code"], upd["error_message"] = store.PlatformError(perm.Code, perm.Error())
	case errors.As(res.Err, &drop):
		status = store.DeliveryDropped
		upd["error_code"], upd["error_message"] = store.PlatformError(drop.Code, drop.Message)
	default:
		// Transient: back to pending for the job's next attempt.
		status = store.DeliveryPending
		upd["error_code"], upd["error_message"] = store.PlatformError("transient", res.Err.Error())
	}
	upd["status"] = status
	return status, upd
}

// recordFailedEvents writes the webhook outbox rows (delivery.failed) of the
// failed deliveries that match where, in tx: one INSERT … SELECT.
func recordFailedEvents(tx *gorm.DB, now time.Time, where string, args ...any) error {
	src := "SELECT id AS ref_id, updated_at AS occurred_at FROM deliveries WHERE status = ? AND " + where
	return store.RecordEventsFrom(tx, store.EventDeliveryFailed, now, src, append([]any{store.DeliveryFailed}, args...)...)
}
