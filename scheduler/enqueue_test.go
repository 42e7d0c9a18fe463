package scheduler_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

func TestEnqueueUniqueKey(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		s := b.scheduler(scheduler.Options{})
		ctx := context.Background()
		key := "touchpoint:7:0"

		first, inserted, err := s.Enqueue(ctx, nil, scheduler.JobSpec{Kind: "reminder", UniqueKey: key, Payload: map[string]int{"v": 1}, RunAt: t0.Add(time.Hour)})
		require.NoError(t, err)
		require.True(t, inserted)
		require.Equal(t, store.JobAvailable, first.State)
		require.Equal(t, 8, first.MaxAttempts, "default MaxAttempts")
		require.True(t, first.RunAt.Equal(t0.Add(time.Hour)))

		// Same key again: nothing inserted, the stored job comes back unchanged.
		again, inserted, err := s.Enqueue(ctx, nil, scheduler.JobSpec{Kind: "reminder", UniqueKey: key, Payload: map[string]int{"v": 2}, RunAt: t0.Add(2 * time.Hour)})
		require.NoError(t, err)
		require.False(t, inserted)
		require.Equal(t, first.ID, again.ID)
		require.Equal(t, `{"v":1}`, again.Payload)
		require.True(t, again.RunAt.Equal(t0.Add(time.Hour)))
		var n int64
		require.NoError(t, db.Model(&store.Job{}).Count(&n).Error)
		require.EqualValues(t, 1, n)

		// Replace reschedules a failed job from scratch.
		require.NoError(t, db.Model(&store.Job{}).Where("id = ?", first.ID).Updates(map[string]any{
			"state": store.JobFailed, "attempts": 3, "last_error": "boom", "finished_at": t0,
		}).Error)
		replaced, inserted, err := s.Enqueue(ctx, nil, scheduler.JobSpec{Kind: "reminder", UniqueKey: key, Payload: `{"v":3}`, RunAt: t0.Add(3 * time.Hour), MaxAttempts: 2, Replace: true})
		require.NoError(t, err)
		require.False(t, inserted)
		require.Equal(t, first.ID, replaced.ID)
		require.Equal(t, store.JobAvailable, replaced.State)
		require.Equal(t, `{"v":3}`, replaced.Payload)
		require.True(t, replaced.RunAt.Equal(t0.Add(3*time.Hour)), "run_at %v", replaced.RunAt)
		require.Zero(t, replaced.Attempts)
		require.Equal(t, 2, replaced.MaxAttempts)
		require.Empty(t, replaced.LastError)
		require.Nil(t, replaced.FinishedAt)
		require.Equal(t, replaced, b.job(t, first.ID), "returned job is the stored row")

		// A running job is never replaced under its worker.
		require.NoError(t, db.Model(&store.Job{}).Where("id = ?", first.ID).Updates(map[string]any{
			"state": store.JobRunning, "attempts": 1, "locked_by": "w1", "locked_until": t0.Add(time.Minute),
		}).Error)
		running, inserted, err := s.Enqueue(ctx, nil, scheduler.JobSpec{Kind: "reminder", UniqueKey: key, Payload: `{"v":4}`, Replace: true})
		require.NoError(t, err)
		require.False(t, inserted)
		require.Equal(t, store.JobRunning, running.State)
		require.Equal(t, `{"v":3}`, b.job(t, first.ID).Payload)

		// CancelKey leaves a running job alone, cancels an available one and
		// ignores a key that does not exist.
		require.NoError(t, s.CancelKey(ctx, nil, key))
		require.Equal(t, store.JobRunning, b.job(t, first.ID).State)
		require.NoError(t, db.Model(&store.Job{}).Where("id = ?", first.ID).Updates(map[string]any{
			"state": store.JobAvailable, "locked_by": "", "locked_until": nil,
		}).Error)
		require.NoError(t, s.CancelKey(ctx, nil, key))
		cancelled := b.job(t, first.ID)
		require.Equal(t, store.JobCancelled, cancelled.State)
		require.NotNil(t, cancelled.FinishedAt)
		require.NoError(t, s.CancelKey(ctx, nil, "no-such-key"))

		// A cancelled job is not run.
		s.Register("reminder", func(context.Context, store.Job) error { t.Error("cancelled job ran"); return nil })
		b.clock.Advance(24 * time.Hour)
		require.Zero(t, runDue(t, s))
	})
}

func TestEnqueueInCallerTransaction(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		s := b.scheduler(scheduler.Options{})
		ctx := context.Background()
		errRollback := errors.New("roll back")

		err := db.Transaction(func(tx *gorm.DB) error {
			_, inserted, err := s.Enqueue(ctx, tx, scheduler.JobSpec{Kind: "reminder", UniqueKey: "rolled-back"})
			require.NoError(t, err)
			require.True(t, inserted)
			return errRollback
		})
		require.ErrorIs(t, err, errRollback)
		var n int64
		require.NoError(t, db.Model(&store.Job{}).Count(&n).Error)
		require.Zero(t, n, "the job rolls back with the caller's rows")

		require.NoError(t, db.Transaction(func(tx *gorm.DB) error {
			if _, _, err := s.Enqueue(ctx, tx, scheduler.JobSpec{Kind: "reminder", UniqueKey: "committed"}); err != nil {
				return err
			}
			// A duplicate inside the same transaction returns the first row
			// and leaves the transaction usable.
			j, inserted, err := s.Enqueue(ctx, tx, scheduler.JobSpec{Kind: "reminder", UniqueKey: "committed"})
			require.NoError(t, err)
			require.False(t, inserted)
			require.Equal(t, "committed", *j.UniqueKey)
			return tx.Create(&store.AuditLog{Actor: "test", Action: "enqueue"}).Error
		}))
		require.NoError(t, db.Model(&store.Job{}).Count(&n).Error)
		require.EqualValues(t, 1, n)
		require.NoError(t, db.Model(&store.AuditLog{}).Count(&n).Error)
		require.EqualValues(t, 1, n)
	})
}

func TestEnqueuePayloadAndDefaults(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		s := b.scheduler(scheduler.Options{MaxAttempts: 3})
		tests := []struct {
			name    string
			payload any
			want    string
		}{
			{"nil is empty", nil, ""},
			{"string as-is", "plain text", "plain text"},
			{"bytes as-is", []byte(`{"raw":true}`), `{"raw":true}`},
			{"raw json as-is", json.RawMessage(`[1,2]`), `[1,2]`},
			{"struct as json", struct {
				SessionID int    `json:"session_id"`
				Kind      string `json:"kind"`
			}{42, "reminder"}, `{"session_id":42,"kind":"reminder"}`},
		}
		for _, tt := range tests {
			j := b.enqueue(t, s, scheduler.JobSpec{Kind: "k", Payload: tt.payload})
			stored := b.job(t, j.ID)
			require.Equal(t, tt.want, stored.Payload, tt.name)
			require.True(t, stored.RunAt.Equal(t0), "%s: zero RunAt means now, got %v", tt.name, stored.RunAt)
			require.Equal(t, 3, stored.MaxAttempts, tt.name)
			require.Nil(t, stored.UniqueKey, tt.name)
		}

		_, _, err := s.Enqueue(context.Background(), nil, scheduler.JobSpec{})
		require.ErrorContains(t, err, "kind is empty")
		_, _, err = s.Enqueue(context.Background(), nil, scheduler.JobSpec{Kind: "k", Payload: func() {}})
		require.ErrorContains(t, err, "marshal payload")

		// A RunAt in another zone is stored as the same instant.
		sh, err := time.LoadLocation("Asia/Shanghai")
		require.NoError(t, err)
		at := time.Date(2026, 3, 2, 23, 0, 0, 0, sh)
		j := b.enqueue(t, s, scheduler.JobSpec{Kind: "k", RunAt: at})
		require.True(t, b.job(t, j.ID).RunAt.Equal(at))
	})
}
