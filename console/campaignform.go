package console

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/learnloop/learnloop/campaigns"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// Rows of the campaign form: link buttons, include and exclude rules,
// variants.
const (
	formButtons  = campaigns.MaxButtons
	formIncludes = 3
	formExcludes = 2
	formVariants = campaigns.MaxVariants
)

// campaignForm is what the form's template needs besides the posted values.
type campaignForm struct {
	Buttons, Variants []int
	Groups            []ruleGroup
	RuleFields        []string
	Kinds             []string
	VariantSends      []string
	VariantFields     []string
	ButtonKinds       []string
	Zones             []string
	Suggest           suggestions
	// CountText is the live audience count ("" before it was counted).
	CountText string
	// Previews are the cards of each variant on each platform, with the
	// send time each would get (after "preview").
	Previews []variantCards
	Quiet    string
	// Action is where the form posts; Edit is set when it changes a
	// stored campaign.
	Action string
	Edit   bool
}

// ruleGroup is the include or the exclude rows of the audience builder.
type ruleGroup struct {
	Prefix, Label string
	Rows          []int
}

// suggestions fill the audience builder's datalists.
type suggestions = campaigns.Suggestions

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// ruleFields are the form fields of an audience rule, in order.
var ruleFields = []string{"department", "title", "city", "tag", "converted", "not_converted"}

// parseCampaignForm turns the posted form into a campaigns.Input; what it
// cannot read (a time, a number) is reported in the page's field errors.
func parseCampaignForm(f url.Values, p *page, loc *time.Location) campaigns.Input {
	in := campaigns.Input{
		Name: f.Get("name"), Title: f.Get("title"), Body: f.Get("body"), ImageURL: strings.TrimSpace(f.Get("image_url")),
		Event: f.Get("event"), Audience: parseAudience(f),
		Schedule: campaigns.Schedule{Kind: f.Get("sched_kind"), Cron: strings.TrimSpace(f.Get("cron")), TimeZone: strings.TrimSpace(f.Get("time_zone"))},
	}
	if z := in.Schedule.TimeZone; z != "" {
		if l, err := time.LoadLocation(z); err == nil && z != "Local" {
			loc = l
		}
	}
	num := func(field string, dst *int) {
		if s := strings.TrimSpace(f.Get(field)); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				p.fieldError(field, "campaign.err.number")
				return
			}
			*dst = n
		}
	}
	at := func(field string) *time.Time {
		s := strings.TrimSpace(f.Get(field))
		if s == "" {
			return nil
		}
		t, err := parseLocal(s, loc)
		if err != nil {
			p.fieldError(field, "campaign.err.time")
			return nil
		}
		return &t
	}
	num("min_sample", &in.MinSample)
	num("min_group_size", &in.MinGroupSize)
	for i := range formButtons {
		k := fmt.Sprintf("btn%d_", i)
		if u := strings.TrimSpace(f.Get(k + "url")); u != "" || strings.TrimSpace(f.Get(k+"text")) != "" {
			in.Buttons = append(in.Buttons, campaigns.Button{Kind: f.Get(k + "kind"), Text: strings.TrimSpace(f.Get(k + "text")), URL: u})
		}
	}
	switch in.Schedule.Kind {
	case store.ScheduleAt:
		in.Schedule.At = at("at")
	case store.ScheduleBest:
		in.Schedule.At = at("at")
		from, to := at("win_from"), at("win_to")
		if from != nil && to != nil {
			in.Schedule.Window = &campaigns.Window{From: *from, To: *to}
		}
	}
	for i := range formVariants {
		k := fmt.Sprintf("v%d_", i)
		name := strings.TrimSpace(f.Get(k + "name"))
		if name == "" {
			continue
		}
		v := campaigns.VariantInput{Name: name, Title: strings.TrimSpace(f.Get(k + "title")), Body: f.Get(k + "body")}
		num(k+"weight", &v.Weight)
		switch f.Get(k + "send") {
		case "at":
			v.At = at(k + "at")
			if v.At == nil && p.Err(k+"at") == "" {
				p.fieldError(k+"at", "campaign.err.time")
			}
		case "best":
			from, to := at(k+"from"), at(k+"to")
			if from != nil && to != nil {
				v.Best = &campaigns.Window{From: *from, To: *to}
			} else if p.Err(k+"from") == "" {
				p.fieldError(k+"from", "campaign.err.window")
			}
		}
		in.Variants = append(in.Variants, v)
	}
	return in
}

// parseAudience reads the include and exclude rule rows; empty rows are
// left out.
func parseAudience(f url.Values) campaigns.Audience {
	a := campaigns.Audience{Include: []campaigns.Rule{}, Exclude: []campaigns.Rule{}}
	read := func(prefix string, n int) []campaigns.Rule {
		var out []campaigns.Rule
		for i := range n {
			k := fmt.Sprintf("%s%d_", prefix, i)
			r := campaigns.Rule{Department: strings.TrimSpace(f.Get(k + "department")), Title: strings.TrimSpace(f.Get(k + "title")),
				City: strings.TrimSpace(f.Get(k + "city")), Tag: strings.TrimSpace(f.Get(k + "tag")),
				Converted: strings.TrimSpace(f.Get(k + "converted")), NotConverted: strings.TrimSpace(f.Get(k + "not_converted"))}
			if r != (campaigns.Rule{}) {
				out = append(out, r)
			}
		}
		return out
	}
	if rs := read("inc", formIncludes); rs != nil {
		a.Include = rs
	}
	if rs := read("exc", formExcludes); rs != nil {
		a.Exclude = rs
	}
	return a
}

// formField maps a campaigns field ("variants[1].best.from",
// "audience.include[0].tag", "buttons[2].url") to the form field showing
// its error.
func formField(field string) string {
	r := strings.NewReplacer("[", "", "]", "")
	parts := strings.SplitN(field, ".", 3)
	switch {
	case strings.HasPrefix(field, "buttons["):
		name := "url"
		if len(parts) > 1 {
			name = parts[1]
		}
		return "btn" + r.Replace(strings.TrimPrefix(parts[0], "buttons")) + "_" + name
	case strings.HasPrefix(field, "audience.include[") || strings.HasPrefix(field, "audience.exclude["):
		pre := "inc"
		if strings.HasPrefix(field, "audience.exclude") {
			pre = "exc"
		}
		i := r.Replace(parts[1][strings.Index(parts[1], "["):])
		name := "department"
		if len(parts) > 2 {
			name = parts[2]
		}
		return pre + i + "_" + name
	case strings.HasPrefix(field, "variants["):
		i := r.Replace(strings.TrimPrefix(parts[0], "variants"))
		if len(parts) == 1 {
			return "v" + i + "_name"
		}
		switch parts[1] {
		case "best":
			return "v" + i + "_from"
		case "cron":
			return "v" + i + "_at"
		}
		return "v" + i + "_" + parts[1]
	case field == "schedule.window", field == "schedule.window.from":
		return "win_from"
	case field == "schedule.window.to":
		return "win_to"
	case strings.HasPrefix(field, "schedule."):
		return map[string]string{"schedule.kind": "sched_kind", "schedule.at": "at", "schedule.cron": "cron", "schedule.time_zone": "time_zone"}[field]
	}
	return field
}

// campaignErrors puts a campaigns *InvalidError on p, one localized message
// per field; it reports whether err was one.
func (p *page) campaignErrors(err error) bool {
	var inv *campaigns.InvalidError
	if !errors.As(err, &inv) {
		return false
	}
	for _, f := range inv.Fields {
		field := formField(f.Field)
		key := "campaign.err." + f.Code
		if !text.Has(key) {
			key = "campaign.err.bad_value"
		}
		if f.Code == campaigns.CodeBadValue {
			p.fieldText(field, p.tr(key)+" "+f.Message)
			continue
		}
		p.fieldError(field, key)
	}
	return true
}

// campaignFormValues fills a form from a stored campaign (copying it into
// a new one).
func campaignFormValues(cp campaigns.Campaign, loc *time.Location) url.Values {
	f := url.Values{}
	f.Set("name", cp.Name)
	f.Set("title", cp.Title)
	f.Set("body", cp.Body)
	f.Set("image_url", cp.ImageURL)
	f.Set("event", cp.Event)
	f.Set("min_sample", strconv.Itoa(cp.MinSample))
	f.Set("min_group_size", strconv.Itoa(cp.MinGroupSize))
	f.Set("time_zone", cp.Schedule.TimeZone)
	f.Set("sched_kind", cp.Schedule.Kind)
	f.Set("cron", cp.Schedule.Cron)
	clock := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(loc).Format(localLayout)
	}
	if cp.Schedule.Kind != store.ScheduleNow {
		f.Set("at", clock(cp.Schedule.At))
	}
	if w := cp.Schedule.Window; w != nil {
		f.Set("win_from", clock(&w.From))
		f.Set("win_to", clock(&w.To))
	}
	for i, b := range cp.Buttons {
		k := fmt.Sprintf("btn%d_", i)
		f.Set(k+"kind", b.Kind)
		f.Set(k+"text", b.Text)
		f.Set(k+"url", b.URL)
	}
	rules := func(prefix string, rs []campaigns.Rule) {
		for i, r := range rs {
			k := fmt.Sprintf("%s%d_", prefix, i)
			for j, v := range []string{r.Department, r.Title, r.City, r.Tag, r.Converted, r.NotConverted} {
				f.Set(k+ruleFields[j], v)
			}
		}
	}
	rules("inc", cp.Audience.Include)
	rules("exc", cp.Audience.Exclude)
	for i, v := range cp.Variants {
		k := fmt.Sprintf("v%d_", i)
		f.Set(k+"name", v.Name)
		f.Set(k+"weight", strconv.Itoa(v.Weight))
		f.Set(k+"title", v.Title)
		f.Set(k+"body", v.Body)
		switch {
		case v.At != nil:
			f.Set(k+"send", "at")
			f.Set(k+"at", clock(v.At))
		case v.SendTime != nil && cp.Schedule.Kind != store.ScheduleBest:
			f.Set(k+"send", "best")
			f.Set(k+"from", clock(&v.SendTime.Window.From))
			f.Set(k+"to", clock(&v.SendTime.Window.To))
		}
	}
	return f
}
