package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// checkinLookback and checkinLookahead bound the classes 签到 considers:
// make-up windows end days after a class, check-in opens hours before.
const (
	checkinLookback  = 8 * 24 * time.Hour
	checkinLookahead = 2 * 24 * time.Hour
)

// checkin checks emp in to the class whose check-in window is open now
// (the latest started one when several are), through the same
// bot.Checkins path and window rules as a card tap; a chat check-in is
// remote like a tap.
func (s *Service) checkin(ctx context.Context, emp store.Employee, in bot.InboundText, loc text.Locale) (bot.ChatReply, error) {
	now := s.now()
	list, err := s.enrolled(ctx, emp.ID, now.Add(-checkinLookback), now.Add(checkinLookahead))
	if err != nil {
		return bot.ChatReply{}, err
	}
	var open *store.Session
	for i := len(list) - 1; i >= 0; i-- {
		if _, err := bot.SessionWindows(list[i]).Classify(now); err == nil {
			open = &list[i]
			break
		}
	}
	if open == nil {
		return bot.ChatReply{Text: s.notOpen(list, now, loc)}, nil
	}
	sess := *open
	res, err := s.Checkins.Record(ctx, bot.CheckinRequest{
		SessionID: sess.ID, EmployeeID: emp.ID, Source: store.SourceChat, Platform: string(in.Platform), At: now, Session: &sess,
	})
	switch {
	case errors.Is(err, bot.ErrCheckinNotOpen), errors.Is(err, bot.ErrCheckinClosed):
		return bot.ChatReply{Text: s.notOpen(list, now, loc)}, nil
	case errors.Is(err, bot.ErrNotEnrolled):
		return bot.ChatReply{Text: text.T(loc, "bot:reply.not_enrolled")}, nil
	case errors.Is(err, bot.ErrSessionCanceled):
		return bot.ChatReply{Text: text.T(loc, "bot:reply.cancelled")}, nil
	case err != nil:
		return bot.ChatReply{}, err
	}
	at := res.Checkin.CheckedInAt.In(bot.SessionLocation(sess)).Format("15:04")
	if s.OnsiteRequired != nil {
		remote, err := s.OnsiteRequired(ctx, sess.ID)
		if err != nil {
			return bot.ChatReply{}, err
		}
		if remote {
			return bot.ChatReply{Text: text.T(loc, "bot:reply.remote", at)}, nil
		}
	}
	if res.Duplicate {
		return bot.ChatReply{Text: text.T(loc, "chat:checkin.already", at, sess.Title)}, nil
	}
	return bot.ChatReply{Text: text.T(loc, "chat:checkin."+res.Checkin.Kind, at, sess.Title)}, nil
}

// notOpen says why no check-in is possible now: the next class's opening
// time, the last class's closed window, or no class at all.
func (s *Service) notOpen(list []store.Session, now time.Time, loc text.Locale) string {
	for _, sess := range list {
		if w := bot.SessionWindows(sess); w.Opens.After(now) {
			return text.T(loc, "chat:checkin.not_open", sess.Title, w.Opens.In(bot.SessionLocation(sess)).Format("01-02 15:04"))
		}
	}
	if n := len(list); n > 0 {
		return text.T(loc, "chat:checkin.closed", list[n-1].Title)
	}
	return text.T(loc, "chat:checkin.none")
}

// courses lists emp's classes of the next UpcomingDays days (and the one
// under way) with time in each session's zone, place, and the signed links
// that exist for them: the check-in page while check-in is possible, the
// survey form of an open survey sent to them.
func (s *Service) courses(ctx context.Context, emp store.Employee, loc text.Locale) (bot.ChatReply, error) {
	now := s.now()
	list, err := s.enrolled(ctx, emp.ID, now, now.Add(UpcomingDays*24*time.Hour))
	if err != nil {
		return bot.ChatReply{}, err
	}
	if len(list) == 0 {
		return bot.ChatReply{Text: text.T(loc, "chat:courses.none", UpcomingDays)}, nil
	}
	more := 0
	if len(list) > maxListed {
		list, more = list[:maxListed], len(list)-maxListed
	}
	lines := []string{text.T(loc, "chat:courses.title", UpcomingDays)}
	var links []bot.ChatLink
	for _, sess := range list {
		place := sess.Location
		if place == "" && sess.OnlineURL != "" {
			place = text.T(loc, "bot:online")
		}
		line := text.T(loc, "chat:courses.line", sess.Title, bot.FormatSpan(sess), sess.TimeZone)
		if place != "" {
			line += text.T(loc, "chat:courses.place", place)
		}
		lines = append(lines, line)
		l, err := s.links(ctx, emp, sess, now, loc)
		if err != nil {
			return bot.ChatReply{}, err
		}
		links = append(links, l...)
	}
	if more > 0 {
		lines = append(lines, text.T(loc, "chat:courses.more", more))
	}
	return bot.ChatReply{Text: strings.Join(lines, "\n"), Links: links}, nil
}

// links are the signed links of one class for emp, from the deliveries
// they were sent: the check-in page (while check-in is possible) and the
// form of each open survey of the class.
func (s *Service) links(ctx context.Context, emp store.Employee, sess store.Session, now time.Time, loc text.Locale) ([]bot.ChatLink, error) {
	var rows []struct {
		ID       uint64
		SurveyID uint64
	}
	err := s.DB.WithContext(ctx).Table("deliveries").Select("MAX(deliveries.id) AS id, touchpoints.survey_id").
		Joins("JOIN touchpoints ON touchpoints.id = deliveries.touchpoint_id").
		Where("deliveries.session_id = ? AND deliveries.employee_id = ? AND deliveries.subject_id = 0 AND deliveries.status = ?", sess.ID, emp.ID, store.DeliverySent).
		Group("touchpoints.survey_id").Order("touchpoints.survey_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load deliveries for links: %w", err)
	}
	var out []bot.ChatLink
	for _, r := range rows {
		if r.SurveyID == 0 {
			if s.Renderer != nil && !now.After(bot.SessionWindows(sess).MakeupUntil) {
				out = append(out, bot.ChatLink{Text: text.T(loc, "chat:link.checkin", sess.Title), URL: s.Renderer.CheckinURL(r.ID, s.Renderer.Expiry(sess))})
			}
			continue
		}
		if s.Forms == nil {
			continue
		}
		var sv store.Survey
		if err := s.DB.WithContext(ctx).Limit(1).Find(&sv, r.SurveyID).Error; err != nil {
			return nil, fmt.Errorf("load survey for links: %w", err)
		}
		if sv.ID == 0 || sv.Status != store.SurveyOpen || !now.Before(sv.ClosesAt) || now.Before(sv.OpensAt) {
			continue
		}
		out = append(out, bot.ChatLink{Text: text.T(loc, "chat:link.survey", sv.Title), URL: s.Forms.FormURL(r.ID, sv.ClosesAt, nil)})
	}
	return out, nil
}

// excuse records emp's request to be excused from their current or next
// class, for the coordinator to approve or reject on the console; the
// request and its audit row are written together. A second 请假 for the same
// class updates the reason of a pending request.
func (s *Service) excuse(ctx context.Context, emp store.Employee, in bot.InboundText, reason string, loc text.Locale) (bot.ChatReply, error) {
	now := s.now()
	list, err := s.enrolled(ctx, emp.ID, now, now.AddDate(1, 0, 0))
	if err != nil {
		return bot.ChatReply{}, err
	}
	if len(list) == 0 {
		return bot.ChatReply{Text: text.T(loc, "chat:excuse.none")}, nil
	}
	sess := list[0]
	when := bot.SessionLocation(sess)
	start := sess.StartsAt.In(when).Format("01-02 15:04")
	reason = cut.Runes(reason, 200)
	var answer string
	wctx, cancel := store.Detached(ctx, writeTimeout)
	defer cancel()
	err = store.Tx(wctx, s.DB, func(tx *gorm.DB) error {
		var enr store.Enrollment
		if err := tx.Where("session_id = ? AND employee_id = ?", sess.ID, emp.ID).Limit(1).Find(&enr).Error; err != nil {
			return err
		}
		if enr.Status == store.EnrollExcused {
			answer = text.T(loc, "chat:excuse.already_excused", sess.Title, start)
			return nil
		}
		var req store.ExcuseRequest
		if err := tx.Where("session_id = ? AND employee_id = ?", sess.ID, emp.ID).Limit(1).Find(&req).Error; err != nil {
			return err
		}
		action := "excuse_request.created"
		switch {
		case req.ID == 0:
			req = store.ExcuseRequest{SessionID: sess.ID, EmployeeID: emp.ID, Reason: reason, Status: store.ExcusePending,
				Platform: string(in.Platform), CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&req).Error; err != nil {
				return err
			}
			answer = text.T(loc, "chat:excuse.sent", sess.Title, start)
		case req.Status == store.ExcuseApproved:
			answer = text.T(loc, "chat:excuse.already_excused", sess.Title, start)
			return nil
		default:
			// Pending: a new reason; rejected: asked again.
			action = "excuse_request.updated"
			if err := tx.Model(&store.ExcuseRequest{}).Where("id = ?", req.ID).Updates(map[string]any{
				"reason": reason, "status": store.ExcusePending, "platform": string(in.Platform), "decided_by": "", "decided_at": nil, "updated_at": now,
			}).Error; err != nil {
				return err
			}
			answer = text.T(loc, "chat:excuse.updated", sess.Title, start)
		}
		return store.WriteAudit(tx, "employee:"+emp.ExternalID, action, fmt.Sprintf("session:%d", sess.ID),
			map[string]any{"request": req.ID, "employee": emp.ExternalID, "reason": reason, "platform": in.Platform}, now)
	})
	if err != nil {
		return bot.ChatReply{}, fmt.Errorf("store excuse request: %w", err)
	}
	return bot.ChatReply{Text: answer}, nil
}
