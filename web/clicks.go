package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/store"
)

// ClickRecorder stores clicks with group commit: the clicks that arrive
// while its writers are busy are written together in one INSERT, and each
// Record returns only after the INSERT holding its click has committed (or
// failed: then its error is the click's), so no acknowledged click is ever
// lost. A batch the database refuses for good (not a deadlock or a broken
// connection, which the INSERT retries) is written again row by row, so one
// row it refuses fails only its own click, not the others beside it.
type ClickRecorder struct {
	st  ClickStore
	log *slog.Logger
	max int

	// soloUpTo is the largest open batch that waits for the busy writers
	// rather than waking an idle one (see next).
	soloUpTo int

	mu       sync.Mutex
	wake     *sync.Cond    // a batch is ready for an idle writer, or the recorder closed
	full     []*clickBatch // batches that reached max, oldest first
	open     *clickBatch   // the batch new clicks join; nil when none
	idle     int           // writers waiting on wake
	flushing int           // writers writing a batch
	closed   bool
	wg       sync.WaitGroup
	once     sync.Once

	// anon caches, per touchpoint, whether it pushes an anonymous survey.
	anon sync.Map

	batches, written atomic.Int64 // INSERTs committed and their clicks (Stats)
}

// clickBatch is the clicks written by one INSERT; done is closed once err
// (or, after a row-by-row retry, each row's rowErrs) is set.
type clickBatch struct {
	rows    []store.Click
	err     error
	rowErrs []error
	done    chan struct{}
}

// errOf is the outcome of the batch's i-th click, once done is closed.
func (b *clickBatch) errOf(i int) error {
	if b.rowErrs != nil {
		return b.rowErrs[i]
	}
	return b.err
}

// ClickStore is where a ClickRecorder writes (*command.Service is one).
type ClickStore interface {
	// InsertClicks stores rows in one INSERT (all or none), retrying what
	// may be retried.
	InsertClicks(ctx context.Context, rows []store.Click) error
	// TouchpointAnonymous reports whether the touchpoint pushes an
	// anonymous survey.
	TouchpointAnonymous(ctx context.Context, touchpointID uint64) (bool, error)
}

// clickWriterStore is a ClickStore that gives each of the recorder's
// writers a ClickWriter of its own (*command.Service: a connection with
// prepared INSERTs); a writer of any other store calls its InsertClicks.
type clickWriterStore interface {
	NewClickWriter() *command.ClickWriter
}

// ErrRecorderClosed is returned by Record after Close.
var ErrRecorderClosed = errors.New("click recorder closed")

// Click recorder defaults (measured with bench.BenchmarkLinkRedirect, see
// bench/README.md): an INSERT costs MariaDB about as much CPU as 20 of its
// rows, so fewer, larger batches leave more of the machine to the requests;
// but each click waits on its batch's commit, so INSERTs side by side hide
// that latency. A lone click or a trickle is one writer's; while one or two
// writers are busy another starts only on a batch of more than
// clickSoloUpTo clicks. At 100 clients the batches are ≈ 37 clicks. In
// stop 23, with the policies rotated round by round in one process at
// load 1–3, both orders: three writers from 41 clicks on gave a median
// ratio of 0.60 over 12 rounds against 0.56 from 33 on, which in turn gave
// 0.586 over 30 rounds against 0.547 for two writers from 17 on (stop 22's
// setting); from 49 or 57 on was worse (0.51–0.57), and the p99 stayed at
// 14–17 ms throughout.
const (
	clickWriters  = 3
	clickMaxBatch = 256
	clickSoloUpTo = 40
)

// NewClickRecorder starts a recorder writing batches of up to 256 clicks:
// while one INSERT commits, the next batch gathers (see clickWriters).
func NewClickRecorder(st ClickStore, log *slog.Logger) *ClickRecorder {
	return newClickRecorder(st, log, clickWriters, clickMaxBatch)
}

func newClickRecorder(st ClickStore, log *slog.Logger, writers, maxBatch int) *ClickRecorder {
	r := &ClickRecorder{st: st, log: log, max: maxBatch, soloUpTo: min(clickSoloUpTo, maxBatch)}
	r.wake = sync.NewCond(&r.mu)
	for range writers {
		r.wg.Add(1)
		go r.loop()
	}
	return r
}

// Record stores c and returns once it is committed. An error means c may
// not be stored: the caller must not answer as if it were.
func (r *ClickRecorder) Record(ctx context.Context, c store.Click) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrRecorderClosed
	}
	b := r.open
	if b == nil {
		b = &clickBatch{rows: make([]store.Click, 0, 16), done: make(chan struct{})}
		r.open = b
	}
	i := len(b.rows)
	b.rows = append(b.rows, c)
	if len(b.rows) >= r.max {
		r.full = append(r.full, b)
		r.open = nil
	}
	if r.idle > 0 && r.ready() {
		r.wake.Signal()
	}
	r.mu.Unlock()
	select {
	case <-b.done:
		return b.errOf(i)
	case <-ctx.Done():
		// The click may still be committed; the caller reports failure.
		return ctx.Err()
	}
}

// Close stops accepting clicks and writes those already queued.
func (r *ClickRecorder) Close() {
	r.once.Do(func() {
		r.mu.Lock()
		r.closed = true
		r.wake.Broadcast()
		r.mu.Unlock()
	})
	r.wg.Wait()
}

// ready reports whether an idle writer should take a batch now: a full
// one, or the open one when no writer is busy (a lone click is written at
// once) or when it has outgrown what one writer should gather. Called with
// mu held.
func (r *ClickRecorder) ready() bool {
	return len(r.full) > 0 || (r.open != nil && (r.flushing == 0 || len(r.open.rows) > r.soloUpTo || r.closed))
}

// next waits until a batch is ready and takes it: the oldest full one, else
// the open one (everything that arrived while the writers were busy, so
// batches grow with the load). It returns nil once the recorder is closed
// and nothing is left. done reports the writer's previous batch as written.
func (r *ClickRecorder) next(done bool) *clickBatch {
	r.mu.Lock()
	defer r.mu.Unlock()
	if done {
		r.flushing--
	}
	for !r.ready() {
		if r.closed && r.open == nil {
			return nil
		}
		r.idle++
		r.wake.Wait()
		r.idle--
	}
	r.flushing++
	if len(r.full) > 0 {
		b := r.full[0]
		r.full[0] = nil
		r.full = r.full[1:]
		return b
	}
	b := r.open
	r.open = nil
	return b
}

func (r *ClickRecorder) loop() {
	defer r.wg.Done()
	insert := r.st.InsertClicks
	if ws, ok := r.st.(clickWriterStore); ok {
		w := ws.NewClickWriter()
		defer w.Close()
		insert = w.InsertClicks
	}
	for b := r.next(false); b != nil; b = r.next(true) {
		r.flush(b, insert)
	}
}

func (r *ClickRecorder) flush(b *clickBatch, insert func(context.Context, []store.Click) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer close(b.done)
	// One INSERT of the batch, retried on deadlocks, lock-wait timeouts and
	// broken connections.
	b.err = insert(ctx, b.rows)
	if b.err == nil {
		r.batches.Add(1)
		r.written.Add(int64(len(b.rows)))
		return
	}
	if r.log != nil {
		r.log.Error("store clicks", "n", len(b.rows), "err", b.err)
	}
	if len(b.rows) == 1 || store.IsRetryable(b.err) || ctx.Err() != nil {
		return // the database or the time is gone, not one row: all fail
	}
	// Refused for good: a row of it (a value its column will not take)
	// must not fail the clicks beside it.
	b.rowErrs = make([]error, len(b.rows))
	for i := range b.rows {
		if b.rowErrs[i] = insert(ctx, b.rows[i:i+1]); b.rowErrs[i] == nil {
			r.batches.Add(1)
			r.written.Add(1)
		}
	}
}

// Stats reports how many batches (INSERTs) the recorder has committed and
// how many clicks they held: their quotient is the mean batch size.
func (r *ClickRecorder) Stats() (batches, clicks int64) {
	return r.batches.Load(), r.written.Load()
}

// Anonymize returns the click to store for c: c itself, or — when c's
// touchpoint pushes an anonymous survey — c without anything that leads to a
// person: no employee, no delivery, and a target without the signed form
// token (which names the delivery). The touchpoint, platform, user-agent class
// and time stay, so clicks are still counted.
func (r *ClickRecorder) Anonymize(ctx context.Context, c store.Click) (store.Click, error) {
	anon, ok := r.anon.Load(c.TouchpointID)
	if !ok {
		a, err := r.st.TouchpointAnonymous(ctx, c.TouchpointID)
		if err != nil {
			return c, err
		}
		// A survey's anonymity is fixed when it is created: safe to keep.
		r.anon.Store(c.TouchpointID, a)
		anon = a
	}
	if !anon.(bool) {
		return c, nil
	}
	c.DeliveryID, c.EmployeeID = 0, 0
	c.Target = anonymousTarget(c.Target)
	return c, nil
}

// anonymousTarget keeps scheme, host and the first path segment of a target
// ("https://host/s/"), dropping the token and query.
func anonymousTarget(target string) string {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return ""
	}
	first := strings.SplitN(strings.TrimPrefix(u.Path, "/"), "/", 2)[0]
	out := u.Scheme + "://" + u.Host + "/"
	if first != "" {
		out += first + "/"
	}
	return out
}

// UAClass classifies a user agent as in_app (a chat app's webview), mobile
// or desktop, ignoring case. An ASCII user agent (all of them in practice)
// is lowered into a buffer on the stack: no allocation per click.
func UAClass(ua string) string {
	if ua == "" {
		return "unknown"
	}
	var buf [512]byte
	if len(ua) > len(buf) || !isASCII(ua) {
		return uaClass([]byte(strings.ToLower(ua)))
	}
	l := buf[:len(ua)]
	for i := range len(ua) {
		c := ua[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		l[i] = c
	}
	return uaClass(l)
}

// uaClass is UAClass of the lowered, non-empty user agent l.
func uaClass(l []byte) string {
	has := func(s string) bool { return bytes.Contains(l, []byte(s)) }
	switch {
	case has("wxwork"), has("micromessenger"), has("dingtalk"), has("lark"), has("feishu"):
		return "in_app"
	case has("mobile"), has("android"), has("iphone"), has("ipad"):
		return "mobile"
	default:
		return "desktop"
	}
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
