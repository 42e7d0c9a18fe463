package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

func TestMigrateIsIdempotentAndCurrent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		require.NoError(t, store.CheckCurrent(ctx, db.DB))
		applied, err := store.Migrate(ctx, db.DB)
		require.NoError(t, err)
		require.Empty(t, applied, "second migrate applies nothing")
		v, err := store.CurrentVersion(ctx, db.DB)
		require.NoError(t, err)
		require.Equal(t, store.LatestVersion(), v)
	})
}

func TestUniqueIndexesCarryIdempotency(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		now := time.Now().UTC().Truncate(time.Second)
		require.NoError(t, db.Create(&store.Checkin{SessionID: 1, EmployeeID: 2, Kind: store.CheckinOnTime, Source: store.SourceCard, CheckedInAt: now}).Error)
		err := db.Create(&store.Checkin{SessionID: 1, EmployeeID: 2, Kind: store.CheckinLate, Source: store.SourceCard, CheckedInAt: now}).Error
		require.True(t, store.IsDuplicate(err), "second check-in for the same person is a duplicate: %v", err)

		d := store.Delivery{TouchpointID: 1, Occurrence: "0", EmployeeID: 2, SessionID: 1, Key: "k1", Platform: "simulator", UserID: "u", Status: store.DeliveryPending}
		require.NoError(t, db.Create(&d).Error)
		d2 := d
		d2.ID, d2.Key = 0, "k2"
		require.True(t, store.IsDuplicate(db.Create(&d2).Error))

		var n int64
		require.NoError(t, db.Model(&store.Checkin{}).Count(&n).Error)
		require.EqualValues(t, 1, n)
	})
}

func TestTimesAreStoredInUTC(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		sh, err := time.LoadLocation("Asia/Shanghai")
		require.NoError(t, err)
		at := time.Date(2026, 3, 1, 9, 0, 0, 0, sh)
		c := store.Checkin{SessionID: 9, EmployeeID: 9, Kind: store.CheckinOnTime, Source: store.SourceManual, CheckedInAt: at}
		require.NoError(t, db.Create(&c).Error)
		var got store.Checkin
		require.NoError(t, db.First(&got, c.ID).Error)
		require.True(t, got.CheckedInAt.Equal(at), "got %v want %v", got.CheckedInAt, at)
		require.Equal(t, time.UTC, got.CheckedInAt.Location())
	})
}

func TestMigration4BackfillsAnswerSurveyIDs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		r := store.SurveyResponse{SurveyID: 7, RespondentKey: "e:1", Status: store.ResponseComplete, Source: "form", StartedAt: time.Now()}
		require.NoError(t, db.Create(&r).Error)
		v := 4.0
		a := store.SurveyAnswer{ResponseID: r.ID, QuestionKey: "q", Number: &v}
		require.NoError(t, db.Create(&a).Error)
		var m store.Migration
		for _, x := range store.Migrations {
			if x.Version == 4 {
				m = x
			}
		}
		require.NoError(t, m.Up(db.DB), "a migration can run again")
		var got store.SurveyAnswer
		require.NoError(t, db.First(&got, a.ID).Error)
		require.EqualValues(t, 7, got.SurveyID)
	})
}
