package bot

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestFlushCheckinsGuardsEachRowOfOneBatch: one batch mixes rows the joined
// guard must let through (two sessions, one of them twice for the same
// person) with rows it must refuse (excused, cancelled, not enrolled, a stale
// session version, a cancelled session, a person already checked in whose
// row it must report as a duplicate). Each row gets the answer the per-row
// rules give, and only the inserted rows have an outbox event.
func TestFlushCheckinsGuardsEachRowOfOneBatch(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverMySQL)
	now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC).Truncate(time.Millisecond)
	course := store.Course{Code: "G1", Title: "课程"}
	require.NoError(t, db.Create(&course).Error)
	newSession := func(status string) store.Session {
		s := store.Session{CourseID: course.ID, Title: "期", StartsAt: now.Add(time.Hour), EndsAt: now.Add(3 * time.Hour), TimeZone: "UTC", Status: status}
		require.NoError(t, db.Create(&s).Error)
		require.NoError(t, db.First(&s, s.ID).Error) // updated_at as stored
		return s
	}
	a, b, cancelled := newSession(store.SessionPlanned), newSession(store.SessionPlanned), newSession(store.SessionCancelled)
	emps := make([]store.Employee, 8)
	for i := range emps {
		emps[i] = store.Employee{ExternalID: fmt.Sprintf("G%d", i), Name: "员工", Active: true}
		require.NoError(t, db.Create(&emps[i]).Error)
	}
	enroll := func(s store.Session, e store.Employee, status string) {
		require.NoError(t, db.Create(&store.Enrollment{SessionID: s.ID, EmployeeID: e.ID, Status: status}).Error)
	}
	enroll(a, emps[0], store.EnrollInvited)
	enroll(a, emps[1], store.EnrollExcused)
	enroll(a, emps[2], store.EnrollCancelled)
	enroll(a, emps[4], store.EnrollInvited)
	enroll(b, emps[0], store.EnrollInvited)
	enroll(b, emps[5], store.EnrollInvited)
	enroll(cancelled, emps[6], store.EnrollInvited)
	enroll(a, emps[7], store.EnrollInvited)
	earlier := store.Checkin{SessionID: a.ID, EmployeeID: emps[7].ID, Kind: store.CheckinOnTime, Source: store.SourceCard, CheckedInAt: now.Add(-time.Minute), CreatedAt: now.Add(-time.Minute)}
	require.NoError(t, db.Create(&earlier).Error)

	tap := func(s store.Session, e store.Employee, version time.Time) *pendingCheckin {
		return &pendingCheckin{ci: store.Checkin{SessionID: s.ID, EmployeeID: e.ID, Kind: store.CheckinOnTime, Source: store.SourceCard, Platform: "simulator",
			CheckedInAt: now, CreatedAt: now}, sessUpdated: version.UTC()}
	}
	type want struct{ inserted, duplicate, fallback bool }
	cases := []struct {
		name string
		p    *pendingCheckin
		want want
	}{
		{"invited, session a", tap(a, emps[0], a.UpdatedAt), want{inserted: true}},
		{"the same person again in the batch", tap(a, emps[0], a.UpdatedAt), want{duplicate: true}},
		{"invited, session b", tap(b, emps[0], b.UpdatedAt), want{inserted: true}},
		{"excused: the full path decides", tap(a, emps[1], a.UpdatedAt), want{fallback: true}},
		{"cancelled enrollment", tap(a, emps[2], a.UpdatedAt), want{fallback: true}},
		{"not enrolled", tap(a, emps[3], a.UpdatedAt), want{fallback: true}},
		{"stale session version", tap(a, emps[4], a.UpdatedAt.Add(-time.Second)), want{fallback: true}},
		{"invited, session b, second person", tap(b, emps[5], b.UpdatedAt), want{inserted: true}},
		{"cancelled session", tap(cancelled, emps[6], cancelled.UpdatedAt), want{fallback: true}},
		{"already checked in before the batch", tap(a, emps[7], a.UpdatedAt), want{duplicate: true}},
	}
	rows := make([]*pendingCheckin, len(cases))
	for i, tc := range cases {
		rows[i] = tc.p
	}
	flushCheckins(db.DB, rows) // one batch
	for _, tc := range cases {
		p := tc.p
		require.NoError(t, p.err, tc.name)
		require.Equal(t, tc.want, want{inserted: p.inserted, duplicate: !p.fallback && !p.inserted, fallback: p.fallback}, tc.name)
		if !p.fallback {
			require.Equal(t, []uint64{p.ci.SessionID, p.ci.EmployeeID}, []uint64{p.stored.SessionID, p.stored.EmployeeID}, tc.name)
			require.NotZero(t, p.stored.ID, tc.name)
		}
	}
	require.Equal(t, rows[0].stored.ID, rows[1].stored.ID, "the repeated tap carries the row the first one stored")
	require.Equal(t, earlier.ID, rows[9].stored.ID, "the earlier row is the answer")
	var n int64
	require.NoError(t, db.Model(&store.Checkin{}).Count(&n).Error)
	require.EqualValues(t, 4, n, "three inserted beside the earlier one")
	var events []store.WebhookEvent
	require.NoError(t, db.Where("type = ?", store.EventCheckin).Order("ref_id").Find(&events).Error)
	refs := make([]uint64, len(events))
	for i, e := range events {
		refs[i] = e.RefID
	}
	require.ElementsMatch(t, []uint64{rows[0].stored.ID, rows[2].stored.ID, rows[7].stored.ID}, refs, "one event per inserted row")
}

// TestGroupCommitBatchesGrowUnderLoad: a lone tap is written at once as its
// own batch; taps that come while a batch is being written wait for the
// next one instead of starting small batches beside it, until parallelFrom
// of them are queued; then another batch is written beside the running one.
func TestGroupCommitBatchesGrowUnderLoad(t *testing.T) {
	t.Parallel()
	var g groupCommit
	var (
		mu      sync.Mutex
		sizes   []int
		release = make(chan struct{})
		started = make(chan int, 16)
	)
	flush := func(batch []*pendingCheckin) {
		mu.Lock()
		sizes = append(sizes, len(batch))
		mu.Unlock()
		started <- len(batch)
		<-release // the batches are slow: the taps queue meanwhile
	}
	var wg sync.WaitGroup
	tap := func() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.do(&pendingCheckin{}, flush)
		}()
	}
	tap()
	require.Equal(t, 1, <-started, "a lone tap is its own batch, written at once")
	for range parallelFrom - 1 {
		tap()
	}
	queued := func(n int) func() bool {
		return func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.queue) == n }
	}
	require.Eventually(t, queued(parallelFrom-1), 5*time.Second, time.Millisecond)
	select {
	case n := <-started:
		t.Fatalf("a batch of %d started beside the running one below parallelFrom", n)
	case <-time.After(50 * time.Millisecond):
	}
	tap() // the parallelFrom-th queued tap
	require.Equal(t, parallelFrom, <-started, "a full queue is written beside the running batch")
	for range 3 {
		tap()
	}
	require.Eventually(t, queued(3), 5*time.Second, time.Millisecond)
	close(release)
	require.Equal(t, 3, <-started, "the taps queued meanwhile are the next batch")
	wg.Wait()
	require.Equal(t, []int{1, parallelFrom, 3}, sizes)
	require.Zero(t, g.active)
}
