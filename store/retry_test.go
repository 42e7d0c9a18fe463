package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

func TestIsRetryable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"deadlock", &mysql.MySQLError{Number: 1213, Message: "Deadlock found"}, true},
		{"lock wait", fmt.Errorf("record: %w", &mysql.MySQLError{Number: 1205}), true},
		{"duplicate", &mysql.MySQLError{Number: 1062}, false},
		{"bad conn", mysql.ErrInvalidConn, true},
		{"sqlite busy", errors.New("database is locked (5) (SQLITE_BUSY)"), true},
		{"other", errors.New("boom"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, store.IsRetryable(c.err))
		})
	}
}

func TestRetryStopsOnPermanentErrorAndRetriesTransient(t *testing.T) {
	t.Parallel()
	calls := 0
	err := store.Retry(context.Background(), func() error {
		calls++
		if calls < 3 {
			return &mysql.MySQLError{Number: 1213}
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 3, calls)

	calls = 0
	perm := errors.New("permanent")
	require.ErrorIs(t, store.Retry(context.Background(), func() error { calls++; return perm }), perm)
	require.Equal(t, 1, calls)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = store.Retry(ctx, func() error { return &mysql.MySQLError{Number: 1205} })
	require.ErrorIs(t, err, context.Canceled)
}

// TestTxSurvivesDeadlocks makes transactions that lock two rows in opposite
// orders, which deadlocks on MySQL; every transaction must still commit.
func TestTxSurvivesDeadlocks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		if db.Driver == store.DriverMySQL {
			var level string
			require.NoError(t, db.Raw("SELECT @@tx_isolation").Scan(&level).Error)
			require.Equal(t, "READ-COMMITTED", level, "every connection runs at READ COMMITTED")
		}
		a := store.Course{Code: "A", Title: "a"}
		b := store.Course{Code: "B", Title: "b"}
		require.NoError(t, db.Create(&a).Error)
		require.NoError(t, db.Create(&b).Error)
		const n = 16
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				first, second := a.ID, b.ID
				if i%2 == 1 {
					first, second = second, first
				}
				errs[i] = store.Tx(ctx, db.DB, func(tx *gorm.DB) error {
					if err := tx.Model(&store.Course{}).Where("id = ?", first).Update("target_level", gorm.Expr("target_level + 1")).Error; err != nil {
						return err
					}
					return tx.Model(&store.Course{}).Where("id = ?", second).Update("target_level", gorm.Expr("target_level + 1")).Error
				})
			})
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		var got []store.Course
		require.NoError(t, db.Order("id").Find(&got).Error)
		require.Equal(t, 1+n, got[0].TargetLevel)
		require.Equal(t, 1+n, got[1].TargetLevel)
	})
}
