package console

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/learnloop/learnloop/console/accounts"
	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// Cookie names.
const (
	sessionCookie = "ll_console"
	preCookie     = "ll_console_pre" // double-submit token of the login form
	langCookie    = "ll_lang"
)

// viewer is the signed-in account of a request.
type viewer struct {
	Account store.Account
	Session store.LoginSession

	// depts is a department head's department and every one below it in
	// the company directory, read once per request (departments).
	depts     []string
	deptsOnce sync.Once
}

func (v *viewer) admin() bool       { return v != nil && v.Account.Role == store.RoleAdmin }
func (v *viewer) coordinator() bool { return v != nil && v.Account.Role == store.RoleCoordinator }
func (v *viewer) deptHead() bool    { return v != nil && v.Account.Role == store.RoleDepartmentHead }

// name is the audit actor.
func (v *viewer) name() string { return v.Account.Username }

type viewerKey struct{}

func equalTokens(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return cut.Bytes(r.RemoteAddr, 64)
	}
	return cut.Bytes(host, 64)
}

// loadViewer resolves the session cookie to a live session of an enabled
// account, or nil.
func (c *Console) loadViewer(r *http.Request) *viewer {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 128 {
		return nil
	}
	a, s, ok, err := c.d.Accounts.Resolve(r.Context(), ck.Value)
	if err != nil {
		c.log().Error("console: load login session", "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	return &viewer{Account: a, Session: s}
}

func (c *Console) viewerFromRequest(r *http.Request) *viewer {
	if v, ok := r.Context().Value(viewerKey{}).(*viewer); ok {
		return v
	}
	return c.loadViewer(r)
}

// authed requires a signed-in account, and a valid CSRF token on every
// request that is not GET or HEAD. Without a session, pages redirect to the
// login page and other requests get 401; nothing is changed.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, *viewer)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := c.loadViewer(r)
		if v == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				next := c.d.Prefix + r.URL.Path
				if r.URL.RawQuery != "" {
					next += "?" + r.URL.RawQuery
				}
				http.Redirect(w, r, c.path("/login")+"?next="+url.QueryEscape(next), http.StatusSeeOther)
				return
			}
			c.renderError(w, r, nil, http.StatusUnauthorized, "error.login_required")
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), viewerKey{}, v))
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, 40<<20)
			tok := r.Header.Get("X-CSRF-Token")
			if tok == "" {
				if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
					if err := r.ParseMultipartForm(8 << 20); err != nil {
						c.renderError(w, r, v, http.StatusBadRequest, "error.bad_form")
						return
					}
				}
				tok = r.PostFormValue("csrf")
			}
			if !equalTokens(tok, v.Session.CSRFToken) {
				c.log().Warn("console: request without a valid CSRF token", "account", v.name(), "path", r.URL.Path)
				c.renderError(w, r, v, http.StatusForbidden, "error.csrf")
				return
			}
		}
		h(w, r, v)
	})
}

func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: c.d.Prefix + "/", MaxAge: maxAge,
		HttpOnly: true, Secure: c.d.CookieSecure, SameSite: http.SameSiteLaxMode,
	})
}

// localNext returns next when it is a path inside the console, else home.
func (c *Console) localNext(next string) string {
	if strings.HasPrefix(next, c.d.Prefix+"/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		u, err := url.Parse(next)
		if err == nil && u.Scheme == "" && u.Host == "" && strings.HasPrefix(path.Clean(u.Path)+"/", c.d.Prefix+"/") {
			return next
		}
	}
	return c.path("/")
}

type loginData struct {
	Username string
	Next     string
	Error    string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if v := c.loadViewer(r); v != nil {
		http.Redirect(w, r, c.localNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.renderLogin(w, r, http.StatusOK, loginData{Next: r.URL.Query().Get("next")})
}

func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, code int, d loginData) {
	tok := accounts.RandomToken(24)
	c.setCookie(w, preCookie, tok, 3600)
	p := c.newPage(r, nil, "login.title")
	p.CSRF = tok
	p.Data = d
	c.render(w, r, code, "login", p)
}

func (c *Console) loginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		c.renderError(w, r, nil, http.StatusBadRequest, "error.bad_form")
		return
	}
	d := loginData{Username: strings.TrimSpace(r.PostForm.Get("username")), Next: r.PostForm.Get("next")}
	pre, err := r.Cookie(preCookie)
	if err != nil || !equalTokens(pre.Value, r.PostForm.Get("csrf")) {
		d.Error = "login.expired"
		c.renderLogin(w, r, http.StatusForbidden, d)
		return
	}
	ip := clientIP(r)
	user := cut.Bytes(strings.ToLower(d.Username), 64)
	password := r.PostForm.Get("password")
	if user == "" || password == "" {
		d.Error = "login.missing"
		c.renderLogin(w, r, http.StatusUnprocessableEntity, d)
		return
	}
	in, err := c.d.Accounts.SignIn(r.Context(), accounts.Attempt{Username: user, Password: password, IP: ip, UserAgent: cut.Bytes(r.UserAgent(), 255)})
	switch {
	case errors.Is(err, accounts.ErrLocked):
		c.log().Warn("console: sign-in rate limited", "username", user, "ip", ip)
		d.Error = "login.locked"
		c.renderLogin(w, r, http.StatusTooManyRequests, d)
		return
	case errors.Is(err, accounts.ErrBadLogin):
		c.log().Info("console: sign-in failed", "username", user, "ip", ip)
		d.Error = "login.failed"
		c.renderLogin(w, r, http.StatusUnauthorized, d)
		return
	case err != nil:
		c.internal(w, r, nil, err)
		return
	}
	a, tok := in.Account, in.Token
	c.setCookie(w, sessionCookie, tok, int(accounts.SessionLifetime/time.Second))
	c.setCookie(w, preCookie, "", -1)
	if a.Locale != "" {
		c.setLangCookie(w, text.Parse(a.Locale))
	}
	http.Redirect(w, r, c.localNext(d.Next), http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, v *viewer) {
	if err := c.d.Accounts.SignOut(r.Context(), v.Session.ID); err != nil {
		c.internal(w, r, v, err)
		return
	}
	c.setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, c.path("/login"), http.StatusSeeOther)
}

func (c *Console) passwordPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	p := c.newPage(r, v, "password.title")
	c.render(w, r, http.StatusOK, "password", p)
}

func (c *Console) passwordSubmit(w http.ResponseWriter, r *http.Request, v *viewer) {
	p := c.newPage(r, v, "password.title")
	cur, nw, again := r.PostForm.Get("current"), r.PostForm.Get("new"), r.PostForm.Get("again")
	if !accounts.PasswordMatches(v.Account, cur) {
		p.fieldError("current", "password.wrong_current")
	}
	if err := accounts.CheckPassword(nw); err != nil {
		p.fieldErrorf("new", "account.password_policy", accounts.MinPasswordLength)
	} else if nw != again {
		p.fieldError("again", "password.mismatch")
	}
	if p.hasErrors() {
		c.render(w, r, http.StatusUnprocessableEntity, "password", p)
		return
	}
	hash, err := accounts.HashPassword(nw)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	// Every other browser signed in as this account is signed out.
	if err := c.d.Accounts.ChangePassword(r.Context(), v.Account, hash, v.Session.ID); err != nil {
		c.internal(w, r, v, err)
		return
	}
	c.redirectOK(w, r, "/", "password_changed")
}

func (c *Console) setLangCookie(w http.ResponseWriter, lang text.Locale) {
	http.SetCookie(w, &http.Cookie{
		Name: langCookie, Value: string(lang), Path: c.d.Prefix + "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: c.d.CookieSecure, SameSite: http.SameSiteLaxMode,
	})
}

// setLang switches the language (a browser preference, not a change to any
// record) and goes back to the page it came from.
func (c *Console) setLang(w http.ResponseWriter, r *http.Request) {
	lang := text.Parse(r.URL.Query().Get("to"))
	c.setLangCookie(w, lang)
	http.Redirect(w, r, c.localNext(r.URL.Query().Get("back")), http.StatusSeeOther)
}
