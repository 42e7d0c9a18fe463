package campaigns

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
)

// Learned send time: from past campaign pushes, which hour of the day (in a
// zone) gets pushes opened soonest, for an audience, a department or a
// platform. The definition is "send_time" in definitions.go.
const (
	// OpenWithin is how soon after sending a first click counts as a quick
	// open.
	OpenWithin = time.Hour
	// DefaultMinPerHour is the sent deliveries an hour needs before it is
	// compared with other hours.
	DefaultMinPerHour = 30
	// SendTimeLookback is how far back an estimate reads by default.
	SendTimeLookback = 90 * 24 * time.Hour
	// MaxWindow bounds a best-time window.
	MaxWindow = 7 * 24 * time.Hour
)

// Reasons of a SendTimeChoice.
const (
	// ChoiceLearned: the best hour inside the window was chosen.
	ChoiceLearned = "learned"
	// ChoiceThinData: fewer than two hours of the window had enough sends
	// to compare; the configured time is used.
	ChoiceThinData = "thin_data"
	// ChoiceNoSlot: every slot of the window is in quiet hours or on a
	// holiday; the configured time is used (and moved out of them).
	ChoiceNoSlot = "no_slot"
)

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

// HourEstimate is what pushes sent in one local hour did.
type HourEstimate struct {
	Hour int `json:"hour"`
	// Sent is the n: sent deliveries whose send time falls in the hour.
	Sent int `json:"sent"`
	// Opened counts those whose first click came within OpenWithin.
	Opened int `json:"opened"`
	// QuickOpen is 100 × Opened ÷ Sent, one decimal (nil when Sent is 0).
	QuickOpen *float64 `json:"quick_open"`
	// MedianMinutes is the median minutes from sending to the first click
	// among the hour's clicked deliveries (nil when none was clicked).
	MedianMinutes *float64 `json:"median_minutes"`
	// Enough is set when Sent reaches the estimate's MinPerHour.
	Enough bool `json:"enough"`
}

// SendTimeEstimate is the learned send time's evidence: every hour 00–23
// with its n, and the best hour.
type SendTimeEstimate struct {
	TimeZone          string         `json:"time_zone"`
	From              time.Time      `json:"from"`
	To                time.Time      `json:"to"`
	Department        string         `json:"department,omitempty"`
	Platform          string         `json:"platform,omitempty"`
	OpenWithinMinutes int            `json:"open_within_minutes"`
	MinPerHour        int            `json:"min_per_hour"`
	N                 int            `json:"n"`
	Hours             []HourEstimate `json:"hours"`
	// Best is the hour with the highest quick-open rate among the hours
	// with enough sends (ties: the earlier hour); nil when fewer than two
	// hours have enough (nothing to compare).
	Best       *int       `json:"best_hour"`
	Definition Definition `json:"definition"`
}

// EstimateSendTime reads past campaign pushes (sent deliveries of campaign
// variants, whose cards carry tracked links) and their first clicks.
func (s *Service) EstimateSendTime(ctx context.Context, q SendTimeQuery) (*SendTimeEstimate, error) {
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	to, from := q.To, q.From
	if to.IsZero() {
		to = s.now()
	}
	if from.IsZero() {
		from = to.Add(-SendTimeLookback)
	}
	minN := q.MinPerHour
	if minN <= 0 {
		minN = DefaultMinPerHour
	}
	db := s.DB.WithContext(ctx)
	// Each delivery with each of its clicks by a known person (a delivery
	// without a click once); the first click is found here, not with MIN(),
	// whose result SQLite returns as text.
	rows := db.Table("deliveries").Select("deliveries.id, deliveries.sent_at, clicks.clicked_at").
		Joins("JOIN touchpoints ON touchpoints.id = deliveries.touchpoint_id").
		Joins("LEFT JOIN clicks ON clicks.delivery_id = deliveries.id AND clicks.employee_id <> 0").
		Where("touchpoints.kind = ? AND deliveries.status = ? AND deliveries.sent_at >= ? AND deliveries.sent_at < ?", KindCampaign, store.DeliverySent, from, to)
	if q.Platform != "" {
		rows = rows.Where("deliveries.platform = ?", q.Platform)
	}
	if q.Department != "" {
		names, err := store.DepartmentSubtree(ctx, s.DB, q.Department)
		if err != nil {
			return nil, err
		}
		rows = rows.Where("deliveries.employee_id IN (?)", db.Model(&store.Employee{}).Select("id").Where("department IN ?", names))
	}
	if q.Audience != nil {
		aq, err := q.Audience.query(ctx, s.DB)
		if err != nil {
			return nil, err
		}
		rows = rows.Where("deliveries.employee_id IN (?)", aq.Select("employees.id"))
	}
	var got []struct {
		ID        uint64
		SentAt    time.Time
		ClickedAt *time.Time
	}
	if err := rows.Scan(&got).Error; err != nil {
		return nil, fmt.Errorf("read past pushes: %w", err)
	}
	type push struct {
		sent  time.Time
		first *time.Time
	}
	pushes := make(map[uint64]*push, len(got))
	for _, r := range got {
		p := pushes[r.ID]
		if p == nil {
			p = &push{sent: r.SentAt}
			pushes[r.ID] = p
		}
		if r.ClickedAt != nil && !r.ClickedAt.Before(r.SentAt) && (p.first == nil || r.ClickedAt.Before(*p.first)) {
			at := *r.ClickedAt
			p.first = &at
		}
	}
	sent := make([]int, 24)
	opened := make([]int, 24)
	delays := make([][]float64, 24)
	for _, p := range pushes {
		h := p.sent.In(loc).Hour()
		sent[h]++
		if p.first == nil {
			continue
		}
		d := p.first.Sub(p.sent)
		if d <= OpenWithin {
			opened[h]++
		}
		delays[h] = append(delays[h], d.Minutes())
	}
	return buildEstimate(loc, from, to, q.Department, q.Platform, minN, sent, opened, delays), nil
}

// buildEstimate turns per-hour counts into the estimate (split out so the
// arithmetic is tested on hand-computed values).
func buildEstimate(loc *time.Location, from, to time.Time, dept, platform string, minN int, sent, opened []int, delays [][]float64) *SendTimeEstimate {
	e := &SendTimeEstimate{TimeZone: loc.String(), From: from.UTC(), To: to.UTC(), Department: dept, Platform: platform,
		OpenWithinMinutes: int(OpenWithin / time.Minute), MinPerHour: minN, Hours: make([]HourEstimate, 24), Definition: SendTimeDefinition()}
	enough := 0
	for h := range 24 {
		he := HourEstimate{Hour: h, Sent: sent[h], Opened: opened[h], Enough: sent[h] >= minN}
		e.N += sent[h]
		if sent[h] > 0 {
			v := figure(opened[h], sent[h], "").Value
			he.QuickOpen = v
		}
		if ds := delays[h]; len(ds) > 0 {
			m := median(ds)
			he.MedianMinutes = &m
		}
		if he.Enough {
			enough++
			if e.Best == nil || better(he, e.Hours[*e.Best]) {
				b := h
				e.Best = &b
			}
		}
		e.Hours[h] = he
	}
	if enough < 2 {
		e.Best = nil
	}
	return e
}

// better reports whether a's quick-open rate is above b's, compared
// exactly (a.Opened/a.Sent > b.Opened/b.Sent), not on rounded figures.
func better(a, b HourEstimate) bool {
	return int64(a.Opened)*int64(b.Sent) > int64(b.Opened)*int64(a.Sent)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return round(s[n/2], 1)
	}
	return round((s[n/2-1]+s[n/2])/2, 1)
}

// Window is a best-time window: the send goes out at the best hour inside
// [From, To).
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// SendTimeChoice is the send time picked for a window, and why.
type SendTimeChoice struct {
	Window     Window    `json:"window"`
	FallbackAt time.Time `json:"fallback_at"`
	// At is the chosen time: the start of the best allowed hour slot, or
	// FallbackAt.
	At      time.Time `json:"at"`
	Learned bool      `json:"learned"`
	Reason  string    `json:"reason"`
	// Hour is the chosen local hour (nil when not learned).
	Hour *int `json:"hour"`
	// N is the estimate's n (sent deliveries read); Compared are the
	// window's allowed hours with their figures, in window order.
	N          int            `json:"n"`
	MinPerHour int            `json:"min_per_hour"`
	TimeZone   string         `json:"time_zone"`
	Compared   []HourEstimate `json:"compared"`
}

// Choose picks the send time inside w: the window is cut into hour slots
// (the first starts at w.From, the next at each full local hour before
// w.To); slots in quiet hours or on holidays are left out; among the
// remaining slots whose hour has enough sends, the one with the highest
// quick-open rate wins (ties: the earliest). With fewer than two such
// hours, or no allowed slot, the choice is fallback.
func (e *SendTimeEstimate) Choose(w Window, fallback time.Time, quiet scheduler.QuietHours) SendTimeChoice {
	loc, err := time.LoadLocation(e.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	c := SendTimeChoice{Window: Window{w.From.UTC(), w.To.UTC()}, FallbackAt: fallback.UTC(), At: fallback.UTC(), Reason: ChoiceThinData,
		N: e.N, MinPerHour: e.MinPerHour, TimeZone: e.TimeZone, Compared: []HourEstimate{}}
	type slot struct {
		at   time.Time
		hour int
	}
	var slots []slot
	seen := map[int]bool{}
	for t := w.From; t.Before(w.To); {
		lt := t.In(loc)
		if quiet.Next(t).Equal(t.UTC()) {
			slots = append(slots, slot{t.UTC(), lt.Hour()})
			if !seen[lt.Hour()] {
				seen[lt.Hour()] = true
				c.Compared = append(c.Compared, e.Hours[lt.Hour()])
			}
		}
		y, m, d := lt.Date()
		t = time.Date(y, m, d, lt.Hour()+1, 0, 0, 0, loc)
	}
	if len(slots) == 0 {
		c.Reason = ChoiceNoSlot
		return c
	}
	var best *slot
	enough := 0
	for h := range seen {
		if e.Hours[h].Enough {
			enough++
		}
	}
	if enough < 2 {
		return c
	}
	for i := range slots {
		he := e.Hours[slots[i].hour]
		if !he.Enough {
			continue
		}
		if best == nil || better(he, e.Hours[best.hour]) {
			best = &slots[i]
		}
	}
	h := best.hour
	c.At, c.Learned, c.Reason, c.Hour = best.at, true, ChoiceLearned, &h
	return c
}

// basis is the stored explanation of a choice.
func (c SendTimeChoice) basis() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// chooseSendTime estimates from the audience's past pushes and picks the
// time inside w.
func (s *Service) chooseSendTime(ctx context.Context, aud Audience, loc *time.Location, w Window, fallback time.Time) (SendTimeChoice, error) {
	est, err := s.EstimateSendTime(ctx, SendTimeQuery{Audience: &aud, Location: loc})
	if err != nil {
		return SendTimeChoice{}, err
	}
	return est.Choose(w, fallback, s.quiet()), nil
}

// quiet is the planner's quiet hours and holidays.
func (s *Service) quiet() scheduler.QuietHours {
	if s.Planner != nil {
		return s.Planner.Quiet
	}
	return scheduler.QuietHours{}
}

// checkWindow validates a best-time window.
func (s *Service) checkWindow(errs *[]FieldError, field string, w *Window) {
	switch {
	case w == nil || w.From.IsZero() || w.To.IsZero():
		*errs = append(*errs, FieldError{field, CodeRequired, "is required: from and to (RFC 3339)"})
	case !w.To.After(w.From):
		*errs = append(*errs, FieldError{field + ".to", CodeWindowOrder, "must be after from"})
	case w.To.Sub(w.From) > MaxWindow:
		*errs = append(*errs, FieldError{field, CodeWindowTooLong, "is longer than 7 days"})
	case w.From.Before(s.now().Add(-time.Minute)):
		*errs = append(*errs, FieldError{field + ".from", CodePast, "is in the past"})
	case w.From.After(s.now().AddDate(2, 0, 0)):
		*errs = append(*errs, FieldError{field + ".from", CodeTooFar, "is more than two years ahead"})
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
		var c SendTimeChoice
		if err := json.Unmarshal([]byte(r.Basis), &c); err != nil {
			c = SendTimeChoice{Window: Window{r.WindowFrom, r.WindowTo}, FallbackAt: r.FallbackAt, At: r.ChosenAt, Learned: r.Learned}
		}
		out[r.VariantID] = c
	}
	return out, nil
}
