package kit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Sleep waits d, or until ctx is done (its error). A d ≤ 0 does not wait.
// It is the adapters' real sleep behind their pacers and retries; tests
// swap in a virtual one.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// KeyPart keeps a platform id within a rate-limit key of the database's
// key size: an id of at most n bytes stays as it is, a longer one becomes
// "h" and 32 hex digits of its SHA-256.
func KeyPart(s string, n int) string {
	if len(s) <= n {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "h" + hex.EncodeToString(sum[:16])
}
