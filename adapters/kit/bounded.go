package kit

import (
	"context"
	"errors"
	"fmt"
)

// errPanicked is the error of an SDK call or a callback run that panicked.
var errPanicked = errors.New("panicked")

// Bounded runs fn, a call into an SDK that takes no context (the
// alibabacloud DingTalk SDK), and returns when it returns or when ctx ends,
// whichever is first. fn must bound itself (the SDK's own timeouts): when
// ctx ends first it finishes in the background and its result is dropped.
// A panic in fn is returned as an error wrapping transient.
func Bounded(ctx context.Context, transient error, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("sdk %w: %v: %w", errPanicked, p, transient)
			}
		}()
		done <- fn()
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
