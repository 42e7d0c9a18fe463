package surveys

import (
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

//go:embed form.html
var formFS embed.FS

var formTmpl = template.Must(template.New("form.html").Funcs(template.FuncMap{
	"T": text.T,
	"seq": func(a, b int) []int {
		out := []int{}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
		return out
	},
	"str": strconv.Itoa,
	"has": func(vals []string, v string) bool {
		for _, x := range vals {
			if x == v {
				return true
			}
		}
		return false
	},
}).ParseFS(formFS, "form.html"))

// formQuestion is one question as the form shows it.
type formQuestion struct {
	Q       Question
	N       int
	Text    string
	Help    string
	Values  []string // current answer(s)
	Error   string
	Options []formOption
	Scale   []formOption
}

type formOption struct {
	Value, Label string
}

type formPage struct {
	Lang                                      text.Locale
	Title, Intro, Subject, Course, Span       string
	Anonymous, Closed, Expired, Thanks, Saved bool
	// Elsewhere: an anonymous survey this person has answered, opened
	// without the key of that answer.
	Elsewhere            bool
	Closes               string
	Questions            []formQuestion
	ErrorCount, Answered int
	Action, StorageKey   string
	Status               int
}

// FormHandler serves the survey form at /s/{token}: GET shows it with the
// current answers, POST saves progress or submits. A submit with any invalid
// or missing required answer changes nothing.
func (s *Service) FormHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /s/{token}", s.formGet)
	mux.HandleFunc("POST /s/{token}", s.formPost)
	return mux
}

type formCtx struct {
	dc  bot.DeliveryContext
	sv  store.Survey
	def Definition
	loc text.Locale
	sub *store.Employee
	// keys are the edit keys this request holds for an anonymous survey:
	// the link's, then the cookie's.
	keys [][]byte
}

// load verifies the token and loads the survey. It writes the error page
// itself and returns false when the request cannot go on.
func (s *Service) load(w http.ResponseWriter, r *http.Request) (formCtx, bool) {
	lang := text.Parse(r.URL.Query().Get("lang"))
	claims, err := s.Signer.Verify(r.PathValue("token"), bot.TokenSurvey)
	if errors.Is(err, bot.ErrTokenExpired) {
		s.page(w, formPage{Lang: lang, Expired: true, Status: http.StatusGone, Title: text.T(lang, "surveys:form.expired")})
		return formCtx{}, false
	}
	if err != nil {
		s.page(w, formPage{Lang: lang, Expired: true, Status: http.StatusNotFound, Title: text.T(lang, "surveys:form.expired")})
		return formCtx{}, false
	}
	dc, err := bot.LoadDelivery(r.Context(), s.DB, claims.DeliveryID)
	if errors.Is(err, bot.ErrNotFound) {
		s.page(w, formPage{Lang: lang, Expired: true, Status: http.StatusNotFound, Title: text.T(lang, "surveys:form.expired")})
		return formCtx{}, false
	}
	if err != nil {
		s.log().Error("survey form: load delivery", "err", err)
		http.Error(w, "temporarily unavailable, try again", http.StatusServiceUnavailable)
		return formCtx{}, false
	}
	fc := formCtx{dc: dc}
	if k := tokenKey(claims); k != nil {
		fc.keys = append(fc.keys, k)
	}
	if r.URL.Query().Get("lang") == "" {
		fc.loc = text.Parse(dc.Employee.Locale)
		if dc.Employee.Locale == "" {
			fc.loc = text.Parse(dc.Session.Locale)
		}
	} else {
		fc.loc = lang
	}
	fc.sv, err = s.surveyOf(r.Context(), s.DB, dc.Touchpoint)
	if err != nil {
		s.page(w, formPage{Lang: fc.loc, Expired: true, Status: http.StatusNotFound, Title: text.T(fc.loc, "surveys:form.expired")})
		return fc, false
	}
	if fc.def, err = SurveyDefinition(fc.sv); err != nil {
		s.log().Error("survey form: definition", "survey", fc.sv.ID, "err", err)
		http.Error(w, "survey unavailable", http.StatusInternalServerError)
		return fc, false
	}
	if dc.Delivery.SubjectID != 0 {
		var e store.Employee
		if err := s.DB.WithContext(r.Context()).Limit(1).Find(&e, dc.Delivery.SubjectID).Error; err == nil && e.ID != 0 {
			fc.sub = &e
		}
	}
	if fc.sv.Anonymous {
		if c, err := r.Cookie(keyCookie(fc.sv.ID, dc.Delivery.SubjectID)); err == nil {
			if k, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil && len(k) == 32 {
				fc.keys = append(fc.keys, k)
			}
		}
	} else {
		fc.keys = nil
	}
	if !Open(fc.sv, s.now()) {
		closed := fc.sv.ClosesAt.In(bot.SessionLocation(dc.Session)).Format("2006-01-02 15:04")
		s.page(w, formPage{Lang: fc.loc, Closed: true, Status: http.StatusGone, Title: text.T(fc.loc, "surveys:form.closed"), Closes: closed})
		return fc, false
	}
	if !fc.sv.Anonymous && s.RequireIdentity != nil && !s.RequireIdentity(w, r, fc.sv.ID, dc.Employee) {
		return fc, false
	}
	return fc, true
}

// current returns the answers this request may see: the person's own for a
// named survey; for an anonymous one, the answers that one of the request's
// edit keys opens (and that key). elsewhere reports an anonymous survey the
// person answered under a key this request does not hold.
func (s *Service) current(ctx context.Context, fc formCtx) (vals map[string][]string, key []byte, elsewhere bool, err error) {
	var resp store.SurveyResponse
	db := s.DB.WithContext(ctx)
	if !fc.sv.Anonymous {
		err = db.Where("survey_id = ? AND respondent_key = ? AND subject_id = ?", fc.sv.ID, "e:"+strconv.FormatUint(fc.dc.Employee.ID, 10), fc.dc.Delivery.SubjectID).Limit(1).Find(&resp).Error
	} else {
		for _, k := range fc.keys {
			if err = db.Where("survey_id = ? AND respondent_key = ? AND subject_id = ?", fc.sv.ID, store.EditKeyHash(k), fc.dc.Delivery.SubjectID).Limit(1).Find(&resp).Error; err != nil || resp.ID != 0 {
				key = k
				break
			}
		}
		if err == nil && resp.ID == 0 {
			var n int64
			err = db.Model(&store.SurveyParticipation{}).Where("survey_id = ? AND employee_id = ? AND subject_id = ?", fc.sv.ID, fc.dc.Employee.ID, fc.dc.Delivery.SubjectID).Count(&n).Error
			elsewhere = n > 0
		}
	}
	if err != nil || resp.ID == 0 {
		return map[string][]string{}, nil, elsewhere, err
	}
	var as []store.SurveyAnswer
	if err := db.Where("response_id = ?", resp.ID).Find(&as).Error; err != nil {
		return nil, nil, false, err
	}
	out := map[string][]string{}
	for _, a := range as {
		q, ok := fc.def.Question(a.QuestionKey)
		switch {
		case !ok:
		case q.Type == TypeMulti:
			out[a.QuestionKey] = decodeList(a.Text)
		case a.Number != nil:
			out[a.QuestionKey] = []string{strconv.FormatFloat(*a.Number, 'f', -1, 64)}
		default:
			out[a.QuestionKey] = []string{a.Text}
		}
	}
	return out, key, false, nil
}

// keyCookie names the cookie that keeps an anonymous response's edit key on
// the respondent's device (for links that do not carry it).
func keyCookie(surveyID, subjectID uint64) string {
	return fmt.Sprintf("ll_sk_%d_%d", surveyID, subjectID)
}

// setKeyCookie stores an anonymous response's edit key in the respondent's
// browser until the survey closes (path /s/, HttpOnly).
func setKeyCookie(w http.ResponseWriter, r *http.Request, fc formCtx, key []byte) {
	if len(key) == 0 {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: keyCookie(fc.sv.ID, fc.dc.Delivery.SubjectID), Value: base64.RawURLEncoding.EncodeToString(key),
		Path: "/s/", Expires: fc.sv.ClosesAt.Add(24 * time.Hour), HttpOnly: true, Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https",
		SameSite: http.SameSiteLaxMode,
	})
}

// elsewherePage tells a respondent of an anonymous survey that their answer
// exists but cannot be opened from this link: nothing links it to them.
func (s *Service) elsewherePage(w http.ResponseWriter, fc formCtx) {
	closes := fc.sv.ClosesAt.In(bot.SessionLocation(fc.dc.Session)).Format("2006-01-02 15:04")
	s.page(w, formPage{Lang: fc.loc, Elsewhere: true, Status: http.StatusConflict, Title: text.T(fc.loc, "surveys:form.elsewhere"), Closes: closes})
}

func (s *Service) build(fc formCtx, r *http.Request, values map[string][]string, errs map[string]string) formPage {
	loc := fc.loc
	p := formPage{
		Lang: loc, Title: fc.def.Title.In(loc), Intro: fc.def.Intro.In(loc), Course: fc.dc.Course.Title,
		Span: bot.FormatSpan(fc.dc.Session), Anonymous: fc.sv.Anonymous, Action: r.URL.Path,
		Closes:     fc.sv.ClosesAt.In(bot.SessionLocation(fc.dc.Session)).Format("2006-01-02 15:04"),
		StorageKey: fmt.Sprintf("learnloop-survey-%d-%d-%d", fc.sv.ID, fc.dc.Delivery.ID, fc.dc.Delivery.SubjectID),
		Status:     http.StatusOK,
	}
	if r.URL.Query().Get("lang") != "" {
		p.Action += "?lang=" + string(loc)
	}
	if fc.sub != nil {
		p.Subject = fc.sub.Name
	}
	for i, q := range fc.def.Questions {
		fq := formQuestion{Q: q, N: i + 1, Text: q.Text.In(loc), Help: q.Help.In(loc), Values: values[q.Key], Error: errs[q.Key]}
		if fq.Error != "" {
			p.ErrorCount++
		}
		if len(fq.Values) > 0 && strings.TrimSpace(strings.Join(fq.Values, "")) != "" {
			p.Answered++
		}
		for _, o := range q.Options {
			fq.Options = append(fq.Options, formOption{Value: o.ID, Label: o.Label.In(loc)})
		}
		switch q.Type {
		case TypeRating:
			for v := 1; v <= 5; v++ {
				fq.Scale = append(fq.Scale, formOption{Value: strconv.Itoa(v), Label: strconv.Itoa(v)})
			}
		case TypeNPS:
			for v := 0; v <= 10; v++ {
				fq.Scale = append(fq.Scale, formOption{Value: strconv.Itoa(v), Label: strconv.Itoa(v)})
			}
		case TypeFrequency:
			for v := 1; v <= 5; v++ {
				fq.Scale = append(fq.Scale, formOption{Value: strconv.Itoa(v), Label: text.T(loc, "surveys:freq."+strconv.Itoa(v))})
			}
		case TypeChange:
			for v := -3; v <= 3; v++ {
				label := strconv.Itoa(v)
				if v > 0 {
					label = "+" + label
				}
				fq.Scale = append(fq.Scale, formOption{Value: strconv.Itoa(v), Label: label})
			}
		}
		p.Questions = append(p.Questions, fq)
	}
	return p
}

func (s *Service) page(w http.ResponseWriter, p formPage) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; form-action 'self'; base-uri 'none'")
	if p.Status == 0 {
		p.Status = http.StatusOK
	}
	w.WriteHeader(p.Status)
	if err := formTmpl.Execute(w, p); err != nil {
		s.log().Error("render survey form", "err", err)
	}
}

func (s *Service) formGet(w http.ResponseWriter, r *http.Request) {
	fc, ok := s.load(w, r)
	if !ok {
		return
	}
	vals, key, elsewhere, err := s.current(r.Context(), fc)
	if err != nil {
		s.log().Error("survey form: current answers", "err", err)
		http.Error(w, "temporarily unavailable, try again", http.StatusServiceUnavailable)
		return
	}
	if elsewhere {
		s.elsewherePage(w, fc)
		return
	}
	setKeyCookie(w, r, fc, key)
	p := s.build(fc, r, vals, nil)
	p.Thanks = r.URL.Query().Get("done") == "1"
	p.Saved = r.URL.Query().Get("saved") == "1"
	s.page(w, p)
}

func (s *Service) formPost(w http.ResponseWriter, r *http.Request) {
	fc, ok := s.load(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	submit := r.PostForm.Get("action") != "save"
	values := map[string][]string{}
	errs := map[string]string{}
	answers := map[string]Answer{}
	for _, q := range fc.def.Questions {
		raw := r.PostForm["q_"+q.Key]
		values[q.Key] = raw
		a, err := q.Parse(raw)
		var ve *ValidationError
		switch {
		case errors.Is(err, ErrEmpty):
			if q.Required && submit {
				errs[q.Key] = text.T(fc.loc, "surveys:form.required_error")
			}
		case errors.As(err, &ve):
			errs[q.Key] = ve.In(fc.loc)
		case err != nil:
			errs[q.Key] = err.Error()
		default:
			answers[q.Key] = a
		}
	}
	if len(errs) > 0 && submit {
		// Nothing is stored: show every problem next to its question.
		p := s.build(fc, r, values, errs)
		p.Status = http.StatusUnprocessableEntity
		s.page(w, p)
		return
	}
	if len(answers) > 0 {
		did := fc.dc.Delivery.ID
		in := saveInput{sv: fc.sv, def: fc.def, who: fc.dc.Employee, subjectID: fc.dc.Delivery.SubjectID, deliveryID: &did, source: "form", answers: answers}
		res, err := s.saveAnswersWithKeys(r.Context(), in, fc.keys)
		if errors.Is(err, ErrAnswered) {
			s.elsewherePage(w, fc)
			return
		}
		if err != nil {
			s.log().Error("survey form: save", "err", err)
			http.Error(w, "temporarily unavailable, your answers were not saved; try again", http.StatusServiceUnavailable)
			return
		}
		setKeyCookie(w, r, fc, res.key)
	}
	if !submit && len(errs) > 0 {
		p := s.build(fc, r, values, errs)
		p.Saved = true
		p.Status = http.StatusUnprocessableEntity
		s.page(w, p)
		return
	}
	q := "done=1"
	if !submit {
		q = "saved=1"
	}
	sep := "?"
	if strings.Contains(r.URL.RawQuery, "lang=") {
		sep = "?lang=" + string(fc.loc) + "&"
	}
	http.Redirect(w, r, r.URL.Path+sep+q, http.StatusSeeOther)
}

func decodeList(s string) []string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "[")
	s = strings.TrimSuffix(s, "]")
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.Trim(strings.TrimSpace(p), `"`)
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
