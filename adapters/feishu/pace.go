package feishu

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/ratelimit"
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
// limit also holds back the requests queued behind it. With a shared
// Limiter (WithLimiter, which the app always sets) the quotas are kept for
// all replicas together in the database instead, and the fields below
// shared are unused.
type pacer struct {
	shared *shared

	mu       sync.Mutex
	perSec   *window
	perMin   *window
	userN    int
	users    map[string]*window
	last     time.Time
	reserved int

	cool kit.Cooldown
}

func newPacer(l Limits) *pacer {
	return &pacer{
		perSec: newWindow(l.AppPerSecond, time.Second),
		perMin: newWindow(l.AppPerMinute, time.Minute),
		userN:  l.UserPerSecond,
		users:  map[string]*window{},
		cool:   kit.Cooldown{Base: baseCooldown, Max: maxCooldown},
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
	if u := p.cool.Until(); u.After(t) {
		t = u
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

// throttled records a frequency-limit answer: requests wait for a cooldown
// that doubles per strike (refusals of requests already in flight when the
// first came are the same strike). It returns the cooldown.
func (p *pacer) throttled(now time.Time) time.Duration {
	if p.shared != nil {
		return p.shared.throttled()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cool.Strike(now)
}

// ok ends the strikes after a request Feishu accepted.
func (p *pacer) ok() {
	if p.shared != nil {
		return // the shared hold ends by itself; its strikes age out with it
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cool.Clear()
}

// wait reserves a slot for key and sleeps until it comes.
func (p *pacer) wait(ctx context.Context, key string) error {
	if p.shared != nil {
		return p.shared.wait(ctx, key)
	}
	return kit.Sleep(ctx, time.Until(p.reserve(time.Now(), key)))
}

// Limiter is the shared rate limiter the adapter paces with
// (*ratelimit.Limiter): every replica reserves from the same database rows,
// so the app's and each receiver's quotas hold for the deployment as a
// whole.
type Limiter interface {
	Reserve(ctx context.Context, req ratelimit.Request) (ratelimit.Grant, error)
	Hold(ctx context.Context, key string, base, max time.Duration) (time.Duration, error)
	Now() time.Time
}

// Cooldown after Feishu answers a frequency-limit code (99991400, 11232,
// 230020 or HTTP 429): every request of the app, on every replica, waits,
// doubling per strike up to maxCooldown.
const (
	baseCooldown = time.Second
	maxCooldown  = time.Minute
)

// Shared pacing. A GCRA band Window(n, per, b) never admits more than n
// requests in any span of per and lets b of them go at once.
const (
	// paceSlack widens every window, covering the time from a grant to
	// Feishu receiving the request and small clock differences between
	// replicas.
	paceSlack = 50 * time.Millisecond
	// Bursts: 10 requests at once per app (then the per-second band allows
	// 41/s and the per-minute band 951/min), 2 per receiver (then 4/s).
	appSecondBurst = 10
	appMinuteBurst = 50
	receiverBurst  = 2
	// sharedMaxWait is the longest a request waits for a slot; a longer
	// wait is a *RateLimitError, which the delivery job retries.
	sharedMaxWait = 30 * time.Second
)

// RateLimitError is a request held back to stay within Feishu's quotas; it
// is transient: the delivery job retries it.
type RateLimitError struct {
	Reason string
	Until  time.Time
}

// Error implements error.
func (e *RateLimitError) Error() string {
	return fmt.Sprintf("feishu: %s; sending resumes at %s", e.Reason, e.Until.UTC().Format(time.RFC3339))
}

// shared is the pacer's state in the database.
type shared struct {
	l      Limiter
	log    *slog.Logger
	app    string
	limits Limits
	// sleep waits d or until ctx is done (tests use a virtual clock).
	sleep func(ctx context.Context, d time.Duration) error
}

func newShared(l Limiter, log *slog.Logger, appID string, limits Limits) *shared {
	return &shared{l: l, log: log, app: "feishu:" + kit.KeyPart(appID, 100), limits: limits, sleep: kit.Sleep}
}

// request is what one API request to key takes (key "": app quotas only).
func (s *shared) request(key string) ratelimit.Request {
	req := ratelimit.Request{Bands: []ratelimit.Band{
		ratelimit.Window(s.app+":1s", s.limits.AppPerSecond, time.Second+paceSlack, appSecondBurst),
		ratelimit.Window(s.app+":1m", s.limits.AppPerMinute, time.Minute+paceSlack, appMinuteBurst),
	}}
	if key != "" {
		req.Bands = append(req.Bands, ratelimit.Window(s.app+":"+kit.KeyPart(key, 100)+":1s", s.limits.UserPerSecond, time.Second+paceSlack, receiverBurst))
	}
	return req
}

// wait books a shared slot for key and sleeps until it comes.
func (s *shared) wait(ctx context.Context, key string) error {
	req := s.request(key)
	req.MaxWait = kit.MaxWait(ctx, sharedMaxWait, s.l.Now())
	g, err := s.l.Reserve(ctx, req)
	if err != nil {
		return fmt.Errorf("rate limit: %w", err)
	}
	if !g.Booked {
		return &RateLimitError{Reason: "Feishu's request quotas are taken for longer than this request may wait", Until: g.At}
	}
	return s.sleep(ctx, g.Wait)
}

// throttled holds every request of the app, on every replica.
func (s *shared) throttled() time.Duration {
	return kit.Hold(s.l, s.log, s.app+":1s", baseCooldown, maxCooldown)
}
