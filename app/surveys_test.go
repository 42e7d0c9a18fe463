package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/simulator"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/surveys"
)

// surveyFixture: a course with two behaviours, a session 10:00–12:00
// Shanghai on 2026-03-02, five attendees (E001/E002 report to M001, E003 to
// M002, E004 and E005 to nobody), and the coordinator C001 owning the course.
func surveyFixture(t *testing.T, b *bundle) (sessionID uint64, tps map[string][]uint64) {
	t.Helper()
	ctx := context.Background()
	others, err := roster.ParseCSV(strings.NewReader("external_id,name,department,platform\nM001,周经理,销售,simulator\nM002,吴经理,市场,simulator\nC001,郑班主任,人力资源,simulator\n"))
	require.NoError(t, err)
	_, err = roster.Import(ctx, b.db.DB, roster.AsAdmin(), 0, others)
	require.NoError(t, err)

	s := apptest.NewSession(t, b.srv.URL, apptest.SessionSpec{
		Course: map[string]any{
			"code": "LEAD-201", "title": "教练式辅导", "target_level": 3, "owner": "C001",
			"behaviours": []string{"一对一面谈前明确目标", "用提问代替直接给答案"},
		},
		Session: map[string]any{"starts_at": "2026-03-02T10:00:00+08:00", "ends_at": "2026-03-02T12:00:00+08:00", "teacher": "钱老师"},
		Roster: "external_id,name,department,manager_id,platform\n" +
			"E001,张伟,销售,M001,simulator\nE002,王芳,销售,M001,simulator\nE003,李娜,市场,M002,simulator\nE004,刘洋,市场,,simulator\nE005,陈静,客服,,simulator\n",
	})
	tps = map[string][]uint64{}
	var list struct {
		Touchpoints []struct {
			ID   uint64 `json:"id"`
			Kind string `json:"kind"`
		} `json:"touchpoints"`
	}
	require.Equal(t, http.StatusOK, b.call(t, "GET", "/api/v1/sessions/"+u(s.ID)+"/touchpoints", "", nil, &list))
	for _, tp := range list.Touchpoints {
		tps[tp.Kind] = append(tps[tp.Kind], tp.ID)
	}
	return s.ID, tps
}

// cardWith returns the newest card of user whose kind is kind.
func cardWith(t *testing.T, b *bundle, user, kind string) simulator.Card {
	t.Helper()
	for _, c := range b.a.Sim().Inbox(user) {
		if c.Message.Kind == kind {
			return c
		}
	}
	t.Fatalf("%s has no %s card", user, kind)
	return simulator.Card{}
}

func hasCard(b *bundle, user, kind string) bool {
	for _, c := range b.a.Sim().Inbox(user) {
		if c.Message.Kind == kind {
			return true
		}
	}
	return false
}

// formURL finds the survey form link in a card (through its tracked link).
func formURL(t *testing.T, b *bundle, c simulator.Card) string {
	t.Helper()
	for _, btn := range c.Message.Buttons {
		if btn.Action == bot.ActionLink && strings.Contains(btn.URL, "/l/") {
			claims, err := b.a.Signer().Verify(btn.URL[strings.LastIndex(btn.URL, "/")+1:], bot.TokenLink)
			require.NoError(t, err)
			if strings.Contains(claims.Extra, "/s/") {
				return claims.Extra
			}
		}
	}
	t.Fatalf("card %s has no survey link", c.Key)
	return ""
}

func postForm(t *testing.T, form string, vals url.Values) (int, string) {
	t.Helper()
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.PostForm(form, vals)
	require.NoError(t, err)
	return resp.StatusCode, readAll(t, resp)
}

func deliveredTo(t *testing.T, b *bundle, tpID uint64) []string {
	t.Helper()
	var rows []struct{ ExternalID string }
	require.NoError(t, b.db.Table("deliveries").Select("employees.external_id").Joins("JOIN employees ON employees.id = deliveries.employee_id").
		Where("deliveries.touchpoint_id = ? AND deliveries.status = ?", tpID, store.DeliverySent).Order("employees.external_id").Scan(&rows).Error)
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.ExternalID
	}
	return out
}

func TestFeedbackSurveyEndToEnd(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		sid, tps := surveyFixture(t, b)
		require.Len(t, tps[surveys.KindFeedback], 1)
		require.Len(t, tps[surveys.KindFeedbackReminder], 2)
		require.Len(t, tps[surveys.KindManagerFollowup], 1)

		// Four of five check in during the class.
		b.clk.Set(time.Date(2026, 3, 2, 2, 5, 0, 0, time.UTC))
		for _, id := range []string{"E001", "E002", "E003", "E004"} {
			require.Equal(t, http.StatusCreated, b.call(t, "POST", "/api/v1/sessions/"+u(sid)+"/checkins", "", map[string]any{"external_id": id}, nil))
		}

		// The class ends: feedback goes to those checked in only.
		b.clk.Set(time.Date(2026, 3, 2, 4, 0, 1, 0, time.UTC))
		b.runDue(t)
		require.Equal(t, []string{"E001", "E002", "E003", "E004"}, deliveredTo(t, b, tps[surveys.KindFeedback][0]))
		require.False(t, hasCard(b, "E005", surveys.KindFeedback))

		// E001 answers NPS 9 in the card (a partial response); the same tap
		// again is a duplicate.
		c1 := cardWith(t, b, "E001", surveys.KindFeedback)
		tr := apptest.Tap(t, b.srv.URL, "E001", apptest.Button(t, bot.ActionNPS, "9", c1))
		require.True(t, tr.OK)
		require.False(t, tr.Duplicate)
		require.True(t, apptest.Tap(t, b.srv.URL, "E001", apptest.Button(t, bot.ActionNPS, "9", c1)).Duplicate)
		// E001's button used by someone else changes nothing.
		require.False(t, apptest.Tap(t, b.srv.URL, "E003", apptest.Button(t, bot.ActionNPS, "0", c1)).OK)
		require.Contains(t, cardWith(t, b, "E001", surveys.KindFeedback).Message.Status, "9")

		// E002 taps 10, then completes the form.
		c2 := cardWith(t, b, "E002", surveys.KindFeedback)
		require.True(t, apptest.Tap(t, b.srv.URL, "E002", apptest.Button(t, bot.ActionNPS, "10", c2)).OK)
		form2 := formURL(t, b, c2)
		code, body := postForm(t, form2, url.Values{"action": {"submit"}, "q_teacher_satisfaction": {"5"}, "q_course_satisfaction": {"4"},
			"q_organisation_satisfaction": {"4"}, "q_nps": {"10"}, "q_suggestions": {"多一些案例"}})
		require.Equal(t, http.StatusSeeOther, code, body)

		// E003 submits with a missing required answer: an inline error and
		// nothing stored; then completes it.
		form3 := formURL(t, b, cardWith(t, b, "E003", surveys.KindFeedback))
		code, body = postForm(t, form3, url.Values{"action": {"submit"}, "q_teacher_satisfaction": {"4"}, "q_nps": {"6"}})
		require.Equal(t, http.StatusUnprocessableEntity, code)
		require.Contains(t, body, `aria-invalid="true"`)
		require.EqualValues(t, 3-1, count(t, db, &store.SurveyResponse{}), "E003's invalid submit stored nothing")
		code, body = postForm(t, form3, url.Values{"action": {"submit"}, "q_teacher_satisfaction": {"4"}, "q_course_satisfaction": {"3"},
			"q_organisation_satisfaction": {"5"}, "q_nps": {"6"}, "q_nps_why": {"节奏太快"}})
		require.Equal(t, http.StatusSeeOther, code, body)
		// Out-of-range and tampered input change nothing.
		code, _ = postForm(t, form3, url.Values{"action": {"submit"}, "q_teacher_satisfaction": {"6"}, "q_course_satisfaction": {"3"}, "q_organisation_satisfaction": {"5"}, "q_nps": {"6"}})
		require.Equal(t, http.StatusUnprocessableEntity, code)
		code, _ = postForm(t, form3+"x", url.Values{"action": {"submit"}, "q_nps": {"0"}})
		require.Equal(t, http.StatusNotFound, code)

		// The reminder a day later goes only to those without a complete
		// response: E001 (partial) and E004 (nothing).
		b.clk.Set(time.Date(2026, 3, 3, 4, 0, 1, 0, time.UTC))
		b.runDue(t)
		require.Equal(t, []string{"E001", "E004"}, deliveredTo(t, b, tps[surveys.KindFeedbackReminder][0]))

		// "Remind now" replaces the second scheduled reminder; a third is refused.
		var sv struct {
			Surveys []struct {
				ID   uint64 `json:"id"`
				Kind string `json:"kind"`
			} `json:"surveys"`
		}
		require.Equal(t, http.StatusOK, b.call(t, "GET", "/api/v1/sessions/"+u(sid)+"/surveys", "", nil, &sv))
		var feedbackID uint64
		for _, x := range sv.Surveys {
			if x.Kind == store.SurveyFeedback {
				feedbackID = x.ID
			}
		}
		require.Equal(t, http.StatusAccepted, b.call(t, "POST", "/api/v1/surveys/"+u(feedbackID)+"/remind", "", nil, nil))
		b.runDue(t)
		var e apiErr
		require.Equal(t, http.StatusConflict, b.call(t, "POST", "/api/v1/surveys/"+u(feedbackID)+"/remind", "", nil, &e))
		require.Equal(t, "too_many_reminders", e.Code)
		var reminders int64
		require.NoError(t, db.Model(&store.Touchpoint{}).Where("survey_id = ? AND kind = ? AND status = ?", feedbackID, surveys.KindFeedbackReminder, store.TouchpointFired).Count(&reminders).Error)
		require.EqualValues(t, 2, reminders, "at most two reminders")
		// The day-2 reminder was replaced: nothing fires then.
		b.clk.Set(time.Date(2026, 3, 4, 4, 0, 1, 0, time.UTC))
		b.runDue(t)
		require.NoError(t, db.Model(&store.Touchpoint{}).Where("survey_id = ? AND kind = ? AND status = ?", feedbackID, surveys.KindFeedbackReminder, store.TouchpointFired).Count(&reminders).Error)
		require.EqualValues(t, 2, reminders)

		// Report figures, by hand:
		//   eligible 4 (E001–E004 received it); complete 2 (E002, E003);
		//   partial 1 (E001) → response rate 100×2/4 = 50.0.
		//   NPS answers 9, 10, 6 → promoters 2, detractors 1, n 3 →
		//   100×(2−1)/3 = 33.3; MOE = 1.96×sqrt((2/3+1/3−(1/3)²)/3)×100 = 1.96×sqrt(0.8889/3)×100 = 106.7.
		//   teacher 5, 4 → mean 4.5, top-2-box 100; course 4, 3 → 3.5, 50;
		//   organisation 4, 5 → 4.5, 100.
		var rep struct {
			ResponseRate surveys.ResponseRateResult `json:"response_rate"`
			NPS          surveys.NPSResult          `json:"nps"`
			Dimensions   []struct {
				Dimension string               `json:"dimension"`
				Rating    surveys.RatingResult `json:"rating"`
			} `json:"dimensions"`
			Comments []struct {
				Text string `json:"text"`
				Name string `json:"name"`
			} `json:"comments"`
		}
		require.Equal(t, http.StatusOK, b.call(t, "GET", "/api/v1/surveys/"+u(feedbackID)+"/report", "", nil, &rep))
		require.Equal(t, 4, rep.ResponseRate.Eligible)
		require.Equal(t, 2, rep.ResponseRate.Complete)
		require.Equal(t, 1, rep.ResponseRate.Partial)
		require.InDelta(t, 50.0, *rep.ResponseRate.Rate, 1e-9)
		require.Equal(t, 3, rep.NPS.N)
		require.InDelta(t, 100.0/3, *rep.NPS.Score, 1e-9)
		require.InDelta(t, 106.7, *rep.NPS.MOE, 0.05)
		want := map[string][2]float64{"teacher": {4.5, 100}, "course": {3.5, 50}, "organisation": {4.5, 100}}
		require.Len(t, rep.Dimensions, 3)
		for _, d := range rep.Dimensions {
			require.Equal(t, 2, d.Rating.N, d.Dimension)
			require.InDelta(t, want[d.Dimension][0], *d.Rating.Mean, 1e-9, d.Dimension)
			require.InDelta(t, want[d.Dimension][1], *d.Rating.Top2Box, 1e-9, d.Dimension)
		}
		texts := map[string]string{}
		for _, c := range rep.Comments {
			texts[c.Text] = c.Name
		}
		require.Equal(t, map[string]string{"多一些案例": "王芳", "节奏太快": "李娜"}, texts)

		// The form is editable until the survey closes, then says so.
		resp, err := http.Get(form3)
		require.NoError(t, err)
		page := readAll(t, resp)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, page, `value="6" checked`)
		b.clk.Set(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC))
		resp, err = http.Get(form3)
		require.NoError(t, err)
		require.Contains(t, readAll(t, resp), "问卷已关闭")
		require.Equal(t, http.StatusGone, resp.StatusCode)

		// CSV and XLSX exports of the same report.
		for _, f := range []string{"csv", "xlsx"} {
			resp, err := b.rawGet("/api/v1/surveys/" + u(feedbackID) + "/report?format=" + f)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			resp.Body.Close()
		}
	})
}

func (b *bundle) rawGet(path string) (*http.Response, error) {
	req, err := http.NewRequest("GET", b.srv.URL+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return http.DefaultClient.Do(req)
}

func TestManagerFollowupEndToEnd(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		sid, tps := surveyFixture(t, b)
		b.clk.Set(time.Date(2026, 3, 2, 2, 5, 0, 0, time.UTC))
		for _, id := range []string{"E001", "E002", "E003", "E004"} {
			require.Equal(t, http.StatusCreated, b.call(t, "POST", "/api/v1/sessions/"+u(sid)+"/checkins", "", map[string]any{"external_id": id}, nil))
		}
		// Nothing for managers at the end of the class.
		b.clk.Set(time.Date(2026, 3, 2, 4, 0, 1, 0, time.UTC))
		b.runDue(t)
		require.False(t, hasCard(b, "M001", surveys.KindManagerFollowup))

		// Thirty days later (the follow-up survives as a job in the
		// database): one questionnaire per direct report to the right manager.
		b.clk.Set(time.Date(2026, 4, 1, 4, 0, 1, 0, time.UTC))
		b.runDue(t)
		fu := tps[surveys.KindManagerFollowup][0]
		var ds []store.Delivery
		require.NoError(t, db.Where("touchpoint_id = ?", fu).Order("subject_id").Find(&ds).Error)
		require.Len(t, ds, 3, "E001 and E002 to M001, E003 to M002; E004 has no manager")
		cards := b.a.Sim().Inbox("M001")
		require.Len(t, cards, 2)
		require.Len(t, b.a.Sim().Inbox("M002"), 1)
		require.Contains(t, b.a.Sim().Inbox("M002")[0].Message.Title, "李娜")

		// M001 answers for both reports.
		forms := map[string]string{}
		for _, c := range cards {
			for _, name := range []string{"张伟", "王芳"} {
				if strings.Contains(c.Message.Title, name) {
					forms[name] = formURL(t, b, c)
				}
			}
		}
		require.Len(t, forms, 2)
		resp, err := http.Get(forms["张伟"])
		require.NoError(t, err)
		page := readAll(t, resp)
		require.Contains(t, page, "关于：张伟")
		require.Contains(t, page, "用提问代替直接给答案")
		code, body := postForm(t, forms["张伟"], url.Values{"action": {"submit"}, "q_b1_before": {"2"}, "q_b1_now": {"4"}, "q_b2_before": {"3"}, "q_b2_now": {"3"}, "q_overall_change": {"2"}, "q_barriers": {"项目太忙"}})
		require.Equal(t, http.StatusSeeOther, code, body)
		code, body = postForm(t, forms["王芳"], url.Values{"action": {"submit"}, "q_b1_before": {"3"}, "q_b1_now": {"5"}, "q_b2_before": {"2"}, "q_b2_now": {"4"}, "q_overall_change": {"3"}})
		require.Equal(t, http.StatusSeeOther, code, body)
		// Answering again edits the same response: one per (survey, manager, subject).
		code, _ = postForm(t, forms["王芳"], url.Values{"action": {"submit"}, "q_b1_before": {"3"}, "q_b1_now": {"5"}, "q_b2_before": {"2"}, "q_b2_now": {"4"}, "q_overall_change": {"3"}})
		require.Equal(t, http.StatusSeeOther, code)
		require.EqualValues(t, 2, count(t, db, &store.SurveyResponse{}))

		// Reminders go to M002 only; after the last one the coordinator is
		// told who has not answered.
		b.clk.Set(time.Date(2026, 4, 4, 4, 0, 1, 0, time.UTC))
		b.runDue(t)
		require.Equal(t, []string{"M002"}, deliveredTo(t, b, tps[surveys.KindManagerReminder][0]))
		b.clk.Set(time.Date(2026, 4, 10, 4, 0, 1, 0, time.UTC))
		b.runDue(t)
		esc := cardWith(t, b, "C001", surveys.KindEscalation)
		require.Contains(t, esc.Message.Body, "吴经理")
		require.Contains(t, esc.Message.Body, "李娜")
		require.NotContains(t, esc.Message.Body, "周经理")

		// Behaviour-change report, by hand: behaviour 1 pairs (2,4), (3,5):
		// before 2.5, now 4.5, delta 2.0, improved 100%; behaviour 2 pairs
		// (3,3), (2,4): before 2.5, now 3.5, delta 1.0, improved 50%;
		// overall change 2, 3 → mean 2.5. Eligible 3, complete 2 → 66.7%.
		var sv store.Survey
		require.NoError(t, db.Where("kind = ?", store.SurveyManagerFollowup).First(&sv).Error)
		var rep struct {
			ResponseRate surveys.ResponseRateResult `json:"response_rate"`
			Behaviours   []struct {
				Index  int                  `json:"index"`
				Change surveys.ChangeResult `json:"change"`
			} `json:"behaviours"`
			Overall surveys.ScaleResult `json:"overall_change"`
		}
		require.Equal(t, http.StatusOK, b.call(t, "GET", "/api/v1/surveys/"+u(sv.ID)+"/report", "", nil, &rep))
		require.Equal(t, 3, rep.ResponseRate.Eligible)
		require.Equal(t, 2, rep.ResponseRate.Complete)
		require.Len(t, rep.Behaviours, 2)
		b1, b2 := rep.Behaviours[0].Change, rep.Behaviours[1].Change
		require.Equal(t, 2, b1.N)
		require.InDelta(t, 2.5, *b1.MeanBefore, 1e-9)
		require.InDelta(t, 4.5, *b1.MeanNow, 1e-9)
		require.InDelta(t, 2.0, *b1.MeanDelta, 1e-9)
		require.InDelta(t, 100, *b1.ShareImproved, 1e-9)
		require.InDelta(t, 3.5, *b2.MeanNow, 1e-9)
		require.InDelta(t, 50, *b2.ShareImproved, 1e-9)
		require.InDelta(t, 2.5, *rep.Overall.Mean, 1e-9)
	})
}

func TestAnonymousNPSInCard(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		s := apptest.NewSession(t, b.srv.URL, apptest.SessionSpec{
			Course:  map[string]any{"code": "ANON-1", "title": "合规培训"},
			Session: map[string]any{"starts_at": "2026-03-02T10:00:00+08:00", "ends_at": "2026-03-02T12:00:00+08:00", "plan": "none"},
			Roster:  "external_id,name,department,platform\nA1,甲子,销售,simulator\nA2,乙丑,销售,simulator\nA3,丙寅,销售,simulator\nA4,丁卯,销售,simulator\nA5,戊辰,销售,simulator\nA6,己巳,法务,simulator\n",
		})
		sid := u(s.ID)
		b.clk.Set(time.Date(2026, 3, 2, 2, 5, 0, 0, time.UTC))
		for _, id := range []string{"A1", "A2", "A3", "A4", "A5", "A6"} {
			require.Equal(t, http.StatusCreated, b.call(t, "POST", "/api/v1/sessions/"+sid+"/checkins", "", map[string]any{"external_id": id}, nil))
		}
		var created struct {
			Survey struct {
				ID uint64 `json:"id"`
			} `json:"survey"`
		}
		var e apiErr
		require.Equal(t, http.StatusUnprocessableEntity, b.call(t, "POST", "/api/v1/sessions/"+sid+"/surveys", "", map[string]any{"template": "no-such"}, &e))
		require.Equal(t, http.StatusCreated, b.call(t, "POST", "/api/v1/sessions/"+sid+"/surveys", "", map[string]any{"template": "nps", "anonymous": true, "send_at": "2026-03-02T11:50:00+08:00"}, &created))
		b.clk.Set(time.Date(2026, 3, 2, 3, 50, 1, 0, time.UTC))
		b.runDue(t)

		// Scores: 10, 9, 8, 3 from 销售 (A1–A4), A5 taps 5, A6 (法务, alone)
		// taps 0. A5 then taps 9 on the card as first shown (a second device):
		// an anonymous answer is reopened only with the key its respondent
		// holds (the updated card's form link), so that tap changes nothing.
		// NPS: promoters 2 (10, 9), passives 1 (8), detractors 3 (3, 5, 0),
		// n 6 → 100×(2−3)/6 = −16.7.
		a5nine := apptest.Button(t, bot.ActionNPS, "9", cardWith(t, b, "A5", surveys.KindNPS))
		for id, score := range map[string]string{"A1": "10", "A2": "9", "A3": "8", "A4": "3", "A5": "5", "A6": "0"} {
			tr := apptest.Tap(t, b.srv.URL, id, apptest.Button(t, bot.ActionNPS, score, cardWith(t, b, id, surveys.KindNPS)))
			require.True(t, tr.OK, id)
		}
		require.Contains(t, cardWith(t, b, "A5", surveys.KindNPS).Message.Status, "5")
		tr := apptest.Tap(t, b.srv.URL, "A5", a5nine)
		require.False(t, tr.OK, "an old card cannot reopen an anonymous answer")
		require.EqualValues(t, 6, count(t, db, &store.SurveyResponse{}), "one response per person, however often they tap")

		var rs []store.SurveyResponse
		require.NoError(t, db.Find(&rs).Error)
		for _, r := range rs {
			require.Nil(t, r.RespondentID, "an anonymous response is not linked to a person")
			require.Nil(t, r.DeliveryID)
			require.NotContains(t, r.RespondentKey, "e:")
		}

		resp, err := b.rawGet("/api/v1/surveys/" + u(created.Survey.ID) + "/report")
		require.NoError(t, err)
		body := readAll(t, resp)
		for _, who := range []string{"A1", "A6", "甲子", "己巳", "法务"} {
			require.NotContains(t, body, who, "the report never says who answered")
		}
		var rep struct {
			NPS         surveys.NPSResult `json:"nps"`
			Departments []struct {
				Department string   `json:"department"`
				Suppressed bool     `json:"suppressed"`
				Responses  *int     `json:"responses"`
				NPS        *float64 `json:"nps"`
			} `json:"departments"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &rep))
		require.Equal(t, 6, rep.NPS.N)
		require.InDelta(t, -100.0/6, *rep.NPS.Score, 1e-9)
		require.Len(t, rep.Departments, 2)
		for _, d := range rep.Departments {
			switch d.Department {
			case "法务":
				require.True(t, d.Suppressed, "a group of one is suppressed")
				require.Nil(t, d.Responses)
				require.Nil(t, d.NPS)
			case "销售":
				require.False(t, d.Suppressed)
				require.Equal(t, 5, *d.Responses)
				// 10, 9, 8, 3, 5 → promoters 2, detractors 2 → 0.
				require.InDelta(t, 0, *d.NPS, 1e-9)
			}
		}
	})
}

func TestRatingAnsweredInTheCard(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		sid, _ := surveyFixture(t, b)
		b.clk.Set(time.Date(2026, 3, 2, 2, 5, 0, 0, time.UTC))
		require.Equal(t, http.StatusCreated, b.call(t, "POST", "/api/v1/sessions/"+u(sid)+"/checkins", "", map[string]any{"external_id": "E004"}, nil))
		def := map[string]any{"key": "quick_rating", "version": 1, "kind": "custom", "title": map[string]string{"zh-CN": "快速评分", "en": "Quick rating"},
			"questions": []map[string]any{{"key": "overall", "type": "rating", "required": true, "text": map[string]string{"zh-CN": "今天的课怎么样？", "en": "How was today?"}}}}
		var created struct {
			Survey struct {
				ID uint64 `json:"id"`
			} `json:"survey"`
		}
		require.Equal(t, http.StatusCreated, b.call(t, "POST", "/api/v1/sessions/"+u(sid)+"/surveys", "", map[string]any{"definition": def, "send_at": "2026-03-02T11:00:00+08:00"}, &created))
		b.clk.Set(time.Date(2026, 3, 2, 3, 0, 1, 0, time.UTC))
		b.runDue(t)
		card := cardWith(t, b, "E004", surveys.KindNPS)
		four := apptest.Button(t, bot.ActionRate, "4", card)
		require.NotEmpty(t, four.Token)
		tr := apptest.Tap(t, b.srv.URL, "E004", four)
		require.True(t, tr.OK)
		require.Equal(t, "感谢评分 ★★★★☆", cardWith(t, b, "E004", surveys.KindNPS).Message.Status)
		var rep struct {
			ResponseRate surveys.ResponseRateResult `json:"response_rate"`
			Dimensions   []struct {
				Rating surveys.RatingResult `json:"rating"`
			} `json:"dimensions"`
		}
		require.Equal(t, http.StatusOK, b.call(t, "GET", "/api/v1/surveys/"+u(created.Survey.ID)+"/report", "", nil, &rep))
		require.Equal(t, 1, rep.ResponseRate.Complete)
		require.InDelta(t, 4, *rep.Dimensions[0].Rating.Mean, 1e-9)
	})
}
