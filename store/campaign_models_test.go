package store_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestCampaignModelsMatchTheirTables checks that migration 9 created every
// column of the campaign models and nothing the structs do not name, the
// clicks index attribution reads, and the idempotency of conversions.
func TestCampaignModelsMatchTheirTables(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		m := db.Migrator()
		requireMatchesTables(t, db, store.CampaignModels()...)
		require.True(t, m.HasIndex(&store.Click{}, "ix_clicks_employee_time"))
		c := store.Conversion{EventID: "ev-1", EmployeeID: 1, Event: "live_join", Source: "api", WindowSeconds: 86400}
		require.NoError(t, db.Create(&c).Error)
		c.ID = 0
		require.True(t, store.IsDuplicate(db.Create(&c).Error), "one conversion per event id")
	})
}

func TestNormalizeTags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "", want: ""},
		{in: " 新员工 ,销售骨干，新员工;; ", want: "新员工,销售骨干"},
		{in: "b|a", want: "a,b"},
		{in: "100%", bad: true},
		{in: "a_b", bad: true},
		{in: "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三", bad: true},
		{in: "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21", bad: true},
	} {
		got, err := store.NormalizeTags(tc.in)
		if tc.bad {
			require.True(t, errors.Is(err, store.ErrBadTag), "%q: %v", tc.in, err)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	// A refused long tag is named by its first characters, not repeated whole.
	_, err := store.NormalizeTags(strings.Repeat("长", 10000))
	require.ErrorIs(t, err, store.ErrBadTag)
	require.Less(t, utf8.RuneCountInString(err.Error()), 100, err.Error())
	require.Contains(t, err.Error(), strings.Repeat("长", store.MaxTagRunes)+"…")
}
