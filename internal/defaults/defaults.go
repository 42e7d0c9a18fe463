// Package defaults holds the fallbacks the services use for their optional
// Now and Logger fields, so that a zero value means the same everywhere.
package defaults

import (
	"log/slog"
	"time"
)

// Now returns now() in UTC, or the wall clock in UTC when now is nil.
func Now(now func() time.Time) time.Time {
	if now != nil {
		return now().UTC()
	}
	return time.Now().UTC()
}

// Logger returns l, or slog.Default() when l is nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}
