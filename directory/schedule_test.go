package directory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/directory"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

func TestScheduledSyncIsOneJobPerSlot(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 17, 59, 0, 0, time.UTC) // 01:59 in Shanghai
		clock := func() time.Time { return now }
		sched := scheduler.New(db.DB, scheduler.Options{Now: clock})
		sh, _ := time.LoadLocation("Asia/Shanghai")
		s := &directory.Schedule{Syncer: directory.NewSyncer(db.DB, directory.Options{Now: clock}), Sched: sched,
			Sources: map[string]directory.Source{"wecom": orgChart()}, Cron: "0 2 * * *", Loc: sh, Now: clock}
		s.Register()
		// Two replicas start: one job for the slot.
		require.NoError(t, s.EnsureNext(ctx))
		require.NoError(t, s.EnsureNext(ctx))
		slot := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
		var jobs []store.Job
		require.NoError(t, db.Where("kind = ?", directory.JobKind).Find(&jobs).Error)
		require.Len(t, jobs, 1)
		require.Equal(t, directory.SlotKey("wecom", slot), *jobs[0].UniqueKey)

		now = slot.Add(time.Second)
		n, err := sched.RunDue(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		var run store.DirectorySync
		require.NoError(t, db.Take(&run).Error)
		require.Equal(t, "schedule", run.Trigger)
		require.Equal(t, store.DirectorySyncOK, run.Status)
		var next store.Job
		require.NoError(t, db.Where("unique_key = ?", directory.SlotKey("wecom", slot.Add(24*time.Hour))).Take(&next).Error)
		require.Equal(t, store.JobAvailable, next.State)
	})
}
