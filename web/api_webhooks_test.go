package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/webhooks"
)

// webhookContract drives /webhooks… against a receiver that checks every
// signature: create, read, change, a check-in delivered, the log, a
// redelivery, bad input, delete.
func webhookContract(t *testing.T, r *contractRun, courseID string) {
	t.Helper()
	api := apptest.APIPrefix
	var mu sync.Mutex
	var secret []byte
	var got []webhooks.Envelope
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := webhooks.Verify(secret, req.Header.Get(webhooks.SignatureHeader), body, r.clk.Now(), webhooks.Tolerance); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var env webhooks.Envelope
		if err := json.Unmarshal(body, &env); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got = append(got, env)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rcv.Close)

	r.want(422, "POST", api+"/webhooks", map[string]any{"url": "ftp://example.com", "events": []string{"checkin.created"}}, nil)
	r.want(422, "POST", api+"/webhooks", map[string]any{"url": rcv.URL, "events": []string{"nope"}}, nil)
	var ep webhooks.Endpoint
	r.want(201, "POST", api+"/webhooks", map[string]any{"url": rcv.URL + "/lms", "events": []string{"checkin.created", "delivery.failed"}, "description": "LMS"}, &ep)
	require.NotEmpty(t, ep.Secret)
	mu.Lock()
	secret = []byte(ep.Secret)
	mu.Unlock()
	id := fmt.Sprint(ep.ID)
	var list struct {
		Webhooks []webhooks.Endpoint `json:"webhooks"`
	}
	r.want(200, "GET", api+"/webhooks", nil, &list)
	require.Len(t, list.Webhooks, 1)
	require.Empty(t, list.Webhooks[0].Secret, "the secret is shown once")
	r.want(200, "GET", api+"/webhooks/"+id, nil, nil)
	r.want(404, "GET", api+"/webhooks/999999", nil, nil)
	r.want(200, "PATCH", api+"/webhooks/"+id, map[string]any{"description": "LMS 学习记录"}, nil)

	// A fact after the endpoint exists: a manual check-in on a new session.
	var created struct {
		Session idOnly `json:"session"`
	}
	r.want(201, "POST", api+"/sessions", map[string]any{"course_id": json.Number(courseID), "starts_at": "2026-03-09T10:00:00+08:00",
		"ends_at": "2026-03-09T12:00:00+08:00", "time_zone": "Asia/Shanghai"}, &created)
	sid := fmt.Sprint(created.Session.ID)
	require.Equal(t, 200, r.call("POST", api+"/sessions/"+sid+"/roster", "text/csv", "external_id,name,department,platform\nE002,王芳,销售,simulator\n", nil))
	r.want(201, "POST", api+"/sessions/"+sid+"/checkins", map[string]any{"external_id": "E002", "kind": "late", "note": "补录"}, nil)
	_, err := r.a.Webhooks().RunOnce(context.Background())
	require.NoError(t, err)
	mu.Lock()
	require.Len(t, got, 1)
	require.Equal(t, "checkin.created", got[0].Type)
	mu.Unlock()

	var log struct {
		Deliveries []webhooks.Delivery `json:"deliveries"`
	}
	r.want(200, "GET", api+"/webhooks/"+id+"/deliveries", nil, &log)
	require.Len(t, log.Deliveries, 1)
	require.Equal(t, "succeeded", log.Deliveries[0].Status)
	require.Equal(t, http.StatusOK, log.Deliveries[0].Log[0].StatusCode)
	did := fmt.Sprint(log.Deliveries[0].ID)
	r.want(200, "POST", api+"/webhooks/"+id+"/deliveries/"+did+"/redeliver", nil, nil)
	r.clk.Set(r.clk.Now().Add(time.Second))
	_, err = r.a.Webhooks().RunOnce(context.Background())
	require.NoError(t, err)
	mu.Lock()
	require.Len(t, got, 2)
	require.Equal(t, got[0].ID, got[1].ID, "a redelivery keeps the event id")
	mu.Unlock()
	r.want(404, "POST", api+"/webhooks/"+id+"/deliveries/999999/redeliver", nil, nil)
	r.want(204, "DELETE", api+"/webhooks/"+id, nil, nil)
	r.want(404, "GET", api+"/webhooks/"+id+"/deliveries", nil, nil)
}
