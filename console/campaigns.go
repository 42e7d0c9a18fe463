package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/campaigns"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// Campaign pages (定向推送): the list, the new-campaign form with its
// audience builder, live count and per-platform card previews, one
// campaign (its cards, send times and state actions), its report and the
// learned send time's evidence. Writes and reads go through
// campaigns.Service, the door the API and the CLI use.

// campaignsOn reports whether the campaign pages are wired (Deps.Campaigns).
func (c *Console) campaignsOn(w http.ResponseWriter, r *http.Request, v *viewer) bool {
	if c.d.Campaigns == nil {
		c.notFound(w, r, v)
		return false
	}
	return true
}

// zoneOr loads zone, falling back to def.
func zoneOr(zone string, def *time.Location) *time.Location {
	if l, err := time.LoadLocation(zone); err == nil && zone != "" {
		return l
	}
	if def == nil {
		return time.UTC
	}
	return def
}

// campaignFilter is what v may list: everything for admins, their own
// campaigns for coordinators, the campaigns that reached their department
// subtree for department heads.
func (c *Console) campaignFilter(ctx context.Context, v *viewer) (campaigns.ListFilter, bool) {
	switch {
	case v.admin():
		return campaigns.ListFilter{Newest: true}, true
	case v.coordinator():
		return campaigns.ListFilter{CreatedBy: v.name(), Newest: true}, true
	case v.deptHead():
		return campaigns.ListFilter{Reached: c.departments(ctx, v), Newest: true}, true
	}
	return campaigns.ListFilter{}, false
}

// campaignAccess decides what v may do with a campaign.
func (c *Console) campaignAccess(ctx context.Context, v *viewer, cp campaigns.Campaign) (access, error) {
	switch {
	case v.admin():
		return accessWrite, nil
	case v.coordinator():
		if cp.CreatedBy == v.name() {
			return accessWrite, nil
		}
	case v.deptHead():
		ok, err := c.d.Campaigns.Reached(ctx, cp.ID, c.departments(ctx, v))
		if err != nil {
			return accessNone, err
		}
		if ok {
			return accessAggr, nil
		}
	}
	return accessNone, nil
}

// loadCampaign loads the {id} campaign and checks access; it answers the
// request itself and returns false when the handler must stop.
func (c *Console) loadCampaign(w http.ResponseWriter, r *http.Request, v *viewer, want access) (campaigns.Campaign, access, bool) {
	if !c.campaignsOn(w, r, v) {
		return campaigns.Campaign{}, accessNone, false
	}
	cp, ok := loadPath(c, w, r, v, c.d.Campaigns.Get)
	if !ok {
		return cp, accessNone, false
	}
	acc, err := c.campaignAccess(r.Context(), v, cp)
	if err != nil {
		c.internal(w, r, v, err)
		return cp, accessNone, false
	}
	if acc == accessNone {
		c.notFound(w, r, v)
		return cp, acc, false
	}
	if acc < want {
		c.forbidden(w, r, v)
		return cp, acc, false
	}
	return cp, acc, true
}

// ---- list ----

type campaignsData struct {
	Campaigns *Table
	CanAdd    bool
}

func (c *Console) campaignsPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	if !c.campaignsOn(w, r, v) {
		return
	}
	p := c.newPage(r, v, "campaigns.title")
	p.Nav = "campaigns"
	f, ok := c.campaignFilter(r.Context(), v)
	if !ok {
		c.forbidden(w, r, v)
		return
	}
	cs, err := c.d.Campaigns.ListWhere(r.Context(), f, 0, 500)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	t := &Table{Key: "campaigns", Title: p.tr("campaigns.title"), Empty: p.tr("campaigns.empty"),
		Columns: []string{p.tr("campaign.col.name"), p.tr("campaign.col.status"), p.tr("campaign.col.schedule"), p.tr("campaign.col.next"),
			p.tr("campaign.col.event"), p.tr("campaign.col.variants"), p.tr("campaign.col.created_by"), p.tr("campaign.col.created_at")}}
	for _, cp := range cs {
		loc := zoneOr(cp.Schedule.TimeZone, c.d.Location)
		var next *time.Time
		for _, vr := range cp.Variants {
			if vr.Status == store.TouchpointScheduled && (next == nil || vr.RunAt.Before(*next)) {
				at := vr.RunAt.In(loc)
				next = &at
			}
		}
		t.Rows = append(t.Rows, []Cell{
			{V: cp.Name, Href: c.path(fmt.Sprintf("/campaigns/%d", cp.ID))},
			{V: cp.Status, Label: text.Enum(p.Lang, "campaign.status", cp.Status)},
			C(c.scheduleText(p.Lang, cp.Schedule)), C(next), C(cp.Event), C(len(cp.Variants)), C(cp.CreatedBy), C(cp.CreatedAt.In(loc)),
		})
	}
	if c.exportTable(w, r, v, nil, "campaigns", t) {
		return
	}
	p.Data = campaignsData{Campaigns: t, CanAdd: v.admin() || v.coordinator()}
	c.render(w, r, http.StatusOK, "campaigns", p)
}

// scheduleText says when a campaign is sent, in its zone.
func (c *Console) scheduleText(lang text.Locale, s campaigns.Schedule) string {
	loc := zoneOr(s.TimeZone, c.d.Location)
	at := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	switch s.Kind {
	case store.ScheduleNow:
		return text.T(lang, "campaign.sched.now_at", at(s.At))
	case store.ScheduleAt:
		return text.T(lang, "campaign.sched.at_text", at(s.At), s.TimeZone)
	case store.ScheduleCron:
		return text.T(lang, "campaign.sched.cron_text", s.Cron, s.TimeZone)
	case store.ScheduleBest:
		if s.Window != nil {
			return text.T(lang, "campaign.sched.best_text", at(&s.Window.From), at(&s.Window.To), s.TimeZone)
		}
	}
	return s.Kind
}

// ---- new ----

func (c *Console) campaignNewPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	if !c.campaignsOn(w, r, v) {
		return
	}
	if !v.admin() && !v.coordinator() {
		c.forbidden(w, r, v)
		return
	}
	p := c.newPage(r, v, "campaign.new")
	p.Nav = "campaigns"
	p.Form.Set("sched_kind", store.ScheduleNow)
	p.Form.Set("time_zone", c.d.Location.String())
	p.Form.Set("v0_name", "A")
	p.Form.Set("min_sample", strconv.Itoa(c.d.Campaigns.DefaultMinSample()))
	p.Form.Set("min_group_size", strconv.Itoa(campaigns.DefaultMinGroupSize))
	if from, err := strconv.ParseUint(r.URL.Query().Get("from"), 10, 64); err == nil {
		// "Copy as a new campaign": the stored one's content, audience and
		// variants, to change before saving.
		cp, err := c.d.Campaigns.Get(r.Context(), from)
		if err == nil {
			if acc, err := c.campaignAccess(r.Context(), v, cp); err == nil && acc == accessWrite {
				p.Form = campaignFormValues(cp, zoneOr(cp.Schedule.TimeZone, c.d.Location))
				p.Form.Set("name", cp.Name+" "+p.tr("campaign.copy_suffix"))
				p.Form.Set("sched_kind", store.ScheduleNow)
			}
		}
	}
	d, err := c.campaignFormData(r, nil)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d.Action = c.path("/campaigns")
	p.Data = d
	c.render(w, r, http.StatusOK, "campaign_form", p)
}

// campaignEditPage shows a campaign not yet sent in the form, to change
// and save (campaigns.Service.Update re-plans it).
func (c *Console) campaignEditPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	cp, _, ok := c.loadCampaign(w, r, v, accessWrite)
	if !ok {
		return
	}
	if !editable(cp) {
		c.renderError(w, r, v, http.StatusConflict, "campaign.err.sent")
		return
	}
	p := c.newPage(r, v, "campaign.edit")
	p.Nav = "campaigns"
	p.Form = campaignFormValues(cp, zoneOr(cp.Schedule.TimeZone, c.d.Location))
	d, err := c.campaignFormData(r, nil)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d.Action, d.Edit = c.path(fmt.Sprintf("/campaigns/%d", cp.ID)), true
	p.Data = d
	c.render(w, r, http.StatusOK, "campaign_form", p)
}

// editable reports whether a campaign may still be changed: not cancelled
// and no variant sent yet.
func editable(cp campaigns.Campaign) bool {
	if cp.Status == store.CampaignCancelled {
		return false
	}
	for _, vr := range cp.Variants {
		if vr.Status == store.TouchpointFired {
			return false
		}
	}
	return true
}

// campaignUpdate saves the edited campaign, or previews it (op=preview).
func (c *Console) campaignUpdate(w http.ResponseWriter, r *http.Request, v *viewer) {
	cp, _, ok := c.loadCampaign(w, r, v, accessWrite)
	if !ok {
		return
	}
	c.campaignSubmit(w, r, v, &cp)
}

// campaignFormData is the form's fixed parts and suggestions.
func (c *Console) campaignFormData(r *http.Request, count *int64) (campaignForm, error) {
	countText := ""
	if count != nil {
		countText = text.T(langOf(r), "campaign.count_text", *count)
	}
	d := campaignForm{Buttons: seq(formButtons), Variants: seq(formVariants), RuleFields: ruleFields,
		Groups: []ruleGroup{{"inc", "campaign.f.include", seq(formIncludes)}, {"exc", "campaign.f.exclude", seq(formExcludes)}},
		Kinds:  []string{store.ScheduleNow, store.ScheduleAt, store.ScheduleCron, store.ScheduleBest}, VariantSends: []string{"", "at", "best"},
		VariantFields: []string{"name", "weight", "title", "body", "at", "from", "to"},
		ButtonKinds:   []string{campaigns.ButtonCourse, campaigns.ButtonLive, campaigns.ButtonExam, campaigns.ButtonDocument},
		Zones:         []string{c.d.Location.String(), "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore", "UTC"}, CountText: countText}
	seen := map[string]bool{}
	zones := d.Zones[:0]
	for _, z := range d.Zones {
		if !seen[z] {
			seen[z] = true
			zones = append(zones, z)
		}
	}
	d.Zones = zones
	q := c.d.Planner.Quiet
	if q.Enabled {
		d.Quiet = fmt.Sprintf("%02d:%02d–%02d:%02d", int(q.Start.Hours()), int(q.Start.Minutes())%60, int(q.End.Hours()), int(q.End.Minutes())%60)
	}
	sg, err := c.d.Campaigns.Suggestions(r.Context())
	if err != nil {
		return d, err
	}
	d.Suggest = sg
	return d, nil
}

// campaignCreate creates the posted campaign, or — with op=preview —
// shows the form again with the live count, each variant's cards per
// platform and the send time each would get; nothing is stored then.
func (c *Console) campaignCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	if !c.campaignsOn(w, r, v) {
		return
	}
	if !v.admin() && !v.coordinator() {
		c.forbidden(w, r, v)
		return
	}
	c.campaignSubmit(w, r, v, nil)
}

// campaignSubmit creates (cp nil) or updates cp from the posted form, or
// previews it.
func (c *Console) campaignSubmit(w http.ResponseWriter, r *http.Request, v *viewer, cp *campaigns.Campaign) {
	title, action := "campaign.new", c.path("/campaigns")
	if cp != nil {
		title, action = "campaign.edit", c.path(fmt.Sprintf("/campaigns/%d", cp.ID))
	}
	p := c.newPage(r, v, title)
	p.Nav = "campaigns"
	in := parseCampaignForm(r.PostForm, p, c.d.Location)
	show := func(code int, count *int64, previews []variantCards) {
		d, err := c.campaignFormData(r, count)
		if err != nil {
			c.internal(w, r, v, err)
			return
		}
		d.Previews, d.Action, d.Edit = previews, action, cp != nil
		p.Data = d
		c.render(w, r, code, "campaign_form", p)
	}
	if p.hasErrors() {
		p.fieldError("", "campaign.fix_errors")
		show(http.StatusUnprocessableEntity, nil, nil)
		return
	}
	if r.PostForm.Get("op") == "preview" {
		var count *int64
		if n, err := c.d.Campaigns.Count(r.Context(), in.Audience); err == nil {
			count = &n
		}
		vps, err := c.d.Campaigns.PreviewInput(r.Context(), c.d.Renderer, in)
		if p.campaignErrors(err) {
			p.fieldError("", "campaign.fix_errors")
			show(http.StatusUnprocessableEntity, count, nil)
			return
		}
		if err != nil {
			c.internal(w, r, v, err)
			return
		}
		show(http.StatusOK, count, c.variantCards(vps, zoneOr(in.Schedule.TimeZone, c.d.Location)))
		return
	}
	var (
		saved campaigns.Campaign
		err   error
	)
	flash := "campaign_created"
	if cp == nil {
		saved, err = c.d.Campaigns.Create(r.Context(), in, v.name())
	} else {
		saved, err = c.d.Campaigns.Update(r.Context(), cp.ID, in, v.name())
		flash = "campaign_updated"
	}
	if p.campaignErrors(err) {
		p.fieldError("", "campaign.fix_errors")
		show(http.StatusUnprocessableEntity, nil, nil)
		return
	}
	if errors.Is(err, campaigns.ErrConflict) {
		c.renderError(w, r, v, http.StatusConflict, "campaign.err.sent")
		return
	}
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	c.redirectOK(w, r, fmt.Sprintf("/campaigns/%d", saved.ID), flash)
}

// variantCards draws each variant's preview on each platform.
func (c *Console) variantCards(vps []campaigns.VariantPreview, loc *time.Location) []variantCards {
	out := make([]variantCards, 0, len(vps))
	for _, vp := range vps {
		vc := variantCards{Variant: vp.Variant, Cards: c.cardsFor(vp.Card), SendTime: c.sendTimeView(vp.SendTime)}
		if vp.SendAt != nil {
			vc.SendAt = vp.SendAt.In(loc).Format("2006-01-02 15:04")
		}
		out = append(out, vc)
	}
	return out
}

// campaignCount answers the form's live count (JavaScript): the audience
// of the posted rule rows, as JSON.
func (c *Console) campaignCount(w http.ResponseWriter, r *http.Request, v *viewer) {
	if !c.campaignsOn(w, r, v) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !v.admin() && !v.coordinator() {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":"forbidden"}`))
		return
	}
	if err := r.ParseForm(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"bad form"}`))
		return
	}
	n, err := c.d.Campaigns.Count(r.Context(), parseAudience(r.PostForm))
	if errors.Is(err, campaigns.ErrInvalid) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprintf(w, `{"error":%q}`, text.T(langOf(r), "campaign.count_invalid"))
		return
	}
	if err != nil {
		c.log().Error("console: count audience", "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":"internal"}`))
		return
	}
	fmt.Fprintf(w, `{"count":%d,"text":%q}`, n, text.T(langOf(r), "campaign.count_text", n))
}

// ---- one campaign ----

type campaignData struct {
	C        campaigns.Campaign
	Write    bool
	Editable bool
	Schedule string
	Count    *int64
	Variants *Table
	Rules    []ruleView
	Previews []variantCards
	Loc      *time.Location
}

type ruleView struct {
	Exclude bool
	Text    string
}

func (c *Console) campaignPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	cp, acc, ok := c.loadCampaign(w, r, v, accessAggr)
	if !ok {
		return
	}
	p := c.newPage(r, v, "campaign.title")
	p.Nav = "campaigns"
	p.Title = cp.Name
	loc := zoneOr(cp.Schedule.TimeZone, c.d.Location)
	d := campaignData{C: cp, Write: acc == accessWrite, Editable: acc == accessWrite && editable(cp), Schedule: c.scheduleText(p.Lang, cp.Schedule), Loc: loc}
	if d.Write {
		n, err := c.d.Campaigns.Count(r.Context(), cp.Audience)
		if err != nil {
			c.internal(w, r, v, err)
			return
		}
		d.Count = &n
	}
	for _, rs := range []struct {
		ex    bool
		rules []campaigns.Rule
	}{{false, cp.Audience.Include}, {true, cp.Audience.Exclude}} {
		for _, ru := range rs.rules {
			d.Rules = append(d.Rules, ruleView{Exclude: rs.ex, Text: ruleText(p.Lang, ru)})
		}
	}
	t := &Table{Key: "variants", Title: p.tr("campaign.variants"), Columns: []string{p.tr("campaign.col.variant"), p.tr("campaign.col.weight"),
		p.tr("campaign.col.title"), p.tr("campaign.col.run_at"), p.tr("campaign.col.send_time"), p.tr("campaign.col.status")}}
	for _, vr := range cp.Variants {
		title := vr.Title
		if title == "" {
			title = cp.Title
		}
		how := p.tr("campaign.send.fixed")
		if st := vr.SendTime; st != nil {
			how = p.tr("campaign.send.thin", st.N)
			if st.Learned {
				how = p.tr("campaign.send.learned", *st.Hour, st.N)
			}
		}
		t.Rows = append(t.Rows, []Cell{C(vr.Name), C(vr.Weight), C(title), C(vr.RunAt.In(loc)), C(how),
			{V: vr.Status, Label: text.Enum(p.Lang, "tpstatus", vr.Status)}})
	}
	d.Variants = t
	if c.exportTable(w, r, v, loc, fmt.Sprintf("campaign-%d", cp.ID), t) {
		return
	}
	vps, err := c.d.Campaigns.Preview(r.Context(), c.d.Renderer, cp.ID)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d.Previews = c.variantCards(vps, loc)
	p.Data = d
	c.render(w, r, http.StatusOK, "campaign", p)
}

// ruleText is an audience rule in words.
func ruleText(lang text.Locale, ru campaigns.Rule) string {
	var parts []string
	for i, v := range []string{ru.Department, ru.Title, ru.City, ru.Tag, ru.Converted, ru.NotConverted} {
		if v != "" {
			parts = append(parts, text.T(lang, "campaign.rule."+ruleFields[i])+" "+v)
		}
	}
	return strings.Join(parts, text.T(lang, "campaign.rule.and"))
}

// campaignState pauses, resumes or cancels a campaign (after confirmation).
func (c *Console) campaignState(op string) func(http.ResponseWriter, *http.Request, *viewer) {
	return func(w http.ResponseWriter, r *http.Request, v *viewer) {
		cp, _, ok := c.loadCampaign(w, r, v, accessWrite)
		if !ok {
			return
		}
		back := fmt.Sprintf("/campaigns/%d", cp.ID)
		if !c.confirmed(w, r, v, back, text.T(langOf(r), "campaign.confirm."+op, cp.Name)) {
			return
		}
		var err error
		switch op {
		case "pause", "resume":
			_, err = c.d.Campaigns.SetPaused(r.Context(), cp.ID, op == "pause", v.name())
		default:
			_, err = c.d.Campaigns.Cancel(r.Context(), cp.ID, v.name())
		}
		if errors.Is(err, campaigns.ErrConflict) {
			c.renderError(w, r, v, http.StatusConflict, "campaign.err.state", text.Enum(langOf(r), "campaign.status", cp.Status))
			return
		}
		if err != nil {
			c.internal(w, r, v, err)
			return
		}
		c.redirectOK(w, r, back, "campaign_"+op)
	}
}

// ---- report ----

type campaignReportData struct {
	C          campaigns.Campaign
	R          *campaigns.Report
	Scoped     bool
	Suppressed bool
	Funnel     []figureView
	Share      []figureView
	Experiment *experimentView
	Tables     []*Table
	Defs       []defView
	Loc        *time.Location
}

type figureView struct {
	Label, Value string
	N            int
	Definition   string
}

type experimentView struct {
	Enough   bool
	Status   string
	Warning  string
	Compared *Table
}

type defView struct{ Key, Text string }

func (c *Console) campaignReportPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	cp, acc, ok := c.loadCampaign(w, r, v, accessAggr)
	if !ok {
		return
	}
	p := c.newPage(r, v, "campaign.report")
	p.Nav = "campaigns"
	p.Title = p.tr("campaign.report") + " · " + cp.Name
	loc := zoneOr(cp.Schedule.TimeZone, c.d.Location)
	opts := campaigns.ReportOptions{}
	if acc == accessAggr {
		opts.Departments, opts.SuppressBelow = c.departments(r.Context(), v), c.d.MinGroupSize
	}
	rep, err := c.d.Campaigns.Report(r.Context(), cp.ID, opts)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d := campaignReportData{C: cp, R: rep, Scoped: acc == accessAggr, Suppressed: rep.Suppressed, Loc: loc}
	def := map[string]string{}
	for _, x := range rep.Definitions {
		meaning := x.Meaning.In(p.Lang)
		def[x.Key] = meaning
		d.Defs = append(d.Defs, defView{x.Key, meaning})
	}
	fig := func(label string, f reports.Figure) figureView {
		return figureView{Label: p.tr(label), Value: pctText(f.Value), N: f.N, Definition: f.Definition.In(p.Lang)}
	}
	fn := rep.Funnel
	d.Funnel = []figureView{
		{Label: p.tr("campaign.fig.delivered"), Value: strconv.Itoa(fn.Delivered), N: fn.Deliveries, Definition: def["delivered"]},
		{Label: p.tr("campaign.fig.clickers"), Value: strconv.Itoa(fn.Clickers), N: fn.Delivered, Definition: def["clickers"]},
		{Label: p.tr("campaign.fig.converted"), Value: strconv.Itoa(fn.Converted), N: fn.Delivered, Definition: def["converted"]},
		fig("campaign.fig.click_through", fn.ClickThrough),
		fig("campaign.fig.conversion_rate", fn.ConversionRate),
		fig("campaign.fig.click_to_conversion", fn.ClickToConversion),
	}
	d.Share = []figureView{
		fig("campaign.fig.via_push_share", rep.Share.ViaPushShare),
		{Label: p.tr("campaign.fig.campaign_share"), Value: pctText(rep.Share.CampaignShare.Value), N: rep.Share.Conversions, Definition: def["via_push_share"]},
	}
	funnelCols := []string{p.tr("campaign.col.deliveries"), p.tr("campaign.fig.delivered"), p.tr("campaign.fig.clickers"), p.tr("campaign.fig.click_through"),
		p.tr("campaign.fig.converted"), p.tr("campaign.fig.conversion_rate")}
	row := func(key string, label string, f *campaigns.Funnel) []Cell {
		cells := []Cell{{V: key, Label: label}}
		if f == nil {
			hidden := Cell{V: nil, Label: text.T(p.Lang, "dept.hidden", max(c.d.MinGroupSize, cp.MinGroupSize)), Class: "muted"}
			return append(cells, hidden, C(nil), C(nil), C(nil), C(nil), C(nil))
		}
		return append(cells, C(f.Deliveries), C(f.Delivered), C(f.Clickers), Cell{V: f.ClickThrough.Value, Pct: true}, C(f.Converted),
			Cell{V: f.ConversionRate.Value, Pct: true})
	}
	vt := &Table{Key: "variants", Title: p.tr("campaign.variants"), Columns: append([]string{p.tr("campaign.col.variant")}, funnelCols...)}
	for _, vr := range rep.Variants {
		f := &vr.Funnel
		if vr.Suppressed {
			f = nil
		}
		vt.Rows = append(vt.Rows, row(vr.Name, "", f))
	}
	d.Tables = append(d.Tables, vt)
	for _, g := range []struct {
		key, title, col string
		rows            []campaigns.GroupRow
		label           func(string) string
	}{
		{"departments", "campaign.by_department", "col.department", rep.Departments, func(k string) string { return "" }},
		{"platforms", "campaign.by_platform", "campaign.col.platform", rep.Platforms, func(k string) string { return text.Enum(p.Lang, "platform", k) }},
		{"hours", "campaign.by_hour", "campaign.col.hour", rep.Hours, func(k string) string { return k + ":00" }},
		{"weekdays", "campaign.by_weekday", "campaign.col.weekday", rep.Weekdays, func(k string) string { return text.Enum(p.Lang, "campaign.weekday", k) }},
	} {
		t := &Table{Key: g.key, Title: p.tr(g.title), Empty: p.tr("campaign.no_sends"), Columns: append([]string{p.tr(g.col)}, funnelCols...)}
		for _, gr := range g.rows {
			key := gr.Key
			if key == "" {
				key = p.tr("campaign.no_department")
			}
			t.Rows = append(t.Rows, row(key, g.label(gr.Key), gr.Funnel))
		}
		d.Tables = append(d.Tables, t)
	}
	if e := rep.Experiment; e != nil {
		ev := &experimentView{Enough: e.Enough, Warning: p.tr("campaign.exp.warning")}
		smallest := -1
		for _, vr := range rep.Variants {
			if smallest < 0 || vr.Funnel.Delivered < smallest {
				smallest = vr.Funnel.Delivered
			}
		}
		if e.Enough {
			ev.Status = p.tr("campaign.exp.enough", e.MinSample)
		} else {
			ev.Status = p.tr("campaign.exp.not_enough", e.MinSample, max(smallest, 0))
		}
		ct := &Table{Key: "experiment", Title: p.tr("campaign.experiment"), Empty: p.tr("campaign.exp.none"),
			Columns: []string{p.tr("campaign.col.variant"), p.tr("campaign.col.metric"), p.tr("campaign.col.control"), p.tr("campaign.col.arm"),
				p.tr("campaign.col.diff"), p.tr("campaign.col.ci"), p.tr("campaign.col.p"), p.tr("campaign.col.significant"),
				text.T(p.Lang, "experiment:label.method")}}
		for _, cm := range e.Comparisons {
			pv := Cell{V: nil}
			if cm.P != nil {
				pv = Cell{V: *cm.P, Digits: 4}
			}
			sig := Cell{V: cm.Significant}
			if cm.Significant {
				sig.Label = p.tr("campaign.exp.significant")
			}
			ct.Rows = append(ct.Rows, []Cell{C(cm.Variant), {V: cm.Metric, Label: p.tr("campaign.fig." + metricKey(cm.Metric))},
				C(fmt.Sprintf("%d/%d", cm.X1, cm.N1)), C(fmt.Sprintf("%d/%d", cm.X2, cm.N2)), {V: cm.Diff, Digits: 2},
				C(fmt.Sprintf("[%s, %s]", strconv.FormatFloat(cm.CILow, 'f', 2, 64), strconv.FormatFloat(cm.CIHigh, 'f', 2, 64))), pv, sig,
				{V: cm.Method, Label: text.T(p.Lang, "experiment:method."+cm.Method)}})
		}
		ev.Compared = ct
		d.Experiment = ev
		d.Tables = append(d.Tables, ct)
	}
	if c.exportTable(w, r, v, loc, fmt.Sprintf("campaign-%d", cp.ID), d.Tables...) {
		return
	}
	if d.Experiment != nil {
		d.Tables = d.Tables[:len(d.Tables)-1] // shown in its own section
	}
	p.Data = d
	c.render(w, r, http.StatusOK, "campaign_report", p)
}

func metricKey(m string) string {
	if m == "click_through" {
		return "click_through"
	}
	return "conversion_rate"
}

func pctText(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64) + "%"
}

// ---- learned send time ----

type sendTimePage struct {
	Est        *campaigns.SendTimeEstimate
	Hours      []hourView
	Best       string
	Definition string
	Platforms  []string
	Zones      []string
	Suggest    suggestions
	Loc        *time.Location
}

func (c *Console) campaignSendTimePage(w http.ResponseWriter, r *http.Request, v *viewer) {
	if !c.campaignsOn(w, r, v) {
		return
	}
	p := c.newPage(r, v, "sendtime.title")
	p.Nav = "campaigns"
	q := r.URL.Query()
	p.Form = url.Values{"department": {q.Get("department")}, "platform": {q.Get("platform")}, "time_zone": {q.Get("time_zone")}}
	loc := c.d.Location
	if z := q.Get("time_zone"); z != "" {
		l, err := time.LoadLocation(z)
		if err != nil || z == "Local" {
			p.fieldError("time_zone", "campaign.err.bad_zone")
		} else {
			loc = l
		}
	}
	platform := q.Get("platform")
	switch bot.Platform(platform) {
	case "", bot.PlatformWeCom, bot.PlatformFeishu, bot.PlatformDingTalk, bot.PlatformSimulator:
	default:
		p.fieldError("platform", "campaign.err.bad_choice")
		platform = ""
	}
	dept := strings.TrimSpace(q.Get("department"))
	if v.deptHead() {
		// A department head sees their subtree, or a department inside it.
		own := c.departments(r.Context(), v)
		inside := false
		for _, x := range own {
			inside = inside || x == dept
		}
		if !inside {
			dept = v.Account.Department
			p.Form.Set("department", dept)
		}
	}
	est, err := c.d.Campaigns.EstimateSendTime(r.Context(), campaigns.SendTimeQuery{Department: dept, Platform: platform, Location: loc})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d := sendTimePage{Est: est, Hours: hourViews(est.Hours, est.Best), Platforms: []string{"wecom", "feishu", "dingtalk", "simulator"},
		Zones: []string{c.d.Location.String(), "Asia/Shanghai", "UTC"}, Loc: loc}
	if est.Best != nil {
		d.Best = fmt.Sprintf("%02d:00", *est.Best)
	}
	d.Definition = est.Definition.Meaning.In(p.Lang)
	fd, err := c.campaignFormData(r, nil)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d.Suggest = fd.Suggest
	p.Data = d
	c.render(w, r, http.StatusOK, "campaign_sendtime", p)
}
