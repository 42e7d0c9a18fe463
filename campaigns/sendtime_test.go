package campaigns_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/campaigns"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// pastPushes stores what earlier campaigns did, in Shanghai hours, over the
// three days before the clock (Monday 2026-03-02 10:00):
//   - 09:00 to the 12 people of 销售: 36 sent; on each day 3 people clicked
//     within 20 minutes and 1 after two hours → 9 quick opens, 25.0 %;
//   - 14:00 to 销售: 36 sent; 6 a day clicked within 10 minutes → 18, 50.0 %;
//   - 14:00 to the 3 of 市场: 9 sent, none clicked;
//   - what must not count: a failed campaign delivery with a click, a class
//     check-in prompt at 11:00 clicked by everyone (its taps follow the
//     class start, not the hour it was sent: sendtime.Kinds), and an
//     anonymous click.
func pastPushes(t *testing.T, db *storetest.DB, es []store.Employee) {
	t.Helper()
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	tp := func(kind string) store.Touchpoint {
		x := store.Touchpoint{SessionID: 999, Kind: kind, Anchor: store.AnchorAbsolute, Audience: "campaign", Template: kind, Status: store.TouchpointFired,
			RunAt: time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)}
		require.NoError(t, db.Create(&x).Error)
		return x
	}
	camp, class := tp(campaigns.KindCampaign), tp("checkin_prompt")
	seq := 0
	send := func(tp store.Touchpoint, e store.Employee, at time.Time, status string, clickAfter ...time.Duration) {
		seq++
		d := store.Delivery{TouchpointID: tp.ID, Occurrence: fmt.Sprint(seq), EmployeeID: e.ID, SessionID: 999, Key: fmt.Sprintf("past-%d", seq),
			Platform: "simulator", UserID: e.ExternalID, Status: status, SentAt: &at, CreatedAt: at, UpdatedAt: at}
		require.NoError(t, db.Create(&d).Error)
		for _, after := range clickAfter {
			c := store.Click{DeliveryID: d.ID, TouchpointID: tp.ID, EmployeeID: e.ID, Target: "https://x.example.com", ClickedAt: at.Add(after)}
			require.NoError(t, db.Create(&c).Error)
		}
	}
	var sales, market []store.Employee
	for _, e := range es {
		if e.Department == "销售" {
			sales = append(sales, e)
		} else {
			market = append(market, e)
		}
	}
	require.Len(t, sales, 12)
	require.Len(t, market, 3)
	for day := 26; day <= 28; day++ {
		nine := time.Date(2026, 2, day, 9, 5, 0, 0, sh)
		two := time.Date(2026, 2, day, 14, 30, 0, 0, sh)
		for i, e := range sales {
			switch {
			case i < 3:
				send(camp, e, nine, store.DeliverySent, 20*time.Minute, 25*time.Minute) // the second click changes nothing
			case i == 3:
				send(camp, e, nine, store.DeliverySent, 2*time.Hour)
			default:
				send(camp, e, nine, store.DeliverySent)
			}
			if i < 6 {
				send(camp, e, two, store.DeliverySent, 10*time.Minute)
			} else {
				send(camp, e, two, store.DeliverySent)
			}
			send(class, e, time.Date(2026, 2, day, 11, 0, 0, 0, sh), store.DeliverySent, time.Minute)
		}
		for _, e := range market {
			send(camp, e, two, store.DeliverySent)
		}
		send(camp, sales[0], time.Date(2026, 2, day, 16, 0, 0, 0, sh), store.DeliveryFailed, time.Minute)
	}
	anon := store.Click{DeliveryID: 1, TouchpointID: camp.ID, EmployeeID: 0, Target: "https://x.example.com", ClickedAt: time.Date(2026, 2, 26, 1, 10, 0, 0, time.UTC)}
	require.NoError(t, db.Create(&anon).Error)
}

// TestLearnedSendTime: the estimate per audience, department and platform
// from stored pushes and clicks (hand-computed in pastPushes), and an A/B
// campaign whose variant B sends at the learned best hour of its window
// while A keeps the fixed time, on both databases.
func TestLearnedSendTime(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		es := seed(t, db, 12)
		pastPushes(t, db, es)
		svc := e.a.Campaigns()
		sh, _ := time.LoadLocation("Asia/Shanghai")
		rate := func(est *campaigns.SendTimeEstimate, h int) float64 {
			require.NotNil(t, est.Hours[h].QuickOpen, h)
			return *est.Hours[h].QuickOpen
		}

		all, err := svc.EstimateSendTime(ctx, campaigns.SendTimeQuery{Location: sh})
		require.NoError(t, err)
		require.Equal(t, 36+36+9, all.N, "sent pushes of the estimated kinds only")
		require.Equal(t, 36, all.Hours[9].Sent)
		require.Equal(t, 9, all.Hours[9].Opened)
		require.InDelta(t, 25.0, rate(all, 9), 1e-9)
		require.Equal(t, 45, all.Hours[14].Sent)
		require.Equal(t, 18, all.Hours[14].Opened)
		require.InDelta(t, 40.0, rate(all, 14), 1e-9)
		require.Zero(t, all.Hours[11].Sent, "a check-in prompt is not read")
		require.Zero(t, all.Hours[16].Sent, "a failed delivery was never sent")
		// 09:00: 9 × 20 min and 3 × 120 min → median 20; 14:00: 18 × 10 min.
		require.InDelta(t, 20.0, *all.Hours[9].MedianMinutes, 1e-9)
		require.InDelta(t, 10.0, *all.Hours[14].MedianMinutes, 1e-9)
		require.Equal(t, 14, *all.Best)

		sales, err := svc.EstimateSendTime(ctx, campaigns.SendTimeQuery{Location: sh, Department: "销售"})
		require.NoError(t, err)
		require.Equal(t, 72, sales.N)
		require.InDelta(t, 50.0, rate(sales, 14), 1e-9)
		market, err := svc.EstimateSendTime(ctx, campaigns.SendTimeQuery{Location: sh, Department: "市场"})
		require.NoError(t, err)
		require.Equal(t, 9, market.N)
		require.InDelta(t, 0.0, rate(market, 14), 1e-9)
		require.Nil(t, market.Best, "9 sends in one hour: nothing to compare")
		none, err := svc.EstimateSendTime(ctx, campaigns.SendTimeQuery{Location: sh, Platform: "wecom"})
		require.NoError(t, err)
		require.Zero(t, none.N)

		// A: fixed at 09:00 tomorrow; B: the best hour of 09:00–18:00.
		nine := time.Date(2026, 3, 3, 9, 0, 0, 0, sh)
		six := time.Date(2026, 3, 3, 18, 0, 0, 0, sh)
		c, err := svc.Create(ctx, campaigns.Input{
			Name: "送达时间实验", Title: "新课上线", Event: "course_start", MinSample: 1, MinGroupSize: 1,
			Buttons:  []campaigns.Button{{Kind: campaigns.ButtonCourse, URL: "https://lms.example.com/c/9"}},
			Audience: campaigns.Audience{Include: []campaigns.Rule{{Department: "销售"}}},
			Schedule: campaigns.Schedule{Kind: store.ScheduleAt, At: &nine, TimeZone: "Asia/Shanghai"},
			Variants: []campaigns.VariantInput{{Name: "fixed"}, {Name: "learned", Best: &campaigns.Window{From: nine, To: six}}},
		}, "tester")
		require.NoError(t, err)
		require.Nil(t, c.Variants[0].SendTime)
		require.Equal(t, nine.UTC(), c.Variants[0].RunAt)
		st := c.Variants[1].SendTime
		require.NotNil(t, st)
		two := time.Date(2026, 3, 3, 14, 0, 0, 0, sh).UTC()
		require.True(t, st.Learned)
		require.Equal(t, campaigns.ChoiceLearned, st.Reason)
		require.Equal(t, two, st.At)
		require.Equal(t, two, c.Variants[1].RunAt, "the touchpoint is planned at the chosen time")
		require.Equal(t, nine.UTC(), st.FallbackAt, "the campaign's time is the fallback")
		require.Equal(t, 72, st.N, "the estimate reads the audience's pushes")
		require.Len(t, st.Compared, 9, "09:00 … 17:00")

		// A "best" campaign whose audience has thin data keeps its time.
		at := time.Date(2026, 3, 3, 10, 30, 0, 0, sh)
		thin, err := svc.Create(ctx, campaigns.Input{
			Name: "市场", Title: "直播", Event: "live_join",
			Audience: campaigns.Audience{Include: []campaigns.Rule{{Department: "市场"}}},
			Schedule: campaigns.Schedule{Kind: store.ScheduleBest, At: &at, Window: &campaigns.Window{From: nine, To: six}, TimeZone: "Asia/Shanghai"},
		}, "tester")
		require.NoError(t, err)
		require.Equal(t, store.ScheduleBest, thin.Schedule.Kind)
		require.Equal(t, &campaigns.Window{From: nine.UTC(), To: six.UTC()}, thin.Schedule.Window)
		require.Equal(t, campaigns.ChoiceThinData, thin.Variants[0].SendTime.Reason)
		require.False(t, thin.Variants[0].SendTime.Learned)
		require.Equal(t, at.UTC(), thin.Variants[0].RunAt)
		got, err := svc.Get(ctx, thin.ID)
		require.NoError(t, err)
		require.Equal(t, thin.Variants[0].SendTime, got.Variants[0].SendTime, "the basis is stored")
		// Both arms fire at their times; the A/B report compares them.
		e.clk.Set(nine.Add(time.Minute))
		apptest.RunDue(t, e.a)
		e.clk.Set(two.Add(time.Minute))
		apptest.RunDue(t, e.a)
		rep, err := svc.Report(ctx, c.ID, campaigns.ReportOptions{})
		require.NoError(t, err)
		require.Len(t, rep.Variants, 2)
		require.Equal(t, 12, rep.Variants[0].Funnel.Delivered+rep.Variants[1].Funnel.Delivered)
		require.NotZero(t, rep.Variants[1].Funnel.Delivered)
		require.NotNil(t, rep.Experiment)
		var hours []string
		for _, h := range rep.Hours {
			hours = append(hours, h.Key)
		}
		require.Equal(t, []string{"09", "14"}, hours, "each arm sent in its own hour")

	})
}

// TestLearnedSendTimeRefused: bad windows are refused field by field.
func TestLearnedSendTimeRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := newEnv(t, db)
		now := e.clk.Now()
		from, to := now.Add(time.Hour), now.Add(5*time.Hour)
		outside := now.Add(6 * time.Hour)
		cases := []struct {
			name  string
			sc    campaigns.Schedule
			vs    []campaigns.VariantInput
			field string
		}{
			{"best without a window", campaigns.Schedule{Kind: store.ScheduleBest}, nil, "schedule.window"},
			{"a reversed window", campaigns.Schedule{Kind: store.ScheduleBest, Window: &campaigns.Window{From: to, To: from}}, nil, "schedule.window.to"},
			{"a window of 8 days", campaigns.Schedule{Kind: store.ScheduleBest, Window: &campaigns.Window{From: from, To: from.Add(8 * 24 * time.Hour)}}, nil, "schedule.window"},
			{"a past window", campaigns.Schedule{Kind: store.ScheduleBest, Window: &campaigns.Window{From: now.Add(-time.Hour), To: to}}, nil, "schedule.window.from"},
			{"a fallback outside the window", campaigns.Schedule{Kind: store.ScheduleBest, At: &outside, Window: &campaigns.Window{From: from, To: to}}, nil, "schedule.at"},
			{"a learned variant of a cron campaign", campaigns.Schedule{Kind: store.ScheduleCron, Cron: "0 9 * * 1"},
				[]campaigns.VariantInput{{Name: "A"}, {Name: "B", Best: &campaigns.Window{From: from, To: to}}}, "variants[1].best"},
			{"best and at on one variant", campaigns.Schedule{Kind: store.ScheduleNow},
				[]campaigns.VariantInput{{Name: "A"}, {Name: "B", At: &from, Best: &campaigns.Window{From: from, To: to}}}, "variants[1].best"},
		}
		for _, tc := range cases {
			_, err := e.a.Campaigns().Create(context.Background(), campaigns.Input{Name: "x", Title: "x", Event: "e", Schedule: tc.sc, Variants: tc.vs}, "")
			var inv *campaigns.InvalidError
			require.True(t, errors.As(err, &inv), "%s: %v", tc.name, err)
			found := false
			for _, f := range inv.Fields {
				found = found || f.Field == tc.field
			}
			require.True(t, found, "%s: %s is reported: %v", tc.name, tc.field, inv.Fields)
		}
		var n int64
		require.NoError(t, db.Model(&store.Campaign{}).Count(&n).Error)
		require.Zero(t, n)
	})
}
