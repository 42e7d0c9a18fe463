package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// campaignContract calls every campaign operation on the contract run's app
// (whose roster has E001, E002, E003 and M001 on the simulator): a campaign
// to 销售 sent now, a click on its card, a conversion credited to it and its
// report, each answer checked against api/openapi.yaml.
func campaignContract(t *testing.T, r *contractRun) {
	t.Helper()
	api := apptest.APIPrefix
	var emps struct {
		Employees []struct {
			ID         uint64 `json:"id"`
			ExternalID string `json:"external_id"`
		} `json:"employees"`
	}
	r.want(200, "GET", api+"/employees", nil, &emps)
	var e1 uint64
	for _, e := range emps.Employees {
		if e.ExternalID == "E001" {
			e1 = e.ID
		}
	}
	require.NotZero(t, e1)
	r.want(200, "PUT", fmt.Sprintf("%s/employees/%d/tags", api, e1), map[string]any{"tags": []string{"新员工", "骨干"}}, nil)
	r.want(422, "PUT", fmt.Sprintf("%s/employees/%d/tags", api, e1), map[string]any{"tags": []string{"a,b"}}, nil)
	aud := map[string]any{"include": []any{map[string]any{"department": "销售"}}, "exclude": []any{map[string]any{"tag": "离职中"}}}
	var count struct {
		Count int `json:"count"`
	}
	r.want(200, "POST", api+"/campaigns/audience-count", aud, &count)
	require.Equal(t, 3, count.Count, "M001, E001, E002")
	var c struct {
		ID       uint64 `json:"id"`
		Variants []struct {
			TouchpointID uint64 `json:"touchpoint_id"`
		} `json:"variants"`
	}
	r.want(201, "POST", api+"/campaigns", map[string]any{
		"name": "直播推广", "title": "今晚直播", "body": "高效沟通", "event": "live_join", "audience": aud,
		"buttons":  []any{map[string]any{"kind": "live", "text": "", "url": "https://live.example.com/1"}},
		"schedule": map[string]any{"kind": "now"},
		"variants": []any{map[string]any{"name": "A"}, map[string]any{"name": "B", "title": "别错过今晚直播"}},
	}, &c)
	r.want(422, "POST", api+"/campaigns", map[string]any{"name": "x", "audience": aud, "schedule": map[string]any{"kind": "later"}}, nil)
	id := fmt.Sprint(c.ID)
	// The campaign's carrier course and session are not classes.
	var courses struct {
		Courses []struct {
			Code string `json:"code"`
		} `json:"courses"`
	}
	r.want(200, "GET", api+"/courses", nil, &courses)
	for _, co := range courses.Courses {
		require.NotEqual(t, "_campaigns", co.Code, "the carrier course is not listed")
	}
	var sessions struct {
		Sessions []struct {
			Title string `json:"title"`
		} `json:"sessions"`
	}
	r.want(200, "GET", api+"/sessions", nil, &sessions)
	require.NotEmpty(t, sessions.Sessions)
	r.want(200, "GET", api+"/campaigns?limit=1", nil, nil)
	r.want(200, "GET", api+"/campaigns/"+id, nil, nil)
	r.want(200, "GET", api+"/campaigns/"+id+"/audience", nil, nil)
	r.want(200, "GET", api+"/campaigns/"+id+"/preview", nil, nil)
	apptest.RunDue(t, r.a)
	var link string
	for _, card := range r.a.Sim().Inbox("E001") {
		if card.Message.Kind == "campaign" {
			link = card.Message.Buttons[0].URL
		}
	}
	require.NotEmpty(t, link, "E001 got the campaign card")
	u, err := url.Parse(link)
	require.NoError(t, err)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(r.url + u.Path)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	at := r.clk.Now().Add(time.Minute)
	r.clk.Set(at)
	conv := map[string]any{"event_id": "crm-1", "event": "live_join", "occurred_at": at.Format(time.RFC3339), "external_id": "E001"}
	var res struct {
		Credited *struct {
			CampaignID uint64 `json:"campaign_id"`
		} `json:"credited"`
	}
	r.want(201, "POST", api+"/conversions", conv, &res)
	require.NotNil(t, res.Credited)
	require.Equal(t, c.ID, res.Credited.CampaignID)
	r.want(200, "POST", api+"/conversions", conv, nil)
	conv["external_id"] = "E002"
	r.want(409, "POST", api+"/conversions", conv, nil)
	var rep struct {
		Funnel struct {
			Delivered int `json:"delivered"`
			Clickers  int `json:"clickers"`
			Converted int `json:"converted"`
		} `json:"funnel"`
	}
	r.want(200, "GET", api+"/campaigns/"+id+"/report", nil, &rep)
	require.Equal(t, 3, rep.Funnel.Delivered)
	require.Equal(t, 1, rep.Funnel.Clickers)
	require.Equal(t, 1, rep.Funnel.Converted)
	r.want(400, "GET", api+"/campaigns/"+id+"/report?from=yesterday", nil, nil)
	r.want(200, "POST", api+"/campaigns/"+id+"/pause", nil, nil)
	r.want(200, "POST", api+"/campaigns/"+id+"/resume", nil, nil)
	r.want(200, "POST", api+"/campaigns/"+id+"/cancel", nil, nil)
	r.want(409, "POST", api+"/campaigns/"+id+"/resume", nil, nil)
	r.want(404, "GET", api+"/campaigns/999999", nil, nil)
	r.want(404, "PUT", api+"/employees/999999/tags", map[string]any{"tags": []string{"x"}}, nil)

	// The learned send time: the estimate, and a campaign sent at the best
	// hour of a window (no past campaign pushes here: the configured time).
	var est struct {
		N     int   `json:"n"`
		Hours []any `json:"hours"`
	}
	r.want(200, "GET", api+"/campaigns/send-time?department=%E9%94%80%E5%94%AE&platform=simulator&time_zone=Asia/Shanghai", nil, &est)
	require.Len(t, est.Hours, 24)
	r.want(400, "GET", api+"/campaigns/send-time?platform=fax", nil, nil)
	r.want(400, "GET", api+"/campaigns/send-time?time_zone=Mars/Base", nil, nil)
	from, to := r.clk.Now().Add(24*time.Hour), r.clk.Now().Add(33*time.Hour)
	var best struct {
		Schedule struct {
			Kind string `json:"kind"`
		} `json:"schedule"`
		Variants []struct {
			RunAt    time.Time `json:"run_at"`
			SendTime struct {
				Reason string `json:"reason"`
			} `json:"send_time"`
		} `json:"variants"`
	}
	r.want(201, "POST", api+"/campaigns", map[string]any{
		"name": "最佳时间", "title": "新课", "event": "course_start", "audience": aud,
		"schedule": map[string]any{"kind": "best", "window": map[string]any{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339)}},
	}, &best)
	require.Equal(t, "best", best.Schedule.Kind)
	var bestID struct {
		ID uint64 `json:"id"`
	}
	edit := map[string]any{"name": "最佳时间（改）", "title": "新课上线", "event": "course_start", "audience": aud,
		"schedule": map[string]any{"kind": "at", "at": from.Format(time.RFC3339)}}
	var list struct {
		Campaigns []struct {
			ID   uint64 `json:"id"`
			Name string `json:"name"`
		} `json:"campaigns"`
	}
	r.want(200, "GET", api+"/campaigns?limit=100", nil, &list)
	for _, x := range list.Campaigns {
		if x.Name == "最佳时间" {
			bestID.ID = x.ID
		}
	}
	require.NotZero(t, bestID.ID)
	r.want(200, "PUT", fmt.Sprintf("%s/campaigns/%d", api, bestID.ID), edit, nil)
	r.want(422, "PUT", fmt.Sprintf("%s/campaigns/%d", api, bestID.ID), map[string]any{"name": "", "audience": aud, "schedule": map[string]any{"kind": "now"}}, nil)
	r.want(404, "PUT", api+"/campaigns/999999", edit, nil)
	r.want(409, "PUT", api+"/campaigns/"+id, edit, nil)
	require.Equal(t, "thin_data", best.Variants[0].SendTime.Reason)
	require.True(t, best.Variants[0].RunAt.Equal(from), "thin data: the window's start")
	r.want(422, "POST", api+"/campaigns", map[string]any{
		"name": "x", "title": "x", "event": "e", "audience": aud,
		"schedule": map[string]any{"kind": "best", "window": map[string]any{"from": to.Format(time.RFC3339), "to": from.Format(time.RFC3339)}},
	}, nil)
}

// TestConversionBodyRefused: bodies that are not a conversion are refused
// with a problem a client can act on — a JSON type, not a Go type, in the
// detail; 413 for a body over the limit — and store nothing; on both
// databases.
func TestConversionBodyRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		_, srv := apptest.Start(t, db.DB, apptest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)), "conversion-body-link-secret-0123456789")
		for _, tc := range []struct {
			name   string
			body   string
			status int
			code   string
			detail string
		}{
			{"an array", `[]`, http.StatusBadRequest, "malformed_json", "the body must be a JSON object, not array"},
			{"a string id", `{"employee_id":"E001"}`, http.StatusBadRequest, "malformed_json", `field "employee_id" must be a non-negative integer`},
			{"a negative id", `{"employee_id":-1}`, http.StatusBadRequest, "malformed_json", `field "employee_id" must be a non-negative integer`},
			{"a bad time", `{"occurred_at":"yesterday"}`, http.StatusBadRequest, "malformed_json", "yesterday"},
			{"over 1 MiB", `{"event_id":"` + strings.Repeat("x", 1<<20) + `"}`, http.StatusRequestEntityTooLarge, "too_large", "the body is over 1048576 bytes"},
		} {
			var p struct {
				Code   string `json:"code"`
				Detail string `json:"detail"`
			}
			require.Equal(t, tc.status, apptest.Call(t, srv.URL, "POST", apptest.APIPrefix+"/conversions", "application/json", tc.body, &p), tc.name)
			require.Equal(t, tc.code, p.Code, tc.name)
			require.Contains(t, p.Detail, tc.detail, tc.name)
		}
		var n int64
		require.NoError(t, db.Model(&store.Conversion{}).Count(&n).Error)
		require.Zero(t, n)
	})
}
