package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestExcuseRequestsOnTheRoster: requests sent in chat (请假) are listed on
// the roster page in the session's zone; approving one excuses the person
// and tells them in chat, rejecting tells them too; a second decision and
// a forged request id change nothing.
func TestExcuseRequestsOnTheRoster(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := newEnv(t, db)
		c := e.signedIn(t, "zhang", store.RoleCoordinator, "")
		_, sess := planClass(t, c, "COMM-201")
		ctx := context.Background()
		for i, who := range []string{"E001", "E002"} {
			r, err := e.a.Chat().HandleText(ctx, bot.InboundText{Platform: bot.PlatformSimulator, UserID: who, MessageID: "m" + who, Text: []string{"请假 出差", "请假"}[i]})
			require.NoError(t, err)
			require.Contains(t, r.Text, "提交给课程协调人")
		}

		r := c.get(sess + "/roster")
		require.Equal(t, http.StatusOK, r.Code)
		sec := between(r.Body, `id="excuse-requests"`, `</section>`)
		require.Contains(t, sec, "张伟")
		require.Contains(t, sec, "出差")
		require.Contains(t, sec, "2026-03-02 09:00", "asked at 09:00 Shanghai (01:00 UTC)")
		require.Contains(t, sec, "待审批")
		ids := regexp.MustCompile(`data-approve="(\d+)"`).FindAllStringSubmatch(sec, -1)
		require.Len(t, ids, 2)

		before := snapshot(t, db)
		r = c.post(sess+"/excuse-requests/999999/approve", nil)
		require.Equal(t, http.StatusNotFound, r.Code)
		r = c.post(sess+"/excuse-requests/"+ids[0][1]+"/maybe", nil)
		require.Equal(t, http.StatusNotFound, r.Code)
		r = c.post(sess+"/excuse-requests/"+ids[0][1]+"/approve", url.Values{"csrf": {"forged"}})
		require.Equal(t, http.StatusForbidden, r.Code)
		require.Equal(t, before, snapshot(t, db), "refusals change nothing")

		r = c.post(sess+"/excuse-requests/"+ids[0][1]+"/approve", nil)
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		require.Contains(t, r.Location, "ok=excuse_request_approved")
		r = c.post(sess+"/excuse-requests/"+ids[1][1]+"/reject", nil)
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		r = c.post(sess+"/excuse-requests/"+ids[1][1]+"/approve", nil)
		require.Contains(t, r.Location, "ok=excuse_request_decided")

		r = c.get(sess + "/roster")
		sec = between(r.Body, `id="excuse-requests"`, `</section>`)
		require.Contains(t, sec, "已批准")
		require.Contains(t, sec, "已拒绝")
		require.NotContains(t, sec, "data-approve=", "nothing left to decide")
		var enr store.Enrollment
		require.NoError(t, db.Joins("JOIN employees ON employees.id = enrollments.employee_id").Where("employees.external_id = ?", "E001").First(&enr).Error)
		require.Equal(t, store.EnrollExcused, enr.Status)

		e.runDue(t)
		for who, want := range map[string]string{"E001": "请假已批准", "E002": "请假未获批准"} {
			found := false
			for _, card := range e.a.Sim().Inbox(who) {
				found = found || strings.Contains(card.Message.Title, want)
			}
			require.True(t, found, "%s is told %q", who, want)
		}
	})
}
