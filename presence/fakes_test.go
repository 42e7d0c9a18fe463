package presence_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeOAuth is one platform's fake authorisation and identity API. Like
// the real ones it refuses a redirect_uri outside the registered
// domain/URL, and codes that are unknown, used before or older than
// codeTTL. The person "signed in" to the fake app is the X-Fake-User
// header (the chat app's own session).
type fakeOAuth struct {
	t        *testing.T
	srv      *httptest.Server
	now      func() time.Time
	redirect string // registered redirect URL prefix (trusted domain)

	mu       sync.Mutex
	codes    map[string]fakeCode
	tokens   map[string]string // user access token → user
	exchange int               // code exchanges answered
	refused  []string          // why calls were refused
}

type fakeCode struct {
	user    string
	expires time.Time
	used    bool
}

const codeTTL = 5 * time.Minute

func newFake(t *testing.T, now func() time.Time, redirect string) *fakeOAuth {
	f := &fakeOAuth{t: t, now: now, redirect: redirect, codes: map[string]fakeCode{}, tokens: map[string]string{}}
	return f
}

func randHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (f *fakeOAuth) refuse(w http.ResponseWriter, status int, why string, body any) {
	f.mu.Lock()
	f.refused = append(f.refused, why)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// authorize answers the app's authorisation page: a code for the signed-in
// person, sent back to redirect_uri with the state.
func (f *fakeOAuth) authorize(w http.ResponseWriter, r *http.Request, redirectParam, codeParam string) {
	ru := r.URL.Query().Get(redirectParam)
	if !strings.HasPrefix(ru, f.redirect) {
		http.Error(w, "redirect_uri is not under the app's trusted domain", http.StatusBadRequest)
		f.mu.Lock()
		f.refused = append(f.refused, "redirect_uri "+ru)
		f.mu.Unlock()
		return
	}
	user := r.Header.Get("X-Fake-User")
	if user == "" {
		http.Error(w, "not signed in to the app", http.StatusUnauthorized)
		return
	}
	code := randHex()
	f.mu.Lock()
	f.codes[code] = fakeCode{user: user, expires: f.now().Add(codeTTL)}
	f.mu.Unlock()
	u, _ := url.Parse(ru)
	q := u.Query()
	q.Set(codeParam, code)
	q.Set("state", r.URL.Query().Get("state"))
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// redeem uses up a code: "" when it is unknown, used or expired.
func (f *fakeOAuth) redeem(code string) (string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.codes[code]
	switch {
	case !ok:
		return "", "unknown code"
	case c.used:
		return "", "code used before"
	case !f.now().Before(c.expires):
		return "", "code expired"
	}
	c.used = true
	f.codes[code] = c
	f.exchange++
	tok := "u-" + randHex()
	f.tokens[tok] = c.user
	return c.user, tok
}

func (f *fakeOAuth) userOf(tok string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens[tok]
}

func (f *fakeOAuth) refusals() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.refused...)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// WeCom: open.weixin.qq.com/connect/oauth2/authorize, cgi-bin/gettoken and
// cgi-bin/auth/getuserinfo (40029 for a bad code).
func newFakeWeCom(t *testing.T, now func() time.Time, redirect, corpID, secret string) *fakeOAuth {
	f := newFake(t, now, redirect)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /connect/oauth2/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("appid") != corpID || q.Get("scope") != "snsapi_base" || q.Get("response_type") != "code" || q.Get("agentid") == "" {
			http.Error(w, "bad authorize request", http.StatusBadRequest)
			return
		}
		f.authorize(w, r, "redirect_uri", "code")
	})
	mux.HandleFunc("GET /cgi-bin/gettoken", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("corpid") != corpID || r.URL.Query().Get("corpsecret") != secret {
			writeJSON(w, map[string]any{"errcode": 40001, "errmsg": "invalid credential"})
			return
		}
		writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": "wecom-corp-token", "expires_in": 7200})
	})
	mux.HandleFunc("GET /cgi-bin/auth/getuserinfo", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("access_token") != "wecom-corp-token" {
			writeJSON(w, map[string]any{"errcode": 40014, "errmsg": "invalid access_token"})
			return
		}
		user, why := f.redeem(r.URL.Query().Get("code"))
		if user == "" {
			f.refuse(w, http.StatusOK, why, map[string]any{"errcode": 40029, "errmsg": "invalid code, " + why})
			return
		}
		writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "userid": user, "user_ticket": "t"})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// Feishu: authen/v1/authorize, auth/v3/app_access_token/internal,
// authen/v1/oidc/access_token (app token required) and authen/v1/user_info.
func newFakeFeishu(t *testing.T, now func() time.Time, redirect, appID, secret string) *fakeOAuth {
	f := newFake(t, now, redirect)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /open-apis/authen/v1/authorize", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("app_id") != appID {
			http.Error(w, "unknown app", http.StatusBadRequest)
			return
		}
		f.authorize(w, r, "redirect_uri", "code")
	})
	mux.HandleFunc("POST /open-apis/auth/v3/app_access_token/internal", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ AppID, AppSecret string }
		var raw map[string]string
		_ = json.NewDecoder(r.Body).Decode(&raw)
		body.AppID, body.AppSecret = raw["app_id"], raw["app_secret"]
		if body.AppID != appID || body.AppSecret != secret {
			writeJSON(w, map[string]any{"code": 10014, "msg": "app secret invalid"})
			return
		}
		writeJSON(w, map[string]any{"code": 0, "msg": "ok", "app_access_token": "a-feishu-app", "tenant_access_token": "t-feishu", "expire": 7200})
	})
	mux.HandleFunc("POST /open-apis/authen/v1/oidc/access_token", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer a-feishu-app" {
			f.refuse(w, http.StatusBadRequest, "no app_access_token", map[string]any{"code": 99991664, "msg": "invalid app_access_token"})
			return
		}
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body["grant_type"] != "authorization_code" {
			f.refuse(w, http.StatusBadRequest, "grant_type", map[string]any{"code": 20001, "msg": "invalid grant_type"})
			return
		}
		user, tok := f.redeem(body["code"])
		if user == "" {
			f.refuse(w, http.StatusBadRequest, tok, map[string]any{"code": 20003, "msg": "invalid code: " + tok})
			return
		}
		writeJSON(w, map[string]any{"code": 0, "msg": "success", "data": map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 6900}})
	})
	mux.HandleFunc("GET /open-apis/authen/v1/user_info", func(w http.ResponseWriter, r *http.Request) {
		user := f.userOf(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if user == "" {
			f.refuse(w, http.StatusBadRequest, "user token", map[string]any{"code": 99991668, "msg": "invalid user_access_token"})
			return
		}
		writeJSON(w, map[string]any{"code": 0, "msg": "success", "data": map[string]any{
			"name": user, "open_id": "ou_" + user, "union_id": "on_" + user, "user_id": user, "tenant_key": "tk",
		}})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// DingTalk: login.dingtalk.com/oauth2/auth, /v1.0/oauth2/userAccessToken,
// /v1.0/contact/users/me, /gettoken and /topapi/user/getbyunionid.
func newFakeDingTalk(t *testing.T, now func() time.Time, redirect, appKey, secret string) *fakeOAuth {
	f := newFake(t, now, redirect)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth2/auth", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != appKey || q.Get("response_type") != "code" || q.Get("scope") != "openid" {
			http.Error(w, "bad authorize request", http.StatusBadRequest)
			return
		}
		f.authorize(w, r, "redirect_uri", "authCode")
	})
	mux.HandleFunc("POST /v1.0/oauth2/userAccessToken", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body["clientId"] != appKey || body["clientSecret"] != secret || body["grantType"] != "authorization_code" {
			f.refuse(w, http.StatusBadRequest, "client", map[string]any{"code": "invalidClient", "message": "bad client"})
			return
		}
		user, tok := f.redeem(body["code"])
		if user == "" {
			f.refuse(w, http.StatusBadRequest, tok, map[string]any{"code": "invalidAuthCode", "message": "authCode " + tok})
			return
		}
		writeJSON(w, map[string]any{"accessToken": tok, "refreshToken": "r", "expireIn": 7200, "corpId": "ding-corp"})
	})
	mux.HandleFunc("GET /v1.0/contact/users/me", func(w http.ResponseWriter, r *http.Request) {
		user := f.userOf(r.Header.Get("x-acs-dingtalk-access-token"))
		if user == "" {
			f.refuse(w, http.StatusUnauthorized, "user token", map[string]any{"code": "InvalidAuthentication", "message": "bad token"})
			return
		}
		writeJSON(w, map[string]any{"nick": user, "unionId": "union-" + user, "openId": "open-" + user})
	})
	mux.HandleFunc("GET /gettoken", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("appkey") != appKey || r.URL.Query().Get("appsecret") != secret {
			writeJSON(w, map[string]any{"errcode": 40089, "errmsg": "invalid appkey"})
			return
		}
		writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": "ding-oapi-token", "expires_in": 7200})
	})
	mux.HandleFunc("POST /topapi/user/getbyunionid", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("access_token") != "ding-oapi-token" {
			writeJSON(w, map[string]any{"errcode": 40014, "errmsg": "invalid token"})
			return
		}
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		user, ok := strings.CutPrefix(body["unionid"], "union-")
		if !ok {
			writeJSON(w, map[string]any{"errcode": 60121, "errmsg": "user not found"})
			return
		}
		writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "result": map[string]any{"userid": user, "contact_type": 0}})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}
