package bot

import (
	"context"
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
	type row struct {
		store.Delivery
		EmpExternalID string
		EmpName       string
		EmpLocale     string
	}
	var rows []row
	err = db.Table("deliveries").
		Select("deliveries.id, deliveries.touchpoint_id, deliveries.occurrence, deliveries.employee_id, deliveries.subject_id, deliveries.session_id, deliveries.`key`, deliveries.platform, deliveries.user_id, deliveries.status, deliveries.handle, deliveries.sent_at, "+
			"employees.external_id AS emp_external_id, employees.name AS emp_name, employees.locale AS emp_locale").
		Joins("JOIN employees ON employees.id = deliveries.employee_id").
		Where("deliveries.touchpoint_id = ? AND deliveries.status = ?", tp.ID, store.DeliverySent).
		Order("deliveries.id").Limit(c.max / 2).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("warm delivery cache: %w", err)
	}
	// The entries are built before the lock is taken: taps keep reading
	// the cache meanwhile, and only the map inserts hold it.
	e := &cachedTouchpoint{tp: tp, sess: sess, course: course, teacher: teacher, at: c.now(), ids: make([]uint64, len(rows))}
	entries := make([]cachedDelivery, len(rows))
	for i, r := range rows {
		e.ids[i] = r.ID
		entries[i] = cachedDelivery{d: r.Delivery, emp: store.Employee{ID: r.EmployeeID, ExternalID: r.EmpExternalID, Name: r.EmpName, Locale: r.EmpLocale}, tp: e}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.tps[tp.ID]; ok {
		c.drop(old)
	}
	for len(c.tps) > 0 && c.loaded+len(rows) > c.max {
		c.evictOldest()
	}
	for i := range entries {
		c.byID[entries[i].d.ID] = &entries[i]
	}
	c.tps[tp.ID] = e
	c.loaded += len(rows)
	return nil
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
