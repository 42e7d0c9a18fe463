package bot

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
)

// deliveryCache keeps, in memory, what a check-in tap needs about deliveries
// that have been sent: the delivery's recipient and platform ids never change
// after the send, nor do its touchpoint's kind and course. The session's
// windows may change; the check-in write checks the session version it used
// (Checkins.recordFast), so a stale copy can never store a wrong check-in,
// and entries live at most ttl. Only check-ins read through it.
//
// The first tap of a touchpoint not yet cached is answered from the database
// (LoadDelivery), which caches its touchpoint at once and loads all of the
// touchpoint's sent deliveries in the background (one query), so the rest of
// a storm is served from memory. A tap that comes meanwhile, or for a
// delivery sent after that load, reads only its delivery and recipient
// (lookup: one small query) and takes the rest from the cached touchpoint.
type deliveryCache struct {
	db  *gorm.DB
	now func() time.Time
	ttl time.Duration
	max int // deliveries kept at most

	mu     sync.RWMutex
	byID   map[uint64]*cachedDelivery
	tps    map[uint64]*cachedTouchpoint
	loads  singleflight.Group
	loaded int
}

type cachedTouchpoint struct {
	tp      store.Touchpoint
	sess    store.Session
	course  store.Course
	teacher string
	at      time.Time
	ids     []uint64
	// partial: only the deliveries tapped so far are here (the load of
	// all of them is under way or failed).
	partial bool
}

type cachedDelivery struct {
	d   store.Delivery
	emp store.Employee
	tp  *cachedTouchpoint
}

func newDeliveryCache(db *gorm.DB, now func() time.Time) *deliveryCache {
	return &deliveryCache{db: db, now: now, ttl: 2 * time.Minute, max: 200_000,
		byID: map[uint64]*cachedDelivery{}, tps: map[uint64]*cachedTouchpoint{}}
}

func (c *deliveryCache) fresh(e *cachedTouchpoint) bool { return c.now().Sub(e.at) <= c.ttl }

func (cd *cachedDelivery) context() DeliveryContext {
	return DeliveryContext{Delivery: cd.d, Touchpoint: cd.tp.tp, Session: cd.tp.sess, Course: cd.tp.course, Employee: cd.emp, Teacher: cd.tp.teacher}
}

// get returns the cached context of delivery id, if fresh.
func (c *deliveryCache) get(id uint64) (DeliveryContext, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cd, ok := c.byID[id]
	if !ok || !c.fresh(cd.tp) {
		return DeliveryContext{}, false
	}
	return cd.context(), true
}

// lookup reads delivery id and its recipient and, when its touchpoint is
// cached and fresh and it was sent, caches it and returns its context. ok is
// false when the caller must load it in full (LoadDelivery decides what an
// unknown or unsent delivery answers).
func (c *deliveryCache) lookup(ctx context.Context, id uint64) (dc DeliveryContext, ok bool, err error) {
	rows, err := c.db.WithContext(ctx).Raw(cachedDeliverySQL+" WHERE d.id = ?", id).Rows()
	if err != nil {
		return dc, false, fmt.Errorf("load delivery: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return dc, false, rows.Err()
	}
	cd, err := scanCachedDelivery(rows)
	if err != nil {
		return dc, false, fmt.Errorf("load delivery: %w", err)
	}
	if err := rows.Close(); err != nil {
		return dc, false, fmt.Errorf("load delivery: %w", err)
	}
	if cd.d.Status != store.DeliverySent {
		return dc, false, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, cached := c.tps[cd.d.TouchpointID]
	if !cached || !c.fresh(e) {
		return dc, false, nil
	}
	return c.add(e, cd).context(), true, nil
}

// add keeps cd as a delivery of e (when there is room) and returns it; c.mu
// is held.
func (c *deliveryCache) add(e *cachedTouchpoint, cd cachedDelivery) *cachedDelivery {
	cd.tp = e
	if old, ok := c.byID[cd.d.ID]; ok && old.tp == e {
		*old = cd
		return old
	}
	if c.loaded >= c.max {
		return &cd
	}
	c.byID[cd.d.ID] = &cd
	e.ids = append(e.ids, cd.d.ID)
	c.loaded++
	return &cd
}

// warm caches dc's touchpoint at once (a partial entry, from dc) and loads
// all of its sent deliveries in the background, once.
func (c *deliveryCache) warm(dc DeliveryContext) {
	tpID := dc.Touchpoint.ID
	c.mu.Lock()
	e, ok := c.tps[tpID]
	if !ok || !c.fresh(e) {
		if ok {
			c.drop(e)
		}
		e = &cachedTouchpoint{tp: dc.Touchpoint, sess: dc.Session, course: dc.Course, teacher: dc.Teacher, at: c.now(), partial: true}
		c.tps[tpID] = e
	}
	c.add(e, cachedDelivery{d: dc.Delivery, emp: keptEmployee(dc.Employee)})
	c.mu.Unlock()
	go func() {
		_, _, _ = c.loads.Do(fmt.Sprint(tpID), func() (any, error) {
			c.mu.RLock()
			e, ok := c.tps[tpID]
			loaded := ok && !e.partial && c.fresh(e)
			c.mu.RUnlock()
			if loaded {
				return nil, nil
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return nil, c.load(ctx, dc)
		})
	}()
}

// keptEmployee is the part of a recipient the cache keeps.
func keptEmployee(e store.Employee) store.Employee {
	return store.Employee{ID: e.ID, ExternalID: e.ExternalID, Name: e.Name, Locale: e.Locale}
}

// load reads every sent delivery of dc's touchpoint with its recipient.
func (c *deliveryCache) load(ctx context.Context, dc DeliveryContext) error {
	// The touchpoint, session and course are read again: dc may be older.
	var tp store.Touchpoint
	var sess store.Session
	var course store.Course
	db := c.db.WithContext(ctx)
	if err := db.First(&tp, dc.Touchpoint.ID).Error; err != nil {
		return err
	}
	if err := db.First(&sess, tp.SessionID).Error; err != nil {
		return err
	}
	if err := db.First(&course, sess.CourseID).Error; err != nil {
		return err
	}
	teacher, err := teacherName(ctx, c.db, sess)
	if err != nil {
		return err
	}
	e := &cachedTouchpoint{tp: tp, sess: sess, course: course, teacher: teacher}
	entries, err := c.sentDeliveries(ctx, e)
	if err != nil {
		return fmt.Errorf("warm delivery cache: %w", err)
	}
	e.at = c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.tps[tp.ID]; ok {
		c.drop(old)
	}
	for len(c.tps) > 0 && c.loaded+len(entries) > c.max {
		c.evictOldest()
	}
	for _, cd := range entries {
		c.byID[cd.d.ID] = cd
	}
	c.tps[tp.ID] = e
	c.loaded += len(entries)
	return nil
}

// cachedDeliverySQL reads deliveries with their recipients, the columns
// scanCachedDelivery expects.
const cachedDeliverySQL = "SELECT d.id, d.touchpoint_id, d.status, d.occurrence, d.employee_id, d.subject_id, d.session_id, d.`key`, d.platform, d.user_id, d.handle, d.sent_at," +
	" employees.external_id, employees.name, employees.locale" +
	" FROM deliveries d JOIN employees ON employees.id = d.employee_id"

// scanCachedDelivery scans one row of cachedDeliverySQL, by hand: a
// touchpoint's 6,000 deliveries are read while its storm's first taps miss
// the cache, so the faster it is read, the shorter that window.
func scanCachedDelivery(rows *sql.Rows) (cachedDelivery, error) {
	var cd cachedDelivery
	var handle, locale sql.NullString
	var sent sql.NullTime
	if err := rows.Scan(&cd.d.ID, &cd.d.TouchpointID, &cd.d.Status, &cd.d.Occurrence, &cd.d.EmployeeID, &cd.d.SubjectID, &cd.d.SessionID, &cd.d.Key, &cd.d.Platform, &cd.d.UserID, &handle, &sent,
		&cd.emp.ExternalID, &cd.emp.Name, &locale); err != nil {
		return cd, err
	}
	cd.d.Handle, cd.emp.ID, cd.emp.Locale = handle.String, cd.d.EmployeeID, locale.String
	if sent.Valid {
		cd.d.SentAt = &sent.Time
	}
	return cd, nil
}

// sentDeliveries reads the sent deliveries of e's touchpoint with their
// recipients, as cache entries of e. The entries are built before the
// cache's lock is taken: taps keep reading the cache meanwhile. They are
// kept in blocks of a fixed size (an entry is ≈ 1 kB; one slice grown by
// doubling allocated about 2.5 times the entries while a storm ran).
func (c *deliveryCache) sentDeliveries(ctx context.Context, e *cachedTouchpoint) ([]*cachedDelivery, error) {
	rows, err := c.db.WithContext(ctx).Raw(cachedDeliverySQL+" WHERE d.touchpoint_id = ? AND d.status = ? ORDER BY d.id LIMIT ?", e.tp.ID, store.DeliverySent, c.max/2).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	const blockSize = 512
	var (
		block   []cachedDelivery
		entries = make([]*cachedDelivery, 0, blockSize)
	)
	for rows.Next() {
		cd, err := scanCachedDelivery(rows)
		if err != nil {
			return nil, err
		}
		cd.tp = e
		if len(block) == cap(block) {
			block = make([]cachedDelivery, 0, blockSize)
		}
		block = append(block, cd)
		entries = append(entries, &block[len(block)-1])
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	e.ids = make([]uint64, len(entries))
	for i, cd := range entries {
		e.ids[i] = cd.d.ID
	}
	return entries, nil
}

// invalidate forgets a touchpoint (its session changed).
func (c *deliveryCache) invalidate(tpID uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.tps[tpID]; ok {
		c.drop(e)
	}
}

func (c *deliveryCache) drop(e *cachedTouchpoint) {
	for _, id := range e.ids {
		if cd, ok := c.byID[id]; ok && cd.tp == e {
			delete(c.byID, id)
		}
	}
	c.loaded -= len(e.ids)
	delete(c.tps, e.tp.ID)
}

func (c *deliveryCache) evictOldest() {
	var oldest *cachedTouchpoint
	for _, e := range c.tps {
		if oldest == nil || e.at.Before(oldest.at) {
			oldest = e
		}
	}
	c.drop(oldest)
}
