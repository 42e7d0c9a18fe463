package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// Decisions tells employees the coordinator's decision on their excuse
// requests: the handler of command.JobExcuseDecision, which sends one
// message through the employee's platform's normal Messenger.
type Decisions struct {
	Service    *Service
	Messengers map[bot.Platform]bot.Messenger
	// DefaultPlatform is used for employees without a preferred platform.
	DefaultPlatform bot.Platform
}

// Handle sends the decision of the request named by the job's payload
// ({"request": id}). The message's key is the request and its decision, so
// a retried job is de-duplicated by the platform. A request that is gone,
// still pending, or whose person cannot be reached is logged and done.
func (d *Decisions) Handle(ctx context.Context, job store.Job) error {
	var p struct {
		Request uint64 `json:"request"`
	}
	if err := json.Unmarshal([]byte(job.Payload), &p); err != nil || p.Request == 0 {
		return fmt.Errorf("excuse decision job %d: bad payload", job.ID)
	}
	s := d.Service
	db := s.DB.WithContext(ctx)
	var req store.ExcuseRequest
	if err := db.Limit(1).Find(&req, p.Request).Error; err != nil {
		return fmt.Errorf("load excuse request: %w", err)
	}
	if req.ID == 0 || req.Status == store.ExcusePending {
		s.log().Warn("excuse decision not sent: no decided request", "request", p.Request)
		return nil
	}
	var emp store.Employee
	var sess store.Session
	if err := db.Limit(1).Find(&emp, req.EmployeeID).Error; err != nil {
		return fmt.Errorf("load employee: %w", err)
	}
	if err := db.Limit(1).Find(&sess, req.SessionID).Error; err != nil {
		return fmt.Errorf("load session: %w", err)
	}
	platform := bot.Platform(emp.Platform)
	if platform == "" {
		platform = d.DefaultPlatform
	}
	if bot.Platform(req.Platform) != "" && d.Messengers[bot.Platform(req.Platform)] != nil {
		platform = bot.Platform(req.Platform) // answer where they asked
	}
	m, ok := d.Messengers[platform]
	uid := bot.PlatformUserID(emp, platform)
	if !ok || uid == "" || emp.ID == 0 {
		s.log().Warn("excuse decision not sent: the person cannot be reached", "request", req.ID, "platform", platform)
		return nil
	}
	loc := text.ZH
	if emp.Locale != "" {
		loc = text.Parse(emp.Locale)
	}
	start := sess.StartsAt.In(bot.SessionLocation(sess)).Format("01-02 15:04")
	msg := bot.Message{
		Key:    fmt.Sprintf("ll-x%d-%s", req.ID, req.Status),
		Kind:   "excuse_decision",
		Title:  text.T(loc, "chat:decision.title."+req.Status),
		Body:   text.T(loc, "chat:decision.body."+req.Status, sess.Title, start),
		Locale: loc,
	}
	msg.Fallback = msg.Title + "\n" + msg.Body
	if _, err := m.Send(ctx, bot.Recipient{EmployeeID: emp.ID, UserID: uid, Name: emp.Name, Locale: loc}, msg); err != nil {
		var pe *bot.PermanentError
		if errors.As(err, &pe) {
			s.log().Warn("excuse decision not delivered", "request", req.ID, "platform", platform, "code", pe.Code)
			return nil
		}
		return fmt.Errorf("send excuse decision: %w", err)
	}
	return nil
}
