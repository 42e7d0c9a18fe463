// Package storetest gives tests a fresh, migrated database of their own on
// MariaDB/MySQL or SQLite, and drops it afterwards.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
)

// DefaultMySQLDSN is used when LEARNLOOP_TEST_MYSQL_DSN is unset.
const DefaultMySQLDSN = "root@tcp(127.0.0.1:3306)/test"

// Drivers lists the databases every store-backed test runs against.
var Drivers = []string{store.DriverSQLite, store.DriverMySQL}

// DB is a test database.
type DB struct {
	*gorm.DB
	Driver string
	DSN    string
}

// Open returns a migrated database for driver that lives as long as the test.
// Outside CI a missing MySQL skips the test; with CI=true it fails it.
func Open(t testing.TB, driver string) *DB {
	t.Helper()
	ctx := context.Background()
	var dsn string
	switch driver {
	case store.DriverSQLite:
		dsn = filepath.Join(t.TempDir(), "test.db")
	case store.DriverMySQL:
		dsn = mysqlDatabase(t)
	default:
		t.Fatalf("unknown driver %q", driver)
	}
	db, err := store.Open(ctx, driver, dsn, store.Options{MaxOpenConns: 8, MaxIdleConns: 4})
	if err != nil {
		t.Fatalf("open %s test database: %v", driver, err)
	}
	t.Cleanup(func() { _ = store.Close(db) })
	if _, err := store.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate %s test database: %v", driver, err)
	}
	return &DB{DB: db, Driver: driver, DSN: dsn}
}

// Replica opens another connection pool of at most conns connections on
// db's database, as another replica of the service does; it is closed when
// the test ends.
func (db *DB) Replica(t testing.TB, conns int) *gorm.DB {
	t.Helper()
	pool, err := store.Open(context.Background(), db.Driver, db.DSN, store.Options{MaxOpenConns: conns, MaxIdleConns: conns})
	if err != nil {
		t.Fatalf("open a second %s pool: %v", db.Driver, err)
	}
	t.Cleanup(func() { _ = store.Close(pool) })
	return pool
}

// Employees returns every employee in db by external id.
func (db *DB) Employees(t testing.TB) map[string]store.Employee {
	t.Helper()
	var es []store.Employee
	if err := db.Find(&es).Error; err != nil {
		t.Fatalf("read employees: %v", err)
	}
	out := make(map[string]store.Employee, len(es))
	for _, e := range es {
		out[e.ExternalID] = e
	}
	return out
}

// mysqlDatabase creates a database with a random name and returns its DSN.
func mysqlDatabase(t testing.TB) string {
	t.Helper()
	base := os.Getenv("LEARNLOOP_TEST_MYSQL_DSN")
	if base == "" {
		base = DefaultMySQLDSN
	}
	admin, err := store.Open(context.Background(), store.DriverMySQL, base, store.Options{MaxOpenConns: 1})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("MySQL is required with CI=true: %v", err)
		}
		t.Skipf("MySQL unavailable (%v); set LEARNLOOP_TEST_MYSQL_DSN", err)
	}
	defer store.Close(admin)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "ll_test_" + hex.EncodeToString(b[:])
	if err := admin.Exec(fmt.Sprintf("CREATE DATABASE `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", name)).Error; err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		a, err := store.Open(context.Background(), store.DriverMySQL, base, store.Options{MaxOpenConns: 1})
		if err != nil {
			t.Logf("drop test database %s: %v", name, err)
			return
		}
		defer store.Close(a)
		if err := a.Exec(fmt.Sprintf("DROP DATABASE IF EXISTS `%s`", name)).Error; err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("parse LEARNLOOP_TEST_MYSQL_DSN: %v", err)
	}
	cfg.DBName = name
	return cfg.FormatDSN()
}

// Each runs f once per driver as parallel subtests, each with a fresh
// migrated database.
func Each(t *testing.T, f func(t *testing.T, db *DB)) {
	t.Helper()
	EachDriver(t, func(t *testing.T, driver string) { f(t, Open(t, driver)) })
}

// EachDriver runs f once per driver as parallel subtests named for the
// driver, for tests that build their database themselves.
func EachDriver(t *testing.T, f func(t *testing.T, driver string)) {
	t.Helper()
	for _, d := range Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f(t, d)
		})
	}
}
