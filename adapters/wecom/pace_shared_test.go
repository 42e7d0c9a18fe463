package wecom

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit/kittest"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/ratelimit"
	"github.com/learnloop/learnloop/ratelimit/ratelimittest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// sharedRun is three replicas — three Clients, each with its own
// connection pool and Limiter on one database — sending to one fake WeCom
// on a virtual clock.
type sharedRun struct {
	f       *FakeWeCom
	clk     *ratelimittest.Clock
	clients []*Client
}

const workersPerReplica = 3

func newSharedRun(t *testing.T, db *storetest.DB, start time.Time, quota int, shared bool, users ...string) *sharedRun {
	t.Helper()
	f := NewFakeWeCom(t, users...)
	clk := ratelimittest.NewClock(start, 3*workersPerReplica)
	f.Now = clk.Now
	cfg := f.Config()
	cfg.DailyQuota = quota
	r := &sharedRun{f: f, clk: clk}
	for i := range 3 {
		gdb := db.DB
		if i > 0 {
			gdb = db.Replica(t, 4)
		}
		opts := []Option{WithNow(clk.Now), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}
		if shared {
			opts = append(opts, WithLimiter(ratelimit.New(gdb, ratelimit.WithNow(clk.Now))))
		}
		c, err := New(cfg, opts...)
		require.NoError(t, err)
		c.sleep = clk.Sleep
		r.clients = append(r.clients, c)
	}
	return r
}

type job struct {
	user, key string
}

// send delivers every job as the Deliverer does (Wait, then Send), a few
// workers per replica; a *RateLimitError waits until its Until and tries
// again, as the job's retry would.
func (r *sharedRun) send(t *testing.T, jobs []job) {
	t.Helper()
	pool := kittest.Pool{
		Workers: 3 * workersPerReplica,
		RetryAt: kittest.Until(func(e *RateLimitError) time.Time { return e.Until }),
		Retries: 100,
		Sleep:   r.clk.Sleep, Now: r.clk.Now, Done: r.clk.Done,
	}
	pool.Run(t, len(jobs), func(ctx context.Context, w, i int) error {
		c, j := r.clients[w%3], jobs[i]
		to := bot.Recipient{UserID: j.user}
		err := c.Wait(ctx, to)
		if err == nil {
			_, err = c.Send(ctx, to, checkinMessage(t, j.key))
		}
		if err != nil {
			return fmt.Errorf("%s: %w", j.key, err)
		}
		return nil
	})
}

// TestSharedPacingThreeReplicas: three replicas share one database and send
// 1,220 cards — 1,100 to one member — across a midnight in China with a
// daily quota of 450. The fake WeCom counts what it receives in sliding
// windows: no member ever gets more than 30 in a minute or 1,000 in an
// hour (so WeCom drops nothing), no China day takes more than the quota,
// and every card arrives exactly once. The control run with per-process
// pacing shows what the test catches: three replicas each allow 30 a
// minute, and WeCom silently drops the excess.
func TestSharedPacingThreeReplicas(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 2, 15, 40, 0, 0, time.UTC) // 23:40 in China
	users := []string{"hot"}
	var jobs []job
	for i := range 1100 {
		jobs = append(jobs, job{"hot", fmt.Sprint("hot-", i)})
	}
	for i := range 40 {
		u := fmt.Sprint("u", i)
		users = append(users, u)
		for k := range 3 {
			jobs = append(jobs, job{u, fmt.Sprintf("%s-%d", u, k)})
		}
	}
	const quota = 450
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		r := newSharedRun(t, db, start, quota, true, users...)
		r.send(t, jobs)

		cards := r.f.Cards()
		require.Len(t, cards, len(jobs), "every card arrives")
		keys := map[string]bool{}
		perUser := map[string][]time.Time{}
		perDay := map[string]int{}
		var all []time.Time
		for _, c := range cards {
			require.False(t, c.Dropped, "WeCom dropped a card to %s at %s", c.ToUser, c.At)
			require.False(t, keys[c.Card.TaskID], "card %s sent twice", c.Card.TaskID)
			keys[c.Card.TaskID] = true
			perUser[c.ToUser] = append(perUser[c.ToUser], c.At)
			perDay[c.At.In(china).Format("2006-01-02")]++
			all = append(all, c.At)
		}
		for u, ts := range perUser {
			require.LessOrEqual(t, ratelimittest.MaxInWindow(ts, time.Minute), perMemberMinute, u)
			require.LessOrEqual(t, ratelimittest.MaxInWindow(ts, time.Hour), perMemberHour, u)
		}
		require.LessOrEqual(t, ratelimittest.MaxInWindow(all, time.Minute), 10_000)
		full := 0
		for day, n := range perDay {
			require.LessOrEqual(t, n, quota, day)
			if n == quota {
				full++
			}
		}
		require.GreaterOrEqual(t, full, 1, "a day used its whole quota: %v", perDay)
		// 1,100 cards to one member at ≤ 1,000 an hour take over an hour.
		require.Greater(t, perUser["hot"][len(perUser["hot"])-1].Sub(start), time.Hour)
	})

	t.Run("control without the shared limiter", func(t *testing.T) {
		t.Parallel()
		db := storetest.Open(t, store.DriverSQLite)
		r := newSharedRun(t, db, start, 0, false, users...)
		r.send(t, jobs[:200])
		dropped := 0
		for _, c := range r.f.Cards() {
			if c.Dropped {
				dropped++
			}
		}
		require.Positive(t, dropped, "three per-process pacers let three times the member rate through")
	})
}

// TestSharedCooldown: a frequency errcode on one replica makes every
// replica wait, doubling per strike; a success clears the strikes.
func TestSharedCooldown(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		r := newSharedRun(t, db, time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC), 0, true, "u", "v")
		a, b := r.clients[0], r.clients[1]
		require.Equal(t, baseCooldown, a.pace.throttled())
		require.Equal(t, baseCooldown, b.pace.throttled(), "refused in the same burst: the same cooldown, no new strike")
		ctx := context.Background()
		g, err := b.limiter.Peek(ctx, a.pace.shared.request("v", r.clk.Now()))
		require.NoError(t, err)
		require.Equal(t, baseCooldown, g.Wait, "replica b waits for the cooldown a recorded")
		require.Equal(t, 1, g.Strikes)
		b.pace.shared.strikes.Store(true)
		b.pace.ok()
		g, err = b.limiter.Peek(ctx, a.pace.shared.request("v", r.clk.Now()))
		require.NoError(t, err)
		require.Zero(t, g.Strikes, "strikes start over after a success on any replica")
	})
}

// TestSharedDailyQuotaRelease: a person-time WeCom refused is given back
// to the shared quota.
func TestSharedDailyQuotaRelease(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		r := newSharedRun(t, db, time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC), 2, true, "u", "v")
		ctx := context.Background()
		require.NoError(t, r.clients[0].acquire(ctx, "u", true))
		require.NoError(t, r.clients[1].acquire(ctx, "v", true))
		err := r.clients[2].acquire(ctx, "u", true)
		var rl *RateLimitError
		require.ErrorAs(t, err, &rl)
		require.Contains(t, rl.Error(), "daily quota of 2")
		require.True(t, time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC).Equal(rl.Until), "midnight in China")
		r.clients[1].pace.unreserve()
		require.NoError(t, r.clients[2].acquire(ctx, "u", true))
	})
}
