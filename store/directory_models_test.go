package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestDirectoryModelsMatchTheirTables checks that migration 8 created every
// column of the directory models, and nothing the structs do not name.
func TestDirectoryModelsMatchTheirTables(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		requireMatchesTables(t, db, store.DirectoryModels()...)
		dup := store.DirectoryPerson{Platform: "wecom", UserID: "u1", Name: "x", Hash: "h"}
		require.NoError(t, db.Create(&dup).Error)
		dup.ID = 0
		require.True(t, store.IsDuplicate(db.Create(&dup).Error), "one row per platform member")
	})
}

func TestEffectiveManagersWalksPastLeaversAndCycles(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		for _, e := range []store.Employee{
			{ExternalID: "CEO", Name: "c", Active: true},
			{ExternalID: "VP", Name: "v", ManagerID: "CEO", Active: true},
			{ExternalID: "M1", Name: "m1", ManagerID: "M2", Active: true},
			{ExternalID: "M2", Name: "m2", ManagerID: "VP", Active: true},
			{ExternalID: "X", Name: "x", ManagerID: "Y", Active: true},
			{ExternalID: "Y", Name: "y", ManagerID: "X", Active: true},
		} {
			require.NoError(t, db.Create(&e).Error)
		}
		require.NoError(t, db.Model(&store.Employee{}).Where("external_id IN ?", []string{"M1", "M2", "X", "Y"}).Update("active", false).Error)
		got, err := store.EffectiveManagers(context.Background(), db.DB, []string{"M1", "VP", "GONE", "X"})
		require.NoError(t, err)
		require.Equal(t, "VP", got["M1"].Manager.ExternalID)
		require.Equal(t, []string{"M1", "M2"}, got["M1"].Skipped)
		require.Equal(t, "VP", got["VP"].Manager.ExternalID)
		require.Empty(t, got["VP"].Skipped)
		require.Zero(t, got["GONE"].Manager.ID, "an unknown manager with nobody above")
		require.Zero(t, got["X"].Manager.ID, "a cycle of leavers ends")
		require.Equal(t, []string{"X", "Y"}, got["X"].Skipped)
	})
}
