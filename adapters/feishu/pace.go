package feishu

import (
	"context"
	"sync"
	"time"
)

// window is an exact sliding-window limit: at most n events in any span d.
// It keeps the times of the last n events in a ring; times are added in
// non-decreasing order, so the oldest entry decides when the next may go.
type window struct {
	d     time.Duration
	times []time.Time // ring of capacity n
	next  int         // index of the oldest entry once full
	full  bool
}

func newWindow(n int, d time.Duration) *window {
	return &window{d: d, times: make([]time.Time, 0, n)}
}

// earliest returns the earliest time ≥ t at which one more event fits.
func (w *window) earliest(t time.Time) time.Time {
	if !w.full {
		return t
	}
	if at := w.times[w.next].Add(w.d); at.After(t) {
		return at
	}
	return t
}

func (w *window) add(t time.Time) {
	if !w.full {
		w.times = append(w.times, t)
		w.full = len(w.times) == cap(w.times)
		return
	}
	w.times[w.next] = t
	w.next = (w.next + 1) % len(w.times)
}

// newest returns the latest time added (zero when empty).
func (w *window) newest() time.Time {
	if len(w.times) == 0 {
		return time.Time{}
	}
	if !w.full {
		return w.times[len(w.times)-1]
	}
	return w.times[(w.next+len(w.times)-1)%len(w.times)]
}

// pacer spaces API requests to Feishu's quotas: per app 50/s and 1,000/min,
// and per receiver (a user, or a message for PATCH) 5/s. Reservations are
// handed out in order (each is at or after the previous one), which keeps
// every window exact; the price is that a request held back by one user's
// limit also holds back the requests queued behind it.
type pacer struct {
	mu       sync.Mutex
	perSec   *window
	perMin   *window
	userN    int
	users    map[string]*window
	last     time.Time
	reserved int
}

func newPacer(l Limits) *pacer {
	return &pacer{
		perSec: newWindow(l.AppPerSecond, time.Second),
		perMin: newWindow(l.AppPerMinute, time.Minute),
		userN:  l.UserPerSecond,
		users:  map[string]*window{},
	}
}

// reserve books the earliest slot at or after now for one request to key
// (empty key: app quotas only) and returns it.
func (p *pacer) reserve(now time.Time, key string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := now
	if p.last.After(t) {
		t = p.last
	}
	t = p.perSec.earliest(t)
	t = p.perMin.earliest(t)
	var uw *window
	if key != "" {
		uw = p.users[key]
		if uw == nil {
			uw = newWindow(p.userN, time.Second)
			p.users[key] = uw
		}
		t = uw.earliest(t)
		// The app windows only move forward, so t still fits them.
		uw.add(t)
	}
	p.perSec.add(t)
	p.perMin.add(t)
	p.last = t
	p.reserved++
	if p.reserved%1024 == 0 {
		p.sweep(now)
	}
	return t
}

// sweep forgets receivers whose last request is older than their window.
func (p *pacer) sweep(now time.Time) {
	for k, w := range p.users {
		if now.Sub(w.newest()) > w.d {
			delete(p.users, k)
		}
	}
}

// wait reserves a slot for key and sleeps until it comes.
func (p *pacer) wait(ctx context.Context, key string) error {
	at := p.reserve(time.Now(), key)
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}
