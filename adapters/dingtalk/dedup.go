package dingtalk

import (
	"context"
	"sync"
	"time"
)

// dedup runs a callback's work once per key: a redelivery that arrives
// while the first is running waits for it, and one that arrives later gets
// the first answer without calling the router again. A failed run is
// forgotten so that the platform's retry runs again.
type dedup struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu sync.Mutex
	m  map[string]*dedupEntry
}

type dedupEntry struct {
	done chan struct{}
	val  any
	err  error
	at   time.Time
}

func newDedup(ttl time.Duration, max int, now func() time.Time) *dedup {
	return &dedup{ttl: ttl, max: max, now: now, m: map[string]*dedupEntry{}}
}

// do returns fn's result for key, running fn only if no run for key is in
// flight or remembered. shared reports that the result came from an
// earlier run.
func (d *dedup) do(ctx context.Context, key string, fn func() (any, error)) (val any, shared bool, err error) {
	d.mu.Lock()
	if e, ok := d.m[key]; ok && d.now().Sub(e.at) < d.ttl {
		d.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, true, ctx.Err()
		}
		if e.err == nil {
			return e.val, true, nil
		}
		// The run we waited for failed and was forgotten: run again.
		return d.do(ctx, key, fn)
	}
	e := &dedupEntry{done: make(chan struct{}), at: d.now()}
	d.m[key] = e
	d.sweepLocked()
	d.mu.Unlock()

	defer func() {
		if p := recover(); p != nil {
			e.err = errTransient
			d.forget(key, e)
			close(e.done)
			panic(p)
		}
	}()
	e.val, e.err = fn()
	if e.err != nil {
		d.forget(key, e)
	}
	close(e.done)
	return e.val, false, e.err
}

func (d *dedup) forget(key string, e *dedupEntry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m[key] == e {
		delete(d.m, key)
	}
}

// sweepLocked drops expired entries once the map is over its size, and
// finished ones if it still is.
func (d *dedup) sweepLocked() {
	if len(d.m) <= d.max {
		return
	}
	now := d.now()
	for k, e := range d.m {
		if now.Sub(e.at) >= d.ttl {
			delete(d.m, k)
		}
	}
	for k, e := range d.m {
		if len(d.m) <= d.max {
			return
		}
		select {
		case <-e.done:
			delete(d.m, k)
		default:
		}
	}
}
