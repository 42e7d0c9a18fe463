// Package chat answers the text messages people send to the bot on any
// platform: the commands 签到 (check in to the current class), 我的课程
// (upcoming classes with their links), 请假 (ask the coordinator to be
// excused) and 帮助, the reason for a score asked after an NPS or rating tap,
// and a short help for anything else — never silence. Adapters hand it a
// bot.InboundText (it implements bot.TextHandler) and send its bot.ChatReply
// back themselves, as they apply a tap's Reply.
package chat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/internal/defaults"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
)

// UpcomingDays is how far ahead 我的课程 looks.
const UpcomingDays = 14

// maxListed caps the classes one 我的课程 answer lists.
const maxListed = 10

// takeOverAfter is how long a claimed message may stay unfinished before a
// redelivery handles it afresh (the replica that claimed it died).
const takeOverAfter = 30 * time.Second

// writeTimeout bounds the writes of a message already claimed.
const writeTimeout = 10 * time.Second

// Comments stores the reason for a score (surveys.Service).
type Comments interface {
	TakeComment(ctx context.Context, employeeID uint64, reply string) (surveys.CommentOutcome, text.Message, error)
}

// FormLinks signs survey form links (surveys.Service).
type FormLinks interface {
	FormURL(deliveryID uint64, expires time.Time, key []byte) string
}

// Service handles inbound text. It implements bot.TextHandler.
type Service struct {
	DB       *gorm.DB
	Checkins *bot.Checkins
	Renderer *bot.Renderer
	Comments Comments
	Forms    FormLinks
	// OnsiteRequired, when set, tells whether a session requires on-site
	// check-in: a chat check-in there is stored as remote, like a card tap.
	OnsiteRequired func(ctx context.Context, sessionID uint64) (bool, error)
	Logger         *slog.Logger
	Now            func() time.Time
}

var _ bot.TextHandler = (*Service)(nil)

func (s *Service) now() time.Time { return defaults.Now(s.Now) }

func (s *Service) log() *slog.Logger { return defaults.Logger(s.Logger) }

// HandleText implements bot.TextHandler. A message the platform redelivers
// (same platform message id, on any replica) is answered with Duplicate and
// changes nothing. An error means nothing was stored and the platform may
// send the message again.
func (s *Service) HandleText(ctx context.Context, in bot.InboundText) (bot.ChatReply, error) {
	if in.MessageID == "" {
		in.MessageID = derivedID(in)
	}
	in.MessageID = cut.Runes(in.MessageID, 128)
	claimed, err := s.claim(ctx, in)
	if err != nil {
		return bot.ChatReply{}, err
	}
	if !claimed {
		return bot.ChatReply{Duplicate: true}, nil
	}
	reply, outcome, err := s.handle(ctx, in)
	if err != nil {
		s.release(ctx, in)
		return bot.ChatReply{}, err
	}
	wctx, cancel := store.Detached(ctx, writeTimeout)
	defer cancel()
	if err := s.DB.WithContext(wctx).Model(&store.ChatMessage{}).Where("platform = ? AND message_id = ?", string(in.Platform), in.MessageID).
		Update("outcome", outcome).Error; err != nil {
		// The message's effect is stored; only its bookkeeping is late.
		s.log().Warn("chat message outcome not recorded", "platform", in.Platform, "err", err)
	}
	return reply, nil
}

// derivedID identifies a message whose platform gave it no id.
func derivedID(in bot.InboundText) string {
	h := sha256.New()
	for _, v := range []string{in.UserID, strconv.FormatInt(in.At.UnixMilli(), 10), in.Text} {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	return "h:" + hex.EncodeToString(h.Sum(nil)[:20])
}

// claim records the message as being handled; false when it was handled
// (or is being handled) already. A claim left unfinished for takeOverAfter
// by a replica that died is taken over.
func (s *Service) claim(ctx context.Context, in bot.InboundText) (bool, error) {
	now := s.now()
	row := store.ChatMessage{Platform: string(in.Platform), MessageID: in.MessageID, Outcome: store.ChatPending, ReceivedAt: now}
	err := store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		row.ID = 0
		return tx.Create(&row).Error
	})
	if err == nil {
		return true, nil
	}
	if !store.IsDuplicate(err) {
		return false, fmt.Errorf("claim chat message: %w", err)
	}
	res := s.DB.WithContext(ctx).Model(&store.ChatMessage{}).
		Where("platform = ? AND message_id = ? AND outcome = ? AND received_at < ?", row.Platform, row.MessageID, store.ChatPending, now.Add(-takeOverAfter)).
		Update("received_at", now)
	if res.Error != nil {
		return false, fmt.Errorf("take over chat message: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// release forgets a claimed message whose handling failed, so that the
// platform's redelivery runs afresh.
func (s *Service) release(ctx context.Context, in bot.InboundText) {
	wctx, cancel := store.Detached(ctx, writeTimeout)
	defer cancel()
	if err := s.DB.WithContext(wctx).Where("platform = ? AND message_id = ? AND outcome = ?", string(in.Platform), in.MessageID, store.ChatPending).
		Delete(&store.ChatMessage{}).Error; err != nil {
		s.log().Warn("chat message claim not released", "platform", in.Platform, "err", err)
	}
}

// handle answers one claimed message.
func (s *Service) handle(ctx context.Context, in bot.InboundText) (bot.ChatReply, string, error) {
	emp, ok, err := s.sender(ctx, in)
	if err != nil {
		return bot.ChatReply{}, "", err
	}
	if !ok {
		return bot.ChatReply{Text: text.T(text.ZH, "chat:nobody") + "\n\n" + text.T(text.ZH, "chat:help")}, store.ChatNobody, nil
	}
	loc := text.ZH
	if emp.Locale != "" {
		loc = text.Parse(emp.Locale)
	}
	cmd, arg := Parse(in.Text)
	if cmd == "" && s.Comments != nil {
		// Not a command: it may be the reason for a score just given.
		outcome, msg, err := s.Comments.TakeComment(ctx, emp.ID, in.Text)
		if err != nil {
			return bot.ChatReply{}, "", err
		}
		switch outcome {
		case surveys.CommentStored:
			return bot.ChatReply{Text: text.T(loc, "chat:comment.thanks")}, store.ChatComment, nil
		case surveys.CommentClosed:
			return bot.ChatReply{Text: text.T(loc, "surveys:reply.closed")}, store.ChatComment, nil
		case surveys.CommentInvalid:
			return bot.ChatReply{Text: text.T(loc, "chat:comment.invalid", msg)}, store.ChatComment, nil
		}
	}
	switch cmd {
	case cmdCheckin:
		r, err := s.checkin(ctx, emp, in, loc)
		return r, store.ChatCheckin, err
	case cmdCourses:
		r, err := s.courses(ctx, emp, loc)
		return r, store.ChatCourses, err
	case cmdExcuse:
		r, err := s.excuse(ctx, emp, in, arg, loc)
		return r, store.ChatExcuse, err
	case cmdHelp:
		return bot.ChatReply{Text: text.T(loc, "chat:help")}, store.ChatHelp, nil
	}
	return bot.ChatReply{Text: text.T(loc, "chat:unknown") + "\n\n" + text.T(loc, "chat:help")}, store.ChatUnknown, nil
}

// sender finds the active employee behind a platform user id.
func (s *Service) sender(ctx context.Context, in bot.InboundText) (store.Employee, bool, error) {
	col := map[bot.Platform]string{
		bot.PlatformWeCom: "wecom_id", bot.PlatformFeishu: "feishu_id", bot.PlatformDingTalk: "dingtalk_id", bot.PlatformSimulator: "external_id",
	}[in.Platform]
	var e store.Employee
	if col == "" || in.UserID == "" {
		return e, false, nil
	}
	if err := s.DB.WithContext(ctx).Where(col+" = ? AND active = ?", in.UserID, true).Order("id").Limit(1).Find(&e).Error; err != nil {
		return e, false, fmt.Errorf("find chat sender: %w", err)
	}
	return e, e.ID != 0, nil
}

// enrolled returns emp's sessions (enrollment and session not cancelled)
// starting before to and ending after from, by start.
func (s *Service) enrolled(ctx context.Context, empID uint64, from, to time.Time) ([]store.Session, error) {
	var out []store.Session
	err := s.DB.WithContext(ctx).Model(&store.Session{}).Select("sessions.*").
		Joins("JOIN enrollments ON enrollments.session_id = sessions.id").
		Where("enrollments.employee_id = ? AND enrollments.status <> ? AND sessions.status <> ? AND sessions.starts_at <= ? AND sessions.ends_at >= ?",
			empID, store.EnrollCancelled, store.SessionCancelled, to, from).
		Order("sessions.starts_at, sessions.id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("load enrolled sessions: %w", err)
	}
	return out, nil
}
