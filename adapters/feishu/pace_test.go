package feishu

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/ratelimit"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

func TestPacerAppLimits(t *testing.T) {
	t.Parallel()
	p := newPacer(Limits{AppPerSecond: 50, AppPerMinute: 1000, UserPerSecond: 5})
	t0 := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	var slots []time.Time
	for i := range 1200 {
		// Everyone asks at t0, each for a different user.
		slots = append(slots, p.reserve(t0, fmt.Sprintf("u:%d", i)))
	}
	// 50 per second: the first 50 go at once, the next 50 a second later…
	require.Equal(t, t0, slots[0])
	require.Equal(t, t0, slots[49])
	require.Equal(t, t0.Add(time.Second), slots[50])
	require.Equal(t, t0.Add(19*time.Second), slots[999])
	// …and 1,000 per minute: the 1,001st waits for the minute to turn.
	require.Equal(t, t0.Add(time.Minute), slots[1000])
	// No second-long window ever holds more than 50, no minute more than 1,000.
	for i := range slots {
		inSec, inMin := 0, 0
		for j := i; j < len(slots) && slots[j].Sub(slots[i]) < time.Minute; j++ {
			inMin++
			if slots[j].Sub(slots[i]) < time.Second {
				inSec++
			}
		}
		require.LessOrEqual(t, inSec, 50, "second window starting at %d", i)
		require.LessOrEqual(t, inMin, 1000, "minute window starting at %d", i)
	}
}

func TestPacerPerUser(t *testing.T) {
	t.Parallel()
	p := newPacer(Limits{AppPerSecond: 50, AppPerMinute: 1000, UserPerSecond: 5})
	t0 := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	for i := range 5 {
		require.Equal(t, t0, p.reserve(t0, "u:same"), "message %d", i)
	}
	require.Equal(t, t0.Add(time.Second), p.reserve(t0, "u:same"), "the sixth waits a second")
	// Later requests keep their order behind it (reservations are FIFO).
	require.Equal(t, t0.Add(time.Second), p.reserve(t0, "u:other"))
	// Time moves on: no waiting once the windows have passed.
	t1 := t0.Add(3 * time.Second)
	require.Equal(t, t1, p.reserve(t1, "u:same"))
	require.Equal(t, t1, p.reserve(t1, ""))
}

func TestPacerSweepsIdleUsers(t *testing.T) {
	t.Parallel()
	p := newPacer(Limits{AppPerSecond: 1 << 20, AppPerMinute: 1 << 20, UserPerSecond: 5})
	t0 := time.Now()
	for i := range 2048 {
		p.reserve(t0.Add(time.Duration(i)*10*time.Millisecond), fmt.Sprintf("u:%d", i))
	}
	require.Less(t, len(p.users), 2048, "users idle for over a second are forgotten")
}

func TestPacerWaitHonoursContext(t *testing.T) {
	t.Parallel()
	p := newPacer(Limits{AppPerSecond: 1, AppPerMinute: 100, UserPerSecond: 5})
	require.NoError(t, p.wait(context.Background(), "u:1"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	require.ErrorIs(t, p.wait(ctx, "u:2"), context.DeadlineExceeded)
	require.Less(t, time.Since(start), 500*time.Millisecond)
}

// TestPacerCooldown: after a frequency-limit answer every request waits;
// refusals of requests already in flight are the same strike; a later one
// doubles the wait; an accepted request ends the strikes.
func TestPacerCooldown(t *testing.T) {
	t.Parallel()
	p := newPacer(Limits{AppPerSecond: 50, AppPerMinute: 1000, UserPerSecond: 5})
	now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	require.Equal(t, baseCooldown, p.throttled(now))
	require.Equal(t, 700*time.Millisecond, p.throttled(now.Add(300*time.Millisecond)), "the same burst")
	require.False(t, p.reserve(now, "u").Before(now.Add(baseCooldown)), "requests wait for the cooldown")
	later := now.Add(2 * time.Second)
	require.Equal(t, 2*baseCooldown, p.throttled(later))
	p.ok()
	require.Equal(t, baseCooldown, p.throttled(later.Add(time.Minute)))
}

// TestSharedCooldown: a frequency-limit answer on one replica holds the
// app's requests on every replica.
func TestSharedCooldown(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	l := ratelimit.New(db.DB, ratelimit.WithNow(func() time.Time { return now }))
	lim := Limits{AppPerSecond: 50, AppPerMinute: 1000, UserPerSecond: 5}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := newShared(l, log, "cli_app", lim)
	b := newShared(l, log, "cli_app", lim)
	require.Equal(t, baseCooldown, a.throttled())
	g, err := l.Peek(context.Background(), b.request("u"))
	require.NoError(t, err)
	require.Equal(t, baseCooldown, g.Wait, "the other replica waits too")
}
