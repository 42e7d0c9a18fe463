package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/digests"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestCoordinatorSubscribesToDigest: a coordinator subscribes (the first
// time giving its 工号), previews the card with its own course only, sends
// it once to the simulator and unsubscribes; bad input stores nothing;
// another coordinator neither sees nor sends it.
func TestCoordinatorSubscribesToDigest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newWorld(t, db)
		li, wng := w.li, w.wng
		r := li.get("/console/digests")
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, "还没有订阅")

		r = li.post("/console/digests", url.Values{"frequency": {"weekly"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		require.Contains(t, r.Body, "账号尚未关联员工")
		r = li.post("/console/digests", url.Values{"frequency": {"cron"}, "cron": {"every monday"}, "employee": {"S01"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		require.Contains(t, r.Body, "请填写有效的 cron 表达式")
		var n int64
		require.NoError(t, db.Model(&store.DigestSubscription{}).Count(&n).Error)
		require.Zero(t, n, "bad input stores nothing")

		r = li.post("/console/digests", url.Values{"frequency": {"weekly"}, "employee": {"S01"}, "time_zone": {"Asia/Shanghai"}})
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		var sub store.DigestSubscription
		require.NoError(t, db.First(&sub).Error)
		require.Equal(t, digests.WeeklyCron, sub.CronSpec)
		id := itoa(sub.ID)
		r = li.post("/console/digests", url.Values{"frequency": {"weekly"}, "time_zone": {"Asia/Shanghai"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code, "the same digest twice would send each card twice")
		require.Contains(t, r.Body, "已订阅过同样的摘要")
		require.NoError(t, db.Model(&store.DigestSubscription{}).Count(&n).Error)
		require.EqualValues(t, 1, n)
		r = li.get("/console/digests")
		require.Contains(t, r.Body, `data-digest="`+id+`"`)
		require.Contains(t, r.Body, "每周一 09:00")
		require.NotContains(t, wng.get("/console/digests").Body, `data-digest="`+id+`"`, "another coordinator does not see it")
		require.Equal(t, http.StatusNotFound, wng.post("/console/digests/"+id+"/send-test", nil).Code)

		// A week after the class: the preview counts li's class, not wang's.
		w.e.clk.Set(time.Date(2026, 3, 9, 2, 0, 0, 0, time.UTC))
		li.login("li") // the login session has expired meanwhile
		r = li.get("/console/digests?preview=" + id)
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, "统计周期：2026-03-02 至 2026-03-08")
		require.Regexp(t, regexp.MustCompile(`<dt>开课场次</dt><dd>1 场</dd>`), r.Body)
		require.Contains(t, r.Body, "<dt>签到率</dt><dd>0.0%（n = 9）</dd>", "nobody checked in: 0 of 9")

		r = li.post("/console/digests/"+id+"/send-test", nil)
		require.Equal(t, http.StatusSeeOther, r.Code)
		w.e.runDue(t)
		found := false
		for _, c := range w.e.a.Sim().Inbox("S01") {
			found = found || (c.Message.Kind == digests.Kind && c.Message.Title == "学习周报（试发）")
		}
		require.True(t, found, "the test card reached S01")
		r = li.get("/console/digests")
		require.Contains(t, r.Body, `data-status="sent"`)

		r = li.post("/console/digests/"+id+"/delete", url.Values{"confirmed": {"1"}})
		require.Equal(t, http.StatusSeeOther, r.Code)
		require.NoError(t, db.Model(&store.DigestSubscription{}).Count(&n).Error)
		require.Zero(t, n)
	})
}
