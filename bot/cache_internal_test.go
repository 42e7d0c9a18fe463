package bot

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

type captureMessenger struct {
	mu  sync.Mutex
	got map[string]Message // by user id
}

func (m *captureMessenger) Platform() Platform { return PlatformSimulator }
func (m *captureMessenger) Send(_ context.Context, to Recipient, msg Message) (Receipt, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got[to.UserID] = msg
	return Receipt{Handle: msg.Key}, nil
}

// tapFixture is a session of people starting in 10 minutes, its check-in
// prompt sent to all through m (whose sends cap records), and a Router to
// tap with.
type tapFixture struct {
	db    *storetest.DB
	start time.Time
	sess  store.Session
	tp    store.Touchpoint
	m     *captureMessenger
	r     *Router
}

func newTapFixture(t *testing.T, db *storetest.DB, people int, m Messenger, capture *captureMessenger) *tapFixture {
	t.Helper()
	start := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	now := start.Add(-10 * time.Minute)
	clock := func() time.Time { return now }
	c := store.Course{Code: "C", Title: "课程"}
	require.NoError(t, db.Create(&c).Error)
	sess := store.Session{CourseID: c.ID, Title: "一期", StartsAt: start, EndsAt: start.Add(2 * time.Hour), TimeZone: "Asia/Shanghai", Locale: "zh-CN",
		Status: store.SessionPlanned, CheckinOpensBefore: 1800, CheckinGrace: 600, MakeupAfter: 3600}
	require.NoError(t, db.Create(&sess).Error)
	for i := range people {
		e := store.Employee{ExternalID: fmt.Sprintf("E%02d", i), Name: "员工", Active: true}
		require.NoError(t, db.Create(&e).Error)
		require.NoError(t, db.Create(&store.Enrollment{SessionID: sess.ID, EmployeeID: e.ID, Status: store.EnrollInvited}).Error)
	}
	tp := store.Touchpoint{SessionID: sess.ID, Kind: KindCheckinPrompt, Anchor: store.AnchorStart, Audience: store.AudienceAll, Template: "checkin_prompt", Status: store.TouchpointScheduled, RunAt: now}
	require.NoError(t, db.Create(&tp).Error)
	signer, err := NewSigner([]byte("tap-test-secret-0123456789"), clock)
	require.NoError(t, err)
	rend := &Renderer{Signer: signer, PublicURL: "https://learn.example.com", LinkTTL: time.Hour, Now: clock}
	msgrs := map[Platform]Messenger{PlatformSimulator: m}
	d := &Deliverer{DB: db.DB, Messengers: msgrs, DefaultPlatform: PlatformSimulator, Renderer: rend, Now: clock}
	_, err = d.Fire(context.Background(), tp.ID, "0")
	require.NoError(t, err)
	r := &Router{DB: db.DB, Signer: signer, Renderer: rend, Checkins: &Checkins{DB: db.DB, Now: clock}, Messengers: msgrs, Now: clock}
	return &tapFixture{db: db, start: start, sess: sess, tp: tp, m: capture, r: r}
}

// newMySQLTapFixture is a 20-person fixture on MySQL (the check-in cache).
func newMySQLTapFixture(t *testing.T) *tapFixture {
	m := &captureMessenger{got: map[string]Message{}}
	return newTapFixture(t, storetest.Open(t, store.DriverMySQL), 20, m, m)
}

func (f *tapFixture) tap(t *testing.T, user string) Reply {
	t.Helper()
	reply, err := f.r.HandleInteraction(context.Background(), Interaction{Platform: PlatformSimulator, UserID: user, Token: f.m.got[user].Buttons[0].Token, Action: ActionCheckin})
	require.NoError(t, err)
	return reply
}

// TestCachedTapFollowsSessionEdits: once a touchpoint's deliveries are served
// from memory, a coordinator's edit of the session (here: the class moves a
// day later) still decides the next tap, and the cache drops the old copy.
func TestCachedTapFollowsSessionEdits(t *testing.T) {
	t.Parallel()
	f := newMySQLTapFixture(t)
	require.True(t, f.tap(t, "E00").OK)
	var ds []store.Delivery
	require.NoError(t, f.db.Where("touchpoint_id = ?", f.tp.ID).Order("id").Find(&ds).Error)
	require.Eventually(t, func() bool { _, ok := f.r.cache.get(ds[len(ds)-1].ID); return ok }, 5*time.Second, 10*time.Millisecond, "the touchpoint is loaded into memory")
	require.True(t, f.tap(t, "E01").OK, "served from memory")

	require.NoError(t, f.db.Model(&store.Session{}).Where("id = ?", f.sess.ID).Updates(map[string]any{
		"starts_at": f.start.Add(24 * time.Hour), "ends_at": f.start.Add(26 * time.Hour),
	}).Error)
	reply := f.tap(t, "E02")
	require.False(t, reply.OK, "check-in is not open any more: %s", reply.Toast)
	_, cached := f.r.cache.get(ds[2].ID)
	require.False(t, cached, "the stale copy is dropped")
	var n int64
	require.NoError(t, f.db.Model(&store.Checkin{}).Where("session_id = ?", f.sess.ID).Count(&n).Error)
	require.EqualValues(t, 2, n)
}

// TestCardTapInAnOnsiteSessionIsRemote: where the session requires on-site
// check-in, a card tap is stored but answered, and its card updated, as a
// remote check-in that does not count as present.
func TestCardTapInAnOnsiteSessionIsRemote(t *testing.T) {
	t.Parallel()
	f := newMySQLTapFixture(t)
	f.r.OnsiteRequired = func(_ context.Context, id uint64) (bool, error) { return id == f.sess.ID, nil }
	reply := f.tap(t, "E00")
	require.True(t, reply.OK)
	require.Contains(t, reply.Toast, "远程签到")
	require.Contains(t, reply.Toast, "扫描")
	require.NotNil(t, reply.Card)
	require.Contains(t, reply.Card.Status, "远程签到")
	require.NotContains(t, reply.Card.Status, "✓")
	var ci store.Checkin
	require.NoError(t, f.db.Where("session_id = ?", f.sess.ID).Take(&ci).Error)
	require.Equal(t, store.SourceCard, ci.Source, "the source says what happened; reports count it as remote")
}

// TestWarmCacheMatchesLoadDelivery: the warmed entries (scanned by hand)
// carry what a full LoadDelivery reads for the fields a tap uses, including
// a delivery without a handle and one whose recipient has a locale.
func TestWarmCacheMatchesLoadDelivery(t *testing.T) {
	t.Parallel()
	f := newMySQLTapFixture(t)
	var ds []store.Delivery
	require.NoError(t, f.db.Where("touchpoint_id = ?", f.tp.ID).Order("id").Find(&ds).Error)
	require.NoError(t, f.db.Model(&store.Delivery{}).Where("id = ?", ds[1].ID).Update("handle", nil).Error)
	require.NoError(t, f.db.Model(&store.Employee{}).Where("id = ?", ds[2].EmployeeID).Update("locale", "en").Error)
	require.True(t, f.tap(t, "E00").OK)
	require.Eventually(t, func() bool { _, ok := f.r.cache.get(ds[len(ds)-1].ID); return ok }, 5*time.Second, 10*time.Millisecond, "the touchpoint is loaded into memory")
	for _, d := range ds {
		got, ok := f.r.cache.get(d.ID)
		require.True(t, ok)
		want, err := LoadDelivery(context.Background(), f.db.DB, d.ID)
		require.NoError(t, err)
		// Not kept: what only the send and the retries use.
		want.Delivery.Attempts, want.Delivery.ClaimToken, want.Delivery.CreatedAt, want.Delivery.UpdatedAt = 0, "", time.Time{}, time.Time{}
		require.Equal(t, want.Delivery, got.Delivery)
		require.Equal(t, want.Touchpoint.ID, got.Touchpoint.ID)
		require.Equal(t, want.Session.ID, got.Session.ID)
		require.Equal(t, want.Course, got.Course)
		require.Equal(t, want.Teacher, got.Teacher)
		require.Equal(t, store.Employee{ID: want.Employee.ID, ExternalID: want.Employee.ExternalID, Name: want.Employee.Name, Locale: want.Employee.Locale}, got.Employee)
	}
	got, _ := f.r.cache.get(ds[2].ID)
	require.Equal(t, "en", got.Employee.Locale)
	got, _ = f.r.cache.get(ds[1].ID)
	require.Empty(t, got.Delivery.Handle)
	require.NotNil(t, got.Delivery.SentAt)
}

// TestCacheLookupReadsOneDelivery: a delivery of a cached touchpoint that is
// not in memory yet (the bulk read is under way, or it was sent after it) is
// served from one small read and then kept; anything else is left to
// LoadDelivery.
func TestCacheLookupReadsOneDelivery(t *testing.T) {
	t.Parallel()
	f := newMySQLTapFixture(t)
	var ds []store.Delivery
	require.NoError(t, f.db.Where("touchpoint_id = ?", f.tp.ID).Order("id").Find(&ds).Error)
	full, err := LoadDelivery(context.Background(), f.db.DB, ds[0].ID)
	require.NoError(t, err)
	failed := ds[len(ds)-1]
	require.NoError(t, f.db.Model(&store.Delivery{}).Where("id = ?", failed.ID).Update("status", store.DeliveryFailed).Error)
	c := newDeliveryCache(f.db.DB, time.Now)
	c.tps[f.tp.ID] = &cachedTouchpoint{tp: full.Touchpoint, sess: full.Session, course: full.Course, at: time.Now(), partial: true}
	for _, tc := range []struct {
		name string
		id   uint64
		ok   bool
	}{
		{"a sent delivery of the cached touchpoint", ds[3].ID, true},
		{"an unsent delivery", failed.ID, false},
		{"an unknown delivery", failed.ID + 1000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dc, ok, err := c.lookup(context.Background(), tc.id)
			require.NoError(t, err)
			require.Equal(t, tc.ok, ok)
			_, kept := c.get(tc.id)
			require.Equal(t, tc.ok, kept)
			if !tc.ok {
				return
			}
			want, err := LoadDelivery(context.Background(), f.db.DB, tc.id)
			require.NoError(t, err)
			require.Equal(t, want.Delivery.Key, dc.Delivery.Key)
			require.Equal(t, want.Delivery.UserID, dc.Delivery.UserID)
			require.Equal(t, want.Session.ID, dc.Session.ID)
			require.Equal(t, keptEmployee(want.Employee), dc.Employee)
		})
	}
	c.tps[f.tp.ID].at = time.Now().Add(-time.Hour)
	_, ok, err := c.lookup(context.Background(), ds[4].ID)
	require.NoError(t, err)
	require.False(t, ok, "an expired touchpoint is read in full again")
}
