package apptest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/config"
)

// Start runs an app on db behind a test server whose URL is the app's public
// URL, reading the time from clk. The configuration is the default one in dev
// mode with linkSecret, AdminToken and quiet hours off; each configure then
// changes it and the options (cfg.HTTP.PublicURL is already the server's)
// before it is validated. The app and the server close when the test ends.
func Start(t testing.TB, db *gorm.DB, clk *Clock, linkSecret string, configure ...func(*config.Config, *app.Options)) (*app.App, *httptest.Server) {
	t.Helper()
	var h atomic.Pointer[http.Handler]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*h.Load()).ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	cfg := Config(srv.URL, linkSecret)
	o := app.Options{DB: db, Now: clk.Now}
	for _, f := range configure {
		f(cfg, &o)
	}
	require.NoError(t, cfg.Validate())
	a, err := app.New(context.Background(), cfg, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	handler := a.Handler()
	h.Store(&handler)
	return a, srv
}

// NoFeedback is a Start option that attaches no default feedback survey to
// new sessions.
func NoFeedback(cfg *config.Config, _ *app.Options) { cfg.Surveys.Feedback = false }
