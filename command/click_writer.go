package command

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/learnloop/learnloop/store"
)

// ClickWriter writes click batches for one goroutine (a click recorder's
// writer) over a MySQL connection of its own, on which the INSERT of each
// batch size is prepared once: the server then binds a batch's values
// instead of parsing them (the parse was about a sixth of MariaDB's CPU per
// click in a storm, bench.BenchmarkLinkRedirect). Each batch is still one
// statement, so all of its clicks are stored or none.
//
// On SQLite, or when the pool is too small to lend a connection
// (clickWriterMinPool), it writes through the pool as InsertClicks does. A
// ClickWriter is not safe for concurrent use; Close gives its connection
// back.
type ClickWriter struct {
	s  *Service
	db *sql.DB // nil: InsertClicks on the pool

	conn  *sql.Conn // nil until a batch needs it, and after an error
	taken time.Time // when conn was taken from the pool
	stmts map[int]*clickStmt
	uses  uint64 // batches written, the clock of the stmts' LRU
	args  []any  // reused for every batch
}

// clickStmt is the prepared INSERT of one batch size on a ClickWriter's
// connection and when it was last used (for the LRU).
type clickStmt struct {
	st   *sql.Stmt
	used uint64
}

// Bounds of a ClickWriter: it keeps at most clickWriterStmts prepared
// statements (MariaDB counts them against max_prepared_stmt_count, 16,382
// for the whole server by default), and gives its connection back to the
// pool after clickWriterConnAge so the pool's lifetime rules (and a
// database moved behind the same address) reach it too.
const (
	clickWriterStmts   = 32
	clickWriterConnAge = 10 * time.Minute
	clickWriterMinPool = 8
)

// NewClickWriter returns a ClickWriter on s's database.
func (s *Service) NewClickWriter() *ClickWriter {
	w := &ClickWriter{s: s}
	if !store.IsMySQL(s.DB) {
		return w
	}
	db, err := s.DB.DB()
	if err != nil {
		return w // not a plain pool (a transaction): share it
	}
	if maxOpen := db.Stats().MaxOpenConnections; maxOpen != 0 && maxOpen < clickWriterMinPool {
		return w
	}
	w.db = db
	w.stmts = make(map[int]*clickStmt)
	return w
}

// InsertClicks stores rows as Service.InsertClicks does (one INSERT per up
// to maxClicksPerInsert rows, retried on deadlocks, lock-wait timeouts and
// broken connections), with prepared statements on the writer's connection.
func (w *ClickWriter) InsertClicks(ctx context.Context, rows []store.Click) error {
	if w.db == nil {
		return w.s.InsertClicks(ctx, rows)
	}
	for len(rows) > 0 {
		n := min(len(rows), maxClicksPerInsert)
		if err := store.Retry(ctx, func() error { return w.insert(ctx, rows[:n]) }); err != nil {
			return fmt.Errorf("insert %d clicks: %w", n, err)
		}
		rows = rows[n:]
	}
	return nil
}

// insert runs the prepared INSERT of rows. After an error the server did
// not answer (a broken connection, a cancelled call) the connection and its
// statements are given up: a retry starts on a fresh connection. A refusal
// the server answered (a deadlock, a value a column will not take) leaves
// the connection as it was, so the recorder's row-by-row retry of a refused
// batch does not reconnect and prepare again for every row.
func (w *ClickWriter) insert(ctx context.Context, rows []store.Click) error {
	if w.conn != nil && time.Since(w.taken) > clickWriterConnAge {
		w.release()
	}
	if w.conn == nil {
		c, err := w.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("take a connection: %w", err)
		}
		w.conn, w.taken = c, time.Now()
	}
	st, err := w.stmt(ctx, len(rows))
	if err == nil {
		w.args = appendClickArgs(w.args[:0], rows)
		_, err = st.ExecContext(ctx, w.args...)
		clear(w.args) // keep no click alive through the reused slice
	}
	var answered *mysql.MySQLError
	if err != nil && !errors.As(err, &answered) {
		w.release()
	}
	return err
}

// stmt returns the prepared INSERT of n rows, preparing it (and closing
// the least recently used one when the writer holds clickWriterStmts).
func (w *ClickWriter) stmt(ctx context.Context, n int) (*sql.Stmt, error) {
	w.uses++
	if cs, ok := w.stmts[n]; ok {
		cs.used = w.uses
		return cs.st, nil
	}
	if len(w.stmts) >= clickWriterStmts {
		oldest := -1
		for k, cs := range w.stmts {
			if oldest < 0 || cs.used < w.stmts[oldest].used {
				oldest = k
			}
		}
		_ = w.stmts[oldest].st.Close()
		delete(w.stmts, oldest)
	}
	st, err := w.conn.PrepareContext(ctx, insertClicksSQL(n))
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	w.stmts[n] = &clickStmt{st: st, used: w.uses}
	return st, nil
}

// release closes the writer's statements and gives its connection back (a
// broken one is discarded by the pool).
func (w *ClickWriter) release() {
	for n, cs := range w.stmts {
		_ = cs.st.Close()
		delete(w.stmts, n)
	}
	if w.conn != nil {
		_ = w.conn.Close()
		w.conn = nil
	}
}

// Close gives the writer's connection back to the pool; the writer may
// still be used (it takes another).
func (w *ClickWriter) Close() error {
	if w.db != nil {
		w.release()
	}
	return nil
}

// insertClicksSQL is the INSERT of n (at least one) clicks with
// placeholders, the arguments in appendClickArgs's order.
func insertClicksSQL(n int) string {
	var b strings.Builder
	b.Grow(len(clickColumns) + n*16)
	b.WriteString(clickColumns)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?)")
	}
	return b.String()
}

// appendClickArgs appends the INSERT arguments of rows to args (times in
// UTC, as every stored time).
func appendClickArgs(args []any, rows []store.Click) []any {
	for _, c := range rows {
		args = append(args, c.DeliveryID, c.TouchpointID, c.EmployeeID, c.Target, c.UAClass, c.Platform, c.ClickedAt.UTC())
	}
	return args
}
