package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
)

// Table is a titled grid of cells, exported as a CSV section, an XLSX sheet
// or a text table. It is the one table model of every export: the
// console's tables are written through it too (console.Table renders its
// cells to this model), so a figure has the same type everywhere.
type Table struct {
	Name   string
	Header []string
	Rows   [][]Cell
	// Notes are printed under the table (definitions, suppression).
	Notes []string
}

// Cell is one typed table cell: its type, not its text, decides how it is
// exported. V is a string (text: quoted against formulas in CSV, a text
// cell in XLSX even when it looks like a number), an int, int64 or uint64,
// a float64 shown with Digits decimals (rounded with surveys.Round), a
// bool, a time.Time (written in its own zone; an XLSX date cell), or nil
// (empty).
type Cell struct {
	V      any
	Digits int
}

// Text is a text cell.
func Text(s string) Cell { return Cell{V: s} }

// Int is an integer cell.
func Int(n int) Cell { return Cell{V: n} }

// Num is a number cell with digits decimals; nil is an empty cell.
func Num(p *float64, digits int) Cell {
	if p == nil {
		return Cell{}
	}
	return Cell{V: *p, Digits: digits}
}

// String is the cell as text (CSV without the formula guard, terminal).
func (c Cell) String() string {
	switch x := c.V.(type) {
	case nil:
		return ""
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return surveys.FormatFixed(x, c.Digits)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.Format(localTimeLayout)
	default:
		return fmt.Sprint(x)
	}
}

// CSV is the cell as a CSV field: text (and any other value's text) goes
// through CSVText, numbers, booleans and times are never quoted.
func (c Cell) CSV() string {
	switch c.V.(type) {
	case nil, int, int64, uint64, float64, bool, time.Time:
		return c.String()
	}
	return CSVText(c.String())
}

// XLSX is the cell's spreadsheet value: numbers as numbers (rounded to what
// the report shows), everything else as text.
func (c Cell) XLSX() any {
	switch x := c.V.(type) {
	case nil:
		return nil
	case float64:
		return surveys.Round(x, c.Digits)
	case int, int64, uint64, bool:
		return x
	case time.Time:
		if x.IsZero() {
			return nil
		}
		return x
	default:
		return c.String()
	}
}

// CSVText defuses text that a spreadsheet would run as a formula: a text cell
// starting with = + - @ tab or CR gets a leading apostrophe. It is the one
// rule for every CSV export (reports, console, API); numbers never go
// through it.
func CSVText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func textRow(cells ...string) []Cell {
	out := make([]Cell, len(cells))
	for i, c := range cells {
		out[i] = Text(c)
	}
	return out
}

// Tabular is a report that can be exported as tables.
type Tabular interface {
	Tables() []Table
}

// WriteTablesCSV writes tables as UTF-8 CSV with a byte-order mark (Excel
// reads Chinese) and CRLF line ends, separated by an empty row: a named
// table is a section headed by "# name", an unnamed one (a console table's
// download) is just its header and rows.
// Text goes through CSVText, numbers never do. It is the one CSV writer of
// the console, the API and the CLI.
func WriteTablesCSV(w io.Writer, ts []Table) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	for i, t := range ts {
		if i > 0 {
			_ = cw.Write([]string{})
		}
		if t.Name != "" {
			_ = cw.Write([]string{"# " + t.Name})
		}
		_ = cw.Write(t.Header)
		for _, r := range t.Rows {
			rec := make([]string, len(t.Header))
			for k := range rec {
				if k < len(r) {
					rec[k] = r[k].CSV()
				}
			}
			if len(r) > len(rec) {
				for _, c := range r[len(rec):] {
					rec = append(rec, c.CSV())
				}
			}
			_ = cw.Write(rec)
		}
		for _, n := range t.Notes {
			_ = cw.Write([]string{"# " + n})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// WriteTablesXLSX writes each table to its own sheet: a bold header row,
// then the rows, then the notes; a cell is a number exactly when the figure
// is one (text that looks like a number stays text), floats carry a number
// format of their digits, times are date cells. It is the one XLSX writer
// of the console, the API and the CLI.
func WriteTablesXLSX(w io.Writer, ts []Table) error {
	f := excelize.NewFile()
	defer f.Close()
	header, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	if err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	dateFmt := "yyyy-mm-dd hh:mm:ss"
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	numStyles := map[int]int{}
	numStyle := func(digits int) (int, error) {
		if id, ok := numStyles[digits]; ok {
			return id, nil
		}
		format := "0"
		if digits > 0 {
			format += "." + strings.Repeat("0", digits)
		}
		id, err := f.NewStyle(&excelize.Style{CustomNumFmt: &format})
		numStyles[digits] = id
		return id, err
	}
	used := map[string]bool{}
	for i, t := range ts {
		name := sheetName(t.Name, i)
		for used[name] {
			name = sheetName(fmt.Sprintf("%s %d", t.Name, i+1), i)
		}
		used[name] = true
		if i == 0 {
			if err := f.SetSheetName(f.GetSheetName(0), name); err != nil {
				return fmt.Errorf("write xlsx: %w", err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return fmt.Errorf("write xlsx: %w", err)
		}
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return fmt.Errorf("write xlsx: %w", err)
		}
		if len(t.Header) > 0 {
			if err := sw.SetColWidth(1, len(t.Header), 18); err != nil {
				return fmt.Errorf("write xlsx: %w", err)
			}
		}
		row := 1
		put := func(vals []any) error {
			cell, _ := excelize.CoordinatesToCellName(1, row)
			row++
			return sw.SetRow(cell, vals)
		}
		hdr := make([]any, len(t.Header))
		for k, h := range t.Header {
			hdr[k] = excelize.Cell{StyleID: header, Value: h}
		}
		if err := put(hdr); err != nil {
			return fmt.Errorf("write xlsx: %w", err)
		}
		for _, r := range t.Rows {
			vals := make([]any, len(r))
			for k, c := range r {
				v := c.XLSX()
				switch v.(type) {
				case float64:
					st, err := numStyle(c.Digits)
					if err != nil {
						return fmt.Errorf("write xlsx: %w", err)
					}
					vals[k] = excelize.Cell{StyleID: st, Value: v}
				case time.Time:
					vals[k] = excelize.Cell{StyleID: date, Value: v}
				default:
					vals[k] = v
				}
			}
			if err := put(vals); err != nil {
				return fmt.Errorf("write xlsx: %w", err)
			}
		}
		for _, n := range t.Notes {
			row++
			if err := put([]any{n}); err != nil {
				return fmt.Errorf("write xlsx: %w", err)
			}
		}
		if err := sw.Flush(); err != nil {
			return fmt.Errorf("write xlsx: %w", err)
		}
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	return nil
}

func sheetName(s string, i int) string {
	r := strings.NewReplacer("/", " ", "\\", " ", "?", "", "*", "", "[", "(", "]", ")", ":", " ")
	s = r.Replace(s)
	s = cut.Runes(s, 28)
	if s == "" {
		s = fmt.Sprintf("Sheet%d", i+1)
	}
	return s
}

// WriteTablesText renders tables for a terminal.
func WriteTablesText(w io.Writer, ts []Table) error {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(t.Name + "\n")
		rows := make([][]string, len(t.Rows))
		for k, r := range t.Rows {
			rows[k] = make([]string, len(r))
			for j, c := range r {
				rows[k][j] = cut.Ellipsis(oneLine(c.String()), 60)
			}
		}
		writeGrid(&b, t.Header, rows)
		for _, n := range t.Notes {
			b.WriteString("  " + n + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func itoa(n int) string { return strconv.Itoa(n) }

// Tables implements Tabular.
func (r *SurveyReport) Tables() []Table {
	summary := Table{Name: "问卷概览 Survey", Header: []string{"指标 metric", "数值 value", "n", "定义 definition"}}
	rr := r.ResponseRate
	row := func(metric string, v Cell, n Cell, def string) []Cell { return []Cell{Text(metric), v, n, Text(def)} }
	summary.Rows = append(summary.Rows,
		row("survey", Text(r.Survey.Title), Cell{}, fmt.Sprintf("#%d %s，%s", r.Survey.ID, r.Survey.Kind, r.Survey.CourseTitle)),
		row("anonymous", Cell{V: r.Survey.Anonymous}, Cell{}, "匿名问卷的报告不显示回答者"),
		row("eligible", Int(rr.Eligible), Cell{}, "送达的在职员工数（该问卷任一次推送，含提醒；跟进问卷按经理×下属计）"),
		row("complete", Int(rr.Complete), Int(rr.Eligible), ""),
		row("partial", Int(rr.Partial), Int(rr.Eligible), "未完成（缺必答题）的回答，单独计数"),
		row("response_rate_%", Num(rr.Rate, 1), Int(rr.Eligible), rr.Definition.In(text.ZH)),
	)
	if r.NPS != nil {
		summary.Rows = append(summary.Rows,
			row("nps", Num(r.NPS.Score, 1), Int(r.NPS.N), r.NPS.Definition.In(text.ZH)),
			row("nps_moe", Num(r.NPS.MOE, 1), Int(r.NPS.N), strings.TrimSpace("95% 误差范围（分） "+r.NPS.Caveat.Bilingual())),
			row("promoters/passives/detractors", Text(fmt.Sprintf("%d/%d/%d", r.NPS.Promoters, r.NPS.Passives, r.NPS.Detractors)), Int(r.NPS.N), ""),
		)
	}
	if r.Overall != nil {
		summary.Rows = append(summary.Rows, row("overall_change_mean", Num(r.Overall.Mean, 2), Int(r.Overall.N), r.Overall.Definition.In(text.ZH)))
	}
	ts := []Table{summary}
	if len(r.Dimensions) > 0 {
		t := Table{Name: "满意度 CSAT", Header: []string{"维度 dimension", "题目 question", "n", "均值 mean", "top-2-box %", "±MOE", "1", "2", "3", "4", "5", "提示 caveat"}}
		for _, d := range r.Dimensions {
			cells := []Cell{Text(d.Dimension), Text(d.Question), Int(d.Rating.N), Num(d.Rating.Mean, 2), Num(d.Rating.Top2Box, 1), Num(d.Rating.Top2BoxMOE, 1)}
			for _, c := range d.Rating.Distribution {
				cells = append(cells, Int(c))
			}
			t.Rows = append(t.Rows, append(cells, Text(d.Rating.Caveat.Bilingual())))
		}
		t.Notes = []string{r.Dimensions[0].Rating.Definition.In(text.ZH)}
		ts = append(ts, t)
	}
	if len(r.Behaviours) > 0 {
		t := Table{Name: "行为变化 Behaviour change", Header: []string{"#", "行为 behaviour", "n", "之前均值 before", "现在均值 now", "变化 delta", "改善比例 % improved", "变差比例 % worse"}}
		for _, b := range r.Behaviours {
			t.Rows = append(t.Rows, []Cell{Int(b.Index), Text(b.Behaviour), Int(b.Change.N), Num(b.Change.MeanBefore, 2), Num(b.Change.MeanNow, 2), Num(b.Change.MeanDelta, 2), Num(b.Change.ShareImproved, 1), Num(b.Change.ShareWorse, 1)})
		}
		t.Notes = []string{r.Behaviours[0].Change.Definition.In(text.ZH)}
		ts = append(ts, t)
	}
	comments := Table{Name: "意见 Comments", Header: []string{"response", "题目 question", "内容 text", "姓名 name", "关于 subject"}}
	for _, c := range r.Comments {
		comments.Rows = append(comments.Rows, []Cell{Text(strconv.FormatUint(c.ResponseID, 10)), Text(c.Question), Text(c.Text), Text(c.Name), Text(c.Subject)})
	}
	ts = append(ts, comments)
	depts := Table{Name: "部门 Departments", Header: []string{"部门 department", "回答 responses", "NPS", "NPS n", "满意度均值 CSAT mean", "CSAT n"},
		Notes: []string{r.Definitions["departments"], r.Definitions["csat_mean"]}}
	hidden := Text("已隐藏 suppressed (< " + itoa(r.Survey.MinGroupSize) + ")")
	for _, d := range r.Departments {
		if d.Suppressed {
			depts.Rows = append(depts.Rows, []Cell{Text(d.Department), hidden, {}, {}, {}, {}})
			continue
		}
		cells := []Cell{Text(d.Department), Int(deref(d.Responses))}
		if d.NPS != nil {
			cells = append(cells, Num(d.NPS, 1), Int(deref(d.NPSN)))
		} else {
			cells = append(cells, hidden, Cell{})
		}
		if d.CSATMean != nil {
			cells = append(cells, Num(d.CSATMean, 2), Int(deref(d.CSATN)))
		} else {
			cells = append(cells, hidden, Cell{})
		}
		depts.Rows = append(depts.Rows, cells)
	}
	ts = append(ts, depts)
	return ts
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// Tables implements Tabular.
func (r *CourseReport) Tables() []Table {
	t := Table{Name: "场次 Sessions " + r.Code, Header: []string{"场次 session", "状态 status", "开课 starts", "讲师 teacher", "应到 eligible", "已签到 checked in", "签到率 %", "低于50% low", "反馈回收率 %", "NPS", "讲师 teacher", "课程 course", "组织 organisation"}}
	for _, s := range r.Sessions {
		cells := []Cell{Text(s.Title), Text(s.Status), Text(s.StartsAt.Format(time.RFC3339)), Text(s.Teacher)}
		if s.Cancelled {
			t.Rows = append(t.Rows, append(cells, Text("已取消 cancelled"), Cell{}, Cell{}, Cell{}, Cell{}, Cell{}, Cell{}, Cell{}, Cell{}))
			continue
		}
		cells = append(cells, Int(s.Eligible), Int(s.CheckedIn), Num(s.CheckinRate.Value, 1), Cell{V: s.LowCheckin})
		if s.ResponseRate != nil {
			cells = append(cells, Num(s.ResponseRate.Rate, 1))
		} else {
			cells = append(cells, Cell{})
		}
		if s.NPS != nil {
			cells = append(cells, Num(s.NPS.Score, 1))
		} else {
			cells = append(cells, Cell{})
		}
		dims := map[string]Cell{}
		for _, d := range s.Dimensions {
			dims[d.Dimension] = Num(d.Rating.Mean, 2)
		}
		t.Rows = append(t.Rows, append(cells, dims["teacher"], dims["course"], dims["organisation"]))
	}
	t.Notes = []string{r.Definitions["checkin_rate"], r.Definitions["low_checkin"], r.Definitions["cancelled"]}
	pool := Table{Name: "课程汇总 Pooled", Header: []string{"指标 metric", "n", "值 value", "top-2-box %", "±MOE", "提示 caveat"}, Notes: []string{r.Definitions["pooled"]}}
	for _, d := range r.Dimensions {
		pool.Rows = append(pool.Rows, []Cell{Text("csat_" + d.Dimension), Int(d.Rating.N), Num(d.Rating.Mean, 2), Num(d.Rating.Top2Box, 1), Num(d.Rating.Top2BoxMOE, 1), Text(d.Rating.Caveat.Bilingual())})
	}
	if r.NPS != nil {
		pool.Rows = append(pool.Rows, []Cell{Text("nps"), Int(r.NPS.N), Num(r.NPS.Score, 1), Cell{}, Num(r.NPS.MOE, 1), Text(r.NPS.Caveat.Bilingual())})
	}
	return []Table{t, pool}
}

// Tables implements Tabular.
func (r *TeacherReport) Tables() []Table {
	t := Table{Name: fmt.Sprintf("讲师认证 Teachers %d", r.Year), Header: []string{"讲师 teacher", "授课次数 sessions", "保留认证 keeps", "原因 reasons"}, Notes: []string{r.Rule}}
	d := Table{Name: "授课明细 Sessions", Header: []string{"讲师 teacher", "场次 session", "课程 course", "开课 starts", "学员 learners", "讲师评分 rating", "评分人数 n"}}
	for _, tr := range r.Teachers {
		keeps := "保留 keeps"
		if !tr.Keeps {
			keeps = "取消 loses"
		}
		t.Rows = append(t.Rows, []Cell{Text(tr.Name), Int(len(tr.Sessions)), Text(keeps), Text(strings.Join(tr.Reasons, "；"))})
		for _, s := range tr.Sessions {
			d.Rows = append(d.Rows, []Cell{Text(tr.Name), Int(int(s.SessionID)), Text(s.Course), Text(s.StartsAt.Format(time.RFC3339)), Int(s.Learners), ratingCell(s.Rating), Int(s.RatingN)})
		}
	}
	return []Table{t, d}
}

// ratingCell shows a teacher rating with two decimals, or with as many more
// as it takes for the shown value to stay on the same side of the 4.5 rule
// as the exact mean (4.495 → 4.495, not 4.50).
func ratingCell(p *float64) Cell {
	if p == nil {
		return Cell{}
	}
	return Cell{V: *p, Digits: RatingDigits(*p, CertMinRating)}
}
