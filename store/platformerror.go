package store

import "github.com/learnloop/learnloop/internal/cut"

// Sizes of the columns that keep a platform's error (deliveries,
// calendar_events).
const (
	MaxErrorCode    = 64
	MaxErrorMessage = 1000
)

// PlatformError returns a platform's error code and text as the tables that
// keep them store them: made valid UTF-8 and cut (internal/cut) to MaxErrorCode and
// MaxErrorMessage characters. A wrong or hostile platform may answer
// anything, and MySQL in strict mode refuses a value that is too long or
// not UTF-8 — which would fail the whole UPDATE that settles a chunk of
// deliveries with it.
func PlatformError(code, msg string) (string, string) {
	return cut.Runes(code, MaxErrorCode), cut.Runes(msg, MaxErrorMessage)
}
