package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
)

// JobKind is the scheduler job that runs one platform's scheduled sync.
const JobKind = "directory.sync"

// Schedule runs syncs on a cron spec as durable scheduler jobs: one job per
// platform and slot, unique key "directory:<platform>:<slot unix>", so
// several replicas enqueueing the same slot make one job and one run.
type Schedule struct {
	Syncer  *Syncer
	Sched   *scheduler.Scheduler
	Sources map[string]Source
	// Cron is the spec (config directory.sync_cron); Loc the zone it is
	// read in.
	Cron string
	Loc  *time.Location
	Now  func() time.Time
}

type jobPayload struct {
	Platform string `json:"platform"`
	Slot     int64  `json:"slot"`
}

// SlotKey is the unique key of platform's job for the slot at.
func SlotKey(platform string, at time.Time) string {
	return "directory:" + platform + ":" + strconv.FormatInt(at.UTC().Unix(), 10)
}

// Register adds the job handler to the scheduler.
func (s *Schedule) Register() { s.Sched.Register(JobKind, s.run) }

// EnsureNext enqueues each platform's next slot (idempotent: an existing
// job for the slot is left alone).
func (s *Schedule) EnsureNext(ctx context.Context) error {
	if s.Cron == "" {
		return nil
	}
	next, err := scheduler.NextCron(s.Cron, s.Loc, s.Now())
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range Platforms {
		if s.Sources[p] == nil {
			continue
		}
		errs = append(errs, s.enqueue(ctx, p, next))
	}
	return errors.Join(errs...)
}

func (s *Schedule) enqueue(ctx context.Context, p string, at time.Time) error {
	_, _, err := s.Sched.Enqueue(ctx, nil, scheduler.JobSpec{Kind: JobKind, UniqueKey: SlotKey(p, at), RunAt: at,
		Payload: jobPayload{Platform: p, Slot: at.UTC().Unix()}, MaxAttempts: 3})
	if err != nil {
		return fmt.Errorf("schedule %s directory sync: %w", p, err)
	}
	return nil
}

func (s *Schedule) run(ctx context.Context, job store.Job) error {
	var pl jobPayload
	if err := json.Unmarshal([]byte(job.Payload), &pl); err != nil {
		return scheduler.Cancel(fmt.Errorf("directory sync job %d: bad payload: %w", job.ID, err))
	}
	src := s.Sources[pl.Platform]
	if src == nil {
		return scheduler.Cancel(fmt.Errorf("directory sync job %d: platform %q is not configured", job.ID, pl.Platform))
	}
	// The next slot first, so a failing run never breaks the chain.
	if s.Cron != "" {
		next, err := scheduler.NextCron(s.Cron, s.Loc, time.Unix(pl.Slot, 0))
		if err != nil {
			return scheduler.Cancel(err)
		}
		if err := s.enqueue(ctx, pl.Platform, next); err != nil {
			return err
		}
	}
	_, err := s.Syncer.Sync(ctx, src, RunOptions{Trigger: "schedule"})
	return err
}
