package dingtalk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/dingtalk"
	"github.com/learnloop/learnloop/directory"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// fakeOrg is DingTalk's legacy directory API: gettoken, department/listsub,
// user/list (cursor, size ≤ 100), user/get, user/getbymobile (60121), and
// the QPS limit 90018 when told to.
type fakeOrg struct {
	*httptest.Server
	subs  map[int64][]map[string]any
	users map[int64][]map[string]any
	mgr   map[string]string // user/get's manager_userid

	mu      sync.Mutex
	limited int
	gets    int
}

func newFakeOrg(t *testing.T) *fakeOrg {
	f := &fakeOrg{
		subs: map[int64][]map[string]any{1: {{"dept_id": 2, "name": "销售部", "parent_id": 1}}, 2: {{"dept_id": 3, "name": "华东区", "parent_id": 2}}},
		users: map[int64][]map[string]any{
			1: {{"userid": "boss", "name": "老板", "job_number": "E001", "dept_id_list": []int64{1}, "active": true}},
			2: {{"userid": "li", "name": "李经理", "job_number": "E002", "title": "总监", "mobile": "13800000002", "dept_id_list": []int64{2}, "manager_userid": "boss", "active": true}},
			3: {
				{"userid": "wang", "name": "王五", "work_place": "上海", "org_email": "wang@corp.example", "dept_id_list": []int64{3}, "active": true},
				{"userid": "zhao", "name": "赵六", "dept_id_list": []int64{3}, "manager_userid": "li", "active": true},
				{"userid": "qian", "name": "钱七", "dept_id_list": []int64{3}, "manager_userid": "li", "active": true},
			},
		},
		mgr: map[string]string{"wang": "li", "boss": ""},
	}
	write := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gettoken", func(w http.ResponseWriter, r *http.Request) {
		write(w, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": "dt-dir-token-123456", "expires_in": 7200})
	})
	auth := func(h func(w http.ResponseWriter, body map[string]any)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("access_token") != "dt-dir-token-123456" {
				write(w, map[string]any{"errcode": 40014, "errmsg": "不合法的access_token"})
				return
			}
			f.mu.Lock()
			limited := f.limited > 0
			if limited {
				f.limited--
			}
			f.mu.Unlock()
			if limited {
				write(w, map[string]any{"errcode": 90018, "errmsg": "当前企业调用该接口的QPS超过限制"})
				return
			}
			var body map[string]any
			_ = json.NewDecoder(r.Body).Decode(&body)
			h(w, body)
		}
	}
	num := func(v any) int64 { f, _ := v.(float64); return int64(f) }
	mux.HandleFunc("POST /topapi/v2/department/listsub", auth(func(w http.ResponseWriter, body map[string]any) {
		write(w, map[string]any{"errcode": 0, "errmsg": "ok", "result": f.subs[num(body["dept_id"])]})
	}))
	mux.HandleFunc("POST /topapi/v2/user/list", auth(func(w http.ResponseWriter, body map[string]any) {
		size := num(body["size"])
		if size < 1 || size > 100 {
			write(w, map[string]any{"errcode": 400002, "errmsg": "size 参数不合法"})
			return
		}
		list := f.users[num(body["dept_id"])]
		start := num(body["cursor"])
		end := min(start+2, int64(len(list))) // pages of 2 to exercise the cursor
		res := map[string]any{"has_more": end < int64(len(list)), "list": list[start:end]}
		if end < int64(len(list)) {
			res["next_cursor"] = end
		}
		write(w, map[string]any{"errcode": 0, "errmsg": "ok", "result": res})
	}))
	mux.HandleFunc("POST /topapi/v2/user/get", auth(func(w http.ResponseWriter, body map[string]any) {
		f.mu.Lock()
		f.gets++
		f.mu.Unlock()
		id, _ := body["userid"].(string)
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, us := range f.users {
			for _, u := range us {
				if u["userid"] != id {
					continue
				}
				res := map[string]any{}
				for k, v := range u {
					res[k] = v
				}
				if m, ok := f.mgr[id]; ok {
					res["manager_userid"] = m
				}
				write(w, map[string]any{"errcode": 0, "errmsg": "ok", "result": res})
				return
			}
		}
		write(w, map[string]any{"errcode": 60121, "errmsg": "找不到该用户"})
	}))
	mux.HandleFunc("POST /topapi/v2/department/get", auth(func(w http.ResponseWriter, body map[string]any) {
		id := num(body["dept_id"])
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, subs := range f.subs {
			for _, d := range subs {
				if fmt.Sprint(d["dept_id"]) == fmt.Sprint(id) {
					write(w, map[string]any{"errcode": 0, "errmsg": "ok", "result": d})
					return
				}
			}
		}
		write(w, map[string]any{"errcode": 60003, "errmsg": "部门不存在"})
	}))
	mux.HandleFunc("POST /topapi/v2/user/getbymobile", auth(func(w http.ResponseWriter, body map[string]any) {
		if body["mobile"] == "13800000002" {
			write(w, map[string]any{"errcode": 0, "errmsg": "ok", "result": map[string]any{"userid": "li"}})
			return
		}
		write(w, map[string]any{"errcode": 60121, "errmsg": "找不到该用户"})
	}))
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func TestDingTalkDirectory(t *testing.T) {
	f := newFakeOrg(t)
	c, err := dingtalk.New(dingtalk.Config{AppKey: "dingdir", AppSecret: "dir-secret-123456", AgentID: 1, OAPIBase: f.URL, APIBase: f.URL})
	require.NoError(t, err)
	ctx := context.Background()

	f.limited = 2
	depts, err := c.DirectoryDepartments(ctx)
	require.NoError(t, err, "90018 is waited out")
	require.Len(t, depts, 3)

	ms, err := c.DepartmentMembers(ctx, 3)
	require.NoError(t, err)
	require.Len(t, ms, 3, "the cursor is followed")

	id, err := c.UserIDByMobile(ctx, "13800000002")
	require.NoError(t, err)
	require.Equal(t, "li", id)
	_, err = c.UserIDByMobile(ctx, "13999999999")
	require.ErrorIs(t, err, dingtalk.ErrUserNotFound)

	db := storetest.Open(t, store.DriverSQLite)
	rep, err := directory.NewSyncer(db.DB, directory.Options{}).Sync(ctx, directory.DingTalk(c, 2), directory.RunOptions{})
	require.NoError(t, err)
	require.Equal(t, store.DirectorySyncOK, rep.Status)
	require.Equal(t, 5, rep.Created)
	require.Equal(t, 2, f.gets, "user/get only for members the list gave no manager")
	var wang store.Employee
	require.NoError(t, db.Where("dingtalk_id = ?", "wang").Take(&wang).Error)
	require.Equal(t, "E002", wang.ManagerID, "manager from user/get")
	require.Equal(t, "上海", wang.City)
	require.Equal(t, "wang@corp.example", wang.Email)

	f.limited = 100
	_, err = c.DirectoryDepartments(ctx)
	var ae *dingtalk.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "90018", ae.Code)
}
