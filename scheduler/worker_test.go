package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestConcurrentClaimRunsEachJobOnce has two schedulers drain 1,000 due jobs
// at the same time. On MySQL each has its own connection pool, as two
// replicas would; SQLite has one process, so they share its pool.
func TestConcurrentClaimRunsEachJobOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		const total = 1000
		b := setup(t, db)
		jobs := make([]store.Job, total)
		for i := range jobs {
			jobs[i] = store.Job{Kind: "send", State: store.JobAvailable, RunAt: t0.Add(-time.Duration(i) * time.Millisecond), MaxAttempts: 3, Payload: fmt.Sprint(i)}
		}
		require.NoError(t, db.CreateInBatches(&jobs, 250).Error)

		var (
			runs sync.Map // job id → *atomic.Int32
			done atomic.Int64
		)
		workers := make([]*scheduler.Scheduler, 2)
		ran := make([]atomic.Int64, len(workers))
		for i := range workers {
			pool := db.DB
			if db.Driver == store.DriverMySQL {
				pool = db.Replica(t, 8)
			}
			workers[i] = newScheduler(pool, b.clock, nil, scheduler.Options{WorkerID: fmt.Sprintf("w%d", i), Concurrency: 8, BatchSize: 50})
			workers[i].Register("send", func(_ context.Context, j store.Job) error {
				c, _ := runs.LoadOrStore(j.ID, new(atomic.Int32))
				c.(*atomic.Int32).Add(1)
				ran[i].Add(1)
				done.Add(1)
				return nil
			})
		}

		// Done when every job has run; a loaded machine may take long, so the
		// only bound is the test binary's own deadline.
		ctx, cancel := context.WithDeadline(context.Background(), waitDeadline(t))
		defer cancel()
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Go(func() {
				for done.Load() < total && ctx.Err() == nil {
					n, err := w.RunDue(ctx)
					if err != nil {
						t.Errorf("RunDue: %v", err)
						return
					}
					if n == 0 {
						time.Sleep(2 * time.Millisecond)
					}
				}
			})
		}
		wg.Wait()
		require.NoError(t, ctx.Err(), "draining took too long")

		for _, j := range jobs {
			c, ok := runs.Load(j.ID)
			require.True(t, ok, "job %d never ran", j.ID)
			require.EqualValues(t, 1, c.(*atomic.Int32).Load(), "job %d ran more than once", j.ID)
		}
		var completed int64
		require.NoError(t, db.Model(&store.Job{}).Where("state = ? AND attempts = 1 AND locked_until IS NULL", store.JobCompleted).Count(&completed).Error)
		require.EqualValues(t, total, completed)
		for i := range ran {
			require.Positive(t, ran[i].Load(), "worker %d claimed nothing: claims were not concurrent", i)
		}
	})
}

// waitDeadline is when a test waiting for a condition gives up: shortly
// before the test binary's -timeout, so the test fails with its own message
// instead of a panic; ten minutes without one.
func waitDeadline(t *testing.T) time.Time {
	if d, ok := t.Deadline(); ok {
		return d.Add(-10 * time.Second)
	}
	return time.Now().Add(10 * time.Minute)
}

// TestExpiredLeaseIsClaimedAgain: a worker that stops without finishing keeps
// its job until the lease expires; then another worker runs it, and the first
// worker's late result cannot overwrite the new owner's claim or result.
func TestExpiredLeaseIsClaimedAgain(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		stuck := b.scheduler(scheduler.Options{WorkerID: "stuck", Lease: time.Minute})
		other := b.scheduler(scheduler.Options{WorkerID: "other", Lease: time.Minute})
		stuckStarted, unblockStuck := make(chan struct{}), make(chan struct{})
		stuck.Register("send", func(context.Context, store.Job) error {
			close(stuckStarted)
			<-unblockStuck
			return errors.New("late failure from the stuck worker")
		})
		var otherRuns atomic.Int32
		otherStarted, unblockOther := make(chan struct{}), make(chan struct{})
		other.Register("send", func(context.Context, store.Job) error {
			if otherRuns.Add(1) == 1 {
				close(otherStarted)
			}
			<-unblockOther
			return nil
		})
		j := b.enqueue(t, stuck, scheduler.JobSpec{Kind: "send"})

		runInBackground := func(s *scheduler.Scheduler) <-chan int {
			ch := make(chan int, 1)
			go func() {
				n, err := s.RunDue(context.Background())
				if err != nil {
					t.Errorf("RunDue: %v", err)
				}
				ch <- n
			}()
			return ch
		}
		stuckDone := runInBackground(stuck)
		<-stuckStarted
		held := b.job(t, j.ID)
		require.Equal(t, store.JobRunning, held.State)
		require.Equal(t, "stuck", held.LockedBy)
		require.Equal(t, 1, held.Attempts)
		require.True(t, held.LockedUntil.Equal(t0.Add(time.Minute)), "locked_until %v", held.LockedUntil)

		require.Zero(t, runDue(t, other), "claimed before the lease expired")
		b.clock.Set(t0.Add(time.Minute)) // locked_until == now: still held
		require.Zero(t, runDue(t, other), "claimed at the instant the lease expires")
		b.clock.Set(t0.Add(time.Minute + time.Millisecond))
		otherDone := runInBackground(other)
		<-otherStarted

		// The stuck worker finishes while the new owner still runs the job.
		close(unblockStuck)
		require.Equal(t, 1, <-stuckDone)
		got := b.job(t, j.ID)
		require.Equal(t, store.JobRunning, got.State, "the stuck worker overwrote the new owner's claim")
		require.Equal(t, "other", got.LockedBy)
		require.Equal(t, 2, got.Attempts)
		require.Empty(t, got.LastError)
		require.Equal(t, 1.0, jobsTotal(t, b.reg, "send", "lost"))

		close(unblockOther)
		require.Equal(t, 1, <-otherDone)
		got = b.job(t, j.ID)
		require.Equal(t, store.JobCompleted, got.State)
		require.Equal(t, 2, got.Attempts)
		require.EqualValues(t, 1, otherRuns.Load())
		require.Equal(t, 1.0, jobsTotal(t, b.reg, "send", "completed"))
		require.Zero(t, jobsTotal(t, b.reg, "send", "retried"))
	})
}

// TestExpiredLeaseAfterLastAttempt: a crashed job is only run again while it
// has attempts left; otherwise it fails with a clear last_error.
func TestExpiredLeaseAfterLastAttempt(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		s := b.scheduler(scheduler.Options{})
		var runs atomic.Int32
		s.Register("send", func(context.Context, store.Job) error { runs.Add(1); return nil })
		expired := t0.Add(-time.Second)
		exhausted := store.Job{Kind: "send", State: store.JobRunning, RunAt: t0.Add(-time.Hour), Attempts: 3, MaxAttempts: 3, LockedBy: "dead", LockedUntil: &expired}
		retry := store.Job{Kind: "send", State: store.JobRunning, RunAt: t0.Add(-time.Hour), Attempts: 2, MaxAttempts: 3, LockedBy: "dead", LockedUntil: &expired}
		require.NoError(t, db.Create(&exhausted).Error)
		require.NoError(t, db.Create(&retry).Error)

		require.Equal(t, 2, runDue(t, s))
		require.EqualValues(t, 1, runs.Load())

		got := b.job(t, exhausted.ID)
		require.Equal(t, store.JobFailed, got.State)
		require.Equal(t, "lease expired after 3 attempts", got.LastError)
		require.Nil(t, got.LockedUntil)
		require.NotNil(t, got.FinishedAt)

		got = b.job(t, retry.ID)
		require.Equal(t, store.JobCompleted, got.State)
		require.Equal(t, 3, got.Attempts)
		require.Equal(t, 1.0, jobsTotal(t, b.reg, "send", "failed"))
	})
}

// TestHandlerOutcomes drives one job through a scripted series of handler
// results, moving the clock to the job's run_at before each run.
func TestHandlerOutcomes(t *testing.T) {
	t.Parallel()
	boom := func(i int) error { return fmt.Errorf("boom %d", i) }
	const panics = "kaboom" // a result of this string makes the handler panic
	type step struct {
		state     string
		attempts  int
		runAfter  time.Duration // run_at − t0 while the job waits again
		lastError string
	}
	tests := []struct {
		name        string
		maxAttempts int
		results     []any // error, nil or panics
		want        []step
		outcomes    map[string]float64
	}{
		{
			name:    "fails twice then succeeds",
			results: []any{boom(1), boom(2), nil},
			want: []step{
				{store.JobAvailable, 1, 10 * time.Second, "boom 1"},
				{store.JobAvailable, 2, 30 * time.Second, "boom 2"}, // +Backoff(2) = 20s
				{store.JobCompleted, 3, 0, ""},
			},
			outcomes: map[string]float64{"retried": 2, "completed": 1},
		},
		{
			name:        "max attempts exhausted, backoff capped",
			maxAttempts: 4,
			results:     []any{boom(1), boom(2), boom(3), boom(4)},
			want: []step{
				{store.JobAvailable, 1, 10 * time.Second, "boom 1"},
				{store.JobAvailable, 2, 30 * time.Second, "boom 2"},
				{store.JobAvailable, 3, 60 * time.Second, "boom 3"}, // 40s capped at 30s
				{store.JobFailed, 4, 0, "boom 4"},
			},
			outcomes: map[string]float64{"retried": 3, "failed": 1},
		},
		{
			name:     "cancel fails at once",
			results:  []any{scheduler.Cancel(errors.New("recipient left the company"))},
			want:     []step{{store.JobFailed, 1, 0, "recipient left the company"}},
			outcomes: map[string]float64{"cancelled": 1},
		},
		{
			name:    "snooze does not use an attempt",
			results: []any{scheduler.Snooze(5 * time.Minute), scheduler.Snooze(time.Minute), nil},
			want: []step{
				{store.JobAvailable, 0, 5 * time.Minute, ""},
				{store.JobAvailable, 0, 6 * time.Minute, ""},
				{store.JobCompleted, 1, 0, ""},
			},
			outcomes: map[string]float64{"snoozed": 2, "completed": 1},
		},
		{
			name:    "panic is retried",
			results: []any{panics, nil},
			want: []step{
				{store.JobAvailable, 1, 10 * time.Second, "panic: kaboom"},
				{store.JobCompleted, 2, 0, ""},
			},
			outcomes: map[string]float64{"retried": 1, "completed": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *storetest.DB) {
				b := setup(t, db)
				s := b.scheduler(scheduler.Options{BackoffBase: 10 * time.Second, BackoffMax: 30 * time.Second})
				var calls atomic.Int32
				s.Register("send", func(_ context.Context, j store.Job) error {
					i := int(calls.Add(1)) - 1
					if i >= len(tt.results) {
						t.Errorf("handler ran %d times, want %d", i+1, len(tt.results))
						return nil
					}
					if j.Payload != "payload" {
						t.Errorf("payload %q", j.Payload)
					}
					switch r := tt.results[i].(type) {
					case string:
						panic(r)
					case error:
						return r
					}
					return nil
				})
				j := b.enqueue(t, s, scheduler.JobSpec{Kind: "send", Payload: "payload", MaxAttempts: tt.maxAttempts})
				for i, want := range tt.want {
					if i > 0 {
						b.clock.Set(t0.Add(tt.want[i-1].runAfter - time.Millisecond))
						require.Zero(t, runDue(t, s), "step %d: ran before run_at", i)
						b.clock.Set(t0.Add(tt.want[i-1].runAfter))
					}
					require.Equal(t, 1, runDue(t, s), "step %d", i)
					got := b.job(t, j.ID)
					require.Equal(t, want.state, got.State, "step %d", i)
					require.Equal(t, want.attempts, got.Attempts, "step %d", i)
					require.Equal(t, want.lastError, got.LastError, "step %d", i)
					require.Nil(t, got.LockedUntil, "step %d", i)
					if want.state == store.JobAvailable {
						require.True(t, got.RunAt.Equal(t0.Add(want.runAfter)), "step %d: run_at %v, want t0+%s", i, got.RunAt, want.runAfter)
						require.Empty(t, got.LockedBy, "step %d", i)
						require.Nil(t, got.FinishedAt, "step %d", i)
					} else {
						require.NotNil(t, got.FinishedAt, "step %d", i)
						require.True(t, got.FinishedAt.Equal(b.clock.Now()), "step %d: finished_at %v", i, got.FinishedAt)
					}
				}
				require.EqualValues(t, len(tt.results), calls.Load())
				b.clock.Advance(time.Hour)
				require.Zero(t, runDue(t, s), "a finished job ran again")
				for outcome, want := range tt.outcomes {
					require.Equal(t, want, jobsTotal(t, b.reg, "send", outcome), outcome)
				}
				require.EqualValues(t, len(tt.results), lagCount(t, b.reg))
			})
		})
	}
}

func TestUnknownKindFails(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		s := b.scheduler(scheduler.Options{})
		j := b.enqueue(t, s, scheduler.JobSpec{Kind: "no-such-kind"})
		require.Equal(t, 1, runDue(t, s))
		got := b.job(t, j.ID)
		require.Equal(t, store.JobFailed, got.State)
		require.Contains(t, got.LastError, `"no-such-kind"`)
		require.Contains(t, got.LastError, "no handler registered")
	})
}

func TestRunDueRespectsConcurrency(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		s := b.scheduler(scheduler.Options{Concurrency: 3, BatchSize: 7})
		var running, peak atomic.Int32
		s.Register("send", func(context.Context, store.Job) error {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
			return nil
		})
		for range 10 {
			b.enqueue(t, s, scheduler.JobSpec{Kind: "send"})
		}
		require.Equal(t, 7, runDue(t, s), "claims BatchSize")
		require.Equal(t, 3, runDue(t, s))
		require.Zero(t, runDue(t, s))
		require.EqualValues(t, 3, peak.Load())
	})
}

// TestHeartbeatKeepsLease: a handler running longer than its lease keeps the
// job, because the lease is extended (from the injected clock) by every
// heartbeat. The lease is long in wall time, so a slow database under load
// never costs the owner its lease; the heartbeats come often, so each one is
// seen at once.
func TestHeartbeatKeepsLease(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		const lease = time.Minute
		b := setup(t, db)
		owner := b.scheduler(scheduler.Options{WorkerID: "owner", Lease: lease, Heartbeat: 10 * time.Millisecond})
		thief := b.scheduler(scheduler.Options{WorkerID: "thief", Lease: lease})
		started, finish := make(chan struct{}), make(chan struct{})
		owner.Register("send", func(context.Context, store.Job) error { close(started); <-finish; return nil })
		thief.Register("send", func(context.Context, store.Job) error { t.Error("job stolen while its lease was kept"); return nil })
		j := b.enqueue(t, owner, scheduler.JobSpec{Kind: "send"})

		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := owner.RunDue(context.Background()); err != nil {
				t.Errorf("owner RunDue: %v", err)
			}
		}()
		<-started
		require.True(t, b.job(t, j.ID).LockedUntil.Equal(t0.Add(lease)))
		for i := 1; i <= 3; i++ {
			now := t0.Add(time.Duration(i) * 2 * lease / 3)
			b.clock.Set(now)
			require.Eventually(t, func() bool {
				return b.job(t, j.ID).LockedUntil.Equal(now.Add(lease))
			}, time.Until(waitDeadline(t)), 10*time.Millisecond, "heartbeat %d did not extend the lease", i)
			// Past the previous lease, but not past the extended one.
			b.clock.Set(now.Add(lease / 2))
			require.Zero(t, runDue(t, thief))
		}
		close(finish)
		<-done
		got := b.job(t, j.ID)
		require.Equal(t, store.JobCompleted, got.State)
		require.Equal(t, 1, got.Attempts)
		require.Equal(t, "owner", got.LockedBy)
	})
}

// TestLostLeaseCancelsHandler: when another worker has taken the job over,
// the heartbeat notices, cancels the handler and discards its result.
func TestLostLeaseCancelsHandler(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		s := newScheduler(db.DB, nil, b.reg, scheduler.Options{WorkerID: "owner", Lease: 300 * time.Millisecond})
		started := make(chan struct{})
		s.Register("send", func(ctx context.Context, _ store.Job) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		})
		j := b.enqueue(t, s, scheduler.JobSpec{Kind: "send", RunAt: time.Now().Add(-time.Second)})
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = s.RunDue(context.Background())
		}()
		<-started
		// Another worker took it over after a lease expiry.
		require.NoError(t, db.Model(&store.Job{}).Where("id = ?", j.ID).Updates(map[string]any{
			"locked_by": "new-owner", "attempts": 2,
		}).Error)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("handler was not cancelled after losing its lease")
		}
		got := b.job(t, j.ID)
		require.Equal(t, store.JobRunning, got.State)
		require.Equal(t, "new-owner", got.LockedBy)
		require.Equal(t, 2, got.Attempts)
		require.Empty(t, got.LastError)
		require.Equal(t, 1.0, jobsTotal(t, b.reg, "send", "lost"))
	})
}

// TestRunShutdownFinishesInFlight: cancelling Run cancels the running
// handler's context at once with ErrShutdown, claims nothing new, and lets
// the handler record what it finished: a handler that returns nil completes.
func TestRunShutdownFinishesInFlight(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		s := b.scheduler(scheduler.Options{PollInterval: 10 * time.Millisecond, Concurrency: 2})
		started, finish := make(chan struct{}), make(chan struct{})
		var runs atomic.Int32
		var cause atomic.Value
		s.Register("send", func(ctx context.Context, _ store.Job) error {
			if runs.Add(1) == 1 {
				close(started)
				<-ctx.Done()
				cause.Store(context.Cause(ctx))
				<-finish // records what it did, then returns
			}
			return nil
		})
		first := b.enqueue(t, s, scheduler.JobSpec{Kind: "send"})

		ctx, cancel := context.WithCancel(context.Background())
		runErr := make(chan error, 1)
		go func() { runErr <- s.Run(ctx) }()
		<-started
		cancel()
		late := b.enqueue(t, s, scheduler.JobSpec{Kind: "send"})
		require.Eventually(t, func() bool { return cause.Load() != nil }, 5*time.Second, 5*time.Millisecond)
		require.ErrorIs(t, cause.Load().(error), scheduler.ErrShutdown)
		select {
		case err := <-runErr:
			t.Fatalf("Run returned %v before its handler finished", err)
		case <-time.After(100 * time.Millisecond):
		}
		close(finish)
		select {
		case err := <-runErr:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after its handler finished")
		}
		require.Equal(t, store.JobCompleted, b.job(t, first.ID).State)
		got := b.job(t, late.ID)
		require.Equal(t, store.JobAvailable, got.State, "claimed after shutdown began")
		require.Zero(t, got.Attempts)
		require.EqualValues(t, 1, runs.Load())
	})
}

// TestRunShutdownReleasesUnfinished: handlers are cancelled at shutdown and
// their jobs handed back, whether the handler returns on cancel or is still
// running when ShutdownTimeout ends — which bounds the shutdown, however long
// the lease.
func TestRunShutdownReleasesUnfinished(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		obedient bool // the handler returns when its context is cancelled
		lease    time.Duration
	}{
		{"handler returns on cancel", true, 300 * time.Millisecond},
		{"handler ignores cancel", false, 300 * time.Millisecond},
		{"handler ignores cancel, lease far above the budget", false, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *storetest.DB) {
				b := setup(t, db)
				s := b.scheduler(scheduler.Options{WorkerID: "w", Lease: tt.lease, ShutdownTimeout: 300 * time.Millisecond, PollInterval: 10 * time.Millisecond})
				started, stubborn, returned := make(chan struct{}), make(chan struct{}), make(chan struct{})
				s.Register("send", func(ctx context.Context, _ store.Job) error {
					defer close(returned)
					close(started)
					if tt.obedient {
						<-ctx.Done()
						return ctx.Err()
					}
					<-stubborn
					return nil
				})
				j := b.enqueue(t, s, scheduler.JobSpec{Kind: "send"})
				ctx, cancel := context.WithCancel(context.Background())
				runErr := make(chan error, 1)
				go func() { runErr <- s.Run(ctx) }()
				<-started
				cancel()
				select {
				case err := <-runErr:
					require.NoError(t, err)
				case <-time.After(5 * time.Second):
					t.Fatal("Run did not return after the grace period")
				}
				got := b.job(t, j.ID)
				require.Equal(t, store.JobAvailable, got.State)
				require.Zero(t, got.Attempts, "a released job gets its attempt back")
				require.Nil(t, got.LockedUntil)
				require.Empty(t, got.LockedBy)
				require.True(t, got.RunAt.Equal(t0), "still due at once")
				require.Equal(t, 1.0, jobsTotal(t, b.reg, "send", "released"))

				if !tt.obedient {
					// Its late success must not complete the released job.
					close(stubborn)
					<-returned
					require.Eventually(t, func() bool { return jobsTotal(t, b.reg, "send", "lost") == 1 }, 5*time.Second, 10*time.Millisecond)
					require.Equal(t, store.JobAvailable, b.job(t, j.ID).State)
				}
				<-returned
			})
		})
	}
}

// TestRunProcessesDueJobs: Run picks up jobs as they become due.
func TestRunProcessesDueJobs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		s := b.scheduler(scheduler.Options{PollInterval: 10 * time.Millisecond, Concurrency: 2, BatchSize: 5})
		var runs atomic.Int32
		s.Register("send", func(context.Context, store.Job) error { runs.Add(1); return nil })
		for range 12 {
			b.enqueue(t, s, scheduler.JobSpec{Kind: "send"})
		}
		later := b.enqueue(t, s, scheduler.JobSpec{Kind: "send", RunAt: t0.Add(time.Hour)})

		ctx, cancel := context.WithCancel(context.Background())
		runErr := make(chan error, 1)
		go func() { runErr <- s.Run(ctx) }()
		completed := func() int64 {
			var n int64
			require.NoError(t, db.Model(&store.Job{}).Where("state = ?", store.JobCompleted).Count(&n).Error)
			return n
		}
		// Wait for the results too: jumping the clock past the lease of a job
		// still being recorded would (rightly) let it be claimed again.
		require.Eventually(t, func() bool { return completed() == 12 }, 5*time.Second, 5*time.Millisecond)
		require.Equal(t, store.JobAvailable, b.job(t, later.ID).State)
		b.clock.Advance(time.Hour)
		require.Eventually(t, func() bool { return completed() == 13 }, 5*time.Second, 5*time.Millisecond)
		cancel()
		require.NoError(t, <-runErr)
		require.EqualValues(t, 13, runs.Load())
	})
}
