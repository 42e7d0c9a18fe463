package console_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

func TestRequestsWithoutSessionOrCSRFChangeNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newWorld(t, db)
		form := func() url.Values {
			return url.Values{"code": {"EVIL"}, "title": {"x"}, "target_level": {"1"}}
		}
		before := snapshot(t, db)

		// No session at all.
		anon := w.e.client(t)
		r := anon.post("/console/courses", form())
		require.Equal(t, http.StatusUnauthorized, r.Code)
		r = anon.post(w.sessA+"/excuse", url.Values{"external_id": {"S01"}, "confirmed": {"1"}, "csrf": {w.li.csrf}})
		require.Equal(t, http.StatusUnauthorized, r.Code)
		r = anon.get(w.sessA + "/board")
		require.Equal(t, http.StatusSeeOther, r.Code)
		require.True(t, strings.HasPrefix(r.Location, "/console/login?next="), r.Location)

		// A session, but no token, a wrong token, or another account's token.
		for _, tok := range []string{"", "not-the-token", w.wng.csrf} {
			f := form()
			f.Set("csrf", tok)
			r := w.li.post("/console/courses", f)
			require.Equal(t, http.StatusForbidden, r.Code, "token %q", tok)
			require.Contains(t, r.Body, "安全校验失败")
			r = w.li.post(w.sessA+"/excuse", url.Values{"external_id": {"S01"}, "confirmed": {"1"}, "csrf": {tok}})
			require.Equal(t, http.StatusForbidden, r.Code)
		}
		require.Equal(t, before, snapshot(t, db), "requests without a session or token changed nothing")
		// A multipart upload without the token.
		r = w.li.upload(w.sessA+"/roster", "file", "x.csv", []byte("external_id,name\nZ1,某人\n"))
		require.Equal(t, http.StatusSeeOther, r.Code, "with the token it works")
		before = snapshot(t, db)
		saved := w.li.csrf
		w.li.csrf = "wrong"
		r = w.li.upload(w.sessA+"/roster", "file", "x.csv", []byte("external_id,name\nZ2,某人\n"))
		require.Equal(t, http.StatusForbidden, r.Code)
		w.li.csrf = saved

		// A cross-site form post is refused before the token is looked at.
		req, _ := http.NewRequest(http.MethodPost, w.e.srv.URL+"/console/courses", strings.NewReader(form().Encode()+"&csrf="+url.QueryEscape(saved)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		require.Equal(t, http.StatusForbidden, w.li.do(req).Code)
		require.Equal(t, before, snapshot(t, db))

		// A forged cookie is no session.
		forged := w.e.client(t)
		u, _ := url.Parse(w.e.srv.URL + "/console/")
		forged.c.Jar.SetCookies(u, []*http.Cookie{{Name: "ll_console", Value: "forged-token", Path: "/console/"}})
		require.Equal(t, http.StatusSeeOther, forged.get("/console/courses").Code)
	})
}

func TestSessionsExpireAndEnd(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	e := newEnv(t, db)
	e.account(t, "root", store.RoleAdmin, "")
	li := e.account(t, "li", store.RoleCoordinator, "")
	admin, c := e.client(t), e.client(t)
	admin.login("root")
	c.login("li")

	// The cookie is HttpOnly, SameSite=Lax and scoped to the console.
	r := e.client(t).tryLogin("li", testPassword)
	ck := r.Header.Values("Set-Cookie")
	require.True(t, anyHas(ck, "ll_console=", "HttpOnly", "SameSite=Lax", "Path=/console/"), ck)

	// Logging out ends the session on the server.
	jarCookies := c.c.Jar.Cookies(mustURL(e.srv.URL + "/console/"))
	r = c.post("/console/logout", nil)
	require.Equal(t, http.StatusSeeOther, r.Code)
	stale := e.client(t)
	stale.c.Jar.SetCookies(mustURL(e.srv.URL+"/console/"), jarCookies)
	require.Equal(t, http.StatusSeeOther, stale.get("/console/courses").Code, "the old cookie is dead")

	// Idle sessions expire.
	c.login("li")
	e.clk.Set(t0.Add(5 * time.Hour))
	require.Equal(t, http.StatusSeeOther, c.get("/console/courses").Code)

	// A disabled account is signed out everywhere and cannot sign in.
	c.login("li")
	admin.login("root")
	r = admin.post("/console/accounts/"+itoa(li.ID), url.Values{"role": {"coordinator"}, "disabled": {"1"}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	require.Equal(t, http.StatusSeeOther, c.get("/console/courses").Code)
	r = c.tryLogin("li", testPassword)
	require.Equal(t, http.StatusUnauthorized, r.Code)
}

func TestLoginIsRateLimitedAndPasswordsAreHashed(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	e := newEnv(t, db)
	e.account(t, "li", store.RoleCoordinator, "")
	var a store.Account
	require.NoError(t, db.Where("username = ?", "li").First(&a).Error)
	require.True(t, strings.HasPrefix(a.PasswordHash, "$2a$"), "bcrypt")
	require.NotContains(t, a.PasswordHash, testPassword)

	c := e.client(t)
	r := c.tryLogin("nobody", testPassword)
	require.Equal(t, http.StatusUnauthorized, r.Code)
	require.Contains(t, r.Body, "用户名或密码错误")
	for range 5 {
		r := c.tryLogin("li", "wrong-password-123")
		require.Equal(t, http.StatusUnauthorized, r.Code)
		require.Contains(t, r.Body, "用户名或密码错误", "the same message for a wrong user and a wrong password")
	}
	r = c.tryLogin("li", testPassword)
	require.Equal(t, http.StatusTooManyRequests, r.Code)
	require.Contains(t, r.Body, "登录失败次数过多")
	require.Equal(t, http.StatusSeeOther, c.get("/console/courses").Code, "not signed in")

	e.clk.Set(t0.Add(16 * time.Minute))
	c.login("li")

	// The login form needs its own token too.
	r = e.client(t).post("/console/login", url.Values{"username": {"li"}, "password": {testPassword}, "csrf": {"x"}})
	require.Equal(t, http.StatusForbidden, r.Code)
}

func anyHas(values []string, parts ...string) bool {
	for _, v := range values {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(v, p)
		}
		if ok {
			return true
		}
	}
	return false
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
