// Package bench measures the design's performance targets, each beside a
// baseline measured in the same run, the two interleaved over
// LEARNLOOP_BENCH_ROUNDS rounds (see interleave and README.md):
//
//   - check-in storm: taps through the HTTP tap path, stored, versus raw
//     single-row INSERTs at the same concurrency; the same through WeCom
//     callbacks, and a 1,000-person class through WeCom, Feishu and
//     DingTalk Stream callbacks;
//   - fan-out: one touchpoint to many recipients handed to a fake platform with
//     no limits, versus a bare bulk INSERT of the same delivery rows;
//   - tracked links: /l/ redirects with every click stored, versus a bare
//     net/http 302 handler;
//   - session and course reports, versus bare queries over the same rows.
//
// Run: go test -run '^$' -bench . -benchtime 1x ./bench/  (MariaDB from
// LEARNLOOP_TEST_MYSQL_DSN, default root@tcp(127.0.0.1:3306)/test; set
// LEARNLOOP_BENCH_DRIVER=sqlite to use SQLite instead).
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/simulator"
	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

func driver() string {
	if d := os.Getenv("LEARNLOOP_BENCH_DRIVER"); d != "" {
		return d
	}
	return store.DriverMySQL
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// service is a learnloop instance on its own database behind an HTTP
// server, with a roster seeded once (seedRoster) that every round's fresh
// session enrols (newSession).
type service struct {
	a   *app.App
	srv *httptest.Server
	db  *storetest.DB
	now atomic.Pointer[time.Time]

	platform  string // the employees' platform
	course    store.Course
	employees []uint64 // the roster, seeded once
	sessions  int      // sessions created so far
	raws      int      // raw baseline tables created so far
}

// configureFunc adjusts the config and app options before app.New; s.clock
// is the app's clock and s.a is set once app.New returns.
type configureFunc func(s *service, cfg *config.Config, opts *app.Options)

func newService(b *testing.B, conns int, configure configureFunc) *service {
	b.Helper()
	db := storetest.Open(b, driver())
	if db.Driver == store.DriverMySQL {
		sqlDB, err := db.DB.DB()
		require.NoError(b, err)
		sqlDB.SetMaxOpenConns(conns)
		sqlDB.SetMaxIdleConns(conns)
	}
	s := &service{db: db, platform: "simulator"}
	t0 := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	s.now.Store(&t0)
	var h http.Handler
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	b.Cleanup(s.srv.Close)
	cfg := config.Default()
	cfg.Security.DevMode = true
	cfg.Security.LinkSecret = "bench-link-secret-0123456789"
	cfg.Security.AdminTokens = []config.Secret{"bench"}
	cfg.HTTP.PublicURL = s.srv.URL
	cfg.QuietHours.Enabled = false
	cfg.Delivery.Workers = 8
	cfg.Delivery.BatchSize = 1000
	opts := app.Options{DB: db.DB, Now: s.clock, Logger: slog.New(slog.DiscardHandler)}
	if configure != nil {
		configure(s, cfg, &opts)
	}
	a, err := app.New(context.Background(), cfg, opts)
	require.NoError(b, err)
	b.Cleanup(func() { _ = a.Close() })
	s.a = a
	h = a.Handler()
	return s
}

// clock is the app's clock: fixed, ten minutes before every session starts.
func (s *service) clock() time.Time { return *s.now.Load() }

// seedRoster creates the course and n active employees on s.platform (their
// platform id is their external id).
func (s *service) seedRoster(b *testing.B, n int) {
	b.Helper()
	db := s.db.DB
	s.course = store.Course{Code: fmt.Sprintf("B%d", time.Now().UnixNano()), Title: "基准课程"}
	require.NoError(b, db.Create(&s.course).Error)
	const chunk = 2000
	for i := 0; i < n; i += chunk {
		es := make([]store.Employee, 0, chunk)
		for k := i; k < min(i+chunk, n); k++ {
			e := store.Employee{ExternalID: fmt.Sprintf("C%d-%07d", s.course.ID, k), Name: "员工", Department: "部门", Active: true, Platform: s.platform}
			switch s.platform {
			case "wecom":
				e.WecomID = e.ExternalID
			case "feishu":
				e.FeishuID = e.ExternalID
			case "dingtalk":
				e.DingtalkID = e.ExternalID
			}
			es = append(es, e)
		}
		require.NoError(b, db.CreateInBatches(&es, 1000).Error)
		for _, e := range es {
			s.employees = append(s.employees, e.ID)
		}
	}
}

// newSession creates a session starting in 10 minutes (check-in open, on
// time until an hour after the start) with the whole roster enrolled.
func (s *service) newSession(b *testing.B) store.Session {
	b.Helper()
	db := s.db.DB
	now := s.clock()
	s.sessions++
	sess := store.Session{CourseID: s.course.ID, Title: fmt.Sprintf("基准 %d", s.sessions), StartsAt: now.Add(10 * time.Minute), EndsAt: now.Add(3 * time.Hour),
		TimeZone: "Asia/Shanghai", Locale: "zh-CN", Status: store.SessionPlanned, CheckinOpensBefore: 3600, CheckinGrace: 3600, MakeupAfter: 86400}
	require.NoError(b, db.Create(&sess).Error)
	en := make([]store.Enrollment, len(s.employees))
	for k, id := range s.employees {
		en[k] = store.Enrollment{SessionID: sess.ID, EmployeeID: id, Status: store.EnrollInvited}
	}
	require.NoError(b, db.CreateInBatches(&en, 1000).Error)
	return sess
}

// newTouchpoint adds a check-in prompt to everybody in sess, due now.
func (s *service) newTouchpoint(b *testing.B, sess store.Session) store.Touchpoint {
	b.Helper()
	tp := store.Touchpoint{SessionID: sess.ID, Kind: bot.KindCheckinPrompt, Anchor: store.AnchorStart, Offset: -900, Audience: store.AudienceAll,
		Template: "checkin_prompt", Status: store.TouchpointScheduled, RunAt: s.clock()}
	require.NoError(b, s.db.DB.Create(&tp).Error)
	return tp
}

// newClass is one round's fresh state: a new session over the roster whose
// check-in prompt has been sent to everybody. It returns the sent deliveries.
func (s *service) newClass(b *testing.B) (store.Session, []store.Delivery) {
	b.Helper()
	sess := s.newSession(b)
	tp := s.newTouchpoint(b, sess)
	st, err := s.a.Deliverer().Fire(context.Background(), tp.ID, "0")
	require.NoError(b, err)
	require.Equal(b, len(s.employees), st.Sent, "every card is sent: %+v", st)
	var ds []store.Delivery
	require.NoError(b, s.db.DB.Where("touchpoint_id = ? AND status = ?", tp.ID, store.DeliverySent).Order("id").Find(&ds).Error)
	require.Len(b, ds, len(s.employees))
	return sess, ds
}

// checkins counts the stored check-ins of sess.
func (s *service) checkins(b *testing.B, sess store.Session) int64 {
	b.Helper()
	var n int64
	require.NoError(b, s.db.DB.Model(&store.Checkin{}).Where("session_id = ?", sess.ID).Count(&n).Error)
	return n
}

// load runs total requests from clients goroutines and returns the rate
// and the latencies.
func load(total, clients int, do func(i int) error) (float64, []time.Duration, error) {
	var next atomic.Int64
	lat := make([]time.Duration, total)
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				t0 := time.Now()
				if err := do(i); err != nil {
					firstErr.CompareAndSwap(nil, err)
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	err, _ := firstErr.Load().(error)
	return float64(total) / el.Seconds(), lat, err
}

// p99ms is the 99th percentile of lat in milliseconds.
func p99ms(lat []time.Duration) float64 {
	s := slices.Clone(lat)
	slices.Sort(s)
	return float64(s[len(s)*99/100].Microseconds()) / 1000
}

func httpClient(clients int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// rawInsertRate is the check-in baseline: total single-row INSERTs (one
// statement, one commit each) into a fresh plain table with the check-ins'
// unique key, at the given concurrency, on the same database and pool.
// The tables stay until the benchmark's database is dropped (a DROP TABLE
// between rounds would add its own I/O to the next one).
func (s *service) rawInsertRate(b *testing.B, total, clients int) float64 {
	b.Helper()
	table := s.rawTable(b)
	rate, _, err := load(total, clients, func(i int) error { return s.rawInsert(table, i) })
	require.NoError(b, err)
	s.requireRows(b, table, total)
	return rate
}

// rawTable creates a fresh plain table with the check-ins' unique key for a
// baseline round.
func (s *service) rawTable(b *testing.B) string {
	b.Helper()
	s.raws++
	table := fmt.Sprintf("bench_raw_%d", s.raws)
	require.NoError(b, s.db.Exec("CREATE TABLE "+table+" (id BIGINT PRIMARY KEY AUTO_INCREMENT, session_id BIGINT NOT NULL, employee_id BIGINT NOT NULL, at DATETIME(3) NOT NULL, UNIQUE KEY ux (session_id, employee_id))").Error)
	return table
}

// rawInsert is the baseline's one statement and one commit.
func (s *service) rawInsert(table string, employee int) error {
	return s.db.Exec("INSERT INTO "+table+" (session_id, employee_id, at) VALUES (?, ?, ?)", 1, employee, time.Now().UTC()).Error
}

// requireRows checks that every baseline insert was stored.
func (s *service) requireRows(b *testing.B, table string, want int) {
	b.Helper()
	var n int64
	require.NoError(b, s.db.Table(table).Count(&n).Error)
	require.EqualValues(b, want, n)
}

// tapCosts collects what one tap (or raw INSERT) costs, one value per
// measured load: the process's CPU and heap allocations (the server and the
// benchmark's own clients share the process), the local MariaDB server's CPU
// (dbServerCPU: the whole server, other tenants included) and, on the product side, the
// check-in group commit's batches (rows each, mean write time, mean wait of a
// tap from queueing to its batch's commit).
type tapCosts struct {
	baseCPU, baseDB, baseKB, prodCPU, prodDB, prodKB, rows, flushMs, waitMs []float64
}

// costMark is the counters before a measured load.
type costMark struct {
	cpu, db time.Duration
	alloc   uint64
	gc      bot.GroupCommitStats
}

func (s *service) mark() costMark {
	return costMark{cpu: processCPU(), db: dbServerCPU(), alloc: heapAllocated(), gc: s.a.Router().Checkins.GroupCommitStats()}
}

// heapAllocated is the bytes the process has allocated on the heap so far.
func heapAllocated() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// kbPer is the heap allocated since m spread over n requests, in kB.
func kbPer(m costMark, n int) float64 {
	return float64(heapAllocated()-m.alloc) / 1000 / float64(n)
}

// base adds a baseline load of n INSERTs that started at m.
func (c *tapCosts) base(m costMark, n int) {
	c.baseCPU = append(c.baseCPU, perClick(processCPU()-m.cpu, n))
	c.baseDB = append(c.baseDB, perClick(dbServerCPU()-m.db, n))
	c.baseKB = append(c.baseKB, kbPer(m, n))
}

// prod adds a product load of n taps that started at m.
func (c *tapCosts) prod(s *service, m costMark, n int) {
	c.prodCPU = append(c.prodCPU, perClick(processCPU()-m.cpu, n))
	c.prodDB = append(c.prodDB, perClick(dbServerCPU()-m.db, n))
	c.prodKB = append(c.prodKB, kbPer(m, n))
	gc := s.a.Router().Checkins.GroupCommitStats()
	batches := float64(max(1, gc.Batches-m.gc.Batches))
	c.rows = append(c.rows, float64(gc.Rows-m.gc.Rows)/batches)
	c.flushMs = append(c.flushMs, float64((gc.Flush-m.gc.Flush).Microseconds())/1000/batches)
	c.waitMs = append(c.waitMs, float64((gc.Wait-m.gc.Wait).Microseconds())/1000/float64(max(1, gc.Rows-m.gc.Rows)))
}

// print summarizes the costs (no metrics reported).
func (c *tapCosts) print(b *testing.B) {
	b.Helper()
	summary(b, "process CPU per raw INSERT (µs)", "", c.baseCPU)
	summary(b, "process CPU per tap (µs)", "", c.prodCPU)
	summary(b, "heap allocated per raw INSERT (kB)", "", c.baseKB)
	summary(b, "heap allocated per tap (kB)", "", c.prodKB)
	if len(c.baseDB) > 0 && c.baseDB[0] > 0 {
		summary(b, "database server CPU per raw INSERT (µs)", "", c.baseDB)
		summary(b, "database server CPU per tap (µs)", "", c.prodDB)
	}
	summary(b, "taps per group-commit batch (mean)", "", c.rows)
	summary(b, "batch write time (ms, mean)", "", c.flushMs)
	summary(b, "tap wait for its batch (ms, mean)", "", c.waitMs)
}

// BenchmarkCheckinStorm: LEARNLOOP_BENCH_CLIENTS (100) clients tap 签到 at
// once through the HTTP tap endpoint (router → token check → window rules →
// INSERT → card update), LEARNLOOP_BENCH_PEOPLE (6,000) taps a round, each
// round a fresh session over the same roster, against raw single-row
// INSERTs at the same concurrency. The costs per tap are printed (tapCosts),
// and each side runs under the pprof label side=baseline/side=product.
func BenchmarkCheckinStorm(b *testing.B) {
	if driver() != store.DriverMySQL {
		b.Skip("the storm is measured on MariaDB/MySQL")
	}
	clients := envInt("LEARNLOOP_BENCH_CLIENTS", 100)
	people := envInt("LEARNLOOP_BENCH_PEOPLE", 6000)
	var s *service
	labelled("product", func() { s = newService(b, 40, nil) })
	s.seedRoster(b, people)
	cl := httpClient(clients)
	for range b.N {
		var p99s []float64
		var tc tapCosts
		interleave(b, comparison{
			Title: fmt.Sprintf("check-in storm (simulator tap path): %d taps, %d clients", people, clients),
			Unit:  "/s", Base: "raw single-row INSERT", Prod: "stored check-ins",
			BaseMetric: "raw_inserts/s", ProdMetric: "checkins/s", Target: "ratio ≥ 1.0, p99 ≤ 50 ms",
		}, func(int) float64 {
			var rate float64
			labelled("baseline", func() {
				m := s.mark()
				rate = s.rawInsertRate(b, people, clients)
				tc.base(m, people)
			})
			return rate
		}, func(int) float64 {
			var rate, p99 float64
			labelled("product", func() { rate, p99 = s.stormRoundP99(b, people, clients, cl, &tc) })
			p99s = append(p99s, p99)
			return rate
		})
		summary(b, "p99 of stored check-ins (ms)", "p99_ms", p99s)
		tc.print(b)
	}
}

// stormRound runs one storm round on a fresh class and returns the rate of
// stored check-ins.
func (s *service) stormRound(b *testing.B, people, clients int, cl *http.Client) float64 {
	rate, _ := s.stormRoundP99(b, people, clients, cl, nil)
	return rate
}

// stormRoundP99 is stormRound with the p99 latency in ms; tc, when not nil,
// gets the round's costs.
func (s *service) stormRoundP99(b *testing.B, people, clients int, cl *http.Client, tc *tapCosts) (float64, float64) {
	b.Helper()
	sess, ds := s.newClass(b)
	// The request bodies are built before the round, as the WeCom rig
	// builds its callbacks: the clients' own JSON is not the product's.
	taps := make([][]byte, len(ds))
	for i, d := range ds {
		card := s.a.Sim().Inbox(d.UserID)[0] // newest first: this round's card
		require.Equal(b, bot.ActionCheckin, card.Message.Buttons[0].Action)
		body, err := json.Marshal(simulator.TapRequest{User: d.UserID, Token: card.Message.Buttons[0].Token, Action: bot.ActionCheckin})
		require.NoError(b, err)
		taps[i] = body
	}
	m := s.mark()
	rate, lat, err := load(len(taps), clients, func(i int) error {
		resp, err := cl.Post(s.srv.URL+"/sim/api/tap", "application/json", bytes.NewReader(taps[i]))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var tr simulator.TapResponse
		if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || !tr.OK {
			return fmt.Errorf("tap %d: status %d ok=%v err=%v", i, resp.StatusCode, tr.OK, err)
		}
		return nil
	})
	if tc != nil {
		tc.prod(s, m, len(taps))
	}
	require.NoError(b, err)
	require.EqualValues(b, people, s.checkins(b, sess), "every acknowledged tap is stored")
	return rate, p99ms(lat)
}

// bulkInsertDeliveries is the fan-out baselines' round: n delivery rows
// for the roster in one bare bulk INSERT (batches of 1,000), under
// touchpoint tp and keys prefix-i. It returns the seconds it took.
func (s *service) bulkInsertDeliveries(b *testing.B, sess store.Session, tp uint64, prefix string, n int) float64 {
	b.Helper()
	rows := make([]store.Delivery, n)
	for i := range rows {
		rows[i] = store.Delivery{TouchpointID: tp, Occurrence: "0", EmployeeID: s.employees[i], SessionID: sess.ID,
			Key: fmt.Sprintf("%s-%d", prefix, i), Platform: "x", UserID: "u", Status: store.DeliverySent}
	}
	t0 := time.Now()
	require.NoError(b, s.db.CreateInBatches(&rows, 1000).Error)
	return time.Since(t0).Seconds()
}

// peakRSS reads the process's peak resident set size in MB.
func peakRSS() float64 { return procStatusMB("VmHWM:") }

// resetPeakRSS makes the kernel start the peak RSS afresh ("5" to
// clear_refs, Linux ≥ 4.0), so that each round's peak is its own. It
// reports whether the reset worked.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// nullMessenger is a platform with no limits that accepts everything.
type nullMessenger struct{ n atomic.Int64 }

func (m *nullMessenger) Platform() bot.Platform { return bot.PlatformSimulator }
func (m *nullMessenger) Send(context.Context, bot.Recipient, bot.Message) (bot.Receipt, error) {
	m.n.Add(1)
	return bot.Receipt{Handle: "x"}, nil
}

// BenchmarkFanout: one touchpoint to LEARNLOOP_BENCH_FANOUT (default
// 50,000; the design's figure is 100,000) recipients handed to a platform with no limits, each round a new
// touchpoint over the same session, against a bare bulk INSERT of the same
// number of delivery rows.
func BenchmarkFanout(b *testing.B) {
	n := envInt("LEARNLOOP_BENCH_FANOUT", 50000)
	s := newService(b, 16, nil)
	s.seedRoster(b, n)
	sess := s.newSession(b)
	nm := &nullMessenger{}
	s.a.Deliverer().Messengers[bot.PlatformSimulator] = nm
	for range b.N {
		var rss []float64
		perRound := true
		interleave(b, comparison{
			Title: fmt.Sprintf("fan-out: %d recipients, platform without limits", n),
			Unit:  "s", Base: "bare bulk INSERT of the rows", Prod: "fan-out",
			BaseMetric: "bulk_insert_s", ProdMetric: "fanout_s", Target: "ratio ≤ 2.5, peak RSS ≤ 150 MB at 100,000 recipients",
		}, func(r int) float64 {
			return s.bulkInsertDeliveries(b, sess, 1_000_000_000+uint64(r), fmt.Sprintf("base-%d", r), n)
		}, func(r int) float64 {
			tp := s.newTouchpoint(b, sess)
			before := nm.n.Load()
			var st bot.FireStats
			var err error
			el, peak, reset := measureRound(fmt.Sprintf("fanout-%d", r), func() {
				st, err = s.a.Deliverer().Fire(context.Background(), tp.ID, "0")
			})
			perRound = reset && perRound
			require.NoError(b, err)
			require.Equal(b, n, st.Sent)
			require.EqualValues(b, n, nm.n.Load()-before, "every recipient is handed to the platform once")
			rss = append(rss, peak)
			return el
		})
		label := "peak RSS during fan-out (MB)"
		if !perRound {
			label = "peak RSS of the process (MB, no per-round reset)"
		}
		summary(b, label, "peak_rss_MB", rss)
	}
}
