package campaigns

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/sendtime"
	"github.com/learnloop/learnloop/store"
)

// Learned send time: the estimator is package sendtime's, shared with the
// class planner; campaigns read it through an audience. The definition is
// "send_time" in definitions.go.
const (
	// OpenWithin is how soon after sending a first open counts as a quick
	// open.
	OpenWithin = sendtime.OpenWithin
	// DefaultMinPerHour is the sent deliveries an hour needs before it is
	// compared with other hours.
	DefaultMinPerHour = sendtime.DefaultMinPerHour
	// SendTimeLookback is how far back an estimate reads by default.
	SendTimeLookback = sendtime.Lookback
	// MaxWindow bounds a best-time window.
	MaxWindow = sendtime.MaxWindow
)

// Reasons of a SendTimeChoice.
const (
	// ChoiceLearned: the best hour inside the window was chosen.
	ChoiceLearned = sendtime.ChoiceLearned
	// ChoiceThinData: too few comparable hours; the configured time is used.
	ChoiceThinData = sendtime.ChoiceThinData
	// ChoiceNoSlot: the whole window is quiet; the configured time is used.
	ChoiceNoSlot = sendtime.ChoiceNoSlot
)

// HourEstimate is what pushes sent in one local hour did.
type HourEstimate = sendtime.Hour

// Window is a best-time window: the send goes out at the best hour inside
// [From, To).
type Window = sendtime.Window

// SendTimeChoice is the send time picked for a window, and why.
type SendTimeChoice = sendtime.Choice

// SendTimeQuery chooses whose past pushes an estimate reads; a zero field
// does not narrow.
type SendTimeQuery struct {
	// Audience limits the estimate to the people an audience chooses now.
	Audience *Audience
	// Department limits it to people in the department or below it.
	Department string
	// Platform limits it to deliveries sent through one platform.
	Platform string
	// Location is the zone hours are read in; nil means UTC.
	Location *time.Location
	// From and To bound the send times read; zero values mean
	// SendTimeLookback before now, and now.
	From, To time.Time
	// MinPerHour is the sent deliveries an hour needs to be compared; 0
	// means DefaultMinPerHour.
	MinPerHour int
}

// SendTimeEstimate is the learned send time's evidence (sendtime.Estimate)
// with its definition.
type SendTimeEstimate struct {
	sendtime.Estimate
	Definition Definition `json:"definition"`
}

// EstimateSendTime reads past pushes (sendtime.Read: campaign pushes and
// class reminders, with their first clicks and card check-ins).
func (s *Service) EstimateSendTime(ctx context.Context, q SendTimeQuery) (*SendTimeEstimate, error) {
	sq := sendtime.Query{Department: q.Department, Platform: q.Platform, Location: q.Location, From: q.From, To: q.To, MinPerHour: q.MinPerHour}
	if q.Audience != nil {
		aq, err := q.Audience.query(ctx, s.DB)
		if err != nil {
			return nil, err
		}
		sq.Employees = aq.Select("employees.id")
	}
	est, err := sendtime.Read(ctx, s.DB, sq, s.now())
	if err != nil {
		return nil, err
	}
	return &SendTimeEstimate{Estimate: *est, Definition: SendTimeDefinition()}, nil
}

// chooseSendTime estimates from the audience's past pushes and picks the
// time inside w.
func (s *Service) chooseSendTime(ctx context.Context, aud Audience, loc *time.Location, w Window, fallback time.Time) (SendTimeChoice, error) {
	est, err := s.EstimateSendTime(ctx, SendTimeQuery{Audience: &aud, Location: loc})
	if err != nil {
		return SendTimeChoice{}, err
	}
	return est.Choose(w, fallback, s.quiet(loc)), nil
}

// quiet is the planner's quiet hours and holidays read in the campaign's
// zone loc, as the planner reads them in the zone of the campaign's session.
func (s *Service) quiet(loc *time.Location) scheduler.QuietHours {
	if s.Planner != nil {
		return s.Planner.Quiet.In(loc)
	}
	return scheduler.QuietHours{}
}

// checkWindow validates a best-time window.
func (s *Service) checkWindow(errs *[]FieldError, field string, w *Window) {
	switch {
	case w == nil || w.From.IsZero() || w.To.IsZero():
		*errs = append(*errs, FieldError{Field: field, Code: CodeRequired, Message: "is required: from and to (RFC 3339)"})
	case !w.To.After(w.From):
		*errs = append(*errs, FieldError{Field: field + ".to", Code: CodeWindowOrder, Message: "must be after from"})
	case w.To.Sub(w.From) > MaxWindow:
		*errs = append(*errs, FieldError{Field: field, Code: CodeWindowTooLong, Message: "is longer than 7 days"})
	case w.From.Before(s.now().Add(-time.Minute)):
		*errs = append(*errs, FieldError{Field: field + ".from", Code: CodePast, Message: "is in the past"})
	case w.From.After(s.now().AddDate(2, 0, 0)):
		*errs = append(*errs, FieldError{Field: field + ".from", Code: CodeTooFar, Message: "is more than two years ahead"})
	}
}

// SendTimes returns the learned send times of a campaign's variants, by
// variant id.
func (s *Service) SendTimes(ctx context.Context, campaignID uint64) (map[uint64]SendTimeChoice, error) {
	return s.sendTimes(s.DB.WithContext(ctx), []uint64{campaignID})
}

func (s *Service) sendTimes(db *gorm.DB, campaignIDs []uint64) (map[uint64]SendTimeChoice, error) {
	var rows []store.CampaignSendTime
	if err := db.Where("campaign_id IN ?", campaignIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load send times: %w", err)
	}
	out := make(map[uint64]SendTimeChoice, len(rows))
	for _, r := range rows {
		c, err := sendtime.ParseBasis(r.Basis)
		if err != nil {
			c = SendTimeChoice{Window: Window{From: r.WindowFrom, To: r.WindowTo}, FallbackAt: r.FallbackAt, At: r.ChosenAt, Learned: r.Learned}
		}
		out[r.VariantID] = c
	}
	return out, nil
}
