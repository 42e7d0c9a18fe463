package presence_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/presence"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/text"
)

// User-Agents of the three apps' webviews.
const (
	uaWeCom    = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh"
	uaFeishu   = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36 Lark/7.10.0 LarkLocale/zh_CN"
	uaDingTalk = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 AliApp(DingTalk/7.5.0) DingTalk(7.5.0) language/zh-Hans-CN"
	uaBrowser  = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130 Safari/537.36"
)

type env struct {
	a       *app.App
	srv     *httptest.Server
	clk     *apptest.Clock
	wecom   *fakeOAuth
	feishu  *fakeOAuth
	ding    *fakeOAuth
	session store.Session
}

// setup runs learnloop with WeCom, Feishu and DingTalk pointed at fakes and
// a 09:10–12:00 class (Shanghai) whose roster holds one person per app.
func setup(t *testing.T, db *storetest.DB) *env {
	t.Helper()
	e := &env{clk: apptest.NewClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))}
	// The platforms' fakes send the sign-in back to the app's own URL.
	fakes := func(cfg *config.Config, _ *app.Options) {
		redirect := cfg.HTTP.PublicURL + "/q/auth/"
		e.wecom = newFakeWeCom(t, e.clk.Now, redirect, "ww-test-corp", "wecom-app-secret")
		e.feishu = newFakeFeishu(t, e.clk.Now, redirect, "cli_presence", "feishu-app-secret")
		e.ding = newFakeDingTalk(t, e.clk.Now, redirect, "ding-app-key", "ding-app-secret")
		w := &cfg.Platforms.WeCom
		w.Enabled, w.CorpID, w.AgentID, w.Secret, w.APIBase = true, "ww-test-corp", 1000002, "wecom-app-secret", e.wecom.srv.URL
		w.Token, w.EncodingAESKey = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
		f := &cfg.Platforms.Feishu
		f.Enabled, f.AppID, f.AppSecret, f.VerificationToken, f.APIBase, f.ReceiveIDType = true, "cli_presence", "feishu-app-secret", "feishu-vtoken", e.feishu.srv.URL, "user_id"
		d := &cfg.Platforms.DingTalk
		d.Enabled, d.AppKey, d.AppSecret, d.AgentID, d.APIBase, d.OAPIBase = true, "ding-app-key", "ding-app-secret", 3001, e.ding.srv.URL, e.ding.srv.URL
	}
	e.a, e.srv = apptest.Start(t, db.DB, e.clk, "presence-e2e-link-secret-0123456789", apptest.NoFeedback, fakes)

	s := apptest.NewSession(t, e.srv.URL, apptest.SessionSpec{
		Course:  map[string]any{"code": "ALL-1", "title": "全员大会"},
		Session: map[string]any{"starts_at": "2026-03-02T09:10:00+08:00", "ends_at": "2026-03-02T12:00:00+08:00", "location": "3F 大厅"},
		Roster: "external_id,name,platform,wecom_id,feishu_id,dingtalk_id\n" +
			"E001,张三,wecom,zhangsan,,\nE002,李四,feishu,,lisi,\nE003,王五,dingtalk,,,wangwu\nE004,赵六,wecom,zhaoliu,,\nE005,钱七,wecom,qianqi,,\n",
	})
	require.NoError(t, db.Take(&e.session, s.ID).Error)
	return e
}

// phone is one person's chat app: its webview's cookies and User-Agent, the
// app's own session with the platform (X-Fake-User), and the platforms'
// hosts routed to the fakes.
type phone struct {
	c    *http.Client
	ua   string
	user string
}

type phoneTransport struct {
	p      *phone
	routes map[string]string
}

func (t phoneTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if base, ok := t.routes[r.URL.Host]; ok {
		u, _ := url.Parse(base)
		r.URL.Scheme, r.URL.Host, r.Host = u.Scheme, u.Host, ""
	}
	r.Header.Set("User-Agent", t.p.ua)
	if t.p.user != "" {
		r.Header.Set("X-Fake-User", t.p.user)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (e *env) phone(ua, user string, follow bool) *phone {
	jar, _ := cookiejar.New(nil)
	p := &phone{ua: ua, user: user}
	p.c = &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: phoneTransport{p: p, routes: map[string]string{
		"open.weixin.qq.com": e.wecom.srv.URL, "login.dingtalk.com": e.ding.srv.URL,
	}}}
	if !follow {
		p.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return p
}

func (p *phone) get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := p.c.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (p *phone) post(t *testing.T, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := p.c.PostForm(u, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (e *env) display(t *testing.T) presence.Display {
	t.Helper()
	d, err := e.a.Presence().Display(context.Background(), e.session)
	require.NoError(t, err)
	return d
}

func (e *env) checkin(t *testing.T, externalID string) (store.Checkin, bool) {
	t.Helper()
	var ci store.Checkin
	err := e.a.DB().Joins("JOIN employees ON employees.id = checkins.employee_id").
		Where("checkins.session_id = ? AND employees.external_id = ?", e.session.ID, externalID).Limit(1).Find(&ci).Error
	require.NoError(t, err)
	return ci, ci.ID != 0
}

func (e *env) count(t *testing.T, model any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, e.a.DB().Model(model).Count(&n).Error)
	return n
}

func (e *env) putRules(t *testing.T, rules map[string]any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(rules)
	req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/api/v1/sessions/%d/presence", e.srv.URL, e.session.ID), bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+apptest.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestScanInEachAppChecksInThroughItsIdentity(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := setup(t, db)
		d := e.display(t)
		require.True(t, strings.HasPrefix(d.URL, e.srv.URL+"/q/"))
		for _, tc := range []struct {
			name, ua, user, external string
			platform                 bot.Platform
			fake                     *fakeOAuth
		}{
			{"wecom", uaWeCom, "zhangsan", "E001", bot.PlatformWeCom, e.wecom},
			{"feishu", uaFeishu, "lisi", "E002", bot.PlatformFeishu, e.feishu},
			{"dingtalk", uaDingTalk, "wangwu", "E003", bot.PlatformDingTalk, e.ding},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := e.phone(tc.ua, tc.user, true)
				resp, body := p.get(t, e.display(t).URL)
				require.Equal(t, http.StatusOK, resp.StatusCode, body)
				require.Equal(t, "/q/done", resp.Request.URL.Path)
				require.Contains(t, body, "签到成功")
				require.Contains(t, body, "扫码签到")
				ci, ok := e.checkin(t, tc.external)
				require.True(t, ok)
				require.Equal(t, store.SourceQR, ci.Source)
				require.Equal(t, string(tc.platform), ci.Platform)
				require.Equal(t, store.CheckinOnTime, ci.Kind)
				require.Equal(t, e.clk.Now().UTC(), ci.CheckedInAt.UTC().Truncate(time.Second))
				var sc store.PresenceScan
				require.NoError(t, e.a.DB().Where("checkin_id = ?", ci.ID).Take(&sc).Error)
				require.Equal(t, presence.OutcomeRecorded, sc.Outcome)
				require.Equal(t, store.SourceQR, sc.Method)
				require.Equal(t, 1, tc.fake.exchange, "one code exchanged")

				// The next code, same webview: identified by its cookie, no
				// second authorisation, still one check-in.
				e.clk.Set(e.clk.Now().Add(20 * time.Second))
				resp, body = p.get(t, e.display(t).URL)
				require.Equal(t, http.StatusOK, resp.StatusCode, body)
				require.Contains(t, body, "你已签到")
				require.Equal(t, 1, tc.fake.exchange)
			})
		}
		require.EqualValues(t, 3, e.count(t, &store.Checkin{}))
	})
}

func TestScanRefusalsStoreNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := setup(t, db)
		old := e.display(t)

		// A screenshot forwarded after rotation: 31 s later it is refused
		// before anyone is asked who they are.
		e.clk.Set(e.clk.Now().Add(31 * time.Second))
		p := e.phone(uaWeCom, "zhaoliu", false)
		resp, body := p.get(t, old.URL)
		require.Equal(t, http.StatusGone, resp.StatusCode)
		require.Contains(t, body, "二维码已过期")

		// A code edited to name another session, or cut short.
		cur := e.display(t).URL
		resp, _ = p.get(t, cur[:len(cur)-3]+"AAA")
		require.Equal(t, http.StatusNotFound, resp.StatusCode)

		// Opened outside the apps: it says so and offers the apps.
		resp, body = e.phone(uaBrowser, "", false).get(t, cur)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, body, "请在企业微信、飞书或钉钉中扫码")
		require.Contains(t, body, "/q/start/wecom")

		// Someone the app knows but no roster names.
		resp, body = e.phone(uaWeCom, "stranger", true).get(t, cur)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Contains(t, body, "不在培训名单中")

		// The fake refuses a redirect outside the trusted domain.
		resp, _ = p.get(t, e.wecom.srv.URL+"/connect/oauth2/authorize?appid=ww-test-corp&redirect_uri="+url.QueryEscape("https://evil.example/q/auth/wecom")+"&response_type=code&scope=snsapi_base&agentid=1000002&state=x")
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)

		require.Zero(t, e.count(t, &store.Checkin{}))
		require.Zero(t, e.count(t, &store.PresenceScan{}))

		// Step by step: scan → app → our callback.
		resp, _ = p.get(t, cur)
		require.Equal(t, http.StatusFound, resp.StatusCode)
		authURL := resp.Header.Get("Location")
		require.Contains(t, authURL, "https://open.weixin.qq.com/connect/oauth2/authorize?appid=ww-test-corp")
		require.Contains(t, authURL, url.QueryEscape(e.srv.URL+"/q/auth/wecom"))
		resp, _ = p.get(t, authURL)
		require.Equal(t, http.StatusFound, resp.StatusCode)
		callback := resp.Header.Get("Location")

		// The app's answer forwarded to another phone: its flow is not
		// this one, nobody is identified.
		other := e.phone(uaWeCom, "qianqi", false)
		resp, body = other.get(t, callback)
		require.Equal(t, http.StatusGone, resp.StatusCode, body)

		resp, _ = p.get(t, callback)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		ci, ok := e.checkin(t, "E004")
		require.True(t, ok)
		require.Equal(t, store.SourceQR, ci.Source)

		// Replayed on the same phone: the flow is used up.
		resp, _ = p.get(t, callback)
		require.Equal(t, http.StatusGone, resp.StatusCode)

		// A new scan whose state is right but whose code was used: WeCom
		// refuses the code (40029) and nothing more is stored.
		fresh := e.phone(uaWeCom, "qianqi", false)
		resp, _ = fresh.get(t, e.display(t).URL)
		require.Equal(t, http.StatusFound, resp.StatusCode)
		state := mustQuery(t, resp.Header.Get("Location"), "state")
		oldCode := mustQuery(t, callback, "code")
		resp, body = fresh.get(t, e.srv.URL+"/q/auth/wecom?code="+oldCode+"&state="+state)
		require.Equal(t, http.StatusBadGateway, resp.StatusCode, body)
		require.Contains(t, strings.Join(e.wecom.refusals(), ";"), "code used before")
		_, ok = e.checkin(t, "E005")
		require.False(t, ok)
		require.EqualValues(t, 1, e.count(t, &store.Checkin{}))
		require.EqualValues(t, 1, e.count(t, &store.PresenceScan{}))
	})
}

func mustQuery(t *testing.T, u, key string) string {
	t.Helper()
	p, err := url.Parse(u)
	require.NoError(t, err)
	v := p.Query().Get(key)
	require.NotEmpty(t, v, "%s in %s", key, u)
	return v
}

func TestOnsiteRuleGeofenceAndReport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := setup(t, db)
		ctx := context.Background()

		// Bad rules: every field named, nothing saved.
		code, out := e.putRules(t, map[string]any{"rotate_seconds": 1, "geofence": true, "latitude": 0, "longitude": 0, "radius_m": 5})
		require.Equal(t, http.StatusUnprocessableEntity, code, out)
		require.Len(t, out["errors"], 3)
		require.Zero(t, e.count(t, &store.PresenceSetting{}))

		code, out = e.putRules(t, map[string]any{"require_onsite": true, "rotate_seconds": 10, "geofence": true, "latitude": 31.2304, "longitude": 121.4737, "radius_m": 200})
		require.Equal(t, http.StatusOK, code, out)
		require.Equal(t, true, out["require_onsite"])

		// A card tap from home: recorded, but remote.
		var zhao store.Employee
		require.NoError(t, db.Where("external_id = ?", "E004").Take(&zhao).Error)
		_, err := e.a.Router().Checkins.Record(ctx, bot.CheckinRequest{SessionID: e.session.ID, EmployeeID: zhao.ID, Source: store.SourceCard, Platform: "wecom"})
		require.NoError(t, err)
		rep, err := reports.Session(ctx, db.DB, e.session.ID, e.clk.Now())
		require.NoError(t, err)
		require.True(t, rep.RequireOnsite)
		require.Equal(t, 0, rep.CheckedIn)
		require.Equal(t, 1, rep.Remote)
		require.Contains(t, rep.CheckinRate.Definition.In(text.ZH), "要求现场签到")

		// The geofence asks for the position; far away, imprecise and
		// missing positions are refused and nothing is stored.
		p := e.phone(uaWeCom, "zhaoliu", true)
		resp, body := p.get(t, e.display(t).URL)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, body, `id="locate-form"`)
		nonce := between(body, `name="nonce" value="`, `"`)
		for _, tc := range []struct {
			lat, lng, acc string
			status        int
			text          string
		}{
			{"31.30", "121.47", "20", http.StatusForbidden, "超出 200 米"},
			{"31.2304", "121.4737", "1500", http.StatusUnprocessableEntity, "定位精度不足"},
			{"", "", "", http.StatusUnprocessableEntity, "需要确认你在会场"},
		} {
			resp, body = p.post(t, e.srv.URL+"/q/locate", url.Values{"nonce": {nonce}, "latitude": {tc.lat}, "longitude": {tc.lng}, "accuracy": {tc.acc}})
			require.Equal(t, tc.status, resp.StatusCode, body)
			require.Contains(t, body, tc.text)
		}
		require.Zero(t, e.count(t, &store.PresenceScan{}))
		ci, _ := e.checkin(t, "E004")
		require.Equal(t, store.SourceCard, ci.Source, "still remote")

		// At the venue: the remote check-in becomes on-site, accuracy stored.
		e.clk.Set(e.clk.Now().Add(40 * time.Second))
		resp, body = p.post(t, e.srv.URL+"/q/locate", url.Values{"nonce": {nonce}, "latitude": {"31.2310"}, "longitude": {"121.4740"}, "accuracy": {"35"}})
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.Contains(t, body, "已改为现场签到")
		ci, _ = e.checkin(t, "E004")
		require.Equal(t, store.SourceQR, ci.Source)
		var sc store.PresenceScan
		require.NoError(t, db.Take(&sc).Error)
		require.Equal(t, presence.OutcomeUpgraded, sc.Outcome)
		require.NotNil(t, sc.AccuracyM)
		require.InDelta(t, 35, *sc.AccuracyM, 0.001)
		require.NotNil(t, sc.DistanceM)
		require.Less(t, *sc.DistanceM, 200.0)

		rep, err = reports.Session(ctx, db.DB, e.session.ID, e.clk.Now())
		require.NoError(t, err)
		require.Equal(t, 1, rep.CheckedIn)
		require.Equal(t, 0, rep.Remote)
		bySource := map[string]int{}
		for _, row := range rep.BySource {
			bySource[row.Source] = row.Count
		}
		require.Equal(t, map[string]int{"card": 0, "chat": 0, "link": 0, "qr": 1, "room_code": 0, "manual": 0, "remote": 0}, bySource)
	})
}

func TestRoomCodeAndIdentityOnLinks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := setup(t, db)
		d := e.display(t)

		// The room code page first asks the app who this is.
		p := e.phone(uaFeishu, "lisi", true)
		resp, body := p.get(t, e.srv.URL+"/q/")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.Contains(t, body, "你好，李四")
		wrong := "0000"
		if d.Room == wrong {
			wrong = "0001"
		}
		resp, body = p.post(t, e.srv.URL+"/q/room", url.Values{"code": {wrong}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
		require.Contains(t, body, "房间码不正确")
		resp, body = p.post(t, e.srv.URL+"/q/room", url.Values{"code": {" " + d.Room + " "}})
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.Contains(t, body, "房间码签到")
		ci, ok := e.checkin(t, "E002")
		require.True(t, ok)
		require.Equal(t, store.SourceRoomCode, ci.Source)

		// /c/ with require_identity: a forwarded check-in link opens for
		// nobody but its recipient.
		code, out := e.putRules(t, map[string]any{"rotate_seconds": 15, "require_identity": true})
		require.Equal(t, http.StatusOK, code, out)
		var qian store.Employee
		require.NoError(t, db.Where("external_id = ?", "E005").Take(&qian).Error)
		var tp store.Touchpoint
		require.NoError(t, db.Where("session_id = ?", e.session.ID).Order("id").Take(&tp).Error)
		dl := store.Delivery{TouchpointID: tp.ID, Occurrence: "0", EmployeeID: qian.ID, SessionID: e.session.ID, Key: "presence-c", Platform: "wecom", UserID: "qianqi", Status: store.DeliverySent}
		require.NoError(t, db.Create(&dl).Error)
		link := e.srv.URL + "/c/" + e.a.Signer().Sign(bot.Claims{Kind: bot.TokenCheckin, DeliveryID: dl.ID, Expires: e.clk.Now().Add(time.Hour)})

		zhang := e.phone(uaWeCom, "zhangsan", true)
		_, _ = zhang.get(t, d.URL) // zhangsan's webview is identified by a scan
		resp, body = zhang.get(t, link)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, body)
		require.Contains(t, body, "此链接属于另一位学员")

		qp := e.phone(uaWeCom, "qianqi", true)
		resp, body = qp.get(t, link)
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.Equal(t, "/c/", resp.Request.URL.Path[:3], "back on the check-in page after the app's authorisation")
		resp, _ = qp.post(t, link, url.Values{})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		ci, ok = e.checkin(t, "E005")
		require.True(t, ok)
		require.Equal(t, store.SourceLink, ci.Source)

		// Without an identity a POST changes nothing.
		anon := e.phone(uaWeCom, "", false)
		resp, _ = anon.post(t, link, url.Values{})
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
	})
}

// between returns the text of s between the first a and the next b.
func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	if j := strings.Index(s, b); j >= 0 {
		return s[:j]
	}
	return ""
}
