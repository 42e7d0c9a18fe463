package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestMigrateAppliesAVersionBelowTheHighest: versions land out of order (11
// after 12), so a database at 12 without 11 gets 11, and is behind until
// then.
func TestMigrateAppliesAVersionBelowTheHighest(t *testing.T) {
	t.Parallel()
	storetest.EachDriver(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		db := emptyDB(t, driver)
		_, err := store.MigrateTo(ctx, db.DB, 9)
		require.NoError(t, err)
		stmts, err := store.MigrationSQL(db.DB, "0012_campaign_send_times.sql")
		require.NoError(t, err)
		for _, s := range stmts {
			require.NoError(t, db.Exec(s).Error)
		}
		require.NoError(t, db.Create(&store.SchemaMigration{Version: 12, Name: "campaign_send_times", AppliedAt: time.Now().UTC()}).Error)
		require.ErrorIs(t, store.CheckCurrent(ctx, db.DB), store.ErrSchemaBehind, "11 is missing")

		applied, err := store.Migrate(ctx, db.DB)
		require.NoError(t, err)
		require.Contains(t, applied, 11)
		require.NotContains(t, applied, 12)
		require.True(t, db.Migrator().HasTable(&store.WebhookEvent{}))
		require.NoError(t, store.CheckCurrent(ctx, db.DB))
	})
}

// TestRecordEventsFromIsOneStatementAndIdempotent: the outbox gets one row
// per fact the SELECT returns; running it again adds nothing.
func TestRecordEventsFromIsOneStatementAndIdempotent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		at := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		for i := range 3 {
			require.NoError(t, db.Create(&store.Checkin{SessionID: 7, EmployeeID: uint64(i + 1), Kind: store.CheckinOnTime, Source: store.SourceCard, CheckedInAt: at.Add(time.Duration(i) * time.Minute)}).Error)
		}
		src := "SELECT id AS ref_id, checked_in_at AS occurred_at FROM checkins WHERE session_id = ? AND employee_id IN ?"
		for range 2 {
			require.NoError(t, store.Tx(context.Background(), db.DB, func(tx *gorm.DB) error {
				return store.RecordEventsFrom(tx, store.EventCheckin, at, src, 7, []uint64{1, 3})
			}))
		}
		var evs []store.WebhookEvent
		require.NoError(t, db.Order("ref_id").Find(&evs).Error)
		require.Len(t, evs, 2)
		require.Equal(t, store.EventCheckin, evs[0].Type)
		require.True(t, evs[0].OccurredAt.Equal(at))
		require.True(t, evs[1].OccurredAt.Equal(at.Add(2*time.Minute)))
		require.False(t, evs[0].FannedOut)
		require.Error(t, store.RecordEventsFrom(db.DB, store.EventCheckin, at, "DELETE FROM checkins"))
	})
}
