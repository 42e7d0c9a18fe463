package wecom

import (
	"context"
	"fmt"
	"sync"
	"time"
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
// Counts are per process: with several replicas divide daily_quota among
// them.
type pacer struct {
	mu  sync.Mutex
	now func() time.Time

	users map[string][]time.Time // send times within the last hour, oldest first
	sweep int

	tokens float64
	filled time.Time

	quota    int
	day      string
	dayCount int

	cooldownUntil time.Time
	strikes       int
}

func newPacer(now func() time.Time, dailyQuota int) *pacer {
	return &pacer{now: now, users: map[string][]time.Time{}, tokens: appBurst, quota: dailyQuota}
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
	if now.Before(p.cooldownUntil) {
		later(p.cooldownUntil.Sub(now))
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
// that doubles with each strike.
func (p *pacer) throttled() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.strikes++
	d := min(baseCooldown<<min(p.strikes-1, 10), maxCooldown)
	p.cooldownUntil = p.now().Add(d)
	return d
}

// ok resets the cooldown strikes after a successful call.
func (p *pacer) ok() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.strikes = 0
}

// unreserve gives back the daily-quota person-time of a send WeCom refused.
func (p *pacer) unreserve() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dayCount > 0 {
		p.dayCount--
	}
}

// acquire blocks until user may be sent to (recording the send when commit)
// or returns a *RateLimitError when the wait would be too long.
func (c *Client) acquire(ctx context.Context, user string, commit bool) error {
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

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
