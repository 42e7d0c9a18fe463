package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
)

// BenchmarkLinkRedirect: /l/ redirects with every click stored, against a
// bare net/http 302 handler, both through a real HTTP server and client;
// LEARNLOOP_BENCH_CLICKS (default 30,000) clicks a round, each round on the
// links of a fresh touchpoint.
//
// Each side's servers, writers and clients run under the pprof label
// side=baseline or side=product, so one -cpuprofile of the run splits
// (go tool pprof -tagfocus side=product …); the process CPU per redirect
// of each side (client and server: they share the process) is printed too.
func BenchmarkLinkRedirect(b *testing.B) {
	clients := envInt("LEARNLOOP_BENCH_CLIENTS", 100)
	total := envInt("LEARNLOOP_BENCH_CLICKS", 30000)
	var s *service
	labelled("product", func() { s = newService(b, 40, nil) })
	s.seedRoster(b, 200)
	var bare *httptest.Server
	labelled("baseline", func() {
		bare = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://example.com/course?id=1", http.StatusFound)
		}))
	})
	b.Cleanup(bare.Close)
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
	for range b.N {
		var p99s, baseCPU, prodCPU, dbCPU, batch []float64
		interleave(b, comparison{
			Title: fmt.Sprintf("tracked links: %d clicks, %d clients", total, clients),
			Unit:  "/s", Base: "bare net/http 302", Prod: "/l/ redirects, clicks stored",
			BaseMetric: "bare_302/s", ProdMetric: "redirects/s", Target: "ratio ≥ 0.60",
		}, func(int) float64 {
			var rate float64
			labelled("baseline", func() {
				cpu := processCPU()
				r, _, err := load(total, clients, func(int) error { return get(bare.URL + "/x") })
				require.NoError(b, err)
				rate = r
				baseCPU = append(baseCPU, perClick(processCPU()-cpu, total))
			})
			return rate
		}, func(int) float64 {
			_, ds := s.newClass(b)
			links := make([]string, len(ds))
			for i, d := range ds {
				links[i] = s.a.Renderer().TrackedURL(d.ID, "https://example.com/course?id=1", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
			}
			var rate float64
			labelled("product", func() {
				cpu, db := processCPU(), dbServerCPU()
				batches, written := s.a.Clicks().Stats()
				r, lat, err := load(total, clients, func(i int) error { return get(links[i%len(links)]) })
				require.NoError(b, err)
				rate = r
				batches2, written2 := s.a.Clicks().Stats()
				batch = append(batch, float64(written2-written)/float64(max(1, batches2-batches)))
				prodCPU = append(prodCPU, perClick(processCPU()-cpu, total))
				dbCPU = append(dbCPU, perClick(dbServerCPU()-db, total))
				p99s = append(p99s, p99ms(lat))
			})
			var n int64
			require.NoError(b, s.db.Model(&store.Click{}).Where("touchpoint_id = ?", ds[0].TouchpointID).Count(&n).Error)
			require.EqualValues(b, total, n, "every redirected click is stored")
			return rate
		})
		summary(b, "p99 of redirects (ms)", "p99_ms", p99s)
		summary(b, "clicks per INSERT (mean)", "clicks/insert", batch)
		summary(b, "process CPU per bare 302 (µs)", "", baseCPU)
		summary(b, "process CPU per /l/ redirect (µs)", "", prodCPU)
		if dbCPU[0] > 0 {
			summary(b, "database server CPU per /l/ redirect (µs)", "", dbCPU)
		}
	}
}

// labelled runs f with the pprof label side=side; goroutines f starts
// (servers, their connections, the click writers) keep it.
func labelled(side string, f func()) {
	pprof.Do(context.Background(), pprof.Labels("side", side), func(context.Context) { f() })
}

// processCPU is the CPU time (user + system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dbServerCPU is the CPU time a local MariaDB/MySQL server (mariadbd or
// mysqld, found in /proc) has used, 0 when there is none on this machine.
func dbServerCPU() time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid … utime stime: fields 14 and 15.
		comm, rest, ok := strings.Cut(string(raw), ") ")
		if !ok || !(strings.HasSuffix(comm, "(mariadbd") || strings.HasSuffix(comm, "(mysqld")) {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 13 {
			return 0
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		sys, _ := strconv.ParseInt(f[12], 10, 64)
		return time.Duration(u+sys) * (time.Second / clockTicks)
	}
	return 0
}

// clockTicks is Linux's USER_HZ, the unit of /proc/*/stat times.
const clockTicks = 100

// perClick is d spread over n requests, in µs.
func perClick(d time.Duration, n int) float64 {
	return float64(d.Microseconds()) / float64(n)
}
