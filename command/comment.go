package command

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
)

// Comment triage errors; each matches its family.
var (
	// ErrNoComment: the survey has no such non-empty free-text answer.
	ErrNoComment = fmt.Errorf("no such comment: %w", ErrNotFound)
	// ErrAnonymous: a follow-up call was asked on an anonymous survey,
	// where there is nobody to call back.
	ErrAnonymous = fmt.Errorf("the survey is anonymous: %w", ErrConflict)
)

// CommentTriage sets the triage of one free-text answer of a survey:
// either its tag or its "follow-up call" flag.
type CommentTriage struct {
	ResponseID  uint64
	QuestionKey string
	// Tag, when not nil, sets the tag: store.TagShortTerm, TagLongTerm or
	// TagNoAction.
	Tag *string
	// FollowUpCall, when not nil, sets or clears the follow-up flag (not
	// on anonymous surveys).
	FollowUpCall *bool
	// Invalid are the caller's own parse errors.
	Invalid []FieldError
}

// Comment is a free-text answer a triage names.
type Comment struct {
	Survey      store.Survey
	ResponseID  uint64
	QuestionKey string
	Text        string
}

// CheckCommentTriage validates in as TriageComment would, storing
// nothing (the console asks for confirmation in between): the survey must
// be one a may change, the comment a non-empty free-text answer to it
// (ErrNoComment), the values valid (*InvalidError) and a follow-up call
// not on an anonymous survey (ErrAnonymous).
func (s *Service) CheckCommentTriage(ctx context.Context, a Actor, surveyID uint64, in CommentTriage) (Comment, error) {
	sv, err := s.writableSurvey(ctx, a, surveyID)
	if err != nil {
		return Comment{}, err
	}
	return s.checkComment(ctx, s.DB, sv, in)
}

func (s *Service) checkComment(ctx context.Context, db *gorm.DB, sv store.Survey, in CommentTriage) (Comment, error) {
	c := Comment{Survey: sv, ResponseID: in.ResponseID, QuestionKey: strings.TrimSpace(in.QuestionKey)}
	if c.ResponseID == 0 || c.QuestionKey == "" {
		return c, ErrNoComment
	}
	def, err := surveys.SurveyDefinition(sv)
	if err != nil {
		return c, fmt.Errorf("survey %d: %w", sv.ID, err)
	}
	if q, ok := def.Question(c.QuestionKey); !ok || q.Type != surveys.TypeText {
		return c, ErrNoComment
	}
	var texts []string
	err = db.WithContext(ctx).Table("survey_answers").
		Joins("JOIN survey_responses ON survey_responses.id = survey_answers.response_id").
		Where("survey_responses.survey_id = ? AND survey_answers.response_id = ? AND survey_answers.question_key = ?", sv.ID, c.ResponseID, c.QuestionKey).
		Limit(1).Pluck("survey_answers.text", &texts).Error
	if err != nil {
		return c, fmt.Errorf("load comment: %w", err)
	}
	if len(texts) == 0 || strings.TrimSpace(texts[0]) == "" {
		return c, ErrNoComment
	}
	c.Text = texts[0]
	fs := callerFields(in.Invalid)
	switch {
	case in.Tag != nil && in.FollowUpCall != nil:
		fs.add("tag", CodeNotAllowed, "give either tag or follow_up_call, not both")
	case in.Tag != nil:
		switch *in.Tag {
		case store.TagShortTerm, store.TagLongTerm, store.TagNoAction:
		default:
			fs.add("tag", CodeBadChoice, "must be short_term, long_term or no_action", store.TagShortTerm, store.TagLongTerm, store.TagNoAction)
		}
	case in.FollowUpCall == nil && len(in.Invalid) == 0:
		fs.add("tag", CodeRequired, "tag or follow_up_call is required")
	}
	if err := fs.err(); err != nil {
		return c, err
	}
	if in.FollowUpCall != nil && sv.Anonymous {
		return c, fmt.Errorf("survey %d: %w", sv.ID, ErrAnonymous)
	}
	return c, nil
}

// TriageComment sets the tag or the follow-up flag of a comment (see
// CheckCommentTriage for what is refused) and writes its audit row, with
// the values it replaced, in one transaction.
func (s *Service) TriageComment(ctx context.Context, a Actor, surveyID uint64, in CommentTriage) (store.CommentTag, error) {
	sv, err := s.writableSurvey(ctx, a, surveyID)
	if err != nil {
		return store.CommentTag{}, err
	}
	c, err := s.checkComment(ctx, s.DB, sv, in)
	if err != nil {
		return store.CommentTag{}, err
	}
	row := store.CommentTag{ResponseID: c.ResponseID, QuestionKey: c.QuestionKey, By: cut.Runes(a.Name, 128), At: s.now()}
	detail := map[string]any{"survey": sv.ID, "response": c.ResponseID, "question": c.QuestionKey}
	var columns []string
	action := "comment.tag"
	if in.Tag != nil {
		row.Tag = *in.Tag
		columns = []string{"tag", "by", "at"}
		detail["tag"] = row.Tag
	} else {
		row.FollowUpCall = *in.FollowUpCall
		columns = []string{"follow_up_call", "by", "at"}
		detail["follow_up_call"] = row.FollowUpCall
		action = "comment.follow_up"
	}
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		var old store.CommentTag
		if err := tx.Where("response_id = ? AND question_key = ?", c.ResponseID, c.QuestionKey).Limit(1).Find(&old).Error; err != nil {
			return fmt.Errorf("load comment tag: %w", err)
		}
		if old.ID != 0 {
			detail["old_tag"], detail["old_follow_up_call"] = old.Tag, old.FollowUpCall
		}
		saved := row
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "response_id"}, {Name: "question_key"}},
			DoUpdates: clause.AssignmentColumns(columns),
		}).Create(&saved).Error; err != nil {
			return fmt.Errorf("save comment tag: %w", err)
		}
		return s.audit(tx, a, action, fmt.Sprintf("survey:%d", sv.ID), detail)
	})
	if err != nil {
		return store.CommentTag{}, err
	}
	return row, nil
}

// CommentTags loads the triage of the comments of the responses ids
// (plain lookup: the caller checked the survey).
func (s *Service) CommentTags(ctx context.Context, responseIDs []uint64) ([]store.CommentTag, error) {
	if len(responseIDs) == 0 {
		return nil, nil
	}
	var rows []store.CommentTag
	if err := s.DB.WithContext(ctx).Where("response_id IN ?", responseIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load comment tags: %w", err)
	}
	return rows, nil
}
