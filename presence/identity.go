package presence

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
)

// Cookie names and lifetimes.
const (
	flowCookie = "ll_q_flow" // one sign-in in progress (Path /q/)
	idCookie   = "ll_id"     // the app identity of this webview (Path /)
	// FlowTTL bounds a scan from the code to the platform's answer.
	FlowTTL = 5 * time.Minute
	// IdentityTTL is how long a webview stays identified: a class day.
	IdentityTTL = 12 * time.Hour
)

// Flow kinds.
const (
	flowScan     = "scan"
	flowIdentify = "identify"
)

// flow is a sign-in in progress, sealed in a cookie. Its nonce is the
// OAuth state (hex: WeCom allows only [a-zA-Z0-9], at most 128 bytes).
type flow struct {
	Nonce    string `json:"n"`
	Kind     string `json:"k"`
	Platform string `json:"p,omitempty"`
	Session  uint64 `json:"s,omitempty"`
	Slot     int64  `json:"l,omitempty"`
	Method   string `json:"m,omitempty"`
	Scanned  int64  `json:"t,omitempty"` // Unix ms: the check-in time
	Return   string `json:"r,omitempty"`
	Exp      int64  `json:"e"`
}

// ident is the app identity of a webview, sealed in a cookie.
type ident struct {
	Platform   string `json:"p"`
	UserID     string `json:"u"`
	EmployeeID uint64 `json:"i"`
	Exp        int64  `json:"e"`
}

func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Service) setCookie(w http.ResponseWriter, name, path, value string, ttl time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
	if ttl > 0 {
		c.Expires = s.now().Add(ttl)
		c.MaxAge = int(ttl / time.Second)
	} else {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

func (s *Service) saveFlow(w http.ResponseWriter, f flow) error {
	v, err := s.codec.seal("flow", f)
	if err != nil {
		return err
	}
	s.setCookie(w, flowCookie, "/q/", v, FlowTTL)
	return nil
}

func (s *Service) clearFlow(w http.ResponseWriter) { s.setCookie(w, flowCookie, "/q/", "", 0) }

func (s *Service) readFlow(r *http.Request) (flow, bool) {
	c, err := r.Cookie(flowCookie)
	if err != nil {
		return flow{}, false
	}
	var f flow
	if !s.codec.open("flow", c.Value, &f) || s.now().UnixMilli() >= f.Exp || f.Nonce == "" {
		return flow{}, false
	}
	return f, true
}

// identity returns the webview's identity and its employee, checked
// against the roster as it is now (a changed platform id ends it).
func (s *Service) identity(r *http.Request) (ident, store.Employee, bool) {
	c, err := r.Cookie(idCookie)
	if err != nil {
		return ident{}, store.Employee{}, false
	}
	var id ident
	if !s.codec.open("ident", c.Value, &id) || s.now().UnixMilli() >= id.Exp {
		return ident{}, store.Employee{}, false
	}
	var e store.Employee
	if err := s.d.DB.WithContext(r.Context()).Limit(1).Find(&e, id.EmployeeID).Error; err != nil || e.ID == 0 || !e.Active {
		return ident{}, store.Employee{}, false
	}
	if platformID(e, bot.Platform(id.Platform)) != id.UserID {
		return ident{}, store.Employee{}, false
	}
	return id, e, true
}

func (s *Service) saveIdentity(w http.ResponseWriter, id ident) error {
	id.Exp = s.now().Add(IdentityTTL).UnixMilli()
	v, err := s.codec.seal("ident", id)
	if err != nil {
		return err
	}
	s.setCookie(w, idCookie, "/", v, IdentityTTL)
	return nil
}

// platformColumn is the roster column holding a platform's user id.
func platformColumn(p bot.Platform) string {
	switch p {
	case bot.PlatformWeCom:
		return "wecom_id"
	case bot.PlatformFeishu:
		return "feishu_id"
	case bot.PlatformDingTalk:
		return "dingtalk_id"
	}
	return ""
}

func platformID(e store.Employee, p bot.Platform) string {
	switch p {
	case bot.PlatformWeCom:
		return e.WecomID
	case bot.PlatformFeishu:
		return e.FeishuID
	case bot.PlatformDingTalk:
		return e.DingtalkID
	}
	return ""
}

// ErrNotOnRoster: the app identified someone no roster row names.
var ErrNotOnRoster = errors.New("presence: not on the roster")

// EmployeeFor finds the active employee whose roster row holds userID for
// platform.
func (s *Service) EmployeeFor(ctx context.Context, p bot.Platform, userID string) (store.Employee, error) {
	col := platformColumn(p)
	if col == "" || userID == "" {
		return store.Employee{}, ErrNotOnRoster
	}
	var e store.Employee
	if err := s.d.DB.WithContext(ctx).Where(col+" = ? AND active = ?", userID, true).Order("id").Limit(1).Find(&e).Error; err != nil {
		return e, fmt.Errorf("presence: find employee: %w", err)
	}
	if e.ID == 0 {
		return e, ErrNotOnRoster
	}
	return e, nil
}

// DetectPlatform tells which chat app's webview sent a User-Agent: WeCom
// ("wxwork"), Feishu/Lark ("Lark", "Feishu") or DingTalk ("DingTalk");
// empty for anything else (a browser, plain WeChat).
func DetectPlatform(ua string) bot.Platform {
	l := strings.ToLower(ua)
	switch {
	case strings.Contains(l, "wxwork"):
		return bot.PlatformWeCom
	case strings.Contains(l, "lark") || strings.Contains(l, "feishu"):
		return bot.PlatformFeishu
	case strings.Contains(l, "dingtalk"):
		return bot.PlatformDingTalk
	}
	return ""
}

// pickPlatform is the app to identify with: the person's choice (?app=),
// else the webview's User-Agent; empty when neither names a configured app.
func (s *Service) pickPlatform(r *http.Request) bot.Platform {
	if a := bot.Platform(r.URL.Query().Get("app")); a != "" {
		if _, ok := s.d.Providers[a]; ok {
			return a
		}
	}
	p := DetectPlatform(r.UserAgent())
	if _, ok := s.d.Providers[p]; ok {
		return p
	}
	return ""
}

func (s *Service) redirectURI(p bot.Platform) string { return s.d.PublicURL + "/q/auth/" + string(p) }

// startAuth sends the browser to the platform's authorisation with f.
func (s *Service) startAuth(w http.ResponseWriter, r *http.Request, f flow, p bot.Platform) {
	f.Platform = string(p)
	if err := s.saveFlow(w, f); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, s.d.Providers[p].AuthorizeURL(s.redirectURI(p), f.Nonce), http.StatusFound)
}

// RequireIdentity reports whether r carries the app identity of want (the
// link's recipient). When it does not, it has answered: a GET without an
// identity goes through the app's authorisation and comes back to the same
// URL; a request identified as someone else, or a POST without identity,
// gets a page that says why, and nothing is changed.
func (s *Service) RequireIdentity(w http.ResponseWriter, r *http.Request, want store.Employee) bool {
	lang := s.lang(r, &want)
	if _, e, ok := s.identity(r); ok {
		if e.ID == want.ID {
			return true
		}
		s.message(w, http.StatusForbidden, lang, "presence:msg.other_person", e.Name)
		return false
	}
	if r.Method != http.MethodGet {
		s.message(w, http.StatusForbidden, lang, "presence:msg.identity_needed")
		return false
	}
	f := flow{Nonce: newNonce(), Kind: flowIdentify, Return: r.URL.RequestURI(), Exp: s.now().Add(FlowTTL).UnixMilli()}
	p := s.pickPlatform(r)
	if p == "" {
		if err := s.saveFlow(w, f); err != nil {
			s.fail(w, r, err)
			return false
		}
		s.pickPage(w, lang)
		return false
	}
	s.startAuth(w, r, f, p)
	return false
}

// SurveyGate is the surveys form hook: a named survey whose identity
// setting is on opens only for its recipient's app identity.
func (s *Service) SurveyGate(w http.ResponseWriter, r *http.Request, surveyID uint64, respondent store.Employee) bool {
	req, err := s.SurveyIdentityRequired(r.Context(), surveyID)
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	if !req {
		return true
	}
	return s.RequireIdentity(w, r, respondent)
}

// GuardCheckinPage wraps the handler serving /c/{token}: on sessions whose
// require_identity setting is on, the page opens only for the card's
// recipient, identified by their app. Everything else passes through.
func (s *Service) GuardCheckinPage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.URL.Path, "/c/")
		if !ok || tok == "" || strings.Contains(tok, "/") || s.d.Signer == nil {
			next.ServeHTTP(w, r)
			return
		}
		c, err := s.d.Signer.Verify(tok, bot.TokenCheckin)
		if err != nil {
			next.ServeHTTP(w, r) // the page answers bad tokens itself
			return
		}
		dc, err := bot.LoadDelivery(r.Context(), s.d.DB, c.DeliveryID)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		rules, err := s.Settings(r.Context(), dc.Session.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if rules.RequireIdentity && !s.RequireIdentity(w, r, dc.Employee) {
			return
		}
		next.ServeHTTP(w, r)
	})
}
