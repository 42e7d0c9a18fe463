package kittest_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit/kittest"
)

// heldBack stands in for an adapter's RateLimitError.
type heldBack struct{ until time.Time }

func (e *heldBack) Error() string { return "held back" }

// recorder is a testing.TB that records a failure instead of ending the
// test, to check that Pool.Run fails its test (it does so after its
// workers ended, from the test's goroutine).
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	r.msg = format
	if len(args) > 0 {
		r.msg = args[0].(string)
	}
}

func (r *recorder) FailNow() {}

// TestPool: every job is sent; a held-back job waits until its error's time
// on the pool's clock and is tried again, up to Retries times; what is left
// fails the test, and each worker's end is reported.
func TestPool(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		retryAt   bool
		retries   int
		failFirst int // how many tries of each job are held back
		other     bool
		wantTries int
		wantFail  bool
	}{
		{"no error", true, 3, 0, false, 1, false},
		{"held back, then sent", true, 3, 2, false, 3, false},
		{"held back beyond the retries", true, 2, 5, false, 3, true},
		{"another error is not retried", true, 3, 1, true, 1, true},
		{"no RetryAt: not retried", false, 3, 1, false, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const jobs, workers = 20, 4
			var (
				mu    sync.Mutex
				tries = map[int]int{}
				slept []time.Duration
				done  atomic.Int32
			)
			p := kittest.Pool{
				Workers: workers,
				Retries: tt.retries,
				Now:     func() time.Time { return t0 },
				Sleep: func(_ context.Context, d time.Duration) error {
					mu.Lock()
					defer mu.Unlock()
					slept = append(slept, d)
					return nil
				},
				Done: func() { done.Add(1) },
			}
			if tt.retryAt {
				p.RetryAt = kittest.Until(func(e *heldBack) time.Time { return e.until })
			}
			rec := &recorder{TB: t}
			p.Run(rec, jobs, func(_ context.Context, w, i int) error {
				require.Less(t, w, workers)
				mu.Lock()
				defer mu.Unlock()
				tries[i]++
				if tries[i] > tt.failFirst {
					return nil
				}
				if tt.other {
					return errors.New("refused")
				}
				return &heldBack{until: t0.Add(time.Second)}
			})
			require.Equal(t, tt.wantFail, rec.failed, rec.msg)
			if tt.wantFail {
				require.Contains(t, rec.msg, "job ")
			}
			require.Len(t, tries, jobs, "every job is tried")
			for i, n := range tries {
				require.Equal(t, tt.wantTries, n, "job %d", i)
			}
			require.Len(t, slept, jobs*(tt.wantTries-1), "one wait before each retry")
			for _, d := range slept {
				require.Equal(t, time.Second, d, "until the error's time")
			}
			require.EqualValues(t, workers, done.Load())
		})
	}
}
