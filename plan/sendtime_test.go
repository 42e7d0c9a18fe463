package plan_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/sendtime"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/text"
)

// classPushes stores what earlier pushes did, in Shanghai hours, on the
// three days 2026-02-24..26, and enrolls the ten people of the roster on
// sess:
//   - 09:10 class reminders to the roster: 30 sent; each day 2 clicked
//     within 30 minutes and 1 after three hours → 6 quick opens, 20.0 %;
//   - 12:00 campaign pushes to the roster: 30 sent; 3 a day clicked within
//     5 minutes → 9, 30.0 %;
//   - 19:00 make-up reminders to the roster: 30 sent; 4 a day checked in
//     from the card 10 minutes later (a tap is an open), one of them also
//     clicked a link 40 minutes later → 12, 40.0 %;
//   - 22:00 custom notices to the roster: 30 sent, all clicked within a
//     minute → 100.0 %, but 22:00 is in quiet hours;
//   - what must not count: 08:45 check-in prompts tapped by everyone (their
//     taps follow the class start), 14:00 reminders to five people not on
//     the roster, all clicked, and a failed reminder.
//
// The roster's estimate: n = 120; 09:00 20.0 %, 12:00 30.0 %, 19:00 40.0 %,
// 22:00 100.0 %.
func classPushes(t *testing.T, b *bundle) {
	t.Helper()
	db := b.db
	var roster, others []store.Employee
	for i := range 15 {
		e := store.Employee{ExternalID: fmt.Sprintf("E%02d", i), Name: fmt.Sprintf("员工%d", i), Department: "培训", Platform: "simulator", Active: true}
		require.NoError(t, db.Create(&e).Error)
		if i < 10 {
			roster = append(roster, e)
			require.NoError(t, db.Create(&store.Enrollment{SessionID: b.sess.ID, EmployeeID: e.ID, Status: "invited"}).Error)
		} else {
			others = append(others, e)
		}
	}
	seq := 0
	tp := func(kind string) store.Touchpoint {
		x := store.Touchpoint{SessionID: 900, Kind: kind, Anchor: store.AnchorStart, Audience: store.AudienceAll, Template: kind,
			Status: store.TouchpointFired, RunAt: time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)}
		require.NoError(t, db.Create(&x).Error)
		return x
	}
	reminder, campaign, makeup, custom, prompt := tp(bot.KindReminder), tp(sendtime.KindCampaign), tp(bot.KindMakeupReminder), tp(bot.KindCustom), tp(bot.KindCheckinPrompt)
	send := func(tp store.Touchpoint, e store.Employee, at time.Time, status string) store.Delivery {
		seq++
		d := store.Delivery{TouchpointID: tp.ID, Occurrence: fmt.Sprint(seq), EmployeeID: e.ID, SessionID: 900, Key: fmt.Sprintf("past-%d", seq),
			Platform: "simulator", UserID: e.ExternalID, Status: status, SentAt: &at, CreatedAt: at, UpdatedAt: at}
		require.NoError(t, db.Create(&d).Error)
		return d
	}
	click := func(d store.Delivery, after time.Duration) {
		require.NoError(t, db.Create(&store.Click{DeliveryID: d.ID, TouchpointID: d.TouchpointID, EmployeeID: d.EmployeeID, Target: "https://x.example.com",
			ClickedAt: d.SentAt.Add(after)}).Error)
	}
	tap := func(d store.Delivery, sessionID uint64, after time.Duration) {
		id := d.ID
		require.NoError(t, db.Create(&store.Checkin{SessionID: sessionID, EmployeeID: d.EmployeeID, Kind: "makeup", Source: store.SourceCard,
			Platform: "simulator", DeliveryID: &id, CheckedInAt: d.SentAt.Add(after)}).Error)
	}
	for day := 24; day <= 26; day++ {
		at := func(h, m int) time.Time { return time.Date(2026, 2, day, h, m, 0, 0, shanghai) }
		for i, e := range roster {
			d := send(reminder, e, at(9, 10), store.DeliverySent)
			switch {
			case i < 2:
				click(d, 30*time.Minute)
			case i == 2:
				click(d, 3*time.Hour)
			}
			if d := send(campaign, e, at(12, 0), store.DeliverySent); i < 3 {
				click(d, 5*time.Minute)
			}
			if d := send(makeup, e, at(19, 0), store.DeliverySent); i < 4 {
				tap(d, uint64(800+day), 10*time.Minute)
				if i == 0 {
					click(d, 40*time.Minute)
				}
			}
			click(send(custom, e, at(22, 0), store.DeliverySent), 30*time.Second)
			p := send(prompt, e, at(8, 45), store.DeliverySent)
			tap(p, uint64(700+day), 15*time.Minute)
		}
		for _, e := range others {
			click(send(reminder, e, at(14, 0), store.DeliverySent), time.Minute)
		}
		click(send(reminder, roster[0], at(16, 0), store.DeliveryFailed), time.Minute)
	}
}

// best is a best-time reminder: fallback at start+offset, window
// [start+from, start+to).
func best(offset, from, to time.Duration) store.Touchpoint {
	f, t := int64(from/time.Second), int64(to/time.Second)
	return store.Touchpoint{Kind: bot.KindReminder, Anchor: store.AnchorStart, Offset: int64(offset / time.Second), Audience: store.AudienceAll,
		BestFrom: &f, BestTo: &t}
}

// TestBestTimeTouchpoint: a class reminder that learns its send time from
// the roster's past pushes (hand-computed in classPushes): the best allowed
// hour of its window (quiet hours left out), the configured time where the
// data is thin or the window is quiet, the preview's basis, the stored
// choice, and a re-choice when the session moves; on both databases.
func TestBestTimeTouchpoint(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 10, 0, 0, 0, shanghai)  // Sunday
		start := time.Date(2026, 3, 5, 9, 0, 0, 0, shanghai) // Thursday 09:00
		b := setup(t, db, now, start)
		classPushes(t, b)

		est, err := sendtime.Read(ctx, db.DB, sendtime.Query{Location: shanghai,
			Employees: db.Model(&store.Enrollment{}).Select("employee_id").Where("session_id = ?", b.sess.ID)}, now)
		require.NoError(t, err)
		require.Equal(t, 120, est.N, "the roster's reminders, campaign pushes, make-up reminders and notices")
		for _, h := range []struct {
			hour, sent, opened int
			rate               float64
		}{{9, 30, 6, 20.0}, {12, 30, 9, 30.0}, {19, 30, 12, 40.0}, {22, 30, 30, 100.0}} {
			got := est.Hours[h.hour]
			require.Equal(t, h.sent, got.Sent, h.hour)
			require.Equal(t, h.opened, got.Opened, h.hour)
			require.InDelta(t, h.rate, *got.QuickOpen, 1e-9, h.hour)
		}
		require.Zero(t, est.Hours[8].Sent, "check-in prompts are not read")
		require.Zero(t, est.Hours[14].Sent, "people not on the roster are not read")
		require.Zero(t, est.Hours[16].Sent, "a failed delivery was never sent")
		// 09:00: 6 × 30 min and 3 × 180 → median 30; 19:00: the tap 10
		// minutes after, not the later click.
		require.InDelta(t, 30.0, *est.Hours[9].MedianMinutes, 1e-9)
		require.InDelta(t, 10.0, *est.Hours[19].MedianMinutes, 1e-9)

		cases := []struct {
			name      string
			tp        store.Touchpoint
			want      time.Time // run_at
			reason    string
			compared  int
			explainZH string
		}{
			{"start−48h … start−2h: the roster's 19:00, the first one of the window (22:00 is quiet)",
				best(-24*time.Hour, -48*time.Hour, -2*time.Hour), time.Date(2026, 3, 3, 19, 0, 0, 0, shanghai), sendtime.ChoiceLearned, 13,
				"学习得出的时间：19:00（该时段快速打开率 40.0%；共 n=120 条推送，比较了窗口内 3 个已发送不少于 30 条的小时）"},
			{"10:00–13:00 the day before: only 12:00 has enough sends, the configured 11:00 stays",
				best(-22*time.Hour, -23*time.Hour, -20*time.Hour), time.Date(2026, 3, 4, 11, 0, 0, 0, shanghai), sendtime.ChoiceThinData, 3,
				"数据不足，使用设定时间（窗口内已发送不少于 30 条的小时少于 2 个；共 n=120）"},
			{"05:00–07:00 on the day is all quiet: the configured 06:00, moved to 08:00 by quiet hours",
				best(-3*time.Hour, -4*time.Hour, -2*time.Hour), time.Date(2026, 3, 5, 8, 0, 0, 0, shanghai), sendtime.ChoiceNoSlot, 0,
				"窗口全在免打扰时段或节假日，使用设定时间"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				fires, err := b.p.Fires(ctx, tc.tp, b.sess, 1)
				require.NoError(t, err)
				require.Len(t, fires, 1)
				f := fires[0]
				require.Equal(t, start.Add(time.Duration(tc.tp.Offset)*time.Second).UTC(), f.Due, "due is the configured time")
				require.Equal(t, tc.want.UTC(), f.At)
				require.NotNil(t, f.SendTime)
				require.Equal(t, tc.reason, f.SendTime.Reason)
				require.Equal(t, 120, f.SendTime.N)
				require.Len(t, f.SendTime.Compared, tc.compared, "the window's allowed hours")
				require.Equal(t, tc.explainZH, f.SendTime.Explain().In(text.ZH))
				require.Equal(t, tc.reason == sendtime.ChoiceNoSlot, f.Moved(), "only quiet hours move a choice")

				tp := b.create(t, tc.tp)
				require.Equal(t, tc.want.UTC(), tp.RunAt, "planned as previewed")
				require.Equal(t, tc.want.UTC(), job(t, db, tp.ID).RunAt)
				var stored store.Touchpoint
				require.NoError(t, db.First(&stored, tp.ID).Error)
				ch, err := sendtime.ParseBasis(stored.SendBasis)
				require.NoError(t, err)
				require.Equal(t, *f.SendTime, ch, "the choice and its basis are stored")
			})
		}

		// The session moves a day later: the best-time reminder is chosen
		// again in its new window (start−48h = 03-04 09:00), the same way.
		var tps []store.Touchpoint
		require.NoError(t, db.Where("session_id = ? AND best_from IS NOT NULL", b.sess.ID).Order("id").Find(&tps).Error)
		require.Len(t, tps, 3)
		b.sess.StartsAt, b.sess.EndsAt = b.sess.StartsAt.Add(24*time.Hour), b.sess.EndsAt.Add(24*time.Hour)
		require.NoError(t, db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Save(&b.sess).Error; err != nil {
				return err
			}
			return b.p.Reschedule(ctx, tx, b.sess)
		}))
		var moved store.Touchpoint
		require.NoError(t, db.First(&moved, tps[0].ID).Error)
		want := time.Date(2026, 3, 4, 19, 0, 0, 0, shanghai).UTC()
		require.Equal(t, want, moved.RunAt)
		require.Equal(t, want, job(t, db, moved.ID).RunAt)
		ch, err := sendtime.ParseBasis(moved.SendBasis)
		require.NoError(t, err)
		require.Equal(t, time.Date(2026, 3, 4, 9, 0, 0, 0, shanghai).UTC(), ch.Window.From)
		require.Equal(t, time.Date(2026, 3, 5, 9, 0, 0, 0, shanghai).UTC(), ch.FallbackAt)

		// Planning the same data again chooses the same (every replica
		// would): a second re-plan changes nothing.
		require.NoError(t, db.Transaction(func(tx *gorm.DB) error { return b.p.Reschedule(ctx, tx, b.sess) }))
		var again store.Touchpoint
		require.NoError(t, db.First(&again, tps[0].ID).Error)
		require.Equal(t, moved.RunAt, again.RunAt)
		require.Equal(t, moved.SendBasis, again.SendBasis)
	})
}

// TestBestTimeRechosenForANewRoster: a best-time reminder planned before
// the roster is loaded has nothing to learn from (the configured time);
// Rechoose after the roster arrives picks the roster's best hour.
func TestBestTimeRechosenForANewRoster(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 10, 0, 0, 0, shanghai)
		start := time.Date(2026, 3, 5, 9, 0, 0, 0, shanghai)
		b := setup(t, db, now, start)
		tp := b.create(t, best(-24*time.Hour, -48*time.Hour, -2*time.Hour))
		require.Equal(t, time.Date(2026, 3, 4, 9, 0, 0, 0, shanghai).UTC(), tp.RunAt, "no roster yet: the configured time")
		require.Contains(t, tp.SendBasis, `"reason":"thin_data"`)
		classPushes(t, b)
		require.NoError(t, db.Transaction(func(tx *gorm.DB) error { return b.p.Rechoose(ctx, tx, b.sess.ID) }))
		var got store.Touchpoint
		require.NoError(t, db.First(&got, tp.ID).Error)
		want := time.Date(2026, 3, 3, 19, 0, 0, 0, shanghai).UTC()
		require.Equal(t, want, got.RunAt)
		require.Equal(t, want, job(t, db, tp.ID).RunAt)
		require.Contains(t, got.SendBasis, `"reason":"learned"`)
	})
}

// TestBestTimeRefused: the touchpoints that cannot learn their time and
// the bad windows are refused before anything is stored.
func TestBestTimeRefused(t *testing.T) {
	t.Parallel()
	h := time.Hour
	prompt := best(-15*time.Minute, -2*h, -10*time.Minute)
	prompt.Kind = bot.KindCheckinPrompt
	cron := best(-24*h, -48*h, -2*h)
	cron.Anchor, cron.CronSpec = store.AnchorAbsolute, "0 9 * * 1"
	half := best(-24*h, -48*h, -2*h)
	half.BestTo = nil
	cases := []struct {
		name  string
		tp    store.Touchpoint
		field string
		kind  string
	}{
		{"a check-in prompt keeps its time", prompt, "best_from", plan.ProblemBestNotAllowed},
		{"a recurring touchpoint", cron, "best_from", plan.ProblemBestNotAllowed},
		{"one bound only", half, "best_to", plan.ProblemRequired},
		{"the end before the start", best(-24*h, -2*h, -48*h), "best_to", plan.ProblemWindowOrder},
		{"longer than seven days", best(-24*h, -8*24*h, -2*h), "best_to", plan.ProblemWindowTooLong},
		{"the configured time outside the window", best(-72*h, -48*h, -2*h), "offset", plan.ProblemOutsideWindow},
		{"the window's end is exclusive", best(-2*h, -48*h, -2*h), "offset", plan.ProblemOutsideWindow},
		{"out of range", best(-24*h, -91*24*h, -2*h), "best_from", plan.ProblemRange},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ps plan.Problems
			ps.CheckBest(tc.tp)
			require.Len(t, ps, 1)
			require.Equal(t, tc.field, ps[0].Field)
			require.Equal(t, tc.kind, ps[0].Kind)
			require.ErrorIs(t, plan.Validate(tc.tp), plan.ErrInvalid)
		})
	}
	var ps plan.Problems
	ps.CheckBest(best(-24*h, -48*h, -2*h))
	require.Empty(t, ps)
	require.NoError(t, plan.Validate(best(-24*h, -48*h, -2*h)))
}
