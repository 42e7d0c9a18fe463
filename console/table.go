package console

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
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
func (cl Cell) text(loc *time.Location, lang text.Locale) string {
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
			return text.T(lang, "yes")
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

// model is the cell in reports' table model: its value with its type
// (times in loc, floats with their digits); the label, link, class and
// forms are screen-only.
func (cl Cell) model(loc *time.Location) reports.Cell {
	switch x := cl.V.(type) {
	case float64:
		return reports.Cell{V: x, Digits: cl.digits()}
	case *float64:
		if x == nil {
			return reports.Cell{}
		}
		return reports.Cell{V: *x, Digits: cl.digits()}
	case time.Time:
		if x.IsZero() {
			return reports.Cell{}
		}
		return reports.Cell{V: inLoc(x, loc)}
	case *time.Time:
		if x == nil || x.IsZero() {
			return reports.Cell{}
		}
		return reports.Cell{V: inLoc(*x, loc)}
	case nil, string, bool, int, int64, uint64:
		return reports.Cell{V: x}
	case uint:
		return reports.Cell{V: uint64(x)}
	case int32:
		return reports.Cell{V: int(x)}
	default:
		return reports.Cell{V: fmt.Sprint(x)}
	}
}

// Model is t in reports' table model, the one every export is written
// from; times are in loc.
func (t *Table) Model(loc *time.Location) reports.Table {
	m := reports.Table{Name: t.Title, Header: t.Columns, Rows: make([][]reports.Cell, len(t.Rows))}
	for i, row := range t.Rows {
		m.Rows[i] = make([]reports.Cell, len(t.Columns))
		for k := range m.Rows[i] {
			if k < len(row) {
				m.Rows[i][k] = row[k].model(loc)
			}
		}
	}
	return m
}

// WriteCSV writes t with reports' CSV writer (UTF-8 with a byte-order
// mark, CRLF, CSVText on text); times are in loc.
func (t *Table) WriteCSV(w io.Writer, loc *time.Location) error {
	m := t.Model(loc)
	m.Name = "" // a download of one table has no section title
	return reports.WriteTablesCSV(w, []reports.Table{m})
}

// WriteXLSX writes t with reports' XLSX writer as a one-sheet workbook
// named after its title: numbers as numbers, times as date cells in loc.
func (t *Table) WriteXLSX(w io.Writer, loc *time.Location) error {
	return reports.WriteTablesXLSX(w, []reports.Table{t.Model(loc)})
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
