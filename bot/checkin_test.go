package bot_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// ticking is a clock that moves 1 ms at every read, so no two taps share an
// instant.
func ticking(start time.Time) func() time.Time {
	var n atomic.Int64
	return func() time.Time { return start.Add(time.Duration(n.Add(1)) * time.Millisecond) }
}

// TestCheckinStormStoresEachOnce: 120 people tap twice at once (the storm
// path group-commits them): one row per person, one "first" answer each, the
// rest duplicates carrying the stored row.
func TestCheckinStormStoresEachOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := seed(t, db, 120)
		c := &bot.Checkins{DB: db.DB, Now: ticking(f.sess.StartsAt.Add(-10 * time.Minute))}
		type result struct {
			res bot.CheckinResult
			err error
		}
		results := make([]result, 2*len(f.emps))
		var wg sync.WaitGroup
		for i := range results {
			e := f.emps[i%len(f.emps)]
			wg.Go(func() {
				sess := f.sess
				res, err := c.Record(context.Background(), bot.CheckinRequest{SessionID: sess.ID, EmployeeID: e.ID, Source: store.SourceCard, Platform: "simulator", Session: &sess})
				results[i] = result{res, err}
			})
		}
		wg.Wait()
		first := map[uint64]int{}
		for _, r := range results {
			require.NoError(t, r.err)
			require.NotZero(t, r.res.Checkin.ID)
			require.Equal(t, "on_time", r.res.Checkin.Kind)
			if !r.res.Duplicate {
				first[r.res.Checkin.EmployeeID]++
			}
		}
		require.Len(t, first, len(f.emps))
		for id, n := range first {
			require.Equal(t, 1, n, "employee %d", id)
		}
		var n int64
		require.NoError(t, db.Model(&store.Checkin{}).Where("session_id = ?", f.sess.ID).Count(&n).Error)
		require.EqualValues(t, len(f.emps), n)
	})
}

// TestCheckinFastPathFollowsTheRules: a caller's session may be stale and
// enrollments change; the storm path must give the same answers as the full
// path.
func TestCheckinFastPathFollowsTheRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := seed(t, db, 4)
		c := &bot.Checkins{DB: db.DB, Now: ticking(f.sess.StartsAt.Add(-10 * time.Minute))}
		require.NoError(t, db.Model(&store.Enrollment{}).Where("employee_id = ?", f.emps[1].ID).Update("status", store.EnrollExcused).Error)
		require.NoError(t, db.Model(&store.Enrollment{}).Where("employee_id = ?", f.emps[2].ID).Update("status", store.EnrollCancelled).Error)
		stale := f.sess
		require.NoError(t, db.First(&stale, f.sess.ID).Error)
		// The coordinator moves the class a day later: check-in is not open
		// yet, whatever the caller's copy of the session says.
		require.NoError(t, db.Model(&store.Session{}).Where("id = ?", f.sess.ID).Updates(map[string]any{
			"starts_at": f.sess.StartsAt.Add(24 * time.Hour), "ends_at": f.sess.EndsAt.Add(24 * time.Hour),
		}).Error)
		rec := func(e store.Employee, sess store.Session) (bot.CheckinResult, error) {
			return c.Record(context.Background(), bot.CheckinRequest{SessionID: sess.ID, EmployeeID: e.ID, Source: store.SourceCard, Session: &sess})
		}
		if db.Driver == store.DriverMySQL { // only the storm path accepts a possibly stale copy
			_, err := rec(f.emps[0], stale)
			require.ErrorIs(t, err, bot.ErrCheckinNotOpen, "windows come from the session as stored")
		}

		// Back to the original time: the stale copy is current again in
		// content but not in version; answers still follow the rules.
		var cur store.Session
		require.NoError(t, db.Model(&store.Session{}).Where("id = ?", f.sess.ID).Updates(map[string]any{
			"starts_at": f.sess.StartsAt, "ends_at": f.sess.EndsAt,
		}).Error)
		require.NoError(t, db.First(&cur, f.sess.ID).Error)
		res, err := rec(f.emps[1], cur)
		require.NoError(t, err, "an excused person who comes is checked in")
		require.False(t, res.Duplicate)
		var enr store.Enrollment
		require.NoError(t, db.Where("employee_id = ?", f.emps[1].ID).First(&enr).Error)
		require.Equal(t, store.EnrollInvited, enr.Status)
		_, err = rec(f.emps[2], cur)
		require.ErrorIs(t, err, bot.ErrNotEnrolled)
		outsider := store.Employee{ExternalID: "OUT", Name: "外人", Active: true}
		require.NoError(t, db.Create(&outsider).Error)
		_, err = rec(outsider, cur)
		require.ErrorIs(t, err, bot.ErrNotEnrolled)
		res, err = rec(f.emps[3], cur)
		require.NoError(t, err)
		require.False(t, res.Duplicate)
		var n int64
		require.NoError(t, db.Model(&store.Checkin{}).Where("session_id = ?", f.sess.ID).Count(&n).Error)
		require.EqualValues(t, 2, n)
	})
}

// TestCheckinRepeatedTapAtTheSameInstant: three taps with the clock standing
// still store one check-in and answer the second and third as duplicates.
func TestCheckinRepeatedTapAtTheSameInstant(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := seed(t, db, 1)
		at := f.sess.StartsAt.Add(-5 * time.Minute)
		c := &bot.Checkins{DB: db.DB, Now: func() time.Time { return at }}
		for i := range 3 {
			sess := f.sess
			res, err := c.Record(context.Background(), bot.CheckinRequest{SessionID: sess.ID, EmployeeID: f.emps[0].ID, Source: store.SourceCard, Session: &sess})
			require.NoError(t, err)
			require.Equal(t, i > 0, res.Duplicate, "tap %d", i+1)
		}
	})
}

// TestCheckinBatchFailureChangesNothing: a batch the database refuses (a
// note longer than its column) answers an error, stores nothing — no
// check-in, no outbox row — and leaves the batch connection clean for the
// next tap, which is stored with its event.
func TestCheckinBatchFailureChangesNothing(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverMySQL)
	f := seed(t, db, 2)
	c := &bot.Checkins{DB: db.DB, Now: ticking(f.sess.StartsAt.Add(-10 * time.Minute))}
	count := func(model any) int64 {
		var n int64
		require.NoError(t, db.Model(model).Count(&n).Error)
		return n
	}
	for range 3 { // more attempts than the pool has connections to hide a dirty one
		sess := f.sess
		_, err := c.Record(context.Background(), bot.CheckinRequest{SessionID: sess.ID, EmployeeID: f.emps[0].ID, Source: store.SourceCard, Session: &sess, Note: strings.Repeat("长", 300)})
		require.ErrorContains(t, err, "Data too long")
	}
	require.Zero(t, count(&store.Checkin{}))
	require.Zero(t, count(&store.WebhookEvent{}))
	for _, e := range f.emps {
		sess := f.sess
		res, err := c.Record(context.Background(), bot.CheckinRequest{SessionID: sess.ID, EmployeeID: e.ID, Source: store.SourceCard, Session: &sess})
		require.NoError(t, err)
		require.False(t, res.Duplicate)
		require.NotZero(t, res.Checkin.ID)
	}
	require.EqualValues(t, 2, count(&store.Checkin{}))
	require.EqualValues(t, 2, count(&store.WebhookEvent{}))
}
