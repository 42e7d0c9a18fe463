package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/store"
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
	// StaleSending is how old a "sending" row must be before it is retried
	// (the process that claimed it died); the delivery key makes the
	// platform drop the duplicate.
	StaleSending time.Duration
	Logger       *slog.Logger
	Metrics      *Metrics
	Now          func() time.Time
	// Audiences resolves audiences beyond the built-in all, not_checked_in
	// and checked_in (surveys register "not_responded", managers…).
	Audiences map[string]AudienceFunc
}

// Target is one recipient of a touchpoint, optionally about a subject (the
// direct report a manager is asked about).
type Target struct {
	Employee store.Employee
	Subject  *store.Employee
}

// AudienceFunc resolves a named audience at send time.
type AudienceFunc func(ctx context.Context, db *gorm.DB, tp store.Touchpoint, sess store.Session) ([]Target, error)

// FireStats summarizes one Fire.
type FireStats struct {
	Audience int // recipients resolved at send time
	Created  int // new delivery rows
	Sent     int
	Failed   int // permanent failures (incl. no platform id)
	Retrying int // transient failures left pending
	Skipped  bool
	Reason   string
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
// the employee id), calling f with each page.
func audiencePages(ctx context.Context, db *gorm.DB, sessionID uint64, audience string, n int, f func([]store.Employee) error) error {
	var last uint64
	for {
		q, err := audienceQuery(ctx, db, sessionID, audience)
		if err != nil {
			return err
		}
		var page []store.Employee
		if err := q.Select("employees.id", "employees.external_id", "employees.name", "employees.platform", "employees.wecom_id",
			"employees.feishu_id", "employees.dingtalk_id", "employees.locale").
			Where("employees.id > ?", last).Order("employees.id").Limit(n).Find(&page).Error; err != nil {
			return fmt.Errorf("resolve audience: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		last = page[len(page)-1].ID
		if err := f(page); err != nil {
			return err
		}
	}
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

// Fire delivers touchpoint tpID's occurrence to its audience.
func (d *Deliverer) Fire(ctx context.Context, tpID uint64, occurrence string) (FireStats, error) {
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

	batch := d.BatchSize
	if batch <= 0 {
		batch = 500
	}
	now := d.now()
	var before, after int64
	if err := db.Model(&store.Delivery{}).Where("touchpoint_id = ? AND occurrence = ?", tp.ID, occurrence).Count(&before).Error; err != nil {
		return st, fmt.Errorf("count deliveries: %w", err)
	}
	// Only what a card needs is kept per person, so a touchpoint to 100,000
	// people does not hold 100,000 full employee rows.
	emp := map[uint64]store.Employee{}
	keep := func(e store.Employee) {
		emp[e.ID] = store.Employee{ID: e.ID, ExternalID: e.ExternalID, Name: e.Name, Locale: e.Locale}
	}
	addTargets := func(targets []Target) error {
		st.Audience += len(targets)
		rows := make([]store.Delivery, 0, len(targets))
		for _, t := range targets {
			e := t.Employee
			keep(e)
			var subject uint64
			if t.Subject != nil {
				subject = t.Subject.ID
				keep(*t.Subject)
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
			}
			rows = append(rows, row)
		}
		for i := 0; i < len(rows); i += batch {
			if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(rows[i:min(i+batch, len(rows))]).Error; err != nil {
				return fmt.Errorf("create deliveries: %w", err)
			}
		}
		return nil
	}
	if af, ok := d.Audiences[tp.Audience]; ok {
		targets, err := af(ctx, db, tp, sess)
		if err != nil {
			return st, fmt.Errorf("resolve audience %s: %w", tp.Audience, err)
		}
		if err := addTargets(targets); err != nil {
			return st, err
		}
	} else if err := audiencePages(ctx, db, sess.ID, tp.Audience, 5000, func(people []store.Employee) error {
		targets := make([]Target, len(people))
		for i, e := range people {
			targets[i] = Target{Employee: e}
		}
		return addTargets(targets)
	}); err != nil {
		return st, err
	}
	// (RowsAffected of an upsert differs between MySQL and SQLite: count.)
	if err := db.Model(&store.Delivery{}).Where("touchpoint_id = ? AND occurrence = ?", tp.ID, occurrence).Count(&after).Error; err != nil {
		return st, fmt.Errorf("count deliveries: %w", err)
	}
	st.Created = int(after - before)

	// Send the pending rows page by page (keyset on id): a row left pending
	// by a transient failure waits for the job's next attempt.
	stale := now.Add(-d.staleSending())
	job := fireJob{d: d, tp: tp, sess: sess, course: course, teacher: teacher, emp: emp}
	var last uint64
	for {
		var page []store.Delivery
		err := db.Where("touchpoint_id = ? AND occurrence = ? AND id > ? AND (status = ? OR (status = ? AND updated_at < ?))",
			tp.ID, occurrence, last, store.DeliveryPending, store.DeliverySending, stale).Order("id").Limit(2000).Find(&page).Error
		if err != nil {
			return st, fmt.Errorf("load pending deliveries: %w", err)
		}
		if len(page) == 0 {
			break
		}
		last = page[len(page)-1].ID
		byPlatform := map[Platform][]store.Delivery{}
		for _, p := range page {
			byPlatform[Platform(p.Platform)] = append(byPlatform[Platform(p.Platform)], p)
		}
		platforms := make([]Platform, 0, len(byPlatform))
		for p := range byPlatform {
			platforms = append(platforms, p)
		}
		sort.Slice(platforms, func(i, j int) bool { return platforms[i] < platforms[j] })
		for _, p := range platforms {
			sent, failed, retry, err := job.send(ctx, d.Messengers[p], byPlatform[p])
			st.Sent += sent
			st.Failed += failed
			st.Retrying += retry
			if err != nil {
				return st, err
			}
		}
	}
	var failedNow int64
	_ = db.Model(&store.Delivery{}).Where("touchpoint_id = ? AND occurrence = ? AND status = ? AND error_code IN ?", tp.ID, occurrence, store.DeliveryFailed, []string{"no_platform", "no_user_id"}).Count(&failedNow)
	st.Failed += int(failedNow)
	if err := db.Model(&store.Touchpoint{}).Where("id = ?", tp.ID).Updates(map[string]any{"status": store.TouchpointFired, "fired_at": now}).Error; err != nil {
		return st, fmt.Errorf("mark touchpoint fired: %w", err)
	}
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	log.Info("touchpoint fired", "touchpoint", tp.ID, "kind", tp.Kind, "occurrence", occurrence, "audience", st.Audience,
		"created", st.Created, "sent", st.Sent, "failed", st.Failed, "retrying", st.Retrying)
	if st.Retrying > 0 {
		return st, fmt.Errorf("touchpoint %d: %d deliveries pending: %w", tp.ID, st.Retrying, ErrTransient)
	}
	return st, nil
}

func (d *Deliverer) staleSending() time.Duration {
	if d.StaleSending > 0 {
		return d.StaleSending
	}
	return 10 * time.Minute
}

type fireJob struct {
	d       *Deliverer
	tp      store.Touchpoint
	sess    store.Session
	course  store.Course
	teacher string
	emp     map[uint64]store.Employee
}

func (f fireJob) recipient(row store.Delivery) Recipient {
	e := f.emp[row.EmployeeID]
	return Recipient{EmployeeID: row.EmployeeID, UserID: row.UserID, Name: e.Name, Locale: f.locale(e)}
}

func (f fireJob) locale(e store.Employee) string {
	if e.Locale != "" {
		return NormalizeLocale(e.Locale)
	}
	return NormalizeLocale(f.sess.Locale)
}

func (f fireJob) message(row store.Delivery) (Message, error) {
	cc := CardContext{
		Kind: f.tp.Kind, Note: f.tp.Note, Session: f.sess, Course: f.course, Teacher: f.teacher,
		DeliveryID: row.ID, Key: row.Key, Locale: f.locale(f.emp[row.EmployeeID]),
		Touchpoint: f.tp, Recipient: f.emp[row.EmployeeID],
	}
	if row.SubjectID != 0 {
		subj := f.emp[row.SubjectID]
		cc.Subject = &subj
	}
	return f.d.Renderer.Render(cc)
}

// claim marks rows as sending under a fresh claim token, so two replicas
// firing the same touchpoint never both send a row. It returns the rows won.
func (f fireJob) claim(ctx context.Context, rows []store.Delivery) ([]store.Delivery, error) {
	now := f.d.now()
	ids := make([]uint64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	token := newClaimToken()
	stale := now.Add(-f.d.staleSending())
	db := f.d.DB.WithContext(ctx)
	res := db.Model(&store.Delivery{}).
		Where("id IN ? AND (status = ? OR (status = ? AND updated_at < ?))", ids, store.DeliveryPending, store.DeliverySending, stale).
		Updates(map[string]any{"status": store.DeliverySending, "claim_token": token, "attempts": gorm.Expr("attempts + 1"), "updated_at": now})
	if res.Error != nil {
		return nil, fmt.Errorf("claim deliveries: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, nil
	}
	var won []store.Delivery
	if err := db.Where("id IN ? AND claim_token = ?", ids, token).Order("id").Find(&won).Error; err != nil {
		return nil, fmt.Errorf("read claimed deliveries: %w", err)
	}
	return won, nil
}

func newClaimToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (f fireJob) send(ctx context.Context, m Messenger, rows []store.Delivery) (sent, failed, retry int, err error) {
	bm, isBatch := m.(BatchMessenger)
	size := 200
	if isBatch && bm.MaxBatch() > 1 {
		size = bm.MaxBatch()
	}
	workers := f.d.Workers
	if workers <= 0 {
		workers = 8
	}
	if isBatch {
		workers = 1 // batch APIs pace per call; one call at a time per platform
	}
	type chunk []store.Delivery
	chunks := make(chan chunk)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	record := func(s, fl, rt int, e error) {
		mu.Lock()
		defer mu.Unlock()
		sent, failed, retry = sent+s, failed+fl, retry+rt
		if e != nil && firstErr == nil {
			firstErr = e
		}
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range chunks {
				s, fl, rt, e := f.sendChunk(ctx, m, bm, isBatch, c)
				record(s, fl, rt, e)
			}
		}()
	}
	for i := 0; i < len(rows) && ctx.Err() == nil; i += size {
		// Claim in slices of at most 200 so a crash leaves little "sending".
		for k := i; k < min(i+size, len(rows)); k += 200 {
			part := rows[k:min(k+200, i+size, len(rows))]
			won, cerr := f.claim(ctx, part)
			if cerr != nil {
				record(0, 0, 0, cerr)
				break
			}
			if len(won) > 0 {
				chunks <- won
			}
		}
	}
	close(chunks)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return sent, failed, retry, firstErr
}

func (f fireJob) sendChunk(ctx context.Context, m Messenger, bm BatchMessenger, isBatch bool, rows []store.Delivery) (sent, failed, retry int, err error) {
	msgs := make(map[uint64]Message, len(rows))
	var ok []store.Delivery
	for _, r := range rows {
		msg, rerr := f.message(r)
		if rerr != nil {
			if uerr := f.finish(f.d.DB.WithContext(ctx), r, Result{Err: Permanent("render", rerr.Error(), nil)}); uerr != nil {
				return sent, failed, retry, uerr
			}
			failed++
			continue
		}
		msgs[r.ID] = msg
		ok = append(ok, r)
	}
	var results []Result
	if isBatch && len(ok) > 0 {
		to := make([]Recipient, len(ok))
		byEmp := make(map[uint64]store.Delivery, len(ok))
		for i, r := range ok {
			to[i] = f.recipient(r)
			byEmp[r.EmployeeID] = r
		}
		results = bm.SendBatch(ctx, to, func(rc Recipient) Message { return msgs[byEmp[rc.EmployeeID].ID] })
		if len(results) != len(ok) {
			return sent, failed, retry, fmt.Errorf("%s: batch returned %d results for %d recipients", m.Platform(), len(results), len(ok))
		}
	} else {
		results = make([]Result, len(ok))
		for i, r := range ok {
			to := f.recipient(r)
			if p, isPacer := m.(Pacer); isPacer {
				if werr := p.Wait(ctx, to); werr != nil {
					results[i] = Result{Err: werr}
					continue
				}
			}
			rc, serr := m.Send(ctx, to, msgs[r.ID])
			results[i] = Result{Receipt: rc, Err: serr}
		}
	}
	err = f.d.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var sentRows []store.Delivery
		var sentRes []Result
		for i, r := range ok {
			if results[i].Err == nil {
				sentRows, sentRes = append(sentRows, r), append(sentRes, results[i])
				continue
			}
			if uerr := f.finish(tx, r, results[i]); uerr != nil {
				return uerr
			}
		}
		return f.finishSent(tx, sentRows, sentRes)
	})
	if err != nil {
		return sent, failed, retry, err
	}
	for i := range ok {
		res := results[i]
		var perm *PermanentError
		var drop *DroppedError
		switch {
		case res.Err == nil:
			sent++
		case errors.As(res.Err, &perm), errors.As(res.Err, &drop):
			failed++
		default:
			retry++
		}
	}
	return sent, failed, retry, nil
}

// finishSent marks successfully sent rows in one statement: the fan-out hot
// path writes one UPDATE per chunk, not one per recipient.
func (f fireJob) finishSent(tx *gorm.DB, rows []store.Delivery, res []Result) error {
	if len(rows) == 0 {
		return nil
	}
	now := f.d.now()
	ids := make([]uint64, len(rows))
	same := true
	var handle strings.Builder
	args := make([]any, 0, 2*len(rows))
	handle.WriteString("CASE id")
	for i, r := range rows {
		ids[i] = r.ID
		same = same && res[i].Receipt.Handle == res[0].Receipt.Handle
		handle.WriteString(" WHEN ? THEN ?")
		args = append(args, r.ID, res[i].Receipt.Handle)
	}
	handle.WriteString(" END")
	upd := map[string]any{"status": store.DeliverySent, "sent_at": now, "updated_at": now, "error_code": "", "error_message": ""}
	if same {
		upd["handle"] = res[0].Receipt.Handle
	} else {
		upd["handle"] = gorm.Expr(handle.String(), args...)
	}
	// Rows are claimed under one token per chunk.
	q := tx.Model(&store.Delivery{}).Where("id IN ? AND claim_token = ?", ids, rows[0].ClaimToken).Updates(upd)
	if q.Error != nil {
		return fmt.Errorf("record %d sent deliveries: %w", len(rows), q.Error)
	}
	for _, r := range rows {
		f.d.Metrics.delivery(r.Platform, store.DeliverySent)
	}
	return nil
}

// finish stores the outcome of one send.
func (f fireJob) finish(tx *gorm.DB, r store.Delivery, res Result) error {
	now := f.d.now()
	upd := map[string]any{"updated_at": now}
	var perm *PermanentError
	var drop *DroppedError
	status := ""
	switch {
	case res.Err == nil:
		status = store.DeliverySent
		at := res.Receipt.SentAt
		if at.IsZero() {
			at = now
		}
		upd["handle"], upd["sent_at"], upd["error_code"], upd["error_message"] = res.Receipt.Handle, at.UTC(), "", ""
	case errors.As(res.Err, &perm):
		status = store.DeliveryFailed
		upd["error_code"], upd["error_message"] = perm.Code, truncate(perm.Error(), 1000)
	case errors.As(res.Err, &drop):
		status = store.DeliveryDropped
		upd["error_code"], upd["error_message"] = drop.Code, truncate(drop.Message, 1000)
	default:
		// Transient: back to pending for the job's next attempt.
		status = store.DeliveryPending
		upd["error_code"], upd["error_message"] = "transient", truncate(res.Err.Error(), 1000)
	}
	upd["status"] = status
	f.d.Metrics.delivery(r.Platform, status)
	if err := tx.Model(&store.Delivery{}).Where("id = ? AND claim_token = ?", r.ID, r.ClaimToken).Updates(upd).Error; err != nil {
		return fmt.Errorf("record delivery %d: %w", r.ID, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}
