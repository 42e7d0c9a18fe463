package reports

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// WriteTable writes the report as a plain-text table for a terminal or an
// e-mail: the session and its check-in windows, a warning line when the
// check-in rate is low, the headline figures with n and definition, one row per
// touchpoint with its platform breakdown, and the people who have not checked
// in. lang is "zh-CN" (the default, also used for unknown values) or "en".
// Times are shown in the session's time zone.
func (r *SessionReport) WriteTable(w io.Writer, langTag string) error {
	lang := text.Parse(langTag)
	def := func(key string) string {
		return definitionOf(key, time.Duration(r.Windows.AttributionSeconds)*time.Second).In(lang)
	}
	loc := r.location()
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	s := r.Session
	var b strings.Builder

	fmt.Fprintf(&b, "%s #%d · %s\n", text.T(lang, "reports:table.title"), s.ID, oneLine(s.Title))
	fmt.Fprintf(&b, "%s%s %s\n", text.T(lang, "reports:table.course"), oneLine(s.CourseCode), oneLine(s.CourseTitle))
	fmt.Fprintf(&b, "%s%s – %s (%s)\n", text.T(lang, "reports:table.time"), ts(s.StartsAt), ts(s.EndsAt), loc.String())
	place := s.Location
	if place == "" {
		place = s.OnlineURL
	}
	fmt.Fprintf(&b, "%s%s    %s%s    %s%s\n",
		text.T(lang, "reports:table.place"), oneLine(place),
		text.T(lang, "reports:table.teacher"), oneLine(s.Teacher),
		text.T(lang, "reports:table.status"), s.Status)
	fmt.Fprintf(&b, "%s%s %s; %s %s; %s %s; %s %s\n", text.T(lang, "reports:table.windows"),
		text.T(lang, "reports:table.opens"), ts(r.Windows.Opens),
		text.T(lang, "reports:table.on_time_until"), ts(r.Windows.OnTimeUntil),
		text.T(lang, "reports:table.late_until"), ts(r.Windows.LateUntil),
		text.T(lang, "reports:table.makeup_until"), ts(r.Windows.MakeupUntil))
	fmt.Fprintf(&b, "%s%s\n\n", text.T(lang, "reports:table.generated"), ts(r.GeneratedAt))

	if r.LowCheckin {
		fmt.Fprintf(&b, "%s\n\n", r.warning(lang))
	}

	count := func(v, n int, withN bool) []string {
		ns := ""
		if withN {
			ns = strconv.Itoa(n)
		}
		return []string{strconv.Itoa(v), ns}
	}
	rate := "—"
	if r.CheckinRate.Value != nil {
		rate = formatValue(r.CheckinRate) + "%"
	}
	headline := []struct {
		key   string
		cells []string
	}{
		{"roster", count(r.Roster, 0, false)},
		{"excused", count(r.Excused, 0, false)},
		{"eligible", count(r.Eligible, 0, false)},
		{"checked_in", count(r.CheckedIn, r.Eligible, true)},
		{"on_time", count(r.OnTime, r.Eligible, true)},
		{"late", count(r.Late, r.Eligible, true)},
		{"makeup", count(r.Makeup, r.Eligible, true)},
		{"checkin_rate", []string{rate, strconv.Itoa(r.CheckinRate.N)}},
	}
	var rows [][]string
	for _, h := range headline {
		rows = append(rows, append(append([]string{label(lang, h.key)}, h.cells...), def(h.key)))
	}
	writeGrid(&b, []string{text.T(lang, "reports:label.metric"), text.T(lang, "reports:label.value"), "n", text.T(lang, "reports:label.definition")}, rows)

	// Touchpoints.
	window := time.Duration(r.Windows.AttributionSeconds) * time.Second
	fmt.Fprintf(&b, "\n%s\n", text.T(lang, "reports:table.touchpoints", formatWindow(window)))
	if len(r.Touchpoints) == 0 {
		fmt.Fprintf(&b, "%s\n", text.T(lang, "reports:table.no_touchpoints"))
	} else {
		rate := func(f Figure) string {
			if f.Value == nil {
				return "—"
			}
			return fmt.Sprintf("%s%% (%d/%d)", formatValue(f), f.Numerator, f.N)
		}
		header := []string{"ID", text.T(lang, "reports:label.kind"), text.T(lang, "reports:label.audience"), text.T(lang, "reports:label.status"), text.T(lang, "reports:label.run_at"),
			text.T(lang, "reports:label.deliveries"), text.T(lang, "reports:label.sent"), text.T(lang, "reports:label.failed"), text.T(lang, "reports:label.dropped"), text.T(lang, "reports:label.pending"),
			text.T(lang, "reports:label.clicks"), text.T(lang, "reports:label.clickers"), text.T(lang, "reports:label.click_through"), text.T(lang, "reports:label.conversions"), text.T(lang, "reports:label.conversion_rate")}
		var rows, prows [][]string
		for _, t := range r.Touchpoints {
			d := t.Deliveries
			rows = append(rows, []string{strconv.FormatUint(t.ID, 10), t.Kind, t.Audience, t.Status, ts(t.RunAt),
				strconv.Itoa(d.Total), strconv.Itoa(d.Sent), strconv.Itoa(d.Failed), strconv.Itoa(d.Dropped), strconv.Itoa(d.Pending),
				strconv.Itoa(t.Clicks), strconv.Itoa(t.Clickers), rate(t.ClickThrough), strconv.Itoa(t.Conversions), rate(t.ConversionRate)})
			for _, p := range t.Platforms {
				top := ""
				if p.TopErrorCount > 0 {
					top = fmt.Sprintf("%s %s ×%d", oneLine(p.TopErrorCode), cut.Ellipsis(oneLine(p.TopErrorMessage), 60), p.TopErrorCount)
				}
				prows = append(prows, []string{strconv.FormatUint(t.ID, 10), p.Platform, strconv.Itoa(p.Total),
					strconv.Itoa(p.Sent), strconv.Itoa(p.Failed), strconv.Itoa(p.Dropped), strconv.Itoa(p.Pending), strings.TrimSpace(top)})
			}
		}
		writeGrid(&b, header, rows)
		if len(prows) > 0 {
			fmt.Fprintf(&b, "\n%s\n", text.T(lang, "reports:table.by_platform"))
			writeGrid(&b, []string{text.T(lang, "reports:label.touchpoint_id"), text.T(lang, "reports:label.platform"), text.T(lang, "reports:label.deliveries"), text.T(lang, "reports:label.sent"),
				text.T(lang, "reports:label.failed"), text.T(lang, "reports:label.dropped"), text.T(lang, "reports:label.pending"), text.T(lang, "reports:label.top_error")}, prows)
		}
	}

	// The touchpoints' A/B experiments.
	for _, e := range r.Experiments {
		b.WriteByte('\n')
		if err := WriteTablesText(&b, e.Tables(lang, loc)); err != nil {
			return err
		}
	}

	// Who is missing, then who is excused.
	var missing, excused [][]string
	for _, a := range r.Attendees {
		row := []string{oneLine(a.ExternalID), oneLine(a.Name), oneLine(a.Department)}
		switch {
		case a.Missing:
			missing = append(missing, row)
		case a.Enrollment == store.EnrollExcused:
			excused = append(excused, row)
		}
	}
	people := []string{text.T(lang, "reports:label.external_id"), text.T(lang, "reports:label.name"), text.T(lang, "reports:label.department")}
	fmt.Fprintf(&b, "\n%s\n", text.T(lang, "reports:table.missing", len(missing)))
	if len(missing) > 0 {
		writeGrid(&b, people, missing)
	}
	if len(excused) > 0 {
		fmt.Fprintf(&b, "\n%s\n", text.T(lang, "reports:table.excused", len(excused)))
		writeGrid(&b, people, excused)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// warning is the low-check-in warning line in lang.
func (r *SessionReport) warning(lang text.Locale) string {
	f := r.CheckinRate
	return text.T(lang, "reports:table.warning", formatValue(f), f.Numerator, f.N)
}
