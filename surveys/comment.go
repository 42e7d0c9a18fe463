package surveys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// CommentWindow is how long after an NPS or rating tap the person's next
// chat reply is taken as the reason for their score (the question's comment,
// "为什么？直接回复即可"). A reply after it is handled as a chat command.
const CommentWindow = 30 * time.Minute

// JobPromptExpiry is the durable job that deletes a comment prompt at its
// expiry, so that the one row tying a person to an anonymous response for
// the time limit does not outlive it when no reply comes.
const JobPromptExpiry = "chat.prompt_expiry"

// CommentOutcome says what TakeComment did with a chat reply.
type CommentOutcome int

// Outcomes of TakeComment.
const (
	// CommentNone: no open prompt; the text is a command.
	CommentNone CommentOutcome = iota
	// CommentStored: the text is stored as the comment.
	CommentStored
	// CommentClosed: the prompt was open but its survey has closed since;
	// the prompt is used up and nothing is stored.
	CommentClosed
	// CommentInvalid: the text is not an acceptable answer (too long); the
	// prompt stays open.
	CommentInvalid
)

// commentQuestion is the free-text question a score's reason goes to: the
// first text question after the scored one ("nps" → "nps_why").
func commentQuestion(def Definition, scored string) (Question, bool) {
	seen := false
	for _, q := range def.Questions {
		if q.Key == scored {
			seen = true
			continue
		}
		if seen && q.Type == TypeText {
			return q, true
		}
	}
	return Question{}, false
}

// openPrompt records that employee's next chat reply within CommentWindow
// is the comment of q on resp (replacing an earlier open prompt of theirs).
// Expired prompts of anyone are removed on the way. ok is false when the
// survey has no comment question for the scored one or it is answered.
func (s *Service) openPrompt(ctx context.Context, sv store.Survey, def Definition, scored string, employeeID, responseID uint64) (bool, error) {
	q, ok := commentQuestion(def, scored)
	if !ok || responseID == 0 {
		return false, nil
	}
	now := s.now()
	err := store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&store.SurveyAnswer{}).Where("response_id = ? AND question_key = ? AND text <> ''", responseID, q.Key).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			ok = false
			return nil
		}
		if err := tx.Where("expires_at < ? OR employee_id = ?", now, employeeID).Delete(&store.ChatPrompt{}).Error; err != nil {
			return err
		}
		p := store.ChatPrompt{EmployeeID: employeeID, SurveyID: sv.ID, ResponseID: responseID, QuestionKey: q.Key, ExpiresAt: now.Add(CommentWindow)}
		if err := tx.Create(&p).Error; err != nil {
			return err
		}
		if s.Planner == nil || s.Planner.Sched == nil {
			return nil
		}
		_, _, err := s.Planner.Sched.Enqueue(ctx, tx, scheduler.JobSpec{Kind: JobPromptExpiry,
			UniqueKey: fmt.Sprintf("%s:%d", JobPromptExpiry, p.ID), RunAt: p.ExpiresAt, Payload: map[string]uint64{"prompt": p.ID}})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("open comment prompt: %w", err)
	}
	return ok, nil
}

// TakeComment stores a chat reply as the comment its sender was asked for
// after a score tap, once: the prompt is used up in the same transaction
// (a second reply, or the same reply handled by another replica, finds
// none). An anonymous response gets the comment without anything about the
// person: the answer has a random id and the day only, and the prompt — the
// only link — is gone once the comment is stored. A comment already given
// on the form is kept and the reply added after it.
func (s *Service) TakeComment(ctx context.Context, employeeID uint64, reply string) (CommentOutcome, text.Message, error) {
	now := s.now()
	var p store.ChatPrompt
	if err := s.DB.WithContext(ctx).Where("employee_id = ? AND expires_at >= ?", employeeID, now).Limit(1).Find(&p).Error; err != nil {
		return CommentNone, text.Message{}, fmt.Errorf("load comment prompt: %w", err)
	}
	if p.ID == 0 {
		return CommentNone, text.Message{}, nil
	}
	sv, err := s.loadSurvey(ctx, p.SurveyID)
	if errors.Is(err, ErrNotFound) {
		sv = store.Survey{}
	} else if err != nil {
		return CommentNone, text.Message{}, err
	}
	def, err := SurveyDefinition(sv)
	var q Question
	found := false
	if err == nil {
		for _, c := range def.Questions {
			if c.Key == p.QuestionKey {
				q, found = c, true
			}
		}
	}
	if sv.ID == 0 || !found || !Open(sv, now) {
		if err := s.DB.WithContext(ctx).Where("id = ?", p.ID).Delete(&store.ChatPrompt{}).Error; err != nil {
			return CommentNone, text.Message{}, fmt.Errorf("drop comment prompt: %w", err)
		}
		return CommentClosed, text.Message{}, nil
	}
	ans, err := q.Parse([]string{strings.TrimSpace(reply)})
	if err != nil {
		var ie *ValidationError
		if errors.As(err, &ie) {
			return CommentInvalid, ie.Message, nil
		}
		return CommentInvalid, text.Message{Key: "surveys:reply.bad_value"}, nil
	}
	stamp := now
	if sv.Anonymous {
		stamp = store.AnonymousDay(now)
	}
	outcome := CommentStored
	wctx, cancel := store.Detached(ctx, saveTimeout)
	defer cancel()
	err = store.Tx(wctx, s.DB, func(tx *gorm.DB) error {
		outcome = CommentStored
		del := tx.Where("id = ?", p.ID).Delete(&store.ChatPrompt{})
		if del.Error != nil {
			return del.Error
		}
		if del.RowsAffected == 0 {
			outcome = CommentNone // another replica took it
			return nil
		}
		var old store.SurveyAnswer
		if err := tx.Where("response_id = ? AND question_key = ?", p.ResponseID, q.Key).Limit(1).Find(&old).Error; err != nil {
			return err
		}
		if old.ID != 0 {
			t := ans.Text
			if strings.TrimSpace(old.Text) != "" {
				t = old.Text + "\n" + ans.Text
			}
			return tx.Model(&store.SurveyAnswer{}).Where("id = ?", old.ID).UpdateColumns(map[string]any{"text": t, "updated_at": stamp}).Error
		}
		row := store.SurveyAnswer{ResponseID: p.ResponseID, SurveyID: sv.ID, QuestionKey: q.Key, Text: ans.Text, UpdatedAt: stamp}
		if sv.Anonymous {
			id, err := store.RandomRowID()
			if err != nil {
				return err
			}
			row.ID = id
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return CommentNone, text.Message{}, fmt.Errorf("store comment: %w", err)
	}
	return outcome, text.Message{}, nil
}

// ExpirePrompt is the handler of JobPromptExpiry: it deletes the prompt
// once expired (a prompt already used or replaced is gone already).
func (s *Service) ExpirePrompt(ctx context.Context, job store.Job) error {
	var p struct {
		Prompt uint64 `json:"prompt"`
	}
	if err := json.Unmarshal([]byte(job.Payload), &p); err != nil || p.Prompt == 0 {
		return fmt.Errorf("prompt expiry job %d: bad payload", job.ID)
	}
	if err := s.DB.WithContext(ctx).Where("id = ? AND expires_at <= ?", p.Prompt, s.now()).Delete(&store.ChatPrompt{}).Error; err != nil {
		return fmt.Errorf("delete expired comment prompt: %w", err)
	}
	return nil
}
