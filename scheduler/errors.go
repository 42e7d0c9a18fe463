package scheduler

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// cancelError is returned by Cancel.
type cancelError struct{ err error }

func (e *cancelError) Error() string {
	if e.err == nil {
		return "job cancelled"
	}
	return e.err.Error()
}

func (e *cancelError) Unwrap() error { return e.err }

// snoozeError is returned by Snooze.
type snoozeError struct{ d time.Duration }

func (e *snoozeError) Error() string { return fmt.Sprintf("job snoozed for %s", e.d) }

// Cancel wraps err so that a Handler returning it fails the job permanently,
// without further attempts. The job's last_error is err's message.
func Cancel(err error) error { return &cancelError{err: err} }

// Snooze makes a Handler's job run again after d without using an attempt.
// A d of zero or less makes it due again at once.
func Snooze(d time.Duration) error { return &snoozeError{d: max(d, 0)} }

func asCancel(err error) (*cancelError, bool) {
	var ce *cancelError
	return ce, errors.As(err, &ce)
}

func asSnooze(err error) (*snoozeError, bool) {
	var se *snoozeError
	return se, errors.As(err, &se)
}

// Backoff returns the delay before retrying after attempt (1 for the first
// failure): base*2^(attempt-1), capped at max (no cap when max <= 0). It is
// deterministic: no jitter.
func Backoff(attempt int, base, max time.Duration) time.Duration {
	if base <= 0 {
		return 0
	}
	d := base
	for i := 1; i < attempt; i++ {
		if max > 0 && d >= max {
			break
		}
		if d > math.MaxInt64/2 {
			d = math.MaxInt64
			break
		}
		d *= 2
	}
	if max > 0 && d > max {
		d = max
	}
	return d
}
