package campaigns

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/experiment"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// Report is a campaign's funnel — delivered → clicked → converted, in
// distinct people — overall, per variant, by department (small departments
// suppressed), platform, hour and weekday of sending, the share of all the
// event's conversions that came through a push, and the experiment's
// comparison. Every figure carries its n and its definition.
type Report struct {
	GeneratedAt              time.Time    `json:"generated_at"`
	Campaign                 ReportHeader `json:"campaign"`
	From                     time.Time    `json:"from"`
	To                       time.Time    `json:"to"`
	AttributionWindowSeconds int64        `json:"attribution_window_seconds"`
	Funnel                   Funnel       `json:"funnel"`
	Variants                 []VariantRow `json:"variants"`
	Departments              []GroupRow   `json:"departments"`
	Platforms                []GroupRow   `json:"platforms"`
	Hours                    []GroupRow   `json:"hours"`
	Weekdays                 []GroupRow   `json:"weekdays"`
	Share                    Share        `json:"share"`
	Experiment               *Experiment  `json:"experiment"`
	Definitions              []Definition `json:"definitions"`
	// Suppressed is set when the whole funnel is below
	// ReportOptions.SuppressBelow: no figure is shown.
	Suppressed bool `json:"suppressed,omitempty"`
}

// ReportHeader names the campaign a report is about.
type ReportHeader struct {
	ID           uint64 `json:"id"`
	Name         string `json:"name"`
	Event        string `json:"event"`
	Status       string `json:"status"`
	TimeZone     string `json:"time_zone"`
	MinSample    int    `json:"min_sample"`
	MinGroupSize int    `json:"min_group_size"`
}

// Funnel counts distinct people at each step.
type Funnel struct {
	// Deliveries counts delivery rows; Sent, Failed and Pending split them.
	Deliveries int `json:"deliveries"`
	Sent       int `json:"sent"`
	Failed     int `json:"failed"`
	Pending    int `json:"pending"`
	// Delivered counts distinct people with a sent delivery.
	Delivered int `json:"delivered"`
	Clicks    int `json:"clicks"`
	Clickers  int `json:"clickers"`
	Converted int `json:"converted"`
	// ClickThrough = clickers / delivered; ConversionRate = converted /
	// delivered; ClickToConversion = converted / clickers.
	ClickThrough      reports.Figure `json:"click_through"`
	ConversionRate    reports.Figure `json:"conversion_rate"`
	ClickToConversion reports.Figure `json:"click_to_conversion"`
}

// VariantRow is one arm's funnel; a suppressed arm (under
// ReportOptions.SuppressBelow) has a zero funnel.
type VariantRow struct {
	ID         uint64 `json:"id"`
	Name       string `json:"name"`
	Weight     int    `json:"weight"`
	Funnel     Funnel `json:"funnel"`
	Suppressed bool   `json:"suppressed,omitempty"`
}

// GroupRow is one department, platform, hour or weekday. A suppressed
// department (fewer delivered than the minimum group size) shows no figure.
type GroupRow struct {
	Key        string  `json:"key"`
	Suppressed bool    `json:"suppressed"`
	Funnel     *Funnel `json:"funnel"`
}

// Share is how many of the event's conversions in the period came through a
// push (any push, and this campaign's).
type Share struct {
	Conversions   int            `json:"conversions"`
	ViaPush       int            `json:"via_push"`
	ViaCampaign   int            `json:"via_campaign"`
	ViaPushShare  reports.Figure `json:"via_push_share"`
	CampaignShare reports.Figure `json:"campaign_share"`
}

// Experiment compares each variant with the first (the control) on
// click-through and conversion (experiment.Evaluate).
type Experiment = experiment.Result

// VariantComparison is one variant against the control on one metric
// (click_through or conversion_rate), in percentage points.
type VariantComparison = experiment.Row

// figure is reports.NewFigure with the campaign definition of key (args
// fill its text).
func figure(num, n int, key string, args ...any) reports.Figure {
	return reports.NewFigure(num, n, text.M("campaigns:definition."+key, args...))
}

// people counts distinct people per step of one group.
type people struct {
	deliveries, sent, failed, pending, clicks int
	delivered, clickers, converted            map[uint64]bool
}

func newPeople() *people {
	return &people{delivered: map[uint64]bool{}, clickers: map[uint64]bool{}, converted: map[uint64]bool{}}
}

func (p *people) funnel() Funnel {
	f := Funnel{Deliveries: p.deliveries, Sent: p.sent, Failed: p.failed, Pending: p.pending, Clicks: p.clicks,
		Delivered: len(p.delivered), Clickers: len(p.clickers), Converted: len(p.converted)}
	f.ClickThrough = figure(f.Clickers, f.Delivered, "click_through")
	f.ConversionRate = figure(f.Converted, f.Delivered, "conversion_rate")
	f.ClickToConversion = figure(f.Converted, f.Clickers, "click_to_conversion")
	return f
}

// ReportOptions narrows a report's period (zero values mean from the
// campaign's creation to now) and, for a department head, its people.
type ReportOptions struct {
	From, To time.Time
	// Departments, when set, limits every figure (funnel, variants,
	// breakdowns, the share via push) to people now in these departments.
	Departments []string
	// SuppressBelow, when set (a department head's minimum group size),
	// clears every group — variant, department, platform, hour, weekday —
	// and the whole funnel whose delivered n is below it, and leaves out
	// the experiment when any variant is suppressed.
	SuppressBelow int
}

// Report builds a campaign's report from stored deliveries, clicks and
// conversions.
func (s *Service) Report(ctx context.Context, id uint64, opts ReportOptions) (*Report, error) {
	db := s.DB.WithContext(ctx)
	var c store.Campaign
	if err := db.Where("id = ?", id).Limit(1).Find(&c).Error; err != nil {
		return nil, fmt.Errorf("load campaign: %w", err)
	}
	if c.ID == 0 {
		return nil, fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	now := s.now()
	from, to := opts.From, opts.To
	if from.IsZero() {
		from = c.CreatedAt
	}
	if to.IsZero() {
		to = now
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	window := s.window()
	r := &Report{GeneratedAt: now, From: from.UTC(), To: to.UTC(), AttributionWindowSeconds: int64(window / time.Second),
		Campaign: ReportHeader{ID: c.ID, Name: c.Name, Event: c.Event, Status: c.Status, TimeZone: c.TimeZone, MinSample: c.MinSample, MinGroupSize: c.MinGroupSize},
		Variants: []VariantRow{}, Departments: []GroupRow{}, Platforms: []GroupRow{}, Hours: []GroupRow{}, Weekdays: []GroupRow{}}
	var vs []store.CampaignVariant
	if err := db.Where("campaign_id = ?", id).Order("id").Find(&vs).Error; err != nil {
		return nil, fmt.Errorf("load variants: %w", err)
	}
	tps := make([]uint64, len(vs))
	variantOf := map[uint64]int{}
	for i, v := range vs {
		tps[i] = v.TouchpointID
		variantOf[v.TouchpointID] = i
	}

	type row struct {
		ID           uint64
		TouchpointID uint64
		EmployeeID   uint64
		Platform     string
		Status       string
		SentAt       *time.Time
		Department   string
	}
	var rows []row
	if len(tps) > 0 {
		if err := db.Table("deliveries").Select("deliveries.id, deliveries.touchpoint_id, deliveries.employee_id, deliveries.platform, deliveries.status, deliveries.sent_at, employees.department").
			Joins("JOIN employees ON employees.id = deliveries.employee_id").
			Where("deliveries.touchpoint_id IN ? AND deliveries.created_at <= ?", tps, to).Scopes(inDepartments(opts.Departments, "employees.department")).
			Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("load deliveries: %w", err)
		}
	}
	var clicks []struct {
		DeliveryID uint64
		N          int
	}
	if len(tps) > 0 {
		if err := db.Model(&store.Click{}).Select("delivery_id, COUNT(*) AS n").
			Where("touchpoint_id IN ? AND employee_id <> 0 AND clicked_at >= ? AND clicked_at <= ?", tps, from, to).
			Group("delivery_id").Scan(&clicks).Error; err != nil {
			return nil, fmt.Errorf("load clicks: %w", err)
		}
	}
	var convs []store.Conversion
	if err := db.Select("delivery_id", "employee_id").Where("campaign_id = ? AND event = ? AND occurred_at >= ? AND occurred_at <= ?", id, c.Event, from, to).
		Find(&convs).Error; err != nil {
		return nil, fmt.Errorf("load conversions: %w", err)
	}
	clicked := make(map[uint64]int, len(clicks))
	for _, k := range clicks {
		clicked[k.DeliveryID] = k.N
	}
	converted := make(map[uint64]bool, len(convs))
	for _, k := range convs {
		converted[k.DeliveryID] = true
	}

	total := newPeople()
	byVariant := make([]*people, len(vs))
	for i := range vs {
		byVariant[i] = newPeople()
	}
	groups := map[string]map[string]*people{"department": {}, "platform": {}, "hour": {}, "weekday": {}}
	group := func(kind, key string) *people {
		g := groups[kind][key]
		if g == nil {
			g = newPeople()
			groups[kind][key] = g
		}
		return g
	}
	for _, d := range rows {
		targets := []*people{total, byVariant[variantOf[d.TouchpointID]], group("department", d.Department), group("platform", d.Platform)}
		if d.SentAt != nil {
			t := d.SentAt.In(loc)
			targets = append(targets, group("hour", fmt.Sprintf("%02d", t.Hour())), group("weekday", strconv.Itoa(int((t.Weekday()+6)%7)+1)))
		}
		for _, p := range targets {
			p.deliveries++
			switch d.Status {
			case store.DeliverySent:
				p.sent++
				p.delivered[d.EmployeeID] = true
			case store.DeliveryFailed, store.DeliveryDropped:
				p.failed++
			default:
				p.pending++
			}
			if n := clicked[d.ID]; n > 0 {
				p.clicks += n
				p.clickers[d.EmployeeID] = true
			}
			if converted[d.ID] {
				p.converted[d.EmployeeID] = true
			}
		}
	}
	r.Funnel = total.funnel()
	for i, v := range vs {
		r.Variants = append(r.Variants, VariantRow{ID: v.ID, Name: v.Name, Weight: v.Weight, Funnel: byVariant[i].funnel()})
	}
	for _, kind := range []string{"department", "platform", "hour", "weekday"} {
		keys := make([]string, 0, len(groups[kind]))
		for k := range groups[kind] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f := groups[kind][k].funnel()
			g := GroupRow{Key: k, Funnel: &f}
			if kind == "department" && f.Delivered < c.MinGroupSize || f.Delivered < opts.SuppressBelow {
				g.Suppressed, g.Funnel = true, nil
			}
			switch kind {
			case "department":
				r.Departments = append(r.Departments, g)
			case "platform":
				r.Platforms = append(r.Platforms, g)
			case "hour":
				r.Hours = append(r.Hours, g)
			case "weekday":
				r.Weekdays = append(r.Weekdays, g)
			}
		}
	}

	var share struct {
		Total, Push, Campaign int
	}
	sq := db.Model(&store.Conversion{}).Select("COUNT(*) AS total, COALESCE(SUM(CASE WHEN touchpoint_id <> 0 THEN 1 ELSE 0 END), 0) AS push, "+
		"COALESCE(SUM(CASE WHEN campaign_id = ? THEN 1 ELSE 0 END), 0) AS campaign", id).
		Where("event = ? AND occurred_at >= ? AND occurred_at <= ?", c.Event, from, to)
	if opts.Departments != nil {
		sq = sq.Where("employee_id IN (?)", s.DB.Model(&store.Employee{}).Select("id").Where("department IN ?", opts.Departments))
	}
	if err := sq.Scan(&share).Error; err != nil {
		return nil, fmt.Errorf("count conversions: %w", err)
	}
	r.Share = Share{Conversions: share.Total, ViaPush: share.Push, ViaCampaign: share.Campaign,
		ViaPushShare: figure(share.Push, share.Total, "via_push_share", c.Event), CampaignShare: figure(share.Campaign, share.Total, "via_push_share", c.Event)}
	hidden := false
	for i := range r.Variants {
		if r.Variants[i].Funnel.Delivered < opts.SuppressBelow {
			r.Variants[i].Funnel, r.Variants[i].Suppressed, hidden = Funnel{}, true, true
		}
	}
	if len(vs) > 1 && !hidden {
		r.Experiment = evaluate(c.MinSample, r.Variants)
	}
	if r.Funnel.Delivered < opts.SuppressBelow {
		r.Funnel, r.Share, r.Suppressed = Funnel{}, Share{}, true
	}
	r.Definitions = definitions(window, c)
	return r, nil
}

// inDepartments narrows a query to rows whose column is one of depts; nil
// depts does not narrow.
func inDepartments(depts []string, column string) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB {
		if depts == nil {
			return q
		}
		return q.Where(column+" IN ?", depts)
	}
}

func evaluate(minSample int, vrs []VariantRow) *Experiment {
	arms := make([]experiment.Arm, len(vrs))
	for i, v := range vrs {
		arms[i] = experiment.Arm{Name: v.Name, N: v.Funnel.Delivered, X: []int{v.Funnel.Clickers, v.Funnel.Converted}}
	}
	return experiment.Evaluate(minSample, []string{"click_through", "conversion_rate"}, arms)
}
