package scheduler_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/internal/clocktest"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// t0 is the start of every injected clock: Monday 2026-03-02 09:00 in Shanghai.
var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

// testBundle is what most tests need: a database, a clock and a registry.
type testBundle struct {
	db    *storetest.DB
	clock *clocktest.Clock
	reg   *prometheus.Registry
}

func setup(t *testing.T, db *storetest.DB) *testBundle {
	t.Helper()
	return &testBundle{db: db, clock: clocktest.New(t0), reg: prometheus.NewRegistry()}
}

// scheduler builds a Scheduler on the bundle's database, clock and registry;
// opts may override anything.
func (b *testBundle) scheduler(opts scheduler.Options) *scheduler.Scheduler {
	return newScheduler(b.db.DB, b.clock, b.reg, opts)
}

func newScheduler(db *gorm.DB, clock *clocktest.Clock, reg *prometheus.Registry, opts scheduler.Options) *scheduler.Scheduler {
	if opts.Now == nil && clock != nil {
		opts.Now = clock.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil && reg != nil {
		opts.Metrics = reg
	}
	return scheduler.New(db, opts)
}

func (b *testBundle) job(t *testing.T, id uint64) store.Job {
	t.Helper()
	var j store.Job
	require.NoError(t, b.db.First(&j, id).Error)
	return j
}

func (b *testBundle) enqueue(t *testing.T, s *scheduler.Scheduler, spec scheduler.JobSpec) store.Job {
	t.Helper()
	j, inserted, err := s.Enqueue(context.Background(), nil, spec)
	require.NoError(t, err)
	require.True(t, inserted)
	return j
}

// runDue runs s.RunDue and returns how many jobs it claimed.
func runDue(t *testing.T, s *scheduler.Scheduler) int {
	t.Helper()
	n, err := s.RunDue(context.Background())
	require.NoError(t, err)
	return n
}

// jobsTotal reads learnloop_jobs_total{kind,outcome} from reg.
func jobsTotal(t *testing.T, reg *prometheus.Registry, kind, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "learnloop_jobs_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["kind"] == kind && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// lagCount reads how many claims learnloop_job_lag_seconds observed.
func lagCount(t *testing.T, reg *prometheus.Registry) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == "learnloop_job_lag_seconds" {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	return 0
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempt   int
		base, max time.Duration
		want      time.Duration
	}{
		{0, 10 * time.Second, 30 * time.Minute, 10 * time.Second}, // below 1 counts as the first
		{1, 10 * time.Second, 30 * time.Minute, 10 * time.Second},
		{2, 10 * time.Second, 30 * time.Minute, 20 * time.Second},
		{3, 10 * time.Second, 30 * time.Minute, 40 * time.Second},
		{8, 10 * time.Second, 30 * time.Minute, 1280 * time.Second},
		{9, 10 * time.Second, 30 * time.Minute, 30 * time.Minute}, // 2560s capped
		{1000, 10 * time.Second, 30 * time.Minute, 30 * time.Minute},
		{3, time.Second, 0, 4 * time.Second},                 // no cap
		{200, time.Second, 0, time.Duration(1<<63 - 1)},      // saturates, no overflow
		{5, 0, time.Minute, 0},                               // no base, no delay
		{2, time.Minute, 30 * time.Second, 30 * time.Second}, // cap below base
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, scheduler.Backoff(tt.attempt, tt.base, tt.max),
			"Backoff(%d, %s, %s)", tt.attempt, tt.base, tt.max)
	}
}
