package console_test

import (
	"fmt"
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

// campaignPeople are three people in 销售 (one under it, in 销售/华东), two
// in 市场, on WeCom.
func campaignPeople(t *testing.T, e *env) {
	t.Helper()
	people := []store.Employee{
		{ExternalID: "S1", Name: "张伟", Department: "销售", Title: "经理", City: "上海", Platform: "wecom", WecomID: "s1", Active: true, Tags: "骨干"},
		{ExternalID: "S2", Name: "王芳", Department: "销售", City: "上海", Platform: "wecom", WecomID: "s2", Active: true},
		{ExternalID: "S3", Name: "李娜", Department: "销售", City: "杭州", Platform: "wecom", WecomID: "s3", Active: true, Tags: "新员工"},
		{ExternalID: "M1", Name: "赵磊", Department: "市场", City: "北京", Platform: "wecom", WecomID: "m1", Active: true},
		{ExternalID: "M2", Name: "钱多", Department: "市场", City: "北京", Platform: "wecom", WecomID: "m2", Active: true},
	}
	require.NoError(t, e.db.Create(&people).Error)
}

// local is t as the form's datetime-local value in Shanghai.
func local(e *env, t time.Time) string { return t.In(e.sh).Format("2006-01-02T15:04") }

// campaignForm is a valid form: 销售 without new hires, three link
// buttons, at 10:00 tomorrow; variant A at that time, variant B at the best
// hour of 09:00–18:00.
func campaignForm(e *env) url.Values {
	tomorrow := time.Date(2026, 3, 3, 10, 0, 0, 0, e.sh)
	return url.Values{
		"name": {"直播推广"}, "title": {"今晚 8 点直播：高效沟通"}, "body": {"点击进入直播间"}, "event": {"live_join"},
		"btn0_kind": {"live"}, "btn0_url": {"https://live.example.com/r/1"},
		"btn1_kind": {"document"}, "btn1_text": {"讲义"}, "btn1_url": {"https://doc.example.com/1"},
		"btn2_kind": {"exam"}, "btn2_url": {"https://exam.example.com/9"},
		"inc0_department": {"销售"}, "exc0_tag": {"新员工"},
		"sched_kind": {"at"}, "at": {local(e, tomorrow)}, "time_zone": {"Asia/Shanghai"},
		"v0_name": {"A"}, "v1_name": {"B"}, "v1_title": {"别错过：高效沟通直播"}, "v1_send": {"best"},
		"v1_from": {local(e, tomorrow.Add(-time.Hour))}, "v1_to": {local(e, tomorrow.Add(8*time.Hour))},
		"min_sample": {"1"}, "min_group_size": {"1"},
	}
}

func countRows(t *testing.T, e *env, m any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, e.db.Model(m).Count(&n).Error)
	return n
}

var campaignIDRe = regexp.MustCompile(`/console/campaigns/(\d+)`)

// TestCampaignPages: a coordinator previews a campaign (live count, each
// variant's card on WeCom, Feishu and DingTalk from the adapters' own
// payloads, the send time B would get) without storing anything, has bad
// input refused field by field in Chinese, creates it, pauses it through a
// confirmation, and reads its report; another coordinator cannot see it; a
// department head sees only their department's part, read-only; on both
// databases.
func TestCampaignPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := newEnv(t, db)
		campaignPeople(t, e)
		e.account(t, "zhang", store.RoleCoordinator, "")
		e.account(t, "li", store.RoleCoordinator, "")
		e.account(t, "wang", store.RoleDepartmentHead, "市场")
		c := e.client(t)
		c.login("zhang")

		r := c.get("/console/campaigns")
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, "还没有定向推送")
		r = c.get("/console/campaigns/new")
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, `<option value="销售">`, "the audience builder suggests departments")

		// The live count (what the page's script asks for).
		r = c.post("/console/campaigns/count", url.Values{"inc0_department": {"销售"}, "exc0_tag": {"新员工"}})
		require.Equal(t, http.StatusOK, r.Code)
		require.JSONEq(t, `{"count":2,"text":"当前符合条件的在职人数：2"}`, r.Body)
		r = c.post("/console/campaigns/count", url.Values{"inc0_tag": {"a,b"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)

		// Preview: nothing is stored.
		form := campaignForm(e)
		form.Set("op", "preview")
		r = c.post("/console/campaigns", form)
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		require.Contains(t, r.Body, "当前符合条件的在职人数：2")
		require.Equal(t, 2, strings.Count(r.Body, `class="phone phone-wecom"`), "one WeCom card per variant")
		require.Contains(t, r.Body, `<div class="wc-title">今晚 8 点直播：高效沟通</div>`)
		require.Contains(t, r.Body, `<div class="wc-title">别错过：高效沟通直播</div>`)
		require.Contains(t, r.Body, `<div class="wc-jump">进入直播<span aria-hidden="true">›</span></div>`, "WeCom: a text_notice's jump list")
		require.Contains(t, r.Body, `<div class="fs-header fs-blue">今晚 8 点直播：高效沟通</div>`, "Feishu: the card 2.0 header")
		require.Contains(t, r.Body, `<span class="fs-button primary">进入直播</span>`)
		require.Contains(t, r.Body, `<span class="fs-button">去考试</span>`, "Feishu shows all three links")
		dt := r.Body[strings.Index(r.Body, `class="dingtalk-card"`):]
		dt = dt[:strings.Index(dt, "</figure>")]
		require.Equal(t, 2, strings.Count(dt, `class="dt-button"`), "DingTalk's template holds two link buttons")
		require.Contains(t, r.Body, "计划发送：2026-03-03 10:00")
		require.Contains(t, r.Body, `data-reason="thin_data"`, "no past pushes: B keeps the configured time")
		require.Zero(t, countRows(t, e, &store.Campaign{}))

		// Bad input: each field in Chinese, nothing stored.
		bad := campaignForm(e)
		bad.Set("btn0_url", "javascript:alert(1)")
		bad.Set("title", "")
		bad.Set("inc1_tag", "a,b")
		bad.Set("v1_to", bad.Get("v1_from"))
		r = c.post("/console/campaigns", bad)
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		for _, msg := range []string{"请输入以 http:// 或 https:// 开头", "必填。", "一个标签", "结束时间必须晚于开始时间"} {
			require.Contains(t, r.Body, msg)
		}
		require.Zero(t, countRows(t, e, &store.Campaign{}))

		// Create.
		r = c.post("/console/campaigns", campaignForm(e))
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		m := campaignIDRe.FindStringSubmatch(r.Location)
		require.NotNil(t, m, r.Location)
		page := "/console/campaigns/" + m[1]
		r = c.get(page)
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, `<strong>2</strong>`, "the live count on the campaign's page")
		require.Contains(t, r.Body, "数据不足，使用设定时间（n=0）")
		require.Contains(t, r.Body, "部门（含下级） 销售")
		require.Equal(t, 2, strings.Count(r.Body, `class="phone phone-feishu"`))
		var audit store.AuditLog
		require.NoError(t, db.Where("action = ?", "campaign.create").Take(&audit).Error)
		require.Equal(t, "zhang", audit.Actor)

		// Edit before it is sent: the form comes back filled in, a change
		// re-plans it.
		r = c.get(page + "/edit")
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, `value="2026-03-03T10:00"`)
		require.Contains(t, r.Body, `<option value="best" selected>`, "B keeps its best-time window")
		edited := campaignForm(e)
		edited.Set("title", "今晚 8 点直播（改）")
		r = c.post(page, edited)
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		require.Contains(t, r.Location, "ok=campaign_updated")
		require.Contains(t, c.get(page).Body, "今晚 8 点直播（改）")
		require.EqualValues(t, 1, countRows(t, e, &store.Campaign{}), "edited, not copied")
		bad = campaignForm(e)
		bad.Set("event", "")
		require.Equal(t, http.StatusUnprocessableEntity, c.post(page, bad).Code)

		// Another coordinator does not see it.
		other := e.client(t)
		other.login("li")
		require.Equal(t, http.StatusNotFound, other.get(page).Code)
		require.NotContains(t, other.get("/console/campaigns").Body, "直播推广")
		require.Equal(t, http.StatusNotFound, other.post(page+"/pause", url.Values{"confirmed": {"1"}}).Code)

		// It goes out at 10:00 tomorrow; the report counts both arms.
		e.clk.Set(time.Date(2026, 3, 3, 10, 1, 0, 0, e.sh))
		e.runDue(t)
		require.EqualValues(t, 2, countRows(t, e, &store.Delivery{}))
		c.login("zhang") // a day later: signed in again
		r = c.get(page + "/report")
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, "送达 → 点击 → 转化")
		require.Contains(t, r.Body, `id="experiment-status"`)
		require.Contains(t, r.Body, "数据不足：每个版本至少需要送达 1 人才显示比较结果（目前最少的版本为 ") // one arm may be empty
		csv := c.get(page + "/report?export=csv&table=platforms")
		require.Equal(t, http.StatusOK, csv.Code)
		require.Contains(t, csv.Body, "wecom")

		require.Equal(t, http.StatusConflict, c.get(page+"/edit").Code, "sent: no more edits")
		again := campaignForm(e)
		again.Set("at", "2026-03-04T10:00")
		again.Set("v1_send", "")
		require.Equal(t, http.StatusConflict, c.post(page, again).Code)

		// Pause: a confirmation page first, then the change.
		r = c.post(page+"/pause", nil)
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, "暂停“直播推广”？")
		require.Equal(t, store.CampaignScheduled, campaignStatus(t, e))
		r = c.post(page+"/pause", url.Values{"confirmed": {"1"}})
		require.Equal(t, http.StatusSeeOther, r.Code)
		require.Equal(t, store.CampaignPaused, campaignStatus(t, e))
		r = c.post(page+"/pause", url.Values{"confirmed": {"1"}})
		require.Equal(t, http.StatusConflict, r.Code, "pausing twice changes nothing")

		// 市场's head: the campaign reached nobody of 市场 — not visible.
		head := e.client(t)
		head.login("wang")
		require.Equal(t, http.StatusNotFound, head.get(page+"/report").Code)
		require.Equal(t, http.StatusForbidden, head.get("/console/campaigns/new").Code)
		require.Equal(t, http.StatusOK, head.get("/console/campaigns/send-time").Code)
	})
}

func campaignStatus(t *testing.T, e *env) string {
	t.Helper()
	var c store.Campaign
	require.NoError(t, e.db.Order("id").Take(&c).Error)
	return c.Status
}

// TestCampaignReportScopedForDepartmentHead: a department head reads the
// report of a campaign that reached their department: only their people,
// every group under the minimum size cleared, no pause button, no writes.
func TestCampaignReportScopedForDepartmentHead(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	e := newEnv(t, db)
	campaignPeople(t, e)
	e.account(t, "zhang", store.RoleAdmin, "")
	e.account(t, "wang", store.RoleDepartmentHead, "市场")
	c := e.client(t)
	c.login("zhang")
	form := campaignForm(e)
	form.Del("inc0_department")
	form.Del("exc0_tag")
	for _, k := range []string{"v1_name", "v1_title", "v1_send", "v1_from", "v1_to"} {
		form.Del(k)
	}
	r := c.post("/console/campaigns", form)
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	page := campaignIDRe.FindString(r.Location)
	e.clk.Set(time.Date(2026, 3, 3, 10, 1, 0, 0, e.sh))
	e.runDue(t)
	require.EqualValues(t, 5, countRows(t, e, &store.Delivery{}))

	head := e.client(t)
	head.login("wang")
	r = head.get(page + "/report")
	require.Equal(t, http.StatusOK, r.Code)
	require.Contains(t, r.Body, "只包含您所在部门（含下级部门）的人员")
	require.Contains(t, r.Body, fmt.Sprintf("本部门送达人数少于 %d 人，不显示数据。", 5), "2 of 市场 < 5")
	require.NotContains(t, r.Body, "张伟")
	r = head.get(page)
	require.Equal(t, http.StatusOK, r.Code)
	require.NotContains(t, r.Body, "pause-campaign", "read-only")
	require.Equal(t, http.StatusForbidden, head.post(page+"/pause", url.Values{"confirmed": {"1"}}).Code)
	require.Equal(t, store.CampaignScheduled, campaignStatus(t, e))
	require.Contains(t, head.get("/console/campaigns").Body, "直播推广", "listed: it reached 市场")
}
