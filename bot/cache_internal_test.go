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

// TestCachedTapFollowsSessionEdits: once a touchpoint's deliveries are served
// from memory, a coordinator's edit of the session (here: the class moves a
// day later) still decides the next tap, and the cache drops the old copy.
func TestCachedTapFollowsSessionEdits(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverMySQL)
	start := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	now := start.Add(-10 * time.Minute)
	clock := func() time.Time { return now }
	c := store.Course{Code: "C", Title: "课程"}
	require.NoError(t, db.Create(&c).Error)
	sess := store.Session{CourseID: c.ID, Title: "一期", StartsAt: start, EndsAt: start.Add(2 * time.Hour), TimeZone: "Asia/Shanghai", Locale: "zh-CN",
		Status: store.SessionPlanned, CheckinOpensBefore: 1800, CheckinGrace: 600, MakeupAfter: 3600}
	require.NoError(t, db.Create(&sess).Error)
	for i := range 20 {
		e := store.Employee{ExternalID: fmt.Sprintf("E%02d", i), Name: "员工", Active: true}
		require.NoError(t, db.Create(&e).Error)
		require.NoError(t, db.Create(&store.Enrollment{SessionID: sess.ID, EmployeeID: e.ID, Status: store.EnrollInvited}).Error)
	}
	tp := store.Touchpoint{SessionID: sess.ID, Kind: KindCheckinPrompt, Anchor: store.AnchorStart, Audience: store.AudienceAll, Template: "checkin_prompt", Status: store.TouchpointScheduled, RunAt: now}
	require.NoError(t, db.Create(&tp).Error)
	signer, err := NewSigner([]byte("cache-test-secret-0123456789"), clock)
	require.NoError(t, err)
	rend := &Renderer{Signer: signer, PublicURL: "https://learn.example.com", LinkTTL: time.Hour, Now: clock}
	m := &captureMessenger{got: map[string]Message{}}
	d := &Deliverer{DB: db.DB, Messengers: map[Platform]Messenger{PlatformSimulator: m}, DefaultPlatform: PlatformSimulator, Renderer: rend, Now: clock}
	_, err = d.Fire(context.Background(), tp.ID, "0")
	require.NoError(t, err)
	r := &Router{DB: db.DB, Signer: signer, Renderer: rend, Checkins: &Checkins{DB: db.DB, Now: clock}, Now: clock}
	tap := func(user string) Reply {
		t.Helper()
		reply, err := r.HandleInteraction(context.Background(), Interaction{Platform: PlatformSimulator, UserID: user, Token: m.got[user].Buttons[0].Token, Action: ActionCheckin})
		require.NoError(t, err)
		return reply
	}
	require.True(t, tap("E00").OK)
	var ds []store.Delivery
	require.NoError(t, db.Where("touchpoint_id = ?", tp.ID).Order("id").Find(&ds).Error)
	require.Eventually(t, func() bool { _, ok := r.cache.get(ds[len(ds)-1].ID); return ok }, 5*time.Second, 10*time.Millisecond, "the touchpoint is loaded into memory")
	require.True(t, tap("E01").OK, "served from memory")

	require.NoError(t, db.Model(&store.Session{}).Where("id = ?", sess.ID).Updates(map[string]any{
		"starts_at": start.Add(24 * time.Hour), "ends_at": start.Add(26 * time.Hour),
	}).Error)
	reply := tap("E02")
	require.False(t, reply.OK, "check-in is not open any more: %s", reply.Toast)
	_, cached := r.cache.get(ds[2].ID)
	require.False(t, cached, "the stale copy is dropped")
	var n int64
	require.NoError(t, db.Model(&store.Checkin{}).Where("session_id = ?", sess.ID).Count(&n).Error)
	require.EqualValues(t, 2, n)
}
