package digests

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
)

// linkLifetime is the shortest lifetime of a digest card's console link.
const linkLifetime = 62 * 24 * time.Hour

// renderCard renders the digest of the delivery's occurrence: the period
// its occurrence covers, the figures reports.Digest gives for the
// subscriber's scope, and a button to the console.
func (s *Service) renderCard(ctx context.Context, r *bot.Renderer, cc bot.CardContext) (bot.Message, error) {
	db := s.DB.WithContext(ctx)
	sub, acc, err := s.subscriber(ctx, db, cc.Touchpoint.ID)
	if err != nil {
		return bot.Message{}, err
	}
	occ, created := cc.Occurrence, s.now()
	if occ == "" && cc.DeliveryID != 0 {
		var d store.Delivery
		if err := db.Select("id", "occurrence", "created_at").Limit(1).Find(&d, cc.DeliveryID).Error; err != nil {
			return bot.Message{}, fmt.Errorf("load delivery %d: %w", cc.DeliveryID, err)
		}
		occ, created = d.Occurrence, d.CreatedAt
	}
	// A one-off send ("0") covers the period of its own time.
	at, test := occurrenceTime(occ, created)
	rep, err := s.figures(ctx, db, sub, at)
	if err != nil {
		return bot.Message{}, err
	}
	loc := text.Parse(cmp.Or(sub.Locale, acc.Locale, string(cc.Locale), s.Locale))
	zone, _ := time.LoadLocation(sub.TimeZone)
	url := strings.TrimRight(s.PublicURL, "/") + "/console/"
	if r != nil && r.Signer != nil && cc.DeliveryID != 0 {
		url = r.TrackedURL(cc.DeliveryID, url, s.now().Add(max(r.LinkTTL, linkLifetime)))
	}
	m := Card(rep, CardInput{Locale: loc, Zone: zone, Frequency: sub.Frequency, Test: test, ConsoleURL: url})
	m.Key = cc.Key
	return m, nil
}

// CardInput is what a digest card needs beside its figures.
type CardInput struct {
	Locale     text.Locale
	Zone       *time.Location
	Frequency  string
	Test       bool
	ConsoleURL string
}

// Card renders a digest report as a card: one field per figure, each with
// its n (or why it is not shown), and a button to the console. The console
// previews the same card.
func Card(rep *reports.DigestReport, in CardInput) bot.Message {
	loc, zone := in.Locale, in.Zone
	if zone == nil {
		zone = time.UTC
	}
	title := text.T(loc, "digests:title."+titleKind(in.Frequency))
	if in.Test {
		title = text.T(loc, "digests:title.test", title)
	}
	last := rep.To.Add(-time.Nanosecond)
	period := text.T(loc, "digests:period", rep.From.In(zone).Format("2006-01-02"), last.In(zone).Format("2006-01-02"))
	m := bot.Message{Kind: Kind, Locale: loc, Title: title}
	body := []string{period, scopeLine(rep, loc)}
	m.Body = strings.Join(body, "\n")
	add := func(label, value string) { m.Fields = append(m.Fields, bot.Field{Label: label, Value: value}) }
	classes := text.T(loc, "digests:classes.value", rep.Classes)
	if rep.Cancelled > 0 {
		classes = text.T(loc, "digests:classes.cancelled", rep.Classes, rep.Cancelled)
	}
	add(text.T(loc, "digests:field.classes"), classes)
	add(text.T(loc, "digests:field.checkin"), figure(loc, rep.Checkin.Value, rep.Checkin.N, rep.CheckinSuppressed, rep.MinN))
	add(text.T(loc, "digests:field.response"), figure(loc, rep.Response.Rate, rep.Response.Eligible, rep.ResponseSuppressed, rep.MinN))
	for _, d := range rep.Dimensions {
		v := text.T(loc, "digests:hidden", rep.MinN)
		switch {
		case d.Suppressed:
		case d.Rating.N == 0 || d.Rating.Mean == nil:
			v = text.T(loc, "digests:none")
		default:
			v = text.T(loc, "digests:rating", surveys.FormatFixed(*d.Rating.Mean, 2), pct(d.Rating.Top2Box), d.Rating.N)
		}
		add(text.Enum(loc, "dim", d.Dimension), v)
	}
	nps := text.T(loc, "digests:none")
	switch {
	case rep.NPSSuppressed:
		nps = text.T(loc, "digests:hidden", rep.MinN)
	case rep.NPS != nil && rep.NPS.Score != nil:
		nps = text.T(loc, "digests:nps", fmt.Sprintf("%+.1f", surveys.Round1(*rep.NPS.Score)), rep.NPS.N)
	}
	add(text.T(loc, "digests:field.nps"), nps)
	fu := text.T(loc, "digests:followups", rep.FollowUps.Open, rep.FollowUps.Asked)
	if rep.FollowUps.Suppressed {
		fu = text.T(loc, "digests:hidden", rep.MinN)
	} else if rep.FollowUps.Asked == 0 {
		fu = text.T(loc, "digests:none")
	}
	add(text.T(loc, "digests:field.followups"), fu)
	var top []string
	for i, c := range rep.Campaigns {
		if c.Suppressed {
			top = append(top, text.T(loc, "digests:campaign.hidden", i+1, c.Name, rep.MinN))
			continue
		}
		top = append(top, text.T(loc, "digests:campaign", i+1, c.Name, pct(c.ClickThrough.Value), c.Clicked, c.Delivered))
	}
	campaigns := text.T(loc, "digests:none")
	if len(top) > 0 {
		campaigns = strings.Join(top, "\n")
	}
	add(text.T(loc, "digests:field.campaigns"), campaigns)
	label := text.T(loc, "digests:button.console")
	if in.ConsoleURL != "" {
		m.Buttons = []bot.Button{{Text: label, Action: bot.ActionLink, URL: in.ConsoleURL, Primary: true}}
	}
	lines := []string{m.Title, m.Body}
	for _, f := range m.Fields {
		lines = append(lines, f.Label+": "+f.Value)
	}
	if in.ConsoleURL != "" {
		lines = append(lines, label+": "+in.ConsoleURL)
	}
	m.Fallback = strings.Join(lines, "\n")
	return m
}

func titleKind(frequency string) string {
	switch frequency {
	case store.DigestWeekly, store.DigestMonthly:
		return frequency
	}
	return "cron"
}

// scopeLine says whose figures the digest shows.
func scopeLine(rep *reports.DigestReport, loc text.Locale) string {
	switch {
	case rep.Partial:
		return text.T(loc, "digests:scope.department", rep.Department, rep.MinN)
	case rep.Scope == reports.DigestScopeOwn:
		return text.T(loc, "digests:scope.own")
	}
	return text.T(loc, "digests:scope.all")
}

// figure is a percentage with its n, or why it is not shown.
func figure(loc text.Locale, v *float64, n int, suppressed bool, minN int) string {
	switch {
	case suppressed:
		return text.T(loc, "digests:hidden", minN)
	case v == nil || n == 0:
		return text.T(loc, "digests:none")
	}
	return text.T(loc, "digests:percent", pct(v), n)
}

// pct is a percentage with one decimal ("–" for none).
func pct(v *float64) string {
	if v == nil {
		return "–"
	}
	return surveys.FormatFixed(surveys.Round1(*v), 1) + "%"
}
