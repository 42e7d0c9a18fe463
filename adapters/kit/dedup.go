package kit

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Dedup runs a callback's work once per key (an event id, a hash of the
// callback): a redelivery that arrives while the first run is in flight
// waits for it and shares its result, and one that arrives later gets the
// remembered result without running again. A run that fails is forgotten
// as soon as it ends, so that the platform's next retry runs afresh; the
// callers that waited on it share its failure. It is per process and
// bounded (ttl, max entries, oldest dropped first): the state it protects
// is idempotent in the database, so forgetting costs a second call, never
// a second record.
type Dedup[V any] struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*list.Element
	order   *list.List // of *dedupEntry[V], oldest first
}

type dedupEntry[V any] struct {
	key  string
	at   time.Time
	done chan struct{}
	val  V
	err  error
}

// NewDedup returns a Dedup that remembers results for ttl, at most max of
// them; now is the clock (nil: time.Now).
func NewDedup[V any](ttl time.Duration, max int, now func() time.Time) *Dedup[V] {
	if now == nil {
		now = time.Now
	}
	return &Dedup[V]{ttl: ttl, max: max, now: now, entries: map[string]*list.Element{}, order: list.New()}
}

// Do returns fn's result for key. It runs fn unless a run for key is in
// flight or remembered; shared reports that the result is another run's.
// ctx bounds only the wait for a run in flight (ctx.Err() when it ends
// first); fn itself is not given ctx, so that a run outlives a caller that
// gave up. When fn fails the key is forgotten, and val is still what fn
// returned (the first caller may answer with it).
func (d *Dedup[V]) Do(ctx context.Context, key string, fn func() (V, error)) (val V, shared bool, err error) {
	now := d.now()
	d.mu.Lock()
	d.expire(now)
	if el, ok := d.entries[key]; ok {
		e := el.Value.(*dedupEntry[V])
		d.mu.Unlock()
		select {
		case <-e.done:
			return e.val, true, e.err
		case <-ctx.Done():
			var zero V
			return zero, true, ctx.Err()
		}
	}
	e := &dedupEntry[V]{key: key, at: now, done: make(chan struct{})}
	d.entries[key] = d.order.PushBack(e)
	for d.order.Len() > d.max {
		d.remove(d.order.Front())
	}
	d.mu.Unlock()

	finished := false
	defer func() {
		if !finished { // fn panicked: forget the key and let waiters go
			e.err = errPanicked
			d.forget(e)
			close(e.done)
		}
	}()
	e.val, e.err = fn()
	finished = true
	if e.err != nil {
		d.forget(e)
	}
	close(e.done)
	return e.val, false, e.err
}

// Len reports how many keys are remembered or in flight.
func (d *Dedup[V]) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.order.Len()
}

// forget drops e's key if it still maps to e.
func (d *Dedup[V]) forget(e *dedupEntry[V]) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if el, ok := d.entries[e.key]; ok && el.Value == e {
		d.remove(el)
	}
}

// expire drops entries older than the TTL; d.mu is held.
func (d *Dedup[V]) expire(now time.Time) {
	for el := d.order.Front(); el != nil; el = d.order.Front() {
		if now.Sub(el.Value.(*dedupEntry[V]).at) < d.ttl {
			return
		}
		d.remove(el)
	}
}

// remove drops el; d.mu is held.
func (d *Dedup[V]) remove(el *list.Element) {
	e := el.Value.(*dedupEntry[V])
	if cur, ok := d.entries[e.key]; ok && cur == el {
		delete(d.entries, e.key)
	}
	d.order.Remove(el)
}
