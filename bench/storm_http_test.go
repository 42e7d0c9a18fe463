package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/simulator"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
)

// rawHTTPInsertRate is a second storm baseline: the same HTTP requests (a
// tap's JSON body posted by the same client) answered by a bare handler
// that decodes the body, does one single-row INSERT and answers JSON — the
// HTTP and database floor of a tap, without learnloop's rules.
func (s *service) rawHTTPInsertRate(b *testing.B, total, clients int, cl *http.Client) float64 {
	b.Helper()
	table := s.rawTable(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req simulator.TapRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var emp int
		_, _ = fmt.Sscanf(req.User, "u%d", &emp)
		if err := s.rawInsert(table, emp); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(simulator.TapResponse{OK: true})
	}))
	defer srv.Close()
	bodies := make([][]byte, total) // built before the round, as the storm's
	for i := range bodies {
		body, err := json.Marshal(simulator.TapRequest{User: fmt.Sprintf("u%d", i), Token: "t", Action: bot.ActionCheckin})
		require.NoError(b, err)
		bodies[i] = body
	}
	rate, _, err := load(total, clients, func(i int) error {
		resp, err := cl.Post(srv.URL, "application/json", bytes.NewReader(bodies[i]))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var tr simulator.TapResponse
		if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || !tr.OK {
			return fmt.Errorf("raw tap %d: status %d ok=%v err=%v", i, resp.StatusCode, tr.OK, err)
		}
		return nil
	})
	require.NoError(b, err)
	s.requireRows(b, table, total)
	return rate
}

// BenchmarkCheckinStormHTTPBaseline: the storm of BenchmarkCheckinStorm
// beside the bare HTTP + INSERT handler of rawHTTPInsertRate, so the
// ratio shows what learnloop's own work costs on top of HTTP and one
// INSERT per tap (the raw-INSERT baseline pays no HTTP at all).
func BenchmarkCheckinStormHTTPBaseline(b *testing.B) {
	if driver() != store.DriverMySQL {
		b.Skip("the storm is measured on MariaDB/MySQL")
	}
	clients := envInt("LEARNLOOP_BENCH_CLIENTS", 100)
	people := envInt("LEARNLOOP_BENCH_PEOPLE", 6000)
	s := newService(b, 40, nil)
	s.seedRoster(b, people)
	cl := httpClient(clients)
	for range b.N {
		interleave(b, comparison{
			Title: fmt.Sprintf("check-in storm (simulator tap path) beside a bare HTTP + INSERT handler: %d taps, %d clients", people, clients),
			Unit:  "/s", Base: "bare HTTP handler + single-row INSERT", Prod: "stored check-ins",
			BaseMetric: "raw_http_inserts/s", ProdMetric: "checkins/s", Target: "(information: learnloop's cost over HTTP + one INSERT)",
		}, func(int) float64 {
			return s.rawHTTPInsertRate(b, people, clients, cl)
		}, func(int) float64 {
			return s.stormRound(b, people, clients, cl)
		})
	}
}
