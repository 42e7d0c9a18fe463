package wecom

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
)

func TestPacerMemberMinute(t *testing.T) {
	t.Parallel()
	clk := newFakeClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
	p := newPacer(clk.Now, 0)
	for i := range perMemberMinute {
		w, err := p.reserve("u", true)
		require.NoError(t, err)
		require.Zero(t, w, i)
	}
	w, err := p.reserve("u", true)
	require.NoError(t, err)
	require.Equal(t, time.Minute, w, "the 31st within a minute waits")
	w, _ = p.reserve("v", true)
	require.Zero(t, w, "other members are not held back")
	clk.Advance(59 * time.Second)
	w, _ = p.reserve("u", false)
	require.Equal(t, time.Second, w)
	clk.Advance(time.Second)
	w, _ = p.reserve("u", true)
	require.Zero(t, w)
}

func TestPacerMemberHour(t *testing.T) {
	t.Parallel()
	clk := newFakeClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
	c := &Client{now: clk.Now, pace: newPacer(clk.Now, 0), sleep: clk.Sleep}
	start := clk.Now()
	for range perMemberHour {
		require.NoError(t, c.acquire(context.Background(), "u", true))
		clk.Advance(2 * time.Second) // 30 a minute
	}
	w, err := c.pace.reserve("u", false)
	require.NoError(t, err)
	require.Equal(t, start.Add(time.Hour).Sub(clk.Now()), w)
	err = c.acquire(context.Background(), "u", true)
	var rl *RateLimitError
	require.ErrorAs(t, err, &rl, "an hour-long wait is returned, not slept")
	require.Equal(t, start.Add(time.Hour), rl.Until)
	require.NotErrorAs(t, err, new(*bot.PermanentError))
}

func TestPacerDailyQuota(t *testing.T) {
	t.Parallel()
	// 23:00 in China.
	clk := newFakeClock(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))
	p := newPacer(clk.Now, 3)
	for i := range 3 {
		_, err := p.reserve(fmt.Sprint("u", i), true)
		require.NoError(t, err)
	}
	_, err := p.reserve("u9", true)
	var rl *RateLimitError
	require.ErrorAs(t, err, &rl)
	require.True(t, time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC).Equal(rl.Until), "midnight in China, got %s", rl.Until)
	require.Contains(t, rl.Error(), "daily quota of 3")
	p.unreserve() // a refused send gives its person-time back
	_, err = p.reserve("u9", true)
	require.NoError(t, err)
	clk.Advance(time.Hour)
	_, err = p.reserve("u9", true)
	require.NoError(t, err, "a new day in China")
}

func TestPacerCorpRate(t *testing.T) {
	t.Parallel()
	clk := newFakeClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
	p := newPacer(clk.Now, 0)
	for i := range appBurst {
		w, err := p.reserve(fmt.Sprint("u", i), true)
		require.NoError(t, err)
		require.Zero(t, w)
	}
	w, err := p.reserve("x", true)
	require.NoError(t, err)
	require.InDelta(t, float64(time.Second)/appRate, float64(w), float64(time.Millisecond))
	// Over any minute and any hour the bucket stays within 10,000 and 150,000.
	require.LessOrEqual(t, appBurst+60*appRate, 10000.0)
	require.LessOrEqual(t, appBurst+3600*appRate, 150000.0)
}

func TestPacerCooldown(t *testing.T) {
	t.Parallel()
	clk := newFakeClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
	p := newPacer(clk.Now, 0)
	require.Equal(t, time.Second, p.throttled())
	// More refusals of sends that were already in flight: the same burst.
	clk.Advance(300 * time.Millisecond)
	require.Equal(t, 700*time.Millisecond, p.throttled())
	// Refused again after sending resumed: each strike doubles.
	clk.Advance(700 * time.Millisecond)
	require.Equal(t, 2*time.Second, p.throttled())
	clk.Advance(2 * time.Second)
	require.Equal(t, 4*time.Second, p.throttled())
	w, _ := p.reserve("u", true)
	require.Equal(t, 4*time.Second, w)
	for range 10 {
		clk.Advance(maxCooldown)
		p.throttled()
	}
	clk.Advance(maxCooldown)
	require.Equal(t, maxCooldown, p.throttled())
	clk.Advance(maxCooldown)
	p.ok()
	require.Equal(t, time.Second, p.throttled())
}

// TestSendIsPaced: 45 cards to one member in a burst, as the Deliverer
// sends them (Wait, then Send): the fake WeCom, which drops the excess
// silently as the real one does, drops none.
func TestSendIsPaced(t *testing.T) {
	t.Parallel()
	b := setup(t, "u")
	start := b.clk.Now()
	to := bot.Recipient{UserID: "u"}
	for i := range 45 {
		require.NoError(t, b.c.Wait(context.Background(), to))
		_, err := b.c.Send(context.Background(), to, checkinMessage(t, fmt.Sprint("k-", i)))
		require.NoError(t, err)
	}
	cards := b.f.CardsFor("u")
	require.Len(t, cards, 45)
	for _, c := range cards {
		require.False(t, c.Dropped, "sent at %s", c.At)
	}
	require.GreaterOrEqual(t, b.clk.Now().Sub(start), time.Minute)
}

func TestWaitDoesNotReserve(t *testing.T) {
	t.Parallel()
	b := setup(t, "u")
	for range 3 * perMemberMinute {
		require.NoError(t, b.c.Wait(context.Background(), bot.Recipient{UserID: "u"}))
	}
	require.Empty(t, b.c.pace.users)
}
