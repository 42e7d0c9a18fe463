package feishu

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit/kittest"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/ratelimit"
	"github.com/learnloop/learnloop/ratelimit/ratelimittest"
	"github.com/learnloop/learnloop/store/storetest"
)

const workersPerReplica = 3

// replicaClients returns three Clients against f, each with its own
// connection pool and shared Limiter on db's database when db is set.
func replicaClients(t *testing.T, f *fakeFeishu, db *storetest.DB, clk *ratelimittest.Clock) []*Client {
	t.Helper()
	var out []*Client
	for i := range 3 {
		var opts []Option
		if db != nil {
			gdb := db.DB
			if i > 0 {
				gdb = db.Replica(t, 4)
			}
			opts = append(opts, WithLimiter(ratelimit.New(gdb, ratelimit.WithNow(clk.Now))))
		}
		c, _ := testClient(t, f, nil, opts...)
		if c.pace.shared != nil {
			c.pace.shared.sleep = clk.Sleep
		}
		out = append(out, c)
	}
	return out
}

// sendAll sends one card per user from workersPerReplica workers on each
// client; a *RateLimitError waits until its Until on pool's clock and
// tries again, as the job's retry would.
func sendAll(t *testing.T, clients []*Client, users []string, pool kittest.Pool) {
	t.Helper()
	pool.Workers = len(clients) * workersPerReplica
	pool.RetryAt = kittest.Until(func(e *RateLimitError) time.Time { return e.Until })
	pool.Retries = 50
	pool.Run(t, len(users), func(ctx context.Context, w, i int) error {
		_, err := clients[w%len(clients)].Send(ctx, bot.Recipient{UserID: users[i]}, checkinMessage(fmt.Sprint("k-", i)))
		return err
	})
}

// TestSharedPacingThreeReplicas: three replicas share one database and send
// 1,500 cards, 200 of them to one person, on a virtual clock. The fake
// Feishu counts the requests it receives in sliding windows: never more
// than 50 in a second or 1,000 in a minute for the app, never more than 5
// in a second for one person; every card arrives once.
func TestSharedPacingThreeReplicas(t *testing.T) {
	t.Parallel()
	var users []string
	for i := range 1500 {
		if i%15 < 2 {
			users = append(users, "ou_hot")
		} else {
			users = append(users, fmt.Sprint("ou_", i%400))
		}
	}
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := newFakeFeishu(t, IDTypeUserID)
		clk := ratelimittest.NewClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC), 3*workersPerReplica)
		f.now = clk.Now
		start := clk.Now()
		clients := replicaClients(t, f, db, clk)
		sendAll(t, clients, users, kittest.Pool{Sleep: clk.Sleep, Now: clk.Now, Done: clk.Done})

		f.mu.Lock()
		defer f.mu.Unlock()
		require.Len(t, f.messages, len(users), "every card arrives once")
		var all []time.Time
		per := map[string][]time.Time{}
		for _, a := range f.arrivals {
			all = append(all, a.At)
			per[a.ReceiveID] = append(per[a.ReceiveID], a.At)
		}
		require.Len(t, all, len(users), "one request per card")
		require.LessOrEqual(t, ratelimittest.MaxInWindow(all, time.Second), DefaultAppPerSec)
		require.LessOrEqual(t, ratelimittest.MaxInWindow(all, time.Minute), DefaultAppPerMin)
		for u, ts := range per {
			require.LessOrEqual(t, ratelimittest.MaxInWindow(ts, time.Second), DefaultUserPerSec, u)
		}
		require.Len(t, per["ou_hot"], 200)
		// 1,500 requests at ≤ 1,000 a minute take over a minute.
		require.Greater(t, clk.Now().Sub(start), time.Minute)
	})
}

// TestPerProcessPacingOverrunsWithReplicas is the control: three replicas
// that pace each on its own send three times the app's per-second quota.
func TestPerProcessPacingOverrunsWithReplicas(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeUserID)
	users := make([]string, 200)
	for i := range users {
		users[i] = fmt.Sprint("ou_", i)
	}
	clients := replicaClients(t, f, nil, nil)
	sendAll(t, clients, users, kittest.Pool{})
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []time.Time
	for _, a := range f.arrivals {
		all = append(all, a.At)
	}
	require.Greater(t, ratelimittest.MaxInWindow(all, time.Second), DefaultAppPerSec)
}
