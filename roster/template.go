package roster

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"github.com/learnloop/learnloop/text"
)

// templateColumns are the roster template's columns in order, each with an
// example value; a column's Chinese header (one of the accepted aliases)
// is its roster:column text.
var templateColumns = []struct{ col, example string }{
	{"external_id", "E001"},
	{"name", "张伟"},
	{"department", "销售一部"},
	{"title", "客户经理"},
	{"city", "上海"},
	{"manager_id", "M001"},
	{"email", "zhangwei@example.com"},
	{"mobile", "13800000000"},
	{"platform", "wecom"},
	{"wecom_id", "zhangwei"},
	{"feishu_id", ""},
	{"dingtalk_id", ""},
	{"locale", "zh-CN"},
	{"tags", "新员工"},
}

// TemplateRows are the rows of a roster template a coordinator fills in:
// the header (Chinese headers for zh-CN, the column names otherwise, both
// accepted on upload) and one example row that imports as it is.
func TemplateRows(lang string) [][]string {
	head := make([]string, len(templateColumns))
	ex := make([]string, len(templateColumns))
	for i, c := range templateColumns {
		head[i], ex[i] = text.T(text.Parse(lang), "roster:column."+c.col), c.example
	}
	return [][]string{head, ex}
}

// WriteTemplateCSV writes the template as UTF-8 CSV with a BOM, so that
// Excel opens the Chinese headers correctly.
func WriteTemplateCSV(w io.Writer, lang string) error {
	if _, err := io.WriteString(w, "\xEF\xBB\xBF"); err != nil {
		return fmt.Errorf("write roster template: %w", err)
	}
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(TemplateRows(lang)); err != nil {
		return fmt.Errorf("write roster template: %w", err)
	}
	return nil
}

// WriteTemplateXLSX writes the template as a one-sheet workbook whose cells
// are all text (工号 and 手机 keep their leading zeros).
func WriteTemplateXLSX(w io.Writer, lang string) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text
	if err != nil {
		return fmt.Errorf("write roster template: %w", err)
	}
	for r, row := range TemplateRows(lang) {
		for c, v := range row {
			cell, err := excelize.CoordinatesToCellName(c+1, r+1)
			if err != nil {
				return fmt.Errorf("write roster template: %w", err)
			}
			if err := f.SetCellStr(sheet, cell, v); err != nil {
				return fmt.Errorf("write roster template: %w", err)
			}
		}
	}
	last, _ := excelize.CoordinatesToCellName(len(templateColumns), 1000)
	if err := f.SetCellStyle(sheet, "A1", last, text); err != nil {
		return fmt.Errorf("write roster template: %w", err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("write roster template: %w", err)
	}
	return nil
}
