package presence

import (
	"bytes"
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

//go:embed templates/q.html static/q.js
var assets embed.FS

var pageTmpl = template.Must(template.New("q.html").Funcs(text.FuncMap(text.ZH)).ParseFS(assets, "templates/q.html"))

// Handler serves the /q/ pages: GET /q/{code} (a scanned venue code),
// GET /q/ and POST /q/room (the room code), GET /q/auth/{platform} (the
// app's authorisation answer), POST /q/locate (the geofence position) and
// GET /q/done (the result). Mount it at "/q/".
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /q/{$}", s.roomPage)
	mux.HandleFunc("POST /q/room", s.roomSubmit)
	mux.HandleFunc("GET /q/start/{platform}", s.startPicked)
	mux.HandleFunc("GET /q/auth/{platform}", s.authCallback)
	mux.HandleFunc("POST /q/locate", s.locateSubmit)
	mux.HandleFunc("GET /q/done", s.donePage)
	mux.HandleFunc("GET /q/static/q.js", func(w http.ResponseWriter, r *http.Request) {
		b, _ := assets.ReadFile("static/q.js")
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("GET /q/{code}", s.scan)
	return mux
}

// view is the data of the one /q/ page template.
type view struct {
	Lang    text.Locale
	View    string // message, pick, room, locate, done
	Heading string
	Text    string
	OK      bool
	Error   string
	Name    string
	Nonce   string
	Apps    []appChoice
	Detail  string
	Session string
}

type appChoice struct {
	URL, Name string
}

func (s *Service) render(w http.ResponseWriter, code int, v view) {
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, v); err != nil {
		s.log().Error("presence: render page", "view", v.View, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

func (s *Service) message(w http.ResponseWriter, code int, lang text.Locale, key string, args ...any) {
	s.render(w, code, view{Lang: lang, View: "message", Heading: text.T(lang, "presence:title"), Text: text.T(lang, key, args...)})
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.log().Error("presence: request failed", "path", r.URL.Path, "err", err)
	s.message(w, http.StatusServiceUnavailable, s.lang(r, nil), "presence:msg.error")
}

// lang is ?lang=, else the person's roster language, else the default.
func (s *Service) lang(r *http.Request, e *store.Employee) text.Locale {
	if l := r.URL.Query().Get("lang"); l != "" {
		return text.Parse(l)
	}
	if e != nil && e.Locale != "" {
		return text.Parse(e.Locale)
	}
	return text.Parse(s.d.Locale)
}

func (s *Service) pickPage(w http.ResponseWriter, lang text.Locale) {
	v := view{Lang: lang, View: "pick", Heading: text.T(lang, "presence:pick.heading"), Text: text.T(lang, "presence:pick.text")}
	for _, p := range []bot.Platform{bot.PlatformWeCom, bot.PlatformFeishu, bot.PlatformDingTalk} {
		if _, ok := s.d.Providers[p]; ok {
			v.Apps = append(v.Apps, appChoice{URL: "/q/start/" + string(p), Name: platformName(lang, p)})
		}
	}
	s.render(w, http.StatusOK, v)
}

// scan is GET /q/{code}: a venue code read by the phone's scanner.
func (s *Service) scan(w http.ResponseWriter, r *http.Request) {
	lang := s.lang(r, nil)
	now := s.now()
	slot, err := s.codec.parseQR(r.PathValue("code"), now)
	switch {
	case errors.Is(err, ErrCodeExpired):
		s.message(w, http.StatusGone, lang, "presence:msg.code_expired")
		return
	case err != nil:
		s.message(w, http.StatusNotFound, lang, "presence:msg.code_invalid")
		return
	}
	var sess store.Session
	if err := s.d.DB.WithContext(r.Context()).Limit(1).Find(&sess, slot.SessionID).Error; err != nil {
		s.fail(w, r, err)
		return
	}
	if sess.ID == 0 || sess.Status == store.SessionCancelled {
		s.message(w, http.StatusNotFound, lang, "presence:msg.session_gone")
		return
	}
	f := flow{
		Nonce: newNonce(), Kind: flowScan, Session: sess.ID, Slot: slot.N, Method: store.SourceQR,
		Scanned: now.UnixMilli(), Exp: now.Add(FlowTTL).UnixMilli(),
	}
	s.proceed(w, r, f)
}

// proceed identifies the person (the webview's identity, else the app's
// authorisation) and finishes the scan.
func (s *Service) proceed(w http.ResponseWriter, r *http.Request, f flow) {
	if id, e, ok := s.identity(r); ok {
		s.finish(w, r, f, bot.Platform(id.Platform), e)
		return
	}
	s.authorize(w, r, f)
}

// authorize starts the app's authorisation for f, or first asks which app
// the person uses when the request does not say.
func (s *Service) authorize(w http.ResponseWriter, r *http.Request, f flow) {
	p := s.pickPlatform(r)
	if p == "" {
		if err := s.saveFlow(w, f); err != nil {
			s.fail(w, r, err)
			return
		}
		s.pickPage(w, s.lang(r, nil))
		return
	}
	s.startAuth(w, r, f, p)
}

// startPicked is GET /q/start/{platform}: the person chose their app.
func (s *Service) startPicked(w http.ResponseWriter, r *http.Request) {
	p := bot.Platform(r.PathValue("platform"))
	f, ok := s.readFlow(r)
	if !ok {
		s.message(w, http.StatusGone, s.lang(r, nil), "presence:msg.flow_expired")
		return
	}
	if _, ok := s.d.Providers[p]; !ok {
		s.pickPage(w, s.lang(r, nil))
		return
	}
	s.startAuth(w, r, f, p)
}

// authCallback is GET /q/auth/{platform}: the app's answer with a one-time
// code. The state must be the nonce of this browser's flow cookie, so an
// answer forwarded to another phone (or replayed) identifies nobody.
func (s *Service) authCallback(w http.ResponseWriter, r *http.Request) {
	lang := s.lang(r, nil)
	p := bot.Platform(r.PathValue("platform"))
	prov, ok := s.d.Providers[p]
	if !ok {
		s.message(w, http.StatusNotFound, lang, "presence:msg.code_invalid")
		return
	}
	f, ok := s.readFlow(r)
	if !ok {
		s.message(w, http.StatusGone, lang, "presence:msg.flow_expired")
		return
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.Nonce)) != 1 || f.Platform != string(p) {
		s.message(w, http.StatusBadRequest, lang, "presence:msg.state_mismatch")
		return
	}
	code := q.Get("code")
	if code == "" {
		code = q.Get("authCode") // DingTalk's name for it
	}
	if code == "" {
		s.clearFlow(w)
		s.message(w, http.StatusForbidden, lang, "presence:msg.auth_denied")
		return
	}
	userID, err := prov.IdentifyUser(r.Context(), code, s.redirectURI(p))
	if err != nil {
		s.log().Warn("presence: app identity failed", "platform", p, "err", err)
		s.clearFlow(w)
		s.message(w, http.StatusBadGateway, lang, "presence:msg.auth_failed", platformName(lang, p))
		return
	}
	e, err := s.EmployeeFor(r.Context(), p, userID)
	if errors.Is(err, ErrNotOnRoster) {
		s.log().Info("presence: identified person not on the roster", "platform", p)
		s.clearFlow(w)
		s.message(w, http.StatusForbidden, lang, "presence:msg.not_on_roster", platformName(lang, p))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.saveIdentity(w, ident{Platform: string(p), UserID: userID, EmployeeID: e.ID}); err != nil {
		s.fail(w, r, err)
		return
	}
	if f.Kind == flowIdentify {
		s.clearFlow(w)
		ret := f.Return
		if !strings.HasPrefix(ret, "/") || strings.HasPrefix(ret, "//") {
			ret = "/q/"
		}
		http.Redirect(w, r, ret, http.StatusFound)
		return
	}
	s.finish(w, r, f, p, e)
}

// finish records the scan, or asks for the position first when the session
// has a geofence.
func (s *Service) finish(w http.ResponseWriter, r *http.Request, f flow, p bot.Platform, e store.Employee) {
	rules, err := s.Settings(r.Context(), f.Session)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if rules.Geofence {
		if err := s.saveFlow(w, f); err != nil {
			s.fail(w, r, err)
			return
		}
		lang := s.lang(r, &e)
		s.render(w, http.StatusOK, view{Lang: lang, View: "locate", Heading: text.T(lang, "presence:locate.heading"), Text: text.T(lang, "presence:locate.text"), Nonce: f.Nonce, Name: e.Name})
		return
	}
	s.record(w, r, f, p, e, nil)
}

func (s *Service) record(w http.ResponseWriter, r *http.Request, f flow, p bot.Platform, e store.Employee, loc *Location) {
	lang := s.lang(r, &e)
	_, err := s.Record(r.Context(), ScanRequest{
		Nonce: f.Nonce, SessionID: f.Session, Slot: f.Slot, Method: f.Method,
		ScannedAt: time.UnixMilli(f.Scanned).UTC(), EmployeeID: e.ID, Platform: p, Location: loc,
	})
	if err != nil {
		code, key, args := s.refusal(r, err, f, e, lang)
		if code >= 500 {
			s.log().Error("presence: record scan", "session", f.Session, "err", err)
		}
		if !errors.Is(err, ErrLocationImprecise) && !errors.Is(err, ErrLocationNeeded) && !errors.Is(err, ErrOutsideGeofence) {
			s.clearFlow(w) // a position can be retried; nothing else can
		}
		s.message(w, code, lang, key, args...)
		return
	}
	s.clearFlow(w)
	http.Redirect(w, r, "/q/done?n="+f.Nonce, http.StatusSeeOther)
}

// refusal maps a Record error to a page.
func (s *Service) refusal(r *http.Request, err error, f flow, e store.Employee, lang text.Locale) (int, string, []any) {
	switch {
	case errors.Is(err, bot.ErrNotEnrolled):
		return http.StatusForbidden, "presence:msg.not_enrolled", []any{e.Name}
	case errors.Is(err, bot.ErrCheckinNotOpen):
		var sess store.Session
		_ = s.d.DB.WithContext(r.Context()).Limit(1).Find(&sess, f.Session).Error
		opens := bot.SessionWindows(sess).Opens.In(bot.SessionLocation(sess)).Format("01-02 15:04")
		return http.StatusConflict, "presence:msg.not_open", []any{opens}
	case errors.Is(err, bot.ErrCheckinClosed):
		return http.StatusConflict, "presence:msg.closed", nil
	case errors.Is(err, bot.ErrSessionCanceled), errors.Is(err, bot.ErrNotFound):
		return http.StatusGone, "presence:msg.cancelled", nil
	case errors.Is(err, ErrTicketUsed):
		return http.StatusConflict, "presence:msg.ticket_used", nil
	case errors.Is(err, ErrLocationNeeded):
		return http.StatusUnprocessableEntity, "presence:msg.location_needed", nil
	case errors.Is(err, ErrLocationImprecise):
		rules, _ := s.Settings(r.Context(), f.Session)
		acc, _ := strconv.ParseFloat(r.PostFormValue("accuracy"), 64)
		return http.StatusUnprocessableEntity, "presence:msg.location_vague", []any{acc, maxAccuracy(rules.RadiusMeters)}
	case errors.Is(err, ErrOutsideGeofence):
		rules, _ := s.Settings(r.Context(), f.Session)
		lat, _ := strconv.ParseFloat(r.PostFormValue("latitude"), 64)
		lng, _ := strconv.ParseFloat(r.PostFormValue("longitude"), 64)
		return http.StatusForbidden, "presence:msg.outside", []any{Distance(lat, lng, rules.Latitude, rules.Longitude), rules.RadiusMeters}
	}
	return http.StatusServiceUnavailable, "presence:msg.error", nil
}

// locateSubmit is POST /q/locate: the browser's position for a geofence.
func (s *Service) locateSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.message(w, http.StatusBadRequest, s.lang(r, nil), "presence:msg.location_needed")
		return
	}
	f, ok := s.readFlow(r)
	if !ok {
		s.message(w, http.StatusGone, s.lang(r, nil), "presence:msg.flow_expired")
		return
	}
	id, e, ok := s.identity(r)
	if !ok || subtle.ConstantTimeCompare([]byte(r.PostFormValue("nonce")), []byte(f.Nonce)) != 1 {
		s.message(w, http.StatusBadRequest, s.lang(r, nil), "presence:msg.state_mismatch")
		return
	}
	var loc *Location
	lat, e1 := strconv.ParseFloat(r.PostFormValue("latitude"), 64)
	lng, e2 := strconv.ParseFloat(r.PostFormValue("longitude"), 64)
	acc, e3 := strconv.ParseFloat(r.PostFormValue("accuracy"), 64)
	if e1 == nil && e2 == nil && e3 == nil {
		loc = &Location{Latitude: lat, Longitude: lng, AccuracyM: acc}
	}
	s.record(w, r, f, bot.Platform(id.Platform), e, loc)
}

// donePage is GET /q/done?n=: the result of the webview's own scan.
func (s *Service) donePage(w http.ResponseWriter, r *http.Request) {
	lang := s.lang(r, nil)
	_, e, ok := s.identity(r)
	if !ok {
		s.message(w, http.StatusNotFound, lang, "presence:msg.no_result")
		return
	}
	lang = s.lang(r, &e)
	sc, err := scanOf(r.Context(), s.d.DB, r.URL.Query().Get("n"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if sc.ID == 0 || sc.EmployeeID != e.ID {
		s.message(w, http.StatusNotFound, lang, "presence:msg.no_result")
		return
	}
	var ci store.Checkin
	var sess store.Session
	db := s.d.DB.WithContext(r.Context())
	if err := db.Limit(1).Find(&ci, sc.CheckinID).Error; err != nil {
		s.fail(w, r, err)
		return
	}
	if err := db.Limit(1).Find(&sess, sc.SessionID).Error; err != nil {
		s.fail(w, r, err)
		return
	}
	heading := text.T(lang, "presence:done.heading")
	switch sc.Outcome {
	case OutcomeDuplicate:
		heading = text.T(lang, "presence:done.already")
	case OutcomeUpgraded:
		heading = text.T(lang, "presence:done.upgraded")
	}
	at := ci.CheckedInAt.In(bot.SessionLocation(sess)).Format("15:04")
	s.render(w, http.StatusOK, view{
		Lang: lang, View: "done", OK: true, Heading: heading, Name: e.Name, Session: sess.Title,
		Detail: text.T(lang, "presence:done.detail", at, text.T(lang, "presence:kind."+ci.Kind), text.T(lang, "presence:source."+ci.Source)),
	})
}

// roomPage is GET /q/: the room code form, for an identified webview.
func (s *Service) roomPage(w http.ResponseWriter, r *http.Request) {
	_, e, ok := s.identity(r)
	if !ok {
		s.identifyFirst(w, r)
		return
	}
	lang := s.lang(r, &e)
	s.render(w, http.StatusOK, view{Lang: lang, View: "room", Heading: text.T(lang, "presence:room.heading"), Text: text.T(lang, "presence:room.text"), Name: e.Name})
}

func (s *Service) identifyFirst(w http.ResponseWriter, r *http.Request) {
	f := flow{Nonce: newNonce(), Kind: flowIdentify, Return: "/q/", Exp: s.now().Add(FlowTTL).UnixMilli()}
	s.authorize(w, r, f)
}

// Room code attempts: at most maxAttempts wrong codes per person in
// attemptWindow (a 4-digit code must not be guessable from elsewhere).
const (
	maxAttempts   = 5
	attemptWindow = 10 * time.Minute
)

func (s *Service) tooMany(empID uint64, wrong bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	kept := s.attempts[empID][:0]
	for _, t := range s.attempts[empID] {
		if now.Sub(t) < attemptWindow {
			kept = append(kept, t)
		}
	}
	if wrong {
		kept = append(kept, now)
	}
	if len(kept) == 0 {
		delete(s.attempts, empID)
	} else {
		s.attempts[empID] = kept
	}
	if len(s.attempts) > 100000 { // bounded: start over rather than grow
		s.attempts = map[uint64][]time.Time{}
	}
	return len(kept) >= maxAttempts
}

// roomSubmit is POST /q/room: a typed room code, matched among the
// sessions of this person whose check-in is open now.
func (s *Service) roomSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	_ = r.ParseForm()
	id, e, ok := s.identity(r)
	if !ok {
		http.Redirect(w, r, "/q/", http.StatusSeeOther)
		return
	}
	lang := s.lang(r, &e)
	form := view{Lang: lang, View: "room", Heading: text.T(lang, "presence:room.heading"), Text: text.T(lang, "presence:room.text"), Name: e.Name}
	if s.tooMany(e.ID, false) {
		form.Error = text.T(lang, "presence:room.too_many")
		s.render(w, http.StatusTooManyRequests, form)
		return
	}
	code := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		if r >= '０' && r <= '９' { // full-width digits from a Chinese keyboard
			return '0' + (r - '０')
		}
		return -1
	}, r.PostFormValue("code"))
	if len(code) != 4 {
		form.Error = text.T(lang, "presence:room.format")
		s.render(w, http.StatusUnprocessableEntity, form)
		return
	}
	now := s.now()
	var sessions []store.Session
	err := s.d.DB.WithContext(r.Context()).Model(&store.Session{}).
		Joins("JOIN enrollments ON enrollments.session_id = sessions.id").
		Where("enrollments.employee_id = ? AND enrollments.status <> ? AND sessions.status <> ?", e.ID, store.EnrollCancelled, store.SessionCancelled).
		Where("sessions.starts_at <= ? AND sessions.ends_at >= ?", now.Add(48*time.Hour), now.Add(-30*24*time.Hour)).
		Find(&sessions).Error
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var match []store.Session
	var slot int64
	for _, sess := range sessions {
		win := bot.SessionWindows(sess)
		if now.Before(win.Opens) || now.After(win.MakeupUntil) {
			continue
		}
		if n, ok := s.codec.roomMatches(sess.ID, code, now); ok {
			match, slot = append(match, sess), n
		}
	}
	if len(match) != 1 {
		s.tooMany(e.ID, true)
		form.Error = text.T(lang, "presence:room.wrong")
		s.render(w, http.StatusUnprocessableEntity, form)
		return
	}
	f := flow{
		Nonce: newNonce(), Kind: flowScan, Session: match[0].ID, Slot: slot, Method: store.SourceRoomCode,
		Scanned: now.UnixMilli(), Exp: now.Add(FlowTTL).UnixMilli(),
	}
	s.finish(w, r, f, bot.Platform(id.Platform), e)
}

// platformName is the chat app's name as the /q/ pages say it.
func platformName(lang text.Locale, p bot.Platform) string {
	if k := "presence:platform." + string(p); text.Has(k) {
		return text.T(lang, k)
	}
	return text.T(lang, "presence:platform.unknown")
}
