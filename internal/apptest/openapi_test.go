package apptest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestContractCatchesMismatches feeds the contract check answers that break
// api/openapi.yaml in each way it must catch, and ones that keep it.
func TestContractCatchesMismatches(t *testing.T) {
	t.Parallel()
	c, err := LoadContract(context.Background(), SpecPath())
	require.NoError(t, err)
	jsonCT := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	problemCT := http.Header{"Content-Type": {"application/problem+json"}}
	course := `{"id":1,"code":"C1","title":"T","category":"","target_level":1,"behaviours":[],"owner":"","calendar_invite":"inherit"}`
	page := `{"courses":[` + course + `],"next_cursor":null,"next":null}`
	notFound := `{"type":"tag:learnloop,2026:problem:not_found","title":"Not found","status":404,"detail":"course 9 does not exist","code":"not_found"}`
	cases := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		ok                 bool
	}{
		{"course", "GET", "/api/v1/courses/1", 200, jsonCT, course, true},
		{"course list", "GET", "/api/v1/courses?limit=5", 200, jsonCT, page, true},
		{"list without next", "GET", "/api/v1/courses", 200, jsonCT, `{"courses":[]}`, false},
		{"undocumented member", "GET", "/api/v1/courses/1", 200, jsonCT, course[:len(course)-1] + `,"Extra":1}`, false},
		{"missing member", "GET", "/api/v1/courses/1", 200, jsonCT, `{"id":1}`, false},
		{"wrong type", "GET", "/api/v1/courses/1", 200, jsonCT, `{"id":"1","code":"C1","title":"T","category":"","target_level":1,"behaviours":[],"owner":"","calendar_invite":"inherit"}`, false},
		{"undocumented status", "GET", "/api/v1/courses/1", 418, jsonCT, course, false},
		{"problem", "GET", "/api/v1/courses/9", 404, problemCT, notFound, true},
		{"old error shape", "GET", "/api/v1/courses/9", 404, jsonCT, `{"error":{"code":"not_found","message":"x"}}`, false},
		{"old shape as problem", "GET", "/api/v1/courses/9", 404, problemCT, `{"error":{"code":"not_found","message":"x"}}`, false},
		{"unknown endpoint", "GET", "/api/v1/nothing", 404, problemCT, notFound, true},
		{"unknown endpoint answered 200", "GET", "/api/v1/nothing", 200, jsonCT, `{}`, false},
		{"pascal case nps", "GET", "/api/v1/surveys/1/report", 200, jsonCT, `{"generated_at":"2026-03-02T04:00:00Z","survey":{"id":1,"kind":"nps","title":"t","session_id":1,"course_id":1,"course_title":"c","anonymous":false,"min_group_size":5,"opens_at":"2026-03-02T04:00:00Z","closes_at":"2026-03-09T04:00:00Z","status":"open"},"response_rate":{"eligible":1,"complete":1,"partial":0,"rate":100,"partial_rate":0,"definition":"d","definition_en":"d"},"dimensions":[],"nps":{"N":1,"Score":100},"questions":[],"comments":[],"departments":[],"notes":[],"definitions":{}}`, false},
		{"csv report", "GET", "/api/v1/sessions/1/report?format=csv", 200, http.Header{"Content-Type": {"text/csv; charset=utf-8"}}, "a,b\n1,2\n", true},
		{"unknown touchpoint kind", "GET", "/api/v1/touchpoints/1", 200, jsonCT, `{"id":1,"session_id":1,"kind":"spam","anchor":"start","offset_minutes":0,"audience":"all","status":"scheduled","run_at":"2026-03-02T04:00:00Z"}`, false},
		{"survey touchpoint", "GET", "/api/v1/touchpoints/1", 200, jsonCT, `{"id":1,"session_id":1,"kind":"manager_reminder","anchor":"absolute","offset_minutes":0,"audience":"managers_not_responded","status":"scheduled","run_at":"2026-03-02T04:00:00Z","at":"2026-03-02T04:00:00Z"}`, true},
	}
	for _, tc := range cases {
		req := httptest.NewRequest(tc.method, "http://127.0.0.1:1234"+tc.path, nil)
		err := c.CheckResponse(context.Background(), req, tc.status, tc.header, []byte(tc.body))
		if tc.ok {
			require.NoError(t, err, tc.name)
		} else {
			require.Error(t, err, tc.name)
		}
	}
}
