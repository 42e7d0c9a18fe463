package ratelimit_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/internal/clocktest"
	"github.com/learnloop/learnloop/ratelimit"
	"github.com/learnloop/learnloop/ratelimit/ratelimittest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

// replicas opens n more connections pools on db's database, each with its
// own Limiter, as n replicas would.
func replicas(t *testing.T, db *storetest.DB, n int, clk *clocktest.Clock) []*ratelimit.Limiter {
	t.Helper()
	out := []*ratelimit.Limiter{ratelimit.New(db.DB, ratelimit.WithNow(clk.Now))}
	for range n - 1 {
		out = append(out, ratelimit.New(db.Replica(t, 4), ratelimit.WithNow(clk.Now)))
	}
	return out
}

func TestWindowBound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n     int
		per   time.Duration
		burst int
		every time.Duration
	}{
		{30, time.Minute, 1, 2 * time.Second},
		{30, time.Minute, 10, (60*time.Second + 20) / 21}, // rounded up
		{1000, time.Hour, 30, (time.Hour + 970) / 971},
		{5, time.Second, 9, time.Second}, // burst clamped to n
		{50, time.Second, 0, 20 * time.Millisecond},
	} {
		b := ratelimit.Window("k", tc.n, tc.per, tc.burst)
		require.Equal(t, tc.every, b.Every, "%+v", tc)
		require.GreaterOrEqual(t, b.Burst, 1)
		// b + ⌊(per−1ns)/T⌋ ≤ n: the bound of the package doc.
		require.LessOrEqual(t, b.Burst+int((tc.per-1)/b.Every), tc.n, "%+v", tc)
	}
}

func TestReserve(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		clk := clocktest.New(t0)
		l := ratelimit.New(db.DB, ratelimit.WithNow(clk.Now))
		band := ratelimit.Window("test:app", 5, time.Second, 3) // T = 1/3 s, burst 3
		req := ratelimit.Request{Bands: []ratelimit.Band{band}, MaxWait: time.Minute}

		var at []time.Duration
		for range 5 {
			g, err := l.Reserve(ctx, req)
			require.NoError(t, err)
			require.True(t, g.Booked)
			at = append(at, g.At.Sub(t0))
			require.Equal(t, g.At.Sub(t0), g.Wait)
		}
		T := band.Every
		require.Equal(t, []time.Duration{0, 0, 0, T, 2 * T}, at, "three at once, then one every T")

		// Peek books nothing; a wait over MaxWait books nothing either.
		p, err := l.Peek(ctx, req)
		require.NoError(t, err)
		require.False(t, p.Booked)
		require.Equal(t, 3*T, p.Wait)
		g, err := l.Reserve(ctx, ratelimit.Request{Bands: req.Bands, MaxWait: T})
		require.NoError(t, err)
		require.False(t, g.Booked)
		require.Equal(t, 3*T, g.Wait)
		g, err = l.Reserve(ctx, req)
		require.NoError(t, err)
		require.Equal(t, 3*T, g.Wait, "the refused reservations took nothing")

		// Once the arrival time has passed the band is as good as new.
		clk.Advance(time.Hour)
		for range 3 {
			g, err = l.Reserve(ctx, ratelimit.Request{Bands: req.Bands})
			require.NoError(t, err)
			require.True(t, g.Booked)
			require.Zero(t, g.Wait)
		}
	})
}

func TestCounterAndRelease(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		clk := clocktest.New(t0)
		l := ratelimit.New(db.DB, ratelimit.WithNow(clk.Now))
		day := ratelimit.Counter{Key: "test:day:20260302", Max: 5, Expires: t0.Add(48 * time.Hour)}
		req := ratelimit.Request{Counters: []ratelimit.Counter{day}, Weight: 2}
		for range 2 {
			g, err := l.Reserve(ctx, req)
			require.NoError(t, err)
			require.True(t, g.Booked)
		}
		_, err := l.Reserve(ctx, req)
		var ex *ratelimit.ExhaustedError
		require.ErrorAs(t, err, &ex)
		require.EqualValues(t, 4, ex.Used)
		require.EqualValues(t, 5, ex.Max)
		// Weight 1 still fits.
		_, err = l.Reserve(ctx, ratelimit.Request{Counters: req.Counters})
		require.NoError(t, err)
		n, err := l.Used(ctx, day.Key)
		require.NoError(t, err)
		require.EqualValues(t, 5, n)
		require.NoError(t, l.Release(ctx, day.Key, 2))
		require.NoError(t, l.Release(ctx, day.Key, 10), "never below zero")
		n, err = l.Used(ctx, day.Key)
		require.NoError(t, err)
		require.Zero(t, n)

		// A full counter with a band books neither.
		band := ratelimit.Window("test:app", 10, time.Second, 10)
		full := ratelimit.Counter{Key: "test:full", Max: 0, Expires: t0.Add(time.Hour)}
		_, err = l.Reserve(ctx, ratelimit.Request{Bands: []ratelimit.Band{band}, Counters: []ratelimit.Counter{full}})
		require.ErrorAs(t, err, &ex)
		p, err := l.Peek(ctx, ratelimit.Request{Bands: []ratelimit.Band{ratelimit.Window("test:app", 1, time.Second, 1)}})
		require.NoError(t, err)
		require.Zero(t, p.Wait, "the band was not charged")
	})
}

// TestDayCounter: a Day counter is charged to the day of the grant, so a
// reservation held back across midnight counts on the new day.
func TestDayCounter(t *testing.T) {
	t.Parallel()
	china := time.FixedZone("CST", 8*3600)
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		clk := clocktest.New(time.Date(2026, 3, 2, 15, 59, 59, 0, time.UTC)) // 23:59:59 in China
		l := ratelimit.New(db.DB, ratelimit.WithNow(clk.Now))
		band := ratelimit.Window("d:app", 1, time.Second, 1)
		day := ratelimit.Counter{Key: "d:day", Max: 1, Day: china}
		req := ratelimit.Request{Bands: []ratelimit.Band{band}, Counters: []ratelimit.Counter{day}, MaxWait: time.Minute}
		g, err := l.Reserve(ctx, req)
		require.NoError(t, err)
		require.Equal(t, []string{"d:day:20260302"}, g.Counters)
		g, err = l.Reserve(ctx, req)
		require.NoError(t, err, "the second waits a second, into the next day, whose quota is free")
		require.Equal(t, time.Second, g.Wait)
		require.Equal(t, []string{"d:day:20260303"}, g.Counters)
		_, err = l.Peek(ctx, req)
		var ex *ratelimit.ExhaustedError
		require.ErrorAs(t, err, &ex, "both days are used up")
		require.Equal(t, "d:day:20260303", ex.Key)
		for _, k := range []string{"d:day:20260302", "d:day:20260303"} {
			n, err := l.Used(ctx, k)
			require.NoError(t, err)
			require.EqualValues(t, 1, n, k)
		}
	})
}

func TestHoldAndReset(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		clk := clocktest.New(t0)
		ls := replicas(t, db, 2, clk)
		band := ratelimit.Window("test:corp", 100, time.Second, 100)
		req := ratelimit.Request{Bands: []ratelimit.Band{band}, MaxWait: time.Minute}
		const maxHold = 3*time.Second + time.Second/2
		hold := func(l *ratelimit.Limiter) time.Duration {
			t.Helper()
			d, err := l.Hold(ctx, band.Key, time.Second, maxHold)
			require.NoError(t, err)
			return d
		}
		require.Equal(t, time.Second, hold(ls[0]))
		// Refusals of requests sent before the hold began (eight workers
		// refused at once) are one burst: no new strike, the same hold.
		clk.Advance(300 * time.Millisecond)
		require.Equal(t, 700*time.Millisecond, hold(ls[1]))
		require.Equal(t, 700*time.Millisecond, hold(ls[0]))
		// Refused again after sending resumed: a new strike, doubled.
		clk.Advance(700 * time.Millisecond)
		require.Equal(t, 2*time.Second, hold(ls[1]))
		clk.Advance(2 * time.Second)
		require.Equal(t, maxHold, hold(ls[0]), "capped")
		// The other replica sees the hold and the strikes.
		g, err := ls[1].Reserve(ctx, req)
		require.NoError(t, err)
		require.Equal(t, maxHold, g.Wait)
		require.Equal(t, 3, g.Strikes)
		require.NoError(t, ls[0].Reset(ctx, band.Key))
		require.Equal(t, maxHold, hold(ls[1]), "a reset does not end the hold in place")
		clk.Advance(maxHold)
		require.Equal(t, time.Second, hold(ls[1]), "strikes start over after a reset")
		g, err = ls[0].Reserve(ctx, req)
		require.NoError(t, err)
		require.Equal(t, time.Second, g.Wait)
	})
}

func TestBadRequestsChangeNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		l := ratelimit.New(db.DB)
		long := string(make([]byte, ratelimit.MaxKeyLen+1))
		for name, req := range map[string]ratelimit.Request{
			"empty":        {},
			"empty key":    {Bands: []ratelimit.Band{{Key: "", Every: time.Second, Burst: 1}}},
			"long key":     {Bands: []ratelimit.Band{{Key: long, Every: time.Second, Burst: 1}}},
			"no interval":  {Bands: []ratelimit.Band{{Key: "a", Burst: 1}}},
			"no burst":     {Bands: []ratelimit.Band{{Key: "a", Every: time.Second}}},
			"twice":        {Bands: []ratelimit.Band{{Key: "a", Every: time.Second, Burst: 1}}, Counters: []ratelimit.Counter{{Key: "a", Max: 1}}},
			"negative max": {Counters: []ratelimit.Counter{{Key: "c", Max: -1}}},
			"negative w":   {Counters: []ratelimit.Counter{{Key: "c", Max: 1}}, Weight: -1},
		} {
			_, err := l.Reserve(ctx, req)
			require.Error(t, err, name)
			require.Contains(t, err.Error(), "ratelimit: ", name)
		}
		_, err := l.Hold(ctx, "a", 0, time.Second)
		require.Error(t, err)
		require.Error(t, l.Release(ctx, "c", 0))
		var n int64
		require.NoError(t, db.Model(&store.RateLimit{}).Count(&n).Error)
		require.Zero(t, n)
	})
}

// TestConcurrentReplicas: three limiters on three connection pools (three
// replicas) and eight goroutines each reserve against a frozen clock. The
// grants must be exactly those of one serial GCRA — no lost update, no
// double booking — and every window holds at most its limit.
func TestConcurrentReplicas(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		clk := clocktest.New(t0)
		ls := replicas(t, db, 3, clk)
		app := ratelimit.Window("c:app", 20, time.Second, 5)
		day := ratelimit.Counter{Key: "c:day", Max: 150, Expires: t0.Add(48 * time.Hour)}
		member := func(i int) []ratelimit.Band {
			u := fmt.Sprintf("c:m:%d", i%4)
			return []ratelimit.Band{ratelimit.Window(u+":1s", 3, time.Second, 2), ratelimit.Window(u+":10s", 10, 10*time.Second, 4)}
		}
		const workers, each = 8, 25 // 200 attempts for a quota of 150
		var (
			mu        sync.Mutex
			appTimes  []time.Time
			userTimes = map[string][]time.Time{}
			exhausted int
		)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l := ls[w%len(ls)]
				for i := range each {
					bands := append([]ratelimit.Band{app}, member(w*each+i)...)
					g, err := l.Reserve(ctx, ratelimit.Request{Bands: bands, Counters: []ratelimit.Counter{day}, MaxWait: time.Hour})
					mu.Lock()
					if err != nil {
						require.ErrorAs(t, err, new(*ratelimit.ExhaustedError))
						exhausted++
						mu.Unlock()
						continue
					}
					require.True(t, g.Booked)
					appTimes = append(appTimes, g.At)
					userTimes[bands[1].Key] = append(userTimes[bands[1].Key], g.At)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		require.Len(t, appTimes, 150, "exactly the quota was granted")
		require.Equal(t, 50, exhausted)
		n, err := ls[2].Used(ctx, day.Key)
		require.NoError(t, err)
		require.EqualValues(t, 150, n)
		require.LessOrEqual(t, ratelimittest.MaxInWindow(appTimes, time.Second), 20)
		for u, ts := range userTimes {
			require.LessOrEqual(t, ratelimittest.MaxInWindow(ts, time.Second), 3, u)
			require.LessOrEqual(t, ratelimittest.MaxInWindow(ts, 10*time.Second), 10, u)
		}
	})
}

// TestConcurrentSerialEquivalence: one band, frozen clock, many goroutines
// on three replicas: the grants are exactly burst at t0 and then one every
// T — what a single process would hand out.
func TestConcurrentSerialEquivalence(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		clk := clocktest.New(t0)
		ls := replicas(t, db, 3, clk)
		band := ratelimit.Window("s:app", 50, time.Second, 10)
		const workers, each = 9, 20
		var (
			mu  sync.Mutex
			got []time.Duration
		)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					g, err := ls[w%3].Reserve(ctx, ratelimit.Request{Bands: []ratelimit.Band{band}, MaxWait: time.Hour})
					require.NoError(t, err)
					mu.Lock()
					got = append(got, g.At.Sub(t0))
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		slices.Sort(got)
		var want []time.Duration
		for i := range workers * each {
			want = append(want, time.Duration(max(0, i-band.Burst+1))*band.Every)
		}
		require.Equal(t, want, got)
	})
}

func TestPrune(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		clk := clocktest.New(t0)
		l := ratelimit.New(db.DB, ratelimit.WithNow(clk.Now), ratelimit.WithPruneEvery(time.Minute))
		for i := range 50 {
			_, err := l.Reserve(ctx, ratelimit.Request{Bands: []ratelimit.Band{ratelimit.Window(fmt.Sprint("p:m:", i), 30, time.Minute, 10)}})
			require.NoError(t, err)
		}
		_, err := l.Hold(ctx, "p:corp", time.Second, time.Minute)
		require.NoError(t, err)
		count := func() int64 {
			var n int64
			require.NoError(t, db.Model(&store.RateLimit{}).Count(&n).Error)
			return n
		}
		require.EqualValues(t, 51, count())
		clk.Advance(2 * time.Minute)
		// The next reservation prunes (once a minute): the member rows are
		// gone, the held key remembers its strike for an hour.
		_, err = l.Reserve(ctx, ratelimit.Request{Bands: []ratelimit.Band{ratelimit.Window("p:m:new", 30, time.Minute, 10)}})
		require.NoError(t, err)
		require.EqualValues(t, 2, count())
		g, err := l.Peek(ctx, ratelimit.Request{Bands: []ratelimit.Band{ratelimit.Window("p:corp", 10, time.Second, 10)}})
		require.NoError(t, err)
		require.Equal(t, 1, g.Strikes)
		clk.Advance(2 * time.Hour)
		n, err := l.Prune(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
	})
}
