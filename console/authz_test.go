package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// world is two coordinators' courses with one session each:
// A1 (li's course ALPHA): 销售 S01–S06 and 市场 M01–M03;
// B1 (wang's course BRAVO): 市场 M04–M08.
type world struct {
	e              *env
	admin, li, wng *client
	courseA        string
	courseB        string
	sessA, sessB   string
	tpB            string
}

func newWorld(t *testing.T, db *storetest.DB) *world {
	t.Helper()
	e := newEnv(t, db)
	e.account(t, "root", store.RoleAdmin, "")
	e.account(t, "li", store.RoleCoordinator, "")
	e.account(t, "wang", store.RoleCoordinator, "")
	w := &world{e: e, admin: e.client(t), li: e.client(t), wng: e.client(t)}
	w.admin.login("root")
	w.li.login("li")
	w.wng.login("wang")

	mk := func(c *client, code string, rows string) (string, string) {
		r := c.post("/console/courses", url.Values{"code": {code}, "title": {code + " 课程"}, "target_level": {"1"}})
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		course := strings.Split(r.Location, "?")[0]
		cid := idRe.FindStringSubmatch(course)[1]
		r = c.post("/console/sessions", url.Values{"course_id": {cid}, "title": {code + " 第一期"}, "starts_at": {"2026-03-02T10:00"}, "ends_at": {"2026-03-02T12:00"},
			"time_zone": {"Asia/Shanghai"}, "locale": {"zh-CN"}, "opens_before": {"30"}, "grace": {"10"}, "makeup_after": {"1440"}, "plan": {"default"}})
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		sess := strings.Split(r.Location, "?")[0]
		r = c.upload(sess+"/roster", "file", "r.csv", []byte("external_id,name,department,platform\n"+rows))
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		return course, sess
	}
	var a, b strings.Builder
	for i := 1; i <= 6; i++ {
		a.WriteString("S0" + string(rune('0'+i)) + ",销售员" + string(rune('0'+i)) + ",销售,simulator\n")
	}
	for i := 1; i <= 3; i++ {
		a.WriteString("M0" + string(rune('0'+i)) + ",市场员" + string(rune('0'+i)) + ",市场,simulator\n")
	}
	for i := 4; i <= 8; i++ {
		b.WriteString("M0" + string(rune('0'+i)) + ",市场员" + string(rune('0'+i)) + ",市场,simulator\n")
	}
	w.courseA, w.sessA = mk(w.li, "ALPHA", a.String())
	w.courseB, w.sessB = mk(w.wng, "BRAVO", b.String())
	r := w.wng.get(w.sessB + "/timeline")
	m := regexp.MustCompile(`data-tp="(\d+)" data-kind="checkin_prompt"`).FindStringSubmatch(r.Body)
	require.NotNil(t, m)
	w.tpB = m[1]
	return w
}

func TestCoordinatorCannotSeeOrChangeAnotherCoordinatorsCourse(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newWorld(t, db)
		li := w.li

		r := li.get("/console/courses")
		require.Contains(t, r.Body, "ALPHA")
		require.NotContains(t, r.Body, "BRAVO")
		r = li.get("/console/")
		require.Contains(t, r.Body, "ALPHA")
		require.NotContains(t, r.Body, "BRAVO")

		for _, p := range []string{
			w.courseB, w.courseB + "/edit", w.courseB + "?export=csv&table=sessions",
			w.sessB, w.sessB + "/edit", w.sessB + "/board", w.sessB + "/board/live", w.sessB + "/board/events",
			w.sessB + "/timeline", w.sessB + "/roster", w.sessB + "/roster?export=csv&table=roster", w.sessB + "/results",
			w.sessB + "/results?export=csv&table=attendees", w.sessB + "/results?report=xlsx", w.sessB + "/health",
			"/console/touchpoints/" + w.tpB + "/edit",
		} {
			r := li.get(p)
			require.Equal(t, http.StatusNotFound, r.Code, p)
			require.NotContains(t, r.Body, "市场员4", p)
			require.NotContains(t, r.Body, "BRAVO", p)
		}
		before := snapshot(t, db)
		for p, form := range map[string]url.Values{
			w.courseB:                       {"code": {"HACK"}, "title": {"x"}, "target_level": {"1"}},
			w.sessB:                         {"course_id": {"2"}, "title": {"x"}, "starts_at": {"2026-03-02T10:00"}, "ends_at": {"2026-03-02T12:00"}, "time_zone": {"Asia/Shanghai"}, "locale": {"en"}, "opens_before": {"1"}, "grace": {"1"}, "makeup_after": {"1"}},
			w.sessB + "/cancel":             {"confirmed": {"1"}},
			w.sessB + "/touchpoints":        {"kind": {"custom"}, "anchor": {"start"}, "offset": {"-5"}, "audience": {"all"}, "note": {"x"}},
			w.sessB + "/excuse":             {"external_id": {"M04"}, "confirmed": {"1"}},
			w.sessB + "/unexcuse":           {"external_id": {"M04"}, "confirmed": {"1"}},
			w.sessB + "/checkin":            {"external_id": {"M04"}, "confirmed": {"1"}},
			w.sessB + "/remind":             {"confirmed": {"1"}},
			"/console/touchpoints/" + w.tpB: {"kind": {"custom"}, "anchor": {"start"}, "offset": {"-5"}, "audience": {"all"}, "note": {"x"}},
			"/console/touchpoints/" + w.tpB + "/send-now": {"confirmed": {"1"}},
			"/console/touchpoints/" + w.tpB + "/pause":    {"confirmed": {"1"}},
			"/console/touchpoints/" + w.tpB + "/delete":   {"confirmed": {"1"}},
		} {
			r := li.post(p, form)
			require.Equal(t, http.StatusNotFound, r.Code, p)
		}
		r = li.upload(w.sessB+"/roster", "file", "r.csv", []byte("external_id,name\nX1,入侵者\n"))
		require.Equal(t, http.StatusNotFound, r.Code)
		// A session cannot be put in someone else's course either.
		cidB := idRe.FindStringSubmatch(w.courseB)[1]
		r = li.post("/console/sessions", url.Values{"course_id": {cidB}, "starts_at": {"2026-03-02T10:00"}, "ends_at": {"2026-03-02T12:00"},
			"time_zone": {"Asia/Shanghai"}, "locale": {"zh-CN"}, "opens_before": {"30"}, "grace": {"10"}, "makeup_after": {"1440"}, "plan": {"default"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		require.Contains(t, r.Body, "请选择一门您负责的课程")
		// Nor moved there.
		r = li.post(w.sessA, url.Values{"course_id": {cidB}, "starts_at": {"2026-03-02T10:00"}, "ends_at": {"2026-03-02T12:00"},
			"time_zone": {"Asia/Shanghai"}, "locale": {"zh-CN"}, "opens_before": {"30"}, "grace": {"10"}, "makeup_after": {"1440"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		// Coordinators have no admin pages.
		for _, p := range []string{"/console/accounts", "/console/audit", "/console/accounts/1/edit"} {
			require.Equal(t, http.StatusForbidden, li.get(p).Code, p)
		}
		r = li.post("/console/accounts", url.Values{"username": {"mallory"}, "role": {"admin"}, "password": {"long-enough-password"}, "again": {"long-enough-password"}})
		require.Equal(t, http.StatusForbidden, r.Code)
		require.Equal(t, before, snapshot(t, db), "nothing changed")

		// The owner and the admin can.
		require.Equal(t, http.StatusOK, w.wng.get(w.sessB+"/board").Code)
		require.Equal(t, http.StatusOK, w.admin.get(w.sessB+"/board").Code)
		require.Equal(t, http.StatusOK, w.admin.get(w.sessA+"/board").Code)
	})
}

func TestDepartmentHeadSeesOnlyTheirDepartmentAndNoSmallGroups(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newWorld(t, db)
		w.e.account(t, "head-sales", store.RoleDepartmentHead, "销售")
		w.e.account(t, "head-mkt", store.RoleDepartmentHead, "市场")
		w.e.account(t, "head-hr", store.RoleDepartmentHead, "人力")
		sales, mkt, hr := w.e.client(t), w.e.client(t), w.e.client(t)
		sales.login("head-sales")
		mkt.login("head-mkt")
		hr.login("head-hr")

		// 销售 has 6 people in A1 only.
		r := sales.get("/console/")
		require.Contains(t, r.Body, "ALPHA 第一期")
		require.NotContains(t, r.Body, "BRAVO")
		r = sales.get(w.sessA + "/results")
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, `data-metric="roster"`)
		require.Regexp(t, `data-metric="roster"><dt>[^<]+</dt><dd><strong>6</strong>`, r.Body, "only the department's six")
		require.NotContains(t, r.Body, "销售员1", "aggregates only, no names")
		require.NotContains(t, r.Body, "市场员1")
		for _, p := range []string{w.sessA + "/board", w.sessA + "/roster", w.sessA + "/timeline", w.sessA + "/health", w.sessA + "/edit", w.sessA + "/board/events", w.courseA + "/edit"} {
			require.Equal(t, http.StatusForbidden, sales.get(p).Code, p)
		}
		r = sales.get(w.sessA + "/results?export=csv&table=attendees")
		require.NotContains(t, r.Body, "销售员1")
		r = sales.get(w.sessA + "/results?report=csv")
		require.NotContains(t, r.Body, "销售员1")
		for _, p := range []string{w.sessB, w.sessB + "/results", w.courseB} {
			require.Equal(t, http.StatusNotFound, sales.get(p).Code, p)
		}

		// 市场 has 3 people in A1 (below 5: hidden) and 5 in B1 (shown).
		r = mkt.get(w.sessA + "/results")
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, `id="suppressed"`)
		require.NotContains(t, r.Body, `data-metric=`)
		require.NotContains(t, r.Body, "市场员1")
		r = mkt.get(w.sessA)
		require.Contains(t, r.Body, "该组少于 5 人")
		require.NotContains(t, r.Body, "名单 3 人")
		r = mkt.get(w.courseA + "?export=csv&table=sessions")
		require.Equal(t, http.StatusOK, r.Code)
		row := between(r.Body, "ALPHA 第一期", "\n")
		require.NotContains(t, row, ",3,", "the small group's count is not exported: %q", row)
		r = mkt.get(w.sessB + "/results")
		require.Regexp(t, `data-metric="roster"><dt>[^<]+</dt><dd><strong>5</strong>`, r.Body)

		// 人力 has nobody anywhere.
		r = hr.get("/console/courses")
		require.NotContains(t, r.Body, "ALPHA")
		require.NotContains(t, r.Body, "BRAVO")
		require.Equal(t, http.StatusNotFound, hr.get(w.courseA).Code)
		require.Equal(t, http.StatusNotFound, hr.get(w.sessA+"/results").Code)

		// Read-only: every change is refused and nothing changes.
		before := snapshot(t, db)
		for p, form := range map[string]url.Values{
			"/console/courses":       {"code": {"DH"}, "title": {"x"}, "target_level": {"1"}},
			w.courseA:                {"code": {"ALPHA"}, "title": {"x"}, "target_level": {"1"}},
			w.sessA + "/excuse":      {"external_id": {"S01"}, "confirmed": {"1"}},
			w.sessA + "/checkin":     {"external_id": {"S01"}, "confirmed": {"1"}},
			w.sessA + "/remind":      {"confirmed": {"1"}},
			w.sessA + "/cancel":      {"confirmed": {"1"}},
			w.sessA + "/touchpoints": {"kind": {"custom"}, "anchor": {"start"}, "offset": {"-5"}, "audience": {"all"}, "note": {"x"}},
			"/console/sessions":      {"course_id": {"1"}},
		} {
			r := sales.post(p, form)
			require.Equal(t, http.StatusForbidden, r.Code, p)
		}
		require.Equal(t, before, snapshot(t, db))
	})
}

// TestDepartmentHeadSeesTheirSubtree: the head of a parent department (营销,
// with 销售 and 市场 below it in the company directory) sees the sessions of
// the departments below theirs, as the reports' scope does; without the
// directory a department has no sub-departments.
func TestDepartmentHeadSeesTheirSubtree(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newWorld(t, db)
		w.e.account(t, "head-mktg", store.RoleDepartmentHead, "营销")
		head := w.e.client(t)
		head.login("head-mktg")
		require.Equal(t, http.StatusNotFound, head.get(w.sessA+"/results").Code, "no directory: 营销 has nobody")

		now := time.Now().UTC()
		for _, d := range []store.DirectoryDepartment{
			{Platform: "wecom", DeptID: "1", ParentID: "0", Name: "营销", Path: "/营销", Active: true, SyncedAt: now},
			{Platform: "wecom", DeptID: "2", ParentID: "1", Name: "销售", Path: "/营销/销售", Active: true, SyncedAt: now},
			{Platform: "wecom", DeptID: "3", ParentID: "1", Name: "市场", Path: "/营销/市场", Active: true, SyncedAt: now},
		} {
			require.NoError(t, db.Create(&d).Error)
		}
		head = w.e.client(t) // a new request reads the tree
		head.login("head-mktg")
		r := head.get(w.sessA + "/results")
		require.Equal(t, http.StatusOK, r.Code)
		require.Regexp(t, `data-metric="roster"><dt>[^<]+</dt><dd><strong>9</strong>`, r.Body, "销售's six and 市场's three")
		require.NotContains(t, r.Body, "销售员1", "aggregates only, no names")
		require.Equal(t, http.StatusForbidden, head.get(w.sessA+"/board").Code)
		require.Contains(t, head.get("/console/").Body, "ALPHA 第一期")
	})
}
