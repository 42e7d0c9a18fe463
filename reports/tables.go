package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/learnloop/learnloop/surveys"
)

// Table is a titled grid of cells, exported as a CSV section, an XLSX sheet
// or a text table.
type Table struct {
	Name   string
	Header []string
	Rows   [][]string
	// Notes are printed under the table (definitions, suppression).
	Notes []string
}

// Tabular is a report that can be exported as tables.
type Tabular interface {
	Tables() []Table
}

// WriteTablesCSV writes each table as a CSV section (UTF-8 with BOM so Excel
// reads Chinese), separated by an empty row and headed by its name.
func WriteTablesCSV(w io.Writer, ts []Table) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	for i, t := range ts {
		if i > 0 {
			_ = cw.Write([]string{})
		}
		_ = cw.Write([]string{"# " + t.Name})
		_ = cw.Write(t.Header)
		for _, r := range t.Rows {
			safe := make([]string, len(r))
			for k, c := range r {
				safe[k] = csvSafe(c)
			}
			_ = cw.Write(safe)
		}
		for _, n := range t.Notes {
			_ = cw.Write([]string{"# " + n})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTablesXLSX writes each table to its own sheet; numeric cells are
// stored as numbers.
func WriteTablesXLSX(w io.Writer, ts []Table) error {
	f := excelize.NewFile()
	defer f.Close()
	for i, t := range ts {
		name := sheetName(t.Name, i)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		row := 1
		put := func(cells []string) error {
			vals := make([]any, len(cells))
			for k, c := range cells {
				// Numbers become numeric cells; ids with leading zeros stay text.
				if v, err := strconv.ParseFloat(c, 64); err == nil && !(len(c) > 1 && c[0] == '0' && c[1] != '.') {
					vals[k] = v
				} else {
					vals[k] = c
				}
			}
			cell, _ := excelize.CoordinatesToCellName(1, row)
			row++
			return f.SetSheetRow(name, cell, &vals)
		}
		if err := put(t.Header); err != nil {
			return err
		}
		for _, r := range t.Rows {
			if err := put(r); err != nil {
				return err
			}
		}
		for _, n := range t.Notes {
			row++
			if err := put([]string{n}); err != nil {
				return err
			}
		}
		_ = f.SetColWidth(name, "A", "Z", 16)
	}
	return f.Write(w)
}

func sheetName(s string, i int) string {
	r := strings.NewReplacer("/", " ", "\\", " ", "?", "", "*", "", "[", "(", "]", ")", ":", " ")
	s = r.Replace(s)
	if rs := []rune(s); len(rs) > 28 {
		s = string(rs[:28])
	}
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
				rows[k][j] = truncate(oneLine(c), 60)
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

func f1(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(surveys.Round1(*p), 'f', 1, 64)
}

func f2(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(float64(int64(*p*100+0.5))/100, 'f', 2, 64)
}

func itoa(n int) string { return strconv.Itoa(n) }

// Tables implements Tabular.
func (r *SurveyReport) Tables() []Table {
	summary := Table{Name: "问卷概览 Survey", Header: []string{"指标 metric", "数值 value", "n", "定义 definition"}}
	rr := r.ResponseRate
	summary.Rows = append(summary.Rows,
		[]string{"survey", r.Survey.Title, "", fmt.Sprintf("#%d %s，%s", r.Survey.ID, r.Survey.Kind, r.Survey.CourseTitle)},
		[]string{"anonymous", strconv.FormatBool(r.Survey.Anonymous), "", "匿名问卷的报告不显示回答者"},
		[]string{"eligible", itoa(rr.Eligible), "", "送达的在职员工数（跟进问卷按经理×下属计）"},
		[]string{"complete", itoa(rr.Complete), itoa(rr.Eligible), ""},
		[]string{"partial", itoa(rr.Partial), itoa(rr.Eligible), "未完成（缺必答题）的回答，单独计数"},
		[]string{"response_rate_%", f1(rr.Rate), itoa(rr.Eligible), rr.Definition},
	)
	if r.NPS != nil {
		summary.Rows = append(summary.Rows,
			[]string{"nps", f1(r.NPS.Score), itoa(r.NPS.N), r.NPS.Definition},
			[]string{"nps_moe", f1(r.NPS.MOE), itoa(r.NPS.N), "95% 误差范围（分）"},
			[]string{"promoters/passives/detractors", fmt.Sprintf("%d/%d/%d", r.NPS.Promoters, r.NPS.Passives, r.NPS.Detractors), itoa(r.NPS.N), ""},
		)
	}
	if r.Overall != nil {
		summary.Rows = append(summary.Rows, []string{"overall_change_mean", f2(r.Overall.Mean), itoa(r.Overall.N), r.Overall.Definition})
	}
	ts := []Table{summary}
	if len(r.Dimensions) > 0 {
		t := Table{Name: "满意度 CSAT", Header: []string{"维度 dimension", "题目 question", "n", "均值 mean", "top-2-box %", "±MOE", "1", "2", "3", "4", "5"}}
		for _, d := range r.Dimensions {
			row := []string{d.Dimension, d.Question, itoa(d.Rating.N), f2(d.Rating.Mean), f1(d.Rating.Top2Box), f1(d.Rating.Top2BoxMOE)}
			for _, c := range d.Rating.Distribution {
				row = append(row, itoa(c))
			}
			t.Rows = append(t.Rows, row)
		}
		if len(r.Dimensions) > 0 {
			t.Notes = []string{r.Dimensions[0].Rating.Definition}
		}
		ts = append(ts, t)
	}
	if len(r.Behaviours) > 0 {
		t := Table{Name: "行为变化 Behaviour change", Header: []string{"#", "行为 behaviour", "n", "之前均值 before", "现在均值 now", "变化 delta", "改善比例 % improved", "变差比例 % worse"}}
		for _, b := range r.Behaviours {
			t.Rows = append(t.Rows, []string{itoa(b.Index), b.Behaviour, itoa(b.Change.N), f2(b.Change.MeanBefore), f2(b.Change.MeanNow), f2(b.Change.MeanDelta), f1(b.Change.ShareImproved), f1(b.Change.ShareWorse)})
		}
		t.Notes = []string{r.Behaviours[0].Change.Definition}
		ts = append(ts, t)
	}
	comments := Table{Name: "意见 Comments", Header: []string{"response", "题目 question", "内容 text", "姓名 name", "关于 subject"}}
	for _, c := range r.Comments {
		comments.Rows = append(comments.Rows, []string{itoa(int(c.ResponseID)), c.Question, c.Text, c.Name, c.Subject})
	}
	ts = append(ts, comments)
	depts := Table{Name: "部门 Departments", Header: []string{"部门 department", "回答 responses", "NPS", "满意度均值 CSAT mean"}, Notes: []string{r.Definitions["departments"]}}
	for _, d := range r.Departments {
		if d.Suppressed {
			depts.Rows = append(depts.Rows, []string{d.Department, "已隐藏 suppressed (< " + itoa(r.Survey.MinGroupSize) + ")", "", ""})
			continue
		}
		n := ""
		if d.Responses != nil {
			n = itoa(*d.Responses)
		}
		depts.Rows = append(depts.Rows, []string{d.Department, n, f1(d.NPS), f2(d.CSATMean)})
	}
	ts = append(ts, depts)
	return ts
}

// Tables implements Tabular.
func (r *CourseReport) Tables() []Table {
	t := Table{Name: "场次 Sessions " + r.Code, Header: []string{"场次 session", "开课 starts", "讲师 teacher", "应到 eligible", "已签到 checked in", "签到率 %", "低于50% low", "反馈回收率 %", "NPS", "讲师 teacher", "课程 course", "组织 organisation"}}
	for _, s := range r.Sessions {
		row := []string{s.Title, s.StartsAt.Format(time.RFC3339), s.Teacher, itoa(s.Eligible), itoa(s.CheckedIn), f1(s.CheckinRate.Value), strconv.FormatBool(s.LowCheckin)}
		if s.ResponseRate != nil {
			row = append(row, f1(s.ResponseRate.Rate))
		} else {
			row = append(row, "")
		}
		if s.NPS != nil {
			row = append(row, f1(s.NPS.Score))
		} else {
			row = append(row, "")
		}
		dims := map[string]string{}
		for _, d := range s.Dimensions {
			dims[d.Dimension] = f2(d.Rating.Mean)
		}
		row = append(row, dims["teacher"], dims["course"], dims["organisation"])
		t.Rows = append(t.Rows, row)
	}
	t.Notes = []string{r.Definitions["checkin_rate"], r.Definitions["low_checkin"]}
	pool := Table{Name: "课程汇总 Pooled", Header: []string{"指标 metric", "n", "值 value", "top-2-box %", "±MOE"}, Notes: []string{r.Definitions["pooled"]}}
	for _, d := range r.Dimensions {
		pool.Rows = append(pool.Rows, []string{"csat_" + d.Dimension, itoa(d.Rating.N), f2(d.Rating.Mean), f1(d.Rating.Top2Box), f1(d.Rating.Top2BoxMOE)})
	}
	if r.NPS != nil {
		pool.Rows = append(pool.Rows, []string{"nps", itoa(r.NPS.N), f1(r.NPS.Score), "", f1(r.NPS.MOE)})
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
		t.Rows = append(t.Rows, []string{tr.Name, itoa(len(tr.Sessions)), keeps, strings.Join(tr.Reasons, "；")})
		for _, s := range tr.Sessions {
			d.Rows = append(d.Rows, []string{tr.Name, itoa(int(s.SessionID)), s.Course, s.StartsAt.Format(time.RFC3339), itoa(s.Learners), f2(s.Rating), itoa(s.RatingN)})
		}
	}
	return []Table{t, d}
}
