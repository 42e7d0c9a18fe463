package wecom_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/wecom"
	"github.com/learnloop/learnloop/directory"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// fakeDirectory is a WeCom 通讯录 that checks what WeCom checks: the access
// token, user/list_id's limit (1–10000) and cursor, known userids
// (46004/60111), and answers rate limits (45033) when told to.
type fakeDirectory struct {
	*httptest.Server
	depts []map[string]any
	users []map[string]any // user/get answers
	// page caps user/list_id pages (to exercise the cursor).
	page int

	mu        sync.Mutex
	limited   int             // answer this many user/get calls with 45033 first
	refuse    map[string]bool // user/get answers 60011 (no privilege) for these
	listCalls int
	getCalls  int
	token     string
}

func newFakeDirectory(t *testing.T) *fakeDirectory {
	f := &fakeDirectory{page: 2, token: "TOKEN-abc123456789"}
	f.depts = []map[string]any{{"id": 1, "name": "公司", "parentid": 0}, {"id": 2, "name": "销售部", "parentid": 1}, {"id": 3, "name": "华东区", "parentid": 2}}
	f.users = []map[string]any{
		{"userid": "boss", "name": "老板", "department": []int{1}, "main_department": 1, "status": 1, "mobile": "13800000001",
			"extattr": map[string]any{"attrs": []map[string]any{{"type": 0, "name": "工号", "text": map[string]any{"value": "E001"}}}}},
		{"userid": "li", "name": "李经理", "department": []int{2}, "main_department": 2, "position": "总监", "status": 1, "direct_leader": []string{"boss"},
			"extattr": map[string]any{"attrs": []map[string]any{{"type": 0, "name": "工号", "text": map[string]any{"value": "E002"}}, {"type": 0, "name": "城市", "text": map[string]any{"value": "上海"}}}}},
		{"userid": "wang", "name": "王五", "department": []int{2, 3}, "main_department": 3, "status": 1, "direct_leader": []string{"li"}, "biz_mail": "wang@corp.example"},
		{"userid": "gone", "name": "离职", "department": []int{3}, "main_department": 3, "status": 5},
		{"userid": "off", "name": "禁用", "department": []int{3}, "main_department": 3, "status": 2},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/cgi-bin/gettoken", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("corpsecret") != "secret-123456" {
			reply(w, map[string]any{"errcode": 40001, "errmsg": "invalid credential"})
			return
		}
		reply(w, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": f.token, "expires_in": 7200})
	})
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("access_token") != f.token {
				reply(w, map[string]any{"errcode": 40014, "errmsg": "invalid access_token"})
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("/cgi-bin/department/list", auth(func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{"errcode": 0, "errmsg": "ok", "department": f.depts})
	}))
	mux.HandleFunc("/cgi-bin/user/list_id", auth(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Cursor string `json:"cursor"`
			Limit  int    `json:"limit"`
		}
		if json.NewDecoder(r.Body).Decode(&req) != nil || req.Limit < 1 || req.Limit > 10000 {
			reply(w, map[string]any{"errcode": 40058, "errmsg": "limit must be 1-10000"})
			return
		}
		f.mu.Lock()
		f.listCalls++
		f.mu.Unlock()
		var pairs []map[string]any
		for _, u := range f.users {
			if u["status"] == 5 {
				continue // left the corp: not listed
			}
			for _, d := range u["department"].([]int) {
				pairs = append(pairs, map[string]any{"userid": u["userid"], "department": d})
			}
		}
		start, _ := strconv.Atoi(req.Cursor)
		if start < 0 || start > len(pairs) {
			reply(w, map[string]any{"errcode": 40058, "errmsg": "invalid cursor"})
			return
		}
		end := min(start+min(req.Limit, f.page), len(pairs))
		next := ""
		if end < len(pairs) {
			next = strconv.Itoa(end)
		}
		reply(w, map[string]any{"errcode": 0, "errmsg": "ok", "next_cursor": next, "dept_user": pairs[start:end]})
	}))
	mux.HandleFunc("/cgi-bin/user/get", auth(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.getCalls++
		limited := f.limited > 0
		if limited {
			f.limited--
		}
		f.mu.Unlock()
		if limited {
			reply(w, map[string]any{"errcode": 45033, "errmsg": "api concurrent out of limit"})
			return
		}
		id := r.URL.Query().Get("userid")
		if f.refuse[id] {
			reply(w, map[string]any{"errcode": 60011, "errmsg": "no privilege to access/modify contact/party/agent"})
			return
		}
		for _, u := range f.users {
			if u["userid"] == id {
				out := map[string]any{"errcode": 0, "errmsg": "ok"}
				for k, v := range u {
					out[k] = v
				}
				reply(w, out)
				return
			}
		}
		reply(w, map[string]any{"errcode": 60111, "errmsg": "userid not found"})
	}))
	mux.HandleFunc("/cgi-bin/user/getuserid", auth(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Mobile string `json:"mobile"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		for _, u := range f.users {
			if u["mobile"] == req.Mobile && req.Mobile != "" {
				reply(w, map[string]any{"errcode": 0, "errmsg": "ok", "userid": u["userid"]})
				return
			}
		}
		reply(w, map[string]any{"errcode": 46004, "errmsg": "user no exist"})
	}))
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func newDirClient(t *testing.T, f *fakeDirectory) *wecom.Client {
	c, err := wecom.New(wecom.Config{CorpID: "wx5823bf96d3bd56c7", AgentID: 1000002, Secret: "secret-123456", Token: "QDG6eK",
		EncodingAESKey: "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", APIBase: f.URL})
	require.NoError(t, err)
	return c
}

func TestDirectoryCallsPageAndWaitOutRateLimits(t *testing.T) {
	f := newFakeDirectory(t)
	c := newDirClient(t, f)
	ctx := context.Background()

	depts, err := c.DirectoryDepartments(ctx)
	require.NoError(t, err)
	require.Len(t, depts, 3)
	require.EqualValues(t, 2, depts[2].ParentID)

	refs, err := c.DirectoryUserIDs(ctx)
	require.NoError(t, err)
	require.Len(t, refs, 5, "every (member, department) pair but the one who left")
	require.Equal(t, 3, f.listCalls, "pages of 2 followed to the end")

	f.limited = 2
	m, err := c.DirectoryMember(ctx, "li")
	require.NoError(t, err, "45033 is waited out")
	require.Equal(t, "E002", m.EmployeeNo)
	require.Equal(t, "上海", m.City)
	require.Equal(t, []string{"boss"}, m.DirectLeaders)
	require.True(t, m.Active())

	f.limited = 10
	_, err = c.DirectoryMember(ctx, "li")
	var ae *wecom.APIError
	require.ErrorAs(t, err, &ae, "a limit that persists is reported with WeCom's code")
	require.EqualValues(t, 45033, ae.Code)
	f.limited = 0

	_, err = c.DirectoryMember(ctx, "nobody")
	require.ErrorAs(t, err, &ae)
	require.EqualValues(t, 60111, ae.Code)

	id, err := c.UserIDByMobile(ctx, "13800000001")
	require.NoError(t, err)
	require.Equal(t, "boss", id)
	_, err = c.UserIDByMobile(ctx, "13999999999")
	require.ErrorIs(t, err, wecom.ErrUserNotFound)
	require.NotContains(t, err.Error(), f.token)
}

func TestDirectorySyncThroughWeCom(t *testing.T) {
	f := newFakeDirectory(t)
	c := newDirClient(t, f)
	db := storetest.Open(t, store.DriverSQLite)
	ctx := context.Background()
	s := directory.NewSyncer(db.DB, directory.Options{})
	rep, err := s.Sync(ctx, directory.WeCom(c, 2), directory.RunOptions{})
	require.NoError(t, err)
	require.Equal(t, store.DirectorySyncOK, rep.Status)
	require.Equal(t, 4, rep.Created, "the one who left is not created")

	var es []store.Employee
	require.NoError(t, db.Order("external_id").Find(&es).Error)
	byID := map[string]store.Employee{}
	for _, e := range es {
		byID[e.WecomID] = e
	}
	require.Equal(t, "E002", byID["wang"].ManagerID)
	require.Equal(t, "华东区", byID["wang"].Department, "main_department")
	require.Equal(t, "wang@corp.example", byID["wang"].Email)
	require.False(t, byID["off"].Active, "disabled (status 2): inactive")

	// 李经理 leaves (status 5: no longer listed).
	f.users[1]["status"] = 5
	rep, err = s.Sync(ctx, directory.WeCom(c, 2), directory.RunOptions{AllowMassDeactivation: true})
	require.NoError(t, err)
	require.Equal(t, 1, rep.Deactivated)
	var li store.Employee
	require.NoError(t, db.Where("wecom_id = ?", "li").Take(&li).Error)
	require.False(t, li.Active)

	// A member user/get refuses makes the run partial: nobody else leaves.
	f.refuse = map[string]bool{"wang": true}
	rep, err = s.Sync(ctx, directory.WeCom(c, 2), directory.RunOptions{AllowMassDeactivation: true})
	require.NoError(t, err)
	require.Equal(t, store.DirectorySyncPartial, rep.Status)
	require.Zero(t, rep.Deactivated)
}
