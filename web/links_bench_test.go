package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
)

// nopClicks is a ClickStore that stores nothing and never fails.
type nopClicks struct{}

func (nopClicks) InsertClicks(context.Context, []store.Click) error         { return nil }
func (nopClicks) TouchpointAnonymous(context.Context, uint64) (bool, error) { return false, nil }

// BenchmarkLinkHandler is the /l/ path's own CPU and allocations per click
// (routing, middleware, token, facts, recorder hand-off, redirect), without
// the network and the database: go test -run '^$' -bench LinkHandler -benchmem ./web/
func BenchmarkLinkHandler(b *testing.B) {
	now := func() time.Time { return time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC) }
	signer, err := bot.NewSigner([]byte("bench-link-secret-0123456789"), now)
	if err != nil {
		b.Fatal(err)
	}
	rec := NewClickRecorder(nopClicks{}, nil)
	b.Cleanup(rec.Close)
	s := &Server{Signer: signer, Clicks: rec, Now: now}
	s.links.storeFacts(42, clickFacts{touchpointID: 7, employeeID: 9, platform: "simulator"})
	h := s.Handler()
	tok := signer.Sign(bot.Claims{Kind: bot.TokenLink, DeliveryID: 42, Expires: now().Add(time.Hour), Extra: "https://example.com/course?id=1"})
	req := httptest.NewRequest(http.MethodGet, "/l/"+tok, nil)
	req.Header.Set("User-Agent", "Go-http-client/1.1")
	b.ReportAllocs()
	b.SetParallelism(50)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusFound {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}
