package apptest

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/config"
)

// Config is the configuration of an end-to-end test's app: dev mode, the
// admin token, the test server's URL as the public URL, quiet hours off and
// linkSecret signing the links. Tests change the rest before Validate.
func Config(publicURL, linkSecret string) *config.Config {
	cfg := config.Default()
	cfg.Security.DevMode = true
	cfg.Security.LinkSecret = config.Secret(linkSecret)
	cfg.Security.AdminTokens = []config.Secret{AdminToken}
	cfg.HTTP.PublicURL = publicURL
	cfg.QuietHours.Enabled = false
	return cfg
}

// Morning is the body of POST /api/v1/sessions for the tests' usual class:
// 2026-03-02 10:00–12:00 Shanghai in 3F A, taught by 赵老师.
func Morning() map[string]any {
	return map[string]any{
		"starts_at": "2026-03-02T10:00:00+08:00", "ends_at": "2026-03-02T12:00:00+08:00",
		"location": "3F A", "teacher": "赵老师", "time_zone": "Asia/Shanghai",
	}
}

// SessionSpec is what NewSession creates through the API.
type SessionSpec struct {
	// Course is the body of POST /api/v1/courses.
	Course map[string]any
	// Session is the body of POST /api/v1/sessions; NewSession adds the
	// course's id.
	Session map[string]any
	// Roster is the roster CSV for POST /api/v1/sessions/{id}/roster; empty:
	// no roster yet.
	Roster string
}

// Session is a session NewSession created: its course, its id and the
// touchpoints the API answered with.
type Session struct {
	CourseID    uint64
	ID          uint64
	Touchpoints []Touchpoint
}

// Touchpoint is one touchpoint of a created session.
type Touchpoint struct {
	ID     uint64    `json:"id"`
	Kind   string    `json:"kind"`
	Status string    `json:"status"`
	RunAt  time.Time `json:"run_at"`
}

// NewSession creates spec's course, its session and (when given) the roster
// through the API at baseURL, failing t on any answer but the documented
// success.
func NewSession(t testing.TB, baseURL string, spec SessionSpec) Session {
	t.Helper()
	var c struct{ ID uint64 }
	require.Equal(t, http.StatusCreated, Call(t, baseURL, http.MethodPost, "/api/v1/courses", "", spec.Course, &c))
	body := map[string]any{"course_id": c.ID}
	for k, v := range spec.Session {
		body[k] = v
	}
	var s struct {
		Session     struct{ ID uint64 } `json:"session"`
		Touchpoints []Touchpoint        `json:"touchpoints"`
	}
	require.Equal(t, http.StatusCreated, Call(t, baseURL, http.MethodPost, "/api/v1/sessions", "", body, &s))
	out := Session{CourseID: c.ID, ID: s.Session.ID, Touchpoints: s.Touchpoints}
	if spec.Roster != "" {
		out.ImportRoster(t, baseURL, spec.Roster)
	}
	return out
}

// ImportRoster posts csv as the session's roster.
func (s Session) ImportRoster(t testing.TB, baseURL, csv string) {
	t.Helper()
	require.Equal(t, http.StatusOK, Call(t, baseURL, http.MethodPost, "/api/v1/sessions/"+strconv.FormatUint(s.ID, 10)+"/roster", "text/csv", csv, nil))
}

// Touchpoint returns the session's touchpoint of kind, failing t when it
// has none.
func (s Session) Touchpoint(t testing.TB, kind string) Touchpoint {
	t.Helper()
	for _, tp := range s.Touchpoints {
		if tp.Kind == kind {
			return tp
		}
	}
	require.Failf(t, "no touchpoint", "session %d has no %s touchpoint", s.ID, kind)
	return Touchpoint{}
}
