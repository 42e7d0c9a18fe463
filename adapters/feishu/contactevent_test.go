package feishu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/feishu"
	"github.com/learnloop/learnloop/directory"
	"github.com/learnloop/learnloop/directory/contact"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

const (
	evToken = "v-contact-token-123"
	evKey   = "enc-contact-key-0123456789"
)

// contactEventReq is a contact event as Feishu posts it to the request
// URL: schema 2.0, encrypted with the encrypt key, signed.
func contactEventReq(t *testing.T, at time.Time, eventID, eventType string, event map[string]any) *http.Request {
	t.Helper()
	plain, err := json.Marshal(map[string]any{
		"schema": "2.0",
		"header": map[string]any{"event_id": eventID, "event_type": eventType, "create_time": strconv.FormatInt(at.UnixMilli(), 10),
			"token": evToken, "app_id": "cli_dir", "tenant_key": "tenant-1"},
		"event": event,
	})
	require.NoError(t, err)
	enc, err := feishu.Encrypt(plain, evKey)
	require.NoError(t, err)
	body, _ := json.Marshal(map[string]string{"encrypt": enc})
	ts := strconv.FormatInt(at.Unix(), 10)
	req := httptest.NewRequest(http.MethodPost, "/callbacks/feishu", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Lark-Request-Timestamp", ts)
	req.Header.Set("X-Lark-Request-Nonce", "n-"+eventID)
	req.Header.Set("X-Lark-Signature", feishu.Signature(ts, "n-"+eventID, evKey, body))
	return req
}

func TestContactEventsOverTheCallback(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		f := newFakeContact(t)
		now := time.Now().UTC().Truncate(time.Millisecond)
		clk := func() time.Time { return now }
		sched := scheduler.New(db.DB, scheduler.Options{Now: clk})
		inbox := &directory.Inbox{Sched: sched, Now: clk}
		c, err := feishu.New(feishu.Config{AppID: "cli_dir", AppSecret: "dir-secret-123456", VerificationToken: evToken, EncryptKey: evKey,
			APIBase: f.URL, ReceiveIDType: feishu.IDTypeUserID}, feishu.WithNow(clk), feishu.WithContactHandler(inbox))
		require.NoError(t, err)
		s := directory.NewSyncer(db.DB, directory.Options{Now: clk})
		src := directory.Feishu(c, 2)
		(&directory.Changes{Syncer: s, Sources: map[string]directory.Source{"feishu": src}}).Register(sched)
		_, err = s.Sync(ctx, src, directory.RunOptions{})
		require.NoError(t, err)
		now = now.Add(time.Minute)
		h := c.CallbackHandler(nil)
		post := func(req *http.Request) int {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Code
		}
		runDue := func() {
			for range 3 {
				n, err := sched.RunDue(ctx)
				require.NoError(t, err)
				if n == 0 {
					return
				}
			}
		}
		emp := func(id string) store.Employee {
			var e store.Employee
			require.NoError(t, db.Where("feishu_id = ?", id).Take(&e).Error)
			return e
		}

		// 赵六 gets a title; the event (sent twice) names them by every id
		// type, and its object is not trusted for the fields: users/get is.
		f.mu.Lock()
		f.users["od-east"][1]["job_title"] = "架构师"
		f.mu.Unlock()
		upd := map[string]any{"object": map[string]any{"open_id": "ou_zhao", "user_id": "zhao", "union_id": "on_zhao", "name": "赵六", "job_title": "架构师"},
			"old_object": map[string]any{"job_title": ""}}
		require.Equal(t, http.StatusOK, post(contactEventReq(t, now, "ev-1", "contact.user.updated_v3", upd)))
		require.Equal(t, http.StatusOK, post(contactEventReq(t, now, "ev-1", "contact.user.updated_v3", upd)))
		var jobs int64
		require.NoError(t, db.Model(&store.Job{}).Where("kind = ?", directory.JobChange).Count(&jobs).Error)
		require.EqualValues(t, 1, jobs)
		runDue()
		require.Equal(t, "架构师", emp("zhao").Title)
		require.Equal(t, 1, f.gets)

		// 钱七 is deleted: inactive.
		now = now.Add(time.Minute)
		del := map[string]any{"object": map[string]any{"open_id": "ou_qian", "user_id": "qian"}}
		require.Equal(t, http.StatusOK, post(contactEventReq(t, now, "ev-2", "contact.user.deleted_v3", del)))
		runDue()
		require.False(t, emp("qian").Active)

		// A department is created under 销售部, then deleted.
		now = now.Add(time.Minute)
		dep := map[string]any{"object": map[string]any{"open_department_id": "od-south", "department_id": "south", "name": "华南区", "parent_department_id": "od-sales",
			"status": map[string]any{"is_deleted": false}}}
		require.Equal(t, http.StatusOK, post(contactEventReq(t, now, "ev-3", "contact.department.created_v3", dep)))
		runDue()
		var d store.DirectoryDepartment
		require.NoError(t, db.Where("platform = ? AND dept_id = ?", "feishu", "od-south").Take(&d).Error)
		require.Equal(t, "销售部 / 华南区", d.Path)
		require.True(t, d.Active)
		now = now.Add(time.Minute)
		require.Equal(t, http.StatusOK, post(contactEventReq(t, now, "ev-4", "contact.department.deleted_v3",
			map[string]any{"object": map[string]any{"open_department_id": "od-south", "status": map[string]any{"is_deleted": true}}})))
		runDue()
		require.NoError(t, db.Where("platform = ? AND dept_id = ?", "feishu", "od-south").Take(&d).Error)
		require.False(t, d.Active)

		// Forged or malformed events reach nobody.
		forged := contactEventReq(t, now, "ev-5", "contact.user.deleted_v3", map[string]any{"object": map[string]any{"user_id": "wang"}})
		forged.Header.Set("X-Lark-Signature", "0000")
		require.Equal(t, http.StatusUnauthorized, post(forged))
		require.Equal(t, http.StatusBadRequest, post(contactEventReq(t, now, "ev-6", "contact.user.deleted_v3", map[string]any{"object": map[string]any{}})))
		require.NoError(t, db.Model(&store.Job{}).Where("kind = ?", directory.JobChange).Count(&jobs).Error)
		require.EqualValues(t, 4, jobs)
		require.True(t, emp("wang").Active)

		// A handler that cannot keep an event gets Feishu to send it again.
		failing, err := feishu.New(feishu.Config{AppID: "cli_dir", AppSecret: "dir-secret-123456", VerificationToken: evToken, EncryptKey: evKey,
			APIBase: f.URL, ReceiveIDType: feishu.IDTypeUserID}, feishu.WithNow(clk),
			feishu.WithContactHandler(contact.HandlerFunc(func(context.Context, contact.Change) error { return context.DeadlineExceeded })))
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		failing.CallbackHandler(nil).ServeHTTP(rec, contactEventReq(t, now, "ev-7", "contact.user.updated_v3", upd))
		require.Equal(t, http.StatusInternalServerError, rec.Code)
	})
}
