package plan_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

type bundle struct {
	db   *storetest.DB
	p    *plan.Planner
	now  time.Time
	sess store.Session
}

func setup(t *testing.T, db *storetest.DB, now time.Time, start time.Time) *bundle {
	t.Helper()
	clock := func() time.Time { return now }
	sched := scheduler.New(db.DB, scheduler.Options{Now: clock})
	p := &plan.Planner{DB: db.DB, Sched: sched, Now: clock, Quiet: scheduler.QuietHours{Enabled: true, Start: 21 * time.Hour, End: 8 * time.Hour, Location: shanghai}}
	c := store.Course{Code: "C", Title: "课程"}
	require.NoError(t, db.Create(&c).Error)
	s := store.Session{CourseID: c.ID, Title: "一期", StartsAt: start.UTC(), EndsAt: start.Add(2 * time.Hour).UTC(), TimeZone: "Asia/Shanghai", Locale: "zh-CN", Status: store.SessionPlanned, CheckinOpensBefore: 1800, CheckinGrace: 600, MakeupAfter: 86400}
	require.NoError(t, db.Create(&s).Error)
	return &bundle{db: db, p: p, now: now, sess: s}
}

func (b *bundle) create(t *testing.T, tp store.Touchpoint) store.Touchpoint {
	t.Helper()
	require.NoError(t, b.db.Transaction(func(tx *gorm.DB) error { return b.p.Create(context.Background(), tx, &tp, b.sess) }))
	return tp
}

// applyDefault applies the default plan to the bundle's session in one
// transaction and returns its touchpoints.
func (b *bundle) applyDefault(t *testing.T) []store.Touchpoint {
	t.Helper()
	var tps []store.Touchpoint
	require.NoError(t, b.db.Transaction(func(tx *gorm.DB) error {
		var err error
		tps, err = b.p.ApplyDefault(context.Background(), tx, b.sess)
		return err
	}))
	return tps
}

func job(t *testing.T, db *storetest.DB, tpID uint64) store.Job {
	t.Helper()
	var jobs []store.Job
	require.NoError(t, db.Where("kind = ?", plan.JobFire).Find(&jobs).Error)
	for _, j := range jobs {
		if j.UniqueKey != nil && *j.UniqueKey == "tp:"+itoa(tpID)+":0" {
			return j
		}
	}
	t.Fatalf("no job for touchpoint %d", tpID)
	return store.Job{}
}

func itoa(n uint64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestDefaultPlanAndQuietHours(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		now := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)    // 10:00 Shanghai, Sunday
		start := time.Date(2026, 3, 3, 8, 30, 0, 0, shanghai) // Tuesday 08:30
		b := setup(t, db, now, start)
		tps := b.applyDefault(t)
		require.Len(t, tps, 3)
		want := map[string]time.Time{
			bot.KindReminder:       time.Date(2026, 3, 2, 8, 30, 0, 0, shanghai),
			bot.KindCheckinPrompt:  time.Date(2026, 3, 3, 8, 15, 0, 0, shanghai),
			bot.KindMakeupReminder: time.Date(2026, 3, 3, 11, 30, 0, 0, shanghai),
		}
		for _, tp := range tps {
			require.Equal(t, store.TouchpointScheduled, tp.Status, tp.Kind)
			require.True(t, want[tp.Kind].Equal(tp.RunAt), "%s: %s want %s", tp.Kind, tp.RunAt.In(shanghai), want[tp.Kind])
			require.True(t, job(t, db, tp.ID).RunAt.Equal(tp.RunAt), "job run_at follows the touchpoint")
		}

		// A send due at 23:00 Shanghai goes out at 08:00 the next morning,
		// and the preview shows the moved time.
		at := time.Date(2026, 3, 2, 23, 0, 0, 0, shanghai)
		late := b.create(t, store.Touchpoint{Kind: bot.KindCustom, Note: "请带电脑", Anchor: store.AnchorAbsolute, At: &at, Audience: store.AudienceAll})
		require.True(t, time.Date(2026, 3, 3, 8, 0, 0, 0, shanghai).Equal(late.RunAt), late.RunAt.In(shanghai).String())
		fires, err := b.p.Preview(context.Background(), late, b.sess, 1)
		require.NoError(t, err)
		require.True(t, late.RunAt.Equal(fires[0]))
	})
}

func TestPastReminderSkippedAndPromptSentNow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		now := time.Date(2026, 3, 3, 1, 20, 0, 0, time.UTC) // 09:20 Shanghai
		start := time.Date(2026, 3, 3, 9, 30, 0, 0, shanghai)
		b := setup(t, db, now, start)
		tps := b.applyDefault(t)
		byKind := map[string]store.Touchpoint{}
		for _, tp := range tps {
			byKind[tp.Kind] = tp
		}
		require.Equal(t, store.TouchpointSkipped, byKind[bot.KindReminder].Status)
		var n int64
		require.NoError(t, db.Model(&store.Job{}).Where("state = ?", store.JobAvailable).Count(&n).Error)
		require.EqualValues(t, 2, n, "no job for the skipped reminder")
		// The check-in prompt (due 09:15, already past) goes out now.
		require.True(t, now.Equal(byKind[bot.KindCheckinPrompt].RunAt))
	})
}

func TestCronTouchpointHonoursZone(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		now := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC) // Sunday 10:00 Shanghai
		b := setup(t, db, now, time.Date(2026, 3, 10, 9, 0, 0, 0, shanghai))
		tp := b.create(t, store.Touchpoint{Kind: bot.KindCustom, Note: "每周学习提醒", Anchor: store.AnchorAbsolute, CronSpec: "30 12 * * 1", Audience: store.AudienceAll})
		fires, err := b.p.Preview(context.Background(), tp, b.sess, 3)
		require.NoError(t, err)
		require.Len(t, fires, 3)
		for i, f := range fires {
			want := time.Date(2026, 3, 2+7*i, 12, 30, 0, 0, shanghai)
			require.True(t, want.Equal(f), "fire %d: %s want %s", i, f.In(shanghai), want)
		}
		// 22:00 on Mondays is inside quiet hours: moved to Tuesday 08:00.
		tp2 := b.create(t, store.Touchpoint{Kind: bot.KindCustom, Note: "x", Anchor: store.AnchorAbsolute, CronSpec: "0 22 * * 1", Audience: store.AudienceAll})
		require.True(t, time.Date(2026, 3, 3, 8, 0, 0, 0, shanghai).Equal(tp2.RunAt), tp2.RunAt.In(shanghai).String())
	})
}

func TestEditPauseDelete(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		now := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
		b := setup(t, db, now, time.Date(2026, 3, 3, 14, 0, 0, 0, shanghai))
		tp := b.create(t, store.Touchpoint{Kind: bot.KindReminder, Anchor: store.AnchorStart, Offset: -3600, Audience: store.AudienceAll})
		ctx := context.Background()

		tp.Offset = -7200
		require.NoError(t, b.p.Update(ctx, db.DB, &tp))
		require.True(t, time.Date(2026, 3, 3, 12, 0, 0, 0, shanghai).Equal(job(t, db, tp.ID).RunAt))

		paused, err := b.p.SetPaused(ctx, db.DB, tp.ID, true)
		require.NoError(t, err)
		require.Equal(t, store.TouchpointPaused, paused.Status)
		require.Equal(t, store.JobCancelled, job(t, db, tp.ID).State)
		_, err = b.p.SendNow(ctx, tp.ID)
		require.ErrorIs(t, err, plan.ErrConflict, "a paused touchpoint is not sent now")

		resumed, err := b.p.SetPaused(ctx, db.DB, tp.ID, false)
		require.NoError(t, err)
		require.Equal(t, store.TouchpointScheduled, resumed.Status)
		require.Equal(t, store.JobAvailable, job(t, db, tp.ID).State)

		bad := store.Touchpoint{Kind: "nope", Anchor: "middle", Audience: "everyone"}
		err = db.Transaction(func(tx *gorm.DB) error { return b.p.Create(ctx, tx, &bad, b.sess) })
		require.ErrorIs(t, err, plan.ErrInvalid)
		require.ErrorContains(t, err, "kind")
		require.ErrorContains(t, err, "anchor")
		require.ErrorContains(t, err, "audience")

		require.NoError(t, b.p.Delete(ctx, db.DB, tp.ID))
		var n int64
		require.NoError(t, db.Model(&store.Touchpoint{}).Count(&n).Error)
		require.Zero(t, n)
		require.Equal(t, store.JobCancelled, job(t, db, tp.ID).State)
	})
}

func TestEarlyClassPromptIsNotMovedPastTheStart(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		now := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
		b := setup(t, db, now, time.Date(2026, 3, 3, 7, 30, 0, 0, shanghai))
		prompt := b.create(t, store.Touchpoint{Kind: bot.KindCheckinPrompt, Anchor: store.AnchorStart, Offset: -900, Audience: store.AudienceAll})
		require.True(t, time.Date(2026, 3, 3, 7, 15, 0, 0, shanghai).Equal(prompt.RunAt), prompt.RunAt.In(shanghai).String())
		reminder := b.create(t, store.Touchpoint{Kind: bot.KindReminder, Anchor: store.AnchorStart, Offset: -600, Audience: store.AudienceAll})
		require.True(t, time.Date(2026, 3, 3, 8, 0, 0, 0, shanghai).Equal(reminder.RunAt), "other kinds wait for the morning")
	})
}

// TestQuietHoursInSessionZone: quiet hours configured 21:00–08:00 (read in
// Shanghai) apply in a New York session's own zone: an 11:00 New York send
// goes out at 11:00 New York, not at 19:00 after Shanghai's night; 22:30
// New York waits for 08:00 New York; the preview shows the same.
func TestQuietHoursInSessionZone(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		now := time.Date(2026, 3, 1, 15, 0, 0, 0, time.UTC)
		b := setup(t, db, now, time.Date(2026, 3, 10, 9, 0, 0, 0, ny))
		require.NoError(t, db.Model(&b.sess).Update("time_zone", "America/New_York").Error)
		b.sess.TimeZone = "America/New_York"
		cases := []struct {
			name     string
			at, want time.Time
		}{
			{"11:00 New York", time.Date(2026, 3, 2, 11, 0, 0, 0, ny), time.Date(2026, 3, 2, 11, 0, 0, 0, ny)},
			{"22:30 New York", time.Date(2026, 3, 2, 22, 30, 0, 0, ny), time.Date(2026, 3, 3, 8, 0, 0, 0, ny)},
		}
		for _, tc := range cases {
			at := tc.at
			tp := b.create(t, store.Touchpoint{Kind: bot.KindCustom, Note: tc.name, Anchor: store.AnchorAbsolute, At: &at, Audience: store.AudienceAll})
			require.True(t, tc.want.Equal(tp.RunAt), "%s: run at %s", tc.name, tp.RunAt.In(ny))
			require.True(t, job(t, db, tp.ID).RunAt.Equal(tp.RunAt), tc.name)
			fires, err := b.p.Fires(context.Background(), tp, b.sess, 1)
			require.NoError(t, err)
			require.True(t, tc.want.Equal(fires[0].At), "%s: preview %s", tc.name, fires[0].At.In(ny))
			require.Equal(t, !tc.want.Equal(tc.at), fires[0].Moved(), tc.name)
		}
		// A weekly 22:00 New York cron fire moves to 08:00 New York.
		tp := b.create(t, store.Touchpoint{Kind: bot.KindCustom, Note: "weekly", Anchor: store.AnchorAbsolute, CronSpec: "0 22 * * 1", Audience: store.AudienceAll})
		require.True(t, time.Date(2026, 3, 3, 8, 0, 0, 0, ny).Equal(tp.RunAt), tp.RunAt.In(ny).String())
	})
}
