package console_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/reports/reportstest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/surveys"
)

// feedbackAnswers are the seeded answers to course ALPHA's feedback (see
// answerFeedback); M03 does not answer.
var feedbackAnswers = map[string]url.Values{
	"S01": {"q_teacher_satisfaction": {"5"}, "q_course_satisfaction": {"4"}, "q_organisation_satisfaction": {"5"}, "q_nps": {"10"}, "q_suggestions": {"多一些案例"}},
	"S02": {"q_teacher_satisfaction": {"4"}, "q_course_satisfaction": {"4"}, "q_organisation_satisfaction": {"4"}, "q_nps": {"9"}},
	"S03": {"q_teacher_satisfaction": {"5"}, "q_course_satisfaction": {"3"}, "q_organisation_satisfaction": {"4"}, "q_nps": {"8"}},
	"S04": {"q_teacher_satisfaction": {"3"}, "q_course_satisfaction": {"2"}, "q_organisation_satisfaction": {"3"}, "q_nps": {"6"}, "q_nps_why": {"节奏太快"}},
	"S05": {"q_teacher_satisfaction": {"5"}, "q_course_satisfaction": {"5"}, "q_organisation_satisfaction": {"5"}, "q_nps": {"10"}},
	"S06": {"q_teacher_satisfaction": {"4"}, "q_course_satisfaction": {"4"}, "q_organisation_satisfaction": {"4"}, "q_nps": {"7"}},
	"M01": {"q_teacher_satisfaction": {"2"}, "q_course_satisfaction": {"3"}, "q_organisation_satisfaction": {"4"}, "q_nps": {"3"}, "q_suggestions": {"投影看不清"}},
	"M02": {"q_teacher_satisfaction": {"4"}, "q_course_satisfaction": {"5"}, "q_organisation_satisfaction": {"5"}, "q_nps": {"9"}},
}

// feedbackWorld is newWorld after class A: everyone checked in, the
// feedback sent at the end (12:00), and feedbackAnswers submitted through
// the survey form. It returns the feedback survey of session A.
func feedbackWorld(t *testing.T, db *storetest.DB) (*world, store.Survey) {
	t.Helper()
	w := newWorld(t, db)
	w.e.clk.Set(t0.Add(65 * time.Minute)) // 10:05
	for _, id := range []string{"S01", "S02", "S03", "S04", "S05", "S06", "M01", "M02", "M03"} {
		r := w.li.post(w.sessA+"/checkin", url.Values{"external_id": {id}, "confirmed": {"1"}})
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	}
	w.e.clk.Set(t0.Add(3*time.Hour + time.Second)) // 12:00:01, the end
	w.e.runDue(t)
	for id, form := range feedbackAnswers {
		answerFeedback(t, w.e, id, form)
	}
	var sv store.Survey
	require.NoError(t, db.Where("session_id = ? AND kind = ?", sessID(w.sessA), store.SurveyFeedback).First(&sv).Error)
	return w, sv
}

func sessID(path string) string { return idRe.FindStringSubmatch(path)[1] }

// answerFeedback submits user's feedback form (the link in their card).
func answerFeedback(t *testing.T, e *env, user string, form url.Values) {
	t.Helper()
	link := ""
	for _, card := range e.a.Sim().Inbox(user) {
		if card.Message.Kind != surveys.KindFeedback {
			continue
		}
		for _, b := range card.Message.Buttons {
			if b.Action != bot.ActionLink || !strings.Contains(b.URL, "/l/") {
				continue
			}
			claims, err := e.a.Signer().Verify(b.URL[strings.LastIndex(b.URL, "/")+1:], bot.TokenLink)
			require.NoError(t, err)
			if strings.Contains(claims.Extra, "/s/") {
				link = claims.Extra
			}
		}
	}
	require.NotEmpty(t, link, "%s has no feedback form link", user)
	vals := url.Values{"action": {"submit"}}
	for k, v := range form {
		vals[k] = v
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := cl.PostForm(link, vals)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusSeeOther, res.StatusCode, user)
}

// responseOf is the id of user's response to sv.
func responseOf(t *testing.T, db *storetest.DB, sv store.Survey, user string) uint64 {
	t.Helper()
	var r store.SurveyResponse
	require.NoError(t, db.Joins("JOIN employees ON employees.id = survey_responses.respondent_id").
		Where("survey_responses.survey_id = ? AND employees.external_id = ?", sv.ID, user).First(&r).Error)
	return r.ID
}

// text of the page without tags, entities decoded.
func plain(body string) string {
	var b strings.Builder
	in := false
	for _, r := range body {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
}

func TestSurveyResultsShowHandComputedFigures(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w, sv := feedbackWorld(t, db)
		r := w.li.get(w.sessA + "/results")
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		page := plain(r.Body)
		// By hand, over the 8 responses of 9 who received it:
		//   response rate 100 × 8/9 = 88.9%; partial 0.
		//   teacher 5,4,5,3,5,4,2,4: mean 32/8 = 4.00; top-2-box 6/8 = 75.0%;
		//     MOE 1.96 × √(0.75 × 0.25 / 8) × 100 = 30.0 (flagged: below 4.5).
		//   course 4,4,3,2,5,4,3,5: mean 30/8 = 3.75; 5/8 = 62.5%; MOE 1.96 × √(0.625 × 0.375 / 8) × 100 = 33.5.
		//   organisation 5,4,4,3,5,4,4,5: 34/8 = 4.25; 7/8 = 87.5%; MOE 22.9.
		//   NPS 10,9,8,6,10,7,3,9: promoters 4, passives 2, detractors 2 →
		//     100 × (4 − 2)/8 = +25.0; MOE 1.96 × √((0.5 + 0.25 − 0.25²)/8) × 100 = 57.5.
		require.Contains(t, page, "回复率（完整） 88.9% (8/9) n=9")
		require.Contains(t, page, "部分回复率 0.0% (0/9) n=9")
		require.Contains(t, page, "讲师满意度 均值 4.00 · 满意率 75.0% ±30.0 ⚠ n < 10：误差范围基于正态近似，样本过小时不可靠，仅供参考 n=8")
		require.Contains(t, page, "课程满意度 均值 3.75 · 满意率 62.5% ±33.5 ⚠ n < 10：误差范围基于正态近似，样本过小时不可靠，仅供参考 n=8")
		require.Contains(t, page, "组织安排满意度 均值 4.25 · 满意率 87.5% ±22.9 ⚠ n < 10：误差范围基于正态近似，样本过小时不可靠，仅供参考 n=8")
		require.Contains(t, page, "NPS +25.0 ±57.5 ⚠ n < 10：误差范围基于正态近似，样本过小时不可靠，仅供参考 n=8")
		require.Contains(t, r.Body, `class="figure low"`, "the teacher's 4.00 is below the 4.5 target")
		require.Contains(t, page, "NPS = 100 × (推荐者 − 贬损者) ÷ n", "definitions are shown")
		// Charts without JavaScript: CSAT distribution and NPS bars.
		require.Contains(t, r.Body, `aria-label="满意度分布（1–5 分）"`)
		require.Contains(t, r.Body, `aria-label="NPS：贬损者 / 中立者 / 推荐者"`)
		require.Contains(t, r.Body, "NPS · 推荐者 9–10: 4/8")
		// Comments with names (not anonymous), the non-respondent, the
		// departments with 市场 (2 answers) hidden; 销售: CSAT mean of 18
		// answers 73/18 = 4.06, NPS 10,9,8,6,10,7 → 100 × (3 − 1)/6 = 33.3.
		comments := plain(between(r.Body, fmt.Sprintf(`id="table-survey-%d-comments"`, sv.ID), "</section>"))
		require.Contains(t, comments, "多一些案例")
		require.Contains(t, comments, "销售员1")
		require.Contains(t, comments, "投影看不清")
		require.Contains(t, comments, "未分类")
		missing := plain(between(r.Body, fmt.Sprintf(`id="table-survey-%d-missing"`, sv.ID), "</section>"))
		require.Contains(t, missing, "未完成问卷（1 人）")
		require.Contains(t, missing, "市场员3")
		depts := plain(between(r.Body, fmt.Sprintf(`id="table-survey-%d-departments"`, sv.ID), "</section>"))
		require.Contains(t, depts, "市场 已隐藏 (<5)")
		require.Contains(t, depts, "销售 6 4.06 33.3")
		r = w.li.get(w.sessA + fmt.Sprintf("/results?export=csv&table=survey-%d-departments", sv.ID))
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, "市场,已隐藏 (<5)")
		require.Contains(t, r.Body, "销售,6,4.06,33.3")
		r = w.li.get(w.sessA + fmt.Sprintf("/results?export=xlsx&table=survey-%d-dimensions", sv.ID))
		require.Equal(t, http.StatusOK, r.Code)
		f, err := excelize.OpenReader(bytes.NewReader([]byte(r.Body)))
		require.NoError(t, err)
		rows, err := f.GetRows(f.GetSheetList()[0])
		require.NoError(t, err)
		require.Equal(t, []string{"讲师满意度", "您对本次课程讲师的满意度如何？", "8", "4.00", "75.0", "30.0", "0", "1", "1", "3", "3", "n < 10：误差范围基于正态近似，样本过小时不可靠，仅供参考"}, rows[1], "the small-n caveat goes with the export")

		// English.
		w.li.get("/console/lang?to=en")
		page = plain(w.li.get(w.sessA + "/results").Body)
		require.Contains(t, page, "Teacher satisfaction mean 4.00 · top-2-box 75.0% ±30.0 ⚠ n < 10: the margin of error uses a normal approximation that is unreliable for so few answers; treat it as indicative only n=8")
		require.Contains(t, page, "How satisfied are you with the teacher?")
		w.li.get("/console/lang?to=zh-CN")

		// The course pools every session's answers (only A has any).
		page = plain(w.li.get(w.courseA).Body)
		require.Contains(t, page, "课程汇总 · 课后反馈")
		require.Contains(t, page, "NPS +25.0 ±57.5 ⚠ n < 10：误差范围基于正态近似，样本过小时不可靠，仅供参考 n=8")
	})
}

func TestDepartmentHeadSeesOnlyItsDepartmentsAggregates(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w, sv := feedbackWorld(t, db)
		w.e.account(t, "sales", store.RoleDepartmentHead, "销售")
		w.e.account(t, "mkt", store.RoleDepartmentHead, "市场")
		sales, mkt := w.e.client(t), w.e.client(t)
		sales.login("sales")
		mkt.login("mkt")

		r := sales.get(w.sessA + "/results")
		require.Equal(t, http.StatusOK, r.Code)
		page := plain(r.Body)
		// 销售 only: teacher 5,4,5,3,5,4 → 26/6 = 4.33, 5/6 = 83.3%, MOE
		// 1.96 × √(5/6 × 1/6 / 6) × 100 = 29.8; NPS +33.3 of 6.
		require.Contains(t, page, "讲师满意度 均值 4.33 · 满意率 83.3% ±29.8 ⚠ n < 10：误差范围基于正态近似，样本过小时不可靠，仅供参考 n=6")
		require.Contains(t, page, "NPS +33.3")
		require.Contains(t, page, "回复率（完整） 100.0% (6/6) n=6")
		for _, s := range []string{"多一些案例", "节奏太快", "投影看不清", "销售员", "市场员", "&#43;25.0", "comments/tag", "/remind",
			fmt.Sprintf("survey-%d-comments", sv.ID), fmt.Sprintf("survey-%d-missing", sv.ID), fmt.Sprintf("survey-%d-departments", sv.ID)} {
			require.False(t, strings.Contains(r.Body, s), "a department head sees %q", s)
		}
		r = sales.get(w.sessA + fmt.Sprintf("/results?export=csv&table=survey-%d-comments", sv.ID))
		require.Equal(t, http.StatusBadRequest, r.Code, "no comments table to export")

		// 市场 has 2 answers: nothing at all is shown.
		r = mkt.get(w.sessA + "/results")
		require.Equal(t, http.StatusOK, r.Code)
		page = plain(r.Body)
		require.Contains(t, page, "不显示")
		require.Contains(t, page, "本部门回答少于 5 人")
		for _, s := range []string{"均值", "NPS +", "投影看不清", "市场员", "满意度分布"} {
			require.NotContains(t, page, s)
		}
		page = plain(mkt.get(w.courseA).Body)
		require.NotContains(t, page, "均值")
		require.Contains(t, page, "已隐藏 (<5)")

		// And they change nothing.
		before := snapshot(t, db)
		rid := fmt.Sprint(responseOf(t, db, sv, "S01"))
		r = sales.post(fmt.Sprintf("/console/surveys/%d/comments/tag", sv.ID), url.Values{"response_id": {rid}, "question_key": {"suggestions"}, "tag": {"no_action"}, "confirmed": {"1"}})
		require.Equal(t, http.StatusForbidden, r.Code)
		r = sales.post(fmt.Sprintf("/console/surveys/%d/remind", sv.ID), url.Values{"confirmed": {"1"}})
		require.Equal(t, http.StatusForbidden, r.Code)
		require.Equal(t, before, snapshot(t, db))
		var n int64
		require.NoError(t, db.Model(&store.CommentTag{}).Count(&n).Error)
		require.Zero(t, n)
	})
}

func TestCommentTriageIsSavedAndAudited(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w, sv := feedbackWorld(t, db)
		li := w.li
		rid := fmt.Sprint(responseOf(t, db, sv, "S01"))
		tagURL := fmt.Sprintf("/console/surveys/%d/comments/tag", sv.ID)
		fuURL := fmt.Sprintf("/console/surveys/%d/comments/follow-up", sv.ID)
		form := func(kv ...string) url.Values {
			f := url.Values{"response_id": {rid}, "question_key": {"suggestions"}}
			for i := 0; i < len(kv); i += 2 {
				f.Set(kv[i], kv[i+1])
			}
			return f
		}
		count := func() int64 {
			var n int64
			require.NoError(t, db.Model(&store.CommentTag{}).Count(&n).Error)
			return n
		}

		// The page offers the three tags and the follow-up call.
		r := li.get(w.sessA + "/results")
		require.Contains(t, r.Body, `name="tag" value="short_term"`)
		require.Contains(t, r.Body, `name="follow_up_call" value="1"`)

		// Without the confirmation: a confirmation page, nothing saved.
		r = li.post(tagURL, form("tag", "short_term"))
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, "confirm-submit")
		require.Contains(t, r.Body, "短期改进")
		require.Zero(t, count())

		// Bad input: an inline message, nothing saved.
		for _, f := range []url.Values{
			form("tag", "urgent", "confirmed", "1"),
			form("tag", "short_term", "confirmed", "1", "question_key", "nps"),
			form("tag", "short_term", "confirmed", "1", "question_key", "nps_why"), // S01 gave no reason
			form("tag", "short_term", "confirmed", "1", "response_id", "999999"),
			form("tag", "short_term", "confirmed", "1", "response_id", "x"),
		} {
			r = li.post(tagURL, f)
			require.Equal(t, http.StatusUnprocessableEntity, r.Code, f.Encode())
			require.Contains(t, r.Body, `role="alert"`)
		}
		r = li.post(fuURL, form("follow_up_call", "maybe", "confirmed", "1"))
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		require.Zero(t, count())

		r = li.post(tagURL, form("tag", "short_term", "confirmed", "1"))
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		require.Contains(t, r.Location, "ok=comment_tagged")
		require.Contains(t, r.Location, fmt.Sprintf("#survey-%d", sv.ID))
		var tag store.CommentTag
		require.NoError(t, db.First(&tag).Error)
		require.Equal(t, store.TagShortTerm, tag.Tag)
		require.False(t, tag.FollowUpCall)
		require.Equal(t, "li", tag.By)

		// Re-tagging updates the same row; the follow-up flag keeps the tag.
		r = li.post(tagURL, form("tag", "long_term", "confirmed", "1"))
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		r = li.post(fuURL, form("follow_up_call", "1", "confirmed", "1"))
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		require.EqualValues(t, 1, count())
		require.NoError(t, db.First(&tag).Error)
		require.Equal(t, store.TagLongTerm, tag.Tag)
		require.True(t, tag.FollowUpCall)

		r = li.get(w.sessA + "/results?ok=comment_tagged")
		require.Contains(t, r.Body, "意见已分类")
		comments := plain(between(r.Body, fmt.Sprintf(`id="table-survey-%d-comments"`, sv.ID), "</section>"))
		require.Contains(t, comments, "多一些案例 销售员1 S01 长期改进")
		require.Contains(t, comments, "需回访")
		r = li.get(w.sessA + fmt.Sprintf("/results?export=csv&table=survey-%d-comments", sv.ID))
		require.Contains(t, r.Body, "多一些案例,销售员1,S01,long_term,true,li")

		var actions []string
		require.NoError(t, db.Model(&store.AuditLog{}).Where("actor = ? AND object = ?", "li", fmt.Sprintf("survey:%d", sv.ID)).Order("id").Pluck("action", &actions).Error)
		require.Equal(t, []string{"comment.tag", "comment.tag", "comment.follow_up"}, actions)
		var last store.AuditLog
		require.NoError(t, db.Where("action = ?", "comment.follow_up").First(&last).Error)
		var detail map[string]any
		require.NoError(t, json.Unmarshal([]byte(last.Detail), &detail))
		require.Equal(t, "long_term", detail["old_tag"])
		require.Equal(t, true, detail["follow_up_call"])

		// Another course's coordinator: 404, nothing changed.
		before := snapshot(t, db)
		for p, f := range map[string]url.Values{
			tagURL: form("tag", "no_action", "confirmed", "1"),
			fuURL:  form("follow_up_call", "0", "confirmed", "1"),
			fmt.Sprintf("/console/surveys/%d/remind", sv.ID): {"confirmed": {"1"}},
		} {
			r := w.wng.post(p, f)
			require.Equal(t, http.StatusNotFound, r.Code, p)
			require.NotContains(t, r.Body, "多一些案例")
		}
		require.Equal(t, before, snapshot(t, db))
		require.NoError(t, db.First(&tag).Error)
		require.Equal(t, store.TagLongTerm, tag.Tag)
		require.True(t, tag.FollowUpCall)
		// Nor can a form without the CSRF token change anything.
		r = li.post(tagURL, form("tag", "no_action", "confirmed", "1", "csrf", "forged"))
		require.Equal(t, http.StatusForbidden, r.Code)
		require.NoError(t, db.First(&tag).Error)
		require.Equal(t, store.TagLongTerm, tag.Tag)
		// An admin may.
		r = w.admin.post(tagURL, form("tag", "no_action", "confirmed", "1"))
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	})
}

func TestRemindNowStopsAtTheCap(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w, sv := feedbackWorld(t, db)
		li := w.li
		remind := fmt.Sprintf("/console/surveys/%d/remind", sv.ID)
		fired := func() int64 {
			var n int64
			require.NoError(t, db.Model(&store.Touchpoint{}).Where("survey_id = ? AND kind = ? AND status = ?", sv.ID, surveys.KindFeedbackReminder, store.TouchpointFired).Count(&n).Error)
			return n
		}
		r := li.get(w.sessA + "/results")
		require.Contains(t, r.Body, "立即提醒未完成的 1 人")
		inbox := len(w.e.a.Sim().Inbox("M03"))

		r = li.post(remind, nil)
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, "confirm-submit")
		for i := 1; i <= 2; i++ {
			r = li.post(remind, url.Values{"confirmed": {"1"}})
			require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
			require.Contains(t, r.Location, "ok=survey_reminded")
			w.e.runDue(t)
			require.EqualValues(t, i, fired())
		}
		require.Len(t, w.e.a.Sim().Inbox("M03"), inbox+2, "only the one who has not answered is reminded")
		for _, card := range w.e.a.Sim().Inbox("S01") {
			require.NotEqual(t, surveys.KindFeedbackReminder, card.Message.Kind, "S01 answered: no reminder")
		}

		// The button is gone; a third try explains itself on the page.
		r = li.get(w.sessA + "/results")
		require.NotContains(t, r.Body, "立即提醒未完成的")
		require.Contains(t, plain(r.Body), "已发送提醒 2/2 次")
		var tps int64
		require.NoError(t, db.Model(&store.Touchpoint{}).Where("survey_id = ?", sv.ID).Count(&tps).Error)
		r = li.post(remind, url.Values{"confirmed": {"1"}})
		require.Equal(t, http.StatusConflict, r.Code)
		require.Contains(t, r.Body, "这份问卷已经提醒过 2 次（上限），没有再发送。")
		require.Contains(t, r.Body, `id="checkin-rate"`, "the results page, not an error page")
		w.e.runDue(t)
		require.EqualValues(t, 2, fired())
		var tps2 int64
		require.NoError(t, db.Model(&store.Touchpoint{}).Where("survey_id = ?", sv.ID).Count(&tps2).Error)
		require.Equal(t, tps, tps2, "no third reminder was created")

		var actions []string
		require.NoError(t, db.Model(&store.AuditLog{}).Where("actor = ? AND action = ?", "li", "survey.remind").Pluck("action", &actions).Error)
		require.Len(t, actions, 2)
	})
}

func TestTeacherReportListsKeepsAndLoses(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := newEnv(t, db)
		e.account(t, "li", store.RoleCoordinator, "")
		e.account(t, "head", store.RoleDepartmentHead, "销售")
		c := store.Course{Code: "TT", Title: "讲师课"}
		require.NoError(t, db.Create(&c).Error)
		mk := func(name string) uint64 {
			tc := store.Teacher{Name: name, Internal: true}
			require.NoError(t, db.Create(&tc).Error)
			return tc.ID
		}
		keeps, low := mk("甲讲师"), mk("乙讲师")
		day := func(m int) time.Time { return time.Date(2026, time.Month(m), 10, 1, 0, 0, 0, time.UTC) }
		reportstest.TeachSession(t, db, c.ID, keeps, day(2), 30, 0, []float64{5, 4})
		reportstest.TeachSession(t, db, c.ID, keeps, day(5), 30, 0, []float64{5})
		reportstest.TeachSession(t, db, c.ID, keeps, day(9), 31, 0, []float64{5, 5, 4})
		reportstest.TeachSession(t, db, c.ID, low, day(2), 30, 0, []float64{4, 4, 5})
		reportstest.TeachSession(t, db, c.ID, low, day(3), 29, 0, []float64{5})

		li := e.client(t)
		li.login("li")
		r := li.get("/console/teachers?year=2026")
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		page := plain(r.Body)
		require.Contains(t, page, "甲讲师 3 保留认证")
		require.Contains(t, page, "乙讲师 2 不保留")
		require.Contains(t, page, "授课 2 次，少于 3 次")
		require.Contains(t, page, "讲师评分 4.33（n = 3），低于 4.5")
		require.Contains(t, page, "学员 29 人，少于 30 人")
		require.Contains(t, between(r.Body, `id="n-keeps"`, "</strong>"), ">1")
		r = li.get("/console/teachers?year=2026&export=xlsx&table=teachers")
		require.Equal(t, http.StatusOK, r.Code)
		f, err := excelize.OpenReader(bytes.NewReader([]byte(r.Body)))
		require.NoError(t, err)
		rows, err := f.GetRows(f.GetSheetList()[0])
		require.NoError(t, err)
		require.Equal(t, []string{"讲师", "授课次数", "认证", "原因"}, rows[0])
		byName := map[string][]string{}
		for _, row := range rows[1:] {
			byName[row[0]] = row
		}
		require.Equal(t, []string{"甲讲师", "3", "TRUE"}, byName["甲讲师"][:3])
		require.Equal(t, "FALSE", byName["乙讲师"][2])
		require.Contains(t, byName["乙讲师"][3], "少于 3 次")
		r = li.get("/console/teachers?year=2026&export=csv&table=teacher-sessions")
		require.Contains(t, r.Body, "乙讲师")
		require.Contains(t, r.Body, "4.33")

		// Another year is empty; a bad year is refused; department heads
		// may not see it.
		require.Contains(t, li.get("/console/teachers?year=2025").Body, "这一年没有讲师授课记录")
		require.Equal(t, http.StatusBadRequest, li.get("/console/teachers?year=abc").Code)
		h := e.client(t)
		h.login("head")
		require.Equal(t, http.StatusForbidden, h.get("/console/teachers").Code)
		require.NotContains(t, h.get("/console/").Body, `href="/console/teachers"`)
	})
}
