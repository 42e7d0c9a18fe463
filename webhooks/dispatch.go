package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
)

// JobDispatch is the one durable job that fans events out and sends them.
// It has a fixed unique key, so every replica shares it: it snoozes itself
// between runs, survives restarts (a dead holder's lease runs out and
// another replica takes it) and is re-armed when an endpoint is created.
const JobDispatch = "webhooks.dispatch"

// Batch sizes of one dispatch run.
const (
	fanOutBatch = 500
	sendBatch   = 100
)

// ensureJob (re)arms the dispatch job to run now, in tx.
func (s *Service) ensureJob(ctx context.Context, tx *gorm.DB) error {
	if s.sched == nil {
		return nil
	}
	_, _, err := s.sched.Enqueue(ctx, tx, scheduler.JobSpec{Kind: JobDispatch, UniqueKey: JobDispatch, Replace: true, MaxAttempts: 1000})
	if err != nil {
		return fmt.Errorf("arm webhook dispatch: %w", err)
	}
	return nil
}

// EnsureJob arms the dispatch job when an endpoint exists (serve calls it
// at start; every replica may).
func (s *Service) EnsureJob(ctx context.Context) error {
	var n int64
	if err := s.db.WithContext(ctx).Model(&store.WebhookEndpoint{}).Count(&n).Error; err != nil {
		return fmt.Errorf("count webhooks: %w", err)
	}
	if n == 0 {
		return nil
	}
	return s.ensureJob(ctx, nil)
}

// Handler is the scheduler handler of JobDispatch: it fans out and sends
// until nothing is due, then snoozes for the poll interval; with no endpoint
// left it completes (creating one re-arms it). A database error is logged
// and retried after the poll interval: the job never gives up.
func (s *Service) Handler() scheduler.Handler {
	return func(ctx context.Context, _ store.Job) error {
		more, err := s.RunOnce(ctx)
		if ctx.Err() != nil {
			return ctx.Err() // shutdown or lost lease: the job is handed back
		}
		if err != nil {
			s.log.Error("webhook dispatch", "err", err)
			return scheduler.Snooze(s.opts.PollInterval)
		}
		if !more {
			return nil
		}
		return scheduler.Snooze(s.opts.PollInterval)
	}
}

// RunOnce fans out the new events and sends every delivery that is due.
// more is false when there is no endpoint and nothing pending.
func (s *Service) RunOnce(ctx context.Context) (more bool, err error) {
	for {
		n, err := s.fanOut(ctx)
		if err != nil {
			return true, err
		}
		if n < fanOutBatch {
			break
		}
	}
	for ctx.Err() == nil {
		n, err := s.sendDue(ctx)
		if err != nil {
			return true, err
		}
		if n < sendBatch {
			break
		}
	}
	if err := s.prune(ctx); err != nil {
		return true, err
	}
	db := s.db.WithContext(ctx)
	var endpoints, pending int64
	if err := db.Model(&store.WebhookEndpoint{}).Count(&endpoints).Error; err != nil {
		return true, fmt.Errorf("count webhooks: %w", err)
	}
	if err := db.Model(&store.WebhookDelivery{}).Where("status = ?", store.WebhookPending).Count(&pending).Error; err != nil {
		return true, fmt.Errorf("count pending webhook deliveries: %w", err)
	}
	return endpoints > 0 || pending > 0, nil
}

// pruneBatch caps the rows one prune statement deletes; pruneEvery is how
// often a process prunes.
const (
	pruneBatch = 1000
	pruneEvery = 10 * time.Minute
)

// prune deletes what is older than Retention: settled deliveries with their
// attempts, then fanned-out events no delivery refers to (with no endpoint
// the outbox would otherwise only grow). Each statement deletes a batch of
// ids, so no long lock is held.
func (s *Service) prune(ctx context.Context) error {
	now := s.clock()
	if last := s.pruned.Load(); last != 0 && now.Sub(time.UnixMilli(last)) < pruneEvery {
		return nil
	}
	s.pruned.Store(now.UnixMilli())
	cutoff := now.Add(-s.opts.Retention)
	db := s.db.WithContext(ctx)
	for {
		var ids []uint64
		if err := db.Model(&store.WebhookDelivery{}).Where("status <> ? AND updated_at < ?", store.WebhookPending, cutoff).
			Order("id").Limit(pruneBatch).Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("prune webhook deliveries: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		err := store.Tx(ctx, s.db, func(tx *gorm.DB) error {
			if err := tx.Where("delivery_id IN ?", ids).Delete(&store.WebhookAttempt{}).Error; err != nil {
				return err
			}
			return tx.Where("id IN ? AND status <> ?", ids, store.WebhookPending).Delete(&store.WebhookDelivery{}).Error
		})
		if err != nil {
			return fmt.Errorf("prune webhook deliveries: %w", err)
		}
		if len(ids) < pruneBatch {
			break
		}
	}
	for {
		var ids []uint64
		if err := db.Model(&store.WebhookEvent{}).Where("fanned_out = ? AND created_at < ?", true, cutoff).
			Where("NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)").
			Order("id").Limit(pruneBatch).Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("prune webhook events: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		err := store.Retry(ctx, func() error {
			return db.Where("id IN ?", ids).Where("NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)").Delete(&store.WebhookEvent{}).Error
		})
		if err != nil {
			return fmt.Errorf("prune webhook events: %w", err)
		}
		if len(ids) < pruneBatch {
			return nil
		}
	}
}

// fanOut turns up to fanOutBatch new events into one delivery per enabled
// endpoint that follows the type (and existed when the event was recorded),
// and marks them fanned out, in one transaction.
func (s *Service) fanOut(ctx context.Context) (int, error) {
	var n int
	err := store.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var evs []store.WebhookEvent
		if err := tx.Where("fanned_out = ?", false).Order("id").Limit(fanOutBatch).Find(&evs).Error; err != nil {
			return err
		}
		n = len(evs)
		if n == 0 {
			return nil
		}
		var eps []store.WebhookEndpoint
		if err := tx.Where("enabled = ?", true).Find(&eps).Error; err != nil {
			return err
		}
		now := s.clock()
		var rows []store.WebhookDelivery
		ids := make([]uint64, n)
		for i, ev := range evs {
			ids[i] = ev.ID
			for _, ep := range eps {
				if follows(ep.Events, ev.Type) && !ev.CreatedAt.Before(ep.CreatedAt.Truncate(time.Second)) {
					rows = append(rows, store.WebhookDelivery{EndpointID: ep.ID, EventID: ev.ID, Status: store.WebhookPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now})
				}
			}
		}
		if len(rows) > 0 {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&rows, 500).Error; err != nil {
				return err
			}
		}
		return tx.Model(&store.WebhookEvent{}).Where("id IN ?", ids).Update("fanned_out", true).Error
	})
	if err != nil {
		return 0, fmt.Errorf("fan out webhook events: %w", err)
	}
	return n, nil
}

// sendDue posts up to sendBatch due deliveries, Concurrency at a time, and
// records each attempt. Once ctx is done no new POST starts; those started
// finish (bounded by Timeout) and are recorded.
func (s *Service) sendDue(ctx context.Context) (int, error) {
	db := s.db.WithContext(ctx)
	now := s.clock()
	var ds []store.WebhookDelivery
	if err := db.Where("status = ? AND next_attempt_at <= ?", store.WebhookPending, now).Order("next_attempt_at, id").Limit(sendBatch).Find(&ds).Error; err != nil {
		return 0, fmt.Errorf("load due webhook deliveries: %w", err)
	}
	if len(ds) == 0 {
		return 0, nil
	}
	epIDs, evIDs := []uint64{}, []uint64{}
	for _, d := range ds {
		epIDs, evIDs = append(epIDs, d.EndpointID), append(evIDs, d.EventID)
	}
	var eps []store.WebhookEndpoint
	if err := db.Where("id IN ?", epIDs).Find(&eps).Error; err != nil {
		return 0, fmt.Errorf("load webhooks: %w", err)
	}
	endpoints := map[uint64]store.WebhookEndpoint{}
	for _, e := range eps {
		endpoints[e.ID] = e
	}
	var evs []store.WebhookEvent
	if err := db.Where("id IN ?", evIDs).Find(&evs).Error; err != nil {
		return 0, fmt.Errorf("load webhook events: %w", err)
	}
	bodies, err := s.payloads(ctx, evs)
	if err != nil {
		return 0, err
	}
	sem := make(chan struct{}, s.opts.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for _, d := range ds {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.attempt(ctx, d, endpoints[d.EndpointID], bodies[d.EventID]); err != nil {
				mu.Lock()
				firstErr = cmpErr(firstErr, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return len(ds), firstErr
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// Attempt outcomes in the log.
const (
	outcomeSucceeded = "succeeded"
	outcomeRetry     = "retry"
	outcomeFailed    = "failed"
)

// maxAttemptError is how many bytes of a failed attempt's error the log
// keeps (webhook_attempts.error).
const maxAttemptError = 1000

// attempt posts one delivery and records the attempt and the delivery's new
// state in one transaction, a compare-and-set on its attempts so that two
// holders of the job (one that lost its lease) count an attempt once.
func (s *Service) attempt(ctx context.Context, d store.WebhookDelivery, ep store.WebhookEndpoint, body []byte) error {
	rec := store.WebhookAttempt{DeliveryID: d.ID, EndpointID: d.EndpointID, Attempt: d.Attempts + 1}
	upd := map[string]any{"attempts": d.Attempts + 1}
	var code int
	var sendErr error
	start := s.now()
	rec.StartedAt = start.UTC().Truncate(time.Millisecond)
	switch {
	case ep.ID == 0 || !ep.Enabled:
		sendErr = errors.New("endpoint disabled or deleted")
	case body == nil:
		sendErr = errors.New("event payload missing")
	default:
		code, sendErr = s.post(ctx, ep, d, body)
	}
	rec.LatencyMS = s.now().Sub(start).Milliseconds()
	rec.StatusCode = code
	now := s.clock()
	upd["last_status"], upd["updated_at"] = code, now
	permanent := ep.ID == 0 || !ep.Enabled || body == nil
	switch {
	case sendErr == nil:
		rec.Outcome = outcomeSucceeded
		upd["status"], upd["delivered_at"], upd["last_error"] = store.WebhookSucceeded, now, ""
	case permanent || d.Attempts+1 >= s.opts.MaxAttempts:
		rec.Outcome, rec.Error = outcomeFailed, cut.Bytes(sendErr.Error(), maxAttemptError)
		upd["status"], upd["last_error"] = store.WebhookFailed, rec.Error
	default:
		rec.Outcome, rec.Error = outcomeRetry, cut.Bytes(sendErr.Error(), maxAttemptError)
		upd["last_error"] = rec.Error
		upd["next_attempt_at"] = now.Add(scheduler.Backoff(d.Attempts+1, s.opts.BackoffBase, s.opts.BackoffMax))
	}
	// What was sent is recorded even when the job is being stopped.
	wctx, cancel := store.Detached(ctx, 10*time.Second)
	defer cancel()
	err := store.Tx(wctx, s.db, func(tx *gorm.DB) error {
		res := tx.Model(&store.WebhookDelivery{}).Where("id = ? AND attempts = ? AND status = ?", d.ID, d.Attempts, store.WebhookPending).Updates(upd)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error // someone else recorded this attempt
		}
		rec.ID = 0
		return tx.Create(&rec).Error
	})
	if err != nil {
		return fmt.Errorf("record webhook attempt of delivery %d: %w", d.ID, err)
	}
	if sendErr != nil {
		s.log.Warn("webhook attempt failed", "endpoint", ep.ID, "delivery", d.ID, "attempt", rec.Attempt, "status", code, "outcome", rec.Outcome, "err", rec.Error)
	}
	return nil
}

// post sends body to the endpoint, signed; a 2xx answer is success.
func (s *Service) post(ctx context.Context, ep store.WebhookEndpoint, d store.WebhookDelivery, body []byte) (int, error) {
	secret, err := s.seal.open(ep.Secret)
	if err != nil {
		return 0, err
	}
	red := kit.NewRedactor(string(secret))
	if _, err := checkURL(ep.URL, s.opts.AllowPrivate); err != nil {
		return 0, fmt.Errorf("url: %w", err)
	}
	// A started POST finishes even if the job is being stopped; it is
	// bounded by the client's timeout.
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New(red.String(err.Error()))
	}
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	_ = json.Unmarshal(body, &ev)
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "learnloop-webhooks/1")
	h.Set("X-Learnloop-Event", ev.Type)
	h.Set("X-Learnloop-Event-Id", ev.ID)
	h.Set("X-Learnloop-Delivery", strconv.FormatUint(d.ID, 10))
	h.Set(SignatureHeader, Sign(secret, s.now(), body))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, errors.New(red.String(err.Error()))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("receiver answered %d: %s", resp.StatusCode, red.String(string(bytes.TrimSpace(snippet))))
	}
	return resp.StatusCode, nil
}
