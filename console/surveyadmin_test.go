package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/surveys"
)

// surveySnap fingerprints the surveys: with snapshot, an action that must
// change nothing leaves both equal.
func surveySnap(t *testing.T, db *storetest.DB) string {
	t.Helper()
	var svs []store.Survey
	require.NoError(t, db.Order("id").Find(&svs).Error)
	var b strings.Builder
	for _, sv := range svs {
		fmt.Fprintf(&b, "%d:%s|%s|%v|%s|%s;", sv.ID, sv.Kind, sv.Status, sv.Anonymous, sv.OpensAt.UTC(), sv.ClosesAt.UTC())
	}
	return b.String()
}

func TestCoordinatorAddsAndClosesSurveys(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newWorld(t, db)
		li := w.li
		sid := sessID(w.sessA)

		r := li.get(w.sessA + "/results")
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		require.Contains(t, r.Body, `id="survey-add"`)
		require.Contains(t, r.Body, `<option value="nps"`)
		require.Contains(t, r.Body, `<option value="post_course_feedback"`)
		require.NotContains(t, r.Body, `<option value="manager_followup"`)
		require.Contains(t, r.Body, `value="2026-03-02T12:00"`, "send time defaults to the end")
		require.Contains(t, r.Body, `value="2026-03-09T12:00"`, "close time defaults to a week after the end")

		// Add an anonymous NPS survey for everyone, 13:00 to 4 March 18:00 Shanghai.
		r = li.post(w.sessA+"/surveys", url.Values{"template": {"nps"}, "anonymous": {"1"}, "audience": {"all"},
			"send_at": {"2026-03-02T13:00"}, "closes_at": {"2026-03-04T18:00"}})
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		require.Contains(t, r.Location, "ok=survey_created")
		var sv store.Survey
		require.NoError(t, db.Where("session_id = ? AND kind = ?", sid, store.SurveyNPS).Order("id DESC").First(&sv).Error)
		send := time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC)
		require.True(t, sv.Anonymous)
		require.Equal(t, store.SurveyOpen, sv.Status)
		require.True(t, send.Equal(sv.OpensAt), sv.OpensAt)
		require.True(t, time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC).Equal(sv.ClosesAt), sv.ClosesAt)
		var tps []store.Touchpoint
		require.NoError(t, db.Where("survey_id = ?", sv.ID).Find(&tps).Error)
		require.Len(t, tps, 1)
		tp := tps[0]
		require.Equal(t, surveys.KindNPS, tp.Kind)
		require.Equal(t, store.AnchorAbsolute, tp.Anchor)
		require.Equal(t, store.AudienceAll, tp.Audience)
		require.Equal(t, store.TouchpointScheduled, tp.Status)
		require.NotNil(t, tp.At)
		require.True(t, send.Equal(*tp.At), *tp.At)
		require.True(t, send.Equal(tp.RunAt), tp.RunAt)
		var logs []store.AuditLog
		require.NoError(t, db.Where("action = ? AND object = ?", "survey.create", fmt.Sprintf("survey:%d", sv.ID)).Find(&logs).Error)
		require.Len(t, logs, 1)
		require.Equal(t, "li", logs[0].Actor)
		require.Contains(t, logs[0].Detail, `"template":"nps"`)

		// The list shows it with a close button.
		closeNPS := fmt.Sprintf("/console/surveys/%d/close", sv.ID)
		r = li.get(w.sessA + "/results")
		require.Contains(t, r.Body, `id="table-session_surveys"`)
		require.Contains(t, r.Body, `action="`+closeNPS+`"`)

		// Closing asks first, then closes and cancels what was not sent.
		r = li.post(closeNPS, nil)
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, "confirm-submit")
		require.NoError(t, db.First(&sv, sv.ID).Error)
		require.Equal(t, store.SurveyOpen, sv.Status, "not confirmed: nothing changed")
		r = li.post(closeNPS, url.Values{"confirmed": {"1"}})
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		require.Contains(t, r.Location, "ok=survey_closed")
		require.NoError(t, db.First(&sv, sv.ID).Error)
		require.Equal(t, store.SurveyClosed, sv.Status)
		var scheduled int64
		require.NoError(t, db.Model(&store.Touchpoint{}).Where("survey_id = ? AND status = ?", sv.ID, store.TouchpointScheduled).Count(&scheduled).Error)
		require.Zero(t, scheduled)

		// The default feedback survey: its pending send and reminders are
		// cancelled when it is closed.
		var fb store.Survey
		require.NoError(t, db.Where("session_id = ? AND kind = ?", sid, store.SurveyFeedback).First(&fb).Error)
		var reminders int64
		require.NoError(t, db.Model(&store.Touchpoint{}).Where("survey_id = ? AND kind = ? AND status = ?", fb.ID, surveys.KindFeedbackReminder, store.TouchpointScheduled).Count(&reminders).Error)
		require.Positive(t, reminders, "the default plan schedules feedback reminders")
		r = li.post(fmt.Sprintf("/console/surveys/%d/close", fb.ID), url.Values{"confirmed": {"1"}})
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		require.NoError(t, db.Model(&store.Touchpoint{}).Where("survey_id = ? AND status = ?", fb.ID, store.TouchpointScheduled).Count(&scheduled).Error)
		require.Zero(t, scheduled, "pending reminders are cancelled")
		var closes int64
		require.NoError(t, db.Model(&store.AuditLog{}).Where("actor = ? AND action = ?", "li", "survey.close").Count(&closes).Error)
		require.EqualValues(t, 2, closes)

		// Closing again explains itself on the Results page.
		r = li.post(closeNPS, url.Values{"confirmed": {"1"}})
		require.Equal(t, http.StatusConflict, r.Code)
		require.Contains(t, r.Body, "这份问卷已经关闭。")
		require.Contains(t, r.Body, `id="checkin-rate"`)
	})
}

func TestSurveyFormRejectsBadInputAndOtherCoordinators(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newWorld(t, db)
		w.e.account(t, "zhao", store.RoleDepartmentHead, "销售")
		head := w.e.client(t)
		head.login("zhao")
		var fb store.Survey
		require.NoError(t, db.Where("session_id = ? AND kind = ?", sessID(w.sessA), store.SurveyFeedback).First(&fb).Error)
		before, beforeSv := snapshot(t, db), surveySnap(t, db)

		// Closes before it is sent: inline error, the form keeps the input.
		r := w.li.post(w.sessA+"/surveys", url.Values{"template": {"nps"}, "send_at": {"2026-03-03T13:00"}, "closes_at": {"2026-03-03T09:00"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		require.Contains(t, r.Body, "截止时间必须晚于发送时间。")
		require.Contains(t, r.Body, `value="2026-03-03T13:00"`)
		require.Contains(t, r.Body, `id="checkin-rate"`, "the results page, not an error page")
		for _, tpl := range []string{"bogus", "manager_followup", ""} {
			r = w.li.post(w.sessA+"/surveys", url.Values{"template": {tpl}})
			require.Equal(t, http.StatusUnprocessableEntity, r.Code, tpl)
			require.Contains(t, r.Body, "请选择一个内置问卷模板", tpl)
		}
		r = w.li.post(w.sessA+"/surveys", url.Values{"template": {"nps"}, "audience": {"managers"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		r = w.li.post(w.sessA+"/surveys", url.Values{"template": {"nps"}, "send_at": {"tomorrow"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		require.Contains(t, r.Body, "YYYY-MM-DDTHH:MM")

		// Another coordinator gets 404; a department head may only read.
		r = w.wng.post(w.sessA+"/surveys", url.Values{"template": {"nps"}})
		require.Equal(t, http.StatusNotFound, r.Code)
		r = w.wng.post(fmt.Sprintf("/console/surveys/%d/close", fb.ID), url.Values{"confirmed": {"1"}})
		require.Equal(t, http.StatusNotFound, r.Code)
		r = head.post(w.sessA+"/surveys", url.Values{"template": {"nps"}})
		require.Equal(t, http.StatusForbidden, r.Code)
		r = head.post(fmt.Sprintf("/console/surveys/%d/close", fb.ID), url.Values{"confirmed": {"1"}})
		require.Equal(t, http.StatusForbidden, r.Code)
		r = head.get(w.sessA + "/results")
		require.Equal(t, http.StatusOK, r.Code)
		require.NotContains(t, r.Body, `id="survey-add"`)
		require.NotContains(t, r.Body, "/close")

		require.Equal(t, before, snapshot(t, db), "nothing changed")
		require.Equal(t, beforeSv, surveySnap(t, db), "no survey changed")
	})
}
