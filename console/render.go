package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// pageTemplate is one page's parsed template set for one locale.
type pageTemplate = *template.Template

// page is the data every template gets.
type page struct {
	Lang    text.Locale
	Title   string
	Prefix  string
	Account *store.Account
	CSRF    string
	Nav     string
	// Flash is a message key shown once after a successful change.
	Flash string
	// Errors holds inline messages by form field; "" is the form itself.
	Errors map[string]string
	Form   url.Values
	// Path is the current request path (for the language switch).
	Path string
	Data any
	// Session is set on the pages of one class session (tabs).
	Session *sessionHead
	// MinGroup is the smallest department group shown.
	MinGroup int

	tr func(string, ...any) string
}

// sessionHead is the header and tab bar of a session's pages.
type sessionHead struct {
	ID     uint64
	Title  string
	Course store.Course
	Span   string
	Status string
	// Stage is reports.Stage: upcoming, in_progress, finished, cancelled.
	Stage    string
	Tab      string
	Write    bool // the viewer may change it
	ReadOnly bool // department head: aggregates only
}

func (p *page) fieldError(field, key string) {
	if p.Errors == nil {
		p.Errors = map[string]string{}
	}
	if _, ok := p.Errors[field]; !ok {
		p.Errors[field] = p.tr(key)
	}
}

func (p *page) fieldErrorf(field, key string, args ...any) {
	if p.Errors == nil {
		p.Errors = map[string]string{}
	}
	if _, ok := p.Errors[field]; !ok {
		p.Errors[field] = p.tr(key, args...)
	}
}

// fieldText sets an already localized (or verbatim) message.
func (p *page) fieldText(field, msg string) {
	if p.Errors == nil {
		p.Errors = map[string]string{}
	}
	if _, ok := p.Errors[field]; !ok {
		p.Errors[field] = msg
	}
}

func (p *page) hasErrors() bool { return len(p.Errors) > 0 }

// V returns the submitted value of a form field.
func (p *page) V(name string) string {
	if p.Form == nil {
		return ""
	}
	return p.Form.Get(name)
}

// Has reports whether the form field name holds value among its values
// (a checkbox group).
func (p *page) Has(name, value string) bool {
	return p.Form != nil && slices.Contains(p.Form[name], value)
}

// Err returns the inline message of a field.
func (p *page) Err(name string) string { return p.Errors[name] }

// Admin reports whether the viewer is an admin.
func (p *page) Admin() bool { return p.Account != nil && p.Account.Role == store.RoleAdmin }

// DeptHead reports whether the viewer is a department head.
func (p *page) DeptHead() bool { return p.Account != nil && p.Account.Role == store.RoleDepartmentHead }

type localeKey struct{}

// withLocale picks the language: the ll_lang cookie, else the configured
// default (zh-CN unless configured otherwise).
func (c *Console) withLocale(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := c.d.Locale
		if ck, err := r.Cookie(langCookie); err == nil && ck.Value != "" {
			lang = ck.Value
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), localeKey{}, text.Parse(lang))))
	})
}

func langOf(r *http.Request) text.Locale {
	if l, ok := r.Context().Value(localeKey{}).(text.Locale); ok {
		return l
	}
	return text.ZH
}

func (c *Console) newPage(r *http.Request, v *viewer, titleKey string) *page {
	lang := langOf(r)
	p := &page{Lang: lang, Prefix: c.d.Prefix, Path: c.d.Prefix + r.URL.Path, Form: url.Values{}, MinGroup: c.d.MinGroupSize}
	if r.URL.RawQuery != "" {
		q := r.URL.Query()
		q.Del("ok")
		if enc := q.Encode(); enc != "" {
			p.Path += "?" + enc
		}
	}
	p.tr = func(key string, args ...any) string { return text.T(lang, key, args...) }
	p.Title = p.tr(titleKey)
	if v != nil {
		a := v.Account
		p.Account = &a
		p.CSRF = v.Session.CSRFToken
	}
	if ok := r.URL.Query().Get("ok"); ok != "" && text.Has("flash."+ok) {
		p.Flash = "flash." + ok
	}
	if r.Method == http.MethodPost && r.PostForm != nil {
		p.Form = r.PostForm
	}
	return p
}

// templateFuncs returns the functions templates use, bound to lang.
func (c *Console) templateFuncs(lang text.Locale) template.FuncMap {
	fm := template.FuncMap{
		"p": func(parts ...any) string {
			var b strings.Builder
			b.WriteString(c.d.Prefix)
			for _, x := range parts {
				fmt.Fprint(&b, x)
			}
			return b.String()
		},
		"when": func(t any, loc *time.Location) string {
			switch x := t.(type) {
			case time.Time:
				if x.IsZero() {
					return ""
				}
				return x.In(loc).Format("2006-01-02 15:04")
			case *time.Time:
				if x == nil || x.IsZero() {
					return ""
				}
				return x.In(loc).Format("2006-01-02 15:04")
			}
			return ""
		},
		"clock": func(t any, loc *time.Location) string {
			switch x := t.(type) {
			case time.Time:
				return x.In(loc).Format("15:04")
			case *time.Time:
				if x == nil {
					return ""
				}
				return x.In(loc).Format("15:04")
			}
			return ""
		},
		"pct": func(v *float64) string {
			if v == nil {
				return "—"
			}
			return strconv.FormatFloat(*v, 'f', 1, 64) + "%"
		},
		"svg": func(s string) template.HTML { return template.HTML(s) }, // only for SVG built by chart.go with escaped text
		"add": func(a, b int) int { return a + b },
		"exportURL": func(path, table, format string) string {
			u, _ := url.Parse(path)
			q := u.Query()
			q.Del("ok")
			q.Set("export", format)
			q.Set("table", table)
			u.RawQuery = q.Encode()
			return u.String()
		},
		"json": func(v any) string {
			b, _ := json.Marshal(v)
			return string(b)
		},
		"roles": func() []string { return store.Roles },
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, errors.New("dict needs key/value pairs")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, errors.New("dict keys are strings")
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"cellText": func(cl Cell, loc *time.Location) string { return cl.text(loc, lang) },
		// The touchpoint form's choices (recurrence.go).
		"repeats":  func() []string { return repeatChoices },
		"timings":  func() []string { return plan.Timings },
		"units":    func() []string { return unitNames },
		"weekdays": weekdayValues,
		"weekday": func(t time.Time, loc *time.Location) string {
			return text.T(lang, "weekday."+strconv.Itoa(int(t.In(loc).Weekday())))
		},
		"hasPrefix":  strings.HasPrefix,
		"langSwitch": func() text.Locale { return map[text.Locale]text.Locale{text.EN: text.ZH, text.ZH: text.EN}[lang] },
	}
	// t, tl and T are the one lookup's (text.FuncMap).
	for k, f := range text.FuncMap(lang) {
		fm[k] = f
	}
	return fm
}

// pageNames lists every page template (templates/<name>.html).
var pageNames = []string{
	"login", "home", "courses", "course", "course_form", "session", "session_form", "session_copy", "roster",
	"timeline", "touchpoint_form", "board", "results", "health", "audit", "accounts",
	"account_form", "password", "confirm", "error", "teachers", "qr", "directory", "webhooks",
	"campaigns", "campaign_form", "campaign", "campaign_report", "campaign_sendtime", "digests",
}

func (c *Console) parseTemplates() error {
	c.pages = map[text.Locale]map[string]pageTemplate{}
	shared := []string{"templates/layout.html", "templates/partials.html"}
	for _, lang := range text.Locales {
		c.pages[lang] = map[string]pageTemplate{}
		for _, name := range pageNames {
			files := append(append([]string{}, shared...), "templates/"+name+".html")
			t, err := template.New(name).Funcs(c.templateFuncs(lang)).ParseFS(templateFS, files...)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			c.pages[lang][name] = t
		}
	}
	// Every template file is a page or shared.
	entries, _ := fs.ReadDir(templateFS, "templates")
	known := map[string]bool{"layout.html": true, "partials.html": true}
	for _, n := range pageNames {
		known[n+".html"] = true
	}
	for _, e := range entries {
		if !known[e.Name()] {
			return fmt.Errorf("template %s is not listed in pageNames", e.Name())
		}
	}
	return nil
}

// render executes page name into a buffer first, so a template error never
// sends half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, code int, name string, p *page) {
	t := c.pages[p.Lang][name]
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		c.log().Error("console: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// renderFragment executes one named template of a page (the live board).
func (c *Console) renderFragment(lang text.Locale, pageName, tmpl string, p *page) ([]byte, error) {
	var buf bytes.Buffer
	if err := c.pages[lang][pageName].ExecuteTemplate(&buf, tmpl, p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type errorData struct {
	Code    int
	Message string
}

func (c *Console) renderError(w http.ResponseWriter, r *http.Request, v *viewer, code int, key string, args ...any) {
	p := c.newPage(r, v, "error.title")
	p.Data = errorData{Code: code, Message: text.T(p.Lang, key, args...)}
	c.render(w, r, code, "error", p)
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request, v *viewer) {
	c.renderError(w, r, v, http.StatusNotFound, "error.not_found")
}

func (c *Console) forbidden(w http.ResponseWriter, r *http.Request, v *viewer) {
	c.renderError(w, r, v, http.StatusForbidden, "error.forbidden")
}

func (c *Console) internal(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	c.log().Error("console: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	c.renderError(w, r, v, http.StatusInternalServerError, "error.internal")
}

// redirectOK sends the browser to p (inside the console) with a flash key.
func (c *Console) redirectOK(w http.ResponseWriter, r *http.Request, p, flash string) {
	u := c.path(p)
	if flash != "" {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + "ok=" + url.QueryEscape(flash)
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// confirmData is the confirmation page of an action posted without
// "confirmed=1" (the no-JavaScript path; with JavaScript a dialog asks).
type confirmData struct {
	Message string
	Action  string
	Fields  [][2]string
	Back    string
}

// confirmed reports whether the form carries confirmed=1; otherwise it
// renders a confirmation page that re-posts the same fields, and nothing is
// changed.
func (c *Console) confirmed(w http.ResponseWriter, r *http.Request, v *viewer, back, msg string) bool {
	if r.PostForm.Get("confirmed") == "1" {
		return true
	}
	p := c.newPage(r, v, "confirm.title")
	d := confirmData{Message: msg, Action: c.d.Prefix + r.URL.Path, Back: c.path(back)}
	keys := make([]string, 0, len(r.PostForm))
	for k := range r.PostForm {
		if k != "csrf" && k != "confirmed" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, val := range r.PostForm[k] {
			d.Fields = append(d.Fields, [2]string{k, val})
		}
	}
	p.Data = d
	c.render(w, r, http.StatusOK, "confirm", p)
	return false
}

func pathID(r *http.Request) (uint64, bool) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}
