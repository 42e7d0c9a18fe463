package web

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/learnloop/learnloop/store"
)

// ClickRecorder stores clicks with group commit: concurrent clicks are
// written in one INSERT, and each request returns only after its click is
// committed, so no acknowledged click is ever lost.
type ClickRecorder struct {
	st   ClickStore
	log  *slog.Logger
	in   chan pendingClick
	max  int
	wg   sync.WaitGroup
	once sync.Once
	stop chan struct{}
	// anon caches, per touchpoint, whether it pushes an anonymous survey.
	anon sync.Map
}

type pendingClick struct {
	c    store.Click
	done chan error
}

// ClickStore is where a ClickRecorder writes (*command.Service is one).
type ClickStore interface {
	// InsertClicks stores rows in one INSERT, retrying what may be retried.
	InsertClicks(ctx context.Context, rows []store.Click) error
	// TouchpointAnonymous reports whether the touchpoint pushes an
	// anonymous survey.
	TouchpointAnonymous(ctx context.Context, touchpointID uint64) (bool, error)
}

// ErrRecorderClosed is returned by Record after Close.
var ErrRecorderClosed = errors.New("click recorder closed")

// NewClickRecorder starts a recorder writing batches of up to max clicks.
func NewClickRecorder(st ClickStore, log *slog.Logger) *ClickRecorder {
	r := &ClickRecorder{st: st, log: log, in: make(chan pendingClick, 4096), max: 256, stop: make(chan struct{})}
	// A few writers, so one batch's commit does not hold up the next.
	for range 3 {
		r.wg.Add(1)
		go r.loop()
	}
	return r
}

// Record stores c and returns once it is committed.
func (r *ClickRecorder) Record(ctx context.Context, c store.Click) error {
	p := pendingClick{c: c, done: make(chan error, 1)}
	select {
	case <-r.stop:
		return ErrRecorderClosed
	case r.in <- p:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		// The click may still be committed; the caller reports failure.
		return ctx.Err()
	}
}

// Close stops accepting clicks and writes those already queued.
func (r *ClickRecorder) Close() {
	r.once.Do(func() { close(r.stop) })
	r.wg.Wait()
}

func (r *ClickRecorder) loop() {
	defer r.wg.Done()
	batch := make([]pendingClick, 0, r.max)
	for {
		select {
		case p := <-r.in:
			batch = append(batch[:0], p)
		case <-r.stop:
			// Drain what is queued, then exit.
			for {
				select {
				case p := <-r.in:
					r.flush([]pendingClick{p})
				default:
					return
				}
			}
		}
		// Take whatever else is already waiting, without waiting for more:
		// while this batch is written the other writers' queues fill, so
		// batches grow with the load and a lone click is written at once.
	gather:
		for len(batch) < r.max {
			select {
			case p := <-r.in:
				batch = append(batch, p)
			default:
				break gather
			}
		}
		r.flush(batch)
	}
}

func (r *ClickRecorder) flush(batch []pendingClick) {
	rows := make([]store.Click, len(batch))
	for i, p := range batch {
		rows[i] = p.c
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// One INSERT of the batch, retried on deadlocks, lock-wait timeouts and
	// broken connections.
	err := r.st.InsertClicks(ctx, rows)
	if err != nil && r.log != nil {
		r.log.Error("store clicks", "n", len(rows), "err", err)
	}
	for _, p := range batch {
		p.done <- err
	}
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
// or desktop.
func UAClass(ua string) string {
	l := strings.ToLower(ua)
	switch {
	case strings.Contains(l, "wxwork"), strings.Contains(l, "micromessenger"), strings.Contains(l, "dingtalk"),
		strings.Contains(l, "lark"), strings.Contains(l, "feishu"):
		return "in_app"
	case strings.Contains(l, "mobile"), strings.Contains(l, "android"), strings.Contains(l, "iphone"), strings.Contains(l, "ipad"):
		return "mobile"
	case l == "":
		return "unknown"
	default:
		return "desktop"
	}
}
