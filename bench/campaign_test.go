package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/campaigns"
	"github.com/learnloop/learnloop/store"
)

// BenchmarkCampaign: a campaign to LEARNLOOP_BENCH_CAMPAIGN (default
// 100,000) people chosen by department, handed to a platform with no limits,
// each round a new campaign sent now — its audience resolved, one delivery
// per person, every card rendered with tracked links and sent — against a
// bare bulk INSERT of the same number of delivery rows in the same run.
func BenchmarkCampaign(b *testing.B) {
	n := envInt("LEARNLOOP_BENCH_CAMPAIGN", 100000)
	s := newService(b, 16, nil)
	s.seedRoster(b, n)
	sess := s.newSession(b) // only the baseline's rows point at it
	nm := &nullMessenger{}
	s.a.Deliverer().Messengers[bot.PlatformSimulator] = nm
	ctx := context.Background()
	for range b.N {
		var rss []float64
		perRound := true
		interleave(b, comparison{
			Title: fmt.Sprintf("campaign: %d people by department, platform without limits", n),
			Unit:  "s", Base: "bare bulk INSERT of the rows", Prod: "campaign send",
			BaseMetric: "bulk_insert_s", ProdMetric: "campaign_s", Target: "as the class fan-out: ratio ≤ 2.5, peak RSS ≤ 150 MB at 100,000",
		}, func(r int) float64 {
			return s.bulkInsertDeliveries(b, sess, 2_000_000_000+uint64(r), fmt.Sprintf("cbase-%d", r), n)
		}, func(r int) float64 {
			c, err := s.a.Campaigns().Create(ctx, campaigns.Input{
				Name: fmt.Sprintf("基准活动 %d", r), Title: "直播：高效沟通", Body: "今晚 8 点", Event: "live_join",
				Buttons:  []campaigns.Button{{Kind: campaigns.ButtonLive, URL: "https://live.example.com/r/1"}, {Kind: campaigns.ButtonDocument, URL: "https://doc.example.com/1"}},
				Audience: campaigns.Audience{Include: []campaigns.Rule{{Department: "部门"}}},
				Schedule: campaigns.Schedule{Kind: store.ScheduleNow},
			}, "bench")
			require.NoError(b, err)
			before := nm.n.Load()
			var st bot.FireStats
			el, peak, reset := measureRound(fmt.Sprintf("campaign-%d", r), func() {
				st, err = s.a.Deliverer().Fire(ctx, c.Variants[0].TouchpointID, "0")
			})
			perRound = reset && perRound
			require.NoError(b, err)
			require.Equal(b, n, st.Sent)
			require.EqualValues(b, n, nm.n.Load()-before, "every person is handed to the platform once")
			rss = append(rss, peak)
			return el
		})
		label := "peak RSS during the campaign send (MB)"
		if !perRound {
			label = "peak RSS of the process (MB, no per-round reset)"
		}
		summary(b, label, "peak_rss_MB", rss)
	}
}
