package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/go-sql-driver/mysql"
	gmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Drivers supported by Open.
const (
	DriverSQLite = "sqlite"
	DriverMySQL  = "mysql"
)

// Options tunes the connection pool.
type Options struct {
	MaxOpenConns int
	MaxIdleConns int
}

// Open connects to the database named by driver and dsn. MySQL DSNs are forced
// to utf8mb4, UTC and parsed times; SQLite gets WAL and a busy timeout.
func Open(ctx context.Context, driver, dsn string, opts Options) (*gorm.DB, error) {
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		SkipDefaultTransaction: true,
		TranslateError:         true,
	}
	var (
		db  *gorm.DB
		err error
	)
	switch driver {
	case DriverMySQL:
		cfg.Plugins = map[string]gorm.Plugin{}
		mc, perr := mysql.ParseDSN(dsn)
		if perr != nil {
			return nil, fmt.Errorf("parse mysql dsn: %w", perr)
		}
		mc.ParseTime = true
		mc.Loc = time.UTC
		if mc.Params == nil {
			mc.Params = map[string]string{}
		}
		mc.Params["time_zone"] = "'+00:00'"
		mc.Collation = "utf8mb4_unicode_ci"
		// Interpolate on the client: one round trip per statement instead of
		// prepare + execute + close (safe: the connection is utf8mb4).
		mc.InterpolateParams = true
		if mc.Timeout == 0 {
			mc.Timeout = 5 * time.Second
		}
		// Every connection runs at READ COMMITTED: no gap locks, so the
		// delivery, check-in and claim paths do not deadlock on index ranges.
		// MariaDB before 11.1 names the variable tx_isolation.
		if v, verr := isolationVariable(ctx, mc); verr != nil {
			return nil, verr
		} else if _, set := mc.Params[v]; !set {
			mc.Params[v] = "'READ-COMMITTED'"
			cfg.Plugins[readCommittedConns{}.Name()] = readCommittedConns{}
		}
		cfg.Plugins[(*batchPool)(nil).Name()] = &batchPool{mc: mc}
		db, err = gorm.Open(gmysql.New(gmysql.Config{DSNConfig: mc, DefaultStringSize: 191}), cfg)
	case DriverSQLite:
		if dsn == "" {
			return nil, errors.New("sqlite dsn is empty")
		}
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		full := dsn + sep + "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
		if !strings.Contains(dsn, ":memory:") && !strings.Contains(dsn, "mode=memory") {
			full += "&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
		}
		db, err = gorm.Open(sqlite.Open(full), cfg)
	default:
		return nil, fmt.Errorf("unknown database driver %q (want sqlite or mysql)", driver)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", driver, err)
	}
	if err := registerUTC(db); err != nil {
		return nil, fmt.Errorf("register callbacks: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", driver, err)
	}
	if driver == DriverSQLite {
		// One writer at a time; a single connection avoids SQLITE_BUSY storms.
		sqlDB.SetMaxOpenConns(1)
	} else {
		if opts.MaxOpenConns > 0 {
			sqlDB.SetMaxOpenConns(opts.MaxOpenConns)
		}
		if opts.MaxIdleConns > 0 {
			sqlDB.SetMaxIdleConns(opts.MaxIdleConns)
		}
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("ping %s: %w", driver, err)
	}
	return db, nil
}

// isolationVariable asks the server which session variable sets the
// transaction isolation level.
func isolationVariable(ctx context.Context, mc *mysql.Config) (string, error) {
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return "", fmt.Errorf("open mysql: %w", err)
	}
	probe := sql.OpenDB(conn)
	defer probe.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var level string
	err = probe.QueryRowContext(pctx, "SELECT @@transaction_isolation").Scan(&level)
	if err == nil {
		return "transaction_isolation", nil
	}
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1193 { // 1193: unknown system variable
		return "", fmt.Errorf("ping mysql: %w", err)
	}
	return "tx_isolation", nil
}

// IsMySQL reports whether db talks to MySQL or MariaDB.
func IsMySQL(db *gorm.DB) bool { return db.Dialector.Name() == "mysql" }

// Close closes the underlying connection pool (and the batch pool, when it
// was opened).
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	if p, ok := db.Config.Plugins[(*batchPool)(nil).Name()].(*batchPool); ok {
		err = p.close()
	}
	return errors.Join(sqlDB.Close(), err)
}

// IsDuplicate reports whether err is a unique-key violation.
func IsDuplicate(err error) bool { return errors.Is(err, gorm.ErrDuplicatedKey) }
