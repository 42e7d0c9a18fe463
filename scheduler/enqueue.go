package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/store"
)

// JobSpec describes a job to enqueue.
type JobSpec struct {
	// Kind selects the Handler.
	Kind string
	// UniqueKey, when set, allows one job per key (see Enqueue).
	UniqueKey string
	// Payload is stored as JSON; a string, []byte or json.RawMessage is
	// stored as-is and nil as an empty payload.
	Payload any
	// RunAt is when the job becomes due; zero means now.
	RunAt time.Time
	// MaxAttempts caps attempts; 0 means Options.MaxAttempts.
	MaxAttempts int
	// Replace resets an existing, not running job with the same UniqueKey.
	Replace bool
}

// Enqueue inserts a job. tx may be nil (use the Scheduler's db) or a
// transaction, so that the job commits with the caller's rows. With a
// UniqueKey that already exists: if Replace, an existing job that is not
// running is reset to available with the new kind, run_at, payload and
// max_attempts (attempts 0, last_error cleared); a running job, or any job
// without Replace, is returned unchanged. Enqueue returns the stored job and
// whether a new row was inserted.
func (s *Scheduler) Enqueue(ctx context.Context, tx *gorm.DB, spec JobSpec) (store.Job, bool, error) {
	if spec.Kind == "" {
		return store.Job{}, false, errors.New("enqueue: job kind is empty")
	}
	payload, err := encodePayload(spec.Payload)
	if err != nil {
		return store.Job{}, false, fmt.Errorf("enqueue %s: %w", spec.Kind, err)
	}
	runAt := spec.RunAt.UTC().Truncate(time.Millisecond)
	if spec.RunAt.IsZero() {
		runAt = s.now()
	}
	maxAttempts := spec.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = s.opts.MaxAttempts
	}
	job := store.Job{
		Kind:        spec.Kind,
		Payload:     payload,
		State:       store.JobAvailable,
		RunAt:       runAt,
		MaxAttempts: maxAttempts,
	}
	if spec.UniqueKey != "" {
		key := spec.UniqueKey
		job.UniqueKey = &key
	}
	db := s.conn(ctx, tx)
	err = db.Create(&job).Error
	if err == nil {
		return job, true, nil
	}
	if spec.UniqueKey == "" || !store.IsDuplicate(err) {
		return store.Job{}, false, fmt.Errorf("enqueue %s: %w", spec.Kind, err)
	}

	existing, err := s.byKey(db, spec.UniqueKey)
	if err != nil {
		return store.Job{}, false, fmt.Errorf("enqueue %s: %w", spec.Kind, err)
	}
	if !spec.Replace || existing.State == store.JobRunning {
		return existing, false, nil
	}
	res := db.Model(&store.Job{}).
		Where("id = ? AND state <> ?", existing.ID, store.JobRunning).
		Updates(map[string]any{
			"kind":         spec.Kind,
			"payload":      payload,
			"state":        store.JobAvailable,
			"run_at":       runAt,
			"attempts":     0,
			"max_attempts": maxAttempts,
			"last_error":   "",
			"locked_until": nil,
			"locked_by":    "",
			"finished_at":  nil,
		})
	if res.Error != nil {
		return store.Job{}, false, fmt.Errorf("enqueue %s: replace job %d: %w", spec.Kind, existing.ID, res.Error)
	}
	// Re-read in both cases: replaced, or claimed by a worker in between.
	existing, err = s.byKey(db, spec.UniqueKey)
	if err != nil {
		return store.Job{}, false, fmt.Errorf("enqueue %s: %w", spec.Kind, err)
	}
	return existing, false, nil
}

// CancelKey cancels the available job with uniqueKey. A job that is running
// or finished, or no job at all, is left alone without an error.
func (s *Scheduler) CancelKey(ctx context.Context, tx *gorm.DB, uniqueKey string) error {
	now := s.now()
	err := s.conn(ctx, tx).Model(&store.Job{}).
		Where("unique_key = ? AND state = ?", uniqueKey, store.JobAvailable).
		Updates(map[string]any{
			"state":        store.JobCancelled,
			"finished_at":  now,
			"locked_until": nil,
		}).Error
	if err != nil {
		return fmt.Errorf("cancel job %q: %w", uniqueKey, err)
	}
	return nil
}

// conn returns tx, or the Scheduler's db when tx is nil, bound to ctx.
func (s *Scheduler) conn(ctx context.Context, tx *gorm.DB) *gorm.DB {
	if tx == nil {
		tx = s.db
	}
	return tx.WithContext(ctx)
}

// byKey reads the job with key. On MySQL it is a locking read, so that inside
// a caller's REPEATABLE READ transaction it sees the latest committed row
// (the one the unique index just reported) rather than an older snapshot.
func (s *Scheduler) byKey(db *gorm.DB, key string) (store.Job, error) {
	q := db.Where("unique_key = ?", key)
	if s.mysql {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var job store.Job
	if err := q.Take(&job).Error; err != nil {
		return store.Job{}, fmt.Errorf("read job %q: %w", key, err)
	}
	return job, nil
}

func encodePayload(p any) (string, error) {
	switch v := p.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	case json.RawMessage:
		return string(v), nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("marshal payload: %w", err)
	}
	return string(b), nil
}
