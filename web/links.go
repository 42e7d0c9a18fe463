package web

import (
	"embed"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

type pageData struct {
	Title   string
	Heading string
	Text    string
	Lang    text.Locale
	Session *store.Session
	Course  *store.Course
	Span    string
	Status  string
	Action  string
	Button  string
	OK      bool
}

func (s *Server) render(w http.ResponseWriter, code int, name string, d pageData) {
	if d.Lang == "" {
		d.Lang = text.Parse(s.Locale)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(code)
	if err := pages.ExecuteTemplate(w, name, d); err != nil {
		s.log().Error("render page", "page", name, "err", err)
	}
}

func (s *Server) notFound(w http.ResponseWriter) {
	lang := text.Parse(s.Locale)
	d := pageData{Lang: lang, Title: "404", Heading: text.T(lang, "web:not_found.heading"), Text: text.T(lang, "web:not_found.text")}
	s.render(w, http.StatusNotFound, "message.html", d)
}

// link records a click on a tracked link and redirects to its target. The
// click is stored (its batch committed) before the redirect is answered; a
// click that could not be stored is answered 503, never redirected. Only
// http(s) targets with a host are followed (the target is inside the signed
// token, so nobody else can name one).
func (s *Server) link(w http.ResponseWriter, r *http.Request) {
	s.serveLink(w, r, r.PathValue("token"))
}

// serveLink is link for the token tok (Handler's fast path calls it too).
func (s *Server) serveLink(w http.ResponseWriter, r *http.Request, tok string) {
	c, err := s.Signer.Verify(tok, bot.TokenLink)
	if err != nil {
		s.notFound(w)
		return
	}
	loc, ok := s.links.location(c.Extra)
	if !ok {
		s.notFound(w)
		return
	}
	f, found, err := s.clickFacts(r, c.DeliveryID)
	if err != nil {
		s.log().Error("load delivery for click", "err", err)
		http.Error(w, "temporarily unavailable, try again", http.StatusServiceUnavailable)
		return
	}
	if !found {
		s.notFound(w)
		return
	}
	ua := UAClass(r.UserAgent())
	click := store.Click{DeliveryID: c.DeliveryID, TouchpointID: f.touchpointID, EmployeeID: f.employeeID, Target: cut.Runes(c.Extra, 1024), UAClass: ua, Platform: f.platform, ClickedAt: s.now()}
	// A link of an anonymous survey is stored without its person.
	click, err = s.Clicks.Anonymize(r.Context(), click)
	if err == nil {
		err = s.Clicks.Record(r.Context(), click)
	}
	if err != nil {
		s.log().Error("record click", "err", err)
		http.Error(w, "temporarily unavailable, try again", http.StatusServiceUnavailable)
		return
	}
	if s.Router != nil {
		s.Router.Metrics.Click(ua)
	}
	redirect(w, r, loc)
}

// Header values of a redirect (see hvDeny).
var (
	hvNoStore    = []string{"no-store"}
	hvNoReferrer = []string{"no-referrer"}
	hvHTML       = []string{"text/html; charset=utf-8"}
)

// redirect answers 302 to the absolute URL loc, as http.Redirect does for
// one (Location, and for GET a short HTML note), without parsing loc again;
// nothing on the way may cache it or pass this page on as the referrer.
func redirect(w http.ResponseWriter, r *http.Request, loc string) {
	h := w.Header()
	h["Location"] = []string{loc}
	h["Cache-Control"] = hvNoStore
	h["Referrer-Policy"] = hvNoReferrer
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		h["Content-Type"] = hvHTML
	}
	w.WriteHeader(http.StatusFound)
	if r.Method == http.MethodGet {
		_, _ = io.WriteString(w, "<a href=\""+template.HTMLEscapeString(loc)+"\">Found</a>.\n")
	}
}

// checkinDelivery is the delivery the {token} of a check-in page names,
// with the page's language and its common fields. It answers 503 or 404
// itself and returns false when the handler must stop.
func (s *Server) checkinDelivery(w http.ResponseWriter, r *http.Request) (bot.DeliveryContext, pageData, bool) {
	c, err := s.Signer.Verify(r.PathValue("token"), bot.TokenCheckin)
	if err != nil {
		s.notFound(w)
		return bot.DeliveryContext{}, pageData{}, false
	}
	dc, err := s.commands().Delivery(r.Context(), c.DeliveryID)
	switch {
	case errors.Is(err, command.ErrNotFound):
		s.notFound(w)
		return dc, pageData{}, false
	case err != nil:
		http.Error(w, "temporarily unavailable, try again", http.StatusServiceUnavailable)
		return dc, pageData{}, false
	}
	lang := text.Parse(dc.Employee.Locale)
	if dc.Employee.Locale == "" {
		lang = text.Parse(dc.Session.Locale)
	}
	d := pageData{Lang: lang, Title: dc.Course.Title, Heading: dc.Course.Title, Session: &dc.Session, Course: &dc.Course, Span: bot.FormatSpan(dc.Session)}
	return dc, d, true
}

// checkinPage shows the fallback check-in page. GET never changes anything.
func (s *Server) checkinPage(w http.ResponseWriter, r *http.Request) {
	dc, d, ok := s.checkinDelivery(w, r)
	if !ok {
		return
	}
	d.Action, d.Button = r.URL.Path, text.T(d.Lang, "bot:button.checkin")
	if ci, ok, err := s.commands().CheckinOf(r.Context(), dc.Session.ID, dc.Employee.ID); err == nil && ok {
		d.Status = bot.CheckinStatus(d.Lang, ci, bot.SessionLocation(dc.Session))
		d.Button = ""
	}
	s.render(w, http.StatusOK, "checkin.html", d)
}

// checkinSubmit records a check-in from the fallback page.
func (s *Server) checkinSubmit(w http.ResponseWriter, r *http.Request) {
	dc, d, ok := s.checkinDelivery(w, r)
	if !ok {
		return
	}
	reply, err := s.Router.CheckinDelivery(r.Context(), dc.Delivery.ID, store.SourceLink)
	if err != nil {
		s.log().Error("check-in from page", "err", err)
		http.Error(w, "temporarily unavailable, try again", http.StatusServiceUnavailable)
		return
	}
	d.Text, d.OK = reply.Toast, reply.OK
	if reply.Card != nil {
		d.Status = reply.Card.Status
	}
	code := http.StatusOK
	if !reply.OK {
		code = http.StatusConflict
	}
	s.render(w, code, "checkin.html", d)
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	lang := text.Parse(s.Locale)
	d := pageData{Lang: lang, Title: "learnloop", Heading: "learnloop", Text: text.T(lang, "web:home.text")}
	s.render(w, http.StatusOK, "message.html", d)
}

// clickFacts returns the immutable parts of a delivery a click stores
// (touchpoint, employee, platform), cached: a click storm reads each
// delivery once.
func (s *Server) clickFacts(r *http.Request, id uint64) (clickFacts, bool, error) {
	if f, ok := s.links.facts(id); ok {
		return f, true, nil
	}
	d, err := s.commands().DeliveryFacts(r.Context(), id)
	if errors.Is(err, command.ErrNotFound) {
		return clickFacts{}, false, nil
	}
	if err != nil {
		return clickFacts{}, false, err
	}
	f := clickFacts{touchpointID: d.TouchpointID, employeeID: d.EmployeeID, platform: d.Platform}
	s.links.storeFacts(id, f)
	return f, true, nil
}

// clickFacts are the columns of a delivery that a click copies; they never
// change.
type clickFacts struct {
	touchpointID, employeeID uint64
	platform                 string
}

// linkCache keeps what the /l/ path looks up on every click: each
// delivery's click facts and each target's checked redirect location. Both
// are bounded: a full map starts over rather than grow without limit. Plain
// maps under one RWMutex, not sync.Map, whose any keys would allocate a
// uint64 on every lookup.
type linkCache struct {
	mu   sync.RWMutex
	byID map[uint64]clickFacts
	locs map[string]string // target → Location; "" when the target is refused
}

// Bounds of linkCache.
const (
	linkCacheFacts = 200000
	linkCacheLocs  = 10000
)

func (c *linkCache) facts(id uint64) (clickFacts, bool) {
	c.mu.RLock()
	f, ok := c.byID[id]
	c.mu.RUnlock()
	return f, ok
}

func (c *linkCache) storeFacts(id uint64, f clickFacts) {
	c.mu.Lock()
	if c.byID == nil || len(c.byID) >= linkCacheFacts {
		c.byID = make(map[uint64]clickFacts)
	}
	c.byID[id] = f
	c.mu.Unlock()
}

// location returns the Location a redirect to target answers with, false
// when target is not an http(s) URL with a host.
func (c *linkCache) location(target string) (string, bool) {
	c.mu.RLock()
	loc, ok := c.locs[target]
	c.mu.RUnlock()
	if !ok {
		loc = redirectLocation(target)
		c.mu.Lock()
		if c.locs == nil || len(c.locs) >= linkCacheLocs {
			c.locs = make(map[string]string)
		}
		c.locs[target] = loc
		c.mu.Unlock()
	}
	return loc, loc != ""
}

// redirectLocation is target as a redirect's Location, "" when target is not
// an http(s) URL with a host.
func redirectLocation(target string) string {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return u.String()
}
