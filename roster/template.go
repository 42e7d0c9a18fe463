package roster

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// templateColumns are the roster template's columns in order, each with its
// Chinese header (one of the accepted aliases) and an example value.
var templateColumns = []struct{ col, zh, example string }{
	{"external_id", "工号", "E001"},
	{"name", "姓名", "张伟"},
	{"department", "部门", "销售一部"},
	{"title", "职位", "客户经理"},
	{"city", "城市", "上海"},
	{"manager_id", "经理工号", "M001"},
	{"email", "邮箱", "zhangwei@example.com"},
	{"mobile", "手机", "13800000000"},
	{"platform", "平台", "wecom"},
	{"wecom_id", "企业微信ID", "zhangwei"},
	{"feishu_id", "飞书ID", ""},
	{"dingtalk_id", "钉钉ID", ""},
	{"locale", "语言", "zh-CN"},
	{"tags", "标签", "新员工"},
}

// TemplateRows are the rows of a roster template a coordinator fills in:
// the header (Chinese headers for zh-CN, the column names otherwise, both
// accepted on upload) and one example row that imports as it is.
func TemplateRows(lang string) [][]string {
	head := make([]string, len(templateColumns))
	ex := make([]string, len(templateColumns))
	for i, c := range templateColumns {
		head[i], ex[i] = c.zh, c.example
		if lang == "en" {
			head[i] = c.col
		}
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
