package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestPresenceModelsMatchTheirTables checks that migration 7 created every
// column of the presence models, and nothing the structs do not name.
func TestPresenceModelsMatchTheirTables(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		requireMatchesTables(t, db, &store.PresenceSetting{}, &store.PresenceScan{}, &store.SurveyIdentity{})
	})
}

func TestPresenceScanNonceIsSingleUse(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		now := time.Now().UTC().Truncate(time.Second)
		s := store.PresenceScan{Nonce: "n1", SessionID: 1, EmployeeID: 2, Method: store.SourceQR, Slot: 7, Platform: "wecom", ScannedAt: now, Outcome: "recorded"}
		require.NoError(t, db.Create(&s).Error)
		s2 := s
		s2.ID, s2.EmployeeID = 0, 3
		require.True(t, store.IsDuplicate(db.Create(&s2).Error), "a ticket is used once")

		set := store.PresenceSetting{SessionID: 1}
		require.NoError(t, db.Create(&set).Error)
		var got store.PresenceSetting
		require.NoError(t, db.Take(&got, 1).Error)
		require.Equal(t, store.DefaultRotateSeconds, got.RotateSeconds, "the column default is the documented default")
		require.False(t, got.RequireOnsite)
	})
}
