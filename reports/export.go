package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/learnloop/learnloop/text"
)

// Sheet names of the XLSX export (Excel forbids "/" in sheet names, so each
// is "中文 English").
const (
	// SheetSummary holds the session, its windows and the headline figures.
	SheetSummary = "概览 Summary"
	// SheetTouchpoints holds one row per touchpoint, then the platform table.
	SheetTouchpoints = "触达 Touchpoints"
	// SheetAttendees holds the roster with each person's check-in.
	SheetAttendees = "名单 Attendees"
)

// localTimeLayout is how exports write times, in the session's time zone
// (given by the time_zone summary row).
const localTimeLayout = "2006-01-02 15:04:05"

// summaryRow is one metric of the summary section. Value is a string, int,
// uint64, float64, bool, time.Time or nil (no value).
type summaryRow struct {
	Key   string
	Value any
	N     *int
	Def   string
}

func (r *SessionReport) summaryRows() []summaryRow {
	loc := r.location()
	s := r.Session
	window := time.Duration(r.Windows.AttributionSeconds) * time.Second
	local := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.In(loc)
	}
	fig := func(key string) string { return definitionOf(key, window).Bilingual() }
	eligible := r.Eligible
	rate := any(nil)
	if r.CheckinRate.Value != nil {
		rate = *r.CheckinRate.Value
	}
	rateN := r.CheckinRate.N
	rows := []summaryRow{
		{"session_id", s.ID, nil, text.M("reports:export.session_id").Bilingual()},
		{"course_code", s.CourseCode, nil, text.M("reports:export.course_code").Bilingual()},
		{"course_title", s.CourseTitle, nil, text.M("reports:export.course_title").Bilingual()},
		{"session_title", s.Title, nil, text.M("reports:export.session_title").Bilingual()},
		{"starts_at", local(s.StartsAt), nil, text.M("reports:export.starts_at").Bilingual()},
		{"ends_at", local(s.EndsAt), nil, text.M("reports:export.ends_at").Bilingual()},
		{"time_zone", loc.String(), nil, text.M("reports:export.time_zone").Bilingual()},
		{"location", s.Location, nil, text.M("reports:export.location").Bilingual()},
		{"teacher", s.Teacher, nil, text.M("reports:export.teacher").Bilingual()},
		{"status", s.Status, nil, text.M("reports:export.status").Bilingual()},
		{"window_opens", local(r.Windows.Opens), nil, fig("windows")},
		{"window_on_time_until", local(r.Windows.OnTimeUntil), nil, fig("windows")},
		{"window_late_until", local(r.Windows.LateUntil), nil, fig("windows")},
		{"window_makeup_until", local(r.Windows.MakeupUntil), nil, fig("windows")},
		{"attribution_window_seconds", r.Windows.AttributionSeconds, nil, fig("conversions")},
		{"generated_at", local(r.GeneratedAt), nil, text.M("reports:export.generated_at").Bilingual()},
		{"roster", r.Roster, nil, fig("roster")},
		{"excused", r.Excused, nil, fig("excused")},
		{"eligible", r.Eligible, nil, fig("eligible")},
		{"checked_in", r.CheckedIn, &eligible, fig("checked_in")},
		{"on_time", r.OnTime, &eligible, fig("on_time")},
		{"late", r.Late, &eligible, fig("late")},
		{"makeup", r.Makeup, &eligible, fig("makeup")},
		{"checkin_rate", rate, &rateN, r.CheckinRate.Definition.Bilingual()},
		{"low_checkin", r.LowCheckin, &rateN, fig("low_checkin")},
		{"require_onsite", r.RequireOnsite, nil, text.M("reports:export.require_onsite").Bilingual()},
		{"remote", r.Remote, &eligible, text.M("reports:export.remote").Bilingual()},
	}
	for _, src := range r.BySource {
		def := text.M("reports:export.source_present", src.Source).Bilingual()
		if !src.Present {
			def = text.M("reports:export.source_remote", src.Source).Bilingual()
		}
		rows = append(rows, summaryRow{"source_" + src.Source, src.Count, &eligible, def})
	}
	return rows
}

func optCount(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func optInt(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

// WriteCSV writes the report as UTF-8 CSV with a byte-order mark (so Excel
// reads Chinese correctly) in four sections separated by an empty line, each
// starting with its header row: summary (metric,value,n,definition),
// touchpoints, touchpoint platforms, attendees. Rates are percentages with one
// decimal, empty when n is 0; times are in the session's time zone (the
// time_zone row).
func (r *SessionReport) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	var records [][]string
	add := func(rec ...string) { records = append(records, rec) }
	blank := func() { records = append(records, nil) }

	add("metric", "value", "n", "definition")
	for _, row := range r.summaryRows() {
		add(row.Key, Cell{V: row.Value, Digits: 1}.CSV(), optInt(row.N), row.Def)
	}

	blank()
	loc := r.location()
	ts := func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.In(loc).Format(localTimeLayout)
	}
	add("touchpoint_id", "kind", "audience", "status", "run_at", "fired_at",
		"deliveries", "sent", "failed", "dropped", "pending",
		"clicks", "clickers", "click_through", "click_through_n",
		"conversions", "conversion_rate", "conversion_rate_n")
	for _, t := range r.Touchpoints {
		d := t.Deliveries
		runAt := t.RunAt
		add(strconv.FormatUint(t.ID, 10), CSVText(t.Kind), CSVText(t.Audience), CSVText(t.Status), ts(&runAt), ts(t.FiredAt),
			strconv.Itoa(d.Total), strconv.Itoa(d.Sent), strconv.Itoa(d.Failed), strconv.Itoa(d.Dropped), strconv.Itoa(d.Pending),
			strconv.Itoa(t.Clicks), strconv.Itoa(t.Clickers), formatValue(t.ClickThrough), strconv.Itoa(t.ClickThrough.N),
			strconv.Itoa(t.Conversions), formatValue(t.ConversionRate), strconv.Itoa(t.ConversionRate.N))
	}

	blank()
	add("touchpoint_id", "platform", "deliveries", "sent", "failed", "dropped", "pending",
		"top_error_code", "top_error_message", "top_error_count")
	for _, t := range r.Touchpoints {
		for _, p := range t.Platforms {
			add(strconv.FormatUint(t.ID, 10), CSVText(p.Platform), strconv.Itoa(p.Total), strconv.Itoa(p.Sent),
				strconv.Itoa(p.Failed), strconv.Itoa(p.Dropped), strconv.Itoa(p.Pending),
				CSVText(p.TopErrorCode), CSVText(p.TopErrorMessage), optCount(p.TopErrorCount))
		}
	}

	blank()
	add("external_id", "name", "department", "enrollment", "checkin_kind", "checked_in_at", "checkin_source", "missing")
	for _, a := range r.Attendees {
		add(CSVText(a.ExternalID), CSVText(a.Name), CSVText(a.Department), CSVText(a.Enrollment),
			CSVText(a.CheckinKind), ts(a.CheckedInAt), CSVText(a.CheckinSource), strconv.FormatBool(a.Missing))
	}

	for _, rec := range records {
		if rec == nil {
			// An empty line between sections; encoding/csv skips it on read.
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
			if _, err := io.WriteString(w, "\r\n"); err != nil {
				return err
			}
			continue
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// xlsxStyles are the cell styles of the XLSX export.
type xlsxStyles struct {
	header, rate, date, warn int
}

func newXLSXStyles(f *excelize.File) (xlsxStyles, error) {
	var s xlsxStyles
	var err error
	rateFmt, dateFmt := "0.0", "yyyy-mm-dd hh:mm:ss"
	if s.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}}); err != nil {
		return s, err
	}
	if s.rate, err = f.NewStyle(&excelize.Style{CustomNumFmt: &rateFmt}); err != nil {
		return s, err
	}
	if s.date, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt}); err != nil {
		return s, err
	}
	if s.warn, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "C00000"}}); err != nil {
		return s, err
	}
	return s, nil
}

// cellOf turns a report value into a spreadsheet cell: numbers stay numbers,
// times become date cells in the session's zone, rates get one decimal.
func (st xlsxStyles) cellOf(v any, isRate bool) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		if x.IsZero() {
			return nil
		}
		return excelize.Cell{StyleID: st.date, Value: x}
	case *time.Time:
		if x == nil || x.IsZero() {
			return nil
		}
		return excelize.Cell{StyleID: st.date, Value: *x}
	case float64:
		if isRate {
			return excelize.Cell{StyleID: st.rate, Value: x}
		}
		return x
	case *float64:
		if x == nil {
			return nil
		}
		return excelize.Cell{StyleID: st.rate, Value: *x}
	default:
		return v
	}
}

func headerRow(st xlsxStyles, keys ...string) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = excelize.Cell{StyleID: st.header, Value: bilingual(k)}
	}
	return out
}

// WriteXLSX writes the report as an Excel workbook with three sheets:
// SheetSummary (metric key, label, value, n, definition), SheetTouchpoints
// (one row per touchpoint, then a per-platform table) and SheetAttendees (the
// roster with each person's check-in). Times are date cells in the session's
// time zone; rates are percentages with one decimal.
func (r *SessionReport) WriteXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newXLSXStyles(f)
	if err != nil {
		return err
	}
	if err := f.SetSheetName(f.GetSheetName(0), SheetSummary); err != nil {
		return err
	}
	for _, name := range []string{SheetTouchpoints, SheetAttendees} {
		if _, err := f.NewSheet(name); err != nil {
			return err
		}
	}
	if err := r.xlsxSummary(f, st); err != nil {
		return fmt.Errorf("reports: summary sheet: %w", err)
	}
	if err := r.xlsxTouchpoints(f, st); err != nil {
		return fmt.Errorf("reports: touchpoints sheet: %w", err)
	}
	if err := r.xlsxAttendees(f, st); err != nil {
		return fmt.Errorf("reports: attendees sheet: %w", err)
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}

// sheetWriter appends rows to a stream-written sheet.
type sheetWriter struct {
	sw  *excelize.StreamWriter
	row int
}

func newSheetWriter(f *excelize.File, sheet string, widths ...float64) (*sheetWriter, error) {
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	for i, wd := range widths {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return nil, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	return &sheetWriter{sw: sw}, nil
}

func (s *sheetWriter) add(values ...any) error {
	s.row++
	cell, err := excelize.CoordinatesToCellName(1, s.row)
	if err != nil {
		return err
	}
	return s.sw.SetRow(cell, values)
}

func (s *sheetWriter) skip() { s.row++ }

func (r *SessionReport) xlsxSummary(f *excelize.File, st xlsxStyles) error {
	s, err := newSheetWriter(f, SheetSummary, 28, 16, 22, 8, 100)
	if err != nil {
		return err
	}
	if err := s.add(headerRow(st, "metric", "label", "value", "n", "definition")...); err != nil {
		return err
	}
	for _, row := range r.summaryRows() {
		var n any
		if row.N != nil {
			n = *row.N
		}
		name := ""
		if k := "reports:label." + row.Key; text.Has(k) {
			name = text.T(text.ZH, k)
		}
		if err := s.add(row.Key, name, st.cellOf(row.Value, row.Key == "checkin_rate"), n, row.Def); err != nil {
			return err
		}
	}
	if r.LowCheckin {
		s.skip()
		if err := s.add(excelize.Cell{StyleID: st.warn, Value: "warning"}, nil,
			excelize.Cell{StyleID: st.warn, Value: r.warning("zh-CN") + " " + r.warning("en")}); err != nil {
			return err
		}
	}
	return s.sw.Flush()
}

func (r *SessionReport) xlsxTouchpoints(f *excelize.File, st xlsxStyles) error {
	s, err := newSheetWriter(f, SheetTouchpoints, 10, 16, 16, 12, 20, 20, 10, 10, 10, 10, 10, 10, 12, 14, 10, 12, 14)
	if err != nil {
		return err
	}
	if err := s.add(headerRow(st, "touchpoint_id", "kind", "audience", "status", "run_at", "fired_at",
		"deliveries", "sent", "failed", "dropped", "pending", "clicks", "clickers", "click_through", "n",
		"conversions", "conversion_rate", "n")...); err != nil {
		return err
	}
	for _, t := range r.Touchpoints {
		d := t.Deliveries
		if err := s.add(t.ID, t.Kind, t.Audience, t.Status, st.cellOf(t.RunAt.In(r.location()), false), st.cellOf(r.inZone(t.FiredAt), false),
			d.Total, d.Sent, d.Failed, d.Dropped, d.Pending, t.Clicks, t.Clickers,
			st.cellOf(t.ClickThrough.Value, true), t.ClickThrough.N,
			t.Conversions, st.cellOf(t.ConversionRate.Value, true), t.ConversionRate.N); err != nil {
			return err
		}
	}
	s.skip()
	if err := s.add(headerRow(st, "touchpoint_id", "platform", "deliveries", "sent", "failed", "dropped", "pending",
		"top_error_code", "top_error_message", "top_error_count")...); err != nil {
		return err
	}
	for _, t := range r.Touchpoints {
		for _, p := range t.Platforms {
			var count any
			if p.TopErrorCount > 0 {
				count = p.TopErrorCount
			}
			if err := s.add(t.ID, p.Platform, p.Total, p.Sent, p.Failed, p.Dropped, p.Pending,
				p.TopErrorCode, p.TopErrorMessage, count); err != nil {
				return err
			}
		}
	}
	return s.sw.Flush()
}

func (r *SessionReport) inZone(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	l := t.In(r.location())
	return &l
}

func (r *SessionReport) xlsxAttendees(f *excelize.File, st xlsxStyles) error {
	s, err := newSheetWriter(f, SheetAttendees, 16, 16, 20, 12, 12, 20, 12, 10)
	if err != nil {
		return err
	}
	if err := s.add(headerRow(st, "external_id", "name", "department", "enrollment", "checkin_kind",
		"checked_in_at", "checkin_source", "missing")...); err != nil {
		return err
	}
	for _, a := range r.Attendees {
		if err := s.add(a.ExternalID, a.Name, a.Department, a.Enrollment, a.CheckinKind,
			st.cellOf(r.inZone(a.CheckedInAt), false), a.CheckinSource, a.Missing); err != nil {
			return err
		}
	}
	return s.sw.Flush()
}
