package web

import (
	"embed"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/command"
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
	c, err := s.Signer.Verify(r.PathValue("token"), bot.TokenLink)
	if err != nil {
		s.notFound(w)
		return
	}
	target, err := url.Parse(c.Extra)
	if err != nil || (target.Scheme != "https" && target.Scheme != "http") || target.Host == "" {
		s.notFound(w)
		return
	}
	d, found, err := s.deliveryFacts(r, c.DeliveryID)
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
	click := store.Click{DeliveryID: d.ID, TouchpointID: d.TouchpointID, EmployeeID: d.EmployeeID, Target: truncate(c.Extra, 1024), UAClass: ua, Platform: d.Platform, ClickedAt: s.now()}
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
	redirect(w, r, target.String())
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

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
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

// deliveryFacts returns the immutable parts of a delivery (touchpoint,
// employee, platform), cached: a click storm reads each delivery once.
func (s *Server) deliveryFacts(r *http.Request, id uint64) (store.Delivery, bool, error) {
	if v, ok := s.facts.Load(id); ok {
		return v.(store.Delivery), true, nil
	}
	d, err := s.commands().DeliveryFacts(r.Context(), id)
	if errors.Is(err, command.ErrNotFound) {
		return d, false, nil
	}
	if err != nil {
		return d, false, err
	}
	if s.factsN.Add(1) > 200000 {
		// Bounded: start over rather than grow without limit.
		s.facts.Clear()
		s.factsN.Store(0)
	}
	s.facts.Store(id, d)
	return d, true, nil
}
