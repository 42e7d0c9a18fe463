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
// A tap for a delivery not yet cached is answered from the database and loads
// its whole touchpoint in the background (one query), so the rest of a storm
// is served from memory.
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

// get returns the cached context of delivery id, if fresh.
func (c *deliveryCache) get(id uint64) (DeliveryContext, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cd, ok := c.byID[id]
	if !ok || c.now().Sub(cd.tp.at) > c.ttl {
		return DeliveryContext{}, false
	}
	return DeliveryContext{Delivery: cd.d, Touchpoint: cd.tp.tp, Session: cd.tp.sess, Course: cd.tp.course, Employee: cd.emp, Teacher: cd.tp.teacher}, true
}

// warm loads touchpoint tpID's sent deliveries in the background, once.
func (c *deliveryCache) warm(dc DeliveryContext) {
	tpID := dc.Touchpoint.ID
	go func() {
		_, _, _ = c.loads.Do(fmt.Sprint(tpID), func() (any, error) {
			c.mu.RLock()
			e, ok := c.tps[tpID]
			fresh := ok && c.now().Sub(e.at) <= c.ttl
			c.mu.RUnlock()
			if fresh {
				return nil, nil
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return nil, c.load(ctx, dc)
		})
	}()
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
	for i := range entries {
		c.byID[entries[i].d.ID] = &entries[i]
	}
	c.tps[tp.ID] = e
	c.loaded += len(entries)
	return nil
}

// sentDeliveries reads the sent deliveries of e's touchpoint with their
// recipients, as cache entries of e. The rows are scanned by hand, not
// through GORM's reflection: a touchpoint of 6,000 deliveries is read while
// its storm's first taps miss the cache, so the faster it is read, the fewer
// taps load their delivery from the database. The entries are built before
// the cache's lock is taken: taps keep reading the cache meanwhile.
func (c *deliveryCache) sentDeliveries(ctx context.Context, e *cachedTouchpoint) ([]cachedDelivery, error) {
	rows, err := c.db.WithContext(ctx).Raw("SELECT d.id, d.occurrence, d.employee_id, d.subject_id, d.session_id, d.`key`, d.platform, d.user_id, d.handle, d.sent_at,"+
		" employees.external_id, employees.name, employees.locale"+
		" FROM deliveries d JOIN employees ON employees.id = d.employee_id"+
		" WHERE d.touchpoint_id = ? AND d.status = ? ORDER BY d.id LIMIT ?", e.tp.ID, store.DeliverySent, c.max/2).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	entries := make([]cachedDelivery, 0, 1024)
	for rows.Next() {
		cd := cachedDelivery{d: store.Delivery{TouchpointID: e.tp.ID, Status: store.DeliverySent}, tp: e}
		var handle, locale sql.NullString
		var sent sql.NullTime
		if err := rows.Scan(&cd.d.ID, &cd.d.Occurrence, &cd.d.EmployeeID, &cd.d.SubjectID, &cd.d.SessionID, &cd.d.Key, &cd.d.Platform, &cd.d.UserID, &handle, &sent,
			&cd.emp.ExternalID, &cd.emp.Name, &locale); err != nil {
			return nil, err
		}
		cd.d.Handle, cd.emp.ID, cd.emp.Locale = handle.String, cd.d.EmployeeID, locale.String
		if sent.Valid {
			cd.d.SentAt = &sent.Time
		}
		entries = append(entries, cd)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	e.ids = make([]uint64, len(entries))
	for i := range entries {
		e.ids[i] = entries[i].d.ID
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
