package console_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// previewFragment posts the touchpoint form as the live preview's script
// does and returns the fragment.
func (c *client) previewFragment(path string, form url.Values) resp {
	c.t.Helper()
	form.Set("csrf", c.csrf)
	form.Set("preview", "1")
	req, err := http.NewRequest(http.MethodPost, c.e.srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Learnloop-Preview", "1")
	return c.do(req)
}

// fires are the preview's fire times as shown ("2026-03-04 09:00 周三").
var firesRe = regexp.MustCompile(`<li><span class="time">([^<]+)</span> ([^<\s]+)`)

func fires(body string) []string {
	var out []string
	for _, m := range firesRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1]+" "+m[2])
	}
	return out
}

// plannedSession signs in coordinator li, owner of a new course code, and
// creates through the form a session without a plan at 10:00–12:00
// Shanghai on Monday 2 March 2026 (now is 09:00).
func plannedSession(t *testing.T, db *storetest.DB, code string) (*env, *client, store.Session) {
	t.Helper()
	e := newEnv(t, db)
	e.account(t, "li", store.RoleCoordinator, "")
	course := store.Course{Code: code, Title: "课程 " + code, Owner: "li"}
	require.NoError(t, db.Create(&course).Error)
	li := e.client(t)
	li.login("li")
	r := li.post("/console/sessions", url.Values{"course_id": {fmt.Sprint(course.ID)}, "starts_at": {"2026-03-02T10:00"},
		"ends_at": {"2026-03-02T12:00"}, "time_zone": {"Asia/Shanghai"}, "locale": {"zh-CN"}, "plan": {"none"},
		"opens_before": {"30"}, "opens_before_unit": {"minutes"}, "grace": {"10"}, "grace_unit": {"minutes"},
		"makeup_after": {"1"}, "makeup_after_unit": {"days"}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	var sess store.Session
	require.NoError(t, db.Order("id DESC").First(&sess).Error)
	return e, li, sess
}

// TestTouchpointRepeatPicker fills in the touchpoint form the way a
// coordinator does: the picker's rule is previewed with the scheduler's
// own times (live and without JavaScript, storing nothing), saved as the
// cron spec, and shown again in the picker when edited.
func TestTouchpointRepeatPicker(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e, li, sess := plannedSession(t, db, "PICK")
		tps := fmt.Sprintf("/console/sessions/%d/touchpoints", sess.ID)
		count := func() int64 {
			var n int64
			require.NoError(t, db.Model(&store.Touchpoint{}).Where("session_id = ?", sess.ID).Count(&n).Error)
			return n
		}

		weekly := url.Values{"kind": {"custom"}, "audience": {"all"}, "note": {"本周练习"}, "anchor": {"start"},
			"offset": {"1"}, "offset_unit": {"hours"}, "offset_dir": {"before"},
			"repeat": {"weekly"}, "repeat_time": {"09:00"}, "repeat_days": {"3", "1"}, "repeat_day": {"1"}, "cron": {""}}
		for _, tc := range []struct {
			name  string
			form  url.Values
			fires []string
			moved int
		}{
			{"weekly on Monday and Wednesday", weekly, []string{"2026-03-04 09:00 周三", "2026-03-09 09:00 周一", "2026-03-11 09:00 周三", "2026-03-16 09:00 周一", "2026-03-18 09:00 周三"}, 0},
			{"every weekday at 07:30, moved out of quiet hours", with(weekly, "repeat", "weekdays", "repeat_time", "07:30"),
				[]string{"2026-03-03 08:00 周二", "2026-03-04 08:00 周三", "2026-03-05 08:00 周四", "2026-03-06 08:00 周五", "2026-03-09 08:00 周一"}, 5},
			{"monthly on the 31st", with(weekly, "repeat", "monthly", "repeat_day", "31", "repeat_time", "18:00"),
				[]string{"2026-03-31 18:00 周二", "2026-05-31 18:00 周日", "2026-07-31 18:00 周五", "2026-08-31 18:00 周一", "2026-10-31 18:00 周六"}, 0},
			{"advanced cron", with(weekly, "repeat", "cron", "cron", "0 12 1 * *"),
				[]string{"2026-04-01 12:00 周三", "2026-05-01 12:00 周五", "2026-06-01 12:00 周一", "2026-07-01 12:00 周三", "2026-08-01 12:00 周六"}, 0},
			{"once: an hour before the start", with(weekly, "repeat", "none"), []string{"2026-03-02 09:00 周一"}, 0},
			{"once: a custom message not written yet", with(weekly, "repeat", "none", "note", "", "offset", "30", "offset_unit", "minutes"), []string{"2026-03-02 09:30 周一"}, 0},
		} {
			r := li.previewFragment(tps, with(tc.form))
			require.Equal(t, http.StatusOK, r.Code, "%s: %s", tc.name, r.Body)
			require.NotContains(t, r.Body, "<html", "%s: the live preview gets the fragment alone", tc.name)
			require.Equal(t, tc.fires, fires(r.Body), tc.name)
			require.Equal(t, tc.moved, strings.Count(r.Body, "原定 "), tc.name)
			require.Contains(t, r.Body, "Asia/Shanghai 时间", tc.name)
		}
		require.Zero(t, count(), "previews store nothing")

		// A rule the picker's fields refuse is listed in the preview.
		r := li.previewFragment(tps, with(weekly, "repeat_days", ""))
		require.Equal(t, http.StatusOK, r.Code, "a half-filled form is no failed request")
		require.Equal(t, "1", r.Header.Get("X-Learnloop-Preview-Invalid"))
		require.Contains(t, r.Body, "请至少勾选一天")
		require.Nil(t, fires(r.Body))

		// Without JavaScript: the 预览 button re-renders the page with the
		// preview and the form as filled in.
		r = li.post(tps, with(weekly, "preview", "1"))
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		require.Contains(t, r.Body, "<html")
		require.Equal(t, []string{"2026-03-04 09:00 周三", "2026-03-09 09:00 周一", "2026-03-11 09:00 周三", "2026-03-16 09:00 周一", "2026-03-18 09:00 周三"}, fires(r.Body))
		require.Contains(t, r.Body, `<option value="weekly" selected>`)
		require.Regexp(t, `id="tp-day-1" checked`, r.Body)
		require.Regexp(t, `id="tp-day-3" checked`, r.Body)
		require.NotRegexp(t, `id="tp-day-2" checked`, r.Body)
		require.Zero(t, count(), "a preview stores nothing")

		// Saved: the cron spec the scheduler reads.
		r = li.post(tps, weekly)
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		var tp store.Touchpoint
		require.NoError(t, db.Where("session_id = ?", sess.ID).First(&tp).Error)
		require.Equal(t, "0 9 * * 1,3", tp.CronSpec)
		require.Equal(t, "2026-03-04 09:00", tp.RunAt.In(e.sh).Format("2006-01-02 15:04"))
		r = li.get(fmt.Sprintf("/console/sessions/%d/timeline", sess.ID))
		require.Contains(t, r.Body, "每周周一、周三 09:00")

		// Edited: the picker shows the rule again; a preview of the edit
		// leaves the stored touchpoint alone.
		edit := fmt.Sprintf("/console/touchpoints/%d", tp.ID)
		r = li.get(edit + "/edit")
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, `<option value="weekly" selected>`)
		require.Contains(t, r.Body, `name="repeat_time" id="tp-repeat-time" value="09:00"`)
		require.Regexp(t, `id="tp-day-1" checked`, r.Body)
		r = li.previewFragment(edit, with(weekly, "repeat", "weekdays"))
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		require.Equal(t, "2026-03-03 09:00 周二", fires(r.Body)[0])
		require.NoError(t, db.First(&tp, tp.ID).Error)
		require.Equal(t, "0 9 * * 1,3", tp.CronSpec, "an edit's preview changes nothing")

		// A spec the picker cannot say shows in the advanced field.
		r = li.post(edit, with(weekly, "repeat", "cron", "cron", "*/30 9-17 * * 1-5"))
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		r = li.get(edit + "/edit")
		require.Contains(t, r.Body, `<option value="cron" selected>`)
		require.Contains(t, r.Body, `value="*/30 9-17 * * 1-5"`)

		// Back to once, two days after the end: shown in days.
		r = li.post(edit, with(weekly, "repeat", "none", "anchor", "end", "offset", "2", "offset_unit", "days", "offset_dir", "after"))
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		require.NoError(t, db.First(&tp, tp.ID).Error)
		require.Empty(t, tp.CronSpec)
		require.EqualValues(t, 2*24*3600, tp.Offset)
		r = li.get(edit + "/edit")
		require.Contains(t, r.Body, `<option value="none" selected>`)
		require.Contains(t, r.Body, `name="offset" id="tp-offset" inputmode="numeric" min="0" value="2"`)
		require.Regexp(t, `id="tp-offset-unit"[^>]*>.*<option value="days" selected>`, r.Body)
		require.Contains(t, r.Body, `<option value="after" selected>`)
	})
}

// TestTouchpointBestTime: the form's "最佳时间（窗口内）" option previews
// the learned choice with its basis (no past pushes yet: the configured
// time, saying so), is saved as the window, shown again when edited, and
// refused with a message where it does not apply.
func TestTouchpointBestTime(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		_, li, sess := plannedSession(t, db, "BEST")
		tps := fmt.Sprintf("/console/sessions/%d/touchpoints", sess.ID)

		// Configured: an hour after the end; the window 30 minutes to 3
		// hours after it.
		form := url.Values{"kind": {"custom"}, "audience": {"all"}, "note": {"课后资料"}, "anchor": {"end"},
			"offset": {"1"}, "offset_unit": {"hours"}, "offset_dir": {"after"}, "repeat": {"none"},
			"timing": {"best"}, "best_from": {"30"}, "best_from_unit": {"minutes"}, "best_from_dir": {"after"},
			"best_to": {"3"}, "best_to_unit": {"hours"}, "best_to_dir": {"after"}}
		r := li.previewFragment(tps, with(form))
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		require.Equal(t, []string{"2026-03-02 13:00 周一"}, fires(r.Body))
		require.Contains(t, r.Body, `data-reason="thin_data"`)
		require.Contains(t, r.Body, "数据不足，使用设定时间（窗口内已发送不少于 30 条的小时少于 2 个；共 n=0）")

		r = li.post(tps, form)
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		var tp store.Touchpoint
		require.NoError(t, db.Where("session_id = ?", sess.ID).First(&tp).Error)
		require.True(t, tp.BestTime())
		require.EqualValues(t, 30*60, *tp.BestFrom)
		require.EqualValues(t, 3*3600, *tp.BestTo)
		require.Contains(t, tp.SendBasis, `"reason":"thin_data"`)
		edit := fmt.Sprintf("/console/touchpoints/%d", tp.ID)
		r = li.get(edit + "/edit")
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, `<option value="best" selected>最佳时间（窗口内）</option>`)
		require.Contains(t, r.Body, `name="best_to" id="tp-best_to" value="3"`)
		r = li.get(fmt.Sprintf("/console/sessions/%d/timeline", sess.ID))
		require.Contains(t, r.Body, "最佳时间：下课后 30 分钟 至 下课后 3 小时 之间（数据不足时 下课后 1 小时）")
		require.Contains(t, r.Body, "数据不足，使用设定时间")

		for _, tc := range []struct {
			name string
			form url.Values
			msg  string
		}{
			{"the configured time outside the window", with(form, "offset", "5"), "设定时间（相对时间）须在最佳时间窗口内"},
			{"a check-in prompt keeps its time", with(form, "kind", "checkin_prompt"), "签到提醒的时间跟随开课时间"},
			{"the window ends before it starts", with(form, "best_to_dir", "before"), "窗口的结束须晚于开始"},
			{"longer than seven days", with(form, "best_to", "8", "best_to_unit", "days", "offset", "1"), "窗口最长 7 天"},
		} {
			r = li.post(edit, tc.form)
			require.Equal(t, http.StatusUnprocessableEntity, r.Code, tc.name)
			require.Contains(t, r.Body, tc.msg, tc.name)
		}
		require.NoError(t, db.First(&tp, tp.ID).Error)
		require.EqualValues(t, 3*3600, *tp.BestTo, "a refused edit changes nothing")

		// A repeating rule hides the window: saved without one.
		r = li.post(edit, with(form, "repeat", "weekdays", "repeat_time", "09:00"))
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		require.NoError(t, db.First(&tp, tp.ID).Error)
		require.False(t, tp.BestTime())
		require.Empty(t, tp.SendBasis)
	})
}

// TestSessionFormUnitsAndZones fills in the session form with windows in
// hours and days and a zone from the select.
func TestSessionFormUnitsAndZones(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := newEnv(t, db)
		e.account(t, "li", store.RoleCoordinator, "")
		course := store.Course{Code: "UNIT", Title: "单位课", Owner: "li"}
		require.NoError(t, db.Create(&course).Error)
		li := e.client(t)
		li.login("li")

		r := li.get(fmt.Sprintf("/console/sessions/new?course_id=%d", course.ID))
		require.Equal(t, http.StatusOK, r.Code)
		zones := regexp.MustCompile(`<select name="time_zone" id="time_zone">(.*?)</select>`).FindStringSubmatch(r.Body)
		require.NotNil(t, zones, r.Body)
		zones[1] = html.UnescapeString(zones[1])
		require.Regexp(t, `^<option value="Asia/Shanghai" selected>中国（上海） UTC\+08:00 · Asia/Shanghai</option>`, zones[1], "the configured zone first")
		for _, z := range []string{"Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Europe/London", "America/New_York", "UTC"} {
			require.Contains(t, zones[1], `<option value="`+z+`">`)
		}
		require.Contains(t, zones[1], "纽约 UTC-05:00 · America/New_York", "the offset on the day")
		// The configured defaults (30 min, 10 min, 24 h) in their largest exact unit.
		require.Contains(t, r.Body, `name="makeup_after" id="makeup_after" value="1"`)
		require.Regexp(t, `id="makeup_after_unit"[^>]*><option value="minutes">分钟</option><option value="hours">小时</option><option value="days" selected>`, r.Body)
		require.Contains(t, r.Body, `name="grace" id="grace" value="10"`)

		form := url.Values{"course_id": {fmt.Sprint(course.ID)}, "starts_at": {"2026-03-10T09:00"}, "ends_at": {"2026-03-10T11:00"},
			"time_zone": {"America/New_York"}, "locale": {"en"}, "plan": {"none"},
			"opens_before": {"2"}, "opens_before_unit": {"hours"}, "grace": {"15"}, "grace_unit": {"minutes"},
			"makeup_after": {"3"}, "makeup_after_unit": {"days"}}
		r = li.post("/console/sessions", form)
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		var sess store.Session
		require.NoError(t, db.Order("id DESC").First(&sess).Error)
		require.Equal(t, "America/New_York", sess.TimeZone)
		require.Equal(t, "2026-03-10T13:00:00Z", sess.StartsAt.UTC().Format("2006-01-02T15:04:05Z"), "09:00 New York (EDT)")
		require.EqualValues(t, 2*3600, sess.CheckinOpensBefore)
		require.EqualValues(t, 15*60, sess.CheckinGrace)
		require.EqualValues(t, 3*24*3600, sess.MakeupAfter)

		r = li.get(fmt.Sprintf("/console/sessions/%d/edit", sess.ID))
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, `<option value="America/New_York" selected>`)
		require.Contains(t, r.Body, `name="opens_before" id="opens_before" value="2"`)
		require.Regexp(t, `id="opens_before_unit"[^>]*><option value="minutes">分钟</option><option value="hours" selected>`, r.Body)
		require.Contains(t, r.Body, `value="2026-03-10T09:00"`, "the start in the session's own zone")

		// A session of a zone off the list keeps it in the select.
		require.NoError(t, db.Model(&sess).Update("time_zone", "Pacific/Auckland").Error)
		r = li.get(fmt.Sprintf("/console/sessions/%d/edit", sess.ID))
		require.Contains(t, r.Body, `<option value="Pacific/Auckland" selected>`)
	})
}

// with copies f and sets key/value pairs on the copy ("" removes a key).
func with(f url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range f {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" && kv[i] == "repeat_days" {
			delete(out, kv[i])
			continue
		}
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// TestTouchpointVariantsForm: the form's variant rows — the live preview
// gives each variant's time and card, a refused row says which variant and
// why, the saved variants come back on the edit form, and an edit that
// keeps them is no conflict once something was sent; on both databases.
func TestTouchpointVariantsForm(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		_, li, sess := plannedSession(t, db, "AB")
		tps := fmt.Sprintf("/console/sessions/%d/touchpoints", sess.ID)
		form := url.Values{"kind": {"custom"}, "audience": {"all"}, "note": {"课后资料"}, "anchor": {"end"},
			"offset": {"1"}, "offset_unit": {"hours"}, "offset_dir": {"after"}, "repeat": {"none"}, "timing": {"fixed"},
			"variants_form": {"1"}, "v0_on": {"1"}, "v0_timing": {"same"},
			"v1_on": {"1"}, "v1_title": {"资料已就绪"}, "v1_button": {"查看"}, "v1_timing": {"offset"},
			"v1_offset": {"3"}, "v1_offset_unit": {"hours"}, "v1_offset_dir": {"after"}}
		r := li.previewFragment(tps, with(form))
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		require.Contains(t, r.Body, `id="tp-preview-variants"`)
		require.Regexp(t, `data-variant="A">\s*<div><strong>版本 A</strong> · 推送设定时间 · <span class="time">2026-03-02 13:00</span>`, r.Body)
		require.Regexp(t, `data-variant="B">\s*<div><strong>版本 B</strong> · 自己的固定时间 · <span class="time">2026-03-02 15:00</span>`, r.Body)
		require.Contains(t, r.Body, "<strong>资料已就绪</strong>", "B's card has B's title")

		r = li.post(tps, with(form, "v1_timing", "best", "v1_best_from", "2", "v1_best_from_unit", "hours", "v1_best_from_dir", "after",
			"v1_best_to", "4", "v1_best_to_unit", "hours", "v1_best_to_dir", "after"))
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		require.Contains(t, r.Body, "版本 B：推送的设定时间须在该版本的窗口内", "the fallback lies outside B's window")
		r = li.post(tps, with(form, "v1_on", ""))
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		require.Contains(t, r.Body, "版本须为 2–4 个（或不设）。")

		r = li.post(tps, form)
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		var tp store.Touchpoint
		require.NoError(t, db.Where("session_id = ?", sess.ID).First(&tp).Error)
		require.Equal(t, 2, tp.Variants)
		edit := fmt.Sprintf("/console/touchpoints/%d", tp.ID)
		r = li.get(edit + "/edit")
		require.Contains(t, r.Body, `name="v1_title" id="tp-v1_title" value="资料已就绪"`)
		require.Contains(t, r.Body, `name="v1_offset" id="tp-v1_offset" value="3"`)

		// Once something was sent: the same variants save, others are refused.
		require.NoError(t, db.Create(&store.Delivery{TouchpointID: tp.ID, Occurrence: "0", EmployeeID: 1, SessionID: sess.ID, Key: "k", Platform: "simulator",
			Status: store.DeliverySent}).Error)
		r = li.post(edit, with(form, "note", "课后资料（更新）"))
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		r = li.post(edit, with(form, "v1_title", "改了"))
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		r = li.get(edit + "/edit")
		require.Contains(t, r.Body, `<fieldset class="variants once" id="tp-variants" disabled>`)
	})
}
