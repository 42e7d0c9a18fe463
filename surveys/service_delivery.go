package surveys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
)

// completedKeys returns the respondent keys (and subjects) with a complete
// response to a survey.
func (s *Service) completed(ctx context.Context, db *gorm.DB, surveyID uint64) (map[string]bool, error) {
	var rows []store.SurveyResponse
	if err := db.WithContext(ctx).Select("respondent_key", "subject_id").Where("survey_id = ? AND status = ?", surveyID, store.ResponseComplete).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load responses: %w", err)
	}
	out := make(map[string]bool, len(rows))
	for _, r := range rows {
		out[fmt.Sprintf("%s/%d", r.RespondentKey, r.SubjectID)] = true
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

// audienceNotResponded: attendees who checked in and have not completed the
// survey.
func (s *Service) audienceNotResponded(ctx context.Context, db *gorm.DB, tp store.Touchpoint, sess store.Session) ([]bot.Target, error) {
	sv, err := s.surveyOf(ctx, db, tp)
	if err != nil {
		return nil, err
	}
	if !Open(sv, s.now()) {
		return nil, nil
	}
	people, err := bot.Audience(ctx, db, sess.ID, store.AudienceCheckedIn)
	if err != nil {
		return nil, err
	}
	done, err := s.completed(ctx, db, sv.ID)
	if err != nil {
		return nil, err
	}
	var out []bot.Target
	for _, e := range people {
		if !done[s.RespondentKey(sv, e.ID)+"/0"] {
			out = append(out, bot.Target{Employee: e})
		}
	}
	return out, nil
}

// followupPairs returns (manager, attendee) pairs: every attendee who checked
// in and whose manager is an active employee.
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
	var managers []store.Employee
	if err := db.WithContext(ctx).Where("external_id IN ? AND active = ?", list, true).Find(&managers).Error; err != nil {
		return nil, fmt.Errorf("load managers: %w", err)
	}
	byExt := map[string]store.Employee{}
	for _, m := range managers {
		byExt[m.ExternalID] = m
	}
	var out []bot.Target
	for _, a := range attendees {
		m, ok := byExt[a.ManagerID]
		if !ok {
			continue
		}
		subj := a
		out = append(out, bot.Target{Employee: m, Subject: &subj})
	}
	return out, nil
}

func (s *Service) audienceManagers(onlyMissing bool) bot.AudienceFunc {
	return func(ctx context.Context, db *gorm.DB, tp store.Touchpoint, sess store.Session) ([]bot.Target, error) {
		sv, err := s.surveyOf(ctx, db, tp)
		if err != nil {
			return nil, err
		}
		if !Open(sv, s.now()) {
			return nil, nil
		}
		pairs, err := followupPairs(ctx, db, sess.ID)
		if err != nil || !onlyMissing {
			return pairs, err
		}
		done, err := s.completed(ctx, db, sv.ID)
		if err != nil {
			return nil, err
		}
		var out []bot.Target
		for _, p := range pairs {
			if !done[fmt.Sprintf("%s/%d", s.RespondentKey(sv, p.Employee.ID), p.Subject.ID)] {
				out = append(out, p)
			}
		}
		return out, nil
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

// Missing lists who has not completed a survey: (recipient, subject) names.
func (s *Service) Missing(ctx context.Context, sv store.Survey) ([]MissingRow, error) {
	var targets []bot.Target
	var err error
	switch sv.Kind {
	case store.SurveyManagerFollowup:
		targets, err = followupPairs(ctx, s.DB, sv.SessionID)
	default:
		var people []store.Employee
		people, err = bot.Audience(ctx, s.DB, sv.SessionID, store.AudienceCheckedIn)
		for _, p := range people {
			targets = append(targets, bot.Target{Employee: p})
		}
	}
	if err != nil {
		return nil, err
	}
	done, err := s.completed(ctx, s.DB, sv.ID)
	if err != nil {
		return nil, err
	}
	var out []MissingRow
	for _, t := range targets {
		var subj uint64
		row := MissingRow{ExternalID: t.Employee.ExternalID, Name: t.Employee.Name, Department: t.Employee.Department}
		if t.Subject != nil {
			subj = t.Subject.ID
			row.SubjectExternalID, row.SubjectName = t.Subject.ExternalID, t.Subject.Name
		}
		if !done[fmt.Sprintf("%s/%d", s.RespondentKey(sv, t.Employee.ID), subj)] {
			out = append(out, row)
		}
	}
	return out, nil
}

// MissingRow is one recipient who has not completed a survey.
type MissingRow struct {
	ExternalID        string `json:"external_id"`
	Name              string `json:"name"`
	Department        string `json:"department"`
	SubjectExternalID string `json:"subject_external_id,omitempty"`
	SubjectName       string `json:"subject_name,omitempty"`
}

// FormURL is the signed, expiring survey form link for a delivery.
func (s *Service) FormURL(deliveryID uint64, expires time.Time) string {
	return strings.TrimRight(s.Renderer.PublicURL, "/") + "/s/" + s.Signer.Sign(bot.Claims{Kind: bot.TokenSurvey, DeliveryID: deliveryID, Expires: expires})
}

// renderCard renders every survey touchpoint kind.
func (s *Service) renderCard(r *bot.Renderer, cc bot.CardContext) (bot.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sv, def, err := s.cachedSurvey(ctx, cc.Touchpoint)
	if err != nil {
		return bot.Message{}, err
	}
	loc := bot.NormalizeLocale(cc.Locale)
	course := cc.Course.Title
	m := bot.Message{Key: cc.Key, Kind: cc.Kind, Locale: loc}
	// Links outlive the survey by a month so a late click says "closed"
	// rather than "expired".
	exp := sv.ClosesAt.Add(30 * 24 * time.Hour)
	form := r.TrackedURL(cc.DeliveryID, s.FormURL(cc.DeliveryID, exp), exp)
	closes := sv.ClosesAt.In(bot.SessionLocation(cc.Session)).Format("01-02 15:04")
	anon := ""
	if sv.Anonymous {
		anon = T(loc, "anonymous")
	}
	switch cc.Kind {
	case KindFeedback, KindFeedbackReminder:
		m.Title = T(loc, cc.Kind+".title", course)
		m.Body = T(loc, cc.Kind+".body", course, closes) + anon
		m.Fields = bot.SessionFields(loc, cc.Session, cc.Teacher)
		if q, ok := firstOfType(def, TypeNPS); ok {
			m.Choice = s.choice(cc, q, loc)
			m.Buttons = append(m.Buttons, npsButtons(m.Choice)...)
		}
		m.Buttons = append(m.Buttons, bot.Button{Text: T(loc, "button.form"), Action: bot.ActionLink, URL: form, Primary: true})
	case KindNPS:
		// A one-question survey answered in the card: NPS 0–10 or a 1–5 rating.
		m.Title = T(loc, "nps.title", course)
		if q, ok := firstOfType(def, TypeNPS); ok {
			m.Body = q.Text.In(loc) + anon
			m.Choice = s.choice(cc, q, loc)
			m.Buttons = append(npsButtons(m.Choice), bot.Button{Text: T(loc, "button.why"), Action: bot.ActionLink, URL: form})
		} else if q, ok := firstOfType(def, TypeRating); ok {
			m.Title = T(loc, "rating.title", course)
			m.Body = q.Text.In(loc) + anon
			tok := s.Signer.Sign(bot.Claims{Kind: bot.TokenInteraction, DeliveryID: cc.DeliveryID, Expires: s.Renderer.Expiry(cc.Session), Extra: bot.ActionRate})
			for v := 1; v <= 5; v++ {
				m.Buttons = append(m.Buttons, bot.Button{Text: strings.Repeat("★", v), Action: bot.ActionRate, Value: fmt.Sprint(v), Token: tok})
			}
			m.Buttons = append(m.Buttons, bot.Button{Text: T(loc, "button.form"), Action: bot.ActionLink, URL: form})
		} else {
			return m, errNoQuestion
		}
	case KindManagerFollowup, KindManagerReminder:
		subject := ""
		if cc.Subject != nil {
			subject = cc.Subject.Name
		}
		m.Title = T(loc, cc.Kind+".title", subject, course)
		m.Body = T(loc, "manager_followup.body", subject, course, closes)
		m.Buttons = []bot.Button{{Text: T(loc, "button.form"), Action: bot.ActionLink, URL: form, Primary: true}}
	case KindEscalation:
		missing, err := s.Missing(ctx, sv)
		if err != nil {
			return m, err
		}
		m.Title = T(loc, "escalation.title", course)
		names := make([]string, 0, len(missing))
		for i, row := range missing {
			if i == 50 {
				names = append(names, T(loc, "escalation.more", len(missing)-50))
				break
			}
			if row.SubjectName != "" {
				names = append(names, fmt.Sprintf("%s（%s）", row.Name, row.SubjectName))
			} else {
				names = append(names, row.Name)
			}
		}
		if len(missing) == 0 {
			m.Body = T(loc, "escalation.none", sv.Title)
		} else {
			m.Body = T(loc, "escalation.body", sv.Title, len(missing), strings.Join(names, "、"))
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

func (s *Service) choice(cc bot.CardContext, q Question, loc string) *bot.Choice {
	c := &bot.Choice{Question: q.Text.In(loc), Action: bot.ActionNPS, Submit: T(loc, "button.submit"),
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
	loc := bot.NormalizeLocale(dc.Employee.Locale)
	if dc.Employee.Locale == "" {
		loc = bot.NormalizeLocale(dc.Session.Locale)
	}
	sv, err := s.surveyOf(ctx, s.DB, dc.Touchpoint)
	if errors.Is(err, errWrongSurvey) {
		return bot.Reply{Toast: bot.T(loc, "reply.invalid")}, nil
	}
	if err != nil {
		return bot.Reply{}, err
	}
	if !Open(sv, s.now()) {
		return bot.Reply{Toast: T(loc, "reply.closed")}, nil
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
		return bot.Reply{Toast: bot.T(loc, "reply.invalid")}, nil
	}
	ans, err := q.Parse([]string{in.Value})
	if err != nil {
		return bot.Reply{Toast: T(loc, "reply.bad_value")}, nil
	}
	did := dc.Delivery.ID
	_, dup, err := s.saveAnswers(ctx, sv, def, dc.Employee, dc.Delivery.SubjectID, &did, "card", map[string]Answer{q.Key: ans})
	if err != nil {
		return bot.Reply{}, err
	}
	reply := bot.Reply{OK: true, Duplicate: dup, Toast: T(loc, "reply.thanks_score", in.Value)}
	card, err := s.Renderer.Render(bot.CardContext{
		Kind: dc.Touchpoint.Kind, Session: dc.Session, Course: dc.Course, DeliveryID: dc.Delivery.ID, Key: dc.Delivery.Key,
		Locale: loc, Touchpoint: dc.Touchpoint, Recipient: dc.Employee,
	})
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
		card.Status = T(loc, "status.rating", strings.Repeat("★", n)+strings.Repeat("☆", 5-n))
	} else {
		card.Status = T(loc, "status.nps", int(*ans.Number))
	}
	reply.Card = &card
	return reply, nil
}

// saveAnswers upserts a response and its answers in one transaction; the
// response is complete once every required question has an answer. dup
// reports that nothing changed.
func (s *Service) saveAnswers(ctx context.Context, sv store.Survey, def Definition, who store.Employee, subjectID uint64, deliveryID *uint64, source string, answers map[string]Answer) (store.SurveyResponse, bool, error) {
	now := s.now()
	key := s.RespondentKey(sv, who.ID)
	var resp store.SurveyResponse
	dup := true
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("survey_id = ? AND respondent_key = ? AND subject_id = ?", sv.ID, key, subjectID).Limit(1).Find(&resp).Error; err != nil {
			return err
		}
		if resp.ID == 0 {
			resp = store.SurveyResponse{SurveyID: sv.ID, RespondentKey: key, SubjectID: subjectID, Department: who.Department,
				DeliveryID: deliveryID, Status: store.ResponsePartial, Source: source, StartedAt: now, UpdatedAt: now}
			if !sv.Anonymous {
				id := who.ID
				resp.RespondentID = &id
			} else {
				resp.DeliveryID = nil // no link from an anonymous response to a person
			}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&resp).Error; err != nil {
				return err
			}
			if err := tx.Where("survey_id = ? AND respondent_key = ? AND subject_id = ?", sv.ID, key, subjectID).First(&resp).Error; err != nil {
				return err
			}
			dup = false
		}
		var existing []store.SurveyAnswer
		if err := tx.Where("response_id = ?", resp.ID).Find(&existing).Error; err != nil {
			return err
		}
		have := map[string]store.SurveyAnswer{}
		for _, a := range existing {
			have[a.QuestionKey] = a
		}
		for k, a := range answers {
			old, ok := have[k]
			if ok && sameAnswer(old, a) {
				continue
			}
			dup = false
			row := store.SurveyAnswer{ResponseID: resp.ID, SurveyID: sv.ID, QuestionKey: k, Number: a.Number, Text: a.Text, UpdatedAt: now}
			if ok {
				row.ID = old.ID
				if err := tx.Model(&store.SurveyAnswer{}).Where("id = ?", old.ID).Updates(map[string]any{"number": a.Number, "text": a.Text, "updated_at": now}).Error; err != nil {
					return err
				}
			} else if err := tx.Create(&row).Error; err != nil {
				return err
			}
			have[k] = row
		}
		status := store.ResponseComplete
		for _, q := range def.Questions {
			if a, ok := have[q.Key]; q.Required && (!ok || (a.Number == nil && a.Text == "")) {
				status = store.ResponsePartial
			}
		}
		upd := map[string]any{"updated_at": now, "status": status}
		if status == store.ResponseComplete && resp.SubmittedAt == nil {
			upd["submitted_at"] = now
		}
		if status != resp.Status {
			dup = false
		}
		if dup {
			return nil
		}
		return tx.Model(&store.SurveyResponse{}).Where("id = ?", resp.ID).Updates(upd).Error
	})
	return resp, dup, err
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
