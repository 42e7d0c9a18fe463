package plan_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/sendtime"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

func secs(d time.Duration) *int64 { s := int64(d / time.Second); return &s }

// TestFixedVersusLearnedTimeVariants: the A/B test of issue 15 item 4 — a
// reminder a day before the class (A, fixed) against the learned best hour
// of start−48h…start−2h (B): with the roster's past pushes of classPushes,
// B is planned at 19:00 the evening before (its basis stored), A keeps
// 09:00, each in its own fire job; the preview gives both. On both
// databases.
func TestFixedVersusLearnedTimeVariants(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 10, 0, 0, 0, shanghai)
		start := time.Date(2026, 3, 5, 9, 0, 0, 0, shanghai)
		b := setup(t, db, now, start)
		classPushes(t, b)
		tp := b.create(t, store.Touchpoint{Kind: bot.KindReminder, Anchor: store.AnchorStart, Offset: *secs(-24 * time.Hour), Audience: store.AudienceAll})
		vs := []store.TouchpointVariant{
			{Weight: 1, Timing: store.TimingSame},
			{Weight: 1, Timing: store.TimingBest, BestFrom: secs(-48 * time.Hour), BestTo: secs(-2 * time.Hour)},
		}
		require.NoError(t, db.Transaction(func(tx *gorm.DB) error { return b.p.SetVariants(ctx, tx, &tp, b.sess, vs) }))
		stored, err := plan.LoadVariants(ctx, db.DB, tp.ID)
		require.NoError(t, err)
		require.Len(t, stored, 2)
		fixed, learned := time.Date(2026, 3, 4, 9, 0, 0, 0, shanghai).UTC(), time.Date(2026, 3, 3, 19, 0, 0, 0, shanghai).UTC()
		require.Equal(t, fixed, stored[0].RunAt.UTC())
		require.Equal(t, learned, stored[1].RunAt.UTC())
		ch, err := sendtime.ParseBasis(stored[1].SendBasis)
		require.NoError(t, err)
		require.Equal(t, sendtime.ChoiceLearned, ch.Reason)

		var jobs []store.Job
		require.NoError(t, db.Where("kind = ? AND state <> ?", plan.JobFire, store.JobCancelled).Order("run_at").Find(&jobs).Error)
		require.Len(t, jobs, 2, "one job per variant, the touchpoint's own cancelled")
		require.Equal(t, learned, jobs[0].RunAt.UTC())
		require.Equal(t, fixed, jobs[1].RunAt.UTC())

		fires, err := b.p.VariantFires(ctx, tp, b.sess, stored)
		require.NoError(t, err)
		require.Equal(t, fixed, fires[0].Fire.At)
		require.Nil(t, fires[0].Fire.SendTime)
		require.Equal(t, learned, fires[1].Fire.At)
		require.NotNil(t, fires[1].Fire.SendTime)

		// The session moves a day later: both variants are planned again.
		b.sess.StartsAt, b.sess.EndsAt = b.sess.StartsAt.Add(24*time.Hour), b.sess.EndsAt.Add(24*time.Hour)
		require.NoError(t, db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Save(&b.sess).Error; err != nil {
				return err
			}
			return b.p.Reschedule(ctx, tx, b.sess)
		}))
		stored, err = plan.LoadVariants(ctx, db.DB, tp.ID)
		require.NoError(t, err)
		require.Equal(t, fixed.Add(24*time.Hour), stored[0].RunAt.UTC())
		require.Equal(t, learned.Add(24*time.Hour), stored[1].RunAt.UTC())

		// Deleting the touchpoint before anything was sent removes its
		// variants and their jobs.
		require.NoError(t, db.Transaction(func(tx *gorm.DB) error { return b.p.Delete(ctx, tx, tp.ID) }))
		var n int64
		require.NoError(t, db.Model(&store.TouchpointVariant{}).Where("touchpoint_id = ?", tp.ID).Count(&n).Error)
		require.Zero(t, n)
		require.NoError(t, db.Model(&store.Job{}).Where("kind = ? AND state <> ?", plan.JobFire, store.JobCancelled).Count(&n).Error)
		require.Zero(t, n)
	})
}

// TestCheckVariants: the bounds every front door's variants meet.
func TestCheckVariants(t *testing.T) {
	t.Parallel()
	base := store.Touchpoint{Kind: bot.KindReminder, Anchor: store.AnchorStart, Offset: *secs(-24 * time.Hour)}
	same := store.TouchpointVariant{Weight: 1, Timing: store.TimingSame}
	titled := func(s string) store.TouchpointVariant { v := same; v.Title = s; return v }
	long := string(make([]rune, 256))
	for _, tc := range []struct {
		name        string
		tp          store.Touchpoint
		vs          []store.TouchpointVariant
		field, kind string
	}{
		{"none is fine", base, nil, "", ""},
		{"one is too few", base, []store.TouchpointVariant{same}, "variants", plan.ProblemVariantCount},
		{"five are too many", base, []store.TouchpointVariant{titled("1"), titled("2"), titled("3"), titled("4"), titled("5")}, "variants", plan.ProblemVariantCount},
		{"a recurring push", store.Touchpoint{Kind: bot.KindReminder, Anchor: store.AnchorAbsolute, CronSpec: "0 9 * * 1"}, []store.TouchpointVariant{same, titled("b")}, "variants", plan.ProblemVariantCron},
		{"alike", base, []store.TouchpointVariant{same, same}, "variants[1].title", plan.ProblemSameVariants},
		{"a title too long", base, []store.TouchpointVariant{same, titled(long)}, "variants[1].title", plan.ProblemTooLong},
		{"a weight of 0", base, []store.TouchpointVariant{same, {Weight: 0, Title: "b", Timing: store.TimingSame}}, "variants[1].weight", plan.ProblemRange},
		{"an offset out of range", base, []store.TouchpointVariant{same, {Weight: 1, Timing: store.TimingOffset, Offset: secs(91 * 24 * time.Hour)}}, "variants[1].offset", plan.ProblemRange},
		{"an offset at an absolute time", store.Touchpoint{Kind: bot.KindReminder, Anchor: store.AnchorAbsolute}, []store.TouchpointVariant{same, {Weight: 1, Timing: store.TimingOffset, Offset: secs(time.Hour)}}, "variants[1].timing", plan.ProblemTiming},
		{"an unknown timing", base, []store.TouchpointVariant{same, {Weight: 1, Timing: "soon"}}, "variants[1].timing", plan.ProblemTiming},
		{"a best time without a window", base, []store.TouchpointVariant{same, {Weight: 1, Timing: store.TimingBest}}, "variants[1].best_from", plan.ProblemRequired},
		{"a best time for a check-in prompt", store.Touchpoint{Kind: bot.KindCheckinPrompt, Anchor: store.AnchorStart, Offset: -900},
			[]store.TouchpointVariant{same, {Weight: 1, Timing: store.TimingBest, BestFrom: secs(-time.Hour), BestTo: secs(0)}}, "variants[1].best_from", plan.ProblemBestNotAllowed},
		{"the fallback outside the window", base, []store.TouchpointVariant{same, {Weight: 1, Timing: store.TimingBest, BestFrom: secs(-10 * time.Hour), BestTo: secs(-2 * time.Hour)}}, "variants[1].offset", plan.ProblemOutsideWindow},
		{"fixed against learned", base, []store.TouchpointVariant{same, {Weight: 1, Timing: store.TimingBest, BestFrom: secs(-48 * time.Hour), BestTo: secs(-2 * time.Hour)}}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ps plan.Problems
			ps.CheckVariants(tc.tp, tc.vs)
			if tc.field == "" {
				require.Empty(t, ps)
				return
			}
			require.NotEmpty(t, ps)
			require.Equal(t, tc.field, ps[0].Field)
			require.Equal(t, tc.kind, ps[0].Kind)
		})
	}
}

// TestSplitIsRecordedOnceAcrossReplicas: two replicas (two Splitters on
// the same database and key) resolving overlapping pages at the same time
// record one assignment per person and agree on every one, which is the
// keyed pick; a third with another key (a changed secret) still reads the
// recorded variants. On both databases.
func TestSplitIsRecordedOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 10, 0, 0, 0, shanghai)
		b := setup(t, db, now, now.Add(48*time.Hour))
		tp := b.create(t, store.Touchpoint{Kind: bot.KindReminder, Anchor: store.AnchorStart, Offset: *secs(-24 * time.Hour), Audience: store.AudienceAll})
		vs := []store.TouchpointVariant{{Weight: 1, Timing: store.TimingSame}, {Weight: 1, Timing: store.TimingSame, Title: "B"}, {Weight: 1, Timing: store.TimingSame, Title: "C"}}
		require.NoError(t, db.Transaction(func(tx *gorm.DB) error { return b.p.SetVariants(ctx, tx, &tp, b.sess, vs) }))
		var targets []bot.Target
		for i := range 300 {
			e := store.Employee{ExternalID: "R" + itoa(uint64(i)), Name: "r", Active: true}
			require.NoError(t, db.Create(&e).Error)
			targets = append(targets, bot.Target{Employee: e})
		}
		key := []byte("replica-key")
		replicas := []*plan.Splitter{{DB: db.DB, Key: key}, {DB: db.DB, Key: key}}
		got := make([]map[uint64]bot.VariantCopy, 2)
		errs := make(chan error, 2)
		for i, s := range replicas {
			go func() {
				var err error
				got[i], err = s.Split(ctx, tp.ID, targets[i*100:i*100+200]) // 100–199 overlap
				errs <- err
			}()
		}
		require.NoError(t, <-errs)
		require.NoError(t, <-errs)
		var n int64
		require.NoError(t, db.Model(&store.TouchpointAssignment{}).Where("touchpoint_id = ?", tp.ID).Count(&n).Error)
		require.EqualValues(t, 300, n, "one assignment per person")
		stored, err := plan.LoadVariants(ctx, db.DB, tp.ID)
		require.NoError(t, err)
		counts := map[string]int{}
		for _, tg := range targets {
			want, ok := plan.Pick(key, tp.ID, tg.Employee.ID, stored)
			require.True(t, ok)
			for i := range got {
				if v, ok := got[i][tg.Employee.ID]; ok {
					require.Equal(t, want.ID, v.ID)
				}
			}
			counts[want.Name]++
		}
		for _, name := range []string{"A", "B", "C"} {
			require.InDelta(t, 100, counts[name], 30, "a roughly even split: %v", counts)
		}
		other := &plan.Splitter{DB: db.DB, Key: []byte("another-key")}
		again, err := other.Split(ctx, tp.ID, targets)
		require.NoError(t, err)
		for _, tg := range targets {
			want, _ := plan.Pick(key, tp.ID, tg.Employee.ID, stored)
			require.Equal(t, want.ID, again[tg.Employee.ID].ID, "the recorded variant wins")
		}
	})
}

// waitingVariants sets up a session on 5 March 09:00 with a reminder a day
// before it whose variant A sends at the reminder's time and B at start −
// 20 h: the bundle, the touchpoint, the variants as given and as stored,
// and a variant's job key.
func waitingVariants(t *testing.T, db *storetest.DB, now time.Time) (*bundle, store.Touchpoint, []store.TouchpointVariant, []store.TouchpointVariant, func(store.TouchpointVariant) string) {
	t.Helper()
	ctx := context.Background()
	b := setup(t, db, now, time.Date(2026, 3, 5, 9, 0, 0, 0, shanghai))
	tp := b.create(t, store.Touchpoint{Kind: bot.KindReminder, Anchor: store.AnchorStart, Offset: *secs(-24 * time.Hour), Audience: store.AudienceAll})
	vs := []store.TouchpointVariant{{Weight: 1, Timing: store.TimingSame}, {Weight: 1, Timing: store.TimingOffset, Offset: secs(-20 * time.Hour)}}
	require.NoError(t, db.Transaction(func(tx *gorm.DB) error { return b.p.SetVariants(ctx, tx, &tp, b.sess, vs) }))
	stored, err := plan.LoadVariants(ctx, db.DB, tp.ID)
	require.NoError(t, err)
	return b, tp, vs, stored, func(v store.TouchpointVariant) string { return "tp:" + itoa(tp.ID) + ":0:v" + itoa(v.ID) }
}

// TestSessionMoveMovesTheVariantsStillWaiting: A went out (the touchpoint
// is fired), B waits for its own time; the session moves a day later: B's
// job moves with it, A's is left as it was. On both databases.
func TestSessionMoveMovesTheVariantsStillWaiting(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 10, 0, 0, 0, shanghai)
		b, tp, _, stored, key := waitingVariants(t, db, now)
		// A's fire ran: its job completed, the touchpoint marked fired.
		require.NoError(t, db.Model(&store.Job{}).Where("unique_key = ?", key(stored[0])).Update("state", store.JobCompleted).Error)
		require.NoError(t, db.Model(&store.Touchpoint{}).Where("id = ?", tp.ID).Update("status", store.TouchpointFired).Error)

		b.sess.StartsAt, b.sess.EndsAt = b.sess.StartsAt.Add(24*time.Hour), b.sess.EndsAt.Add(24*time.Hour)
		require.NoError(t, db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Save(&b.sess).Error; err != nil {
				return err
			}
			return b.p.Reschedule(ctx, tx, b.sess)
		}))
		var ja, jb store.Job
		require.NoError(t, db.Where("unique_key = ?", key(stored[0])).Take(&ja).Error)
		require.NoError(t, db.Where("unique_key = ?", key(stored[1])).Take(&jb).Error)
		require.Equal(t, store.JobCompleted, ja.State, "A's sent fire is left alone")
		require.Equal(t, store.JobAvailable, jb.State)
		movedB := time.Date(2026, 3, 5, 13, 0, 0, 0, shanghai).UTC() // the new start − 20 h
		require.Equal(t, movedB, jb.RunAt.UTC())
		after, err := plan.LoadVariants(ctx, db.DB, tp.ID)
		require.NoError(t, err)
		require.Equal(t, movedB, after[1].RunAt.UTC())
		require.Equal(t, stored[0].RunAt.UTC(), after[0].RunAt.UTC())
	})
}

// TestPauseResumeCancelActOnTheVariantsStillToSend: A went out (a delivery,
// its job completed, the touchpoint fired), B waits for its own time. A
// pause holds B (its job cancelled, A's left completed); pausing again is a
// conflict; a resume plans B again at its time and leaves A sent; a cancel
// drops B. Without a waiting variant a fired touchpoint cannot be paused.
// On both databases.
func TestPauseResumeCancelActOnTheVariantsStillToSend(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 10, 0, 0, 0, shanghai)
		b, tp, vs, stored, key := waitingVariants(t, db, now)
		state := func(v store.TouchpointVariant) store.Job {
			var j store.Job
			require.NoError(t, db.Where("unique_key = ?", key(v)).Take(&j).Error)
			return j
		}
		status := func() string {
			var got store.Touchpoint
			require.NoError(t, db.First(&got, tp.ID).Error)
			return got.Status
		}
		setPaused := func(paused bool) error {
			return db.Transaction(func(tx *gorm.DB) error { _, err := b.p.SetPaused(ctx, tx, tp.ID, paused); return err })
		}
		// A's fire ran: one delivery, its job completed, the touchpoint fired.
		e := store.Employee{ExternalID: "A1", Name: "甲", Active: true}
		require.NoError(t, db.Create(&e).Error)
		sent := now
		require.NoError(t, db.Create(&store.Delivery{TouchpointID: tp.ID, Occurrence: plan.OneOff, EmployeeID: e.ID, SessionID: b.sess.ID,
			Key: "k-a1", Platform: "simulator", UserID: "A1", Status: store.DeliverySent, SentAt: &sent}).Error)
		require.NoError(t, db.Model(&store.Job{}).Where("unique_key = ?", key(stored[0])).Update("state", store.JobCompleted).Error)
		require.NoError(t, db.Model(&store.Touchpoint{}).Where("id = ?", tp.ID).Update("status", store.TouchpointFired).Error)
		fired := tp
		fired.Status = store.TouchpointFired
		waiting, err := plan.VariantsWaiting(ctx, db.DB, fired)
		require.NoError(t, err)
		require.True(t, waiting)

		require.NoError(t, setPaused(true))
		require.Equal(t, store.TouchpointPaused, status())
		require.Equal(t, store.JobCompleted, state(stored[0]).State, "A's sent fire is left alone")
		require.Equal(t, store.JobCancelled, state(stored[1]).State, "B is held")
		require.ErrorIs(t, setPaused(true), plan.ErrConflict)

		require.NoError(t, setPaused(false))
		require.Equal(t, store.TouchpointFired, status(), "what was sent stays sent")
		require.Equal(t, store.JobCompleted, state(stored[0]).State, "A is not sent again")
		jb := state(stored[1])
		require.Equal(t, store.JobAvailable, jb.State)
		require.Equal(t, time.Date(2026, 3, 4, 13, 0, 0, 0, shanghai).UTC(), jb.RunAt.UTC(), "B at start − 20 h")
		require.ErrorIs(t, setPaused(false), plan.ErrConflict)

		require.NoError(t, db.Transaction(func(tx *gorm.DB) error { return b.p.Delete(ctx, tx, tp.ID) }))
		require.Equal(t, store.TouchpointCancelled, status())
		require.Equal(t, store.JobCancelled, state(stored[1]).State, "a cancel drops B")

		// B went out too: nothing waits, so a fired touchpoint is not paused.
		tp2 := b.create(t, store.Touchpoint{Kind: bot.KindReminder, Anchor: store.AnchorStart, Offset: *secs(-30 * time.Hour), Audience: store.AudienceAll})
		require.NoError(t, db.Transaction(func(tx *gorm.DB) error { return b.p.SetVariants(ctx, tx, &tp2, b.sess, vs) }))
		require.NoError(t, db.Model(&store.Job{}).Where("unique_key LIKE ?", "tp:"+itoa(tp2.ID)+":0:v%").Update("state", store.JobCompleted).Error)
		require.NoError(t, db.Model(&store.Touchpoint{}).Where("id = ?", tp2.ID).Update("status", store.TouchpointFired).Error)
		err = db.Transaction(func(tx *gorm.DB) error { _, err := b.p.SetPaused(ctx, tx, tp2.ID, true); return err })
		require.ErrorIs(t, err, plan.ErrConflict)
	})
}
