package feishu

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher/callback"
)

// dedup remembers the answer to each event_id, so an event Feishu delivers
// again (it retries up to 4 times, and the long connection redelivers after
// 3 s) is answered the same way without reaching the router twice. It is
// per process and bounded; the check-in itself is idempotent in the
// database, so forgetting an entry costs a duplicate call, never a
// duplicate record.
type dedup struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[string]*list.Element
	order   *list.List // of *dedupEntry, oldest first
}

type dedupEntry struct {
	key  string
	at   time.Time
	done chan struct{}
	resp *callback.CardActionTriggerResponse
}

func newDedup(ttl time.Duration, max int) *dedup {
	return &dedup{ttl: ttl, max: max, entries: map[string]*list.Element{}, order: list.New()}
}

// once returns the remembered answer for key, waits for it while the first
// delivery is still being handled, or runs fn. When fn says its answer is
// not final the key is forgotten so that a redelivery runs again.
func (d *dedup) once(ctx context.Context, key string, fn func() (*callback.CardActionTriggerResponse, bool)) *callback.CardActionTriggerResponse {
	now := time.Now()
	d.mu.Lock()
	d.expire(now)
	if el, ok := d.entries[key]; ok {
		e := el.Value.(*dedupEntry)
		d.mu.Unlock()
		select {
		case <-e.done:
			if e.resp != nil {
				return e.resp
			}
		case <-ctx.Done():
		}
		return toastOnly("info", text("", "busy"))
	}
	e := &dedupEntry{key: key, at: now, done: make(chan struct{})}
	d.entries[key] = d.order.PushBack(e)
	for d.order.Len() > d.max {
		d.remove(d.order.Front())
	}
	d.mu.Unlock()

	resp, final := fn()
	d.mu.Lock()
	if final {
		e.resp = resp
	} else if el, ok := d.entries[key]; ok && el.Value == e {
		d.remove(el)
	}
	d.mu.Unlock()
	close(e.done)
	return resp
}

// expire drops entries older than the TTL; d.mu is held.
func (d *dedup) expire(now time.Time) {
	for el := d.order.Front(); el != nil; el = d.order.Front() {
		if now.Sub(el.Value.(*dedupEntry).at) < d.ttl {
			return
		}
		d.remove(el)
	}
}

func (d *dedup) remove(el *list.Element) {
	e := el.Value.(*dedupEntry)
	delete(d.entries, e.key)
	d.order.Remove(el)
}

// len reports how many events are remembered (tests).
func (d *dedup) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.order.Len()
}
