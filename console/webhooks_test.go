package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestAdminManagesWebhooks: an admin adds an endpoint (the secret shown
// once), a bad URL is refused with nothing stored, the endpoint is
// disabled, its log read, and it is deleted after confirming; a
// coordinator gets no page.
func TestAdminManagesWebhooks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newWorld(t, db)
		admin := w.admin

		r := admin.get("/console/webhooks")
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, "还没有接收地址")

		r = admin.post("/console/webhooks", url.Values{"url": {"http://10.0.0.5/hook"}, "events": {store.EventCheckin}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		require.Contains(t, r.Body, "不能指向本机、内网或链路本地地址")
		r = admin.post("/console/webhooks", url.Values{"url": {"https://lms.example.com/hook"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		require.Contains(t, r.Body, "请至少选择一种事件")
		var n int64
		require.NoError(t, db.Model(&store.WebhookEndpoint{}).Count(&n).Error)
		require.Zero(t, n, "bad input stores nothing")

		r = admin.post("/console/webhooks", url.Values{"url": {"https://lms.example.com/hook"}, "events": {store.EventCheckin, store.EventResponse}, "description": {"LMS"}})
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		secret := regexp.MustCompile(`<code class="secret">(whsec_[0-9a-f]+)</code>`).FindStringSubmatch(r.Body)
		require.Len(t, secret, 2)
		require.Contains(t, r.Body, "签到, 问卷提交")
		var ep store.WebhookEndpoint
		require.NoError(t, db.First(&ep).Error)
		require.NotContains(t, ep.Secret, secret[1], "stored sealed")

		r = admin.get("/console/webhooks")
		require.NotContains(t, r.Body, secret[1], "the secret is shown once")
		require.Contains(t, r.Body, "https://lms.example.com/hook")

		id := itoa(ep.ID)
		r = admin.post("/console/webhooks/"+id+"/enabled", url.Values{"enabled": {"0"}})
		require.Equal(t, http.StatusSeeOther, r.Code)
		require.NoError(t, db.First(&ep, ep.ID).Error)
		require.False(t, ep.Enabled)

		r = admin.get("/console/webhooks?log=" + id)
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, "还没有投递")

		li := w.li
		require.Equal(t, http.StatusForbidden, li.get("/console/webhooks").Code)
		require.Equal(t, http.StatusForbidden, li.post("/console/webhooks/"+id+"/delete", url.Values{"confirmed": {"1"}}).Code)

		r = admin.post("/console/webhooks/"+id+"/delete", url.Values{})
		require.Equal(t, http.StatusOK, r.Code, "asks first")
		require.NoError(t, db.Model(&store.WebhookEndpoint{}).Count(&n).Error)
		require.EqualValues(t, 1, n)
		r = admin.post("/console/webhooks/"+id+"/delete", url.Values{"confirmed": {"1"}})
		require.Equal(t, http.StatusSeeOther, r.Code)
		require.NoError(t, db.Model(&store.WebhookEndpoint{}).Count(&n).Error)
		require.Zero(t, n)
		var audits int64
		require.NoError(t, db.Model(&store.AuditLog{}).Where("action LIKE ?", "webhook.%").Count(&audits).Error)
		require.EqualValues(t, 3, audits, "create, update, delete")
	})
}
