package wecom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/ratelimit"
)

// WeCom's sending limits (developer.work.weixin.qq.com path/90236 and the
// frequency-limit page). Over the per-member limits WeCom answers success
// and silently drops the message, so they are kept here by pacing.
const (
	perMemberMinute = 30   // messages per app per member per minute
	perMemberHour   = 1000 // messages per app per member per hour
	// The corp-wide limit of one API is 10,000 calls a minute and 150,000 an
	// hour. A token bucket of appBurst tokens refilled at appRate per second
	// stays within both: 5,000 + 60×40.3 ≤ 10,000 and 5,000 + 3,600×40.3 ≤
	// 150,000.
	appBurst = 5000
	appRate  = 145000.0 / 3600
	// maxWait is the longest a send blocks for a slot; a longer wait is
	// returned as a transient error so the job retries later.
	maxWait = 90 * time.Second
	// cooldown after a frequency errcode doubles per strike up to maxCooldown.
	baseCooldown = time.Second
	maxCooldown  = time.Minute
)

// china is WeCom's day for the daily quota (no daylight saving).
var china = time.FixedZone("CST", 8*3600)

// RateLimitError is a send held back to stay within WeCom's limits; it is
// transient: the delivery job retries it.
type RateLimitError struct {
	Reason string
	Until  time.Time
}

// Error implements error.
func (e *RateLimitError) Error() string {
	return fmt.Sprintf("wecom: %s; sending resumes at %s", e.Reason, e.Until.In(china).Format("2006-01-02 15:04:05 MST"))
}

// pacer keeps sends within the per-member windows, the corp-wide API rate,
// the daily person-time quota and any cooldown after a frequency errcode.
// Without a shared Limiter the counts are per process (unit tests, tools);
// with one (WithLimiter, which the app always sets) every replica shares
// them through the database and the fields below shared are unused.
type pacer struct {
	shared *shared

	mu  sync.Mutex
	now func() time.Time

	users map[string][]time.Time // send times within the last hour, oldest first
	sweep int

	tokens float64
	filled time.Time

	quota    int
	day      string
	dayCount int

	cool kit.Cooldown
}

func newPacer(now func() time.Time, dailyQuota int) *pacer {
	return &pacer{
		now: now, users: map[string][]time.Time{}, tokens: appBurst, quota: dailyQuota,
		cool: kit.Cooldown{Base: baseCooldown, Max: maxCooldown},
	}
}

// reserve returns how long to wait before user can be sent to. With commit
// and no wait it records the send. A wait that cannot be honoured by
// waiting (daily quota) is an error.
func (p *pacer) reserve(user string, commit bool) (time.Duration, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var wait time.Duration
	later := func(d time.Duration) {
		if d > wait {
			wait = d
		}
	}
	if u := p.cool.Until(); now.Before(u) {
		later(u.Sub(now))
	}
	if p.quota > 0 {
		day := now.In(china).Format("2006-01-02")
		if day != p.day {
			p.day, p.dayCount = day, 0
		}
		if p.dayCount >= p.quota {
			y, m, d := now.In(china).Date()
			return 0, &RateLimitError{Reason: fmt.Sprintf("daily quota of %d person-times reached", p.quota), Until: time.Date(y, m, d+1, 0, 0, 0, 0, china)}
		}
	}
	ts := p.users[user]
	for len(ts) > 0 && !now.Before(ts[0].Add(time.Hour)) {
		ts = ts[1:]
	}
	if len(ts) >= perMemberHour {
		later(ts[len(ts)-perMemberHour].Add(time.Hour).Sub(now))
	}
	if len(ts) >= perMemberMinute {
		later(ts[len(ts)-perMemberMinute].Add(time.Minute).Sub(now))
	}
	p.refill(now)
	if p.tokens < 1 {
		later(time.Duration((1 - p.tokens) / appRate * float64(time.Second)))
	}
	if wait > 0 || !commit {
		p.setUser(user, ts)
		return wait, nil
	}
	p.tokens--
	p.dayCount++
	p.setUser(user, append(ts, now))
	p.sweepUsers(now)
	return 0, nil
}

func (p *pacer) setUser(user string, ts []time.Time) {
	if len(ts) == 0 {
		delete(p.users, user)
		return
	}
	p.users[user] = ts
}

// sweepUsers forgets members with no send in the last hour, now and then.
func (p *pacer) sweepUsers(now time.Time) {
	p.sweep++
	if p.sweep < 10_000 {
		return
	}
	p.sweep = 0
	for u, ts := range p.users {
		if !now.Before(ts[len(ts)-1].Add(time.Hour)) {
			delete(p.users, u)
		}
	}
}

func (p *pacer) refill(now time.Time) {
	if p.filled.IsZero() {
		p.filled = now
	}
	if d := now.Sub(p.filled); d > 0 {
		p.tokens = min(appBurst, p.tokens+d.Seconds()*appRate)
		p.filled = now
	}
}

// throttled records a frequency errcode: every send waits for a cooldown
// that doubles with each strike (sends already in flight when the first
// refusal came are the same strike).
func (p *pacer) throttled() time.Duration {
	if p.shared != nil {
		return p.shared.throttled()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cool.Strike(p.now())
}

// ok resets the cooldown strikes after a successful call.
func (p *pacer) ok() {
	if p.shared != nil {
		p.shared.ok()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cool.Clear()
}

// unreserve gives back the daily-quota person-time of a send WeCom refused.
func (p *pacer) unreserve() {
	if p.shared != nil {
		p.shared.unreserve()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dayCount > 0 {
		p.dayCount--
	}
}

// acquire blocks until user may be sent to (recording the send when commit)
// or returns a *RateLimitError when the wait would be too long.
func (c *Client) acquire(ctx context.Context, user string, commit bool) error {
	if c.pace.shared != nil {
		return c.acquireShared(ctx, user, commit)
	}
	for {
		wait, err := c.pace.reserve(user, commit)
		if err != nil {
			return err
		}
		if wait == 0 {
			return nil
		}
		if wait > maxWait {
			// Only the hourly per-member window waits this long.
			return &RateLimitError{Reason: fmt.Sprintf("member %s has had %d messages from this app in the last hour", user, perMemberHour), Until: c.now().Add(wait)}
		}
		if err := c.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// Limiter is the shared rate limiter the adapter paces with
// (*ratelimit.Limiter): every replica reserves from the same database rows,
// so the corp, app and member limits hold for the deployment as a whole.
type Limiter interface {
	Reserve(ctx context.Context, req ratelimit.Request) (ratelimit.Grant, error)
	Peek(ctx context.Context, req ratelimit.Request) (ratelimit.Grant, error)
	Hold(ctx context.Context, key string, base, max time.Duration) (time.Duration, error)
	Reset(ctx context.Context, key string) error
	Release(ctx context.Context, key string, n int64) error
	Now() time.Time
}

// Shared pacing. GCRA bands (package ratelimit) are exact sliding-window
// limits: a band Window(n, per, b) never admits more than n sends in any
// span of per, and lets b of them go at once.
const (
	// paceSlack widens every window, covering the time from a grant to
	// WeCom receiving the request and small clock differences between
	// replicas.
	paceSlack = time.Second
	// memberMinuteBurst and memberHourBurst: up to 10 cards to one member
	// at once, then one every 60/21 s; and at most 1,000 an hour, long-run
	// 971 an hour.
	memberMinuteBurst = 10
	memberHourBurst   = 30
	// sharedWriteTimeout bounds recording a reset or a returned
	// person-time: they record what already happened.
	sharedWriteTimeout = kit.HoldTimeout
)

// shared is the pacer's state in the database.
type shared struct {
	l     Limiter
	log   *slog.Logger
	corp  string // key of the corp-wide API band, which also holds cooldowns
	app   string // prefix of the app's member and quota keys
	quota int
	// strikes is set when a cooldown may have strikes to clear, so that
	// ordinary successes cost no database write.
	strikes atomic.Bool
}

func newShared(l Limiter, log *slog.Logger, corpID string, agentID int64, quota int) *shared {
	corp := "wecom:" + kit.KeyPart(corpID, 64)
	return &shared{l: l, log: log, corp: corp + ":api", app: fmt.Sprintf("%s:%d", corp, agentID), quota: quota}
}

// dayKey is the daily-quota counter of the China day holding t (the key
// ratelimit gives the Day counter of request).
func (s *shared) dayKey(t time.Time) string {
	return s.app + ":day:" + t.In(china).Format("20060102")
}

// request is what one card to user takes: the corp-wide API rate, the
// member's minute and hour windows and, with a quota, one person-time of
// today's quota.
func (s *shared) request(user string, now time.Time) ratelimit.Request {
	m := s.app + ":m:" + kit.KeyPart(user, 64)
	req := ratelimit.Request{Bands: []ratelimit.Band{
		ratelimit.Window(s.corp, 150_000, time.Hour+paceSlack, appBurst),
		ratelimit.Window(m+":1m", perMemberMinute, time.Minute+paceSlack, memberMinuteBurst),
		ratelimit.Window(m+":1h", perMemberHour, time.Hour+paceSlack, memberHourBurst),
	}}
	if s.quota > 0 {
		req.Counters = []ratelimit.Counter{{Key: s.app + ":day", Max: int64(s.quota), Day: china}}
	}
	return req
}

// acquireShared is acquire against the shared limiter: without commit it
// peeks and waits (Wait), with commit it books a slot and waits for it.
func (c *Client) acquireShared(ctx context.Context, user string, commit bool) error {
	s := c.pace.shared
	now := s.l.Now()
	req := s.request(user, now)
	req.MaxWait = kit.MaxWait(ctx, maxWait, now)
	var (
		g   ratelimit.Grant
		err error
	)
	if commit {
		g, err = s.l.Reserve(ctx, req)
	} else {
		g, err = s.l.Peek(ctx, req)
	}
	var ex *ratelimit.ExhaustedError
	switch {
	case errors.As(err, &ex):
		y, m, d := ex.At.In(china).Date()
		return &RateLimitError{Reason: fmt.Sprintf("daily quota of %d person-times reached", s.quota), Until: time.Date(y, m, d+1, 0, 0, 0, 0, china)}
	case err != nil:
		return fmt.Errorf("wecom: rate limit: %w", err)
	}
	if g.Strikes > 0 {
		s.strikes.Store(true)
	}
	if g.Wait > maxWait || (commit && !g.Booked) {
		return &RateLimitError{Reason: s.reason(user, g), Until: g.At}
	}
	return c.sleep(ctx, g.Wait)
}

// reason says why a send waits too long.
func (s *shared) reason(user string, g ratelimit.Grant) string {
	switch {
	case !g.HoldUntil.IsZero() && !g.HoldUntil.Before(g.At):
		return "cooling down after WeCom's frequency limit"
	case g.Wait > maxWait:
		return fmt.Sprintf("member %s is at WeCom's per-member limits (%d a minute, %d an hour)", user, perMemberMinute, perMemberHour)
	}
	return "the next slot is after the send's deadline"
}

func (s *shared) throttled() time.Duration {
	s.strikes.Store(true)
	return kit.Hold(s.l, s.log, s.corp, baseCooldown, maxCooldown)
}

func (s *shared) ok() {
	if !s.strikes.Swap(false) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedWriteTimeout)
	defer cancel()
	if err := s.l.Reset(ctx, s.corp); err != nil {
		s.log.Warn("wecom: cannot reset the cooldown strikes", "err", err)
		s.strikes.Store(true)
	}
}

func (s *shared) unreserve() {
	if s.quota <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedWriteTimeout)
	defer cancel()
	if err := s.l.Release(ctx, s.dayKey(s.l.Now()), 1); err != nil {
		s.log.Warn("wecom: cannot return a person-time to the daily quota", "err", err)
	}
}
