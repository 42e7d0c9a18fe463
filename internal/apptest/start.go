package apptest

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
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

// Class creates a course with the fields of course, a session of it with the
// fields of session (course_id added) and imports the roster CSV into it,
// all through the API at baseURL; it returns the session's id.
func Class(t testing.TB, baseURL string, course, session map[string]any, roster string) uint64 {
	t.Helper()
	var c struct{ ID uint64 }
	require.Equal(t, http.StatusCreated, Call(t, baseURL, "POST", "/api/v1/courses", "", course, &c))
	fields := map[string]any{"course_id": c.ID}
	maps.Copy(fields, session)
	var s struct{ Session struct{ ID uint64 } }
	require.Equal(t, http.StatusCreated, Call(t, baseURL, "POST", "/api/v1/sessions", "", fields, &s))
	var imported map[string]any
	require.Equal(t, http.StatusOK, Call(t, baseURL, "POST", "/api/v1/sessions/"+strconv.FormatUint(s.Session.ID, 10)+"/roster", "text/csv", roster, &imported), "%v", imported)
	return s.Session.ID
}
