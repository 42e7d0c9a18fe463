package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// Cookie names.
const (
	sessionCookie = "ll_console"
	preCookie     = "ll_console_pre" // double-submit token of the login form
	langCookie    = "ll_lang"
)

// Session and rate-limit policy.
const (
	sessionLifetime = 12 * time.Hour
	sessionIdle     = 4 * time.Hour
	seenEvery       = time.Minute
	loginWindow     = 15 * time.Minute
	maxUserFailures = 5
	maxIPFailures   = 50
)

// MinPasswordLength is the shortest password an account may have.
const MinPasswordLength = 10

// maxPasswordBytes is bcrypt's input limit.
const maxPasswordBytes = 72

// Account errors.
var (
	// ErrInvalidAccount wraps every reason an account cannot be created or
	// changed as asked.
	ErrInvalidAccount = errors.New("invalid account")
	// ErrAccountExists is returned when the username is taken.
	ErrAccountExists = errors.New("account already exists")
)

var usernameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// ValidateUsername checks a console username: 2–64 characters of lower-case
// letters, digits and ._- starting with a letter or digit; "system" and names
// starting with "api-token" are reserved for the API and the scheduler.
func ValidateUsername(u string) error {
	if !usernameRe.MatchString(u) {
		return fmt.Errorf("username %q: 2–64 lower-case letters, digits or ._- (starting with a letter or digit): %w", u, ErrInvalidAccount)
	}
	if u == "system" || u == "cli" || strings.HasPrefix(u, "api-token") {
		return fmt.Errorf("username %q is reserved: %w", u, ErrInvalidAccount)
	}
	return nil
}

// CheckPassword checks the password policy: at least MinPasswordLength
// characters and at most 72 bytes (bcrypt's limit).
func CheckPassword(p string) error {
	if utf8.RuneCountInString(p) < MinPasswordLength {
		return fmt.Errorf("password must have at least %d characters: %w", MinPasswordLength, ErrInvalidAccount)
	}
	if len(p) > maxPasswordBytes {
		return fmt.Errorf("password must be at most %d bytes: %w", maxPasswordBytes, ErrInvalidAccount)
	}
	return nil
}

// HashPassword checks p against the policy and returns its bcrypt hash.
func HashPassword(p string) (string, error) {
	if err := CheckPassword(p); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// dummyHash is compared against when the username is unknown, so that a
// wrong username costs as much time as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("learnloop-no-such-user"), bcrypt.DefaultCost)

// NewAccount describes an account to create.
type NewAccount struct {
	Username    string
	DisplayName string
	Role        string
	Department  string
	Password    string
	Locale      string
}

// validRole reports whether r is a console role.
func validRole(r string) bool {
	for _, x := range store.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// CreateAccount validates and stores a new account and writes an
// "account.create" audit entry with actor as the actor, in one transaction.
// The learnloop CLI uses it to create the first admin.
func CreateAccount(ctx context.Context, db *gorm.DB, in NewAccount, actor string, now time.Time) (store.Account, error) {
	in.Username = strings.TrimSpace(in.Username)
	in.Department = strings.TrimSpace(in.Department)
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	if err := ValidateUsername(in.Username); err != nil {
		return store.Account{}, err
	}
	if !validRole(in.Role) {
		return store.Account{}, fmt.Errorf("role %q is not one of %s: %w", in.Role, strings.Join(store.Roles, ", "), ErrInvalidAccount)
	}
	if in.Role == store.RoleDepartmentHead && in.Department == "" {
		return store.Account{}, fmt.Errorf("a department head needs a department: %w", ErrInvalidAccount)
	}
	if utf8.RuneCountInString(in.DisplayName) > 128 || utf8.RuneCountInString(in.Department) > 128 {
		return store.Account{}, fmt.Errorf("display name and department have at most 128 characters: %w", ErrInvalidAccount)
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return store.Account{}, err
	}
	a := store.Account{
		Username: in.Username, DisplayName: in.DisplayName, Role: in.Role, Department: in.Department,
		PasswordHash: hash, Locale: in.Locale, CreatedAt: now.UTC(), UpdatedAt: now.UTC(),
	}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&a).Error; err != nil {
			return err
		}
		return writeAudit(tx, actor, "account.create", fmt.Sprintf("account:%s", a.Username),
			map[string]any{"username": a.Username, "role": a.Role, "department": a.Department, "display_name": a.DisplayName}, now)
	})
	if store.IsDuplicate(err) {
		return store.Account{}, fmt.Errorf("username %q: %w", in.Username, ErrAccountExists)
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("create account: %w", err)
	}
	return a, nil
}

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

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(tok string) string {
	s := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(s[:])
}

func equalTokens(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return truncate(r.RemoteAddr, 64)
	}
	return truncate(host, 64)
}

// loadViewer resolves the session cookie to a live session of an enabled
// account, or nil.
func (c *Console) loadViewer(r *http.Request) *viewer {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 128 {
		return nil
	}
	now := c.now()
	db := c.d.DB.WithContext(r.Context())
	var s store.LoginSession
	if err := db.Where("token_hash = ?", tokenHash(ck.Value)).Limit(1).Find(&s).Error; err != nil {
		c.log().Error("console: load login session", "err", err)
		return nil
	}
	if s.ID == 0 || !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) > sessionIdle {
		return nil
	}
	var a store.Account
	if err := db.Limit(1).Find(&a, s.AccountID).Error; err != nil || a.ID == 0 || a.Disabled {
		return nil
	}
	if now.Sub(s.LastSeenAt) > seenEvery {
		db.Model(&store.LoginSession{}).Where("id = ?", s.ID).Update("last_seen_at", now)
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
	tok := randomToken(24)
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
	ctx := r.Context()
	db := c.d.DB.WithContext(ctx)
	now := c.now()
	ip := clientIP(r)
	user := truncate(strings.ToLower(d.Username), 64)
	password := r.PostForm.Get("password")
	if user == "" || password == "" {
		d.Error = "login.missing"
		c.renderLogin(w, r, http.StatusUnprocessableEntity, d)
		return
	}
	since := now.Add(-loginWindow)
	var userFails, ipFails int64
	if err := db.Model(&store.LoginAttempt{}).Where("username = ? AND success = ? AND at > ?", user, false, since).Count(&userFails).Error; err != nil {
		c.internal(w, r, nil, err)
		return
	}
	if err := db.Model(&store.LoginAttempt{}).Where("ip = ? AND success = ? AND at > ?", ip, false, since).Count(&ipFails).Error; err != nil {
		c.internal(w, r, nil, err)
		return
	}
	if userFails >= maxUserFailures || ipFails >= maxIPFailures {
		c.log().Warn("console: sign-in rate limited", "username", user, "ip", ip)
		d.Error = "login.locked"
		c.renderLogin(w, r, http.StatusTooManyRequests, d)
		return
	}
	var a store.Account
	if err := db.Where("username = ?", user).Limit(1).Find(&a).Error; err != nil {
		c.internal(w, r, nil, err)
		return
	}
	ok := false
	if a.ID == 0 || a.Disabled {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
	} else {
		ok = bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) == nil
	}
	if err := db.Create(&store.LoginAttempt{Username: user, IP: ip, Success: ok, At: now}).Error; err != nil {
		c.internal(w, r, nil, err)
		return
	}
	if !ok {
		c.log().Info("console: sign-in failed", "username", user, "ip", ip)
		d.Error = "login.failed"
		c.renderLogin(w, r, http.StatusUnauthorized, d)
		return
	}
	tok := randomToken(32)
	s := store.LoginSession{
		TokenHash: tokenHash(tok), AccountID: a.ID, CSRFToken: randomToken(32), IP: ip,
		UserAgent: truncate(r.UserAgent(), 255), CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(sessionLifetime),
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&s).Error; err != nil {
			return err
		}
		if err := tx.Model(&store.Account{}).Where("id = ?", a.ID).Update("last_login_at", now).Error; err != nil {
			return err
		}
		// Old sessions and attempts are pruned on the way.
		if err := tx.Where("expires_at < ?", now.Add(-24*time.Hour)).Delete(&store.LoginSession{}).Error; err != nil {
			return err
		}
		if err := tx.Where("at < ?", now.Add(-7*24*time.Hour)).Delete(&store.LoginAttempt{}).Error; err != nil {
			return err
		}
		return writeAudit(tx, a.Username, "account.login", "account:"+a.Username, map[string]any{"ip": ip}, now)
	})
	if err != nil {
		c.internal(w, r, nil, err)
		return
	}
	c.setCookie(w, sessionCookie, tok, int(sessionLifetime/time.Second))
	c.setCookie(w, preCookie, "", -1)
	if a.Locale != "" {
		c.setLangCookie(w, text.Parse(a.Locale))
	}
	http.Redirect(w, r, c.localNext(d.Next), http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, v *viewer) {
	if err := c.d.DB.WithContext(r.Context()).Delete(&store.LoginSession{}, v.Session.ID).Error; err != nil {
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
	if bcrypt.CompareHashAndPassword([]byte(v.Account.PasswordHash), []byte(cur)) != nil {
		p.fieldError("current", "password.wrong_current")
	}
	if err := CheckPassword(nw); err != nil {
		p.fieldErrorf("new", "account.password_policy", MinPasswordLength)
	} else if nw != again {
		p.fieldError("again", "password.mismatch")
	}
	if p.hasErrors() {
		c.render(w, r, http.StatusUnprocessableEntity, "password", p)
		return
	}
	hash, err := HashPassword(nw)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	now := c.now()
	err = c.d.DB.WithContext(r.Context()).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&store.Account{}).Where("id = ?", v.Account.ID).Updates(map[string]any{"password_hash": hash, "updated_at": now}).Error; err != nil {
			return err
		}
		// Every other browser signed in as this account is signed out.
		if err := tx.Where("account_id = ? AND id <> ?", v.Account.ID, v.Session.ID).Delete(&store.LoginSession{}).Error; err != nil {
			return err
		}
		return writeAudit(tx, v.name(), "account.password", "account:"+v.name(), nil, now)
	})
	if err != nil {
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
