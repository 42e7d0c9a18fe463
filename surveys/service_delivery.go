package surveys

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// responded returns who has answered a survey, as (employee, subject)
// pairs, from the participation table: for a named survey those with a
// complete response; for an anonymous survey everyone with a response,
// complete or not (which of them finished is not recorded — see
// store.ParticipationAnswered).
func (s *Service) responded(ctx context.Context, db *gorm.DB, sv store.Survey) (map[[2]uint64]bool, error) {
	q := db.WithContext(ctx).Model(&store.SurveyParticipation{}).Select("employee_id", "subject_id").Where("survey_id = ?", sv.ID)
	if !sv.Anonymous {
		q = q.Where("status = ?", store.ResponseComplete)
	}
	var rows []store.SurveyParticipation
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load participation: %w", err)
	}
	out := make(map[[2]uint64]bool, len(rows))
	for _, r := range rows {
		out[[2]uint64{r.EmployeeID, r.SubjectID}] = true
	}
	return out, nil
}

// cachedSurvey is surveyOf with its definition, cached for a short time: a
// fan-out renders thousands of cards of the same survey. (A card rendered
// within surveyCacheTTL of a change may show the old closing time.)
func (s *Service) cachedSurvey(ctx context.Context, tp store.Touchpoint) (store.Survey, Definition, error) {
	type entry struct {
		sv  store.Survey
		def Definition
		at  time.Time
	}
	now := time.Now()
	if v, ok := s.cache.Load(tp.SurveyID); ok {
		if e := v.(entry); now.Sub(e.at) < surveyCacheTTL {
			return e.sv, e.def, nil
		}
	}
	sv, err := s.surveyOf(ctx, s.DB, tp)
	if err != nil {
		return sv, Definition{}, err
	}
	def, err := SurveyDefinition(sv)
	if err != nil {
		return sv, def, err
	}
	s.cache.Store(tp.SurveyID, entry{sv: sv, def: def, at: now})
	return sv, def, nil
}

const surveyCacheTTL = 30 * time.Second

func (s *Service) surveyOf(ctx context.Context, db *gorm.DB, tp store.Touchpoint) (store.Survey, error) {
	if tp.SurveyID == 0 {
		return store.Survey{}, fmt.Errorf("touchpoint %d: %w", tp.ID, errWrongSurvey)
	}
	var sv store.Survey
	if err := db.WithContext(ctx).First(&sv, tp.SurveyID).Error; err != nil {
		return sv, fmt.Errorf("load survey %d: %w", tp.SurveyID, err)
	}
	return sv, nil
}

// followupPairs returns (manager, attendee) pairs: every attendee who checked
// in, with their manager, or the first active one above a manager who left.
func followupPairs(ctx context.Context, db *gorm.DB, sessionID uint64) ([]bot.Target, error) {
	attendees, err := bot.Audience(ctx, db, sessionID, store.AudienceCheckedIn)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, a := range attendees {
		if a.ManagerID != "" {
			ids[a.ManagerID] = true
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	// A resigned or unknown manager is passed over for the next one up
	// the directory's chain (store.EffectiveManagers), and logged.
	steps, err := store.EffectiveManagers(ctx, db, list)
	if err != nil {
		return nil, err
	}
	var out []bot.Target
	var escalated []string
	for _, a := range attendees {
		st := steps[a.ManagerID]
		m := st.Manager
		if len(st.Skipped) > 0 {
			slog.WarnContext(ctx, "manager follow-up escalated past a missing or inactive manager", "session", sessionID,
				"attendee", a.ExternalID, "skipped", st.Skipped, "to", m.ExternalID)
			to := "nobody (no active manager above)"
			if m.ID != 0 {
				to = m.ExternalID + " " + m.Name
			}
			escalated = append(escalated, fmt.Sprintf("attendee %s: manager %s passed over (left or unknown) → %s",
				a.ExternalID, strings.Join(st.Skipped, " → "), to))
		}
		if m.ID == 0 || m.ID == a.ID {
			continue
		}
		subj := a
		out = append(out, bot.Target{Employee: m, Subject: &subj})
	}
	recordEscalations(ctx, db, sessionID, escalated)
	return out, nil
}

// AuditEscalated is the audit action of a manager follow-up that went past
// a missing or resigned manager (one row per session and attendee chain).
const AuditEscalated = "survey.escalated"

// recordEscalations writes an audit row for each escalation not recorded
// yet, so that the console's audit log says whose follow-up went where. It
// records what already happened: on a detached context, and a failure is
// logged, never the delivery's.
func recordEscalations(ctx context.Context, db *gorm.DB, sessionID uint64, details []string) {
	if len(details) == 0 {
		return
	}
	dctx, cancel := store.Detached(ctx, 5*time.Second)
	defer cancel()
	object := fmt.Sprintf("session:%d", sessionID)
	err := store.Retry(dctx, func() error {
		var have []string
		if err := db.WithContext(dctx).Model(&store.AuditLog{}).Where("action = ? AND object = ?", AuditEscalated, object).
			Pluck("detail", &have).Error; err != nil {
			return err
		}
		var rows []store.AuditLog
		for _, d := range details {
			if !slices.Contains(have, d) {
				rows = append(rows, store.AuditLog{Actor: "system", Action: AuditEscalated, Object: object, Detail: d})
			}
		}
		if len(rows) == 0 {
			return nil
		}
		return db.WithContext(dctx).Create(&rows).Error
	})
	if err != nil {
		slog.WarnContext(ctx, "escalations not recorded in the audit log", "session", sessionID, "err", err)
	}
}

// audienceManagers resolves the follow-ups' audiences while the survey is
// open: the managers of attendees, one target per (manager, attendee) pair;
// with onlyMissing, the survey's NonRespondents (pairs too).
func (s *Service) audienceManagers(onlyMissing bool) bot.AudienceFunc {
	if onlyMissing {
		return s.audienceNotResponded
	}
	return func(ctx context.Context, db *gorm.DB, tp store.Touchpoint, sess store.Session) ([]bot.Target, error) {
		sv, err := s.surveyOf(ctx, db, tp)
		if err != nil {
			return nil, err
		}
		if !Open(sv, s.now()) {
			return nil, nil
		}
		return followupPairs(ctx, db, sess.ID)
	}
}

// audienceCoordinator: the course owner, when the owner is an employee.
func (s *Service) audienceCoordinator(ctx context.Context, db *gorm.DB, tp store.Touchpoint, sess store.Session) ([]bot.Target, error) {
	var c store.Course
	if err := db.WithContext(ctx).First(&c, sess.CourseID).Error; err != nil {
		return nil, err
	}
	if c.Owner == "" {
		return nil, nil
	}
	var e store.Employee
	if err := db.WithContext(ctx).Where("external_id = ? AND active = ?", c.Owner, true).Limit(1).Find(&e).Error; err != nil {
		return nil, err
	}
	if e.ID == 0 {
		s.log().Warn("escalation has no recipient: the course owner is not an employee", "course", c.ID, "owner", c.Owner)
		return nil, nil
	}
	return []bot.Target{{Employee: e}}, nil
}

// FormURL is the signed, expiring survey form link for a delivery. For an
// anonymous survey key is the edit key the link carries (the respondent's
// secret: the server never stores it, only its hash once they answer);
// nil for a named survey.
func (s *Service) FormURL(deliveryID uint64, expires time.Time, key []byte) string {
	c := bot.Claims{Kind: bot.TokenSurvey, DeliveryID: deliveryID, Expires: expires}
	if len(key) > 0 {
		c.Extra = editKeyPrefix + base64.RawURLEncoding.EncodeToString(key)
	}
	return strings.TrimRight(s.Renderer.PublicURL, "/") + "/s/" + s.Signer.Sign(c)
}

// editKeyPrefix marks the edit key in a survey token's Extra.
const editKeyPrefix = "k="

// tokenKey returns the edit key a survey token's claims carry, or nil.
func tokenKey(c bot.Claims) []byte {
	if !strings.HasPrefix(c.Extra, editKeyPrefix) {
		return nil
	}
	k, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(c.Extra, editKeyPrefix))
	if err != nil || len(k) != 32 {
		return nil
	}
	return k
}

// renderCard renders every survey touchpoint kind. The form link of an
// anonymous survey carries a fresh edit key (see FormURL).
func (s *Service) renderCard(ctx context.Context, r *bot.Renderer, cc bot.CardContext) (bot.Message, error) {
	return s.renderKeyed(ctx, r, cc, nil)
}

// renderKeyed renders a survey card whose anonymous form link carries key
// (a fresh one when key is nil).
func (s *Service) renderKeyed(ctx context.Context, r *bot.Renderer, cc bot.CardContext, key []byte) (bot.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sv, def, err := s.cachedSurvey(ctx, cc.Touchpoint)
	if err != nil {
		return bot.Message{}, err
	}
	if sv.Anonymous && key == nil {
		if key, err = store.NewEditKey(); err != nil {
			return bot.Message{}, err
		}
	}
	if !sv.Anonymous {
		key = nil
	}
	loc := text.Parse(string(cc.Locale))
	course := cc.Course.Title
	m := bot.Message{Key: cc.Key, Kind: cc.Kind, Locale: loc}
	// Links outlive the survey by a month so a late click says "closed"
	// rather than "expired".
	exp := sv.ClosesAt.Add(30 * 24 * time.Hour)
	form := r.TrackedURL(cc.DeliveryID, s.FormURL(cc.DeliveryID, exp, key), exp)
	closes := sv.ClosesAt.In(bot.SessionLocation(cc.Session)).Format("01-02 15:04")
	anon := ""
	if sv.Anonymous {
		anon = text.T(loc, "surveys:anonymous")
	}
	switch cc.Kind {
	case KindFeedback, KindFeedbackReminder:
		title, body := "surveys:feedback.title", "surveys:feedback.body"
		if cc.Kind == KindFeedbackReminder {
			title, body = "surveys:feedback_reminder.title", "surveys:feedback_reminder.body"
		}
		m.Title = text.T(loc, title, course)
		m.Body = text.T(loc, body, course, closes) + anon
		m.Fields = bot.SessionFields(loc, cc.Session, cc.Teacher)
		if q, ok := firstOfType(def, TypeNPS); ok {
			// The question and what 0 and 10 mean are in the body, which
			// every platform shows (WeCom's feedback card holds no score and
			// the form asks it); the choice repeats neither.
			m.Body += "\n" + npsText(q, loc)
			m.Choice = s.choice(cc, q, loc)
			m.Buttons = append(m.Buttons, npsButtons(m.Choice)...)
		}
		m.Buttons = append(m.Buttons, bot.Button{Text: text.T(loc, "surveys:button.form"), Action: bot.ActionLink, URL: form, Primary: true})
	case KindNPS:
		// A one-question survey answered in the card: NPS 0–10 or a 1–5 rating.
		m.Title = text.T(loc, "surveys:nps.title", course)
		if q, ok := firstOfType(def, TypeNPS); ok {
			m.Body = npsText(q, loc) + anon
			m.Choice = s.choice(cc, q, loc)
			m.Buttons = append(npsButtons(m.Choice), bot.Button{Text: text.T(loc, "surveys:button.why"), Action: bot.ActionLink, URL: form})
		} else if q, ok := firstOfType(def, TypeRating); ok {
			m.Title = text.T(loc, "surveys:rating.title", course)
			m.Body = q.Text.In(loc) + anon
			tok := s.Signer.Sign(bot.Claims{Kind: bot.TokenInteraction, DeliveryID: cc.DeliveryID, Expires: s.Renderer.Expiry(cc.Session), Extra: bot.ActionRate})
			for v := 1; v <= 5; v++ {
				m.Buttons = append(m.Buttons, bot.Button{Text: strings.Repeat("★", v), Action: bot.ActionRate, Value: fmt.Sprint(v), Token: tok})
			}
			m.Buttons = append(m.Buttons, bot.Button{Text: text.T(loc, "surveys:button.form"), Action: bot.ActionLink, URL: form})
		} else {
			return m, errNoQuestion
		}
	case KindManagerFollowup, KindManagerReminder:
		subject := ""
		if cc.Subject != nil {
			subject = cc.Subject.Name
		}
		title := "surveys:manager_followup.title"
		if cc.Kind == KindManagerReminder {
			title = "surveys:manager_reminder.title"
		}
		m.Title = text.T(loc, title, subject, course)
		m.Body = text.T(loc, "surveys:manager_followup.body", subject, course, closes)
		m.Buttons = []bot.Button{{Text: text.T(loc, "surveys:button.form"), Action: bot.ActionLink, URL: form, Primary: true}}
	case KindEscalation:
		missing, err := s.Missing(ctx, sv)
		if err != nil {
			return m, err
		}
		m.Title = text.T(loc, "surveys:escalation.title", course)
		names := make([]string, 0, len(missing))
		for i, row := range missing {
			if i == 50 {
				names = append(names, text.T(loc, "surveys:escalation.more", len(missing)-50))
				break
			}
			if row.SubjectName != "" {
				names = append(names, fmt.Sprintf("%s（%s）", row.Name, row.SubjectName))
			} else {
				names = append(names, row.Name)
			}
		}
		if len(missing) == 0 {
			m.Body = text.T(loc, "surveys:escalation.none", sv.Title)
		} else {
			m.Body = text.T(loc, "surveys:escalation.body", sv.Title, len(missing), strings.Join(names, "、"))
		}
	default:
		return m, fmt.Errorf("unknown survey card kind %q", cc.Kind)
	}
	m.Fallback = m.Title + "\n" + m.Body
	for _, b := range m.Buttons {
		if b.Action == bot.ActionLink && b.URL == form {
			m.Fallback += "\n" + b.Text + "：" + form
		}
	}
	return m, nil
}

func firstOfType(def Definition, typ string) (Question, bool) {
	for _, q := range def.Questions {
		if q.Type == typ {
			return q, true
		}
	}
	return Question{}, false
}

// npsText is the NPS question with what its ends mean, as the card shows it:
// "您有多大可能向同事推荐这门课程？\n0 = 完全不可能 · 10 = 非常可能".
func npsText(q Question, loc text.Locale) string {
	return q.Text.In(loc) + "\n" + text.T(loc, "surveys:nps.scale")
}

// choice is the in-card 0–10 choice of q. Its Question is empty: the card's
// body carries the question and the scale (npsText), so platforms that show
// both do not repeat it.
func (s *Service) choice(cc bot.CardContext, q Question, loc text.Locale) *bot.Choice {
	c := &bot.Choice{Action: bot.ActionNPS, Submit: text.T(loc, "surveys:button.submit"),
		Token: s.Signer.Sign(bot.Claims{Kind: bot.TokenInteraction, DeliveryID: cc.DeliveryID, Expires: s.Renderer.Expiry(cc.Session), Extra: bot.ActionNPS})}
	for i := 0; i <= 10; i++ {
		c.Options = append(c.Options, fmt.Sprint(i))
	}
	return c
}

func npsButtons(c *bot.Choice) []bot.Button {
	out := make([]bot.Button, 0, len(c.Options))
	for _, o := range c.Options {
		out = append(out, bot.Button{Text: o, Action: c.Action, Value: o, Token: c.Token})
	}
	return out
}

// handleCardAnswer records an NPS or rating tapped in a card. The same tap
// twice is a duplicate; a different score replaces the first while the survey
// is open.
func (s *Service) handleCardAnswer(ctx context.Context, dc bot.DeliveryContext, in bot.Interaction) (bot.Reply, error) {
	loc := text.Parse(dc.Employee.Locale)
	if dc.Employee.Locale == "" {
		loc = text.Parse(dc.Session.Locale)
	}
	sv, err := s.surveyOf(ctx, s.DB, dc.Touchpoint)
	if errors.Is(err, errWrongSurvey) {
		return bot.Reply{Toast: text.T(loc, "bot:reply.invalid")}, nil
	}
	if err != nil {
		return bot.Reply{}, err
	}
	if !Open(sv, s.now()) {
		return bot.Reply{Toast: text.T(loc, "surveys:reply.closed")}, nil
	}
	def, err := SurveyDefinition(sv)
	if err != nil {
		return bot.Reply{}, err
	}
	typ := TypeNPS
	if in.Action == bot.ActionRate {
		typ = TypeRating
	}
	q, ok := firstOfType(def, typ)
	if !ok {
		return bot.Reply{Toast: text.T(loc, "bot:reply.invalid")}, nil
	}
	ans, err := q.Parse([]string{in.Value})
	if err != nil {
		return bot.Reply{Toast: text.T(loc, "surveys:reply.bad_value")}, nil
	}
	did := dc.Delivery.ID
	res, err := s.saveAnswers(ctx, saveInput{sv: sv, def: def, who: dc.Employee, subjectID: dc.Delivery.SubjectID, deliveryID: &did, source: "card",
		answers: map[string]Answer{q.Key: ans}})
	if errors.Is(err, ErrAnswered) {
		// Anonymous: this card cannot open the answer given elsewhere.
		return bot.Reply{Toast: text.T(loc, "surveys:reply.answered_anonymous")}, nil
	}
	if err != nil {
		return bot.Reply{}, err
	}
	reply := bot.Reply{OK: true, Duplicate: res.dup, Toast: text.T(loc, "surveys:reply.thanks_score", in.Value)}
	// The updated card's form link carries the response's edit key, so the
	// respondent can reopen an anonymous answer from it.
	card, err := s.renderKeyed(ctx, s.Renderer, bot.CardContext{
		Kind: dc.Touchpoint.Kind, Session: dc.Session, Course: dc.Course, DeliveryID: dc.Delivery.ID, Key: dc.Delivery.Key,
		Locale: loc, Touchpoint: dc.Touchpoint, Recipient: dc.Employee,
	}, res.key)
	if err == nil && card.Key == "" {
		card.Key = dc.Delivery.Key
	}
	if err == nil {
		err = card.Validate()
	}
	if err != nil {
		return reply, fmt.Errorf("render answered card: %w", err)
	}
	// The score is recorded: the card keeps its link to the full form.
	kept := card.Buttons[:0]
	for _, b := range card.Buttons {
		if b.Action == bot.ActionLink {
			kept = append(kept, b)
		}
	}
	card.Buttons, card.Choice = kept, nil
	if q.Type == TypeRating {
		n := int(*ans.Number)
		card.Status = text.T(loc, "surveys:status.rating", strings.Repeat("★", n)+strings.Repeat("☆", 5-n))
	} else {
		card.Status = text.T(loc, "surveys:status.nps", int(*ans.Number))
	}
	// Where the person can answer in chat, ask why: their next reply is
	// the reason (the question's comment).
	if s.ChatReplies[in.Platform] {
		asked, err := s.openPrompt(ctx, sv, def, q.Key, dc.Employee.ID, res.resp.ID)
		if err != nil {
			// The score is stored; only the question is not asked.
			s.log().Warn("comment prompt not opened", "survey", sv.ID, "err", err)
		}
		if asked {
			card.Status += " · " + text.T(loc, "surveys:prompt.why")
			reply.Toast = text.T(loc, "surveys:reply.thanks_why", in.Value)
		}
	}
	reply.Card = &card
	return reply, nil
}

// saveInput is one save of answers: who answers which survey (about which
// subject), from where, and — for an anonymous survey — the edit key the
// respondent holds, if any.
type saveInput struct {
	sv         store.Survey
	def        Definition
	who        store.Employee
	subjectID  uint64
	deliveryID *uint64
	source     string
	answers    map[string]Answer
	key        []byte
}

// saveResult is what a save stored: the response, whether nothing changed,
// and the edit key that opens an anonymous response.
type saveResult struct {
	resp store.SurveyResponse
	dup  bool
	key  []byte
}

// saveTimeout bounds recording answers the respondent already submitted,
// which goes on even when their request is cancelled mid-write.
const saveTimeout = 15 * time.Second

// saveAnswers upserts a response and its answers in one transaction
// (retried on deadlocks and lock-wait timeouts, and carried through a
// cancelled request: the person pressed submit); the response is complete
// once every required question has an answer.
//
// A named response is found by its respondent. An anonymous one is found only
// by the edit key the respondent holds: with no key (or a key that opens
// nothing) a person who has not answered yet gets a new response and a new
// key, and a person who has answered gets ErrAnswered — nothing is stored.
func (s *Service) saveAnswers(ctx context.Context, in saveInput) (saveResult, error) {
	wctx, cancel := store.Detached(ctx, saveTimeout)
	defer cancel()
	var res saveResult
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = store.Tx(wctx, s.DB, func(tx *gorm.DB) error {
			var e error
			res, e = s.saveTx(tx, in)
			return e
		})
		// A random id that collided, or the same person's first answer
		// arriving twice at once: run again (the second run finds the row).
		if !store.IsDuplicate(err) {
			break
		}
	}
	if err != nil {
		return res, fmt.Errorf("save answers: %w", err)
	}
	return res, nil
}

// saveAnswersWithKeys saves with the first of keys that opens an existing
// anonymous response, else with the first key (a new response under the
// link's key), else with none.
func (s *Service) saveAnswersWithKeys(ctx context.Context, in saveInput, keys [][]byte) (saveResult, error) {
	if !in.sv.Anonymous || len(keys) == 0 {
		return s.saveAnswers(ctx, in)
	}
	in.key = keys[0]
	if len(keys) > 1 {
		var n int64
		if err := s.DB.WithContext(ctx).Model(&store.SurveyResponse{}).Where("survey_id = ? AND respondent_key = ? AND subject_id = ?", in.sv.ID, store.EditKeyHash(keys[0]), in.subjectID).Count(&n).Error; err != nil {
			return saveResult{}, fmt.Errorf("save answers: %w", err)
		}
		if n == 0 {
			// The link's key opens nothing: try the cookie's (the answer
			// may have started from another card of the same survey).
			for _, k := range keys[1:] {
				if err := s.DB.WithContext(ctx).Model(&store.SurveyResponse{}).Where("survey_id = ? AND respondent_key = ? AND subject_id = ?", in.sv.ID, store.EditKeyHash(k), in.subjectID).Count(&n).Error; err != nil {
					return saveResult{}, fmt.Errorf("save answers: %w", err)
				}
				if n > 0 {
					in.key = k
					break
				}
			}
		}
	}
	return s.saveAnswers(ctx, in)
}

func (s *Service) saveTx(tx *gorm.DB, in saveInput) (saveResult, error) {
	now := s.now()
	stamp := now
	if in.sv.Anonymous {
		stamp = store.AnonymousDay(now)
	}
	res := saveResult{dup: true}
	resp := &res.resp
	var err error
	if in.sv.Anonymous {
		err = s.anonymousResponse(tx, in, stamp, &res)
	} else {
		err = s.namedResponse(tx, in, stamp, &res)
	}
	if err != nil {
		return res, err
	}
	var existing []store.SurveyAnswer
	if err := tx.Where("response_id = ?", resp.ID).Find(&existing).Error; err != nil {
		return res, err
	}
	have := map[string]store.SurveyAnswer{}
	for _, a := range existing {
		have[a.QuestionKey] = a
	}
	for k, a := range in.answers {
		old, ok := have[k]
		if ok && sameAnswer(old, a) {
			continue
		}
		res.dup = false
		row := store.SurveyAnswer{ResponseID: resp.ID, SurveyID: in.sv.ID, QuestionKey: k, Number: a.Number, Text: a.Text, UpdatedAt: stamp}
		if ok {
			row.ID = old.ID
			if err := tx.Model(&store.SurveyAnswer{}).Where("id = ?", old.ID).UpdateColumns(map[string]any{"number": a.Number, "text": a.Text, "updated_at": stamp}).Error; err != nil {
				return res, err
			}
		} else {
			if in.sv.Anonymous {
				if row.ID, err = store.RandomRowID(); err != nil {
					return res, err
				}
			}
			if err := tx.Create(&row).Error; err != nil {
				return res, err
			}
		}
		have[k] = row
	}
	status := store.ResponseComplete
	for _, q := range in.def.Questions {
		if a, ok := have[q.Key]; q.Required && (!ok || (a.Number == nil && a.Text == "")) {
			status = store.ResponsePartial
		}
	}
	upd := map[string]any{"updated_at": stamp, "status": status}
	if status == store.ResponseComplete && resp.SubmittedAt == nil {
		upd["submitted_at"] = stamp
	}
	if status != resp.Status {
		res.dup = false
	}
	if res.dup {
		return res, nil
	}
	if err := tx.Model(&store.SurveyResponse{}).Where("id = ?", resp.ID).UpdateColumns(upd).Error; err != nil {
		return res, err
	}
	resp.Status = status
	if !in.sv.Anonymous && status == store.ResponseComplete {
		// Outbound webhooks follow named responses only (an anonymous one
		// would be tied to a time and an order by its outbox row).
		if err := store.RecordEventsFrom(tx, store.EventResponse, stamp, "SELECT ? AS ref_id, ? AS occurred_at", resp.ID, stamp); err != nil {
			return res, err
		}
	}
	if !in.sv.Anonymous {
		// Named surveys remember who finished (the reminders' audience).
		p := store.SurveyParticipation{SurveyID: in.sv.ID, EmployeeID: in.who.ID, SubjectID: in.subjectID, Status: status}
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "survey_id"}, {Name: "employee_id"}, {Name: "subject_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"status"}),
		}).Create(&p).Error; err != nil {
			return res, err
		}
	}
	return res, nil
}

// namedResponse finds or creates the response of in.who (with its
// participation row).
func (s *Service) namedResponse(tx *gorm.DB, in saveInput, stamp time.Time, res *saveResult) error {
	key := "e:" + strconv.FormatUint(in.who.ID, 10)
	where := func() *gorm.DB {
		return tx.Where("survey_id = ? AND respondent_key = ? AND subject_id = ?", in.sv.ID, key, in.subjectID)
	}
	if err := where().Limit(1).Find(&res.resp).Error; err != nil {
		return err
	}
	if res.resp.ID != 0 {
		return nil
	}
	id := in.who.ID
	res.resp = store.SurveyResponse{SurveyID: in.sv.ID, RespondentKey: key, SubjectID: in.subjectID, RespondentID: &id, Department: in.who.Department,
		DeliveryID: in.deliveryID, Status: store.ResponsePartial, Source: in.source, StartedAt: stamp, UpdatedAt: stamp}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&res.resp).Error; err != nil {
		return err
	}
	if err := where().First(&res.resp).Error; err != nil {
		return err
	}
	p := store.SurveyParticipation{SurveyID: in.sv.ID, EmployeeID: in.who.ID, SubjectID: in.subjectID, Status: store.ResponsePartial}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&p).Error; err != nil {
		return err
	}
	res.dup = false
	return nil
}

// anonymousResponse finds the response in.key opens or, for a person who has
// not answered, creates one: a participation row (person, no response, no
// time) and a response that knows nothing of the person — random id, the hash
// of a random edit key, the day, and the department only when it is big
// enough.
func (s *Service) anonymousResponse(tx *gorm.DB, in saveInput, stamp time.Time, res *saveResult) error {
	if len(in.key) > 0 {
		if err := tx.Where("survey_id = ? AND respondent_key = ? AND subject_id = ?", in.sv.ID, store.EditKeyHash(in.key), in.subjectID).
			Limit(1).Find(&res.resp).Error; err != nil {
			return err
		}
		if res.resp.ID != 0 {
			res.key = in.key
			return nil
		}
	}
	var n int64
	if err := tx.Model(&store.SurveyParticipation{}).Where("survey_id = ? AND employee_id = ? AND subject_id = ?", in.sv.ID, in.who.ID, in.subjectID).
		Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return ErrAnswered
	}
	key := in.key
	if len(key) == 0 {
		var err error
		if key, err = store.NewEditKey(); err != nil {
			return err
		}
	}
	if err := tx.Create(&store.SurveyParticipation{SurveyID: in.sv.ID, EmployeeID: in.who.ID, SubjectID: in.subjectID, Status: store.ParticipationAnswered}).Error; err != nil {
		return err
	}
	keep, err := store.AnonymousDepartments(tx, in.sv)
	if err != nil {
		return err
	}
	dept := ""
	if keep[in.who.Department] {
		dept = in.who.Department
	}
	id, err := store.RandomRowID()
	if err != nil {
		return err
	}
	res.resp = store.SurveyResponse{ID: id, SurveyID: in.sv.ID, RespondentKey: store.EditKeyHash(key), SubjectID: in.subjectID, Department: dept,
		Status: store.ResponsePartial, Source: in.source, StartedAt: stamp, UpdatedAt: stamp}
	if err := tx.Create(&res.resp).Error; err != nil {
		return err
	}
	res.key, res.dup = key, false
	return nil
}

func sameAnswer(old store.SurveyAnswer, a Answer) bool {
	if (old.Number == nil) != (a.Number == nil) {
		return false
	}
	if old.Number != nil && *old.Number != *a.Number {
		return false
	}
	return old.Text == a.Text
}
