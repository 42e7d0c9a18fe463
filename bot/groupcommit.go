package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
)

// Group commit of check-ins. A storm of taps (300 people pressing 签到 at
// 09:00) is written as a few multi-row INSERTs instead of one statement and
// one commit per tap. Each tap still answers only after its own row is
// committed: the caller blocks until the batch that carries it is durable.
//
// Leadership passes from request to request: a tap that arrives while fewer
// than maxFlushes batches are being written writes the queue itself; taps
// arriving meanwhile queue up and the next batch is handed to the first of
// them. At low load every tap is its own batch (no added latency); under load
// batches grow by themselves.
const (
	maxFlushes   = 4   // batches written at once
	maxBatchRows = 256 // rows per INSERT
)

// pendingCheckin is one tap waiting for its batch.
type pendingCheckin struct {
	ci          store.Checkin
	sessUpdated time.Time // the session version the windows were computed from

	lead chan []*pendingCheckin // receives a batch to write, when handed leadership
	done chan struct{}
	// outcome, valid after done: stored (ours), duplicate (someone else's
	// row, in stored), or fallback (guard refused: take the full path).
	stored   store.Checkin
	inserted bool
	fallback bool
	err      error
}

type groupCommit struct {
	mu     sync.Mutex
	queue  []*pendingCheckin
	active int
}

// do queues p and returns once it is settled.
func (g *groupCommit) do(p *pendingCheckin, flush func([]*pendingCheckin)) {
	p.lead = make(chan []*pendingCheckin, 1)
	p.done = make(chan struct{})
	g.mu.Lock()
	g.queue = append(g.queue, p)
	if g.active < maxFlushes {
		g.active++
		batch := g.take()
		g.mu.Unlock()
		g.run(batch, flush)
	} else {
		g.mu.Unlock()
	}
	for {
		select {
		case <-p.done:
			return
		case batch := <-p.lead:
			g.run(batch, flush)
		}
	}
}

// take removes up to maxBatchRows requests from the queue; g.mu is held.
func (g *groupCommit) take() []*pendingCheckin {
	n := min(len(g.queue), maxBatchRows)
	batch := append([]*pendingCheckin(nil), g.queue[:n]...)
	g.queue = g.queue[n:]
	return batch
}

// run writes batch, then hands the next one to a waiting request (or gives
// the flush slot back when nobody waits).
func (g *groupCommit) run(batch []*pendingCheckin, flush func([]*pendingCheckin)) {
	flush(batch)
	for _, p := range batch {
		close(p.done)
	}
	g.mu.Lock()
	if len(g.queue) == 0 {
		g.active--
		g.mu.Unlock()
		return
	}
	next := g.take()
	g.mu.Unlock()
	next[0].lead <- next
}

// flushCheckins writes a batch in one INSERT … SELECT guarded per row by the
// enrollment (invited) and the session version the windows came from, its
// webhook outbox rows in the same transaction, then reads back what is
// stored for each attendee. A row the guard refused (excused, cancelled,
// not enrolled, session edited since) is marked fallback: its caller takes
// the full path, which re-reads everything.
//
// The batch costs five round trips (BEGIN, the INSERT, the outbox INSERT,
// COMMIT, the read back): which rows this batch inserted is told by the
// INSERT's own result, not by a read before it. The first id the INSERT generated (LAST_INSERT_ID of the statement)
// is above every row that existed before it, so a stored row below it is a
// duplicate however alike the two taps were (a clock standing still gives
// both the same instant).
func flushCheckins(db *gorm.DB, batch []*pendingCheckin) {
	ctx, cancel := store.Detached(context.Background(), writeTimeout)
	defer cancel()
	type key struct{ s, e uint64 }
	first := make(map[key]*pendingCheckin, len(batch))
	rows := make([]*pendingCheckin, 0, len(batch))
	for _, p := range batch {
		k := key{p.ci.SessionID, p.ci.EmployeeID}
		if _, dup := first[k]; !dup {
			first[k] = p
			rows = append(rows, p)
		}
	}
	var in strings.Builder
	keyArgs := make([]any, 0, 2*len(rows)+1)
	var sql strings.Builder
	args := make([]any, 0, len(rows)*15)
	sql.WriteString("INSERT INTO checkins (session_id, employee_id, kind, source, platform, delivery_id, checked_in_at, recorded_by, note, created_at) SELECT * FROM (")
	for i, p := range rows {
		if i > 0 {
			in.WriteString(", ")
			sql.WriteString(" UNION ALL ")
		}
		in.WriteString("(?, ?)")
		keyArgs = append(keyArgs, p.ci.SessionID, p.ci.EmployeeID)
		sql.WriteString("SELECT ? AS session_id, ? AS employee_id, ? AS kind, ? AS source, ? AS platform, ? AS delivery_id, ? AS checked_in_at, ? AS recorded_by, ? AS note, ? AS created_at" +
			" FROM enrollments JOIN sessions ON sessions.id = enrollments.session_id" +
			" WHERE enrollments.session_id = ? AND enrollments.employee_id = ? AND enrollments.status = ? AND sessions.status <> ? AND sessions.updated_at = ?")
		c := p.ci
		args = append(args, c.SessionID, c.EmployeeID, c.Kind, c.Source, c.Platform, c.DeliveryID, c.CheckedInAt, c.RecordedBy, c.Note, c.CreatedAt,
			c.SessionID, c.EmployeeID, store.EnrollInvited, store.SessionCancelled, p.sessUpdated)
	}
	// The no-op update names a column other than the id: updating the
	// AUTO_INCREMENT column would make the statement report the existing
	// row's id as its first generated one.
	sql.WriteString(") AS v ON DUPLICATE KEY UPDATE checkins.session_id = checkins.session_id")
	keys := "(session_id, employee_id) IN (" + in.String() + ")"
	var firstID uint64 // first id this batch's INSERT generated; 0: it inserted none
	err := store.Tx(ctx, db, func(tx *gorm.DB) error {
		firstID = 0
		res, err := tx.Statement.ConnPool.ExecContext(ctx, sql.String(), args...)
		if err != nil {
			return err
		}
		inserted, err := res.RowsAffected()
		if err != nil || inserted == 0 {
			return err
		}
		last, err := res.LastInsertId()
		if err != nil {
			return err
		}
		firstID = uint64(last)
		// The outbox rows of the webhooks (checkin.created) commit with the
		// check-ins: the rows at or above firstID are this batch's (a row
		// of the same keys written meanwhile elsewhere would only repeat
		// its event, which the outbox's unique key absorbs).
		return store.RecordEventsFrom(tx, store.EventCheckin, rows[0].ci.CreatedAt,
			"SELECT id AS ref_id, checked_in_at AS occurred_at FROM checkins WHERE "+keys+" AND id >= ?", append(keyArgs, firstID)...)
	})
	if err != nil {
		for _, p := range batch {
			p.err = fmt.Errorf("store check-in: %w", err)
		}
		return
	}
	var stored []store.Checkin
	if err := store.Retry(ctx, func() error {
		stored = stored[:0]
		return db.WithContext(ctx).Where(keys, keyArgs...).Find(&stored).Error
	}); err != nil {
		for _, p := range batch {
			p.err = fmt.Errorf("load check-in: %w", err)
		}
		return
	}
	got := make(map[key]store.Checkin, len(stored))
	for _, c := range stored {
		got[key{c.SessionID, c.EmployeeID}] = c
	}
	for _, p := range batch {
		k := key{p.ci.SessionID, p.ci.EmployeeID}
		c, ok := got[k]
		switch {
		case !ok:
			p.fallback = true
		case first[k] == p && firstID != 0 && c.ID >= firstID && sameCheckin(c, p.ci):
			// Written by this batch (another replica writing the same
			// person in the same instant, source and kind is told apart
			// only by its delivery: either answer is then true).
			p.stored, p.inserted = c, true
		default:
			p.stored = c
		}
	}
}

// sameCheckin reports whether stored is the row built as ours.
func sameCheckin(stored, ours store.Checkin) bool {
	return stored.CheckedInAt.Equal(ours.CheckedInAt) && stored.Source == ours.Source && stored.Kind == ours.Kind &&
		(stored.DeliveryID == nil) == (ours.DeliveryID == nil) && (ours.DeliveryID == nil || *stored.DeliveryID == *ours.DeliveryID)
}
