package store

import (
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
)

// batchConns is the size of the batch pool (see BatchPool): one connection
// per group-commit flusher.
const batchConns = 8

// batchPool is the lazily opened second pool of a MySQL database, kept with
// the database it belongs to (a gorm plugin entry) and closed by Close.
type batchPool struct {
	mc *mysql.Config // Open's settings; MultiStatements is set on a copy

	mu     sync.Mutex
	db     *sql.DB
	closed bool
}

// Name implements gorm.Plugin.
func (*batchPool) Name() string { return "learnloop:batch-pool" }

// Initialize implements gorm.Plugin.
func (*batchPool) Initialize(*gorm.DB) error { return nil }

// ErrNoBatchPool is BatchPool's answer on a database without one (SQLite, or
// a database not opened by Open).
var ErrNoBatchPool = errors.New("store: no batch pool on this database")

// BatchPool returns a small pool on db's MySQL database whose connections
// accept several statements in one query (BEGIN; INSERT …; COMMIT; SELECT …
// in one round trip), for the group commit of check-ins. It has the same
// settings as db's own pool (UTC, READ COMMITTED, interpolated parameters),
// is opened on first use and closed by Close(db). The main pool never
// accepts several statements: only code that builds its whole text from
// fixed SQL and placeholders uses this one.
func BatchPool(db *gorm.DB) (*sql.DB, error) {
	p, ok := db.Config.Plugins[(*batchPool)(nil).Name()].(*batchPool)
	if !ok {
		return nil, ErrNoBatchPool
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("store: batch pool: database closed")
	}
	if p.db != nil {
		return p.db, nil
	}
	mc := p.mc.Clone()
	mc.MultiStatements = true
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, fmt.Errorf("open batch pool: %w", err)
	}
	p.db = sql.OpenDB(conn)
	p.db.SetMaxOpenConns(batchConns)
	p.db.SetMaxIdleConns(batchConns)
	p.db.SetConnMaxIdleTime(time.Minute)
	p.db.SetConnMaxLifetime(30 * time.Minute)
	return p.db, nil
}

// close closes the pool if it was opened.
func (p *batchPool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.db == nil {
		return nil
	}
	return p.db.Close()
}
