package app_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

func wecomOn(cfg *config.Config) {
	w := &cfg.Platforms.WeCom
	w.Enabled, w.CorpID, w.AgentID, w.Secret, w.Token = true, "ww0123456789abcdef", 1000002, "wecom-secret", "wecom-token"
	w.EncodingAESKey, w.APIBase = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "http://127.0.0.1:9"
}

// TestSimulatorIsOffOutsideDevMode: with only a link secret, /sim and its
// API (every employee's name, live card tokens, taps for anyone) do not
// exist; dev mode or platforms.simulator.enabled turns it on; next to a real
// platform it needs allow_with_real_platforms.
func TestSimulatorIsOffOutsideDevMode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		set  func(*config.Config)
		sim  bool
		err  string
	}{
		{"link secret only", func(*config.Config) {}, false, ""},
		{"dev mode", func(c *config.Config) { c.Security.DevMode = true }, true, ""},
		{"enabled", func(c *config.Config) { c.Platforms.Simulator.Enabled = true }, true, ""},
		{"dev mode next to WeCom", func(c *config.Config) { c.Security.DevMode = true; wecomOn(c) }, false, ""},
		{"enabled next to WeCom", func(c *config.Config) { c.Platforms.Simulator.Enabled = true; wecomOn(c) }, false, "platforms.simulator.allow_with_real_platforms"},
		{"enabled next to WeCom, allowed", func(c *config.Config) {
			c.Platforms.Simulator.Enabled, c.Platforms.Simulator.AllowWithRealPlatforms = true, true
			wecomOn(c)
		}, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := storetest.Open(t, store.DriverSQLite)
			cfg := config.Default()
			cfg.Security.LinkSecret = "security-test-link-secret-0123"
			tc.set(cfg)
			a, err := app.New(context.Background(), cfg, app.Options{DB: db.DB})
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				require.ErrorContains(t, cfg.Validate(), tc.err, "serve refuses it at config time too")
				return
			}
			require.NoError(t, err)
			t.Cleanup(func() { _ = a.Close() })
			require.NoError(t, db.Create(&store.Employee{ExternalID: "E1", Name: "张伟", Department: "销售", Active: true}).Error)
			srv := httptest.NewServer(a.Handler())
			t.Cleanup(srv.Close)
			for _, path := range []string{"/sim", "/sim/api/inbox?user=E1"} {
				resp, err := http.Get(srv.URL + path)
				require.NoError(t, err)
				resp.Body.Close()
				if tc.sim {
					require.Equal(t, http.StatusOK, resp.StatusCode, path)
				} else {
					require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
				}
			}
			resp, err := http.Post(srv.URL+"/sim/api/tap", "application/json", strings.NewReader(`{"user":"E1","token":"x","action":"checkin"}`))
			require.NoError(t, err)
			resp.Body.Close()
			if !tc.sim {
				require.Equal(t, http.StatusNotFound, resp.StatusCode)
			}
			require.Equal(t, tc.sim, a.Sim() != nil)
		})
	}
}

// TestPagesCannotBeFramed: every page, the simulator, the check-in page
// and the survey form included, refuses to be framed by another site and
// sends nosniff and a referrer policy (the console too, through
// web's headers around its mount).
func TestPagesCannotBeFramed(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	cfg := config.Default()
	cfg.Security.DevMode = true
	cfg.Platforms.Simulator.Enabled = true
	a, err := app.New(context.Background(), cfg, app.Options{DB: db.DB})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	for _, path := range []string{"/sim", "/c/not-a-token", "/s/not-a-token", "/l/not-a-token", "/console/login", "/", "/healthz"} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err, path)
		resp.Body.Close()
		require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"), path)
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), path)
		require.Contains(t, []string{"same-origin", "no-referrer"}, resp.Header.Get("Referrer-Policy"), path)
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'", path)
	}
}

// TestServeSchedulesTheDirectorySync: with directory.sync_cron set, serving
// enqueues the next slot's sync of each enabled platform's directory (one
// durable job per platform and slot, whatever the number of replicas).
func TestServeSchedulesTheDirectorySync(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	cfg := config.Default()
	cfg.Security.LinkSecret = "directory-test-link-secret-01"
	wecomOn(cfg)
	cfg.Directory.SyncCron = "0 2 * * *"
	require.NoError(t, cfg.Validate())
	now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC) // 09:00 in Shanghai
	a, err := app.New(context.Background(), cfg, app.Options{DB: db.DB, Now: func() time.Time { return now }})
	require.NoError(t, err)
	defer a.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()
	var job store.Job
	require.Eventually(t, func() bool {
		return db.Where("kind = ?", "directory.sync").Limit(1).Find(&job).Error == nil && job.ID != 0
	}, 10*time.Second, 20*time.Millisecond)
	cancel()
	require.NoError(t, <-served)
	require.Equal(t, time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC), job.RunAt.UTC(), "02:00 Shanghai the next night")
	require.NotNil(t, job.UniqueKey)
	require.Contains(t, *job.UniqueKey, "directory:wecom:")
}
