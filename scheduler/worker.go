package scheduler

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/store"
)

// ErrShutdown is the cause of a handler's cancelled context when the worker
// shuts down: the job is released, not failed.
var ErrShutdown = errors.New("scheduler shutting down")

var (
	errLeaseLost = errors.New("job lease lost to another worker")
	errNoHandler = errors.New("no handler registered")
)

const (
	// writeTimeout bounds the writes that record a job's result, which run
	// even when the caller's context is already done.
	writeTimeout = 10 * time.Second
	// maxErrorLen caps last_error.
	maxErrorLen = 4000
	// ownedBy is the compare-and-set every write on behalf of a claim uses.
	ownedBy = "id = ? AND locked_by = ? AND attempts = ? AND state = ?"
)

// panicError is a recovered handler panic; it is retried like any error.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// RunDue claims up to BatchSize due jobs, runs them Concurrency at a time and
// waits for them. It returns how many jobs it claimed, counting those failed
// because their lease expired after their last attempt. When ctx is done,
// jobs not yet started are released and handlers see ctx cancelled. Errors
// recording a job's result are logged, not returned.
func (s *Scheduler) RunDue(ctx context.Context) (int, error) {
	jobs, exhausted, err := s.claim(ctx, s.opts.BatchSize)
	if err != nil {
		return 0, err
	}
	sem := make(chan struct{}, s.opts.Concurrency)
	var wg sync.WaitGroup
	for _, job := range jobs {
		wg.Go(func() { s.process(ctx, job, sem) })
	}
	wg.Wait()
	return len(jobs) + exhausted, nil
}

// Run claims and runs due jobs every PollInterval until ctx is done. Then it
// stops claiming and cancels the running handlers' context at once (with
// cause ErrShutdown): a handler stops starting new work, records what it
// did and returns, and its job is released (state available, locked_until
// NULL, the attempt given back) for immediate takeover by another worker.
// Leases stay heartbeated while handlers wind down. After ShutdownTimeout
// the jobs of handlers still running are released anyway and Run returns, so
// a shutdown never takes longer than its budget whatever the lease. A
// handler that ignores its context may outlive Run; its late result is
// discarded by the compare-and-set.
func (s *Scheduler) Run(ctx context.Context) error {
	// Handlers keep running after ctx is done, until the grace period ends.
	hard, stop := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stop(nil)
	var (
		wg       sync.WaitGroup
		active   atomic.Int64
		inflight sync.Map // id → store.Job
		wake     = make(chan struct{}, 1)
	)
	ticker := time.NewTicker(s.opts.PollInterval)
	defer ticker.Stop()
	s.log.Info("scheduler started", "concurrency", s.opts.Concurrency, "lease", s.opts.Lease)
	for {
		more := false
		if free := s.opts.Concurrency - int(active.Load()); free > 0 {
			n := min(s.opts.BatchSize, free)
			jobs, exhausted, err := s.claim(ctx, n)
			if err != nil && ctx.Err() == nil {
				s.log.Error("claim jobs", "err", err)
			}
			more = err == nil && len(jobs)+exhausted == n
			for _, job := range jobs {
				active.Add(1)
				inflight.Store(job.ID, job)
				wg.Go(func() {
					defer func() {
						inflight.Delete(job.ID)
						active.Add(-1)
						select {
						case wake <- struct{}{}:
						default:
						}
					}()
					s.process(hard, job, nil)
				})
			}
		}
		if !waitNext(ctx, ticker.C, wake, more, func() bool { return int(active.Load()) < s.opts.Concurrency }) {
			break
		}
	}
	return s.shutdown(ctx, stop, &wg, &inflight)
}

// waitNext waits until the next poll is due and reports false when ctx is
// done. After a full claim (more) it polls again as soon as a slot is free.
func waitNext(ctx context.Context, tick <-chan time.Time, wake <-chan struct{}, more bool, free func() bool) bool {
	if more && free() {
		return ctx.Err() == nil
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-tick:
			return true
		case <-wake:
			if more {
				return true
			}
		}
	}
}

func (s *Scheduler) shutdown(ctx context.Context, stop context.CancelCauseFunc, wg *sync.WaitGroup, inflight *sync.Map) error {
	n := 0
	inflight.Range(func(_, _ any) bool { n++; return true })
	s.log.Info("scheduler stopping: handing back running jobs", "running", n, "budget", s.opts.ShutdownTimeout)
	stop(ErrShutdown)
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	grace := time.NewTimer(s.opts.ShutdownTimeout)
	defer grace.Stop()
	select {
	case <-done:
		s.log.Info("scheduler stopped")
		return nil
	case <-grace.C:
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(writeTimeout, time.Second))
	defer cancel()
	inflight.Range(func(_, v any) bool {
		job := v.(store.Job)
		s.release(wctx, job, s.jobLog(job).With("reason", "handler still running at the end of the shutdown budget"))
		return true
	})
	s.log.Warn("scheduler stopped with handlers still running")
	return nil
}

// claim leases up to limit due jobs to this worker: available jobs whose
// run_at has come, and running jobs whose lease expired. An expired job that
// already used its last attempt is failed instead. It returns the claimed
// jobs and how many were failed that way.
func (s *Scheduler) claim(ctx context.Context, limit int) ([]store.Job, int, error) {
	now := s.now()
	var (
		jobs      []store.Job
		exhausted []store.Job
		txOpts    []*sql.TxOptions
	)
	if s.mysql {
		// READ COMMITTED takes no gap locks, so concurrent claimers that
		// insert into the same index ranges cannot deadlock each other.
		txOpts = append(txOpts, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	}
	lock := func(q *gorm.DB) *gorm.DB {
		if s.mysql {
			return q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		return q // SQLite has a single writer
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Two index range scans rather than one OR: each stays on its index
		// (locked_until; state+run_at), so SKIP LOCKED only touches rows it
		// returns. Expired leases go first: they have waited longest.
		var expired []store.Job
		if err := lock(tx.Select("id", "kind", "attempts", "max_attempts").
			Where("locked_until < ? AND state = ?", now, store.JobRunning).
			Order("locked_until, id").Limit(limit)).
			Find(&expired).Error; err != nil {
			return fmt.Errorf("select expired jobs: %w", err)
		}
		ids := make([]uint64, 0, limit)
		for _, j := range expired {
			if j.Attempts < j.MaxAttempts {
				ids = append(ids, j.ID)
				continue
			}
			j.LastError = fmt.Sprintf("lease expired after %d attempts", j.Attempts)
			if err := tx.Model(&store.Job{}).Where("id = ?", j.ID).Updates(map[string]any{
				"state":        store.JobFailed,
				"last_error":   j.LastError,
				"finished_at":  now,
				"locked_until": nil,
			}).Error; err != nil {
				return fmt.Errorf("fail expired job %d: %w", j.ID, err)
			}
			exhausted = append(exhausted, j)
		}
		if rest := limit - len(expired); rest > 0 {
			var due []uint64
			if err := lock(tx.Model(&store.Job{}).
				Where("state = ? AND run_at <= ?", store.JobAvailable, now).
				Order("run_at, id").Limit(rest)).
				Pluck("id", &due).Error; err != nil {
				return fmt.Errorf("select due jobs: %w", err)
			}
			ids = append(ids, due...)
		}
		if len(ids) == 0 {
			return nil
		}
		if err := tx.Model(&store.Job{}).Where("id IN ?", ids).Updates(map[string]any{
			"state":        store.JobRunning,
			"locked_by":    s.opts.WorkerID,
			"locked_until": now.Add(s.opts.Lease),
			"attempts":     gorm.Expr("attempts + 1"),
		}).Error; err != nil {
			return fmt.Errorf("lease jobs: %w", err)
		}
		if err := tx.Where("id IN ?", ids).Order("run_at, id").Find(&jobs).Error; err != nil {
			return fmt.Errorf("read claimed jobs: %w", err)
		}
		return nil
	}, txOpts...)
	if err != nil {
		return nil, 0, fmt.Errorf("claim jobs: %w", err)
	}
	for _, j := range exhausted {
		s.jobLog(j).Error("job failed", "err", j.LastError)
		s.metrics.outcome(j.Kind, outcomeFailed)
	}
	for _, j := range jobs {
		s.metrics.observeLag(now.Sub(j.RunAt))
	}
	return jobs, len(exhausted), nil
}

// process runs one claimed job and records its result. Handlers run under
// base; sem, when not nil, limits how many run at once.
func (s *Scheduler) process(base context.Context, job store.Job, sem chan struct{}) {
	hctx, cancel := context.WithCancelCause(base)
	defer cancel(nil)
	// The lease is heartbeated from the claim on, also while waiting for sem
	// and while the handler winds down after a shutdown cancelled base.
	bctx, stopBeatCtx := context.WithCancel(context.WithoutCancel(base))
	defer stopBeatCtx()
	stopBeat := make(chan struct{})
	beatDone := make(chan struct{})
	go func() {
		defer close(beatDone)
		s.heartbeat(bctx, job, cancel, stopBeat)
	}()

	var err error
	ran := acquire(hctx, sem)
	if ran {
		err = s.call(hctx, job)
		if sem != nil {
			<-sem
		}
	}
	cause := context.Cause(hctx) // nil unless the lease was lost or base is done
	close(stopBeat)
	<-beatDone
	s.record(base, job, ran, err, cause)
}

// acquire takes a slot of sem (if any); false when ctx ended first.
func acquire(ctx context.Context, sem chan struct{}) bool {
	if sem == nil {
		return ctx.Err() == nil
	}
	select {
	case sem <- struct{}{}:
		if ctx.Err() != nil {
			<-sem
			return false
		}
		return true
	case <-ctx.Done():
		return false
	}
}

// call runs job's handler, turning a panic into a retryable error.
func (s *Scheduler) call(ctx context.Context, job store.Job) (err error) {
	h := s.handler(job.Kind)
	if h == nil {
		return Cancel(fmt.Errorf("job kind %q: %w", job.Kind, errNoHandler))
	}
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	return h(ctx, job)
}

// heartbeat extends job's lease every Options.Heartbeat until stop, each
// write bounded by Lease/3. When the lease was taken over by another worker
// it cancels the handler with errLeaseLost.
func (s *Scheduler) heartbeat(ctx context.Context, job store.Job, cancel context.CancelCauseFunc, stop <-chan struct{}) {
	t := time.NewTicker(s.opts.Heartbeat)
	defer t.Stop()
	confirmed := time.Now() // wall clock: how long the database has been unreachable
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ectx, done := context.WithTimeout(ctx, max(s.opts.Lease/3, time.Millisecond))
		owned, err := s.extend(ectx, job)
		done()
		switch {
		case err != nil:
			if ctx.Err() == nil {
				s.jobLog(job).Warn("extend job lease", "err", err)
			}
			// Cut off from the database for a whole lease: another worker
			// may hold the job by now, so stop working on it.
			if time.Since(confirmed) >= s.opts.Lease {
				cancel(errLeaseLost)
				return
			}
		case !owned:
			cancel(errLeaseLost)
			return
		default:
			confirmed = time.Now()
		}
	}
}

// extend moves job's locked_until to now+Lease if this worker still owns it.
func (s *Scheduler) extend(ctx context.Context, job store.Job) (bool, error) {
	owned := func() *gorm.DB {
		return s.db.WithContext(ctx).Model(&store.Job{}).
			Where(ownedBy, job.ID, s.opts.WorkerID, job.Attempts, store.JobRunning)
	}
	res := owned().Update("locked_until", s.now().Add(s.opts.Lease))
	if res.Error != nil {
		return false, res.Error
	}
	if res.RowsAffected > 0 {
		return true, nil
	}
	// MySQL counts only changed rows: with a stopped clock nothing changed.
	var n int64
	if err := owned().Count(&n).Error; err != nil {
		return false, err
	}
	return n > 0, nil
}

// record writes a finished job's result with a compare-and-set, so a worker
// that lost the lease cannot overwrite its new owner's result.
func (s *Scheduler) record(base context.Context, job store.Job, ran bool, err, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(base), writeTimeout)
	defer cancel()
	log := s.jobLog(job)
	switch {
	case errors.Is(cause, errLeaseLost):
		log.Warn("job lease lost; result discarded", "err", err)
		s.metrics.outcome(job.Kind, outcomeLost)
		return
	case !ran || (err != nil && cause != nil):
		// Interrupted by shutdown or the caller: not the handler's failure.
		s.release(ctx, job, log)
		return
	}

	now := s.now()
	outcome, updates := s.result(job, err, now)
	var res *gorm.DB
	_ = store.Retry(ctx, func() error {
		res = s.db.WithContext(ctx).Model(&store.Job{}).
			Where(ownedBy, job.ID, s.opts.WorkerID, job.Attempts, store.JobRunning).
			Updates(updates)
		return res.Error
	})
	if res.Error != nil {
		log.Error("record job result", "outcome", outcome, "job_err", err, "err", res.Error)
		return
	}
	if res.RowsAffected == 0 {
		log.Warn("job lease lost; result discarded", "outcome", outcome, "err", err)
		s.metrics.outcome(job.Kind, outcomeLost)
		return
	}
	s.metrics.outcome(job.Kind, outcome)
	var pe *panicError
	if errors.As(err, &pe) {
		log = log.With("stack", string(pe.stack))
	}
	switch outcome {
	case outcomeRetried:
		log.Warn("job failed; will retry", "err", err, "run_at", updates["run_at"])
	case outcomeFailed:
		log.Error("job failed", "err", err)
	case outcomeCancelled:
		log.Warn("job cancelled", "err", err)
	case outcomeSnoozed:
		log.Debug("job snoozed", "run_at", updates["run_at"])
	default:
		log.Debug("job completed")
	}
}

// result maps a handler's error to the job's next state.
func (s *Scheduler) result(job store.Job, err error, now time.Time) (string, map[string]any) {
	done := func(state, lastError string) map[string]any {
		return map[string]any{
			"state":        state,
			"last_error":   lastError,
			"finished_at":  now,
			"locked_until": nil,
		}
	}
	again := func(runAt time.Time, attempts int, lastError string) map[string]any {
		return map[string]any{
			"state":        store.JobAvailable,
			"run_at":       runAt,
			"attempts":     attempts,
			"last_error":   lastError,
			"locked_until": nil,
			"locked_by":    "",
		}
	}
	if err == nil {
		return outcomeCompleted, done(store.JobCompleted, "")
	}
	if se, ok := asSnooze(err); ok {
		return outcomeSnoozed, again(now.Add(se.d), job.Attempts-1, job.LastError)
	}
	msg := errorText(err)
	if _, ok := asCancel(err); ok {
		if errors.Is(err, errNoHandler) {
			return outcomeFailed, done(store.JobFailed, msg)
		}
		return outcomeCancelled, done(store.JobFailed, msg)
	}
	if job.Attempts >= job.MaxAttempts {
		return outcomeFailed, done(store.JobFailed, msg)
	}
	next := now.Add(Backoff(job.Attempts, s.opts.BackoffBase, s.opts.BackoffMax))
	return outcomeRetried, again(next, job.Attempts, msg)
}

// release hands an unfinished job back: available, unlocked, attempt returned.
func (s *Scheduler) release(ctx context.Context, job store.Job, log *slog.Logger) {
	var res *gorm.DB
	_ = store.Retry(ctx, func() error {
		res = s.db.WithContext(ctx).Model(&store.Job{}).
			Where(ownedBy, job.ID, s.opts.WorkerID, job.Attempts, store.JobRunning).
			Updates(map[string]any{
				"state":        store.JobAvailable,
				"attempts":     job.Attempts - 1,
				"locked_until": nil,
				"locked_by":    "",
			})
		return res.Error
	})
	switch {
	case res.Error != nil:
		log.Error("release job", "err", res.Error)
	case res.RowsAffected == 0:
		log.Warn("release job: lease already lost")
	default:
		log.Info("released unfinished job")
		s.metrics.outcome(job.Kind, outcomeReleased)
	}
}

func (s *Scheduler) jobLog(job store.Job) *slog.Logger {
	return s.log.With("job", job.ID, "kind", job.Kind, "attempt", job.Attempts)
}

// errorText is err's message as the jobs table keeps it: valid UTF-8, cut
// to maxErrorLen bytes on a rune boundary.
func errorText(err error) string { return cut.Bytes(err.Error(), maxErrorLen) }
