package bot

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
)

// Group commit of check-ins. A storm of taps (300 people pressing 签到 at
// 09:00) is written as a few multi-row INSERTs instead of one statement and
// one commit per tap. Each tap still answers only after its own row is
// committed: the caller blocks until the batch that carries it is durable.
//
// Leadership passes from request to request: a tap that arrives while no
// batch is being written writes the queue itself (a lone tap waits for
// nobody); taps arriving meanwhile queue up and the next batch is handed to
// the first of them when the running one is durable. Another batch is
// written beside the running ones only once parallelFrom taps are queued, up
// to maxFlushes at once: a batch's cost is mostly fixed (its round trip, the
// commit's log flush, the statements), so under load few large batches store
// more per second, for less of the database's CPU per tap, than many small
// ones.
const (
	maxFlushes   = 4   // batches written at once (8 measured worse: smaller batches, more commits)
	parallelFrom = 64  // queued taps that start another batch beside the running ones
	maxBatchRows = 256 // rows per INSERT
)

// pendingCheckin is one tap waiting for its batch.
type pendingCheckin struct {
	ci          store.Checkin
	sessUpdated time.Time // the session version the windows were computed from

	// wake receives a batch to write when the request is handed
	// leadership, and nil once its own batch is settled. Each request is in
	// one batch and leads at most the one it is first of, which it receives
	// before it writes it, so the buffer of one never fills.
	wake chan []*pendingCheckin
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

	// counters of GroupCommitStats
	batches, rows, flushNanos, waitNanos atomic.Int64
}

// GroupCommitStats counts the batches of the check-in group commit since
// the Checkins was made (the storm benchmarks print them).
type GroupCommitStats struct {
	// Batches is the number of batches written, Rows the taps they carried.
	Batches, Rows int64
	// Flush is the summed time of the batches' writes (round trip, commit,
	// read back).
	Flush time.Duration
	// Wait is the summed time of the taps from queueing to the commit of
	// their batch (Flush included).
	Wait time.Duration
}

// GroupCommitStats returns the group commit's counters.
func (c *Checkins) GroupCommitStats() GroupCommitStats {
	g := &c.group
	return GroupCommitStats{Batches: g.batches.Load(), Rows: g.rows.Load(), Flush: time.Duration(g.flushNanos.Load()), Wait: time.Duration(g.waitNanos.Load())}
}

// do queues p and returns once it is settled.
func (g *groupCommit) do(p *pendingCheckin, flush func([]*pendingCheckin)) {
	p.wake = make(chan []*pendingCheckin, 1)
	queued := time.Now()
	defer func() { g.waitNanos.Add(int64(time.Since(queued))) }()
	g.mu.Lock()
	g.queue = append(g.queue, p)
	if g.active == 0 || (g.active < maxFlushes && len(g.queue) >= parallelFrom) {
		g.active++
		batch := g.take()
		g.mu.Unlock()
		g.run(batch, flush)
	} else {
		g.mu.Unlock()
	}
	for {
		batch := <-p.wake
		if batch == nil {
			return
		}
		g.run(batch, flush)
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
	t0 := time.Now()
	flush(batch)
	g.flushNanos.Add(int64(time.Since(t0)))
	g.batches.Add(1)
	g.rows.Add(int64(len(batch)))
	for _, p := range batch {
		p.wake <- nil
	}
	g.mu.Lock()
	if len(g.queue) == 0 {
		g.active--
		g.mu.Unlock()
		return
	}
	next := g.take()
	g.mu.Unlock()
	next[0].wake <- next
}

// flushCheckins writes a batch in one INSERT … SELECT guarded by the
// enrollment (invited) and the session version the windows came from, its
// webhook outbox rows in the same transaction, then reads back what is
// stored for each attendee. A row the guard refused (excused, cancelled,
// not enrolled, session edited since) is marked fallback: its caller takes
// the full path, which re-reads everything.
//
// Which rows this batch inserted is told by the INSERT itself, not by a read
// before it: the first id it generated (LAST_INSERT_ID, when ROW_COUNT is
// not 0) is above every row that existed before it, so a stored row below it
// is a duplicate however alike the two taps were (a clock standing still
// gives both the same instant).
//
// On the batch pool (store.BatchPool) the whole batch — BEGIN, the INSERT,
// the outbox INSERT, COMMIT and the read back — is one round trip; without
// it (a database Open did not make) it is five, through store.Tx.
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
	w := newCheckinBatch(rows)
	var (
		stored []storedCheckin
		err    error
	)
	if pool, perr := store.BatchPool(db); perr == nil {
		stored, err = w.oneTrip(ctx, pool, store.ConnsReadCommitted(db))
	} else {
		stored, err = w.viaTx(ctx, db)
	}
	if err != nil {
		for _, p := range batch {
			p.err = fmt.Errorf("store check-in: %w", err)
		}
		return
	}
	got := make(map[key]storedCheckin, len(stored))
	for _, c := range stored {
		got[key{c.SessionID, c.EmployeeID}] = c
	}
	for _, p := range batch {
		k := key{p.ci.SessionID, p.ci.EmployeeID}
		c, ok := got[k]
		switch {
		case !ok:
			p.fallback = true
		case first[k] == p && c.ours && sameCheckin(c.Checkin, p.ci):
			// Written by this batch (another replica writing the same
			// person in the same instant, source and kind is told apart
			// only by its delivery: either answer is then true).
			p.stored, p.inserted = c.Checkin, true
		default:
			p.stored = c.Checkin
		}
	}
}

// storedCheckin is a row read back after a batch; ours: this batch's INSERT
// wrote it.
type storedCheckin struct {
	store.Checkin
	ours bool
}

// checkinBatch is the SQL of one batch.
type checkinBatch struct {
	insert     string // the guarded INSERT … SELECT
	insertArgs []any
	keys       string // "(session_id, employee_id) IN (…)"
	keyArgs    []any
	createdAt  time.Time
}

// newCheckinBatch builds the batch's SQL. The guard is one join for the
// whole batch: the rows are a derived table of constants joined once to
// enrollments (by its unique key) and sessions, not a guarded SELECT block
// per row, which MariaDB parsed and optimised one by one (about twice the
// batch's time at 25 rows and more).
func newCheckinBatch(rows []*pendingCheckin) checkinBatch {
	var in, sql strings.Builder
	b := checkinBatch{keyArgs: make([]any, 0, 2*len(rows)), insertArgs: make([]any, 0, len(rows)*11+2), createdAt: rows[0].ci.CreatedAt}
	sql.WriteString("INSERT INTO checkins (session_id, employee_id, kind, source, platform, delivery_id, checked_in_at, recorded_by, note, created_at)" +
		" SELECT v.session_id, v.employee_id, v.kind, v.source, v.platform, v.delivery_id, v.checked_in_at, v.recorded_by, v.note, v.created_at FROM (")
	for i, p := range rows {
		if i == 0 {
			sql.WriteString("SELECT ? AS session_id, ? AS employee_id, ? AS kind, ? AS source, ? AS platform, CAST(? AS UNSIGNED) AS delivery_id, CAST(? AS DATETIME(3)) AS checked_in_at, ? AS recorded_by, ? AS note, CAST(? AS DATETIME(3)) AS created_at, CAST(? AS DATETIME(3)) AS sess_updated")
		} else {
			in.WriteString(", ")
			sql.WriteString(" UNION ALL SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?")
		}
		in.WriteString("(?, ?)")
		b.keyArgs = append(b.keyArgs, p.ci.SessionID, p.ci.EmployeeID)
		c := p.ci
		b.insertArgs = append(b.insertArgs, c.SessionID, c.EmployeeID, c.Kind, c.Source, c.Platform, c.DeliveryID, c.CheckedInAt, c.RecordedBy, c.Note, c.CreatedAt, p.sessUpdated)
	}
	sql.WriteString(") AS v JOIN enrollments ON enrollments.session_id = v.session_id AND enrollments.employee_id = v.employee_id" +
		" JOIN sessions ON sessions.id = v.session_id" +
		" WHERE enrollments.status = ? AND sessions.status <> ? AND sessions.updated_at = v.sess_updated" +
		" ON DUPLICATE KEY UPDATE checkins.session_id = checkins.session_id")
	b.insertArgs = append(b.insertArgs, store.EnrollInvited, store.SessionCancelled)
	b.insert = sql.String()
	b.keys = "(session_id, employee_id) IN (" + in.String() + ")"
	return b
}

// events is the outbox INSERT of the webhooks (checkin.created) for the rows
// at or above firstSQL, an SQL expression of the batch's first id (a row of
// the same keys written meanwhile elsewhere would only repeat its event,
// which the outbox's unique key absorbs).
func (b checkinBatch) events(firstSQL string, firstArgs ...any) (string, []any, error) {
	return store.EventsFromSQL(true, store.EventCheckin, b.createdAt,
		"SELECT id AS ref_id, checked_in_at AS occurred_at FROM checkins WHERE "+b.keys+" AND id >= "+firstSQL, append(slices.Clone(b.keyArgs), firstArgs...)...)
}

const checkinColumns = "id, session_id, employee_id, kind, source, platform, delivery_id, checked_in_at, recorded_by, note, created_at"

// oneTrip runs the batch as one multi-statement query on pool; rc: its
// connections are at READ COMMITTED already (no SET TRANSACTION needed).
func (b checkinBatch) oneTrip(ctx context.Context, pool *sql.DB, rc bool) ([]storedCheckin, error) {
	events, eventArgs, err := b.events("@ll_first")
	if err != nil {
		return nil, err
	}
	q := "START TRANSACTION; " + b.insert +
		"; SET @ll_first = IF(ROW_COUNT() > 0, LAST_INSERT_ID(), NULL); " + events +
		"; COMMIT; SELECT COALESCE(id >= @ll_first, 0), " + checkinColumns + " FROM checkins WHERE " + b.keys
	if !rc {
		q = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; " + q
	}
	args := make([]any, 0, len(b.insertArgs)+len(eventArgs)+len(b.keyArgs))
	args = append(append(append(args, b.insertArgs...), eventArgs...), b.keyArgs...)
	var out []storedCheckin
	err = store.Retry(ctx, func() error {
		out = out[:0]
		conn, err := pool.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if err := b.readOneTrip(ctx, conn, q, args, &out); err != nil {
			// A statement that failed leaves its transaction open (a
			// deadlock has rolled it back already): end it before the
			// connection goes back to the pool, or drop the connection.
			if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
			return err
		}
		return nil
	})
	return out, err
}

func (b checkinBatch) readOneTrip(ctx context.Context, conn *sql.Conn, q string, args []any, out *[]storedCheckin) error {
	rs, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	// The statements before the SELECT answer no rows: the driver skips
	// them (and fails the query at the first that failed).
	if cols, err := rs.Columns(); err != nil || len(cols) != 12 {
		return fmt.Errorf("check-in batch: the read back has %d columns (%w)", len(cols), err)
	}
	// One set of scan targets for all rows (Scan needs their addresses,
	// which would put a fresh set on the heap for every row).
	var (
		c                          storedCheckin
		platform, recordedBy, note sql.NullString
		delivery                   sql.Null[uint64]
		created                    sql.NullTime
	)
	for rs.Next() {
		c = storedCheckin{}
		if err := rs.Scan(&c.ours, &c.ID, &c.SessionID, &c.EmployeeID, &c.Kind, &c.Source, &platform, &delivery, &c.CheckedInAt, &recordedBy, &note, &created); err != nil {
			return err
		}
		c.Platform, c.RecordedBy, c.Note = platform.String, recordedBy.String, note.String
		if delivery.Valid {
			id := delivery.V
			c.DeliveryID = &id
		}
		if created.Valid {
			c.CreatedAt = created.Time
		}
		*out = append(*out, c)
	}
	return rs.Err()
}

// viaTx runs the batch through store.Tx and reads back after it.
func (b checkinBatch) viaTx(ctx context.Context, db *gorm.DB) ([]storedCheckin, error) {
	var firstID uint64 // first id the INSERT generated; 0: it inserted none
	err := store.Tx(ctx, db, func(tx *gorm.DB) error {
		firstID = 0
		res, err := tx.Statement.ConnPool.ExecContext(ctx, b.insert, b.insertArgs...)
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
		events, args, err := b.events("?", firstID)
		if err != nil {
			return err
		}
		return tx.Exec(events, args...).Error
	})
	if err != nil {
		return nil, err
	}
	var rows []store.Checkin
	if err := store.Retry(ctx, func() error {
		rows = rows[:0]
		return db.WithContext(ctx).Where(b.keys, b.keyArgs...).Find(&rows).Error
	}); err != nil {
		return nil, fmt.Errorf("load check-in: %w", err)
	}
	out := make([]storedCheckin, len(rows))
	for i, c := range rows {
		out[i] = storedCheckin{Checkin: c, ours: firstID != 0 && c.ID >= firstID}
	}
	return out, nil
}

// sameCheckin reports whether stored is the row built as ours.
func sameCheckin(stored, ours store.Checkin) bool {
	return stored.CheckedInAt.Equal(ours.CheckedInAt) && stored.Source == ours.Source && stored.Kind == ours.Kind &&
		(stored.DeliveryID == nil) == (ours.DeliveryID == nil) && (ours.DeliveryID == nil || *stored.DeliveryID == *ours.DeliveryID)
}
