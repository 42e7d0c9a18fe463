// Package bench measures the design's performance targets, each beside a
// baseline measured in the same run:
//
//   - check-in storm: taps through the HTTP callback path, stored, versus raw
//     single-row INSERTs at the same concurrency;
//   - fan-out: one touchpoint to many recipients handed to a fake platform with
//     no limits, versus a bare bulk INSERT of the same delivery rows;
//   - tracked links: /l/ redirects with every click stored, versus a bare
//     net/http 302 handler.
//
// Run: go test -run '^$' -bench . -benchtime 1x ./bench/  (MariaDB from
// LEARNLOOP_TEST_MYSQL_DSN, default root@tcp(127.0.0.1:3306)/test; set
// LEARNLOOP_BENCH_DRIVER=sqlite to use SQLite instead).
package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

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

// service is a learnloop instance on its own database behind an HTTP server.
type service struct {
	a   *app.App
	srv *httptest.Server
	db  *storetest.DB
	now atomic.Pointer[time.Time]
}

func newService(b *testing.B, conns int) *service {
	b.Helper()
	db := storetest.Open(b, driver())
	if db.Driver == store.DriverMySQL {
		sqlDB, err := db.DB.DB()
		require.NoError(b, err)
		sqlDB.SetMaxOpenConns(conns)
		sqlDB.SetMaxIdleConns(conns)
	}
	s := &service{db: db}
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
	a, err := app.New(context.Background(), cfg, app.Options{DB: db.DB, Now: func() time.Time { return *s.now.Load() }, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	b.Cleanup(func() { _ = a.Close() })
	s.a = a
	h = a.Handler()
	return s
}

// seedSession creates a course, a session starting in 10 minutes and n
// enrolled simulator employees, with a check-in touchpoint.
func (s *service) seedSession(b *testing.B, n int) (store.Session, store.Touchpoint) {
	b.Helper()
	db := s.db.DB
	now := *s.now.Load()
	c := store.Course{Code: fmt.Sprintf("B%d", now.UnixNano()), Title: "基准课程"}
	require.NoError(b, db.Create(&c).Error)
	sess := store.Session{CourseID: c.ID, Title: "基准", StartsAt: now.Add(10 * time.Minute), EndsAt: now.Add(3 * time.Hour), TimeZone: "Asia/Shanghai", Locale: "zh-CN",
		Status: store.SessionPlanned, CheckinOpensBefore: 3600, CheckinGrace: 3600, MakeupAfter: 86400}
	require.NoError(b, db.Create(&sess).Error)
	const chunk = 2000
	for i := 0; i < n; i += chunk {
		es := make([]store.Employee, 0, chunk)
		for k := i; k < min(i+chunk, n); k++ {
			es = append(es, store.Employee{ExternalID: fmt.Sprintf("S%d-%07d", sess.ID, k), Name: "员工", Department: "部门", Active: true, Platform: "simulator"})
		}
		require.NoError(b, db.CreateInBatches(&es, 1000).Error)
		en := make([]store.Enrollment, len(es))
		for k, e := range es {
			en[k] = store.Enrollment{SessionID: sess.ID, EmployeeID: e.ID, Status: store.EnrollInvited}
		}
		require.NoError(b, db.CreateInBatches(&en, 1000).Error)
	}
	tp := store.Touchpoint{SessionID: sess.ID, Kind: bot.KindCheckinPrompt, Anchor: store.AnchorStart, Offset: -900, Audience: store.AudienceAll, Template: "checkin_prompt", Status: store.TouchpointScheduled, RunAt: now}
	require.NoError(b, db.Create(&tp).Error)
	return sess, tp
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

func p99(lat []time.Duration) time.Duration {
	s := append([]time.Duration(nil), lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)*99/100]
}

func httpClient(clients int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// rawInsertRate is the baseline: single-row INSERTs (one statement, one
// commit each) into a plain table at the given concurrency.
func rawInsertRate(b *testing.B, db *gorm.DB, total, clients int) float64 {
	b.Helper()
	require.NoError(b, db.Exec("CREATE TABLE bench_raw (id BIGINT PRIMARY KEY AUTO_INCREMENT, session_id BIGINT NOT NULL, employee_id BIGINT NOT NULL, at DATETIME(3) NOT NULL, UNIQUE KEY ux (session_id, employee_id))").Error)
	rate, _, err := load(total, clients, func(i int) error {
		return db.Exec("INSERT INTO bench_raw (session_id, employee_id, at) VALUES (?, ?, ?)", 1, i, time.Now().UTC()).Error
	})
	require.NoError(b, err)
	return rate
}

// BenchmarkCheckinStorm: 100 clients tap 签到 at once through the HTTP tap
// endpoint (router → token check → window rules → INSERT → card update).
func BenchmarkCheckinStorm(b *testing.B) {
	if driver() != store.DriverMySQL {
		b.Skip("the storm is measured on MariaDB/MySQL")
	}
	clients := envInt("LEARNLOOP_BENCH_CLIENTS", 100)
	people := envInt("LEARNLOOP_BENCH_PEOPLE", 3000)
	for range b.N {
		s := newService(b, 40)
		sess, tp := s.seedSession(b, people)
		_, err := s.a.Deliverer.Fire(context.Background(), tp.ID, "0")
		require.NoError(b, err)
		type tap struct{ user, token string }
		taps := make([]tap, 0, people)
		var ds []store.Delivery
		require.NoError(b, s.db.Where("touchpoint_id = ?", tp.ID).Find(&ds).Error)
		for _, d := range ds {
			box := s.a.Sim.Inbox(d.UserID)
			taps = append(taps, tap{user: d.UserID, token: box[0].Message.Buttons[0].Token})
		}
		raw := rawInsertRate(b, s.db.DB, people, clients)
		cl := httpClient(clients)
		b.ResetTimer()
		rate, lat, err := load(len(taps), clients, func(i int) error {
			body, _ := json.Marshal(simulator.TapRequest{User: taps[i].user, Token: taps[i].token, Action: bot.ActionCheckin})
			resp, err := cl.Post(s.srv.URL+"/sim/api/tap", "application/json", bytes.NewReader(body))
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
		b.StopTimer()
		require.NoError(b, err)
		var n int64
		require.NoError(b, s.db.Model(&store.Checkin{}).Where("session_id = ?", sess.ID).Count(&n).Error)
		require.EqualValues(b, people, n, "every acknowledged tap is stored")
		b.ReportMetric(rate, "checkins/s")
		b.ReportMetric(raw, "raw_inserts/s")
		b.ReportMetric(rate/raw, "ratio")
		b.ReportMetric(float64(p99(lat).Microseconds())/1000, "p99_ms")
		fmt.Printf("check-in storm: %d taps, %d clients: %.0f/s (p99 %s) vs raw INSERT %.0f/s → ratio %.2f (target ≥ 0.50, p99 ≤ 50ms)\n",
			people, clients, rate, p99(lat).Round(time.Millisecond), raw, rate/raw)
	}
}

// peakRSS reads the process's peak resident set size in MB.
func peakRSS() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// nullMessenger is a platform with no limits that accepts everything.
type nullMessenger struct{ n atomic.Int64 }

func (m *nullMessenger) Platform() bot.Platform { return bot.PlatformSimulator }
func (m *nullMessenger) Send(context.Context, bot.Recipient, bot.Message) (bot.Receipt, error) {
	m.n.Add(1)
	return bot.Receipt{Handle: "x"}, nil
}

// BenchmarkFanout: one touchpoint to LEARNLOOP_BENCH_FANOUT (default 100,000)
// recipients, handed to a platform with no limits.
func BenchmarkFanout(b *testing.B) {
	n := envInt("LEARNLOOP_BENCH_FANOUT", 100000)
	for range b.N {
		s := newService(b, 16)
		_, tp := s.seedSession(b, n)
		nm := &nullMessenger{}
		s.a.Deliverer.Messengers[bot.PlatformSimulator] = nm
		// Baseline: the same number of delivery rows in a bare bulk INSERT.
		t0 := time.Now()
		rows := make([]store.Delivery, n)
		for i := range rows {
			rows[i] = store.Delivery{TouchpointID: tp.ID + 1000000, Occurrence: "0", EmployeeID: uint64(i + 1), SessionID: 1, Key: fmt.Sprintf("base-%d", i), Platform: "x", UserID: "u", Status: "sent"}
		}
		require.NoError(b, s.db.CreateInBatches(&rows, 1000).Error)
		base := time.Since(t0)
		rows = nil
		runtime.GC()
		rssBefore := peakRSS()
		b.ResetTimer()
		t1 := time.Now()
		st, err := s.a.Deliverer.Fire(context.Background(), tp.ID, "0")
		el := time.Since(t1)
		b.StopTimer()
		require.NoError(b, err)
		require.Equal(b, n, st.Sent)
		require.EqualValues(b, n, nm.n.Load())
		b.ReportMetric(el.Seconds(), "fanout_s")
		b.ReportMetric(base.Seconds(), "bulk_insert_s")
		b.ReportMetric(el.Seconds()/base.Seconds(), "ratio")
		b.ReportMetric(peakRSS(), "peak_rss_MB")
		fmt.Printf("fan-out: %d recipients in %s (target ≤ 20s) vs bare bulk INSERT of the rows %s → ×%.1f; peak RSS %.0f MB (before fan-out %.0f MB, target ≤ 150)\n",
			n, el.Round(time.Millisecond), base.Round(time.Millisecond), el.Seconds()/base.Seconds(), peakRSS(), rssBefore)
	}
}

// BenchmarkLinkRedirect: /l/ redirects with the click stored, versus a bare
// net/http 302 handler, both through a real HTTP server and client.
func BenchmarkLinkRedirect(b *testing.B) {
	clients := envInt("LEARNLOOP_BENCH_CLIENTS", 100)
	total := envInt("LEARNLOOP_BENCH_CLICKS", 20000)
	for range b.N {
		s := newService(b, 40)
		_, tp := s.seedSession(b, 200)
		_, err := s.a.Deliverer.Fire(context.Background(), tp.ID, "0")
		require.NoError(b, err)
		var ds []store.Delivery
		require.NoError(b, s.db.Where("touchpoint_id = ?", tp.ID).Find(&ds).Error)
		links := make([]string, len(ds))
		for i, d := range ds {
			links[i] = s.a.Renderer.TrackedURL(d.ID, "https://example.com/course?id=1", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
		}
		bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://example.com/course?id=1", http.StatusFound)
		}))
		defer bare.Close()
		cl := httpClient(clients)
		get := func(url string) error {
			resp, err := cl.Get(url)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		}
		baseRate, _, err := load(total, clients, func(i int) error { return get(bare.URL + "/x") })
		require.NoError(b, err)
		b.ResetTimer()
		rate, lat, err := load(total, clients, func(i int) error { return get(links[i%len(links)]) })
		b.StopTimer()
		require.NoError(b, err)
		var n int64
		require.NoError(b, s.db.Model(&store.Click{}).Count(&n).Error)
		require.EqualValues(b, total, n, "every redirected click is stored")
		b.ReportMetric(rate, "redirects/s")
		b.ReportMetric(baseRate, "bare_302/s")
		b.ReportMetric(rate/baseRate, "ratio")
		fmt.Printf("tracked links: %d clicks, %d clients: %.0f/s (p99 %s) vs bare 302 %.0f/s → ratio %.2f (target ≥ 0.60)\n",
			total, clients, rate, p99(lat).Round(time.Millisecond), baseRate, rate/baseRate)
	}
}
