package dingtalk_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/dingtalk"
	"github.com/learnloop/learnloop/adapters/kit/kittest"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/ratelimit"
	"github.com/learnloop/learnloop/ratelimit/ratelimittest"
	"github.com/learnloop/learnloop/store/storetest"
)

// Shared pacing test rate: 100 cards a second with bursts of 10, for the
// deployment as a whole.
const (
	sharedRate  = 100
	sharedBurst = 10
)

// sharedClients returns three card-mode Clients (three replicas) against
// f, each with its own connection pool and shared Limiter on db when db is
// set.
func sharedClients(t *testing.T, f *fakeDT, db *storetest.DB) []*dingtalk.Client {
	t.Helper()
	cfg := dingtalk.Config{
		AppKey: testAppKey, AppSecret: testAppSecret, AgentID: testAgentID, CardTemplateID: testTemplate,
		APIBase: f.URL(), OAPIBase: f.URL(), PublicURL: testPublicURL, Timeout: 3 * time.Second,
	}
	var out []*dingtalk.Client
	for i := range 3 {
		opts := []dingtalk.Option{
			dingtalk.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
			dingtalk.WithRateLimit(sharedRate, sharedBurst),
		}
		if db != nil {
			gdb := db.DB
			if i > 0 {
				gdb = db.Replica(t, 4)
			}
			opts = append(opts, dingtalk.WithLimiter(ratelimit.New(gdb)))
		}
		c, err := dingtalk.New(cfg, opts...)
		require.NoError(t, err)
		out = append(out, c)
	}
	return out
}

// sendCards sends n cards from three workers per client.
func sendCards(t *testing.T, clients []*dingtalk.Client, n int) {
	t.Helper()
	kittest.Pool{Workers: 3 * len(clients)}.Run(t, n, func(ctx context.Context, w, i int) error {
		c := clients[w%len(clients)]
		to := bot.Recipient{UserID: fmt.Sprintf("dt%03d", i%50)}
		if err := c.Wait(ctx, to); err != nil {
			return err
		}
		_, err := c.Send(ctx, to, checkinMessage(fmt.Sprint("shared-", i), i))
		return err
	})
}

// TestSharedPacingThreeReplicas: three replicas on one database send 300
// cards to one fake DingTalk, which records when each createAndDeliver
// arrives. Over any span w the app never gets more than burst + rate×w
// (plus one for the time between a grant and the request arriving), and
// every card arrives. The control — the same three replicas pacing each on
// its own — sends about three times that.
func TestSharedPacingThreeReplicas(t *testing.T) {
	t.Parallel()
	const path = "/v1.0/card/instances/createAndDeliver"
	bound := func(w time.Duration) int { return sharedBurst + int(sharedRate*w.Seconds()) + 1 }
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := newFakeDT(t)
		sendCards(t, sharedClients(t, f, db), 300)
		f.mu.Lock()
		defer f.mu.Unlock()
		require.Len(t, f.cards, 300, "every card arrives")
		got := f.arrivals[path]
		for _, w := range []time.Duration{100 * time.Millisecond, time.Second, 2 * time.Second} {
			require.LessOrEqual(t, ratelimittest.MaxInWindow(got, w), bound(w), "window %s", w)
		}
	})
	t.Run("control without the shared limiter", func(t *testing.T) {
		t.Parallel()
		f := newFakeDT(t)
		sendCards(t, sharedClients(t, f, nil), 300)
		f.mu.Lock()
		defer f.mu.Unlock()
		require.Greater(t, ratelimittest.MaxInWindow(f.arrivals[path], time.Second), bound(time.Second))
	})
}

// TestSharedQuotaPause: a quota error on one replica pauses the others.
func TestSharedQuotaPause(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := newFakeDT(t)
		clients := sharedClients(t, f, db)
		f.fail("/v1.0/card/instances/createAndDeliver", http.StatusForbidden, `{"code":"Forbidden.AccessDenied.QpsLimitForApi","message":"调用频率超限","requestid":"r"}`)
		to := bot.Recipient{UserID: "dt001"}
		_, err := clients[0].Send(context.Background(), to, checkinMessage("pause-1", 1))
		require.Error(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err = clients[1].Send(ctx, to, checkinMessage("pause-2", 2))
		require.ErrorContains(t, err, "paused", "replica b sees replica a's pause")
		require.Less(t, time.Since(start), time.Second, "and says so at once instead of sleeping")
		require.Equal(t, 1, f.callCount("/v1.0/card/instances/createAndDeliver"))
	})
}
