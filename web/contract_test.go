package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/simulator"
	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store/storetest"
)

// contractRun drives a full app through apptest.Call, which checks every
// answer against api/openapi.yaml, and notes which operation answered what.
type contractRun struct {
	t      *testing.T
	url    string
	c      *apptest.Contract
	a      *app.App
	clk    *apptest.Clock
	answer map[string][]int // operationId → statuses seen
}

func (r *contractRun) call(method, path, ctype string, body, out any) int {
	r.t.Helper()
	code := apptest.Call(r.t, r.url, method, path, ctype, body, out)
	if strings.HasPrefix(path, apptest.APIPrefix) {
		req := httptest.NewRequest(method, r.url+path, nil)
		op, err := r.c.OperationID(req)
		require.NoError(r.t, err)
		r.answer[op] = append(r.answer[op], code)
	}
	return code
}

func (r *contractRun) want(status int, method, path string, body, out any) {
	r.t.Helper()
	require.Equal(r.t, status, r.call(method, path, "", body, out), "%s %s", method, path)
}

type idOnly struct {
	ID uint64 `json:"id"`
}

// TestEveryOperationAnswersAsDocumented calls every operation of
// api/openapi.yaml on a running app, with data in every list and report, and
// requires each to have answered a documented success whose body matches its
// schema (apptest.Call fails the test on any mismatch).
func TestEveryOperationAnswersAsDocumented(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		c, err := apptest.LoadContract(ctx, apptest.SpecPath())
		require.NoError(t, err)
		clk := apptest.NewClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)) // 09:00 Shanghai
		a, srv := apptest.Start(t, db.DB, clk, "contract-link-secret-0123456789", func(cfg *config.Config, _ *app.Options) {
			cfg.Webhooks.AllowPrivateTargets = true // the test's receiver is on loopback
		})
		r := &contractRun{t: t, url: srv.URL + "", c: c, a: a, clk: clk, answer: map[string][]int{}}
		api := apptest.APIPrefix

		// Courses and sessions.
		var course idOnly
		r.want(201, "POST", api+"/courses", map[string]any{"code": "LEAD-201", "title": "教练式辅导", "target_level": 3, "behaviours": []string{"明确目标", "多提问"}}, &course)
		cid := fmt.Sprint(course.ID)
		r.want(200, "GET", api+"/courses", nil, nil)
		r.want(200, "GET", api+"/courses/"+cid, nil, nil)
		r.want(200, "PATCH", api+"/courses/"+cid, map[string]any{"owner": "C001"}, nil)
		var created struct {
			Session     idOnly `json:"session"`
			Touchpoints []struct {
				ID   uint64 `json:"id"`
				Kind string `json:"kind"`
			} `json:"touchpoints"`
		}
		r.want(201, "POST", api+"/sessions", map[string]any{"course_id": course.ID, "starts_at": "2026-03-02T10:00:00+08:00",
			"ends_at": "2026-03-02T12:00:00+08:00", "teacher": "钱老师", "time_zone": "Asia/Shanghai", "location": "3F A"}, &created)
		sid := fmt.Sprint(created.Session.ID)
		r.want(200, "GET", api+"/sessions?course_id="+cid+"&limit=1", nil, nil)
		r.want(200, "GET", api+"/sessions/"+sid, nil, nil)
		r.want(200, "PATCH", api+"/sessions/"+sid, map[string]any{"online_url": "https://meeting.example.com/j/1"}, nil)

		// Roster and employees.
		csv := "external_id,name,department,manager_id,platform\nM001,周经理,销售,,simulator\n" +
			"E001,张伟,销售,M001,simulator\nE002,王芳,销售,M001,simulator\nE003,李娜,市场,,simulator\n"
		require.Equal(t, 200, r.call("POST", api+"/sessions/"+sid+"/roster", "text/csv", csv, nil))
		r.want(200, "GET", api+"/sessions/"+sid+"/roster?limit=2", nil, nil)
		r.want(200, "GET", api+"/employees", nil, nil)
		r.want(200, "GET", api+"/employees?department="+"%E9%94%80%E5%94%AE", nil, nil)
		r.want(200, "POST", api+"/sessions/"+sid+"/excuse", map[string]any{"external_id": "E003", "note": "出差"}, nil)

		// Touchpoints.
		r.want(200, "GET", api+"/sessions/"+sid+"/touchpoints", nil, nil)
		var custom idOnly
		r.want(201, "POST", api+"/sessions/"+sid+"/touchpoints", map[string]any{"kind": "custom", "note": "带笔记本", "offset_minutes": -120}, &custom)
		tid := fmt.Sprint(custom.ID)
		r.want(200, "GET", api+"/touchpoints/"+tid, nil, nil)
		r.want(200, "PATCH", api+"/touchpoints/"+tid, map[string]any{"note": "带笔记本和笔"}, nil)
		r.want(200, "GET", api+"/touchpoints/"+tid+"/preview?n=2", nil, nil)
		r.want(200, "POST", api+"/touchpoints/"+tid+"/pause", nil, nil)
		r.want(200, "POST", api+"/touchpoints/"+tid+"/resume", nil, nil)
		r.want(204, "DELETE", api+"/touchpoints/"+tid, nil, nil)
		// A best-time notice after the class (12:30–15:00, configured
		// 13:00): no past pushes yet, so the configured time, saying why.
		var bestTP struct {
			ID       uint64 `json:"id"`
			RunAt    string `json:"run_at"`
			From     *int64 `json:"best_from_minutes"`
			SendTime *struct {
				Reason string `json:"reason"`
			} `json:"send_time"`
		}
		r.want(201, "POST", api+"/sessions/"+sid+"/touchpoints", map[string]any{"kind": "custom", "note": "课后资料", "anchor": "end", "offset_minutes": 60,
			"best_time": true, "best_from_minutes": 30, "best_to_minutes": 180}, &bestTP)
		require.Equal(t, "2026-03-02T05:00:00Z", bestTP.RunAt)
		require.Equal(t, int64(30), *bestTP.From)
		require.Equal(t, "thin_data", bestTP.SendTime.Reason)
		bid := fmt.Sprint(bestTP.ID)
		var pv struct {
			Fires []struct {
				At       string `json:"at"`
				Basis    string `json:"send_time_basis"`
				SendTime *struct {
					Reason string `json:"reason"`
				} `json:"send_time"`
			} `json:"fires"`
		}
		r.want(200, "GET", api+"/touchpoints/"+bid+"/preview", nil, &pv)
		require.Len(t, pv.Fires, 1)
		require.Equal(t, "2026-03-02T05:00:00Z", pv.Fires[0].At)
		require.Equal(t, "thin_data", pv.Fires[0].SendTime.Reason)
		require.Contains(t, pv.Fires[0].Basis, "数据不足，使用设定时间")
		var problem struct {
			Errors []struct {
				Field string `json:"field"`
				Code  string `json:"code"`
			} `json:"errors"`
		}
		r.want(422, "PATCH", api+"/touchpoints/"+bid, map[string]any{"best_to_minutes": 10}, &problem)
		require.Equal(t, []string{"best_to_minutes", "window_order"}, []string{problem.Errors[0].Field, problem.Errors[0].Code})
		r.want(422, "POST", api+"/sessions/"+sid+"/touchpoints", map[string]any{"kind": "checkin_prompt", "offset_minutes": -15,
			"best_from_minutes": -30, "best_to_minutes": -5}, &problem)
		require.Equal(t, []string{"best_from_minutes", "best_not_allowed"}, []string{problem.Errors[0].Field, problem.Errors[0].Code})
		bestTP.From, bestTP.SendTime = nil, nil
		r.want(200, "PATCH", api+"/touchpoints/"+bid, map[string]any{"best_time": false}, &bestTP)
		require.Nil(t, bestTP.From, "back to the fixed offset")
		require.Nil(t, bestTP.SendTime)
		var prompt uint64
		for _, tp := range created.Touchpoints {
			if tp.Kind == bot.KindCheckinPrompt {
				prompt = tp.ID
			}
		}
		require.NotZero(t, prompt)
		r.want(202, "POST", fmt.Sprintf("%s/touchpoints/%d/send-now", api, prompt), nil, nil)
		apptest.RunDue(t, a)
		r.want(200, "GET", fmt.Sprintf("%s/touchpoints/%d/deliveries", api, prompt), nil, nil)

		// Check-ins: one manual (twice: the second is the duplicate).
		clk.Set(time.Date(2026, 3, 2, 1, 50, 0, 0, time.UTC)) // 09:50
		r.want(201, "POST", api+"/sessions/"+sid+"/checkins", map[string]any{"external_id": "E001"}, nil)
		r.want(200, "POST", api+"/sessions/"+sid+"/checkins", map[string]any{"external_id": "E001"}, nil)
		r.want(201, "POST", api+"/sessions/"+sid+"/checkins", map[string]any{"external_id": "M001", "kind": "late", "note": "补录"}, nil)
		r.want(200, "GET", api+"/sessions/"+sid+"/checkins", nil, nil)
		for _, f := range []string{"", "?format=json", "?format=csv", "?format=xlsx"} {
			r.want(200, "GET", api+"/sessions/"+sid+"/report"+f, nil, nil)
		}

		// Surveys: an NPS pushed now and answered in the card.
		r.want(200, "GET", api+"/survey-templates?limit=2", nil, nil)
		var sv struct {
			Survey     idOnly `json:"survey"`
			Touchpoint idOnly `json:"touchpoint"`
		}
		r.want(201, "POST", api+"/sessions/"+sid+"/surveys", map[string]any{"template": "nps", "send_at": clk.Now().Add(time.Minute).Format(time.RFC3339)}, &sv)
		svID := fmt.Sprint(sv.Survey.ID)
		r.want(200, "GET", api+"/sessions/"+sid+"/surveys", nil, nil)
		r.want(200, "GET", api+"/surveys/"+svID, nil, nil)
		clk.Set(clk.Now().Add(2 * time.Minute))
		apptest.RunDue(t, a)
		// M001 does not answer: the reminder has someone to remind.
		for user, score := range map[string]string{"E001": "9"} {
			btn := apptest.Button(t, bot.ActionNPS, score, a.Sim().Inbox(user)...)
			var tr simulator.TapResponse
			r.want(200, "POST", "/sim/api/tap", simulator.TapRequest{User: user, Token: btn.Token, Action: btn.Action, Value: btn.Value}, &tr)
			require.True(t, tr.OK, user)
		}
		r.want(202, "POST", api+"/surveys/"+svID+"/remind", nil, nil)
		r.want(200, "GET", api+"/surveys/"+svID+"/missing", nil, nil)
		for _, f := range []string{"", "?format=csv", "?format=xlsx"} {
			r.want(200, "GET", api+"/surveys/"+svID+"/report"+f, nil, nil)
			r.want(200, "GET", api+"/courses/"+cid+"/report"+f, nil, nil)
			r.want(200, "GET", api+"/teachers/report?year=2026"+strings.Replace(f, "?", "&", 1), nil, nil)
		}
		// Presence: on-site check-in required, then the survey's form
		// asks for the app identity.
		r.want(200, "GET", api+"/sessions/"+sid+"/presence", nil, nil)
		r.want(200, "PUT", api+"/sessions/"+sid+"/presence", map[string]any{"require_onsite": true, "rotate_seconds": 20}, nil)
		r.want(422, "PUT", api+"/sessions/"+sid+"/presence", map[string]any{"rotate_seconds": 1}, nil)
		r.want(200, "PUT", api+"/surveys/"+svID+"/identity", map[string]any{"required": true}, nil)
		r.want(201, "POST", api+"/sessions/"+sid+"/copy", nil, nil)
		r.want(201, "POST", api+"/sessions/"+sid+"/copy", map[string]any{"title": "第 3 期", "starts_at": "2026-03-16T10:00:00+08:00"}, nil)
		r.want(200, "POST", api+"/surveys/"+svID+"/close", nil, nil)
		r.want(200, "POST", api+"/sessions/"+sid+"/cancel", nil, nil)

		campaignContract(t, r)     // api_campaigns_test.go
		webhookContract(t, r, cid) // api_webhooks_test.go
		digestContract(t, r)       // api_digests_test.go
		// Every documented operation answered a success.
		var missing []string
		for _, item := range c.Doc.Paths.Map() {
			for _, op := range item.Operations() {
				ok := false
				for _, code := range r.answer[op.OperationID] {
					ok = ok || code/100 == 2
				}
				if !ok {
					missing = append(missing, op.OperationID)
				}
			}
		}
		sort.Strings(missing)
		require.Empty(t, missing, "operations never answered a success")
	})
}
