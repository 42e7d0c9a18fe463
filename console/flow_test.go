package console_test

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

var idRe = regexp.MustCompile(`/(?:courses|sessions)/(\d+)`)

// planClass creates a course, a session at 10:00–12:00 Shanghai on 2 March
// 2026 and a roster of four simulator employees through the console, and
// returns the session path ("/console/sessions/N").
func planClass(t *testing.T, c *client, code string) (string, string) {
	t.Helper()
	r := c.post("/console/courses", url.Values{"code": {code}, "title": {"高效沟通"}, "target_level": {"1"}, "category": {"soft"}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	course := strings.Split(r.Location, "?")[0]
	cid := idRe.FindStringSubmatch(course)[1]
	r = c.post("/console/sessions", url.Values{"course_id": {cid}, "starts_at": {"2026-03-02T10:00"}, "ends_at": {"2026-03-02T12:00"},
		"time_zone": {"Asia/Shanghai"}, "locale": {"zh-CN"}, "location": {"3F A"}, "teacher": {"赵老师"},
		"opens_before": {"30"}, "grace": {"10"}, "makeup_after": {"1440"}, "plan": {"default"}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	sess := strings.Split(r.Location, "?")[0]
	csv := "工号,姓名,部门,平台\nE001,张伟,销售,simulator\nE002,王芳,销售,simulator\nE003,李娜,市场,simulator\nE004,刘洋,市场,simulator\n"
	r = c.upload(sess+"/roster", "file", "roster.csv", []byte(csv))
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	return course, sess
}

func TestCoordinatorFlowWithoutJavaScript(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := newEnv(t, db)
		e.account(t, "admin", store.RoleAdmin, "")
		c := e.signedIn(t, "zhang", store.RoleCoordinator, "")
		course, sess := planClass(t, c, "COMM-101")

		r := c.get(course)
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		require.Contains(t, r.Body, "COMM-101")
		for _, tab := range []string{"", "/board", "/timeline", "/roster", "/results", "/health", "/edit"} {
			r := c.get(sess + tab)
			require.Equal(t, http.StatusOK, r.Code, "%s: %s", tab, r.Body)
		}
		r = c.get(sess + "/roster?ok=roster_imported&n=4&new=4")
		require.Contains(t, r.Body, "已导入 4 人")
		require.Contains(t, r.Body, "刘洋")

		// The timeline: the reminder a day before is skipped (past), the
		// prompt is at 09:45.
		r = c.get(sess + "/timeline")
		require.Contains(t, r.Body, "2026-03-02 09:45")
		m := regexp.MustCompile(`data-tp="(\d+)" data-kind="checkin_prompt"`).FindStringSubmatch(r.Body)
		require.NotNil(t, m, r.Body)
		prompt := m[1]

		// The surveys engine's touchpoints are on the same timeline, and
		// editing one keeps it attached to its survey.
		m = regexp.MustCompile(`data-tp="(\d+)" data-kind="feedback"`).FindStringSubmatch(r.Body)
		require.NotNil(t, m, "the default plan includes the feedback survey")
		require.Contains(t, r.Body, "课后反馈问卷")
		var fb store.Touchpoint
		require.NoError(t, db.First(&fb, m[1]).Error)
		require.NotZero(t, fb.SurveyID)
		require.Equal(t, http.StatusOK, c.get("/console/touchpoints/"+m[1]+"/edit").Code)
		r = c.post("/console/touchpoints/"+m[1], url.Values{"kind": {"feedback"}, "anchor": {"end"}, "offset": {"30"}, "audience": {fb.Audience}})
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		var fb2 store.Touchpoint
		require.NoError(t, db.First(&fb2, m[1]).Error)
		require.Equal(t, fb.SurveyID, fb2.SurveyID)
		require.Equal(t, "feedback", fb2.Kind)
		require.EqualValues(t, 30*60, fb2.Offset)
		r = c.post("/console/touchpoints/"+m[1], url.Values{"kind": {"custom"}, "anchor": {"end"}, "offset": {"30"}, "audience": {fb.Audience}, "note": {"x"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code, "a survey push keeps its kind")

		// Moving the session moves its surveys' dates too.
		var sv store.Survey
		require.NoError(t, db.First(&sv, fb.SurveyID).Error)
		r = c.post(sess, url.Values{"course_id": {idRe.FindStringSubmatch(course)[1]}, "title": {"高效沟通"}, "starts_at": {"2026-03-02T10:00"}, "ends_at": {"2026-03-02T13:00"},
			"time_zone": {"Asia/Shanghai"}, "locale": {"zh-CN"}, "location": {"3F A"}, "teacher": {"赵老师"}, "opens_before": {"30"}, "grace": {"10"}, "makeup_after": {"1440"}})
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		var sv2 store.Survey
		require.NoError(t, db.First(&sv2, fb.SurveyID).Error)
		require.Equal(t, sv.ClosesAt.Add(time.Hour).UTC(), sv2.ClosesAt.UTC())

		// Send now without the confirmation changes nothing and asks.
		r = c.get(sess + "/timeline")
		before := snapshot(t, db)
		r = c.post("/console/touchpoints/"+prompt+"/send-now", nil)
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, "confirm-submit")
		require.Equal(t, before, snapshot(t, db))
		r = c.post("/console/touchpoints/"+prompt+"/send-now", url.Values{"confirmed": {"1"}})
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)

		e.clk.Set(t0.Add(50 * time.Minute)) // 09:50
		e.runDue(t)
		require.Equal(t, 4, e.a.Sim().Sends())
		tap(t, e, "E001")
		tap(t, e, "E002")

		r = c.get(sess + "/board")
		require.Contains(t, r.Body, `id="list-checked"`)
		checked := between(r.Body, `id="list-checked"`, `</ul>`)
		require.Contains(t, checked, "张伟")
		require.Contains(t, checked, "王芳")

		r = c.post(sess+"/excuse", url.Values{"external_id": {"E003"}, "confirmed": {"1"}})
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		r = c.post(sess+"/checkin", url.Values{"external_id": {"E004"}, "confirmed": {"1"}, "note": {"手机没电"}})
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		r = c.post(sess+"/unexcuse", url.Values{"external_id": {"E003"}, "confirmed": {"1"}})
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		r = c.post(sess+"/remind", url.Values{"confirmed": {"1"}})
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		e.runDue(t)
		require.Len(t, e.a.Sim().Inbox("E003"), 2, "the make-up reminder reached the one still missing")
		require.Len(t, e.a.Sim().Inbox("E001"), 1)

		r = c.get(sess + "/results")
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, "75.0%")
		r = c.get(sess + "/results?export=xlsx&table=attendees")
		require.Equal(t, http.StatusOK, r.Code)
		f, err := excelize.OpenReader(bytes.NewReader([]byte(r.Body)))
		require.NoError(t, err)
		rows, err := f.GetRows(f.GetSheetList()[0])
		require.NoError(t, err)
		require.Len(t, rows, 5)
		r = c.get(sess + "/health")
		require.Contains(t, r.Body, "全部送达")
		require.Contains(t, r.Body, "尚未发送")
	})
}

// tap checks user in by tapping the check-in button of their card, as the
// simulator page does.
func tap(t *testing.T, e *env, user string) {
	t.Helper()
	tr := apptest.Tap(t, e.srv.URL, user, apptest.Button(t, bot.ActionCheckin, "", e.a.Sim().Inbox(user)...))
	require.True(t, tr.OK, "%s: %+v", user, tr)
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, b); j >= 0 {
		return s[:j]
	}
	return s
}
