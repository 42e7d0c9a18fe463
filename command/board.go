package command

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/learnloop/learnloop/store"
)

// BoardPerson is one roster member on the live board with their
// check-in, if any.
type BoardPerson struct {
	EmployeeID  uint64
	ExternalID  string
	Name        string
	Department  string
	Enrollment  string
	Note        string
	Kind        string
	CheckedInAt *time.Time
	Source      string
	RecordedBy  string
}

// BoardPeople reads the live board's roster (cancelled enrollments excluded) with each
// person's check-in.
func (s *Service) BoardPeople(ctx context.Context, sessionID uint64) ([]BoardPerson, error) {
	rows, err := s.DB.WithContext(ctx).Raw(`
SELECT emp.id, emp.external_id, emp.name, COALESCE(emp.department, ''), e.status, COALESCE(e.note, ''),
  k.kind, k.checked_in_at, k.source, k.recorded_by
FROM enrollments e
JOIN employees emp ON emp.id = e.employee_id
LEFT JOIN checkins k ON k.session_id = e.session_id AND k.employee_id = e.employee_id
WHERE e.session_id = ? AND e.status <> ?`, sessionID, store.EnrollCancelled).Rows()
	if err != nil {
		return nil, fmt.Errorf("load board: %w", err)
	}
	defer rows.Close()
	var out []BoardPerson
	for rows.Next() {
		var (
			p                    BoardPerson
			kind, source, byWhom sql.NullString
			at                   store.NullTime
		)
		if err := rows.Scan(&p.EmployeeID, &p.ExternalID, &p.Name, &p.Department, &p.Enrollment, &p.Note, &kind, &at, &source, &byWhom); err != nil {
			return nil, fmt.Errorf("load board: %w", err)
		}
		p.Kind, p.Source, p.RecordedBy = kind.String, source.String, byWhom.String
		if at.Valid {
			t := at.Time
			p.CheckedInAt = &t
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load board: %w", err)
	}
	return out, nil
}

// BoardState is what the live board shows changes of: the session's
// status, its check-ins (count, newest id) and its enrollments (count, the
// sums of the excused and the cancelled ids).
type BoardState struct {
	Status                                 string
	Checkins, MaxCheckinID                 int64
	Enrolled, ExcusedIDSum, CancelledIDSum int64
}

// BoardState reads the session's BoardState in one query (the board polls
// it every few seconds).
func (s *Service) BoardState(ctx context.Context, sessionID uint64) (BoardState, error) {
	db := s.DB.WithContext(ctx)
	var st BoardState
	var sess store.Session
	if err := db.Select("id", "status").Take(&sess, sessionID).Error; err != nil {
		return st, fmt.Errorf("board state: %w", err)
	}
	st.Status = sess.Status
	row := db.Raw(`SELECT
  (SELECT COUNT(*) FROM checkins WHERE session_id = ?),
  (SELECT COALESCE(MAX(id), 0) FROM checkins WHERE session_id = ?),
  (SELECT COUNT(*) FROM enrollments WHERE session_id = ?),
  (SELECT COALESCE(SUM(CASE WHEN status = ? THEN id ELSE 0 END), 0) FROM enrollments WHERE session_id = ?),
  (SELECT COALESCE(SUM(CASE WHEN status = ? THEN id ELSE 0 END), 0) FROM enrollments WHERE session_id = ?)`,
		sessionID, sessionID, sessionID, store.EnrollExcused, sessionID, store.EnrollCancelled, sessionID).Row()
	if err := row.Scan(&st.Checkins, &st.MaxCheckinID, &st.Enrolled, &st.ExcusedIDSum, &st.CancelledIDSum); err != nil {
		return st, fmt.Errorf("board state: %w", err)
	}
	return st, nil
}
