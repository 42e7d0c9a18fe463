package calendar_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/calendar"
	"github.com/learnloop/learnloop/calendar/invite"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// fakeCal is an in-memory platform calendar: events by id, the keys it
// saw (a create under a key it already has answers the same event, as
// Feishu's and DingTalk's idempotency keys do) and scripted failures.
type fakeCal struct {
	mu      sync.Mutex
	seq     int
	events  map[string]*invite.Event
	byKey   map[string]string
	calls   []string
	fail    []error // popped by the next call
	lostAns bool    // the next create is made but its answer lost
}

func newFakeCal() *fakeCal {
	return &fakeCal{events: map[string]*invite.Event{}, byKey: map[string]string{}}
}

func (f *fakeCal) pop(op string) error {
	f.calls = append(f.calls, op)
	if len(f.fail) == 0 {
		return nil
	}
	err := f.fail[0]
	f.fail = f.fail[1:]
	return err
}

func (f *fakeCal) CreateEvent(_ context.Context, key string, ev invite.Event) (invite.Ref, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.pop("create"); err != nil {
		return invite.Ref{}, err
	}
	id, ok := f.byKey[key]
	if !ok {
		f.seq++
		id = fmt.Sprintf("ev%d", f.seq)
		f.byKey[key] = id
	}
	e := ev
	f.events[id] = &e
	if f.lostAns {
		f.lostAns = false
		return invite.Ref{}, &invite.Error{Platform: "fake", Op: "create", Message: "connection reset"}
	}
	return invite.Ref{EventID: id, CalendarID: "cal"}, nil
}

func (f *fakeCal) UpdateEvent(_ context.Context, ref invite.Ref, ev invite.Event, _ []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.pop("update"); err != nil {
		return err
	}
	if _, ok := f.events[ref.EventID]; !ok {
		return &invite.Error{Platform: "fake", Op: "update", Message: "gone", Err: invite.ErrNotFound}
	}
	e := ev
	f.events[ref.EventID] = &e
	return nil
}

func (f *fakeCal) DeleteEvent(_ context.Context, ref invite.Ref) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.pop("delete"); err != nil {
		return err
	}
	if _, ok := f.events[ref.EventID]; !ok {
		return &invite.Error{Platform: "fake", Op: "delete", Message: "gone", Err: invite.ErrNotFound}
	}
	delete(f.events, ref.EventID)
	return nil
}

func (f *fakeCal) live() map[string]invite.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]invite.Event{}
	for id, e := range f.events {
		out[id] = *e
	}
	return out
}

type bundle struct {
	db    *gorm.DB
	sched *scheduler.Scheduler
	svc   *calendar.Service
	cal   *fakeCal
	now   time.Time
	sess  store.Session
}

func setup(t *testing.T, db *storetest.DB, inviteDefault bool) *bundle {
	t.Helper()
	b := &bundle{db: db.DB, cal: newFakeCal(), now: time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return b.now }
	b.sched = scheduler.New(db.DB, scheduler.Options{Now: clock, BackoffBase: time.Second, BackoffMax: time.Minute, Concurrency: 1})
	b.svc = &calendar.Service{DB: db.DB, Sched: b.sched, Platforms: map[bot.Platform]calendar.Platform{bot.PlatformWeCom: b.cal},
		DefaultPlatform: bot.PlatformWeCom, InviteDefault: inviteDefault, PublicURL: "https://ll.example.com", Now: clock}
	b.svc.Register()
	tag := fmt.Sprint(time.Now().UnixNano())
	course := store.Course{Code: "C" + tag, Title: "高效沟通", TargetLevel: 1}
	require.NoError(t, db.Create(&course).Error)
	start := time.Date(2026, 3, 9, 2, 0, 0, 0, time.UTC)
	b.sess = store.Session{CourseID: course.ID, Title: "第1期", StartsAt: start, EndsAt: start.Add(2 * time.Hour), Location: "3F A",
		TimeZone: "Asia/Shanghai", Locale: "zh-CN", Status: store.SessionPlanned}
	require.NoError(t, db.Create(&b.sess).Error)
	for i, u := range []string{"u1", "u2", "u3"} {
		e := store.Employee{ExternalID: fmt.Sprintf("E%s-%d", tag, i), Name: u, WecomID: u, Active: true}
		require.NoError(t, db.Create(&e).Error)
		require.NoError(t, db.Create(&store.Enrollment{SessionID: b.sess.ID, EmployeeID: e.ID, Status: store.EnrollInvited}).Error)
	}
	return b
}

// change records a change of the session the way command does: in a
// transaction that enqueues the sync.
func (b *bundle) change(t *testing.T, f func(tx *gorm.DB) error) {
	t.Helper()
	require.NoError(t, store.Tx(context.Background(), b.db, func(tx *gorm.DB) error {
		if f != nil {
			if err := f(tx); err != nil {
				return err
			}
		}
		return b.svc.Changed(context.Background(), tx, b.sess.ID)
	}))
}

// run runs due jobs, moving the clock on so that retries and waits come due.
func (b *bundle) run(t *testing.T, rounds int) {
	t.Helper()
	for range rounds {
		_, err := b.sched.RunDue(context.Background())
		require.NoError(t, err)
		b.now = b.now.Add(2 * time.Minute)
	}
}

func (b *bundle) row(t *testing.T) store.CalendarEvent {
	t.Helper()
	var r store.CalendarEvent
	require.NoError(t, b.db.Where("session_id = ?", b.sess.ID).Take(&r).Error)
	return r
}

func (b *bundle) jobs(t *testing.T, state string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, b.db.Model(&store.Job{}).Where("kind = ? AND state = ?", calendar.JobSync, state).Count(&n).Error)
	return n
}

func TestWanted(t *testing.T) {
	t.Parallel()
	on, off := true, false
	tests := []struct {
		name    string
		sess    *bool
		course  *bool
		def     bool
		wantOut bool
	}{
		{"default off", nil, nil, false, false},
		{"default on", nil, nil, true, true},
		{"course on beats default", nil, &on, false, true},
		{"course off beats default", nil, &off, true, false},
		{"session off beats course", &off, &on, true, false},
		{"session on beats course", &on, &off, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.wantOut, calendar.Wanted(store.Session{CalendarInvite: tt.sess}, store.Course{CalendarInvite: tt.course}, tt.def))
		})
	}
}

func TestSyncLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db, true)
		b.change(t, nil)
		b.run(t, 1)
		live := b.cal.live()
		require.Len(t, live, 1)
		r := b.row(t)
		require.Equal(t, store.CalendarActive, r.State)
		ev := live[r.EventID]
		require.Equal(t, []string{"u1", "u2", "u3"}, ev.Attendees)
		require.Equal(t, "3F A", ev.Location)
		require.Equal(t, "Asia/Shanghai", ev.TimeZone)
		require.Contains(t, ev.Description, "课程：高效沟通")
		require.Contains(t, ev.Description, "https://ll.example.com/q/")

		// A change that shows nothing new calls nobody.
		b.change(t, nil)
		b.run(t, 1)
		require.Equal(t, []string{"create"}, b.cal.calls)

		// Excused and moved: one update.
		b.change(t, func(tx *gorm.DB) error {
			if err := tx.Model(&store.Enrollment{}).Where("session_id = ? AND employee_id IN (SELECT id FROM employees WHERE wecom_id = 'u2')", b.sess.ID).
				Update("status", store.EnrollExcused).Error; err != nil {
				return err
			}
			return tx.Model(&store.Session{}).Where("id = ?", b.sess.ID).Update("location", "5F B").Error
		})
		b.run(t, 1)
		live = b.cal.live()
		require.Len(t, live, 1)
		require.Equal(t, []string{"u1", "u3"}, live[r.EventID].Attendees)
		require.Equal(t, "5F B", live[r.EventID].Location)

		// Cancelled: deleted.
		b.change(t, func(tx *gorm.DB) error {
			return tx.Model(&store.Session{}).Where("id = ?", b.sess.ID).Update("status", store.SessionCancelled).Error
		})
		b.run(t, 1)
		require.Empty(t, b.cal.live())
		require.Equal(t, store.CalendarDeleted, b.row(t).State)
		require.Equal(t, []string{"create", "update", "delete"}, b.cal.calls)
		require.Zero(t, b.jobs(t, store.JobAvailable))
		require.Zero(t, b.jobs(t, store.JobFailed))
	})
}

func TestSyncOffCreatesNothingAndTurningOffDeletes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db, false)
		b.change(t, nil)
		require.Zero(t, b.jobs(t, store.JobAvailable), "invites off and no event: no job")

		on, off := true, false
		b.change(t, func(tx *gorm.DB) error {
			return tx.Model(&store.Session{}).Where("id = ?", b.sess.ID).Update("calendar_invite", &on).Error
		})
		b.run(t, 1)
		require.Len(t, b.cal.live(), 1)

		b.change(t, func(tx *gorm.DB) error {
			return tx.Model(&store.Session{}).Where("id = ?", b.sess.ID).Update("calendar_invite", &off).Error
		})
		require.EqualValues(t, 1, b.jobs(t, store.JobAvailable), "an existing event is synced even with invites off")
		b.run(t, 1)
		require.Empty(t, b.cal.live())
		require.Equal(t, store.CalendarDeleted, b.row(t).State)

		// On again: a new event under a new key.
		old := b.row(t).IdemKey
		b.change(t, func(tx *gorm.DB) error {
			return tx.Model(&store.Session{}).Where("id = ?", b.sess.ID).Update("calendar_invite", &on).Error
		})
		b.run(t, 1)
		require.Len(t, b.cal.live(), 1)
		require.NotEqual(t, old, b.row(t).IdemKey)
	})
}

func TestSyncRetries(t *testing.T) {
	t.Parallel()
	transient := &invite.Error{Platform: "fake", Op: "create", Code: "-1", Message: "busy"}
	permanent := &invite.Error{Platform: "fake", Op: "create", Code: "40031", Message: "invalid userid", Permanent: true}
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		t.Run("transient error then success: one event", func(t *testing.T) {
			b := setup(t, db, true)
			b.cal.fail = []error{transient, transient}
			b.change(t, nil)
			b.run(t, 1)
			r := b.row(t)
			require.Equal(t, store.CalendarPending, r.State)
			require.Equal(t, "-1", r.ErrorCode)
			require.Contains(t, r.LastError, "busy")
			b.run(t, 3)
			require.Len(t, b.cal.live(), 1)
			r = b.row(t)
			require.Equal(t, store.CalendarActive, r.State)
			require.Zero(t, r.Failures)
			require.Empty(t, r.ErrorCode)
			require.EqualValues(t, 1, b.jobs(t, store.JobCompleted))
		})
		t.Run("lost answer: the retry reuses the key, no second event", func(t *testing.T) {
			b := setup(t, db, true)
			b.cal.lostAns = true
			b.change(t, nil)
			b.run(t, 2)
			require.Len(t, b.cal.live(), 1, "the platform de-duplicated the key")
			require.Equal(t, []string{"create", "create"}, b.cal.calls)
			require.Equal(t, store.CalendarActive, b.row(t).State)
		})
		t.Run("permanent error fails the job at once, visible on the row", func(t *testing.T) {
			b := setup(t, db, true)
			b.cal.fail = []error{permanent}
			b.change(t, nil)
			b.run(t, 2)
			require.Empty(t, b.cal.live())
			require.EqualValues(t, 1, b.jobs(t, store.JobFailed))
			r := b.row(t)
			require.Equal(t, "40031", r.ErrorCode)
			require.Equal(t, 1, r.Failures)
			// The next change tries again.
			b.change(t, nil)
			b.run(t, 1)
			require.Len(t, b.cal.live(), 1)
		})
		t.Run("event deleted on the platform by hand: an update creates it again", func(t *testing.T) {
			b := setup(t, db, true)
			b.change(t, nil)
			b.run(t, 1)
			b.cal.mu.Lock()
			b.cal.events = map[string]*invite.Event{}
			b.cal.mu.Unlock()
			b.change(t, func(tx *gorm.DB) error {
				return tx.Model(&store.Session{}).Where("id = ?", b.sess.ID).Update("title", "第1期（改）").Error
			})
			b.run(t, 1)
			live := b.cal.live()
			require.Len(t, live, 1)
			require.Equal(t, "第1期（改）", live[b.row(t).EventID].Title)
		})
	})
}

func TestNewerJobWins(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db, true)
		for range 5 {
			b.change(t, nil)
		}
		require.EqualValues(t, 5, b.jobs(t, store.JobAvailable))
		b.run(t, 3)
		require.Len(t, b.cal.live(), 1)
		require.Equal(t, []string{"create"}, b.cal.calls, "five changes, one call")
		require.Zero(t, b.jobs(t, store.JobAvailable))
		require.Zero(t, b.jobs(t, store.JobRunning))
		require.Zero(t, b.jobs(t, store.JobFailed))
	})
}

func TestHandleRefusesBadPayload(t *testing.T) {
	t.Parallel()
	err := (&calendar.Service{}).Handle(context.Background(), store.Job{Payload: "{"})
	require.Error(t, err)
	require.False(t, errors.Is(err, context.Canceled))
	require.Contains(t, err.Error(), "bad payload")
}
