package command

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
)

// SurveyAdmin is the part of the surveys engine that adding, closing and
// reminding surveys needs (*surveys.Service implements it).
type SurveyAdmin interface {
	NewSurvey(ctx context.Context, tx *gorm.DB, def surveys.Definition, sessionID, courseID uint64, anonymous bool, opens, closes time.Time) (store.Survey, error)
	Close(ctx context.Context, id uint64) (store.Survey, error)
	RemindNow(ctx context.Context, surveyID uint64) (store.Touchpoint, error)
}

// DefaultSurveyOpen is how long after the session's end a new survey stays
// open unless told.
const DefaultSurveyOpen = 7 * 24 * time.Hour

// SurveyInput adds a survey to a session: a built-in template by key or a
// coordinator's definition, pushed at SendAt (default: the end of the
// session) to Audience (default: those checked in), open until ClosesAt
// (default: a week after the end).
type SurveyInput struct {
	Template   string
	Definition *surveys.Definition
	Anonymous  bool
	SendAt     *time.Time
	ClosesAt   *time.Time
	Audience   string
	// Invalid are the caller's own parse errors.
	Invalid []FieldError
}

// SurveyResult is a new survey and the touchpoint that pushes it.
type SurveyResult struct {
	Survey     store.Survey
	Touchpoint store.Touchpoint
}

func (s *Service) surveyAdmin() (SurveyAdmin, error) {
	if s.Admin == nil {
		return nil, fmt.Errorf("surveys are not configured: %w", ErrNotFound)
	}
	return s.Admin, nil
}

// CreateSurvey adds a survey and its push to session id.
func (s *Service) CreateSurvey(ctx context.Context, a Actor, sessionID uint64, in SurveyInput) (SurveyResult, error) {
	var res SurveyResult
	admin, err := s.surveyAdmin()
	if err != nil {
		return res, err
	}
	ss, err := s.openSession(ctx, a, sessionID)
	if err != nil {
		return res, err
	}
	fs := callerFields(in.Invalid)
	var def surveys.Definition
	switch {
	case in.Definition != nil && in.Template != "":
		fs.add("template", CodeNotAllowed, "give either template or definition, not both")
	case in.Definition != nil:
		def = *in.Definition
		if err := def.Validate(); err != nil {
			fs.add("definition", CodeBadValue, err.Error(), err.Error())
		}
	case in.Template != "":
		d, err := surveys.BuiltinByKey(in.Template)
		if err != nil {
			fs.add("template", CodeUnknown, fmt.Sprintf("%q is not a built-in template (see GET /survey-templates)", in.Template))
		}
		def = d
	default:
		fs.add("template", CodeRequired, "template or definition is required")
	}
	if def.Kind == store.SurveyManagerFollowup {
		fs.add("template", CodeNotAllowed, "manager follow-ups are attached to a session from its course's behaviours")
	}
	sendAt, closes := ss.EndsAt.UTC(), ss.EndsAt.Add(DefaultSurveyOpen).UTC()
	if in.SendAt != nil {
		sendAt = in.SendAt.UTC()
	}
	if in.ClosesAt != nil {
		closes = in.ClosesAt.UTC()
	}
	var ps plan.Problems
	ps.Date("send_at", sendAt)
	ps.Date("closes_at", closes)
	fs.problems(ps)
	if !fs.has("send_at") && !fs.has("closes_at") && !closes.After(sendAt) {
		fs.add("closes_at", CodeEndBeforeStart, "must be after send_at")
	}
	audience := in.Audience
	if audience == "" {
		audience = store.AudienceCheckedIn
	}
	if audience != store.AudienceCheckedIn && audience != store.AudienceAll {
		fs.add("audience", CodeBadChoice, "must be checked_in or all", store.AudienceCheckedIn, store.AudienceAll)
	}
	if err := fs.err(); err != nil {
		return res, err
	}
	kind := surveys.TouchpointKind(def)
	detail := map[string]any{"session": ss.ID, "template": in.Template, "anonymous": in.Anonymous, "send_at": sendAt, "closes_at": closes,
		"audience": audience, "touchpoint_kind": kind}
	if in.Definition != nil {
		detail["definition"] = def.Title
	}
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		sv, err := admin.NewSurvey(ctx, tx, def, ss.ID, ss.CourseID, in.Anonymous, sendAt, closes)
		if err != nil {
			return err
		}
		at := sendAt
		tp := store.Touchpoint{Kind: kind, Anchor: store.AnchorAbsolute, At: &at, Audience: audience, SurveyID: sv.ID}
		if err := s.Planner.Create(ctx, tx, &tp, ss); err != nil {
			return err
		}
		res = SurveyResult{Survey: sv, Touchpoint: tp}
		detail["touchpoint"] = tp.ID
		return s.audit(tx, a, "survey.create", fmt.Sprintf("survey:%d", sv.ID), detail)
	})
	if errors.Is(err, surveys.ErrInvalid) {
		return SurveyResult{}, &InvalidError{Fields: []FieldError{{Field: "definition", Code: CodeBadValue, Args: []any{err.Error()}, Message: err.Error()}}}
	}
	if err != nil {
		return SurveyResult{}, PlanError(err)
	}
	return res, nil
}

// writableSurvey loads survey id and checks that a may change its session.
func (s *Service) writableSurvey(ctx context.Context, a Actor, id uint64) (store.Survey, error) {
	var sv store.Survey
	if err := take(ctx, s.DB, &sv, id, "survey"); err != nil {
		return sv, err
	}
	_, err := s.writableSession(ctx, a, sv.SessionID)
	return sv, err
}

// CloseSurvey closes survey id to new answers; its unsent touchpoints
// (reminders included) are cancelled.
func (s *Service) CloseSurvey(ctx context.Context, a Actor, id uint64) (store.Survey, error) {
	admin, err := s.surveyAdmin()
	if err != nil {
		return store.Survey{}, err
	}
	sv, err := s.writableSurvey(ctx, a, id)
	if err != nil {
		return sv, err
	}
	closed, err := admin.Close(ctx, id)
	if err != nil {
		return closed, err
	}
	return closed, s.auditDetached(ctx, a, "survey.close", fmt.Sprintf("survey:%d", id), map[string]any{"session": sv.SessionID, "kind": sv.Kind})
}

// RemindSurvey reminds survey id's non-respondents now
// (surveys.Service.RemindNow: its ErrTooMany, ErrClosed and ErrNoneMissing
// pass through). A reminder that exists but could not be queued is
// audited and returned with the error.
func (s *Service) RemindSurvey(ctx context.Context, a Actor, id uint64) (store.Touchpoint, error) {
	admin, err := s.surveyAdmin()
	if err != nil {
		return store.Touchpoint{}, err
	}
	if _, err := s.writableSurvey(ctx, a, id); err != nil {
		return store.Touchpoint{}, err
	}
	tp, err := admin.RemindNow(ctx, id)
	if tp.ID == 0 {
		return tp, err
	}
	if aerr := s.auditDetached(ctx, a, "survey.remind", fmt.Sprintf("survey:%d", id), map[string]any{"touchpoint": tp.ID, "kind": tp.Kind}); aerr != nil {
		return tp, errors.Join(err, aerr)
	}
	return tp, err
}

// auditDetached writes the audit row of something that already happened:
// on a context that survives cancellation, retried.
func (s *Service) auditDetached(ctx context.Context, a Actor, action, object string, detail any) error {
	dctx, cancel := store.Detached(ctx, 5*time.Second)
	defer cancel()
	return store.Retry(dctx, func() error { return s.audit(s.DB.WithContext(dctx), a, action, object, detail) })
}
