package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/simulator"
	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

const token = apptest.AdminToken

type clock = apptest.Clock

type bundle struct {
	a     *app.App
	srv   *httptest.Server
	clk   *clock
	db    *storetest.DB
	shang *time.Location
}

func setup(t *testing.T, db *storetest.DB, opts ...func(*config.Config, *app.Options)) *bundle {
	t.Helper()
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	clk := apptest.NewClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))                             // 09:00 Shanghai
	simulator := func(cfg *config.Config, _ *app.Options) { cfg.Platforms.Simulator.Enabled = true } // the tests tap through /sim
	a, srv := apptest.Start(t, db.DB, clk, "e2e-link-secret-0123456789", append([]func(*config.Config, *app.Options){simulator}, opts...)...)
	return &bundle{a: a, srv: srv, clk: clk, db: db, shang: sh}
}

// call makes an API request and decodes the JSON answer into out (if non-nil).
func (b *bundle) call(t *testing.T, method, path, ctype string, body any, out any) int {
	t.Helper()
	return apptest.Call(t, b.srv.URL, method, path, ctype, body, out)
}

// plan creates a course, a session starting at 10:00 Shanghai and a roster
// of three simulator employees.
func (b *bundle) plan(t *testing.T) apptest.Session {
	t.Helper()
	s := apptest.NewSession(t, b.srv.URL, apptest.SessionSpec{
		Course:  map[string]any{"code": "COMM-101", "title": "高效沟通"},
		Session: apptest.Morning(),
	})
	csv := "external_id,name,department,platform\nE001,张伟,销售,simulator\nE002,王芳,销售,simulator\nE003,李娜,市场,simulator\n"
	var res struct{ Employees, Enrolled int }
	require.Equal(t, http.StatusOK, b.call(t, "POST", "/api/v1/sessions/"+u(s.ID)+"/roster", "text/csv", csv, &res))
	require.Equal(t, 3, res.Enrolled)
	return s
}

func u(id uint64) string { return jsonNum(id) }

func jsonNum(id uint64) string { b, _ := json.Marshal(id); return string(b) }

func (b *bundle) runDue(t *testing.T) { t.Helper(); apptest.RunDue(t, b.a) }

func TestEndToEndCheckinLoop(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		s := b.plan(t)
		// The default plan (3) plus the post-course feedback and its two
		// reminders; the course defines no behaviours, so no follow-up.
		require.Len(t, s.Touchpoints, 6)
		kinds := map[string]string{}
		var promptAt time.Time
		var promptID uint64
		for _, tp := range s.Touchpoints {
			kinds[tp.Kind] = tp.Status
			if tp.Kind == bot.KindCheckinPrompt {
				promptAt, promptID = tp.RunAt, tp.ID
			}
		}
		// The session starts in an hour: the day-before reminder is past.
		require.Equal(t, store.TouchpointSkipped, kinds[bot.KindReminder])
		require.Equal(t, time.Date(2026, 3, 2, 1, 45, 0, 0, time.UTC), promptAt.UTC(), "check-in prompt at start−15m")

		// Before its time nothing is sent.
		b.runDue(t)
		require.Zero(t, b.a.Sim().Sends())

		b.clk.Set(promptAt.Add(time.Second))
		b.runDue(t)
		require.Equal(t, 3, b.a.Sim().Sends(), "one card per recipient")
		for _, id := range []string{"E001", "E002", "E003"} {
			require.Len(t, b.a.Sim().Inbox(id), 1, id)
		}

		// E001 taps three times: one check-in, card updated in place.
		btn := apptest.Button(t, bot.ActionCheckin, "", b.a.Sim().Inbox("E001")...)
		b.clk.Set(time.Date(2026, 3, 2, 1, 47, 0, 0, time.UTC)) // 09:47 Shanghai
		for i := range 3 {
			var tr simulator.TapResponse
			require.Equal(t, http.StatusOK, b.call(t, "POST", "/sim/api/tap", "", simulator.TapRequest{User: "E001", Token: btn.Token, Action: btn.Action}, &tr))
			require.True(t, tr.OK)
			require.Equal(t, i > 0, tr.Duplicate)
		}
		card := b.a.Sim().Inbox("E001")[0]
		require.Equal(t, "已签到 09:47 ✓", card.Message.Status)
		require.Empty(t, checkinButtons(card.Message), "the check-in button is gone after the tap")
		var n int64
		require.NoError(t, db.Model(&store.Checkin{}).Count(&n).Error)
		require.EqualValues(t, 1, n)

		// Someone else's token does not check E002 in.
		var tr simulator.TapResponse
		require.Equal(t, http.StatusOK, b.call(t, "POST", "/sim/api/tap", "", simulator.TapRequest{User: "E002", Token: btn.Token}, &tr))
		require.False(t, tr.OK)
		require.NoError(t, db.Model(&store.Checkin{}).Count(&n).Error)
		require.EqualValues(t, 1, n)

		// Send now twice → still one delivery per recipient.
		for range 2 {
			require.Equal(t, http.StatusAccepted, b.call(t, "POST", "/api/v1/touchpoints/"+u(promptID)+"/send-now", "", nil, nil))
			b.runDue(t)
		}
		require.NoError(t, db.Model(&store.Delivery{}).Where("touchpoint_id = ?", promptID).Count(&n).Error)
		require.EqualValues(t, 3, n)
		require.Equal(t, 3, b.a.Sim().Sends())

		var lists struct {
			Roster     []map[string]any `json:"roster"`
			Checkins   []map[string]any `json:"checkins"`
			Deliveries []map[string]any `json:"deliveries"`
		}
		require.Equal(t, http.StatusOK, b.call(t, "GET", "/api/v1/sessions/"+u(s.ID)+"/roster", "", nil, &lists))
		require.Equal(t, http.StatusOK, b.call(t, "GET", "/api/v1/sessions/"+u(s.ID)+"/checkins", "", nil, &lists))
		require.Equal(t, http.StatusOK, b.call(t, "GET", "/api/v1/touchpoints/"+u(promptID)+"/deliveries", "", nil, &lists))
		require.Len(t, lists.Roster, 3)
		require.Len(t, lists.Checkins, 1)
		require.Equal(t, "E001", lists.Checkins[0]["external_id"])
		require.Len(t, lists.Deliveries, 3)
		require.Equal(t, "sent", lists.Deliveries[0]["status"])

		var rep struct {
			Eligible    int `json:"eligible"`
			CheckedIn   int `json:"checked_in"`
			OnTime      int `json:"on_time"`
			CheckinRate struct {
				Value *float64 `json:"value"`
				N     int      `json:"n"`
			} `json:"checkin_rate"`
			LowCheckin bool `json:"low_checkin"`
		}
		require.Equal(t, http.StatusOK, b.call(t, "GET", "/api/v1/sessions/"+u(s.ID)+"/report", "", nil, &rep))
		require.Equal(t, 3, rep.Eligible)
		require.Equal(t, 1, rep.CheckedIn)
		require.Equal(t, 1, rep.OnTime)
		require.NotNil(t, rep.CheckinRate.Value)
		require.InDelta(t, 33.3, *rep.CheckinRate.Value, 0.05)
		require.True(t, rep.LowCheckin)
	})
}

func checkinButtons(m bot.Message) []bot.Button {
	var out []bot.Button
	for _, b := range m.Buttons {
		if b.Action == bot.ActionCheckin {
			out = append(out, b)
		}
	}
	return out
}

func TestOperationalEndpoints(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		for path, want := range map[string]string{"/healthz": `"ok"`, "/readyz": `"current"`, "/metrics": "learnloop_job_lag_seconds"} {
			resp, err := http.Get(b.srv.URL + path)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode, path)
			require.Contains(t, string(body), want, path)
		}
		// A database behind the binary's migrations is not ready.
		require.NoError(t, db.Exec("DELETE FROM schema_migrations").Error)
		resp, err := http.Get(b.srv.URL + "/readyz")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	})
}

func TestPlatformsAreWiredWhenEnabled(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	cfg := config.Default()
	cfg.Security.DevMode = true
	cfg.Platforms.WeCom.Enabled = true
	cfg.Platforms.WeCom.CorpID = "ww0123456789abcdef"
	cfg.Platforms.WeCom.AgentID = 1000002
	cfg.Platforms.WeCom.Secret = "wecom-secret"
	cfg.Platforms.WeCom.Token = "wecom-token"
	cfg.Platforms.WeCom.EncodingAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	cfg.Platforms.WeCom.APIBase = "http://127.0.0.1:9"
	cfg.Platforms.Feishu.Enabled = true
	cfg.Platforms.Feishu.AppID = "cli_test"
	cfg.Platforms.Feishu.AppSecret = "feishu-secret"
	cfg.Platforms.Feishu.VerificationToken = "feishu-token"
	cfg.Platforms.Feishu.APIBase = "http://127.0.0.1:9"
	cfg.Platforms.DingTalk.Enabled = true
	cfg.Platforms.DingTalk.AppKey = "dingbenchappkey"
	cfg.Platforms.DingTalk.AppSecret = "dingtalk-secret"
	cfg.Platforms.DingTalk.AgentID = 12345
	cfg.Platforms.DingTalk.CallbackMode = "http"
	cfg.Platforms.DingTalk.CallbackToken = "dingtalk-token"
	cfg.Platforms.DingTalk.CallbackAESKey = "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7"
	cfg.Platforms.DingTalk.APIBase = "http://127.0.0.1:9"
	cfg.Platforms.DingTalk.OAPIBase = "http://127.0.0.1:9"
	require.NoError(t, cfg.Validate())
	a, err := app.New(context.Background(), cfg, app.Options{DB: db.DB})
	require.NoError(t, err)
	defer a.Close()
	require.Contains(t, a.Messengers(), bot.PlatformWeCom)
	require.Contains(t, a.Messengers(), bot.PlatformDingTalk)
	require.Contains(t, a.Messengers(), bot.PlatformFeishu)
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	// Unsigned callbacks are refused and reach nothing.
	resp, err := http.Get(srv.URL + "/callbacks/wecom?msg_signature=x&timestamp=1&nonce=1&echostr=abc")
	require.NoError(t, err)
	resp.Body.Close()
	require.GreaterOrEqual(t, resp.StatusCode, 400)
	require.Less(t, resp.StatusCode, 500)
	resp, err = http.Post(srv.URL+"/callbacks/dingtalk?signature=x&timestamp=1&nonce=1", "application/json", strings.NewReader(`{"encrypt":"abc"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.GreaterOrEqual(t, resp.StatusCode, 400)
	require.Less(t, resp.StatusCode, 500)
	resp, err = http.Post(srv.URL+"/callbacks/feishu", "application/json", strings.NewReader(`{"schema":"2.0","header":{"token":"wrong"}}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.GreaterOrEqual(t, resp.StatusCode, 400)
	require.Less(t, resp.StatusCode, 500)
}

func TestReconcileJobIsScheduledOnlyWhenAPlatformCanReport(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	b := setup(t, db)
	require.NoError(t, b.a.ScheduleReconcile(context.Background()))
	require.EqualValues(t, 0, count(t, db, &store.Job{}), "the simulator reports nothing late")

	cfg := config.Default()
	cfg.Security.DevMode = true
	cfg.Platforms.DingTalk = config.DingTalkConfig{Enabled: true, AppKey: "k", AppSecret: "s", AgentID: 1, CallbackMode: "stream",
		APIBase: "http://127.0.0.1:9", OAPIBase: "http://127.0.0.1:9", Timeout: config.Duration(time.Second), CallbackMaxSkew: config.Duration(time.Minute)}
	db2 := storetest.Open(t, store.DriverSQLite)
	a, err := app.New(context.Background(), cfg, app.Options{DB: db2.DB, Now: b.clk.Now})
	require.NoError(t, err)
	defer a.Close()
	require.NoError(t, a.ScheduleReconcile(context.Background()))
	require.NoError(t, a.ScheduleReconcile(context.Background()), "a second replica adds nothing")
	var jobs []store.Job
	require.NoError(t, db2.Where("kind = ?", app.JobReconcile).Find(&jobs).Error)
	require.Len(t, jobs, 1)
	require.True(t, jobs[0].RunAt.After(b.clk.Now()))
	// It runs and schedules the next slot.
	b.clk.Set(jobs[0].RunAt.Add(time.Second))
	n, err := a.Sched().RunDue(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoError(t, db2.Where("kind = ?", app.JobReconcile).Order("run_at").Find(&jobs).Error)
	require.Len(t, jobs, 2)
	require.Equal(t, store.JobCompleted, jobs[0].State)
	require.Equal(t, jobs[0].RunAt.Add(10*time.Minute), jobs[1].RunAt)
}
