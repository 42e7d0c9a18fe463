package console

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/presence"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// qrData is the projector page: the session, the current code (also as a
// PNG) and where the page's script fetches the next one.
type qrData struct {
	Sess     store.Session
	Course   store.Course
	Span     string
	Display  presence.Display
	PNG      string // base64
	CodeURL  string
	RoomHost string
	Back     string
}

// qrJSON is what the projector's script fetches at every rotation.
type qrJSON struct {
	presence.Display
	PNG string `json:"png"`
}

func qrPNG(content string) (string, error) {
	png, err := qrcode.Encode(content, qrcode.Medium, 720)
	if err != nil {
		return "", fmt.Errorf("encode qr code: %w", err)
	}
	return base64.StdEncoding.EncodeToString(png), nil
}

// hostPath is u without its scheme ("learn.example.com/q/"): what people
// type.
func hostPath(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Host + p.Path
	}
	return u
}

// projector is what the projector shows of sess now: the display (code,
// room code, counts) and its QR code as a base64 PNG.
func (c *Console) projector(ctx context.Context, sess store.Session) (presence.Display, string, error) {
	d, err := c.d.Presence.Display(ctx, sess)
	if err != nil {
		return d, "", err
	}
	png, err := qrPNG(d.URL)
	return d, png, err
}

// qrPage is the full-screen projector page of a session's venue QR code.
// Only those who may manage the session (write access) open it.
func (c *Console) qrPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.writeSession(w, r, v, c.d.Presence != nil)
	if !ok {
		return
	}
	d, png, err := c.projector(r.Context(), sc.Sess)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	p := c.newPage(r, v, "qr.title")
	p.Data = qrData{
		Sess: sc.Sess, Course: sc.Course, Span: bot.FormatSpan(sc.Sess), Display: d, PNG: png,
		CodeURL: c.path(fmt.Sprintf("/sessions/%d/qr/code", sc.Sess.ID)), RoomHost: hostPath(d.RoomURL),
		Back: c.path(fmt.Sprintf("/sessions/%d/presence", sc.Sess.ID)),
	}
	b, err := c.renderFragment(p.Lang, "qr", "projector", p)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// qrCode is the projector script's JSON: the current code and counts.
func (c *Console) qrCode(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.writeSession(w, r, v, c.d.Presence != nil)
	if !ok {
		return
	}
	d, png, err := c.projector(r.Context(), sc.Sess)
	if err == nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(qrJSON{Display: d, PNG: png})
		return
	}
	c.log().Error("console: qr code", "session", sc.Sess.ID, "err", err)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"error":"unavailable"}`))
}

// presenceData is the presence settings page.
type presenceData struct {
	Sess       store.Session
	Rules      presence.Rules
	Counts     presence.Counts
	Definition string
	Surveys    []surveyIdentityRow
	Write      bool
	QR         string
}

type surveyIdentityRow struct {
	ID        uint64
	Title     string
	Anonymous bool
	Required  bool
}

func (c *Console) presenceView(r *http.Request, sc sessionCtx, rules presence.Rules) (presenceData, error) {
	def := "presence.definition_any"
	if rules.RequireOnsite {
		def = "presence.definition_onsite"
	}
	d := presenceData{Sess: sc.Sess, Rules: rules, Definition: text.T(langOf(r), def), Write: sc.Access == accessWrite,
		QR: c.path(fmt.Sprintf("/sessions/%d/qr", sc.Sess.ID))}
	disp, err := c.d.Presence.Display(r.Context(), sc.Sess)
	if err != nil {
		return d, err
	}
	d.Counts = disp.Counts
	svs, err := c.commands().SurveysOf(r.Context(), sc.Sess.ID, false)
	if err != nil {
		return d, err
	}
	for _, sv := range svs {
		req, err := c.d.Presence.SurveyIdentityRequired(r.Context(), sv.ID)
		if err != nil {
			return d, err
		}
		d.Surveys = append(d.Surveys, surveyIdentityRow{ID: sv.ID, Title: sv.Title, Anonymous: sv.Anonymous, Required: req})
	}
	return d, nil
}

// presencePage shows a session's presence rules: on-site check-in, QR
// rotation, geofence, app identity on /c/ and on named surveys.
func (c *Console) presencePage(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.writeSession(w, r, v, c.d.Presence != nil)
	if !ok {
		return
	}
	rules, err := c.d.Presence.Settings(r.Context(), sc.Sess.ID)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d, err := c.presenceView(r, sc, rules)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	p := c.newPage(r, v, "presence.title")
	p.Session = c.head(sc, "presence")
	p.Data = d
	c.render(w, r, http.StatusOK, "qr", p)
}

// presenceFieldKeys localizes the settings' validation errors.
var presenceFieldKeys = map[string]string{
	"rotate_seconds": "presence.err_rotate",
	"latitude":       "presence.err_latitude",
	"longitude":      "presence.err_longitude",
	"radius_m":       "presence.err_radius",
}

// presenceSave stores the rules through the one door (validated, audited);
// invalid input changes nothing and shows every bad field.
func (c *Console) presenceSave(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.writeSession(w, r, v, c.d.Presence != nil)
	if !ok {
		return
	}
	f := r.PostForm
	p := c.newPage(r, v, "presence.title")
	p.Session = c.head(sc, "presence")
	num := func(name string) float64 {
		s := strings.TrimSpace(f.Get(name))
		if s == "" {
			return 0
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			p.fieldError(name, presenceFieldKeys[name])
			return 0
		}
		return x
	}
	rules := presence.Rules{
		RequireOnsite: f.Get("require_onsite") == "1", RotateSeconds: int(num("rotate_seconds")),
		Geofence: f.Get("geofence") == "1", RequireIdentity: f.Get("require_identity") == "1",
	}
	if rules.Geofence {
		rules.Latitude, rules.Longitude, rules.RadiusMeters = num("latitude"), num("longitude"), int(num("radius_m"))
	}
	if err := rules.Validate(); err != nil {
		var ve *presence.ValidationError
		if errors.As(err, &ve) {
			for _, fe := range ve.Fields {
				p.fieldError(fe.Field, presenceFieldKeys[fe.Field])
			}
		}
	}
	if p.hasErrors() {
		p.fieldError("", "presence.not_saved")
		d, err := c.presenceView(r, sc, rules)
		if err != nil {
			c.internal(w, r, v, err)
			return
		}
		p.Data = d
		c.render(w, r, http.StatusUnprocessableEntity, "qr", p)
		return
	}
	if err := c.d.Presence.SaveSettings(r.Context(), sc.Sess.ID, rules, v.name()); err != nil {
		c.internal(w, r, v, err)
		return
	}
	svs, err := c.commands().SurveysOf(r.Context(), sc.Sess.ID, true)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	for _, sv := range svs {
		want := f.Get(fmt.Sprintf("survey_%d", sv.ID)) == "1"
		had, err := c.d.Presence.SurveyIdentityRequired(r.Context(), sv.ID)
		if err == nil && had != want {
			err = c.d.Presence.SetSurveyIdentity(r.Context(), sv.ID, want, v.name())
		}
		if err != nil {
			c.internal(w, r, v, err)
			return
		}
	}
	c.redirectOK(w, r, fmt.Sprintf("/sessions/%d/presence", sc.Sess.ID), "presence_saved")
}
