package kit

import (
	"context"
	"sync"
	"time"
)

// DefaultTokenTTL is assumed when a platform states no token lifetime.
const DefaultTokenTTL = 2 * time.Hour

// maxRecent is how many recent tokens a TokenCache remembers for redaction.
const maxRecent = 8

// TokenCache caches one access token. Concurrent callers share one fetch;
// a token is refreshed Margin before it expires (at most a quarter of its
// life early); Invalidate drops a token the platform refused so the next
// Get fetches anew, while a token another caller fetched meanwhile is kept.
// Recent lists the last tokens handed out, dropped ones included, for a
// Redactor.
type TokenCache struct {
	fetch  func(ctx context.Context) (string, time.Duration, error)
	now    func() time.Time
	margin time.Duration

	mu     sync.Mutex
	tok    string
	exp    time.Time
	recent []string
	flight chan struct{} // closed when the running fetch ends
}

// NewTokenCache returns a cache that gets tokens from fetch (the token and
// how long it is valid; zero: DefaultTokenTTL), refreshing them margin
// before they expire. now is the clock (nil: time.Now).
func NewTokenCache(fetch func(ctx context.Context) (string, time.Duration, error), margin time.Duration, now func() time.Time) *TokenCache {
	if now == nil {
		now = time.Now
	}
	return &TokenCache{fetch: fetch, now: now, margin: margin}
}

// Get returns a valid token, fetching one when none is cached. A caller
// waiting for another's fetch gives up when ctx ends.
func (t *TokenCache) Get(ctx context.Context) (string, error) {
	for {
		t.mu.Lock()
		if t.tok != "" && t.now().Before(t.exp) {
			tok := t.tok
			t.mu.Unlock()
			return tok, nil
		}
		if t.flight != nil {
			ch := t.flight
			t.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		ch := make(chan struct{})
		t.flight = ch
		t.mu.Unlock()

		tok, ttl, err := t.fetch(ctx)
		t.mu.Lock()
		t.flight = nil
		if err == nil {
			if ttl <= 0 {
				ttl = DefaultTokenTTL
			}
			t.tok, t.exp = tok, t.now().Add(ttl-min(t.margin, ttl/4))
			t.recent = append(t.recent, tok)
			if len(t.recent) > maxRecent {
				t.recent = t.recent[len(t.recent)-maxRecent:]
			}
		}
		t.mu.Unlock()
		close(ch)
		if err != nil {
			return "", err
		}
		return tok, nil
	}
}

// Invalidate forgets tok if it is still the cached token.
func (t *TokenCache) Invalidate(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok == tok {
		t.tok, t.exp = "", time.Time{}
	}
}

// Clear forgets the cached token whatever it is (doctor checks fetch anew).
func (t *TokenCache) Clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tok, t.exp = "", time.Time{}
}

// Recent returns the tokens handed out lately, newest last.
func (t *TokenCache) Recent() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.recent...)
}

// WithToken runs fn with a token from tc. When refused(err) says the
// platform refused the token (its token errcodes), the token is dropped and
// fn runs once more with a fresh one; a second refusal drops that token too
// and is returned.
func WithToken(ctx context.Context, tc *TokenCache, refused func(error) bool, fn func(tok string) error) error {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var tok string
		if tok, err = tc.Get(ctx); err != nil {
			return err
		}
		if err = fn(tok); err == nil || !refused(err) {
			return err
		}
		tc.Invalidate(tok)
	}
	return err
}
