package bench

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/dingtalk"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/ratelimit"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// pacedClient is a DingTalk client whose send bucket (rate and burst far
// above what the benchmark reaches, so nothing sleeps) is in-process, or in
// the database when l is set. Its Wait takes one permit from the bucket.
func pacedClient(b *testing.B, l *ratelimit.Limiter) *dingtalk.Client {
	b.Helper()
	opts := []dingtalk.Option{dingtalk.WithRateLimit(1e9, 1e9)}
	if l != nil {
		opts = append(opts, dingtalk.WithLimiter(l))
	}
	c, err := dingtalk.New(dingtalk.Config{
		AppKey: "bench-app", AppSecret: "bench-secret", CardTemplateID: "tpl",
		APIBase: "http://127.0.0.1:9", OAPIBase: "http://127.0.0.1:9",
	}, opts...)
	require.NoError(b, err)
	return c
}

// permits takes total permits through clients from workers goroutines and
// returns the rate (permits/s).
func permits(b *testing.B, clients []*dingtalk.Client, workers, total int) float64 {
	b.Helper()
	var wg sync.WaitGroup
	each := total / workers
	errs := make(chan error, workers)
	t0 := time.Now()
	for w := range workers {
		c := clients[w%len(clients)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if err := c.Wait(context.Background(), bot.Recipient{UserID: "u"}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	close(errs)
	for err := range errs {
		require.NoError(b, err)
	}
	return float64(each*workers) / el.Seconds()
}

// BenchmarkRateLimit: the shared limiter's cost per permit beside the
// in-process pacer, both behind the same adapter call (DingTalk's Wait,
// which takes one permit from its send bucket): one goroutine (latency per
// permit), then three replicas with eight goroutines each on the same
// per-app key (the hot row every replica serialises on). Then a WeCom-shaped
// reservation — corp rate, two member windows and the day's quota, four
// rows in one transaction — on its own. LEARNLOOP_BENCH_PERMITS (default
// 2,000) permits a round.
func BenchmarkRateLimit(b *testing.B) {
	total := envInt("LEARNLOOP_BENCH_PERMITS", 2000)
	db := storetest.Open(b, driver())
	var limiters []*ratelimit.Limiter
	for i := range 3 {
		gdb := db.DB
		if i > 0 {
			var err error
			gdb, err = store.Open(context.Background(), db.Driver, db.DSN, store.Options{MaxOpenConns: 8, MaxIdleConns: 8})
			require.NoError(b, err)
			b.Cleanup(func() { _ = store.Close(gdb) })
		}
		limiters = append(limiters, ratelimit.New(gdb))
	}
	local := []*dingtalk.Client{pacedClient(b, nil), pacedClient(b, nil), pacedClient(b, nil)}
	shared := []*dingtalk.Client{pacedClient(b, limiters[0]), pacedClient(b, limiters[1]), pacedClient(b, limiters[2])}
	for range b.N {
		interleave(b, comparison{
			Title: fmt.Sprintf("rate limit (%s): %d permits, one goroutine", db.Driver, total),
			Unit:  "µs/permit", Base: "in-process pacer", Prod: "shared limiter",
			BaseMetric: "local_us/permit", ProdMetric: "shared_us/permit",
		}, func(int) float64 {
			return 1e6 / permits(b, local[:1], 1, total)
		}, func(int) float64 {
			return 1e6 / permits(b, shared[:1], 1, total)
		})
		interleave(b, comparison{
			Title: fmt.Sprintf("rate limit (%s): %d permits, 3 replicas × 8 goroutines, one per-app key", db.Driver, total),
			Unit:  "permits/s", Base: "in-process pacers", Prod: "shared limiter",
			BaseMetric: "local_permits/s", ProdMetric: "shared_permits/s",
		}, func(int) float64 {
			return permits(b, local, 24, total)
		}, func(int) float64 {
			return permits(b, shared, 24, total)
		})
		var per []float64
		for r := range rounds() {
			t0 := time.Now()
			for i := range total {
				m := fmt.Sprintf("bench:m:%d:%d", r, i%500)
				_, err := limiters[0].Reserve(context.Background(), ratelimit.Request{
					Bands: []ratelimit.Band{
						ratelimit.Window("bench:corp", 1<<30, time.Hour, 5000),
						ratelimit.Window(m+":1m", 1<<20, time.Minute, 10),
						ratelimit.Window(m+":1h", 1<<20, time.Hour, 30),
					},
					Counters: []ratelimit.Counter{{Key: "bench:day", Max: 1 << 40, Day: time.UTC}},
					MaxWait:  time.Minute,
				})
				require.NoError(b, err)
			}
			per = append(per, float64(time.Since(t0).Microseconds())/float64(total))
		}
		summary(b, "WeCom-shaped reservation, 4 rows (µs/permit)", "wecom_us/permit", per)
	}
}
