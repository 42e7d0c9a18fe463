// Package ratelimittest has test helpers for code paced by package
// ratelimit: a virtual clock shared by several simulated replicas, and a
// sliding-window count of the requests a fake platform received.
package ratelimittest

import (
	"container/heap"
	"context"
	"slices"
	"sync"
	"time"
)

// Clock is a virtual clock for a fixed set of workers (goroutines). Time
// stands still while any worker is running — sending, waiting on the
// database — and jumps to the earliest wake-up once every live worker is
// asleep in Sleep. So a test of minute- or hour-long windows runs as fast
// as its I/O, and no request lands in a different window than the one its
// grant was computed for.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	workers int
	sleep   sleepers
	seq     int
}

// NewClock returns a clock at start with workers live workers; each must
// call Done when it finishes.
func NewClock(start time.Time, workers int) *Clock {
	return &Clock{now: start, workers: workers}
}

// Now returns the virtual time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep blocks the calling worker until the clock has moved d on, or ctx
// ends.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	c.mu.Lock()
	s := &sleeper{at: c.now.Add(d), ch: make(chan struct{}), seq: c.seq}
	c.seq++
	heap.Push(&c.sleep, s)
	c.advanceLocked()
	c.mu.Unlock()
	select {
	case <-s.ch:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		defer c.mu.Unlock()
		if s.index >= 0 {
			heap.Remove(&c.sleep, s.index)
			return ctx.Err()
		}
		return nil // woken at the same moment
	}
}

// Done marks one worker finished.
func (c *Clock) Done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.workers--
	c.advanceLocked()
}

// advanceLocked wakes the earliest sleepers when every live worker sleeps.
func (c *Clock) advanceLocked() {
	if c.workers <= 0 || len(c.sleep) < c.workers {
		return
	}
	at := c.sleep[0].at
	if at.After(c.now) {
		c.now = at
	}
	for len(c.sleep) > 0 && !c.sleep[0].at.After(c.now) {
		s := heap.Pop(&c.sleep).(*sleeper)
		close(s.ch)
	}
}

type sleeper struct {
	at    time.Time
	seq   int
	ch    chan struct{}
	index int
}

type sleepers []*sleeper

func (h sleepers) Len() int { return len(h) }
func (h sleepers) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h sleepers) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *sleepers) Push(x any) {
	s := x.(*sleeper)
	s.index = len(*h)
	*h = append(*h, s)
}
func (h *sleepers) Pop() any {
	old := *h
	s := old[len(old)-1]
	s.index = -1
	*h = old[:len(old)-1]
	return s
}

// MaxInWindow returns the most of times that fall in any half-open window
// [s, s+d): what a platform counting requests in a sliding window of d
// would see at its busiest.
func MaxInWindow(times []time.Time, d time.Duration) int {
	ts := slices.Clone(times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best, j := 0, 0
	for i := range ts {
		for j < len(ts) && ts[j].Before(ts[i].Add(d)) {
			j++
		}
		best = max(best, j-i)
	}
	return best
}
