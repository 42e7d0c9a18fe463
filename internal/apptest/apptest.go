// Package apptest holds what the end-to-end tests of the app, the adapters
// and the console share: a settable clock, an API client for a test server,
// draining due jobs, and finding and tapping a simulator card's buttons.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/app"
)

// AdminToken is the API bearer token the test configurations use.
const AdminToken = "test-admin-token"

// Clock is a settable time source shared by the app and a test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// Call makes an API request against baseURL with the admin token (unless the
// path is the simulator's), sends body as JSON unless it is a string or
// bytes, decodes a JSON answer into out when non-nil, and returns the status.
// Every answer under /api/v1 is checked against api/openapi.yaml: a status
// the operation does not document, or a body that does not match its schema,
// fails t.
func Call(t testing.TB, baseURL, method, path, ctype string, body, out any) int {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	case []byte:
		rd = bytes.NewReader(v)
	default:
		buf, err := json.Marshal(v)
		require.NoError(t, err)
		rd, ctype = bytes.NewReader(buf), "application/json"
	}
	req, err := http.NewRequest(method, baseURL+path, rd)
	require.NoError(t, err)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if !strings.HasPrefix(path, "/sim") {
		req.Header.Set("Authorization", "Bearer "+AdminToken)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	checkContract(t, req, resp.StatusCode, resp.Header, raw)
	if out != nil && len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, out), "body: %s", raw)
	}
	return resp.StatusCode
}

// RunDue runs due jobs until none is left (at most five rounds: a job may
// enqueue the next one).
func RunDue(t testing.TB, a *app.App) {
	t.Helper()
	for range 5 {
		n, err := a.Sched().RunDue(context.Background())
		require.NoError(t, err)
		if n == 0 {
			return
		}
	}
}
