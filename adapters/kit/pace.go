package kit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"time"
)

// Sleep waits d, or until ctx is done (its error). A d ≤ 0 does not wait.
// It is the adapters' real sleep behind their pacers and retries; tests
// swap in a virtual one.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Cooldown is a pacer's pause after the platform answered with a
// frequency-limit code, in one process: it doubles per strike from Base up
// to Max, and refusals that come while it runs (requests already in flight
// when the first came) are the same strike. A success clears the strikes;
// a running pause still runs out. Its zero value with Base and Max set is
// ready; it has no lock of its own: the pacer holding it guards it.
type Cooldown struct {
	Base, Max time.Duration

	until   time.Time
	strikes int
}

// Until returns when the running pause ends (zero or past: none runs).
func (c *Cooldown) Until() time.Time { return c.until }

// Strike records a frequency-limit answer at now and returns how long
// sending now waits: what is left of the running pause, or a new pause
// twice as long as the last.
func (c *Cooldown) Strike(now time.Time) time.Duration {
	if now.Before(c.until) {
		return c.until.Sub(now)
	}
	c.strikes++
	d := min(c.Base<<min(c.strikes-1, 10), c.Max)
	c.until = now.Add(d)
	return d
}

// Clear ends the strikes after a request the platform accepted.
func (c *Cooldown) Clear() { c.strikes = 0 }

// MaxWait is how long a request may wait for a shared rate-limit slot
// (ratelimit.Request.MaxWait): limit, or less when ctx's deadline comes
// sooner than now+limit, and never below zero, so that a slot after the
// deadline is not booked.
func MaxWait(ctx context.Context, limit time.Duration, now time.Time) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		limit = min(limit, dl.Sub(now))
	}
	return max(limit, 0)
}

// HoldTimeout bounds recording a shared pause (Hold): it records what
// already happened, so it waits on no request's context.
const HoldTimeout = 5 * time.Second

// Holder is the part of a shared rate limiter (*ratelimit.Limiter) that
// pauses every replica's requests under a key.
type Holder interface {
	Hold(ctx context.Context, key string, base, max time.Duration) (time.Duration, error)
}

// Hold pauses every replica's requests under key after the platform's
// frequency-limit answer (l's hold, doubling per strike from base up to
// max) and returns the pause. When the database does not record it within
// HoldTimeout it logs that and returns base: the refused request is
// retried by its job anyway; only the other replicas' pause is missing.
func Hold(l Holder, log *slog.Logger, key string, base, max time.Duration) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), HoldTimeout)
	defer cancel()
	d, err := l.Hold(ctx, key, base, max)
	if err != nil {
		log.Warn("cannot pause the other replicas after a frequency-limit answer", "key", key, "err", err)
		return base
	}
	return d
}

// KeyPart keeps a platform id within a rate-limit key of the database's
// key size: an id of at most n bytes stays as it is, a longer one becomes
// "h" and 32 hex digits of its SHA-256.
func KeyPart(s string, n int) string {
	if len(s) <= n {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "h" + hex.EncodeToString(sum[:16])
}
