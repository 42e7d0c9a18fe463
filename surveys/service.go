package surveys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/defaults"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// Touchpoint kinds that push surveys.
const (
	KindFeedback         = "feedback"          // post-course feedback, to those checked in, at the end
	KindFeedbackReminder = "feedback_reminder" // to those who have not completed it (at most 2)
	KindNPS              = "nps"               // a standalone NPS question answered in the card
	KindManagerFollowup  = "manager_followup"  // to the managers of attendees, one per direct report
	KindManagerReminder  = "manager_reminder"  // to managers who have not answered
	KindEscalation       = "escalation"        // to the coordinator: who has not answered after the reminders
)

// Audiences that surveys resolve.
const (
	AudienceNotResponded         = "not_responded"
	AudienceManagers             = "managers_of_checked_in"
	AudienceManagersNotResponded = "managers_not_responded"
	AudienceCoordinator          = "coordinator"
)

// MaxReminders caps reminders per survey.
const MaxReminders = 2

// Errors returned by the service.
var (
	// ErrNotFound is store.ErrNotFound: an unknown survey.
	ErrNotFound = store.ErrNotFound
	ErrClosed   = errors.New("survey closed")
	ErrInvalid  = errors.New("invalid")
	ErrTooMany  = errors.New("too many reminders")
	// ErrAnswered: the person has answered this anonymous survey, and the
	// request does not carry the edit key that opens their answer.
	ErrAnswered    = errors.New("already answered (anonymous: open the answer from the link it was given with)")
	errNoQuestion  = errors.New("survey has no question for this action")
	errWrongSurvey = errors.New("delivery has no survey")
)

// Settings are the survey defaults from config.
type Settings struct {
	Feedback           bool
	FeedbackReminders  []time.Duration
	FeedbackCloseAfter time.Duration
	Followup           bool
	FollowupDays       []int
	FollowupReminders  []time.Duration
	FollowupCloseAfter time.Duration
	EscalateAfter      time.Duration
	MinGroupSize       int
}

// Service runs surveys: it attaches them to sessions, resolves their
// audiences, renders their cards, records answers from cards and forms, and
// reports on them.
type Service struct {
	DB       *gorm.DB
	Planner  *plan.Planner
	Renderer *bot.Renderer
	Signer   *bot.Signer
	// Secret is no longer used: anonymous responses used to be keyed by an
	// HMAC of the employee id under it, which anyone holding the config could
	// recompute. They are now keyed by a random edit key only the respondent
	// holds (migration 6). Kept so existing wiring compiles.
	Secret   []byte
	Settings Settings
	Logger   *slog.Logger
	Now      func() time.Time
	// RequireIdentity, when set, is asked before a named (not anonymous)
	// survey's form is shown or saved (package presence: the survey's
	// identity setting, then the recipient's app identity). It returns
	// false when it has answered the request itself.
	RequireIdentity func(w http.ResponseWriter, r *http.Request, surveyID uint64, respondent store.Employee) bool
	// ChatReplies are the platforms whose text messages reach the bot
	// (bot/chat): after an NPS or rating tap there the bot asks why, and
	// the next reply within CommentWindow is the score's comment.
	ChatReplies map[bot.Platform]bool

	cache sync.Map // survey id → cached survey and definition
}

func (s *Service) now() time.Time { return defaults.Now(s.Now) }

func (s *Service) log() *slog.Logger { return defaults.Logger(s.Logger) }

// Register adds the survey kinds (their cards), audiences (resolved at send
// time) and in-card answers (rate, nps) to reg. app hands the same
// Registry to the bot core and the planner.
func (s *Service) Register(reg *bot.Registry) error {
	var errs []error
	for _, k := range surveyKinds {
		errs = append(errs, reg.Kind(k, s.renderCard))
	}
	errs = append(errs,
		reg.Audience(AudienceNotResponded, s.audienceNotResponded),
		reg.Audience(AudienceManagers, s.audienceManagers(false)),
		reg.Audience(AudienceManagersNotResponded, s.audienceManagers(true)),
		reg.Audience(AudienceCoordinator, s.audienceCoordinator),
		reg.Action(bot.ActionNPS, s.handleCardAnswer),
		reg.Action(bot.ActionRate, s.handleCardAnswer),
	)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("surveys: %w", err)
	}
	return nil
}

// surveyKinds are the touchpoint kinds surveys render.
var surveyKinds = []string{KindFeedback, KindFeedbackReminder, KindNPS, KindManagerFollowup, KindManagerReminder, KindEscalation}

// SurveyDefinition decodes a survey's frozen questions.
func SurveyDefinition(sv store.Survey) (Definition, error) {
	var d Definition
	if err := json.Unmarshal([]byte(sv.Definition), &d); err != nil {
		return d, fmt.Errorf("survey %d definition: %w", sv.ID, err)
	}
	return d, nil
}

// Open reports whether sv accepts answers at t.
func Open(sv store.Survey, t time.Time) bool {
	return sv.Status == store.SurveyOpen && !t.Before(sv.OpensAt.Add(-24*time.Hour)) && t.Before(sv.ClosesAt)
}

// NewSurvey stores a survey of def for a session (or only a course when
// sessionID is 0).
func (s *Service) NewSurvey(ctx context.Context, tx *gorm.DB, def Definition, sessionID, courseID uint64, anonymous bool, opens, closes time.Time) (store.Survey, error) {
	if err := def.Validate(); err != nil {
		return store.Survey{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !closes.After(opens) {
		return store.Survey{}, fmt.Errorf("%w: closes_at must be after opens_at", ErrInvalid)
	}
	if anonymous && def.Kind == store.SurveyManagerFollowup {
		// Each answer is about one named attendee, whose manager is on the
		// roster: such an answer cannot be anonymous.
		return store.Survey{}, fmt.Errorf("%w: a manager follow-up is about a named attendee and cannot be anonymous", ErrInvalid)
	}
	raw, err := json.Marshal(def)
	if err != nil {
		return store.Survey{}, err
	}
	tpl, err := s.template(ctx, tx, def)
	if err != nil {
		return store.Survey{}, err
	}
	min := s.Settings.MinGroupSize
	if min < 1 {
		min = 5
	}
	sv := store.Survey{
		TemplateID: tpl.ID, SessionID: sessionID, CourseID: courseID, Kind: def.Kind, Title: def.Title.In(text.ZH),
		Definition: string(raw), Anonymous: anonymous, MinGroupSize: min, OpensAt: opens.UTC(), ClosesAt: closes.UTC(),
		Status: store.SurveyOpen, CreatedAt: s.now(), UpdatedAt: s.now(),
	}
	if err := tx.WithContext(ctx).Create(&sv).Error; err != nil {
		return sv, fmt.Errorf("create survey: %w", err)
	}
	return sv, nil
}

// template finds or stores the template row a definition comes from.
func (s *Service) template(ctx context.Context, tx *gorm.DB, def Definition) (store.SurveyTemplate, error) {
	var t store.SurveyTemplate
	key, version := def.Key, def.Version
	if key == "" {
		key, version = "custom", 1
	}
	if version == 0 {
		version = 1
	}
	if err := tx.WithContext(ctx).Where("`key` = ? AND version = ?", key, version).Limit(1).Find(&t).Error; err != nil {
		return t, fmt.Errorf("load template: %w", err)
	}
	if t.ID != 0 {
		return t, nil
	}
	// A built-in template is stored as shipped (not as expanded for one
	// course's behaviours); a custom one as given.
	src := def
	builtin, builtinErr := BuiltinByKey(key)
	if builtinErr == nil && builtin.Version == version {
		src = builtin
	}
	raw, _ := json.Marshal(src)
	t = store.SurveyTemplate{Key: key, Version: version, Kind: def.Kind, Title: def.Title.In(text.ZH), Definition: string(raw), Builtin: builtinErr == nil, CreatedAt: s.now()}
	if err := tx.WithContext(ctx).Create(&t).Error; err != nil {
		return t, fmt.Errorf("store template: %w", err)
	}
	return t, nil
}

// AttachDefault adds the configured surveys to a new session in tx: the
// post-course feedback with its reminders and, for courses that define 2–4
// behaviours, the manager follow-ups with reminders and the escalation.
func (s *Service) AttachDefault(ctx context.Context, tx *gorm.DB, sess store.Session, course store.Course) ([]store.Touchpoint, error) {
	var out []store.Touchpoint
	add := func(tp store.Touchpoint) error {
		if err := s.Planner.Create(ctx, tx, &tp, sess); err != nil {
			return err
		}
		out = append(out, tp)
		return nil
	}
	if s.Settings.Feedback {
		def, err := BuiltinByKey("post_course_feedback")
		if err != nil {
			return nil, err
		}
		sv, err := s.NewSurvey(ctx, tx, def, sess.ID, course.ID, false, sess.StartsAt, sess.EndsAt.Add(s.Settings.FeedbackCloseAfter))
		if err != nil {
			return nil, err
		}
		if err := add(store.Touchpoint{Kind: KindFeedback, Anchor: store.AnchorEnd, Audience: store.AudienceCheckedIn, SurveyID: sv.ID}); err != nil {
			return nil, err
		}
		for i, d := range s.Settings.FeedbackReminders {
			if i == MaxReminders {
				break
			}
			if err := add(store.Touchpoint{Kind: KindFeedbackReminder, Anchor: store.AnchorEnd, Offset: int64(d / time.Second), Audience: AudienceNotResponded, SurveyID: sv.ID}); err != nil {
				return nil, err
			}
		}
	}
	var behaviours []string
	_ = json.Unmarshal([]byte(course.Behaviours), &behaviours)
	if s.Settings.Followup && len(behaviours) >= 2 && len(behaviours) <= 4 {
		tpls, err := s.followupTouchpoints(ctx, tx, sess, course, behaviours)
		if err != nil {
			return nil, err
		}
		for _, tp := range tpls {
			if err := add(tp); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (s *Service) followupTouchpoints(ctx context.Context, tx *gorm.DB, sess store.Session, course store.Course, behaviours []string) ([]store.Touchpoint, error) {
	base, err := BuiltinByKey("manager_followup")
	if err != nil {
		return nil, err
	}
	def, err := base.ExpandBehaviours(behaviours)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var out []store.Touchpoint
	for _, days := range s.Settings.FollowupDays {
		after := time.Duration(days) * 24 * time.Hour
		opens := sess.EndsAt.Add(after)
		sv, err := s.NewSurvey(ctx, tx, def, sess.ID, course.ID, false, opens, opens.Add(s.Settings.FollowupCloseAfter))
		if err != nil {
			return nil, err
		}
		off := int64(after / time.Second)
		out = append(out, store.Touchpoint{Kind: KindManagerFollowup, Anchor: store.AnchorEnd, Offset: off, Audience: AudienceManagers, SurveyID: sv.ID})
		last := off
		for i, r := range s.Settings.FollowupReminders {
			if i == MaxReminders {
				break
			}
			last = off + int64(r/time.Second)
			out = append(out, store.Touchpoint{Kind: KindManagerReminder, Anchor: store.AnchorEnd, Offset: last, Audience: AudienceManagersNotResponded, SurveyID: sv.ID})
		}
		out = append(out, store.Touchpoint{Kind: KindEscalation, Anchor: store.AnchorEnd, Offset: last + int64(s.Settings.EscalateAfter/time.Second), Audience: AudienceCoordinator, SurveyID: sv.ID})
	}
	return out, nil
}

// SessionMoved keeps the open/close times of a session's surveys in step
// with its new end (feedback closes after the end, follow-ups open days
// after it).
func (s *Service) SessionMoved(ctx context.Context, tx *gorm.DB, old, sess store.Session) error {
	shift := sess.EndsAt.Sub(old.EndsAt)
	if shift == 0 {
		return nil
	}
	var svs []store.Survey
	if err := tx.WithContext(ctx).Where("session_id = ? AND status = ?", sess.ID, store.SurveyOpen).Find(&svs).Error; err != nil {
		return err
	}
	for _, sv := range svs {
		upd := map[string]any{"opens_at": sv.OpensAt.Add(shift), "closes_at": sv.ClosesAt.Add(shift), "updated_at": s.now()}
		if err := tx.WithContext(ctx).Model(&store.Survey{}).Where("id = ?", sv.ID).Updates(upd).Error; err != nil {
			return err
		}
	}
	return nil
}

// loadSurvey reads a survey by id.
func (s *Service) loadSurvey(ctx context.Context, id uint64) (store.Survey, error) {
	var sv store.Survey
	if err := s.DB.WithContext(ctx).Limit(1).Find(&sv, id).Error; err != nil {
		return sv, fmt.Errorf("load survey: %w", err)
	}
	if sv.ID == 0 {
		return sv, fmt.Errorf("survey %d: %w", id, ErrNotFound)
	}
	return sv, nil
}

// Close closes a survey: no more answers, no more reminders.
func (s *Service) Close(ctx context.Context, id uint64) (store.Survey, error) {
	sv, err := s.loadSurvey(ctx, id)
	if err != nil {
		return sv, err
	}
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&sv).Updates(map[string]any{"status": store.SurveyClosed, "updated_at": s.now()}).Error; err != nil {
			return err
		}
		var tps []store.Touchpoint
		if err := tx.Where("survey_id = ? AND status = ?", id, store.TouchpointScheduled).Find(&tps).Error; err != nil {
			return err
		}
		for _, tp := range tps {
			if err := s.Planner.Delete(ctx, tx, tp.ID); err != nil {
				return err
			}
		}
		return nil
	})
	sv.Status = store.SurveyClosed
	return sv, err
}

// TouchpointKind is the kind of the touchpoint that sends def: one NPS
// question (optionally with its "why"), or a single rating, is answered
// inside the card (KindNPS); anything longer in the form (KindFeedback).
func TouchpointKind(def Definition) string {
	if _, ok := firstOfType(def, TypeNPS); ok && (def.Kind == store.SurveyNPS || len(def.Questions) == 1) {
		return KindNPS
	}
	if len(def.Questions) == 1 && def.Questions[0].Type == TypeRating {
		return KindNPS
	}
	return KindFeedback
}
