package dingtalk

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/learnloop/learnloop/bot"
)

// limiter is a token bucket over real time (it sleeps, so it does not use
// the injected clock).
type limiter struct {
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
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// pause stops sending for d (after a quota error).
func (c *Client) pause(d time.Duration) {
	c.pauseMu.Lock()
	defer c.pauseMu.Unlock()
	if until := time.Now().Add(d); until.After(c.pauseUntil) {
		c.pauseUntil = until
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
	t := time.NewTimer(left)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
