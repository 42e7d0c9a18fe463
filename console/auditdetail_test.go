package console_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// seedAudit writes audit entries with details of every shape: a session
// change (times in the session's zone), a hostile and a long value, more
// fields than are shown, and detail that is not an object.
func seedAudit(t *testing.T, db *storetest.DB, at time.Time) {
	t.Helper()
	s := store.Session{CourseID: 1, Title: "纽约场", StartsAt: at, EndsAt: at.Add(time.Hour), TimeZone: "America/New_York", Locale: "zh-CN", Status: store.SessionPlanned}
	require.NoError(t, db.Create(&s).Error)
	long := strings.Repeat("很长的备注", 40)
	for _, l := range []store.AuditLog{
		{Actor: "li", Action: "session.update", Object: fmt.Sprintf("session:%d", s.ID),
			Detail: `{"title":"纽约场","starts_at":"2026-03-10T13:00:00Z","time_zone":"America/New_York","checkin":{"grace_minutes":10}}`},
		{Actor: "li", Action: "touchpoint.update", Object: fmt.Sprintf("session:%d", s.ID),
			Detail: `{"at":"2026-03-10T13:00:00Z","kind":"reminder","note":"<script>window.pwned=1</script>` + long + `","anonymous":false}`},
		{Actor: "li", Action: "course.update", Object: "course:1",
			Detail: `{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10}`},
		{Actor: "li", Action: "account.password", Object: "account:li", Detail: `null`},
		{Actor: "li", Action: "odd", Object: "x", Detail: `[1,"<b>x</b>"]`},
	} {
		l.CreatedAt = at
		require.NoError(t, db.Create(&l).Error)
	}
}

func TestAuditDetailsAreReadable(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := newEnv(t, db)
		e.account(t, "root", store.RoleAdmin, "")
		seedAudit(t, db, t0)
		admin := e.client(t)
		admin.login("root")
		r := admin.get("/console/audit?actor=li")
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		cells := strings.Split(r.Body, `<td class="audit-detail"`)[1:]
		require.Len(t, cells, 5)
		detail := func(i int) string { return plain("<" + between(cells[i], ">", "</td>")) }
		// Newest first: the seeded entries in reverse.
		require.Equal(t, "—", detail(1)) // null
		require.Equal(t, `[1,"<b>x</b>"]`, detail(0))
		require.NotContains(t, cells[0], "<b>x</b>", "escaped")
		require.Equal(t, "a：1 b：2 c：3 d：4 e：5 f：6 g：7 h：8 ……另有 2 项（导出可看全部）", detail(2))
		// 13:00 UTC is 09:00 in New York, the session's zone (not 21:00
		// in the console's Shanghai); labels are the console's.
		require.Equal(t, "签到窗口：准时宽限（分钟）：10 开课时间：2026-03-10 09:00 时区：America/New_York 名称：纽约场", detail(4))
		d1 := detail(3)
		require.Contains(t, d1, "匿名：否")
		require.Contains(t, d1, "时间：2026-03-10 09:00")
		require.Contains(t, d1, "类型：开课提醒")
		require.Contains(t, d1, "备注：<script>window.pwned=1</script>很长")
		require.Contains(t, d1, "…")
		require.Less(t, len([]rune(d1)), 200, "long values are clipped: %s", d1)
		require.NotContains(t, cells[3], "<script>", "escaped")
		require.NotContains(t, r.Body, `{"title"`, "no raw JSON on screen")

		// The export keeps the whole JSON.
		r = admin.get("/console/audit?actor=li&export=csv&table=audit")
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, strings.Repeat("很长的备注", 40))
		require.Contains(t, r.Body, `""time_zone"":""America/New_York""`)
	})
}

// TestBrowserAuditDetails checks in Chromium that each field is a line of
// its own and that a hostile value stays text.
func TestBrowserAuditDetails(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	e := newEnv(t, db)
	ctx := newBrowser(t)
	e.account(t, "root", store.RoleAdmin, "")
	seedAudit(t, db, t0)
	base := e.srv.URL + "/console"
	within(t, ctx, 20*time.Second, "log in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		chromedp.SendKeys(chromedp.ID("username"), "root"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`nav.main`)),
		chromedp.Navigate(base+"/audit?actor=li"),
		chromedp.WaitVisible(chromedp.CSS(`td.audit-detail`)),
	)
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	lines, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("td.audit-detail")).map(td => td.innerText)`))
	require.NoError(t, err)
	require.Len(t, lines, 5)
	require.Equal(t, []string{"签到窗口：准时宽限（分钟）：10", "开课时间：2026-03-10 09:00", "时区：America/New_York", "名称：纽约场"}, strings.Split(lines[4], "\n"))
	require.Len(t, strings.Split(lines[2], "\n"), 9)
	pwned, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`window.pwned === 1`))
	require.NoError(t, err)
	require.False(t, pwned, "the hostile note ran")
}
