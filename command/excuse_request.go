package command

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
)

// JobExcuseDecision is the durable job that tells an employee the
// coordinator's decision on their excuse request (bot/chat sends it through
// the normal Messenger). Its unique key is the request and the decision.
const JobExcuseDecision = "chat.excuse_decision"

// ErrDecided: the excuse request was approved or rejected already.
var ErrDecided = fmt.Errorf("the excuse request is already decided: %w", ErrConflict)

// ExcuseRequestRow is one excuse request asked in chat (请假), with who.
type ExcuseRequestRow struct {
	Request  store.ExcuseRequest
	Employee store.Employee
}

// ExcuseRequests lists a session's excuse requests, pending first, then by
// time; the actor must see the session.
func (s *Service) ExcuseRequests(ctx context.Context, a Actor, sessionID uint64) ([]ExcuseRequestRow, error) {
	if err := s.sessionFor(ctx, a, sessionID); err != nil {
		return nil, err
	}
	var reqs []store.ExcuseRequest
	if err := s.DB.WithContext(ctx).Where("session_id = ?", sessionID).Order("created_at, id").Find(&reqs).Error; err != nil {
		return nil, fmt.Errorf("load excuse requests: %w", err)
	}
	ids := make([]uint64, 0, len(reqs))
	for _, r := range reqs {
		ids = append(ids, r.EmployeeID)
	}
	byID := map[uint64]store.Employee{}
	if len(ids) > 0 {
		var es []store.Employee
		if err := s.DB.WithContext(ctx).Where("id IN ?", ids).Find(&es).Error; err != nil {
			return nil, fmt.Errorf("load excuse requesters: %w", err)
		}
		for _, e := range es {
			byID[e.ID] = e
		}
	}
	out := make([]ExcuseRequestRow, 0, len(reqs))
	for _, st := range []bool{true, false} {
		for _, r := range reqs {
			if (r.Status == store.ExcusePending) == st {
				out = append(out, ExcuseRequestRow{Request: r, Employee: byID[r.EmployeeID]})
			}
		}
	}
	return out, nil
}

// DecideExcuseRequest approves (the person is excused, with the reason as
// the note, through Excuse) or rejects pending excuse request requestID of
// session sessionID, which the actor may change (a request of another
// session is ErrNotFound), writes its audit row and queues the
// message that tells the employee (JobExcuseDecision, in the same
// transaction). A decided request gives ErrDecided; nothing changes.
func (s *Service) DecideExcuseRequest(ctx context.Context, a Actor, sessionID, requestID uint64, approve bool) (store.ExcuseRequest, error) {
	var req store.ExcuseRequest
	if err := take(ctx, s.DB, &req, requestID, "excuse request"); err != nil {
		return req, err
	}
	if req.SessionID != sessionID {
		return store.ExcuseRequest{}, fmt.Errorf("excuse request %d of session %d does not exist: %w", requestID, sessionID, ErrNotFound)
	}
	if _, err := s.openSession(ctx, a, req.SessionID); err != nil {
		return req, err
	}
	if req.Status != store.ExcusePending {
		return req, fmt.Errorf("excuse request %d: %w", req.ID, ErrDecided)
	}
	status := store.ExcuseRejected
	if approve {
		status = store.ExcuseApproved
		note := "请假：" + req.Reason
		if req.Reason == "" {
			note = "请假"
		}
		if _, err := s.Excuse(ctx, a, req.SessionID, Person{EmployeeID: req.EmployeeID}, cut.Runes(note, 255)); err != nil {
			return req, err
		}
	}
	now := s.now()
	err := store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		r := tx.Model(&store.ExcuseRequest{}).Where("id = ? AND status = ?", req.ID, store.ExcusePending).
			Updates(map[string]any{"status": status, "decided_by": a.Name, "decided_at": now, "updated_at": now})
		if r.Error != nil {
			return fmt.Errorf("decide excuse request: %w", r.Error)
		}
		if r.RowsAffected == 0 {
			return fmt.Errorf("excuse request %d: %w", req.ID, ErrDecided)
		}
		if err := s.audit(tx, a, "excuse_request."+status, fmt.Sprintf("session:%d", req.SessionID),
			map[string]any{"request": req.ID, "employee_id": req.EmployeeID}); err != nil {
			return err
		}
		if s.Planner == nil || s.Planner.Sched == nil {
			return nil
		}
		_, _, err := s.Planner.Sched.Enqueue(ctx, tx, scheduler.JobSpec{Kind: JobExcuseDecision,
			UniqueKey: fmt.Sprintf("%s:%d:%s", JobExcuseDecision, req.ID, status), Payload: map[string]uint64{"request": req.ID}})
		return err
	})
	if errors.Is(err, ErrDecided) {
		return req, err
	}
	if err != nil {
		return req, fmt.Errorf("decide excuse request %d: %w", req.ID, err)
	}
	req.Status, req.DecidedBy, req.DecidedAt = status, a.Name, &now
	return req, nil
}
