package kit_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/bot"
)

func TestDedupJoinsAndRemembers(t *testing.T) {
	t.Parallel()
	d := kit.NewDedup[string](time.Minute, 100, nil)
	var runs atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	shared := make([]bool, 5)
	for i := range 5 {
		wg.Go(func() {
			v, sh, err := d.Do(context.Background(), "k", func() (string, error) {
				runs.Add(1)
				<-release
				return "ok", nil
			})
			require.NoError(t, err)
			require.Equal(t, "ok", v)
			shared[i] = sh
		})
	}
	require.Eventually(t, func() bool { return runs.Load() == 1 }, time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	require.EqualValues(t, 1, runs.Load(), "concurrent redeliveries join the first run")
	n := 0
	for _, s := range shared {
		if !s {
			n++
		}
	}
	require.Equal(t, 1, n, "exactly one caller ran")
	v, sh, err := d.Do(context.Background(), "k", func() (string, error) { return "again", nil })
	require.NoError(t, err)
	require.True(t, sh)
	require.Equal(t, "ok", v, "a later redelivery gets the first answer")
}

func TestDedupForgetsFailures(t *testing.T) {
	t.Parallel()
	d := kit.NewDedup[string](time.Minute, 100, nil)
	release := make(chan struct{})
	started := make(chan struct{})
	boom := errors.New("database is down")
	var first struct {
		v   string
		err error
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		first.v, _, first.err = d.Do(context.Background(), "e", func() (string, error) {
			close(started)
			<-release
			return "tap again", boom
		})
	}()
	<-started
	waited := make(chan error, 1)
	go func() {
		_, sh, err := d.Do(context.Background(), "e", func() (string, error) { panic("must not run") })
		require.True(t, sh)
		waited <- err
	}()
	time.Sleep(20 * time.Millisecond)
	close(release)
	<-done
	require.ErrorIs(t, first.err, boom)
	require.Equal(t, "tap again", first.v, "the failing run's own answer is returned to its caller")
	require.ErrorIs(t, <-waited, boom, "a caller that waited shares the failure")
	require.Zero(t, d.Len(), "a failed run is forgotten")
	v, sh, err := d.Do(context.Background(), "e", func() (string, error) { return "stored", nil })
	require.NoError(t, err)
	require.False(t, sh, "the next retry runs afresh")
	require.Equal(t, "stored", v)
}

func TestDedupWaitHonoursContext(t *testing.T) {
	t.Parallel()
	d := kit.NewDedup[int](time.Minute, 10, nil)
	release := make(chan struct{})
	defer close(release)
	go func() { _, _, _ = d.Do(context.Background(), "k", func() (int, error) { <-release; return 1, nil }) }()
	require.Eventually(t, func() bool { return d.Len() == 1 }, time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, sh, err := d.Do(ctx, "k", func() (int, error) { return 2, nil })
	require.True(t, sh)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestDedupBoundedAndExpires(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	d := kit.NewDedup[int](time.Minute, 3, clock)
	for i := range 10 {
		_, _, _ = d.Do(context.Background(), strconv.Itoa(i), func() (int, error) { return i, nil })
	}
	require.Equal(t, 3, d.Len(), "the oldest are dropped")
	v, sh, _ := d.Do(context.Background(), "9", func() (int, error) { return -1, nil })
	require.True(t, sh)
	require.Equal(t, 9, v)
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	v, sh, _ = d.Do(context.Background(), "9", func() (int, error) { return -1, nil })
	require.False(t, sh, "past the TTL the key is new")
	require.Equal(t, -1, v)
}

func TestDedupPanicForgets(t *testing.T) {
	t.Parallel()
	d := kit.NewDedup[int](time.Minute, 10, nil)
	require.Panics(t, func() {
		_, _, _ = d.Do(context.Background(), "p", func() (int, error) { panic("sdk bug") })
	})
	require.Zero(t, d.Len())
	v, sh, err := d.Do(context.Background(), "p", func() (int, error) { return 7, nil })
	require.NoError(t, err)
	require.False(t, sh)
	require.Equal(t, 7, v)
}

// tokenServer hands out numbered tokens and counts fetches.
type tokenServer struct {
	mu      sync.Mutex
	n       int
	ttl     time.Duration
	err     error
	release chan struct{}
}

func (s *tokenServer) fetch(context.Context) (string, time.Duration, error) {
	if s.release != nil {
		<-s.release
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", 0, s.err
	}
	s.n++
	return "tok-" + strconv.Itoa(s.n), s.ttl, nil
}

func (s *tokenServer) fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func TestTokenCache(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	srv := &tokenServer{ttl: 2 * time.Hour, release: make(chan struct{})}
	tc := kit.NewTokenCache(srv.fetch, 5*time.Minute, clock)
	ctx := context.Background()

	// A burst after expiry costs one fetch.
	var wg sync.WaitGroup
	toks := make([]string, 8)
	for i := range toks {
		wg.Go(func() {
			tok, err := tc.Get(ctx)
			require.NoError(t, err)
			toks[i] = tok
		})
	}
	time.Sleep(20 * time.Millisecond)
	close(srv.release)
	wg.Wait()
	require.Equal(t, 1, srv.fetches())
	for _, tok := range toks {
		require.Equal(t, "tok-1", tok)
	}

	// Refreshed Margin before expiry.
	advance(2*time.Hour - 6*time.Minute)
	tok, _ := tc.Get(ctx)
	require.Equal(t, "tok-1", tok)
	advance(2 * time.Minute)
	tok, _ = tc.Get(ctx)
	require.Equal(t, "tok-2", tok)

	// Invalidate drops only the refused token.
	tc.Invalidate("tok-1")
	tok, _ = tc.Get(ctx)
	require.Equal(t, "tok-2", tok, "a token fetched meanwhile is kept")
	tc.Invalidate("tok-2")
	tok, _ = tc.Get(ctx)
	require.Equal(t, "tok-3", tok)
	require.Equal(t, []string{"tok-1", "tok-2", "tok-3"}, tc.Recent(), "dropped tokens are still redacted")

	// A failed fetch caches nothing.
	tc.Clear()
	srv.mu.Lock()
	srv.err = errors.New("gettoken: 40001")
	srv.mu.Unlock()
	_, err := tc.Get(ctx)
	require.Error(t, err)
}

func TestWithToken(t *testing.T) {
	t.Parallel()
	errRefused := errors.New("token refused")
	refused := func(err error) bool { return errors.Is(err, errRefused) }
	cases := []struct {
		name    string
		answers []error // per attempt
		calls   int
		fetches int
		wantErr error
	}{
		{"accepted", []error{nil}, 1, 1, nil},
		{"other error is not retried", []error{errors.New("invalid user")}, 1, 1, nil},
		{"refused once, fresh token works", []error{errRefused, nil}, 2, 2, nil},
		{"refused twice", []error{errRefused, errRefused}, 2, 2, errRefused},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := &tokenServer{}
			cache := kit.NewTokenCache(srv.fetch, time.Minute, nil)
			var used []string
			err := kit.WithToken(context.Background(), cache, refused, func(tok string) error {
				used = append(used, tok)
				return tc.answers[len(used)-1]
			})
			require.Len(t, used, tc.calls)
			require.Equal(t, tc.fetches, srv.fetches())
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else if tc.answers[len(used)-1] == nil {
				require.NoError(t, err)
			}
			if tc.calls == 2 {
				require.NotEqual(t, used[0], used[1], "the retry uses a fresh token")
			}
		})
	}
}

func TestRedactor(t *testing.T) {
	t.Parallel()
	srv := &tokenServer{}
	tc := kit.NewTokenCache(srv.fetch, time.Minute, nil)
	tok, err := tc.Get(context.Background())
	require.NoError(t, err)
	r := kit.NewRedactor("app-secret-0123", "", "ab").Track(tc.Recent)
	cases := []struct{ in, want string }{
		{"GET https://x/cgi-bin/gettoken?corpid=ww1&corpsecret=abc&x=1 failed", "GET https://x/cgi-bin/gettoken?corpid=ww1&corpsecret=REDACTED&x=1 failed"},
		{`{"url":"/gettoken?appkey=k&appsecret=s3"}`, `{"url":"/gettoken?appkey=k&appsecret=REDACTED"}`},
		{`Post "https://x/send?access_token=` + tok + `": EOF`, `Post "https://x/send?access_token=REDACTED": EOF`},
		{"token " + tok + " and secret app-secret-0123 rejected", "token REDACTED and secret REDACTED rejected"},
		{"ab stays: too short to be a secret", "ab stays: too short to be a secret"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, r.String(c.in))
	}

	u, _ := url.Parse("https://oapi.example.com/gettoken?appsecret=app-secret-0123")
	base := &url.Error{Op: "Get", URL: u.String(), Err: context.DeadlineExceeded}
	err = r.Error(fmt.Errorf("gettoken: %w", base))
	require.NotContains(t, err.Error(), "app-secret-0123")
	require.ErrorIs(t, err, context.DeadlineExceeded, "a timeout stays a timeout")
	var ue *url.Error
	require.False(t, errors.As(err, &ue), "the original error (with its URL) cannot be reached")
	require.Nil(t, r.Error(nil))

	long := r.Error(errors.New(string(make([]byte, 1000))))
	require.LessOrEqual(t, len(long.Error()), kit.MaxErrorLen+len("…"))
}

func TestBounded(t *testing.T) {
	t.Parallel()
	errTransient := errors.New("temporary failure")
	require.NoError(t, kit.Bounded(context.Background(), errTransient, func() error { return nil }))
	err := kit.Bounded(context.Background(), errTransient, func() error { panic("sdk bug") })
	require.ErrorIs(t, err, errTransient, "a panic is a transient failure")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	release := make(chan struct{})
	defer close(release)
	start := time.Now()
	err = kit.Bounded(ctx, errTransient, func() error { <-release; return nil })
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), time.Second, "a call without a context still ends with ctx")
}

// counter counts what adapters report.
type counter struct {
	bot.InteractionHandlerFunc
	updates, storage int
	lastErr          error
}

func (c *counter) CardUpdated(_ bot.Platform, err error) { c.updates++; c.lastErr = err }

func (c *counter) CallbackStorageError(bot.Platform, string) { c.storage++ }

func TestCounts(t *testing.T) {
	t.Parallel()
	c := &counter{}
	kit.CountUpdate(c, bot.PlatformWeCom, nil)
	kit.CountUpdate(c, bot.PlatformWeCom, errors.New("x"))
	kit.CountStorageError(c, bot.PlatformFeishu, bot.ActionCheckin)
	require.Equal(t, 2, c.updates)
	require.Error(t, c.lastErr)
	require.Equal(t, 1, c.storage)
	// A handler that counts nothing is fine.
	kit.CountUpdate(bot.InteractionHandlerFunc(nil), bot.PlatformWeCom, nil)
}
