package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/feishu"
	"github.com/learnloop/learnloop/adapters/wecom"
	"github.com/learnloop/learnloop/ratelimit"
	"github.com/learnloop/learnloop/store"
)

// rig is learnloop wired to one platform adapter and a fake of that
// platform, with a way to tap every card of a round the way the platform
// delivers taps.
type rig struct {
	name string
	s    *service
	// clients caps the concurrency of the tap path (DingTalk Stream
	// handles at most streamWindow frames at once).
	clients int
	// taps prepares one round's taps, one per delivery; tap i returns an
	// error unless the platform's answer says the check-in was stored.
	taps func(b *testing.B, ds []store.Delivery) func(i int) error
	// note, when set, adds a line to the summary.
	note func() string
	// check, when set by taps, checks after the round what the platform
	// makes of the answers (the card updates they carry).
	check func() error
}

// checkinStorm seeds people on r's platform once and then, interleaved
// with the raw single-row INSERT baseline, checks classes fresh sessions
// of them in per round through r's tap path, clients taps at a time. It
// requires every acknowledged tap to be stored and summarizes rates, ratio
// and p99.
func checkinStorm(b *testing.B, r *rig, title string, people, classes, clients int) {
	b.Helper()
	clients = min(clients, r.clients)
	r.s.seedRoster(b, people)
	for range b.N {
		var p99s []float64
		var tc tapCosts
		interleave(b, comparison{
			Title: fmt.Sprintf("%s: %d × %d taps a round, %d clients, through %s", title, classes, people, clients, r.name),
			Unit:  "/s", Base: "raw single-row INSERT", Prod: "stored check-ins",
			BaseMetric: "raw_inserts/s", ProdMetric: "checkins/s", Target: "ratio ≥ 0.8 through platform callbacks, p99 ≤ 50 ms",
		}, func(int) float64 {
			var secs float64
			for range classes {
				labelled("baseline", func() {
					m := r.s.mark()
					secs += float64(people) / r.s.rawInsertRate(b, people, clients)
					tc.base(m, people)
				})
			}
			return float64(classes*people) / secs
		}, func(int) float64 {
			var secs float64
			var lats []time.Duration
			for range classes {
				sess, ds := r.s.newClass(b)
				tap := r.taps(b, ds)
				var (
					rate float64
					lat  []time.Duration
					err  error
				)
				labelled("product", func() {
					m := r.s.mark()
					rate, lat, err = load(len(ds), clients, tap)
					tc.prod(r.s, m, len(ds))
				})
				require.NoError(b, err)
				require.EqualValues(b, people, r.s.checkins(b, sess), "every acknowledged tap is stored")
				if r.check != nil {
					require.NoError(b, r.check(), "every tapped card is updated")
				}
				secs += float64(people) / rate
				lats = append(lats, lat...)
			}
			p99s = append(p99s, p99ms(lats))
			return float64(classes*people) / secs
		})
		summary(b, "p99 of stored check-ins (ms)", "p99_ms", p99s)
		tc.print(b)
		if r.note != nil {
			fmt.Println("  " + r.note())
		}
	}
}

var (
	_ wecom.Limiter  = unlimited{}
	_ feishu.Limiter = unlimited{}
)

// unlimited is a shared limiter that grants every send at once. The fakes
// have no limits, and the app's clock stands still, so the adapters' real
// pacing (WeCom: 5,000 at once, then 40/s) would never refill. It only
// paces the sends that set a round up; the measured tap paths take no
// permits.
type unlimited struct{ now func() time.Time }

func (u unlimited) Reserve(context.Context, ratelimit.Request) (ratelimit.Grant, error) {
	return ratelimit.Grant{At: u.now(), Booked: true}, nil
}
func (u unlimited) Peek(context.Context, ratelimit.Request) (ratelimit.Grant, error) {
	return ratelimit.Grant{At: u.now()}, nil
}
func (u unlimited) Hold(context.Context, string, time.Duration, time.Duration) (time.Duration, error) {
	return 0, nil
}
func (u unlimited) Reset(context.Context, string) error          { return nil }
func (u unlimited) Release(context.Context, string, int64) error { return nil }
func (u unlimited) Now() time.Time                               { return u.now() }

// BenchmarkCheckinStormWeCom: the check-in storm (LEARNLOOP_BENCH_PEOPLE,
// default 6,000 taps a round, LEARNLOOP_BENCH_CLIENTS at once) through
// verified, encrypted WeCom callbacks, against raw single-row INSERTs at
// the same concurrency.
func BenchmarkCheckinStormWeCom(b *testing.B) {
	if driver() != store.DriverMySQL {
		b.Skip("the storm is measured on MariaDB/MySQL")
	}
	var r *rig
	labelled("product", func() { r = newWeComRig(b) })
	checkinStorm(b, r, "check-in storm", envInt("LEARNLOOP_BENCH_PEOPLE", 6000), 1, envInt("LEARNLOOP_BENCH_CLIENTS", 100))
}

// BenchmarkClassCheckin: a class of LEARNLOOP_BENCH_CLASS (default 1,000)
// people checks in through each platform's real callback path —
// WeCom callbacks, Feishu card.action.trigger HTTP callbacks (encrypted,
// signed), DingTalk Stream card callbacks — LEARNLOOP_BENCH_CLASSES
// (default 5) classes back to back a round, against raw single-row INSERTs
// at the same concurrency.
func BenchmarkClassCheckin(b *testing.B) {
	if driver() != store.DriverMySQL {
		b.Skip("the storm is measured on MariaDB/MySQL")
	}
	people := envInt("LEARNLOOP_BENCH_CLASS", 1000)
	classes := envInt("LEARNLOOP_BENCH_CLASSES", 5)
	clients := envInt("LEARNLOOP_BENCH_CLIENTS", 100)
	for _, p := range []struct {
		name string
		rig  func(*testing.B) *rig
	}{
		{"wecom", newWeComRig},
		{"feishu", newFeishuRig},
		{"dingtalk", newDingTalkRig},
	} {
		b.Run(p.name, func(b *testing.B) {
			checkinStorm(b, p.rig(b), fmt.Sprintf("%d-person class check-in", people), people, classes, clients)
		})
	}
}
