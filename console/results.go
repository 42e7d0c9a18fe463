package console

import (
	"fmt"
	"net/http"
	"time"

	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// metric is one headline figure with its n and definition.
type metric struct {
	Key   string
	Label string
	Value string
	N     string
	Def   string
	Flag  bool
}

type resultsData struct {
	Counts  counts
	Rate    rateFigure
	RateDef string
	Metrics []metric
	Summary *Table
	// Experiments are the A/B tests of the session's touchpoints.
	Experiments []experimentSection
	Attendees   *Table
	Touchpoints *Table
	Chart       string
	Windows     reports.Windows
	Loc         *time.Location
	Dept        string
	Suppressed  bool
	Full        bool
	Surveys     *surveyBlock
	// Manage lists the session's surveys with the add and close actions
	// (admin or the owning coordinator, with Deps.SurveyAdmin set).
	Manage *surveyManage
}

func (c *Console) metrics(lang text.Locale, k counts, rateDef string) ([]metric, *Table) {
	rate := k.Rate()
	n := fmt.Sprint(k.Eligible())
	pctText := "—"
	if rate.Value != nil {
		pctText = fmt.Sprintf("%.1f%%", *rate.Value)
	}
	ms := []metric{
		{"roster", text.T(lang, "col.roster"), fmt.Sprint(k.Roster), "", text.T(lang, "def.roster"), false},
		{"excused", text.T(lang, "col.excused"), fmt.Sprint(k.Excused), "", text.T(lang, "def.excused"), false},
		{"eligible", text.T(lang, "col.eligible"), n, "", text.T(lang, "def.eligible"), false},
		{"checked_in", text.T(lang, "col.checked_in"), fmt.Sprint(k.CheckedIn), n, text.T(lang, "def.checked_in"), false},
		{"on_time", text.T(lang, "checkin.on_time"), fmt.Sprint(k.OnTime), n, text.T(lang, "def.on_time"), false},
		{"late", text.T(lang, "checkin.late"), fmt.Sprint(k.Late), n, text.T(lang, "def.late"), false},
		{"makeup", text.T(lang, "checkin.makeup"), fmt.Sprint(k.Makeup), n, text.T(lang, "def.makeup"), false},
		{"checkin_rate", text.T(lang, "col.checkin_rate"), pctText, n, rateDef, rate.Low},
	}
	t := &Table{Key: "summary", Title: text.T(lang, "table.summary"),
		Columns: []string{text.T(lang, "col.metric"), text.T(lang, "col.value"), text.T(lang, "col.n"), text.T(lang, "col.definition")}}
	vals := []any{k.Roster, k.Excused, k.Eligible(), k.CheckedIn, k.OnTime, k.Late, k.Makeup, rate.Value}
	for i, m := range ms {
		var nv any
		if m.N != "" {
			nv = k.Eligible()
		}
		t.Rows = append(t.Rows, []Cell{C(m.Label), {V: vals[i], Pct: m.Key == "checkin_rate"}, C(nv), C(m.Def)})
	}
	low := text.T(lang, "no")
	if rate.Low {
		low = text.T(lang, "yes")
	}
	t.Rows = append(t.Rows, []Cell{C(text.T(lang, "col.low_checkin")), C(low), C(k.Eligible()), C(text.T(lang, "def.low_checkin"))})
	return ms, t
}

func (c *Console) resultsPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.loadSessionPath(w, r, v, accessAggr)
	if !ok {
		return
	}
	c.showResults(w, r, v, sc, http.StatusOK, "")
}

// showResults renders the Results page of sc (or answers its exports);
// msg, when set, is shown inline at the top (an action that could not be
// done), with the status code.
func (c *Console) showResults(w http.ResponseWriter, r *http.Request, v *viewer, sc sessionCtx, code int, msg string) {
	p := c.newPage(r, v, "results.title")
	if msg != "" {
		p.fieldText("", msg)
	}
	c.renderResults(w, r, v, sc, code, p)
}

// renderResults renders the Results page of sc on p, which may already
// carry inline errors and the submitted form (the survey form).
func (c *Console) renderResults(w http.ResponseWriter, r *http.Request, v *viewer, sc sessionCtx, code int, p *page) {
	p.Nav = "courses"
	p.Session = c.head(sc, "results")
	base := fmt.Sprintf("session-%d", sc.Sess.ID)
	d := resultsData{Loc: sc.Loc, Full: sc.Access == accessWrite}
	rateDef := text.T(p.Lang, "def.checkin_rate")
	if d.Full {
		rep, err := c.commands().Reports().Session(r.Context(), sc.Sess.ID, c.now())
		if !c.loaded(w, r, v, err) {
			return
		}
		if f := r.URL.Query().Get("report"); f != "" {
			c.writeReport(w, r, v, rep, f, base)
			return
		}
		d.Counts = counts{rep.Counts()}
		rateDef = rep.CheckinRate.Definition.In(p.Lang)
		d.Windows = rep.Windows
		d.Attendees = attendeesTable(p.Lang, rep)
		d.Touchpoints = touchpointsTable(p.Lang, rep)
		d.Experiments = experimentSections(p.Lang, rep, sc.Loc)
	} else {
		d.Dept = v.Account.Department
		k, err := c.scopedCounts(r.Context(), v, []uint64{sc.Sess.ID})
		if err != nil {
			c.internal(w, r, v, err)
			return
		}
		d.Counts = k[sc.Sess.ID]
		d.Suppressed = d.Counts.Suppressed
	}
	d.Rate = d.Counts.Rate()
	d.RateDef = rateDef
	if !d.Suppressed {
		d.Metrics, d.Summary = c.metrics(p.Lang, d.Counts, rateDef)
		d.Chart = stackChart(p.Lang, d.Counts)
	}
	if c.d.Surveys != nil {
		d.Surveys = c.surveySections(r, v, p.Lang, sc.Sess.ID, 0)
	}
	var manageTable *Table
	if d.Full && c.d.SurveyAdmin != nil {
		m, err := c.surveyManage(r, p.Lang, sc)
		if err != nil {
			c.internal(w, r, v, err)
			return
		}
		d.Manage, manageTable = m, m.Table
	}
	tables := []*Table{d.Summary, d.Attendees, d.Touchpoints, manageTable}
	for _, e := range d.Experiments {
		tables = append(tables, e.Tables...)
	}
	if c.exportTable(w, r, v, sc.Loc, base, append(tables, d.Surveys.tables()...)...) {
		return
	}
	p.Data = d
	c.render(w, r, code, "results", p)
}

func (c *Console) writeReport(w http.ResponseWriter, r *http.Request, v *viewer, rep *reports.SessionReport, format, base string) {
	var err error
	switch format {
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-report.csv"`, base))
		err = rep.WriteCSV(w)
	case "xlsx":
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-report.xlsx"`, base))
		err = rep.WriteXLSX(w)
	default:
		c.renderError(w, r, v, http.StatusBadRequest, "error.bad_export")
		return
	}
	if err != nil {
		c.log().Error("console: write report", "format", format, "err", err)
	}
}

func attendeesTable(lang text.Locale, rep *reports.SessionReport) *Table {
	t := &Table{Key: "attendees", Title: text.T(lang, "table.attendees"), Empty: text.T(lang, "roster.empty"),
		Columns: []string{text.T(lang, "col.external_id"), text.T(lang, "col.name"), text.T(lang, "col.department"), text.T(lang, "col.enrollment"),
			text.T(lang, "col.checkin_kind"), text.T(lang, "col.checked_in_at"), text.T(lang, "col.source"), text.T(lang, "col.missing")}}
	for _, a := range rep.Attendees {
		missing := Cell{V: a.Missing}
		if a.Missing {
			missing.Label, missing.Class = text.T(lang, "board.missing"), "flag"
		}
		t.Rows = append(t.Rows, []Cell{C(a.ExternalID), C(a.Name), C(a.Department), {V: a.Enrollment, Label: text.Enum(lang, "enroll", a.Enrollment)},
			{V: a.CheckinKind, Label: text.Enum(lang, "checkin", a.CheckinKind)}, C(a.CheckedInAt), {V: a.CheckinSource, Label: text.Enum(lang, "source", a.CheckinSource)}, missing})
	}
	return t
}

func touchpointsTable(lang text.Locale, rep *reports.SessionReport) *Table {
	t := &Table{Key: "touchpoints", Title: text.T(lang, "table.touchpoints"), Empty: text.T(lang, "timeline.empty"),
		Columns: []string{text.T(lang, "col.id"), text.T(lang, "col.kind"), text.T(lang, "col.audience"), text.T(lang, "col.status"), text.T(lang, "col.fire_at"),
			text.T(lang, "col.sent"), text.T(lang, "col.failed"), text.T(lang, "col.clickers"), text.T(lang, "col.click_through"), text.T(lang, "col.conversions"), text.T(lang, "col.conversion_rate")}}
	for _, tp := range rep.Touchpoints {
		t.Rows = append(t.Rows, []Cell{C(tp.ID), {V: tp.Kind, Label: text.Enum(lang, "kind", tp.Kind)}, {V: tp.Audience, Label: text.Enum(lang, "audience", tp.Audience)},
			{V: tp.Status, Label: text.Enum(lang, "tpstatus", tp.Status)}, C(tp.RunAt), C(tp.Deliveries.Sent), C(tp.Deliveries.Failed),
			C(tp.Clickers), {V: tp.ClickThrough.Value, Pct: true}, C(tp.Conversions), {V: tp.ConversionRate.Value, Pct: true}})
	}
	return t
}

// ---- delivery health ----

type healthRow struct {
	TP       reports.TouchpointRow
	Platform reports.PlatformRow
	// State explains a touchpoint without deliveries: "not_sent" (not fired
	// yet), "no_recipients" (fired to nobody), "paused", "cancelled",
	// "skipped".
	State string
	First bool
	Span  int
}

type healthData struct {
	Rows     []healthRow
	Health   *Table
	Failures *Table
	// Calendar is the session's events in the platforms' calendars; nil
	// when it has none.
	Calendar *Table
	Loc      *time.Location
	Pending  int
}

func (c *Console) healthPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, p, ok := c.sessionTab(w, r, v, accessWrite, "health.title", "health")
	if !ok {
		return
	}
	lang := p.Lang
	rep, err := c.commands().Reports().Session(r.Context(), sc.Sess.ID, c.now())
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d := healthData{Loc: sc.Loc}
	t := &Table{Key: "health", Title: text.T(lang, "table.health"), Empty: text.T(lang, "timeline.empty"),
		Columns: []string{text.T(lang, "col.id"), text.T(lang, "col.kind"), text.T(lang, "col.status"), text.T(lang, "col.fire_at"), text.T(lang, "col.platform"),
			text.T(lang, "col.deliveries"), text.T(lang, "col.sent"), text.T(lang, "col.failed"), text.T(lang, "col.dropped"), text.T(lang, "col.pending"),
			text.T(lang, "col.error_code"), text.T(lang, "col.error_message"), text.T(lang, "col.error_count"), text.T(lang, "col.state")}}
	for _, tp := range rep.Touchpoints {
		kind := Cell{V: tp.Kind, Label: text.Enum(lang, "kind", tp.Kind)}
		status := Cell{V: tp.Status, Label: text.Enum(lang, "tpstatus", tp.Status)}
		if len(tp.Platforms) == 0 {
			state := "not_sent"
			switch tp.Status {
			case store.TouchpointFired:
				state = "no_recipients"
			case store.TouchpointPaused, store.TouchpointCancelled, store.TouchpointSkipped:
				state = tp.Status
			}
			d.Rows = append(d.Rows, healthRow{TP: tp, State: state, First: true, Span: 1})
			t.Rows = append(t.Rows, []Cell{C(tp.ID), kind, status, C(tp.RunAt), C(nil), C(0), C(0), C(0), C(0), C(0), C(nil), C(nil), C(nil),
				{V: state, Label: text.T(lang, "health."+state)}})
			continue
		}
		for i, pl := range tp.Platforms {
			d.Pending += pl.Pending
			state := "ok"
			switch {
			case pl.Failed+pl.Dropped > 0:
				state = "errors"
			case pl.Pending > 0:
				state = "pending"
			}
			d.Rows = append(d.Rows, healthRow{TP: tp, Platform: pl, State: state, First: i == 0, Span: len(tp.Platforms)})
			var cnt any
			if pl.TopErrorCount > 0 {
				cnt = pl.TopErrorCount
			}
			t.Rows = append(t.Rows, []Cell{C(tp.ID), kind, status, C(tp.RunAt), {V: pl.Platform, Label: text.Enum(lang, "platform", pl.Platform)},
				C(pl.Total), C(pl.Sent), C(pl.Failed), C(pl.Dropped), C(pl.Pending), C(pl.TopErrorCode), C(pl.TopErrorMessage), C(cnt),
				{V: state, Label: text.T(lang, "health."+state)}})
		}
	}
	d.Health = t
	failures, err := c.failuresTable(r, v, lang, sc.Sess.ID)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d.Failures = failures
	cal, err := c.calendarTable(r, v, lang, sc.Sess.ID)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d.Calendar = cal
	if c.exportTable(w, r, v, sc.Loc, fmt.Sprintf("session-%d", sc.Sess.ID), d.Health, d.Failures, d.Calendar) {
		return
	}
	p.Data = d
	c.render(w, r, http.StatusOK, "health", p)
}

// failuresTable lists every failed or dropped delivery of a session with the
// platform's own error code and message.
func (c *Console) failuresTable(r *http.Request, v *viewer, lang text.Locale, sessionID uint64) (*Table, error) {
	rows, err := c.commands().FailedDeliveries(r.Context(), c.reader(r.Context(), v), sessionID)
	if err != nil {
		return nil, err
	}
	t := &Table{Key: "failures", Title: text.T(lang, "table.failures"), Empty: text.T(lang, "health.no_failures"),
		Columns: []string{text.T(lang, "col.touchpoint"), text.T(lang, "col.kind"), text.T(lang, "col.external_id"), text.T(lang, "col.name"), text.T(lang, "col.platform"),
			text.T(lang, "col.user_id"), text.T(lang, "col.status"), text.T(lang, "col.attempts"), text.T(lang, "col.error_code"), text.T(lang, "col.error_message"), text.T(lang, "col.updated_at")}}
	for _, x := range rows {
		t.Rows = append(t.Rows, []Cell{C(x.TouchpointID), {V: x.Kind, Label: text.Enum(lang, "kind", x.Kind)}, C(x.ExternalID), C(x.Name),
			{V: x.Platform, Label: text.Enum(lang, "platform", x.Platform)}, C(x.UserID), {V: x.Status, Label: text.Enum(lang, "delivery", x.Status)},
			C(x.Attempts), C(x.ErrorCode), C(x.ErrorMessage), C(x.UpdatedAt)})
	}
	return t, nil
}

// calendarTable lists the session's events in the platforms' calendars
// (calendar invites) with the last failed sync's code and message; nil when
// the session has none.
func (c *Console) calendarTable(r *http.Request, v *viewer, lang text.Locale, sessionID uint64) (*Table, error) {
	rows, err := c.commands().CalendarEvents(r.Context(), c.reader(r.Context(), v), sessionID)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	t := &Table{Key: "calendar", Title: text.T(lang, "table.calendar"), Empty: text.T(lang, "health.no_calendar"),
		Columns: []string{text.T(lang, "col.platform"), text.T(lang, "col.state"), text.T(lang, "col.event_id"), text.T(lang, "col.attendees"),
			text.T(lang, "col.failures"), text.T(lang, "col.error_code"), text.T(lang, "col.error_message"), text.T(lang, "col.synced_at")}}
	for _, x := range rows {
		state := x.State
		if x.Failures > 0 {
			state = "failing"
		}
		var synced any
		if x.SyncedAt != nil {
			synced = *x.SyncedAt
		}
		t.Rows = append(t.Rows, []Cell{{V: x.Platform, Label: text.Enum(lang, "platform", x.Platform)}, {V: state, Label: text.Enum(lang, "calstate", state)},
			C(x.EventID), C(x.Attendees), C(x.Failures), C(x.ErrorCode), C(x.LastError), C(synced)})
	}
	return t, nil
}
