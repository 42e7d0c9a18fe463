package console_test

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/console"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

func TestAdminManagesAccountsAndReadsTheAuditLog(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	w := newWorld(t, db)
	admin := w.admin

	r := admin.post("/console/accounts", url.Values{"username": {"zhao"}, "display_name": {"赵磊"}, "role": {"department_head"},
		"department": {"销售"}, "password": {"zhao-password-1"}, "again": {"zhao-password-1"}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	zhao := w.e.client(t)
	r = zhao.tryLogin("zhao", "zhao-password-1")
	require.Equal(t, http.StatusSeeOther, r.Code)
	require.Contains(t, zhao.get("/console/").Body, "赵磊 · 部门负责人")

	// Every change is in the audit log with the account as actor.
	r = admin.get("/console/audit")
	require.Equal(t, http.StatusOK, r.Code)
	for _, want := range []string{"course.create", "session.create", "roster.import", "account.create", "account.login"} {
		require.Contains(t, r.Body, want)
	}
	r = admin.get("/console/audit?actor=li")
	require.Contains(t, r.Body, "ALPHA")
	require.NotContains(t, r.Body, "BRAVO")
	r = admin.get("/console/audit?action=roster.&export=csv&table=audit")
	require.Equal(t, http.StatusOK, r.Code)
	require.True(t, strings.HasPrefix(r.Body, "\ufeff"), "CSV starts with a BOM")
	require.Equal(t, 3, strings.Count(r.Body, "\r\n"), "header and two imports: %s", r.Body)
	require.Contains(t, r.Body, "roster.import")
	require.NotContains(t, r.Body, "course.create")
	r = admin.get("/console/audit?action=" + url.QueryEscape("%"))
	require.Contains(t, r.Body, "没有记录", "LIKE wildcards are literal")

	r = admin.get("/console/accounts?export=xlsx&table=accounts")
	require.Equal(t, http.StatusOK, r.Code)
	require.Equal(t, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", r.Header.Get("Content-Type"))
	r = admin.get("/console/accounts?export=pdf&table=accounts")
	require.Equal(t, http.StatusBadRequest, r.Code)
}

func TestLanguageSwitchAndNoOpenRedirect(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	e := newEnv(t, db)
	c := e.signedIn(t, "li", store.RoleCoordinator, "")
	require.Contains(t, c.get("/console/courses").Body, `<html lang="zh-CN">`)
	r := c.get("/console/lang?to=en&back=" + url.QueryEscape("/console/courses"))
	require.Equal(t, http.StatusSeeOther, r.Code)
	require.Equal(t, "/console/courses", r.Location)
	r = c.get("/console/courses")
	require.Contains(t, r.Body, `<html lang="en">`)
	require.Contains(t, r.Body, "New course")
	for _, back := range []string{"https://evil.example/", "//evil.example/x", "/console/../../x", `/console\@evil`} {
		r := c.get("/console/lang?to=zh-CN&back=" + url.QueryEscape(back))
		require.Equal(t, "/console/", r.Location, back)
	}
	r = c.get("/console/logout")
	require.Equal(t, http.StatusNotFound, r.Code, "signing out is a POST")
	require.Equal(t, http.StatusOK, c.get("/console/courses").Code, "still signed in")
}

func TestExportsDefuseFormulas(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	e := newEnv(t, db)
	c := e.signedIn(t, "li", store.RoleCoordinator, "")
	_, sess := planClass(t, c, "EXP-1")
	r := c.upload(sess+"/roster", "file", "r.csv", []byte("external_id,name\nE009,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\n"))
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	r = c.get(sess + "/roster?export=csv&table=roster")
	require.Equal(t, "text/csv; charset=utf-8", r.Header.Get("Content-Type"))
	require.Contains(t, r.Header.Get("Content-Disposition"), "attachment")
	require.Contains(t, r.Body, `"'=HYPERLINK(""http://x"",""y"")"`)
	require.Contains(t, r.Body, "工号,姓名,部门")
}

// fakeSurveys is a stand-in for the surveys engine.
type fakeSurveys struct {
	scopes chan console.SurveyScope
	fail   bool
}

func (f fakeSurveys) SessionSurveys(_ context.Context, id uint64, s console.SurveyScope) ([]console.ResultSection, error) {
	f.scopes <- s
	if f.fail {
		return nil, errors.New("surveys down")
	}
	return []console.ResultSection{{
		Title:   "课后反馈",
		Figures: []console.ResultFigure{{Label: "NPS", Value: "+42", N: 31, Definition: "推荐者% − 贬损者%"}, {Label: "讲师满意度", Suppressed: true}},
		Tables:  []*console.Table{{Key: "comments", Title: "意见", Columns: []string{"内容"}, Rows: [][]console.Cell{{console.C("多一些案例")}}}},
	}}, nil
}

func (f fakeSurveys) CourseSurveys(_ context.Context, id uint64, s console.SurveyScope) ([]console.ResultSection, error) {
	f.scopes <- s
	return nil, nil
}

func TestSurveyResultsExtensionPoint(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	// Without an implementation there is no survey section.
	e0 := newEnv(t, db, func(d *console.Deps) { d.Surveys = nil })
	c0 := e0.signedIn(t, "li", store.RoleCoordinator, "")
	_, sess := planClass(t, c0, "SRV-1")
	require.NotContains(t, c0.get(sess+"/results").Body, `id="survey-results"`)

	scopes := make(chan console.SurveyScope, 10)
	e := newEnv(t, db, func(d *console.Deps) { d.Surveys = fakeSurveys{scopes: scopes} })
	e.account(t, "head", store.RoleDepartmentHead, "销售")
	c := e.client(t)
	c.login("li")
	r := c.get(sess + "/results")
	require.Contains(t, r.Body, `id="survey-results"`)
	require.Contains(t, r.Body, "&#43;42", "html/template escapes the plus")
	require.Contains(t, r.Body, "n=31")
	require.Contains(t, r.Body, "多一些案例")
	s := <-scopes
	require.Equal(t, "li", s.Username)
	require.Empty(t, s.Department)
	require.Equal(t, 5, s.MinGroupSize)
	r = c.get(sess + "/results?export=csv&table=comments")
	require.Equal(t, http.StatusOK, r.Code)
	require.Contains(t, r.Body, "多一些案例")
	<-scopes

	h := e.client(t)
	h.login("head")
	h.get(sess + "/results")
	require.Equal(t, "销售", (<-scopes).Department, "department heads get their scope")

	ef := newEnv(t, db, func(d *console.Deps) { d.Surveys = fakeSurveys{scopes: scopes, fail: true} })
	cf := ef.client(t)
	cf.login("li")
	r = cf.get(sess + "/results")
	require.Equal(t, http.StatusOK, r.Code, "a survey failure does not break the page")
	require.Contains(t, r.Body, "问卷结果暂时无法读取")
	require.Contains(t, r.Body, `id="checkin-rate"`)
}

func TestLiveBoardStreamsChanges(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	e := newEnv(t, db)
	c := e.signedIn(t, "li", store.RoleCoordinator, "")
	_, sess := planClass(t, c, "LIVE-1")
	e.clk.Set(t0.Add(50 * time.Minute))

	// Polling: 204 while nothing changed.
	r := c.get(sess + "/board/live")
	require.Equal(t, http.StatusOK, r.Code)
	v := r.Header.Get("X-Board-Version")
	require.NotEmpty(t, v)
	require.Equal(t, http.StatusNoContent, c.get(sess+"/board/live?v="+v).Code)

	// Server-sent events: a check-in shows up as a "board" event.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+sess+"/board/events?v="+v, nil)
	res, err := c.c.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, "text/event-stream; charset=utf-8", res.Header.Get("Content-Type"))
	r = c.post(sess+"/checkin", url.Values{"external_id": {"E002"}, "confirmed": {"1"}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var got strings.Builder
	inEvent := false
	for sc.Scan() {
		line := sc.Text()
		if line == "event: board" {
			inEvent = true
		}
		if inEvent {
			got.WriteString(line + "\n")
		}
		if inEvent && line == "" {
			break
		}
	}
	require.Contains(t, got.String(), `data-person="E002"`)
	require.Contains(t, between(got.String(), `id="list-checked"`, "</ul>"), "王芳")
	r = c.get(sess + "/board/live?v=" + v)
	require.Equal(t, http.StatusOK, r.Code, "the version moved on")
}

// TestBoardSplitsCheckinsBySource: the board counts check-ins per source and,
// where the session requires on-site check-in, lists card taps apart as
// remote: not present, not missing — the rule the session report applies.
func TestBoardSplitsCheckinsBySource(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := newEnv(t, db)
		c := e.signedIn(t, "li", store.RoleCoordinator, "")
		_, sess := planClass(t, c, "ONSITE-1")
		sid, err := strconv.ParseUint(idRe.FindStringSubmatch(sess)[1], 10, 64)
		require.NoError(t, err)
		e.clk.Set(t0.Add(50 * time.Minute))
		ctx := context.Background()
		for id, src := range map[string]string{"E001": store.SourceCard, "E002": store.SourceQR, "E003": store.SourceManual} {
			var emp store.Employee
			require.NoError(t, db.Where("external_id = ?", id).Take(&emp).Error)
			_, err := e.a.Router().Checkins.Record(ctx, bot.CheckinRequest{SessionID: sid, EmployeeID: emp.ID, Source: src, RecordedBy: "li"})
			require.NoError(t, err)
		}
		r := c.get(sess + "/board")
		require.Equal(t, http.StatusOK, r.Code)
		bySource := between(r.Body, `id="by-source"`, "</p>")
		for _, want := range []string{"卡片 1", "二维码 1", "代签 1"} {
			require.Contains(t, bySource, want)
		}
		require.Contains(t, r.Body, `id="n-checked">3<`)
		require.NotContains(t, r.Body, `id="list-remote"`, "no on-site rule: every check-in counts")

		require.NoError(t, db.Create(&store.PresenceSetting{SessionID: sid, RequireOnsite: true, RotateSeconds: 15}).Error)
		e.clk.Set(t0.Add(51 * time.Minute)) // past the on-site rule's few seconds in memory
		r = c.get(sess + "/board")
		require.Contains(t, r.Body, `id="n-checked">2<`, "a card tap is not proof of presence")
		require.Contains(t, r.Body, `id="n-missing">1<`, "nor is its author missing")
		remote := between(r.Body, `id="list-remote"`, "</ul>")
		require.Contains(t, remote, `data-person="E001"`)
		require.NotContains(t, between(r.Body, `id="list-checked"`, "</ul>"), `data-person="E001"`)
	})
}

// TestCampaignCarrierIsNotAClass: the course that carries campaigns' pushes
// is not listed among classes, even to an admin.
func TestCampaignCarrierIsNotAClass(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	e := newEnv(t, db)
	c := e.signedIn(t, "admin", store.RoleAdmin, "")
	planClass(t, c, "REAL-1")
	carrier := store.Course{Code: "_campaigns", Title: "定向推送 Campaigns", Category: store.CategoryCampaign}
	require.NoError(t, db.Create(&carrier).Error)
	require.NoError(t, db.Create(&store.Session{CourseID: carrier.ID, Title: "推送", StartsAt: t0, EndsAt: t0.Add(time.Hour), TimeZone: "Asia/Shanghai", Locale: "zh-CN", Status: store.SessionPlanned}).Error)
	for _, page := range []string{"/console/courses", "/console/"} {
		r := c.get(page)
		require.Equal(t, http.StatusOK, r.Code)
		require.NotContains(t, r.Body, "_campaigns", page)
		require.NotContains(t, r.Body, "定向推送 Campaigns", page)
	}
	require.Contains(t, c.get("/console/courses").Body, "REAL-1")
}

// TestRosterTemplateDownloadsAndUploads: the roster page offers the
// template; the file as downloaded (XLSX and CSV) uploads without an error
// and enrolls its example person.
func TestRosterTemplateDownloadsAndUploads(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	e := newEnv(t, db)
	c := e.signedIn(t, "li", store.RoleCoordinator, "")
	_, sess := planClass(t, c, "TPL-1")
	page := c.get(sess + "/roster")
	require.Contains(t, page.Body, `id="roster-template"`)
	for _, f := range []string{"xlsx", "csv"} {
		r := c.get("/console/roster-template?format=" + f)
		require.Equal(t, http.StatusOK, r.Code, f)
		require.Contains(t, r.Header.Get("Content-Disposition"), "roster-template."+f)
		up := c.upload(sess+"/roster", "file", "roster-template."+f, []byte(r.Body))
		require.Equal(t, http.StatusSeeOther, up.Code, "%s: %s", f, up.Body)
	}
	var emp store.Employee
	require.NoError(t, db.Where("external_id = ?", "E001").Take(&emp).Error)
	require.Equal(t, "zhangwei", emp.WecomID, "the example row as written")
}
