package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/console"
	"github.com/learnloop/learnloop/console/accounts"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// clock is a settable time source shared by the app and the test.
type clock = apptest.Clock

// env is the whole service with the console mounted at /console, the way
// the lead wires it in app.New.
type env struct {
	a   *app.App
	srv *httptest.Server
	clk *clock
	db  *storetest.DB
	sh  *time.Location
}

const testPassword = "correct-horse-battery"

// t0 is 09:00 on Monday 2 March 2026 in Shanghai.
var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

type envOption func(*console.Deps)

func newEnv(t testing.TB, db *storetest.DB, opts ...envOption) *env {
	t.Helper()
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	clk := apptest.NewClock(t0)
	var ch http.Handler // the console, built on the app below
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, srv := apptest.Start(t, db.DB, clk, "console-test-link-secret-0123", func(cfg *config.Config, o *app.Options) {
		cfg.QuietHours.Enabled = true // the plans the console shows are moved out of quiet hours
		o.Logger = log
		o.Mounts = map[string]http.Handler{"/console": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ch.ServeHTTP(w, r) })}
		o.Messengers = map[bot.Platform]bot.Messenger{bot.PlatformWeCom: fakeWeCom{}}
	})
	cfg := a.Cfg()
	deps := console.Deps{
		Commands: a.Commands(), Accounts: &accounts.Service{DB: a.DB(), Now: clk.Now},
		Planner: a.Planner(), Location: cfg.Location(), Locale: cfg.Locale,
		Checkin: console.CheckinDefaults{OpensBefore: cfg.Checkin.OpensBefore.D(), Grace: cfg.Checkin.Grace.D(), MakeupAfter: cfg.Checkin.MakeupAfter.D()},
		Now:     clk.Now, Logger: log, LivePoll: 200 * time.Millisecond, SurveyAdmin: a.Surveys(),
		Surveys:   console.NewSurveyReports(a.Commands(), a.Surveys(), clk.Now, cfg.Location()),
		Presence:  a.Presence(),
		Campaigns: a.Campaigns(), Renderer: a.Renderer(), Previews: app.CardPreviews(),
		Webhooks: a.Webhooks(),
		Digests:  a.Digests(),
	}
	for _, o := range opts {
		o(&deps)
	}
	ch, err = console.New(deps)
	require.NoError(t, err)
	return &env{a: a, srv: srv, clk: clk, db: db, sh: sh}
}

// account creates an account with testPassword.
func (e *env) account(t testing.TB, username, role, dept string) store.Account {
	t.Helper()
	a, err := accounts.Create(context.Background(), e.db.DB, accounts.NewAccount{Username: username, Role: role, Department: dept, Password: testPassword}, "test", e.clk.Now())
	require.NoError(t, err)
	return a
}

// signedIn creates an account and returns a client signed in as it.
func (e *env) signedIn(t testing.TB, username, role, dept string) *client {
	t.Helper()
	e.account(t, username, role, dept)
	c := e.client(t)
	c.login(username)
	return c
}

// runDue runs the scheduler's due jobs until none are left.
func (e *env) runDue(t testing.TB) {
	t.Helper()
	apptest.RunDue(t, e.a)
}

// client is a browser without JavaScript: a cookie jar, no redirects
// followed (tests look at them).
type client struct {
	t    testing.TB
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) client(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type resp struct {
	Code     int
	Body     string
	Location string
	Header   http.Header
}

var csrfRe = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)

func (c *client) do(req *http.Request) resp {
	c.t.Helper()
	res, err := c.c.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	out := resp{Code: res.StatusCode, Body: string(b), Location: res.Header.Get("Location"), Header: res.Header}
	if m := csrfRe.FindStringSubmatch(out.Body); m != nil && m[1] != "" {
		c.csrf = m[1]
	}
	return out
}

func (c *client) get(path string) resp {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.e.srv.URL+path, nil)
	require.NoError(c.t, err)
	return c.do(req)
}

// post sends a form with the client's CSRF token (unless the form sets
// "csrf" itself).
func (c *client) post(path string, form url.Values) resp {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, c.e.srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// upload posts a multipart form with one file.
func (c *client) upload(path, field, filename string, data []byte) resp {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(c.t, mw.WriteField("csrf", c.csrf))
	if filename != "" {
		fw, err := mw.CreateFormFile(field, filename)
		require.NoError(c.t, err)
		_, _ = fw.Write(data)
	}
	require.NoError(c.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, c.e.srv.URL+path, &buf)
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// login signs in and fails the test unless it worked.
func (c *client) login(username string) {
	c.t.Helper()
	r := c.tryLogin(username, testPassword)
	require.Equal(c.t, http.StatusSeeOther, r.Code, r.Body)
	r = c.get("/console/")
	require.Equal(c.t, http.StatusOK, r.Code)
	require.NotEmpty(c.t, c.csrf)
}

func (c *client) tryLogin(username, password string) resp {
	c.t.Helper()
	r := c.get("/console/login")
	require.Equal(c.t, http.StatusOK, r.Code)
	return c.post("/console/login", url.Values{"username": {username}, "password": {password}})
}

// snapshot fingerprints everything a person can change: the row count of
// every table, and the mutable columns of courses, sessions, enrollments,
// touchpoints and accounts. An action that must change nothing leaves it
// equal.
func snapshot(t testing.TB, db *storetest.DB) string {
	t.Helper()
	var b strings.Builder
	for _, m := range []any{&store.Course{}, &store.Session{}, &store.Teacher{}, &store.Employee{}, &store.Enrollment{}, &store.Touchpoint{},
		&store.Job{}, &store.Checkin{}, &store.AuditLog{}, &store.Account{}, &store.Delivery{}, &store.LoginSession{}} {
		var n int64
		require.NoError(t, db.Model(m).Count(&n).Error)
		fmt.Fprintf(&b, "%T=%d;", m, n)
	}
	var cs []store.Course
	require.NoError(t, db.Order("id").Find(&cs).Error)
	for _, x := range cs {
		fmt.Fprintf(&b, "c%d:%s|%s|%s|%d|%s;", x.ID, x.Code, x.Title, x.Owner, x.TargetLevel, x.Behaviours)
	}
	var ss []store.Session
	require.NoError(t, db.Order("id").Find(&ss).Error)
	for _, x := range ss {
		fmt.Fprintf(&b, "s%d:%s|%s|%s|%s|%s|%d;", x.ID, x.Title, x.Status, x.StartsAt.UTC(), x.EndsAt.UTC(), x.Location, x.CheckinGrace)
	}
	var es []store.Enrollment
	require.NoError(t, db.Order("id").Find(&es).Error)
	for _, x := range es {
		fmt.Fprintf(&b, "e%d:%s|%s;", x.ID, x.Status, x.Note)
	}
	var tps []store.Touchpoint
	require.NoError(t, db.Order("id").Find(&tps).Error)
	for _, x := range tps {
		fmt.Fprintf(&b, "t%d:%s|%s|%s|%d|%s|%s;", x.ID, x.Kind, x.Status, x.Audience, x.Offset, x.RunAt.UTC(), x.Note)
	}
	var as []store.Account
	require.NoError(t, db.Order("id").Find(&as).Error)
	for _, x := range as {
		fmt.Fprintf(&b, "a%d:%s|%s|%s|%v|%s;", x.ID, x.Username, x.Role, x.Department, x.Disabled, x.PasswordHash)
	}
	return b.String()
}

// testLog sends log lines to the test's log.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// fakeWeCom stands in for WeCom: user ids starting with "gone" are refused
// the way WeCom refuses an unknown user.
type fakeWeCom struct{}

func (fakeWeCom) Platform() bot.Platform { return bot.PlatformWeCom }

func (fakeWeCom) Send(_ context.Context, to bot.Recipient, m bot.Message) (bot.Receipt, error) {
	if strings.HasPrefix(to.UserID, "gone") {
		return bot.Receipt{}, bot.Permanent("60111", "invalid userid: user not found", nil)
	}
	return bot.Receipt{Handle: "wecom-" + m.Key, SentAt: time.Now()}, nil
}
