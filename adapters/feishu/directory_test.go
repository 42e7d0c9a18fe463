package feishu_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/feishu"
	"github.com/learnloop/learnloop/directory"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// fakeContact is Feishu's contact v3 as the directory uses it: the tenant
// token, page_size limits (≤50), page tokens, rate limits answered with
// HTTP 429 and code 99991400, and 40004-style refusals for departments out
// of the app's range.
type fakeContact struct {
	*httptest.Server
	depts []map[string]any
	users map[string][]map[string]any // department → users

	mu      sync.Mutex
	limited int
	pages   int
	gets    int // users/{id} reads
	refuse  string
}

func newFakeContact(t *testing.T) *fakeContact {
	f := &fakeContact{
		depts: []map[string]any{
			{"open_department_id": "od-sales", "parent_department_id": "0", "name": "销售部"},
			{"open_department_id": "od-east", "parent_department_id": "od-sales", "name": "华东区"},
			{"open_department_id": "od-gone", "parent_department_id": "0", "name": "旧部门", "status": map[string]any{"is_deleted": true}},
		},
		users: map[string][]map[string]any{
			"0": {{"user_id": "boss", "open_id": "ou_boss", "name": "老板", "employee_no": "E001", "department_ids": []string{"0"}}},
			"od-sales": {
				{"user_id": "li", "open_id": "ou_li", "name": "李经理", "employee_no": "E002", "job_title": "总监", "leader_user_id": "boss", "department_ids": []string{"od-sales"}, "mobile": "+8613800000002"},
				{"user_id": "left", "open_id": "ou_left", "name": "离职", "department_ids": []string{"od-sales"}, "status": map[string]any{"is_resigned": true}},
			},
			"od-east": {
				{"user_id": "wang", "open_id": "ou_wang", "name": "王五", "city": "上海", "leader_user_id": "li", "department_ids": []string{"od-east", "od-sales"}, "enterprise_email": "wang@corp.example"},
				{"user_id": "zhao", "open_id": "ou_zhao", "name": "赵六", "leader_user_id": "li", "department_ids": []string{"od-east"}},
				{"user_id": "qian", "open_id": "ou_qian", "name": "钱七", "leader_user_id": "li", "department_ids": []string{"od-east"}},
			},
		},
	}
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("POST /open-apis/auth/v3/tenant_access_token/internal", func(w http.ResponseWriter, r *http.Request) {
		write(w, 200, map[string]any{"code": 0, "msg": "ok", "tenant_access_token": "t-dir-token-123456", "expire": 7200})
	})
	guard := func(w http.ResponseWriter, r *http.Request) bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.pages++
		if r.Header.Get("Authorization") != "Bearer t-dir-token-123456" {
			write(w, 401, map[string]any{"code": 99991663, "msg": "invalid access token"})
			return false
		}
		if f.limited > 0 {
			f.limited--
			write(w, 429, map[string]any{"code": 99991400, "msg": "request trigger frequency limit"})
			return false
		}
		if n, _ := strconv.Atoi(r.URL.Query().Get("page_size")); n < 1 || n > 50 {
			write(w, 400, map[string]any{"code": 99992402, "msg": "page_size must be 1-50"})
			return false
		}
		return true
	}
	page := func(items []map[string]any, r *http.Request) map[string]any {
		// Pages of 2 regardless of page_size, to exercise the token.
		start, _ := strconv.Atoi(r.URL.Query().Get("page_token"))
		end := min(start+2, len(items))
		data := map[string]any{"items": items[start:end], "has_more": end < len(items)}
		if end < len(items) {
			data["page_token"] = strconv.Itoa(end)
		}
		return map[string]any{"code": 0, "msg": "success", "data": data}
	}
	mux.HandleFunc("GET /open-apis/contact/v3/departments/{id}/children", func(w http.ResponseWriter, r *http.Request) {
		if !guard(w, r) {
			return
		}
		if r.PathValue("id") != "0" || r.URL.Query().Get("fetch_child") != "true" || r.URL.Query().Get("department_id_type") != "open_department_id" {
			write(w, 400, map[string]any{"code": 40004, "msg": "unexpected query"})
			return
		}
		write(w, 200, page(f.depts, r))
	})
	mux.HandleFunc("GET /open-apis/contact/v3/users/find_by_department", func(w http.ResponseWriter, r *http.Request) {
		if !guard(w, r) {
			return
		}
		d := r.URL.Query().Get("department_id")
		if d == f.refuse {
			write(w, 400, map[string]any{"code": 40004, "msg": "no dept authority error"})
			return
		}
		write(w, 200, page(f.users[d], r))
	})
	mux.HandleFunc("GET /open-apis/contact/v3/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !guard2(w, r, f, write) {
			return
		}
		q := r.URL.Query()
		if q.Get("user_id_type") != "user_id" || q.Get("department_id_type") != "open_department_id" {
			write(w, 400, map[string]any{"code": 99992402, "msg": "field validation failed"})
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.gets++
		for _, us := range f.users {
			for _, u := range us {
				if u["user_id"] == r.PathValue("id") {
					write(w, 200, map[string]any{"code": 0, "msg": "success", "data": map[string]any{"user": u}})
					return
				}
			}
		}
		write(w, 400, map[string]any{"code": 41050, "msg": "no user authority error"})
	})
	mux.HandleFunc("POST /open-apis/contact/v3/users/batch_get_id", func(w http.ResponseWriter, r *http.Request) {
		if !guard2(w, r, f, write) {
			return
		}
		var body struct {
			Mobiles []string `json:"mobiles"`
			Emails  []string `json:"emails"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		if len(body.Mobiles) > 50 || len(body.Emails) > 50 {
			write(w, 400, map[string]any{"code": 99992402, "msg": "too many"})
			return
		}
		var list []map[string]any
		for _, m := range body.Mobiles {
			u := map[string]any{"mobile": m}
			if m == "13800000002" {
				u["user_id"] = "li"
			}
			list = append(list, u)
		}
		write(w, 200, map[string]any{"code": 0, "msg": "success", "data": map[string]any{"user_list": list}})
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func guard2(w http.ResponseWriter, r *http.Request, f *fakeContact, write func(http.ResponseWriter, int, any)) bool {
	if r.Header.Get("Authorization") != "Bearer t-dir-token-123456" {
		write(w, 401, map[string]any{"code": 99991663, "msg": "invalid access token"})
		return false
	}
	return true
}

func TestFeishuDirectory(t *testing.T) {
	f := newFakeContact(t)
	c, err := feishu.New(feishu.Config{AppID: "cli_dir", AppSecret: "dir-secret-123456", VerificationToken: "v", APIBase: f.URL, ReceiveIDType: feishu.IDTypeUserID})
	require.NoError(t, err)
	ctx := context.Background()

	f.limited = 2
	depts, err := c.DirectoryDepartments(ctx)
	require.NoError(t, err, "429/99991400 is waited out")
	require.Len(t, depts, 3)
	require.True(t, depts[2].Deleted)

	ms, err := c.DepartmentMembers(ctx, "od-east")
	require.NoError(t, err)
	require.Len(t, ms, 3, "two pages")
	require.Equal(t, "li", ms[0].ManagerID)
	require.Equal(t, "wang@corp.example", ms[0].Email)

	ids, err := c.BatchGetIDs(ctx, []string{"13800000002", "13999999999"}, nil)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"13800000002": "li"}, ids)

	db := storetest.Open(t, store.DriverSQLite)
	s := directory.NewSyncer(db.DB, directory.Options{})
	rep, err := s.Sync(ctx, directory.Feishu(c, 2), directory.RunOptions{})
	require.NoError(t, err)
	require.Equal(t, store.DirectorySyncOK, rep.Status)
	require.Equal(t, 6, rep.Created)
	var wang store.Employee
	require.NoError(t, db.Where("feishu_id = ?", "wang").Take(&wang).Error)
	require.Equal(t, "E002", wang.ManagerID)
	require.Equal(t, "华东区", wang.Department)
	var left store.Employee
	require.NoError(t, db.Where("feishu_id = ?", "left").Take(&left).Error)
	require.False(t, left.Active, "is_resigned: inactive")

	// A department out of the app's range: partial, nobody deactivated.
	f.refuse = "od-east"
	rep, err = s.Sync(ctx, directory.Feishu(c, 2), directory.RunOptions{})
	require.NoError(t, err)
	require.Equal(t, store.DirectorySyncPartial, rep.Status)
	require.Zero(t, rep.Deactivated)
	found := false
	for _, ch := range rep.Changes {
		found = found || (ch.Kind == store.DirectoryFailed && ch.Subject == "department od-east")
	}
	require.True(t, found, "the failure names the department: %+v", rep.Changes)

	// Rate limits that do not stop are reported with Feishu's code.
	f.refuse = ""
	f.limited = 100
	_, err = c.DirectoryDepartments(ctx)
	var ae *feishu.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, 99991400, ae.Code)
}
