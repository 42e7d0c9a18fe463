package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
)

// MySQL error numbers that mean "the transaction lost a race, run it again".
const (
	errLockWaitTimeout = 1205
	errDeadlock        = 1213
)

// retryAttempts and the backoff bound how long Tx and Retry keep trying:
// 8 attempts with 10 ms doubling to at most 1 s (about 3.5 s in all).
const (
	retryAttempts = 8
	retryBase     = 10 * time.Millisecond
	retryMax      = time.Second
)

// IsRetryable reports whether err is a transient database error after which
// running the same transaction again is correct: a MySQL deadlock (1213) or
// lock-wait timeout (1205), a connection the driver found broken before the
// statement ran, or SQLite's "database is locked".
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == errDeadlock || me.Number == errLockWaitTimeout
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY")
}

// Tx runs fn in a transaction at READ COMMITTED (on MySQL; SQLite has one
// writer) and runs it again, with capped backoff, when it fails with an error
// IsRetryable accepts. fn must therefore be safe to run more than once: it
// sees a fresh transaction each time and must not keep state from a failed
// attempt. The last error is returned wrapped.
func Tx(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	var opts []*sql.TxOptions
	// A database Open connected at READ COMMITTED needs no per-transaction
	// SET TRANSACTION (one round trip less per transaction).
	if IsMySQL(db) && !ConnsReadCommitted(db) {
		opts = append(opts, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	}
	return Retry(ctx, func() error {
		return db.WithContext(ctx).Transaction(fn, opts...)
	})
}

// Retry runs fn until it succeeds, fails with an error IsRetryable refuses,
// ctx is done or the attempts are spent. Use it for single statements that
// are idempotent; use Tx for transactions.
func Retry(ctx context.Context, fn func() error) error {
	delay := retryBase
	var err error
	for attempt := 1; ; attempt++ {
		err = fn()
		if err == nil || !IsRetryable(err) {
			return err
		}
		if attempt >= retryAttempts {
			return fmt.Errorf("after %d attempts: %w", attempt, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (retry stopped: %w)", err, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, retryMax)
	}
}

// Detached returns a context for recording an outcome that already happened
// (a message the platform accepted, a tap the user made) even when ctx is
// being cancelled by a shutdown: it keeps ctx's values, drops its
// cancellation and gives the write d to finish.
func Detached(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

// ConnsReadCommitted reports whether every connection of db (and of its
// BatchPool) was set to READ COMMITTED by Open, so that a transaction needs
// no SET TRANSACTION of its own.
func ConnsReadCommitted(db *gorm.DB) bool {
	_, rc := db.Config.Plugins[readCommittedConns{}.Name()]
	return rc
}

// readCommittedConns marks a database whose every connection Open set to
// READ COMMITTED (the DSN named no isolation of its own): Tx then begins its
// transactions without setting the level again.
type readCommittedConns struct{}

// Name implements gorm.Plugin.
func (readCommittedConns) Name() string { return "learnloop:read-committed-connections" }

// Initialize implements gorm.Plugin.
func (readCommittedConns) Initialize(*gorm.DB) error { return nil }
