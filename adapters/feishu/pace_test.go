package feishu

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
