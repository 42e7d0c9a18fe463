package web

import (
	"context"
	"database/sql/driver"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// gatedClicks delegates to next, but its first InsertClicks waits for gate:
// the clicks that arrive meanwhile gather in one batch.
type gatedClicks struct {
	ClickStore
	gate  chan struct{}
	once  sync.Once
	calls chan []store.Click
}

func (g *gatedClicks) InsertClicks(ctx context.Context, rows []store.Click) error {
	g.once.Do(func() { <-g.gate })
	g.calls <- append([]store.Click(nil), rows...)
	return g.ClickStore.InsertClicks(ctx, rows)
}

// openBatch is the size of the recorder's open batch.
func openBatch(r *ClickRecorder) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.open == nil {
		return 0
	}
	return len(r.open.rows)
}

// TestLinkStoresTheClickBeforeTheRedirect: /l/ on both databases — a valid
// link redirects only after its click row is committed; bad tokens,
// unknown deliveries and non-http(s) targets answer 404 and store
// nothing; a click the database refuses answers 503 without a Location and
// stores nothing, and the clicks of its batch are written row by row, so
// they are stored and redirected all the same; a target longer than its
// column is stored cut to 1,024 characters, never inside one.
func TestLinkStoresTheClickBeforeTheRedirect(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		refuse := "CREATE TRIGGER refuse_clicks BEFORE INSERT ON clicks WHEN NEW.platform = 'refused' BEGIN SELECT RAISE(ABORT, 'refused'); END"
		if store.IsMySQL(db.DB) {
			refuse = "CREATE TRIGGER refuse_clicks BEFORE INSERT ON clicks FOR EACH ROW BEGIN IF NEW.platform = 'refused' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'; END IF; END"
		}
		require.NoError(t, db.Exec(refuse).Error)
		deliveries := map[string]store.Delivery{}
		for i, platform := range []string{"simulator", "refused"} {
			d := store.Delivery{TouchpointID: 7, Occurrence: "0", EmployeeID: uint64(100 + i), SessionID: 3, Key: "k-" + platform, Platform: platform, UserID: "u", Status: store.DeliverySent}
			require.NoError(t, db.Create(&d).Error)
			deliveries[platform] = d
		}
		now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		signer, err := bot.NewSigner([]byte("links-test-secret-0123456789"), clock)
		require.NoError(t, err)
		cmds := &command.Service{DB: db.DB}
		gated := &gatedClicks{ClickStore: cmds, gate: make(chan struct{}), calls: make(chan []store.Click, 16)}
		rec := newClickRecorder(gated, nil, clickWriters, clickMaxBatch)
		t.Cleanup(rec.Close)
		srv := httptest.NewServer((&Server{Signer: signer, Commands: cmds, Clicks: rec, Now: clock}).Handler())
		t.Cleanup(srv.Close)
		cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		const target = "https://example.com/course?id=1&x=<y>"
		link := func(id uint64, target string) string {
			return srv.URL + "/l/" + signer.Sign(bot.Claims{Kind: bot.TokenLink, DeliveryID: id, Expires: now.Add(time.Hour), Extra: target})
		}
		get := func(url string) (int, string) {
			req, err := http.NewRequest(http.MethodGet, url, nil)
			require.NoError(t, err)
			req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone) Mobile wxwork/4.1")
			resp, err := cl.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode, resp.Header.Get("Location")
		}
		clicks := func() []store.Click {
			var cs []store.Click
			require.NoError(t, db.Order("id").Find(&cs).Error)
			return cs
		}

		// The first click's INSERT waits at the gate; the next two (one
		// the database refuses) gather behind it in one batch.
		type answer struct {
			code int
			loc  string
		}
		answers := make([]chan answer, 3)
		for i, platform := range []string{"simulator", "simulator", "refused"} {
			answers[i] = make(chan answer, 1)
			go func() {
				code, loc := get(link(deliveries[platform].ID, target))
				answers[i] <- answer{code, loc}
			}()
			if i == 0 {
				require.Eventually(t, func() bool { return len(gated.calls) == 0 && openBatch(rec) == 0 }, 5*time.Second, time.Millisecond)
				time.Sleep(20 * time.Millisecond) // the first flush is at the gate
			}
		}
		require.Eventually(t, func() bool { return openBatch(rec) == 2 }, 5*time.Second, time.Millisecond, "the two later clicks wait in one batch")
		select {
		case a := <-answers[0]:
			t.Fatalf("answered %d before its click was stored", a.code)
		case <-time.After(50 * time.Millisecond):
		}
		require.Empty(t, clicks(), "nothing is stored while the INSERT waits")
		close(gated.gate)
		require.Equal(t, answer{http.StatusFound, target}, <-answers[0])
		require.Equal(t, answer{http.StatusFound, target}, <-answers[1], "a click beside a refused one is stored all the same")
		require.Equal(t, answer{http.StatusServiceUnavailable, ""}, <-answers[2], "a refused click answers an error, no redirect")
		require.Len(t, <-gated.calls, 1)
		require.Len(t, <-gated.calls, 2, "the two later clicks were one INSERT")
		require.Len(t, <-gated.calls, 1, "the refused INSERT is written again row by row")
		require.Len(t, <-gated.calls, 1)
		cs := clicks()
		require.Len(t, cs, 2, "both clicks but the refused one are stored")
		d := deliveries["simulator"]
		for i := range cs {
			cs[i].ID = 0
			require.Equal(t, store.Click{DeliveryID: d.ID, TouchpointID: d.TouchpointID, EmployeeID: d.EmployeeID, Target: target, UAClass: "in_app", Platform: "simulator", ClickedAt: now}, cs[i])
		}

		// 1,100 characters of three bytes each: the target is stored with
		// its first 1,024 characters (a cut at byte 1,024 would split one,
		// which MySQL refuses), and the redirect goes to all of it.
		long := "https://example.com/" + strings.Repeat("课", 1100)
		code, _ := get(link(d.ID, long))
		require.Equal(t, http.StatusFound, code)
		var last store.Click
		require.NoError(t, db.Order("id DESC").First(&last).Error)
		require.Equal(t, cut.Runes(long, 1024), last.Target)
		require.Equal(t, 1024, utf8.RuneCountInString(last.Target))

		for _, tc := range []struct {
			name string
			url  string
			code int
		}{
			{"stored and redirected", link(d.ID, target), http.StatusFound},
			{"bad signature", link(d.ID, target) + "x", http.StatusNotFound},
			{"unknown delivery", link(999999, target), http.StatusNotFound},
			{"javascript target", link(d.ID, "javascript:alert(1)"), http.StatusNotFound},
			{"scheme-relative target", link(d.ID, "//evil.example/"), http.StatusNotFound},
			{"target without host", link(d.ID, "https:///path"), http.StatusNotFound},
		} {
			before := len(clicks())
			code, loc := get(tc.url)
			require.Equal(t, tc.code, code, tc.name)
			if tc.code == http.StatusFound {
				require.Equal(t, target, loc, tc.name)
				require.Len(t, clicks(), before+1, tc.name)
			} else {
				require.Empty(t, loc, tc.name)
				require.Len(t, clicks(), before, tc.name)
			}
		}
	})
}

// fakeClicks records each INSERT's rows as it starts, waits for hold to
// close, and answers err.
type fakeClicks struct {
	mu      sync.Mutex
	batches [][]store.Click
	err     error
	hold    chan struct{}
}

func (f *fakeClicks) InsertClicks(_ context.Context, rows []store.Click) error {
	f.mu.Lock()
	f.batches = append(f.batches, append([]store.Click(nil), rows...))
	f.mu.Unlock()
	<-f.hold
	return f.err
}

func (f *fakeClicks) TouchpointAnonymous(context.Context, uint64) (bool, error) { return false, nil }

// sizes is the number of rows of each INSERT started so far, and their sum.
func (f *fakeClicks) sizes() (n []int, sum int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.batches {
		n = append(n, len(b))
		sum += len(b)
	}
	return n, sum
}

// TestClickRecorderBatches: clicks that arrive while the writer is busy
// are one INSERT; another writer starts only on a batch above soloUpTo
// clicks, while there is an idle one; batches stop at max; an INSERT
// refused for good is written again row by row (each click gets its own
// row's outcome), one failed on a transient error fails its whole batch;
// Close writes what is queued and refuses what comes after.
func TestClickRecorderBatches(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		writers int
		clicks  int // recorded while the first INSERT is held
		max     int
		err     error
		batches []int // INSERT sizes, after the held one
	}{
		{"gathered into one", 2, 10, 256, nil, []int{10}},
		// The second writer's INSERT is held too: the rest gather behind both.
		{"above soloUpTo a second writer starts", 2, clickSoloUpTo + 30, 256, nil, []int{clickSoloUpTo + 1, 29}},
		// Two held INSERTs: the third writer starts above soloUpTo too.
		{"above soloUpTo a third writer starts", 3, 2*(clickSoloUpTo+1) + 4, 256, nil, []int{clickSoloUpTo + 1, clickSoloUpTo + 1, 4}},
		{"stops at max", 2, 12, 5, nil, []int{5, 5, 2}},
		{"a lone click is written at once", 2, 0, 256, nil, nil},
		{"a refused INSERT is written row by row", 2, 3, 256, boom, []int{3, 1, 1, 1}},
		{"a transient failure fails the batch", 2, 3, 256, driver.ErrBadConn, []int{3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeClicks{err: tc.err, hold: make(chan struct{})}
			r := newClickRecorder(f, nil, tc.writers, tc.max)
			first := make(chan error, 1)
			go func() { first <- r.Record(context.Background(), store.Click{DeliveryID: 1}) }()
			require.Eventually(t, func() bool {
				r.mu.Lock()
				defer r.mu.Unlock()
				return r.flushing == 1
			}, 5*time.Second, time.Millisecond)
			errs := make(chan error, tc.clicks)
			for i := range tc.clicks {
				go func() { errs <- r.Record(context.Background(), store.Click{DeliveryID: uint64(2 + i)}) }()
				// One at a time, so the batches' sizes are exact.
				require.Eventually(t, func() bool {
					_, n := f.sizes()
					r.mu.Lock()
					defer r.mu.Unlock()
					if r.open != nil {
						n += len(r.open.rows)
					}
					for _, b := range r.full {
						n += len(b.rows)
					}
					return n == i+2
				}, 5*time.Second, time.Millisecond)
			}
			close(f.hold)
			require.ErrorIs(t, <-first, tc.err)
			for range tc.clicks {
				require.ErrorIs(t, <-errs, tc.err)
			}
			r.Close()
			sizes, sum := f.sizes()
			require.Equal(t, 1, sizes[0])
			batches, clicks := r.Stats()
			if tc.err != nil {
				require.Zero(t, batches+clicks, "failed INSERTs are not counted")
			} else {
				require.EqualValues(t, len(sizes), batches)
				require.EqualValues(t, sum, clicks)
			}
			// Batches written after the hold may start in either order.
			require.ElementsMatch(t, tc.batches, sizes[1:])
			require.ErrorIs(t, r.Record(context.Background(), store.Click{}), ErrRecorderClosed)
		})
	}
}
