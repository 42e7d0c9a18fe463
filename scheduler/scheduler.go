// Package scheduler runs durable jobs stored in the jobs table. Any number of
// replicas may claim due jobs at once: on MySQL/MariaDB claims use
// SELECT … FOR UPDATE SKIP LOCKED, on SQLite a single process owns the table.
// A claimed job is leased for Options.Lease and heartbeated while it runs; a
// lease that runs out makes the job claimable again, so a crashed worker never
// strands its jobs. Every write made on behalf of a claim is a compare-and-set
// on (id, locked_by, attempts), so a worker that lost its lease cannot
// overwrite the new owner's result.
//
// The package also computes send times: QuietHours moves a send out of quiet
// hours, holidays and weekends, and NextCron evaluates cron specs in a time
// zone.
package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/internal/defaults"
	"github.com/learnloop/learnloop/store"
)

// Handler runs one job. Returning nil completes it; Cancel(err) fails it
// permanently; Snooze(d) reschedules it without using an attempt; any other
// error retries it with capped exponential backoff until its MaxAttempts,
// after which it is failed with last_error set. The context is cancelled when
// the worker loses the job's lease or shuts down.
type Handler func(ctx context.Context, job store.Job) error

// Options tunes a Scheduler. Zero values take the documented defaults.
type Options struct {
	// WorkerID names this worker in locked_by; default hostname-pid-random.
	WorkerID string
	// Lease is how long a claim lasts without a heartbeat; default 2m. A
	// claimed job whose locked_until has passed is claimable again.
	Lease time.Duration
	// Heartbeat is how often a running job's lease is extended; default
	// (and at most) Lease/3.
	Heartbeat time.Duration
	// PollInterval is how often Run looks for due jobs; default 1s.
	PollInterval time.Duration
	// Concurrency is how many handlers run at once; default 4.
	Concurrency int
	// ShutdownTimeout is how long Run waits, once its context is done, for
	// cancelled handlers to record their work and return before it releases
	// their jobs anyway; default 15s. Set it below the process's shutdown
	// budget (http.shutdown_timeout).
	ShutdownTimeout time.Duration
	// BatchSize caps the jobs claimed per poll; default 50. Run never claims
	// more than it has free handler slots for.
	BatchSize int
	// MaxAttempts is used when JobSpec.MaxAttempts is 0; default 8.
	MaxAttempts int
	// BackoffBase and BackoffMax shape retries (see Backoff); default 10s, 30m.
	BackoffBase, BackoffMax time.Duration
	// Now is the clock; default time.Now. Every time decision uses it.
	Now func() time.Time
	// Logger receives the scheduler's logs; default slog.Default().
	Logger *slog.Logger
	// Metrics, when set, receives learnloop_jobs_total{kind,outcome} and the
	// learnloop_job_lag_seconds histogram (claim time − run_at).
	Metrics prometheus.Registerer
}

// Scheduler enqueues, claims and runs jobs. It is safe for concurrent use.
type Scheduler struct {
	db      *gorm.DB
	opts    Options
	log     *slog.Logger
	mysql   bool
	metrics *metrics

	mu       sync.RWMutex
	handlers map[string]Handler
}

// New returns a Scheduler working on db's jobs table. Registering metrics
// that another Scheduler already registered on the same Registerer reuses
// them.
func New(db *gorm.DB, opts Options) *Scheduler {
	if opts.WorkerID == "" {
		opts.WorkerID = defaultWorkerID()
	}
	if opts.Lease <= 0 {
		opts.Lease = 2 * time.Minute
	}
	if opts.Heartbeat <= 0 || opts.Heartbeat > opts.Lease/3 {
		opts.Heartbeat = max(opts.Lease/3, time.Millisecond)
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 15 * time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 50
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = 10 * time.Second
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = 30 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Logger = defaults.Logger(opts.Logger)
	s := &Scheduler{
		db:       db,
		opts:     opts,
		log:      opts.Logger.With("worker", opts.WorkerID),
		mysql:    store.IsMySQL(db),
		handlers: map[string]Handler{},
	}
	if opts.Metrics != nil {
		s.metrics = newMetrics(opts.Metrics, s.log)
	}
	return s
}

// Register makes h run jobs of kind. It panics on an empty kind, a nil
// handler or a kind registered twice: all are programming errors.
func (s *Scheduler) Register(kind string, h Handler) {
	if kind == "" || h == nil {
		panic("scheduler: Register needs a kind and a handler")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.handlers[kind]; dup {
		panic(fmt.Sprintf("scheduler: kind %q registered twice", kind))
	}
	s.handlers[kind] = h
}

func (s *Scheduler) handler(kind string) Handler {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.handlers[kind]
}

// now is the injected clock in UTC, at the millisecond precision the jobs
// table keeps (MySQL DATETIME(3)), so values read back compare equal.
func (s *Scheduler) now() time.Time {
	return s.opts.Now().UTC().Truncate(time.Millisecond)
}

func defaultWorkerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Outcomes counted in learnloop_jobs_total.
const (
	outcomeCompleted = "completed" // handler returned nil
	outcomeRetried   = "retried"   // handler failed, another attempt is scheduled
	outcomeFailed    = "failed"    // attempts exhausted, unknown kind or lease expired after the last attempt
	outcomeCancelled = "cancelled" // handler returned Cancel(err): failed permanently
	outcomeSnoozed   = "snoozed"   // handler returned Snooze(d)
	outcomeReleased  = "released"  // shutdown handed the job back unfinished
	outcomeLost      = "lost"      // the lease passed to another worker; result discarded
)

type metrics struct {
	jobs *prometheus.CounterVec
	lag  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	jobs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "learnloop_jobs_total",
		Help: "Jobs the scheduler finished, by kind and outcome.",
	}, []string{"kind", "outcome"})
	lag := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "learnloop_job_lag_seconds",
		Help:    "Delay between a job's run_at and the moment a worker claimed it.",
		Buckets: []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600},
	})
	return &metrics{
		jobs: register(reg, jobs, log),
		lag:  register(reg, lag, log),
	}
}

// register registers c, or returns the collector already registered under
// the same description.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, log *slog.Logger) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		log.Warn("register scheduler metric", "err", err)
	}
	return c
}

func (m *metrics) outcome(kind, outcome string) {
	if m != nil {
		m.jobs.WithLabelValues(kind, outcome).Inc()
	}
}

func (m *metrics) observeLag(d time.Duration) {
	if m != nil {
		m.lag.Observe(max(d, 0).Seconds())
	}
}
