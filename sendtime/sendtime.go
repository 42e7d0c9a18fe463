// Package sendtime is the learned send time, the one estimator that
// campaigns and the class planner share: from past pushes (campaign pushes
// and class reminders, makeup reminders and custom notices) and their first
// opens, which local hour gets pushes opened soonest, and the best allowed
// hour slot of a window. The meaning is the campaign definition
// "send_time" (text key campaigns:definition.send_time).
package sendtime

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

const (
	// OpenWithin is how soon after sending a first open counts as a quick
	// open.
	OpenWithin = time.Hour
	// DefaultMinPerHour is the sent deliveries an hour needs before it is
	// compared with other hours.
	DefaultMinPerHour = 30
	// Lookback is how far back an estimate reads by default.
	Lookback = 90 * 24 * time.Hour
	// MaxWindow bounds a best-time window.
	MaxWindow = 7 * 24 * time.Hour
)

// KindCampaign is the touchpoint kind of a campaign push (campaigns.KindCampaign).
const KindCampaign = "campaign"

// Kinds are the touchpoint kinds whose deliveries an estimate reads: pushes
// people open when they choose to. The check-in prompt is left out — it is
// tapped when the class starts, whatever hour it was sent — and so are
// survey pushes, whose answers are anonymous or kept apart.
var Kinds = []string{KindCampaign, bot.KindReminder, bot.KindMakeupReminder, bot.KindCustom}

// Reasons of a Choice.
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

// Query chooses whose past pushes an estimate reads; a zero field does not
// narrow.
type Query struct {
	// Employees, when set, is a subquery selecting the employee ids whose
	// pushes are read (a campaign's audience, a session's roster).
	Employees *gorm.DB
	// Department limits it to people in the department or below it.
	Department string
	// Platform limits it to deliveries sent through one platform.
	Platform string
	// Location is the zone hours are read in; nil means UTC.
	Location *time.Location
	// From and To bound the send times read; zero values mean Lookback
	// before now, and now.
	From, To time.Time
	// MinPerHour is the sent deliveries an hour needs to be compared; 0
	// means DefaultMinPerHour.
	MinPerHour int
}

// Hour is what pushes sent in one local hour did.
type Hour struct {
	Hour int `json:"hour"`
	// Sent is the n: sent deliveries whose send time falls in the hour.
	Sent int `json:"sent"`
	// Opened counts those first opened within OpenWithin.
	Opened int `json:"opened"`
	// QuickOpen is 100 × Opened ÷ Sent, one decimal (nil when Sent is 0).
	QuickOpen *float64 `json:"quick_open"`
	// MedianMinutes is the median minutes from sending to the first open
	// among the hour's opened deliveries (nil when none was opened).
	MedianMinutes *float64 `json:"median_minutes"`
	// Enough is set when Sent reaches the estimate's MinPerHour.
	Enough bool `json:"enough"`
}

// Estimate is the learned send time's evidence: every hour 00–23 with its
// n, and the best hour.
type Estimate struct {
	TimeZone          string    `json:"time_zone"`
	From              time.Time `json:"from"`
	To                time.Time `json:"to"`
	Department        string    `json:"department,omitempty"`
	Platform          string    `json:"platform,omitempty"`
	OpenWithinMinutes int       `json:"open_within_minutes"`
	MinPerHour        int       `json:"min_per_hour"`
	N                 int       `json:"n"`
	Hours             []Hour    `json:"hours"`
	// Best is the hour with the highest quick-open rate among the hours
	// with enough sends (ties: the earlier hour); nil when fewer than two
	// hours have enough (nothing to compare).
	Best *int `json:"best_hour"`
}

// Read estimates from past pushes: the sent deliveries of the touchpoint
// Kinds, each once, with its first open — the earliest of a tracked-link
// click by the recipient and a check-in made from the card (a tap on its
// button or its check-in link, which carries the delivery) at or after the
// send. now ends the default period.
func Read(ctx context.Context, db *gorm.DB, q Query, now time.Time) (*Estimate, error) {
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	to, from := q.To, q.From
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-Lookback)
	}
	minN := q.MinPerHour
	if minN <= 0 {
		minN = DefaultMinPerHour
	}
	db = db.WithContext(ctx)
	// Each delivery with each of its opens (a delivery without one once);
	// the first open is found here, not with MIN(), whose result SQLite
	// returns as text.
	rows := db.Table("deliveries").Select("deliveries.id, deliveries.sent_at, clicks.clicked_at, checkins.checked_in_at").
		Joins("JOIN touchpoints ON touchpoints.id = deliveries.touchpoint_id").
		Joins("LEFT JOIN clicks ON clicks.touchpoint_id = deliveries.touchpoint_id AND clicks.delivery_id = deliveries.id AND clicks.employee_id <> 0").
		Joins("LEFT JOIN checkins ON checkins.delivery_id = deliveries.id").
		Where("touchpoints.kind IN ? AND deliveries.status = ? AND deliveries.sent_at >= ? AND deliveries.sent_at < ?", Kinds, store.DeliverySent, from, to)
	if q.Platform != "" {
		rows = rows.Where("deliveries.platform = ?", q.Platform)
	}
	if q.Department != "" {
		names, err := store.DepartmentSubtree(ctx, db, q.Department)
		if err != nil {
			return nil, err
		}
		rows = rows.Where("deliveries.employee_id IN (?)", db.Model(&store.Employee{}).Select("id").Where("department IN ?", names))
	}
	if q.Employees != nil {
		rows = rows.Where("deliveries.employee_id IN (?)", q.Employees)
	}
	var got []struct {
		ID          uint64
		SentAt      time.Time
		ClickedAt   *time.Time
		CheckedInAt *time.Time
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
		for _, at := range []*time.Time{r.ClickedAt, r.CheckedInAt} {
			if at != nil && !at.Before(p.sent) && (p.first == nil || at.Before(*p.first)) {
				t := *at
				p.first = &t
			}
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
	return build(loc, from, to, q.Department, q.Platform, minN, sent, opened, delays), nil
}

// build turns per-hour counts into the estimate (split out so the
// arithmetic is tested on hand-computed values).
func build(loc *time.Location, from, to time.Time, dept, platform string, minN int, sent, opened []int, delays [][]float64) *Estimate {
	e := &Estimate{TimeZone: loc.String(), From: from.UTC(), To: to.UTC(), Department: dept, Platform: platform,
		OpenWithinMinutes: int(OpenWithin / time.Minute), MinPerHour: minN, Hours: make([]Hour, 24)}
	enough := 0
	for h := range 24 {
		he := Hour{Hour: h, Sent: sent[h], Opened: opened[h], Enough: sent[h] >= minN}
		e.N += sent[h]
		if sent[h] > 0 {
			he.QuickOpen = percent(opened[h], sent[h])
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

// percent is 100 × num ÷ n to one decimal, halves rounded up in integer
// arithmetic (the reports' rule for a percentage figure).
func percent(num, n int) *float64 {
	tenths := (2000*int64(num) + int64(n)) / (2 * int64(n))
	v := float64(tenths) / 10
	return &v
}

// better reports whether a's quick-open rate is above b's, compared
// exactly (a.Opened/a.Sent > b.Opened/b.Sent), not on rounded figures.
func better(a, b Hour) bool {
	return int64(a.Opened)*int64(b.Sent) > int64(b.Opened)*int64(a.Sent)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return round1(s[n/2])
	}
	return round1((s[n/2-1] + s[n/2]) / 2)
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// Window is a best-time window: the send goes out at the best hour inside
// [From, To).
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Choice is the send time picked for a window, and why.
type Choice struct {
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
	N          int    `json:"n"`
	MinPerHour int    `json:"min_per_hour"`
	TimeZone   string `json:"time_zone"`
	Compared   []Hour `json:"compared"`
}

// Choose picks the send time inside w: the window is cut into hour slots
// (the first starts at w.From, the next at each full local hour before
// w.To); slots in quiet hours or on holidays are left out; among the
// remaining slots whose hour has enough sends, the one with the highest
// quick-open rate wins (ties: the earliest). With fewer than two such
// hours, or no allowed slot, the choice is fallback. The same estimate and
// window always give the same choice.
func (e *Estimate) Choose(w Window, fallback time.Time, quiet scheduler.QuietHours) Choice {
	loc, err := time.LoadLocation(e.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	c := Choice{Window: Window{From: w.From.UTC(), To: w.To.UTC()}, FallbackAt: fallback.UTC(), At: fallback.UTC(), Reason: ChoiceThinData,
		N: e.N, MinPerHour: e.MinPerHour, TimeZone: e.TimeZone, Compared: []Hour{}}
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
	enough := 0
	for h := range seen {
		if e.Hours[h].Enough {
			enough++
		}
	}
	if enough < 2 {
		return c
	}
	var best *slot
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

// Basis is the stored explanation of a choice (its JSON).
func (c Choice) Basis() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// ParseBasis reads a stored Basis back.
func ParseBasis(s string) (Choice, error) {
	var c Choice
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("parse send time basis: %w", err)
	}
	return c, nil
}

// Explain says in words what was chosen and on what basis: the hour with
// its quick-open rate, n and the hours compared, or why the configured
// time is used ("数据不足，使用设定时间").
func (c Choice) Explain() text.Message {
	switch c.Reason {
	case ChoiceLearned:
		if c.Hour != nil {
			var rate float64
			for _, h := range c.Compared {
				if h.Hour == *c.Hour && h.QuickOpen != nil {
					rate = *h.QuickOpen
				}
			}
			comparable := 0
			for _, h := range c.Compared {
				if h.Enough {
					comparable++
				}
			}
			return text.M("sendtime:learned", fmt.Sprintf("%02d:00", *c.Hour), rate, c.N, comparable, c.MinPerHour)
		}
	case ChoiceNoSlot:
		return text.M("sendtime:no_slot")
	}
	return text.M("sendtime:thin", c.MinPerHour, c.N)
}
