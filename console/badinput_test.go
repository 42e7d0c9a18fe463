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

// TestBadInputOnEveryFormChangesNothing posts bad input to every form of
// the console: each answer carries an inline message and the database is
// unchanged.
func TestBadInputOnEveryFormChangesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newWorld(t, db)
		e, li := w.e, w.li
		cidA := idRe.FindStringSubmatch(w.courseA)[1]
		r := li.get(w.sessA + "/timeline")
		tpA := regexp.MustCompile(`data-tp="(\d+)" data-kind="checkin_prompt"`).FindStringSubmatch(r.Body)[1]
		// Send the prompt so it is a fired one-off (not editable any more).
		require.Equal(t, http.StatusSeeOther, li.post("/console/touchpoints/"+tpA+"/send-now", url.Values{"confirmed": {"1"}}).Code)
		e.clk.Set(t0.Add(50 * time.Minute))
		e.runDue(t)
		r = li.get(w.sessA + "/timeline")
		reminder := regexp.MustCompile(`data-tp="(\d+)" data-kind="makeup_reminder"`).FindStringSubmatch(r.Body)[1]
		rootID := func() string {
			var a store.Account
			require.NoError(t, db.Where("username = ?", "root").First(&a).Error)
			return itoa(a.ID)
		}()
		liID := func() string {
			var a store.Account
			require.NoError(t, db.Where("username = ?", "li").First(&a).Error)
			return itoa(a.ID)
		}()

		sessForm := func(kv ...string) url.Values {
			f := url.Values{"course_id": {cidA}, "starts_at": {"2026-03-02T10:00"}, "ends_at": {"2026-03-02T12:00"}, "time_zone": {"Asia/Shanghai"},
				"locale": {"zh-CN"}, "opens_before": {"30"}, "grace": {"10"}, "makeup_after": {"1440"}, "plan": {"default"}}
			for i := 0; i < len(kv); i += 2 {
				f.Set(kv[i], kv[i+1])
			}
			return f
		}
		tpForm := func(kv ...string) url.Values {
			f := url.Values{"kind": {"custom"}, "anchor": {"start"}, "offset": {"-30"}, "audience": {"all"}, "note": {"带好笔记本"}}
			for i := 0; i < len(kv); i += 2 {
				f.Set(kv[i], kv[i+1])
			}
			return f
		}
		courseForm := func(kv ...string) url.Values {
			f := url.Values{"code": {"NEW-1"}, "title": {"新课"}, "target_level": {"1"}}
			for i := 0; i < len(kv); i += 2 {
				f.Set(kv[i], kv[i+1])
			}
			return f
		}
		type tc struct {
			name string
			who  *client
			path string
			form url.Values
			code int
			want string
		}
		cases := []tc{
			{"course: no code", li, "/console/courses", courseForm("code", ""), 422, "请填写课程代码"},
			{"course: level 9", li, "/console/courses", courseForm("target_level", "9"), 422, "评估层级必须是 1–5"},
			{"course: five behaviours", li, "/console/courses", courseForm("behaviours", "a\nb\nc\nd\ne"), 422, "最多 4 个"},
			{"course: title too long", li, "/console/courses", courseForm("title", strings.Repeat("长", 256)), 422, "请填写课程名称"},
			{"course: category too long", li, "/console/courses", courseForm("category", strings.Repeat("类", 65)), 422, "类别最多 64 个字符"},
			{"course: duplicate code", li, "/console/courses", courseForm("code", "BRAVO"), 422, "该课程代码已存在"},
			{"course: owner not a coordinator", w.admin, "/console/courses", courseForm("owner", "nobody"), 422, "负责人必须是"},
			{"course edit: empty title", li, w.courseA, courseForm("code", "ALPHA", "title", " "), 422, "请填写课程名称"},
			{"session: end before start", li, "/console/sessions", sessForm("ends_at", "2026-03-02T09:00"), 422, "下课时间必须晚于开课时间"},
			{"session: bad zone", li, "/console/sessions", sessForm("time_zone", "Mars/Olympus"), 422, "时区不正确"},
			{"session: Local zone", li, "/console/sessions", sessForm("time_zone", "Local"), 422, "时区不正确"},
			{"session: year 9999", li, "/console/sessions", sessForm("starts_at", "9999-03-02T10:00", "ends_at", "9999-03-02T12:00"), 422, "日期必须在 2000-01-01 到 2099-12-31 之间"},
			{"session: url without host", li, "/console/sessions", sessForm("online_url", "https://"), 422, "http(s)"},
			{"session: url with a space", li, "/console/sessions", sessForm("online_url", "https://meet.example.com/a b"), 422, "http(s)"},
			{"session: location too long", li, "/console/sessions", sessForm("location", strings.Repeat("地", 256)), 422, "地点最多 255 个字符"},
			{"session: no start", li, "/console/sessions", sessForm("starts_at", ""), 422, "请填写开课时间"},
			{"session: garbled start", li, "/console/sessions", sessForm("starts_at", "明天上午"), 422, "请填写开课时间"},
			{"session: negative minutes", li, "/console/sessions", sessForm("grace", "-5"), 422, "0 到 43200"},
			{"session: 31 days of grace", li, "/console/sessions", sessForm("grace", "31", "grace_unit", "days"), 422, "0 到 43200"},
			{"session: grace in weeks", li, "/console/sessions", sessForm("grace", "1", "grace_unit", "weeks"), 422, "0 到 43200"},
			{"session: 20 days", li, "/console/sessions", sessForm("ends_at", "2026-03-22T12:00"), 422, "最长 14 天"},
			{"session: javascript url", li, "/console/sessions", sessForm("online_url", "javascript:alert(1)"), 422, "http(s)"},
			{"session: bad plan", li, "/console/sessions", sessForm("plan", "all"), 422, "请选择提醒计划"},
			{"session: bad locale", li, "/console/sessions", sessForm("locale", "fr"), 422, "语言必须是"},
			{"session: no course", li, "/console/sessions", sessForm("course_id", "abc"), 422, "请选择一门您负责的课程"},
			{"session edit: end before start", li, w.sessA, sessForm("ends_at", "2026-03-01T12:00"), 422, "下课时间必须晚于开课时间"},
			{"touchpoint: custom without text", li, w.sessA + "/touchpoints", tpForm("note", ""), 422, "自定义消息需要填写正文"},
			{"touchpoint: offset not a number", li, w.sessA + "/touchpoints", tpForm("offset", "半小时"), 422, "最多前后 90 天"},
			{"touchpoint: offset overflows", li, w.sessA + "/touchpoints", tpForm("offset", "153722867280912931"), 422, "最多前后 90 天"},
			{"touchpoint: at year 9999", li, w.sessA + "/touchpoints", tpForm("anchor", "absolute", "at", "9999-01-01T10:00"), 422, "日期必须在"},
			{"touchpoint: absolute without time", li, w.sessA + "/touchpoints", tpForm("anchor", "absolute"), 422, "请填写指定时间"},
			{"touchpoint: bad cron", li, w.sessA + "/touchpoints", tpForm("cron", "every monday"), 422, "cron 表达式不正确"},
			{"touchpoint: unknown kind", li, w.sessA + "/touchpoints", tpForm("kind", "spam"), 422, "请选择推送类型"},
			{"touchpoint: unknown audience", li, w.sessA + "/touchpoints", tpForm("audience", "everyone"), 422, "请选择发送对象"},
			{"touchpoint: weekly without a day", li, w.sessA + "/touchpoints", tpForm("repeat", "weekly", "repeat_time", "09:00"), 422, "请至少勾选一天"},
			{"touchpoint: monthly on day 32", li, w.sessA + "/touchpoints", tpForm("repeat", "monthly", "repeat_time", "09:00", "repeat_day", "32"), 422, "1 到 31"},
			{"touchpoint: weekdays at 25:00", li, w.sessA + "/touchpoints", tpForm("repeat", "weekdays", "repeat_time", "25:00"), 422, "请填写发送时间"},
			{"touchpoint: empty advanced cron", li, w.sessA + "/touchpoints", tpForm("repeat", "cron", "cron", ""), 422, "请填写 cron 表达式"},
			{"touchpoint: 91 days before", li, w.sessA + "/touchpoints", tpForm("offset", "91", "offset_unit", "days", "offset_dir", "before"), 422, "最多前后 90 天"},
			{"touchpoint: offset in weeks", li, w.sessA + "/touchpoints", tpForm("offset", "1", "offset_unit", "weeks"), 422, "最多前后 90 天"},
			{"touchpoint: preview of a bad rule", li, w.sessA + "/touchpoints", tpForm("repeat", "weekly", "repeat_time", "09:00", "preview", "1"), 422, "请至少勾选一天"},
			{"touchpoint edit: bad anchor", li, "/console/touchpoints/" + reminder, tpForm("anchor", "lunch"), 422, "请选择相对开课"},
			{"touchpoint edit: already sent", li, "/console/touchpoints/" + tpA, tpForm(), 422, "该推送已发送"},
			{"check-in: unknown person", li, w.sessA + "/checkin", url.Values{"external_id": {"NOPE"}, "confirmed": {"1"}}, 422, "没有工号为 NOPE 的员工"},
			{"check-in: not on roster", li, w.sessA + "/checkin", url.Values{"external_id": {"M04"}, "confirmed": {"1"}}, 422, "M04 不在本场次名单中"},
			{"check-in: bad kind", li, w.sessA + "/checkin", url.Values{"external_id": {"S01"}, "kind": {"early"}, "confirmed": {"1"}}, 422, "签到类型必须是"},
			{"check-in: long note", li, w.sessA + "/checkin", url.Values{"external_id": {"S01"}, "note": {strings.Repeat("长", 256)}, "confirmed": {"1"}}, 422, "备注最多 255 个字符"},
			{"excuse: no person", li, w.sessA + "/excuse", url.Values{"external_id": {""}, "confirmed": {"1"}}, 422, "没有工号为"},
			{"excuse: not on roster", li, w.sessA + "/excuse", url.Values{"external_id": {"M05"}, "confirmed": {"1"}}, 422, "不在本场次名单中"},
			{"account: short password", w.admin, "/console/accounts", url.Values{"username": {"zhao"}, "role": {"coordinator"}, "password": {"short"}, "again": {"short"}}, 422, "密码至少 10 个字符"},
			{"account: bad username", w.admin, "/console/accounts", url.Values{"username": {"Zhao Lei!"}, "role": {"coordinator"}, "password": {"long-enough-pw"}, "again": {"long-enough-pw"}}, 422, "用户名为 2–64 个"},
			{"account: head without department", w.admin, "/console/accounts", url.Values{"username": {"zhao"}, "role": {"department_head"}, "password": {"long-enough-pw"}, "again": {"long-enough-pw"}}, 422, "部门负责人需要填写部门"},
			{"account: passwords differ", w.admin, "/console/accounts", url.Values{"username": {"zhao"}, "role": {"coordinator"}, "password": {"long-enough-pw"}, "again": {"long-enough-pX"}}, 422, "两次输入的密码不一致"},
			{"account: taken", w.admin, "/console/accounts", url.Values{"username": {"wang"}, "role": {"coordinator"}, "password": {"long-enough-pw"}, "again": {"long-enough-pw"}}, 422, "该用户名已存在"},
			{"account: unknown role", w.admin, "/console/accounts", url.Values{"username": {"zhao"}, "role": {"root"}, "password": {"long-enough-pw"}, "again": {"long-enough-pw"}}, 422, "请选择角色"},
			{"account edit: drop own admin", w.admin, "/console/accounts/" + rootID, url.Values{"role": {"coordinator"}}, 422, "不能停用自己"},
			{"account edit: bad role", w.admin, "/console/accounts/" + liID, url.Values{"role": {"boss"}}, 422, "请选择角色"},
			{"account edit: short reset", w.admin, "/console/accounts/" + liID, url.Values{"role": {"coordinator"}, "password": {"abc"}, "again": {"abc"}}, 422, "密码至少 10 个字符"},
			{"password: wrong current", li, "/console/password", url.Values{"current": {"nope"}, "new": {"long-enough-pw"}, "again": {"long-enough-pw"}}, 422, "当前密码不正确"},
			{"password: too short", li, "/console/password", url.Values{"current": {testPassword}, "new": {"short"}, "again": {"short"}}, 422, "密码至少 10 个字符"},
			{"password: mismatch", li, "/console/password", url.Values{"current": {testPassword}, "new": {"long-enough-pw"}, "again": {"long-enough-px"}}, 422, "两次输入的密码不一致"},
		}
		for _, c := range cases {
			before := snapshot(t, db)
			r := c.who.post(c.path, c.form)
			require.Equal(t, c.code, r.Code, "%s: %s", c.name, r.Body)
			require.Regexp(t, `class="(field-error|flash error form-error)" role="alert"`, r.Body, c.name)
			require.Contains(t, r.Body, c.want, c.name)
			require.Equal(t, before, snapshot(t, db), "%s changed something", c.name)
		}

		// Roster uploads: no file, bad rows, an empty file, a broken XLSX.
		for name, u := range map[string]struct {
			file string
			data []byte
			want string
		}{
			"no file":     {"", nil, "请选择一个 CSV 或 XLSX 文件"},
			"bad rows":    {"r.csv", []byte("external_id,name,email,platform\nS01,张三,not-mail,simulator\n,无工号,,\nS01,重复,,\nX9,某人,,telegram\n"), "名单有 4 处问题"},
			"empty":       {"r.csv", []byte{}, "文件为空"},
			"broken xlsx": {"r.xlsx", []byte("PK\x03\x04 not really a workbook"), "无法读取的 XLSX 文件"},
			"not utf-8":   {"r.csv", []byte("external_id,name\nE1,\xd5\xc5\xc8\xfd\n"), "UTF-8"},
			"unknown col": {"r.csv", []byte("工号,姓名,爱好\nE1,张三,跑步\n"), "未知的列"},
			// M05 is on wang's session only: li may not rename them or take their platform id.
			"not yours": {"r.csv", []byte("external_id,name,department,feishu_id\nS01,销售员1,销售,\nM05,冒名,财务,ou_evil\n"), "也在您不负责的场次中；只有管理员可以修改其 department, feishu_id, name"},
			"huge cell": {"r.csv", []byte("external_id,name\nE1," + strings.Repeat("x", 5000) + "\n"), "有单元格超过 4096 字节"},
		} {
			before := snapshot(t, db)
			r := li.upload(w.sessA+"/roster", "file", u.file, u.data)
			require.Equal(t, http.StatusUnprocessableEntity, r.Code, name)
			require.Contains(t, r.Body, u.want, "%s: %s", name, between(r.Body, "<main>", "</main>"))
			require.Equal(t, before, snapshot(t, db), name)
			if name == "bad rows" {
				for _, line := range []string{">2<", ">3<", ">4<", ">5<"} {
					require.Contains(t, between(r.Body, `id="roster-errors"`, "</table>"), line, "every bad line is listed")
				}
				require.Contains(t, r.Body, "不是有效的邮箱地址")
				require.Contains(t, r.Body, "与第 2 行重复")
			}
		}

		// Remind with nobody missing: an inline message, no touchpoint.
		for _, id := range []string{"S01", "S02", "S03", "S04", "S05", "S06", "M01", "M02", "M03", "Z1"} {
			r := li.post(w.sessA+"/excuse", url.Values{"external_id": {id}, "confirmed": {"1"}})
			if id == "Z1" {
				require.Equal(t, http.StatusUnprocessableEntity, r.Code)
				continue
			}
			require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		}
		before := snapshot(t, db)
		r = li.post(w.sessA+"/remind", url.Values{"confirmed": {"1"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		require.Contains(t, r.Body, "没有未签到的人")
		require.Equal(t, before, snapshot(t, db))

		// Login with nothing typed.
		anon := e.client(t)
		anon.get("/console/login")
		r = anon.post("/console/login", url.Values{"username": {""}, "password": {""}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		require.Contains(t, r.Body, "请输入用户名和密码")
	})
}
