package console

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/surveys"
)

// Table is one table a page shows; the same value is exported as CSV or
// XLSX, so a download always matches the screen.
type Table struct {
	// Key names the table in export links (?export=csv&table=Key).
	Key string
	// Title is the localized caption and the XLSX sheet name.
	Title   string
	Columns []string
	Rows    [][]Cell
	// Empty is the localized text shown when there are no rows.
	Empty string
}

// Cell is one table cell. V is a string, int, int64, uint64, float64 (a
// percentage when Pct is set), bool, time.Time, *time.Time, *float64 or nil.
type Cell struct {
	V   any
	Pct bool
	// Digits is the number of decimals of a float (0 means 1): means on a
	// 1–5 scale use 2, so that 4.45 does not read as the 4.5 target.
	Digits int
	Href   string
	Class  string
	// Label replaces V on screen (a translated enum); exports keep V.
	Label string
	// Forms are one-button POST actions shown after the text (on screen
	// only; exports ignore them).
	Forms []CellForm
}

// CellForm is a one-button POST form: the console adds the CSRF token and,
// when Confirm is set, asks for confirmation first (a dialog with
// JavaScript, a confirmation page without).
type CellForm struct {
	// Action is the path inside the console ("/surveys/3/comments/tag").
	Action string
	// Fields are hidden name/value pairs.
	Fields [][2]string
	// Label is the button's text; Class adds CSS classes to the button.
	Label string
	Class string
	// Pressed marks the current choice (aria-pressed).
	Pressed bool
	// Confirm is the localized confirmation question.
	Confirm string
}

// C builds a plain cell.
func C(v any) Cell { return Cell{V: v} }

// text is the on-screen text of a cell.
func (cl Cell) text(loc *time.Location, lang string) string {
	if cl.Label != "" {
		return cl.Label
	}
	switch x := cl.V.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return tr(lang, "yes")
		}
		return ""
	case float64:
		s := surveys.FormatFixed(x, cl.digits())
		if cl.Pct {
			s += "%"
		}
		return s
	case *float64:
		if x == nil {
			return "—"
		}
		return Cell{V: *x, Pct: cl.Pct, Digits: cl.Digits}.text(loc, lang)
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return inLoc(x, loc).Format("2006-01-02 15:04")
	case *time.Time:
		if x == nil || x.IsZero() {
			return ""
		}
		return inLoc(*x, loc).Format("2006-01-02 15:04")
	default:
		return fmt.Sprint(x)
	}
}

func (cl Cell) digits() int {
	if cl.Digits <= 0 {
		return 1
	}
	return cl.Digits
}

func (cl Cell) csv(loc *time.Location) string {
	switch x := cl.V.(type) {
	case nil:
		return ""
	case string:
		return reports.CSVText(x)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return surveys.FormatFixed(x, cl.digits())
	case *float64:
		if x == nil {
			return ""
		}
		return surveys.FormatFixed(*x, cl.digits())
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return inLoc(x, loc).Format("2006-01-02 15:04:05")
	case *time.Time:
		if x == nil || x.IsZero() {
			return ""
		}
		return inLoc(*x, loc).Format("2006-01-02 15:04:05")
	default:
		return reports.CSVText(fmt.Sprint(x))
	}
}

// WriteCSV writes t as UTF-8 CSV with a byte-order mark (Excel reads Chinese
// correctly); times are in loc.
func (t *Table) WriteCSV(w io.Writer, loc *time.Location) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(t.Columns); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	rec := make([]string, len(t.Columns))
	for _, row := range t.Rows {
		for i := range rec {
			rec[i] = ""
			if i < len(row) {
				rec[i] = row[i].csv(loc)
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// sheetName makes an Excel-legal sheet name (≤ 31 characters, no []:*?/\).
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return ' '
		}
		return r
	}, s)
	if rs := []rune(s); len(rs) > 31 {
		s = string(rs[:31])
	}
	if strings.TrimSpace(s) == "" {
		s = "Sheet1"
	}
	return s
}

// WriteXLSX writes t as a one-sheet workbook: a bold header row, numbers as
// numbers, percentages with one decimal, times as date cells in loc.
func (t *Table) WriteXLSX(w io.Writer, loc *time.Location) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := sheetName(t.Title)
	if err := f.SetSheetName(f.GetSheetName(0), sheet); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	header, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	if err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	rateFmt, rate2Fmt, dateFmt := "0.0", "0.00", "yyyy-mm-dd hh:mm:ss"
	rate1, err := f.NewStyle(&excelize.Style{CustomNumFmt: &rateFmt})
	if err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	rate2, err := f.NewStyle(&excelize.Style{CustomNumFmt: &rate2Fmt})
	if err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	for i := range t.Columns {
		if err := sw.SetColWidth(i+1, i+1, 18); err != nil {
			return fmt.Errorf("write xlsx: %w", err)
		}
	}
	hdr := make([]any, len(t.Columns))
	for i, h := range t.Columns {
		hdr[i] = excelize.Cell{StyleID: header, Value: h}
	}
	if err := sw.SetRow("A1", hdr); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	for n, row := range t.Rows {
		vals := make([]any, len(t.Columns))
		for i := range vals {
			if i >= len(row) {
				continue
			}
			rate := rate1
			if row[i].Digits >= 2 {
				rate = rate2
			}
			vals[i] = xlsxValue(row[i], loc, rate, date)
		}
		cell, _ := excelize.CoordinatesToCellName(1, n+2)
		if err := sw.SetRow(cell, vals); err != nil {
			return fmt.Errorf("write xlsx: %w", err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	return nil
}

func xlsxValue(cl Cell, loc *time.Location, rate, date int) any {
	switch x := cl.V.(type) {
	case nil:
		return nil
	case time.Time:
		if x.IsZero() {
			return nil
		}
		return excelize.Cell{StyleID: date, Value: inLoc(x, loc)}
	case *time.Time:
		if x == nil || x.IsZero() {
			return nil
		}
		return excelize.Cell{StyleID: date, Value: inLoc(*x, loc)}
	case float64:
		return excelize.Cell{StyleID: rate, Value: surveys.Round(x, cl.digits())}
	case *float64:
		if x == nil {
			return nil
		}
		return excelize.Cell{StyleID: rate, Value: surveys.Round(*x, cl.digits())}
	case string:
		return x
	default:
		return x
	}
}

// exportTable answers ?export=csv|xlsx&table=KEY with the table of that key
// among tables; it returns false when the request is not an export.
func (c *Console) exportTable(w http.ResponseWriter, r *http.Request, v *viewer, loc *time.Location, base string, tables ...*Table) bool {
	format := r.URL.Query().Get("export")
	if format == "" {
		return false
	}
	key := r.URL.Query().Get("table")
	var t *Table
	for _, x := range tables {
		if x != nil && x.Key == key {
			t = x
		}
	}
	if t == nil || (format != "csv" && format != "xlsx") {
		c.renderError(w, r, v, http.StatusBadRequest, "error.bad_export")
		return true
	}
	name := fmt.Sprintf("%s-%s.%s", base, t.Key, format)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	var err error
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		err = t.WriteCSV(w, loc)
	} else {
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		err = t.WriteXLSX(w, loc)
	}
	if err != nil {
		c.log().Error("console: export", "table", t.Key, "format", format, "err", err)
	}
	return true
}

// inLoc shows t in loc; a nil loc keeps the zone t already has (cells of
// sessions in different zones).
func inLoc(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		return t
	}
	return t.In(loc)
}
