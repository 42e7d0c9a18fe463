package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// messengerFunc is a fake platform: a function per send.
type messengerFunc func(ctx context.Context, to bot.Recipient, m bot.Message) (bot.Receipt, error)

func (f messengerFunc) Platform() bot.Platform { return bot.PlatformSimulator }
func (f messengerFunc) Send(ctx context.Context, to bot.Recipient, m bot.Message) (bot.Receipt, error) {
	return f(ctx, to, m)
}

type fixture struct {
	db   *storetest.DB
	sess store.Session
	tp   store.Touchpoint
	emps []store.Employee
	now  time.Time
}

func seed(t *testing.T, db *storetest.DB, n int) fixture {
	t.Helper()
	now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	c := store.Course{Code: "C1", Title: "课程"}
	require.NoError(t, db.Create(&c).Error)
	s := store.Session{CourseID: c.ID, Title: "第一期", StartsAt: now.Add(time.Hour), EndsAt: now.Add(3 * time.Hour), TimeZone: "Asia/Shanghai", Locale: "zh-CN",
		Status: store.SessionPlanned, CheckinOpensBefore: 1800, CheckinGrace: 600, MakeupAfter: 86400}
	require.NoError(t, db.Create(&s).Error)
	f := fixture{db: db, sess: s, now: now}
	for i := range n {
		e := store.Employee{ExternalID: "E" + string(rune('A'+i/26)) + string(rune('a'+i%26)), Name: "员工", Active: true}
		require.NoError(t, db.Create(&e).Error)
		require.NoError(t, db.Create(&store.Enrollment{SessionID: s.ID, EmployeeID: e.ID, Status: store.EnrollInvited}).Error)
		f.emps = append(f.emps, e)
	}
	f.tp = store.Touchpoint{SessionID: s.ID, Kind: bot.KindCheckinPrompt, Anchor: store.AnchorStart, Offset: -900, Audience: store.AudienceAll, Template: "checkin_prompt", Status: store.TouchpointScheduled, RunAt: now}
	require.NoError(t, db.Create(&f.tp).Error)
	return f
}

func deliverer(t *testing.T, f fixture, m bot.Messenger) *bot.Deliverer {
	t.Helper()
	signer, err := bot.NewSigner([]byte("deliver-test-secret-0123456789"), func() time.Time { return f.now })
	require.NoError(t, err)
	return &bot.Deliverer{
		DB: f.db.DB, Messengers: map[bot.Platform]bot.Messenger{bot.PlatformSimulator: m}, DefaultPlatform: bot.PlatformSimulator,
		Renderer: &bot.Renderer{Signer: signer, PublicURL: "https://learn.example.com", LinkTTL: time.Hour, Now: func() time.Time { return f.now }},
		Now:      func() time.Time { return f.now }, Workers: 4, BatchSize: 2, Chunk: 50,
	}
}

func statuses(t *testing.T, db *storetest.DB, tpID uint64) map[string]int {
	t.Helper()
	var ds []store.Delivery
	require.NoError(t, db.Where("touchpoint_id = ?", tpID).Find(&ds).Error)
	out := map[string]int{}
	for _, d := range ds {
		out[d.Status]++
	}
	return out
}

func TestFireOutcomes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := seed(t, db, 5)
		// Employee 0 has an unknown platform user: give them a platform that
		// is not enabled.
		require.NoError(t, db.Model(&store.Employee{}).Where("id = ?", f.emps[0].ID).Update("platform", "wecom").Error)
		var calls sync.Map
		var failOnce atomic.Bool
		m := messengerFunc(func(ctx context.Context, to bot.Recipient, msg bot.Message) (bot.Receipt, error) {
			n, _ := calls.LoadOrStore(to.UserID, new(atomic.Int32))
			n.(*atomic.Int32).Add(1)
			require.NoError(t, msg.Validate())
			switch to.EmployeeID {
			case f.emps[1].ID:
				return bot.Receipt{}, bot.Permanent("81013", "user not found", nil)
			case f.emps[2].ID:
				if failOnce.CompareAndSwap(false, true) {
					return bot.Receipt{}, errors.New("connection reset")
				}
			}
			return bot.Receipt{Handle: "h-" + msg.Key}, nil
		})
		d := deliverer(t, f, m)
		st, err := d.Fire(context.Background(), f.tp.ID, "0")
		require.ErrorIs(t, err, bot.ErrTransient)
		require.Equal(t, 5, st.Audience)
		require.Equal(t, 5, st.Created)
		require.Equal(t, 2, st.Sent)
		require.Equal(t, 2, st.Failed) // no platform + permanent
		require.Equal(t, 1, st.Retrying)
		require.Equal(t, map[string]int{store.DeliverySent: 2, store.DeliveryFailed: 2, store.DeliveryPending: 1}, statuses(t, db, f.tp.ID))

		var perm store.Delivery
		require.NoError(t, db.Where("employee_id = ?", f.emps[1].ID).First(&perm).Error)
		require.Equal(t, "81013", perm.ErrorCode)
		require.Contains(t, perm.ErrorMessage, "user not found")

		// The job's retry sends only the pending one.
		st, err = d.Fire(context.Background(), f.tp.ID, "0")
		require.NoError(t, err)
		require.Equal(t, 1, st.Sent)
		require.Equal(t, map[string]int{store.DeliverySent: 3, store.DeliveryFailed: 2}, statuses(t, db, f.tp.ID))
		for _, e := range f.emps[2:] {
			n, _ := calls.Load(e.ExternalID)
			want := int32(1)
			if e.ID == f.emps[2].ID {
				want = 2
			}
			require.Equal(t, want, n.(*atomic.Int32).Load(), e.ExternalID)
		}
		var sent store.Delivery
		require.NoError(t, db.Where("employee_id = ?", f.emps[3].ID).First(&sent).Error)
		require.Equal(t, "h-"+sent.Key, sent.Handle)
		require.NotNil(t, sent.SentAt)
	})
}

// TestFireSettlesChunksTogether: many small chunks sent by several workers
// are settled by merged UPDATEs; each row keeps its own platform handle and
// send time, and every recipient gets one card.
func TestFireSettlesChunksTogether(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		chunk   int
		workers int
		handle  func(key string) string
	}{
		{"a handle per row", 3, 4, func(key string) string { return "h-" + key }},
		{"one handle for all", 3, 4, func(string) string { return "same" }},
		{"one worker", 7, 1, func(key string) string { return "h-" + key }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *storetest.DB) {
				f := seed(t, db, 60)
				k := newKeyCounter()
				count := k.messenger()
				m := messengerFunc(func(ctx context.Context, to bot.Recipient, msg bot.Message) (bot.Receipt, error) {
					if _, err := count(ctx, to, msg); err != nil {
						return bot.Receipt{}, err
					}
					return bot.Receipt{Handle: tc.handle(msg.Key)}, nil
				})
				d := deliverer(t, f, m)
				d.Chunk, d.Workers = tc.chunk, tc.workers
				st, err := d.Fire(context.Background(), f.tp.ID, "0")
				require.NoError(t, err)
				require.Equal(t, 60, st.Sent)
				k.requireEachOnce(t, 60)
				var ds []store.Delivery
				require.NoError(t, db.Where("touchpoint_id = ?", f.tp.ID).Find(&ds).Error)
				require.Len(t, ds, 60)
				for _, r := range ds {
					require.Equal(t, store.DeliverySent, r.Status, r.Key)
					require.Equal(t, tc.handle(r.Key), r.Handle, r.Key)
					require.NotNil(t, r.SentAt, r.Key)
					require.Equal(t, 1, r.Attempts, r.Key)
				}
			})
		})
	}
}

func TestFireAudienceAtSendTimeAndPause(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := seed(t, db, 4)
		require.NoError(t, db.Create(&store.Checkin{SessionID: f.sess.ID, EmployeeID: f.emps[0].ID, Kind: store.CheckinOnTime, Source: store.SourceCard, CheckedInAt: f.now}).Error)
		require.NoError(t, db.Model(&store.Enrollment{}).Where("employee_id = ?", f.emps[1].ID).Update("status", store.EnrollExcused).Error)
		require.NoError(t, db.Model(&store.Employee{}).Where("id = ?", f.emps[2].ID).Update("active", false).Error)
		require.NoError(t, db.Model(&f.tp).Update("audience", store.AudienceNotCheckedIn).Error)

		var got []uint64
		var mu sync.Mutex
		m := messengerFunc(func(ctx context.Context, to bot.Recipient, msg bot.Message) (bot.Receipt, error) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, to.EmployeeID)
			return bot.Receipt{}, nil
		})
		d := deliverer(t, f, m)
		require.NoError(t, db.Model(&f.tp).Update("status", store.TouchpointPaused).Error)
		st, err := d.Fire(context.Background(), f.tp.ID, "0")
		require.NoError(t, err)
		require.True(t, st.Skipped)
		require.Empty(t, got)

		require.NoError(t, db.Model(&f.tp).Update("status", store.TouchpointScheduled).Error)
		_, err = d.Fire(context.Background(), f.tp.ID, "0")
		require.NoError(t, err)
		// Checked in, excused and inactive people are left out.
		require.Equal(t, []uint64{f.emps[3].ID}, got)
	})
}

// keyCounter is a fake platform that counts sends per delivery key.
type keyCounter struct {
	mu    sync.Mutex
	sends map[string]int
}

func newKeyCounter() *keyCounter { return &keyCounter{sends: map[string]int{}} }

func (k *keyCounter) messenger() messengerFunc {
	return func(ctx context.Context, to bot.Recipient, msg bot.Message) (bot.Receipt, error) {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.sends[msg.Key]++
		return bot.Receipt{Handle: msg.Key}, nil
	}
}

// requireEachOnce asserts n distinct keys were sent, each once.
func (k *keyCounter) requireEachOnce(t *testing.T, n int) {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	require.Len(t, k.sends, n)
	for key, c := range k.sends {
		require.Equal(t, 1, c, key)
	}
}

func (k *keyCounter) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.sends)
}

func TestConcurrentFireSendsEachOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		returning bool
	}{
		{"insert returns the rows", true},
		{"rows read back (MySQL has no RETURNING)", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			concurrentFireSendsEachOnce(t, tc.returning)
		})
	}
}

func concurrentFireSendsEachOnce(t *testing.T, returning bool) {
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := seed(t, db, 60)
		deliverer := func(t *testing.T, f fixture, m bot.Messenger) *bot.Deliverer {
			d := deliverer(t, f, m)
			if !returning {
				bot.ReadBackIDs(d) // as on MySQL
			}
			return d
		}
		k := newKeyCounter()
		m := k.messenger()
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				// A run that finds rows another live run is sending must not
				// call the occurrence done.
				_, err := deliverer(t, f, m).Fire(context.Background(), f.tp.ID, "0")
				var unsettled *bot.UnsettledError
				if err != nil {
					require.ErrorAs(t, err, &unsettled)
				}
			})
		}
		wg.Wait()
		_, err := deliverer(t, f, m).Fire(context.Background(), f.tp.ID, "0")
		require.NoError(t, err, "once every run is done the occurrence is settled")
		require.Equal(t, map[string]int{store.DeliverySent: 60}, statuses(t, db, f.tp.ID))
		k.requireEachOnce(t, 60)
	})
}

func TestCheckinWindows(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	s := store.Session{StartsAt: start, EndsAt: start.Add(2 * time.Hour), CheckinOpensBefore: 1800, CheckinGrace: 600, MakeupAfter: 3600}
	w := bot.SessionWindows(s)
	cases := []struct {
		at   time.Duration
		kind string
		err  error
	}{
		{-31 * time.Minute, "", bot.ErrCheckinNotOpen},
		{-30 * time.Minute, store.CheckinOnTime, nil},
		{0, store.CheckinOnTime, nil},
		{10 * time.Minute, store.CheckinOnTime, nil},
		{10*time.Minute + time.Second, store.CheckinLate, nil},
		{2 * time.Hour, store.CheckinLate, nil},
		{2*time.Hour + time.Second, store.CheckinMakeup, nil},
		{3 * time.Hour, store.CheckinMakeup, nil},
		{3*time.Hour + time.Second, "", bot.ErrCheckinClosed},
	}
	for _, tc := range cases {
		k, err := w.Classify(start.Add(tc.at))
		require.ErrorIs(t, err, tc.err, tc.at)
		if tc.err == nil {
			require.NoError(t, err)
		}
		require.Equal(t, tc.kind, k, tc.at)
	}
}

// checkingMessenger is a platform that drops some messages after accepting
// them and answers CheckDelivery about it.
type checkingMessenger struct {
	messengerFunc
	check func(handle, user string) error
}

func (c checkingMessenger) CheckDelivery(_ context.Context, handle, user string) error {
	return c.check(handle, user)
}

func TestReconcileMarksLateDrops(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := seed(t, db, 4)
		send := messengerFunc(func(ctx context.Context, to bot.Recipient, m bot.Message) (bot.Receipt, error) {
			return bot.Receipt{Handle: "wn:" + to.UserID}, nil
		})
		m := checkingMessenger{messengerFunc: send, check: func(handle, user string) error {
			switch user {
			case f.emps[0].ExternalID:
				return &bot.DroppedError{Code: "143106", Message: "duplicate content today"}
			case f.emps[1].ExternalID:
				return bot.Permanent("invalid_user", "unknown user", nil)
			case f.emps[2].ExternalID:
				return errors.New("still sending")
			}
			return nil
		}}
		d := deliverer(t, f, m)
		_, err := d.Fire(context.Background(), f.tp.ID, "0")
		require.NoError(t, err)
		n, err := d.Reconcile(context.Background(), f.now.Add(-time.Hour), f.now.Add(time.Minute))
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.Equal(t, map[string]int{store.DeliveryDropped: 1, store.DeliveryFailed: 1, store.DeliverySent: 2}, statuses(t, db, f.tp.ID))
		var dropped store.Delivery
		require.NoError(t, db.Where("status = ?", store.DeliveryDropped).First(&dropped).Error)
		require.Equal(t, "143106", dropped.ErrorCode)
		// Outside the window nothing is asked again.
		n, err = d.Reconcile(context.Background(), f.now.Add(time.Minute), f.now.Add(time.Hour))
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

// leaveSending makes the first n deliveries of f's occurrence look claimed by
// another run that is gone: status sending under token, updated at f.now.
func leaveSending(t *testing.T, f fixture, n int, token string) {
	t.Helper()
	var ids []uint64
	require.NoError(t, f.db.Model(&store.Delivery{}).Where("touchpoint_id = ?", f.tp.ID).Order("id").Limit(n).Pluck("id", &ids).Error)
	require.Len(t, ids, n)
	require.NoError(t, f.db.Model(&store.Delivery{}).Where("id IN ?", ids).
		Updates(map[string]any{"status": store.DeliverySending, "claim_token": token, "updated_at": f.now}).Error)
}

// TestFireTakesOverRowsOfADeadRun: a replica killed mid fan-out leaves rows
// "sending". The job's next holder (same owner) resends them at once under
// their delivery keys; a run of another owner waits until they are stale,
// and never calls the occurrence done while they are open.
func TestFireTakesOverRowsOfADeadRun(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := seed(t, db, 30)
		k := newKeyCounter()
		m := k.messenger()
		// The first holder creates the rows, then "dies" with 12 claimed.
		never := messengerFunc(func(ctx context.Context, to bot.Recipient, msg bot.Message) (bot.Receipt, error) {
			return bot.Receipt{}, errors.New("platform unreachable")
		})
		_, err := deliverer(t, f, never).Fire(bot.WithClaimOwner(context.Background(), "job7"), f.tp.ID, "0")
		require.ErrorIs(t, err, bot.ErrTransient)
		leaveSending(t, f, 12, "job7.deadrun")

		// Another job's run must neither send them nor complete.
		other := deliverer(t, f, m)
		other.StaleSending = time.Minute
		_, err = other.Fire(bot.WithClaimOwner(context.Background(), "job8"), f.tp.ID, "0")
		var unsettled *bot.UnsettledError
		require.ErrorAs(t, err, &unsettled)
		require.Equal(t, 12, unsettled.Sending)
		require.Equal(t, 30*time.Second, unsettled.Wait, "checks again when the rows are stale (in 1m), at most every 30s")
		require.Equal(t, 18, k.count())

		// The job's next holder resends them at once.
		st, err := deliverer(t, f, m).Fire(bot.WithClaimOwner(context.Background(), "job7"), f.tp.ID, "0")
		require.NoError(t, err)
		require.Equal(t, 12, st.Resent)
		require.Equal(t, map[string]int{store.DeliverySent: 30}, statuses(t, db, f.tp.ID))
		k.requireEachOnce(t, 30)
	})
}

// TestFireResendsStaleRows: rows of a run with no durable owner (a CLI
// send-now that was killed) are resent once they are older than StaleSending.
func TestFireResendsStaleRows(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := seed(t, db, 5)
		var sent atomic.Int64
		m := messengerFunc(func(ctx context.Context, to bot.Recipient, msg bot.Message) (bot.Receipt, error) {
			sent.Add(1)
			return bot.Receipt{}, nil
		})
		d := deliverer(t, f, m)
		d.StaleSending = time.Minute
		_, err := d.Fire(context.Background(), f.tp.ID, "0")
		require.NoError(t, err)
		require.NoError(t, db.Model(&store.Delivery{}).Where("touchpoint_id = ?", f.tp.ID).Update("status", store.DeliveryPending).Error)
		leaveSending(t, f, 2, "x.gone")
		sent.Store(0)

		_, err = d.Fire(context.Background(), f.tp.ID, "0")
		var unsettled *bot.UnsettledError
		require.ErrorAs(t, err, &unsettled)
		require.EqualValues(t, 3, sent.Load())

		later := f
		later.now = f.now.Add(61 * time.Second)
		d2 := deliverer(t, later, m)
		d2.StaleSending = time.Minute
		st, err := d2.Fire(context.Background(), f.tp.ID, "0")
		require.NoError(t, err)
		require.Equal(t, 2, st.Resent)
		require.EqualValues(t, 5, sent.Load())
	})
}

// TestFireStopsOnShutdownAndRecordsWhatWasSent: when the context is cancelled
// mid fan-out (SIGTERM), the send in flight finishes and is recorded, nothing
// new starts, and no row is left "sending".
func TestFireStopsOnShutdownAndRecordsWhatWasSent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := seed(t, db, 200)
		ctx, cancel := context.WithCancel(bot.WithClaimOwner(context.Background(), "job1"))
		defer cancel()
		var sent atomic.Int64
		m := messengerFunc(func(sctx context.Context, to bot.Recipient, msg bot.Message) (bot.Receipt, error) {
			if sent.Add(1) == 40 {
				cancel() // SIGTERM arrives while this send is in flight
				time.Sleep(20 * time.Millisecond)
				if sctx.Err() != nil {
					return bot.Receipt{}, sctx.Err() // a started send must be allowed to finish
				}
			}
			return bot.Receipt{}, nil
		})
		_, err := deliverer(t, f, m).Fire(ctx, f.tp.ID, "0")
		require.ErrorIs(t, err, context.Canceled)
		st := statuses(t, db, f.tp.ID)
		require.Zero(t, st[store.DeliverySending], "nothing left sending: %v", st)
		require.EqualValues(t, sent.Load(), st[store.DeliverySent], "every accepted send is recorded")
		require.Less(t, sent.Load(), int64(200))
		// Rows are written while the first ones are sent, so shutdown may
		// come before the last are written: those are the next holder's.
		rows := 0
		for _, n := range st {
			rows += n
		}
		require.LessOrEqual(t, rows, 200)
		require.Equal(t, rows, st[store.DeliverySent]+st[store.DeliveryPending], "every row is sent or handed back pending: %v", st)
		var attempts []int
		require.NoError(t, db.Model(&store.Delivery{}).Where("touchpoint_id = ? AND status = ?", f.tp.ID, store.DeliveryPending).Pluck("attempts", &attempts).Error)
		for _, a := range attempts {
			require.Zero(t, a, "a row never sent gets its attempt back")
		}

		// The next holder sends the rest, each once.
		_, err = deliverer(t, f, m).Fire(bot.WithClaimOwner(context.Background(), "job1"), f.tp.ID, "0")
		require.NoError(t, err)
		require.EqualValues(t, 200, sent.Load())
	})
}

// TestFireFailsRowsOfADisabledPlatform: rows created while a platform was
// enabled fail with the reason once it is not, instead of staying pending
// (which would retry the job until its attempts run out).
func TestFireFailsRowsOfADisabledPlatform(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := seed(t, db, 3)
		never := messengerFunc(func(ctx context.Context, to bot.Recipient, msg bot.Message) (bot.Receipt, error) {
			return bot.Receipt{}, errors.New("platform unreachable")
		})
		_, err := deliverer(t, f, never).Fire(context.Background(), f.tp.ID, "0")
		require.ErrorIs(t, err, bot.ErrTransient)
		d := deliverer(t, f, never)
		d.Messengers = map[bot.Platform]bot.Messenger{} // the simulator was turned off
		st, err := d.Fire(context.Background(), f.tp.ID, "0")
		require.NoError(t, err, "settled: nothing can ever send them")
		require.Equal(t, 3, st.Failed)
		var ds []store.Delivery
		require.NoError(t, db.Where("touchpoint_id = ?", f.tp.ID).Find(&ds).Error)
		for _, r := range ds {
			require.Equal(t, store.DeliveryFailed, r.Status)
			require.Equal(t, "no_platform", r.ErrorCode)
		}
	})
}

// TestFireStoresWhateverThePlatformAnswers: a platform's error code longer
// than its column and an error text that is not UTF-8 (a wrong or hostile
// platform) are stored cut and made valid, so the settle of the chunk that
// carries them is not refused (MySQL in strict mode refuses both) and the
// other recipients' outcomes are stored beside them.
func TestFireStoresWhateverThePlatformAnswers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := seed(t, db, 3)
		longCode := strings.Repeat("E", 100)
		badText := "bad \xff\xfe bytes " + strings.Repeat("长", 2000)
		var failOnce atomic.Bool
		m := messengerFunc(func(ctx context.Context, to bot.Recipient, msg bot.Message) (bot.Receipt, error) {
			switch to.EmployeeID {
			case f.emps[0].ID:
				return bot.Receipt{}, bot.Permanent(longCode, badText, nil)
			case f.emps[1].ID:
				if failOnce.CompareAndSwap(false, true) {
					return bot.Receipt{}, errors.New(badText)
				}
			}
			return bot.Receipt{Handle: "h-" + msg.Key}, nil
		})
		d := deliverer(t, f, m)
		st, err := d.Fire(context.Background(), f.tp.ID, "0")
		require.ErrorIs(t, err, bot.ErrTransient)
		require.Equal(t, 1, st.Sent)
		require.Equal(t, 1, st.Failed)
		require.Equal(t, 1, st.Retrying)
		require.Equal(t, map[string]int{store.DeliverySent: 1, store.DeliveryFailed: 1, store.DeliveryPending: 1}, statuses(t, db, f.tp.ID))
		for _, e := range f.emps[:2] {
			var row store.Delivery
			require.NoError(t, db.Where("employee_id = ?", e.ID).First(&row).Error)
			require.LessOrEqual(t, utf8.RuneCountInString(row.ErrorCode), 64)
			require.True(t, utf8.ValidString(row.ErrorMessage), row.ErrorMessage[:40])
			require.LessOrEqual(t, utf8.RuneCountInString(row.ErrorMessage), 1024)
			require.Contains(t, row.ErrorMessage, "bytes 长长")
		}
		st, err = d.Fire(context.Background(), f.tp.ID, "0")
		require.NoError(t, err)
		require.Equal(t, 1, st.Sent)
	})
}
