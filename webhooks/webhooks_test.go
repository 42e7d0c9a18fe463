package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/clocktest"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/webhooks"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// received is one request a receiver accepted after checking its signature.
type received struct {
	header http.Header
	body   []byte
	env    webhooks.Envelope
}

// receiver is a real HTTP receiver that verifies every signature the way
// the README tells receivers to, and answers what script says (by call
// number, 1-based; "hang" waits past the client's timeout).
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret []byte
	now    func() time.Time
	script func(n int) string

	mu    sync.Mutex
	calls int
	got   []received
	bad   int
}

func newReceiver(t *testing.T, now func() time.Time, script func(n int) string) *receiver {
	r := &receiver{t: t, now: now, script: script}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.calls++
		n := r.calls
		secret := r.secret
		r.mu.Unlock()
		if err := webhooks.Verify(secret, req.Header.Get(webhooks.SignatureHeader), body, r.now(), webhooks.Tolerance); err != nil {
			r.mu.Lock()
			r.bad++
			r.mu.Unlock()
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var env webhooks.Envelope
		require.NoError(t, json.Unmarshal(body, &env))
		switch r.script(n) {
		case "500":
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		case "garbage": // not UTF-8: a wrong or hostile receiver
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("bad \xff\xfe gateway"))
			return
		case "hang":
			select {
			case <-req.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: body, env: env})
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) accepted() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func always200(int) string { return "200" }

type fixture struct {
	db      *storetest.DB
	clk     *clocktest.Clock
	svc     *webhooks.Service
	sched   *scheduler.Scheduler
	sess    store.Session
	emps    []store.Employee
	checkin *bot.Checkins
}

func newFixture(t *testing.T, db *storetest.DB, opts webhooks.Options) *fixture {
	t.Helper()
	clk := clocktest.New(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
	sched := scheduler.New(db.DB, scheduler.Options{Now: clk.Now, Lease: time.Minute, WorkerID: "w1"})
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	opts.BackoffBase, opts.BackoffMax = 10*time.Second, 40*time.Second
	svc, err := webhooks.New(webhooks.Deps{DB: db.DB, Sched: sched, Key: testKey, Opts: opts, Now: clk.Now})
	require.NoError(t, err)
	sched.Register(webhooks.JobDispatch, svc.Handler())
	f := &fixture{db: db, clk: clk, svc: svc, sched: sched, checkin: &bot.Checkins{DB: db.DB, Now: clk.Now}}
	start := clk.Now().Add(10 * time.Minute)
	course := store.Course{Code: "SALES-1", Title: "销售技巧"}
	require.NoError(t, db.Create(&course).Error)
	f.sess = store.Session{CourseID: course.ID, Title: "销售技巧", StartsAt: start, EndsAt: start.Add(time.Hour), TimeZone: "Asia/Shanghai", Locale: "zh-CN",
		Status: store.SessionPlanned, CheckinOpensBefore: 1800, CheckinGrace: 600, MakeupAfter: 86400}
	require.NoError(t, db.Create(&f.sess).Error)
	for _, id := range []string{"E1", "E2", "E3"} {
		e := store.Employee{ExternalID: id, Name: "员工" + id, Department: "销售部", Active: true}
		require.NoError(t, db.Create(&e).Error)
		require.NoError(t, db.Create(&store.Enrollment{SessionID: f.sess.ID, EmployeeID: e.ID, Status: store.EnrollInvited}).Error)
		f.emps = append(f.emps, e)
	}
	return f
}

// checkIn records a check-in through the real path (on MySQL the group
// commit, since the session is passed).
func (f *fixture) checkIn(t *testing.T, e store.Employee) store.Checkin {
	t.Helper()
	sess := f.sess
	res, err := f.checkin.Record(context.Background(), bot.CheckinRequest{SessionID: f.sess.ID, EmployeeID: e.ID, Source: store.SourceCard, Platform: "wecom", Session: &sess})
	require.NoError(t, err)
	require.False(t, res.Duplicate)
	return res.Checkin
}

func (f *fixture) endpoint(t *testing.T, url string, events ...string) webhooks.Endpoint {
	t.Helper()
	ep, err := f.svc.Create(context.Background(), webhooks.Input{URL: &url, Events: events}, "admin")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(ep.Secret, "whsec_"))
	return ep
}

func (f *fixture) deliveries(t *testing.T, ep uint64) []webhooks.Delivery {
	t.Helper()
	ds, err := f.svc.Deliveries(context.Background(), ep, 0, 100)
	require.NoError(t, err)
	return ds
}

// TestCheckinsAreSentSignedOncePerEvent: three check-ins (one tapped twice)
// reach a real receiver as three signed events with stable ids and the
// check-in's data; an endpoint that does not follow check-ins gets nothing.
func TestCheckinsAreSentSignedOncePerEvent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := newFixture(t, db, webhooks.Options{AllowPrivate: true})
		rcv := newReceiver(t, f.clk.Now, always200)
		ep := f.endpoint(t, rcv.srv.URL+"/hook", store.EventCheckin)
		rcv.secret = []byte(ep.Secret)
		other := newReceiver(t, f.clk.Now, always200)
		ep2 := f.endpoint(t, other.srv.URL, store.EventConversion)
		other.secret = []byte(ep2.Secret)

		var cis []store.Checkin
		for _, e := range f.emps {
			cis = append(cis, f.checkIn(t, e))
		}
		sess := f.sess
		dup, err := f.checkin.Record(context.Background(), bot.CheckinRequest{SessionID: f.sess.ID, EmployeeID: f.emps[0].ID, Source: store.SourceCard, Session: &sess})
		require.NoError(t, err)
		require.True(t, dup.Duplicate)
		var n int64
		require.NoError(t, db.Model(&store.WebhookEvent{}).Count(&n).Error)
		require.EqualValues(t, 3, n, "one outbox row per check-in, the second tap none")

		more, err := f.svc.RunOnce(context.Background())
		require.NoError(t, err)
		require.True(t, more)
		got := rcv.accepted()
		require.Len(t, got, 3)
		require.Zero(t, rcv.bad)
		require.Empty(t, other.accepted())
		byEmp := map[string]webhooks.CheckinData{}
		ids := map[string]bool{}
		for _, g := range got {
			require.Equal(t, store.EventCheckin, g.env.Type)
			require.Equal(t, store.EventCheckin, g.header.Get("X-Learnloop-Event"))
			require.Equal(t, g.env.ID, g.header.Get("X-Learnloop-Event-Id"))
			require.Equal(t, "application/json", g.header.Get("Content-Type"))
			var d webhooks.CheckinData
			require.NoError(t, json.Unmarshal(g.env.Data, &d))
			byEmp[d.EmployeeID] = d
			ids[g.env.ID] = true
		}
		require.Len(t, ids, 3)
		d := byEmp["E2"]
		require.Equal(t, cis[1].ID, d.CheckinID)
		require.Equal(t, f.sess.ID, d.SessionID)
		require.Equal(t, "销售技巧", d.SessionTitle)
		require.Equal(t, f.sess.CourseID, d.CourseID)
		require.Equal(t, "员工E2", d.EmployeeName)
		require.Equal(t, store.CheckinOnTime, d.Kind)
		require.True(t, d.CheckedInAt.Equal(f.clk.Now()))

		ds := f.deliveries(t, ep.ID)
		require.Len(t, ds, 3)
		for _, x := range ds {
			require.Equal(t, store.WebhookSucceeded, x.Status)
			require.Len(t, x.Log, 1)
			require.Equal(t, http.StatusNoContent, x.Log[0].StatusCode)
			require.Equal(t, "succeeded", x.Log[0].Outcome)
			require.Nil(t, x.NextAttemptAt)
		}
		// Nothing more to send: a second run posts nothing.
		_, err = f.svc.RunOnce(context.Background())
		require.NoError(t, err)
		require.Len(t, rcv.accepted(), 3)
	})
}

// TestRetriesAfter500sAndTimeouts: 500, 500 (the second with a body that is
// not UTF-8, logged made valid), a timeout, then 204 — each attempt logged
// with its code, the next one after the capped backoff
// (10s, 20s, 40s); a receiver that never answers 2xx fails after
// MaxAttempts and is sent again by a redelivery.
func TestRetriesAfter500sAndTimeouts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := newFixture(t, db, webhooks.Options{AllowPrivate: true, Timeout: 300 * time.Millisecond, MaxAttempts: 5})
		script := []string{"500", "garbage", "hang", "200"}
		rcv := newReceiver(t, f.clk.Now, func(n int) string { return script[min(n, len(script))-1] })
		ep := f.endpoint(t, rcv.srv.URL, store.EventCheckin)
		rcv.secret = []byte(ep.Secret)
		f.checkIn(t, f.emps[0])
		ctx := context.Background()

		for i, wait := range []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second} {
			_, err := f.svc.RunOnce(ctx)
			require.NoError(t, err)
			ds := f.deliveries(t, ep.ID)
			require.Len(t, ds, 1)
			require.Equal(t, store.WebhookPending, ds[0].Status, "attempt %d", i+1)
			require.Equal(t, i+1, ds[0].Attempts)
			require.NotNil(t, ds[0].NextAttemptAt)
			require.True(t, ds[0].NextAttemptAt.Equal(f.clk.Now().Add(wait)), "attempt %d: next at %s", i+1, ds[0].NextAttemptAt)
			// Not due yet: nothing is sent.
			f.clk.Advance(wait - time.Second)
			_, err = f.svc.RunOnce(ctx)
			require.NoError(t, err)
			require.Equal(t, i+1, f.deliveries(t, ep.ID)[0].Attempts)
			f.clk.Advance(time.Second)
		}
		_, err := f.svc.RunOnce(ctx)
		require.NoError(t, err)
		ds := f.deliveries(t, ep.ID)
		require.Equal(t, store.WebhookSucceeded, ds[0].Status)
		require.Len(t, ds[0].Log, 4)
		codes := []int{ds[0].Log[0].StatusCode, ds[0].Log[1].StatusCode, ds[0].Log[2].StatusCode, ds[0].Log[3].StatusCode}
		require.Equal(t, []int{500, 502, 0, 204}, codes)
		require.Equal(t, "retry", ds[0].Log[0].Outcome)
		require.Contains(t, ds[0].Log[0].Error, "500")
		require.Contains(t, ds[0].Log[1].Error, "bad \uFFFD")
		require.True(t, utf8.ValidString(ds[0].Log[1].Error), ds[0].Log[1].Error)
		require.Contains(t, strings.ToLower(ds[0].Log[2].Error), "timeout")
		require.Len(t, rcv.accepted(), 1)

		// Always 500: failed after 5 attempts, then redelivered.
		script = []string{"500"}
		rcv.mu.Lock()
		rcv.calls = 0
		rcv.mu.Unlock()
		f.checkIn(t, f.emps[1])
		var failed webhooks.Delivery
		for range 5 {
			_, err := f.svc.RunOnce(ctx)
			require.NoError(t, err)
			f.clk.Advance(time.Minute)
		}
		failed = f.deliveries(t, ep.ID)[0]
		require.Equal(t, store.WebhookFailed, failed.Status)
		require.Equal(t, 5, failed.Attempts)
		require.Equal(t, "failed", failed.Log[4].Outcome)
		script = []string{"200"}
		re, err := f.svc.Redeliver(ctx, ep.ID, failed.ID, "admin")
		require.NoError(t, err)
		require.Equal(t, store.WebhookPending, re.Status)
		_, err = f.svc.RunOnce(ctx)
		require.NoError(t, err)
		again := f.deliveries(t, ep.ID)[0]
		require.Equal(t, store.WebhookSucceeded, again.Status)
		require.Len(t, again.Log, 6, "the log keeps the failed attempts")
		got := rcv.accepted()
		require.Len(t, got, 2)
		require.Equal(t, failed.EventID, got[1].env.ID, "a redelivery carries the same event id")
	})
}

// TestDispatchJobSurvivesAKilledWorker: the worker that held the dispatch
// job died (kill -9: the job is left running under its lease); once the
// lease is over another worker takes the job and sends what waited, and
// keeps the job going.
func TestDispatchJobSurvivesAKilledWorker(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := newFixture(t, db, webhooks.Options{AllowPrivate: true})
		rcv := newReceiver(t, f.clk.Now, always200)
		ep := f.endpoint(t, rcv.srv.URL, store.EventCheckin)
		rcv.secret = []byte(ep.Secret)
		f.checkIn(t, f.emps[0])
		// What kill -9 leaves: the job running, locked by a worker that
		// is gone, its lease running.
		res := db.Model(&store.Job{}).Where("unique_key = ?", webhooks.JobDispatch).Updates(map[string]any{
			"state": store.JobRunning, "locked_by": "dead-worker", "attempts": 1, "locked_until": f.clk.Now().Add(time.Minute),
		})
		require.NoError(t, res.Error)
		require.EqualValues(t, 1, res.RowsAffected)

		other := scheduler.New(db.DB, scheduler.Options{Now: f.clk.Now, Lease: time.Minute, WorkerID: "w2"})
		other.Register(webhooks.JobDispatch, f.svc.Handler())
		ctx := context.Background()
		n, err := other.RunDue(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "the lease still holds")
		require.Empty(t, rcv.accepted())

		f.clk.Advance(time.Minute + time.Second)
		n, err = other.RunDue(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Len(t, rcv.accepted(), 1)
		var job store.Job
		require.NoError(t, db.Where("unique_key = ?", webhooks.JobDispatch).Take(&job).Error)
		require.Equal(t, store.JobAvailable, job.State, "snoozed, not finished")
		require.True(t, job.RunAt.After(f.clk.Now()))

		// The job keeps serving: a later check-in goes out on its next run.
		f.checkIn(t, f.emps[1])
		f.clk.Advance(time.Minute)
		_, err = other.RunDue(ctx)
		require.NoError(t, err)
		require.Len(t, rcv.accepted(), 2)
		require.Zero(t, rcv.bad)
	})
}

// TestTargetsInsideAreRefused: without allow_private_targets, loopback,
// private and link-local URLs are refused when saved, and a stored one is
// refused again when connecting; the secret never shows in the log.
func TestTargetsInsideAreRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := newFixture(t, db, webhooks.Options{})
		ctx := context.Background()
		for _, u := range []string{"http://127.0.0.1:9/x", "http://localhost/x", "https://10.1.2.3/", "http://[::1]/", "http://169.254.169.254/latest", "http://192.168.1.1", "ftp://example.com/", "https://user:pw@example.com/", "not a url"} {
			_, err := f.svc.Create(ctx, webhooks.Input{URL: &u, Events: []string{store.EventCheckin}}, "admin")
			var inv *webhooks.InvalidError
			require.ErrorAs(t, err, &inv, u)
			require.Equal(t, "url", inv.Fields[0].Field, u)
		}
		bad := []string{"checkin.created", "nope"}
		u := "https://example.com/hook"
		_, err := f.svc.Create(ctx, webhooks.Input{URL: &u, Events: bad}, "admin")
		var inv *webhooks.InvalidError
		require.ErrorAs(t, err, &inv)
		require.Equal(t, "events", inv.Fields[0].Field)
		var n int64
		require.NoError(t, db.Model(&store.WebhookEndpoint{}).Count(&n).Error)
		require.Zero(t, n, "bad input changes nothing")

		// A name that resolves inside is refused at connect time.
		rcv := newReceiver(t, f.clk.Now, always200)
		ep, err := f.svc.Create(ctx, webhooks.Input{URL: &u, Events: []string{store.EventCheckin}}, "admin")
		require.NoError(t, err)
		// The machine's own name resolves to a loopback address here
		// (/etc/hosts); where it does not, use the loopback literal's
		// check at save time above.
		host, err := os.Hostname()
		require.NoError(t, err)
		addrs, err := net.LookupHost(host)
		if err != nil || len(addrs) == 0 || !net.ParseIP(addrs[0]).IsLoopback() {
			t.Logf("%s does not resolve to loopback (%v %v): connect-time check covered by TestDialRefusesInternalAddresses", host, addrs, err)
			return
		}
		inside := strings.Replace(rcv.srv.URL, "127.0.0.1", host, 1)
		require.NoError(t, db.Model(&store.WebhookEndpoint{}).Where("id = ?", ep.ID).Update("url", inside).Error)
		f.checkIn(t, f.emps[0])
		_, err = f.svc.RunOnce(ctx)
		require.NoError(t, err)
		ds := f.deliveries(t, ep.ID)
		require.Len(t, ds, 1)
		require.Equal(t, store.WebhookPending, ds[0].Status)
		require.Empty(t, rcv.accepted())
		require.Contains(t, ds[0].LastError, "internal address")
		require.NotContains(t, ds[0].LastError, ep.Secret)
	})
}

func TestSignatureVerification(t *testing.T) {
	t.Parallel()
	secret := []byte("whsec_test_secret_value")
	at := time.Unix(1_760_000_000, 0)
	body := []byte(`{"id":"evt_1"}`)
	h := webhooks.Sign(secret, at, body)
	require.Regexp(t, `^t=1760000000,v1=[0-9a-f]{64}$`, h)
	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, h, body, at.Add(time.Minute), nil},
		{"other secret", []byte("another secret!!"), h, body, at, webhooks.ErrBadSignature},
		{"changed body", secret, h, []byte(`{"id":"evt_2"}`), at, webhooks.ErrBadSignature},
		{"replayed after 5 min", secret, h, body, at.Add(5*time.Minute + time.Second), webhooks.ErrStale},
		{"from the future", secret, h, body, at.Add(-6 * time.Minute), webhooks.ErrStale},
		{"malformed", secret, "v1=abc", body, at, webhooks.ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := webhooks.Verify(tc.secret, tc.header, tc.body, tc.now, webhooks.Tolerance)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// TestOldDeliveriesAndEventsArePruned: after the retention, a settled
// delivery, its attempts and its event are deleted; a pending delivery and
// its event stay however old; events recorded while no endpoint existed go
// too.
func TestOldDeliveriesAndEventsArePruned(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := newFixture(t, db, webhooks.Options{AllowPrivate: true, Retention: 24 * time.Hour, MaxAttempts: 100})
		f.checkIn(t, f.emps[0]) // before any endpoint: fanned out to nobody
		f.clk.Advance(2 * time.Second)
		ok := newReceiver(t, f.clk.Now, always200)
		epOK := f.endpoint(t, ok.srv.URL, store.EventCheckin)
		ok.secret = []byte(epOK.Secret)
		down := newReceiver(t, f.clk.Now, func(int) string { return "500" })
		epDown := f.endpoint(t, down.srv.URL, store.EventCheckin)
		down.secret = []byte(epDown.Secret)
		f.clk.Advance(time.Second)
		f.checkIn(t, f.emps[1])
		ctx := context.Background()
		_, err := f.svc.RunOnce(ctx)
		require.NoError(t, err)
		count := func(m any) int64 {
			var n int64
			require.NoError(t, db.Model(m).Count(&n).Error)
			return n
		}
		require.EqualValues(t, 2, count(&store.WebhookEvent{}))
		require.EqualValues(t, 2, count(&store.WebhookDelivery{}))
		require.EqualValues(t, 2, count(&store.WebhookAttempt{}))

		f.clk.Advance(23 * time.Hour)
		_, err = f.svc.RunOnce(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 2, count(&store.WebhookEvent{}), "inside the retention nothing goes")

		f.clk.Advance(2 * time.Hour)
		_, err = f.svc.RunOnce(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, count(&store.WebhookEvent{}), "the pending delivery's event stays")
		var ds []store.WebhookDelivery
		require.NoError(t, db.Find(&ds).Error)
		require.Len(t, ds, 1)
		require.Equal(t, epDown.ID, ds[0].EndpointID)
		require.Equal(t, store.WebhookPending, ds[0].Status)
		var atts []store.WebhookAttempt
		require.NoError(t, db.Find(&atts).Error)
		for _, a := range atts {
			require.Equal(t, ds[0].ID, a.DeliveryID, "the succeeded delivery's attempts are gone")
		}
	})
}
