package dingtalk

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/ratelimit"
)

// limiter is a token bucket over real time (it sleeps, so it does not use
// the injected clock). With shared set (WithLimiter, which the app always
// sets) the bucket lives in the database and holds for all replicas
// together; the fields below shared are then unused.
type limiter struct {
	shared *sharedRate

	mu     sync.Mutex
	rate   float64 // tokens per second; <= 0 means unlimited
	burst  float64
	tokens float64
	last   time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	if burst < 1 {
		burst = 1
	}
	return &limiter{rate: perSecond, burst: float64(burst), tokens: float64(burst)}
}

// wait blocks until n tokens are available (n larger than the burst waits
// for the burst and goes into debt) or ctx ends.
func (l *limiter) wait(ctx context.Context, n int) error {
	if l != nil && l.shared != nil {
		return l.shared.wait(ctx, n)
	}
	if l == nil || l.rate <= 0 {
		return ctx.Err()
	}
	need := min(float64(n), l.burst)
	for {
		l.mu.Lock()
		now := time.Now()
		if !l.last.IsZero() {
			l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
		}
		l.last = now
		if l.tokens >= need {
			l.tokens -= float64(n)
			l.mu.Unlock()
			return nil
		}
		d := time.Duration((need - l.tokens) / l.rate * float64(time.Second))
		l.mu.Unlock()
		if err := kit.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// pause stops sending for d (after a quota error); with a shared limiter
// every replica pauses.
func (c *Client) pause(d time.Duration) {
	c.pauseMu.Lock()
	if until := time.Now().Add(d); until.After(c.pauseUntil) {
		c.pauseUntil = until
	}
	c.pauseMu.Unlock()
	if s := c.limit.shared; s != nil && d > 0 {
		kit.Hold(s.l, c.log, s.band.Key, d, d)
	}
}

// paused returns how long sending stays paused.
func (c *Client) paused() time.Duration {
	c.pauseMu.Lock()
	defer c.pauseMu.Unlock()
	return time.Until(c.pauseUntil)
}

// pausedError is returned (transient) for sends skipped during a quota pause.
type pausedError struct{ left time.Duration }

// Error implements error.
func (e *pausedError) Error() string {
	return fmt.Sprintf("dingtalk: sending paused for %s after a quota error", e.left.Round(time.Second))
}

// Wait implements bot.Pacer: it waits for the send rate and, after a quota
// error, until the pause ends — or returns a transient error at once when
// the pause outlasts ctx.
func (c *Client) Wait(ctx context.Context, _ bot.Recipient) error {
	if err := c.waitPause(ctx); err != nil {
		return err
	}
	return c.limit.wait(ctx, 1)
}

func (c *Client) waitPause(ctx context.Context) error {
	left := c.paused()
	if left <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < left {
		return &pausedError{left: left}
	}
	return kit.Sleep(ctx, left)
}

// Limiter is the shared rate limiter the adapter paces with
// (*ratelimit.Limiter): every replica reserves from the same database row,
// so the send rate and the pause after a quota error hold for the
// deployment as a whole.
type Limiter interface {
	Reserve(ctx context.Context, req ratelimit.Request) (ratelimit.Grant, error)
	Hold(ctx context.Context, key string, base, max time.Duration) (time.Duration, error)
	Now() time.Time
}

const (
	// sharedMaxWait is the longest a send waits for the shared bucket; a
	// longer wait (a pause after a quota error, a long queue) is a
	// transient error the delivery job retries.
	sharedMaxWait = 90 * time.Second
)

// sharedRate is the send bucket in the database: a GCRA band with the
// bucket's rate and burst (the same admissions as the token bucket: at
// most burst + rate×w units in any span w).
type sharedRate struct {
	l    Limiter
	band ratelimit.Band
	// sleep waits d or until ctx is done (tests).
	sleep func(ctx context.Context, d time.Duration) error
}

func newSharedRate(l Limiter, appKey string, rate float64, burst int) *sharedRate {
	key := kit.KeyPart(appKey, 100)
	every := time.Nanosecond
	if rate > 0 {
		every = max(time.Nanosecond, time.Duration(float64(time.Second)/rate))
	}
	return &sharedRate{l: l, band: ratelimit.Band{Key: "dingtalk:" + key + ":send", Every: every, Burst: max(burst, 1)}, sleep: kit.Sleep}
}

// wait books n units (one card, or one person of a work notification) and
// sleeps until they may go.
func (s *sharedRate) wait(ctx context.Context, n int) error {
	req := ratelimit.Request{Bands: []ratelimit.Band{s.band}, Weight: max(n, 1), MaxWait: kit.MaxWait(ctx, sharedMaxWait, s.l.Now())}
	g, err := s.l.Reserve(ctx, req)
	if err != nil {
		return fmt.Errorf("dingtalk: rate limit: %w", err)
	}
	if !g.Booked {
		if !g.HoldUntil.IsZero() && !g.HoldUntil.Before(g.At) {
			return &pausedError{left: g.Wait}
		}
		return &RateLimitError{Until: g.At}
	}
	return s.sleep(ctx, g.Wait)
}

// RateLimitError is a send held back because the shared send rate is taken
// for longer than the send may wait; it is transient: the delivery job
// retries it.
type RateLimitError struct {
	Until time.Time
}

// Error implements error.
func (e *RateLimitError) Error() string {
	return fmt.Sprintf("dingtalk: send rate taken until %s", e.Until.UTC().Format(time.RFC3339))
}
