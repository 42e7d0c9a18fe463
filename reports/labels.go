package reports

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/learnloop/learnloop/surveys"
)

// isEnglish reports whether lang asks for English text; anything else is zh-CN.
func isEnglish(lang string) bool {
	l := strings.ToLower(strings.TrimSpace(lang))
	return l == "en" || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "en_")
}

var labels = map[string][2]string{ // key → {zh, en}
	"roster":                     {"名单人数", "Roster"},
	"excused":                    {"请假", "Excused"},
	"eligible":                   {"应到人数", "Eligible"},
	"checked_in":                 {"已签到", "Checked in"},
	"on_time":                    {"准时", "On time"},
	"late":                       {"迟到", "Late"},
	"makeup":                     {"补签", "Make-up"},
	"checkin_rate":               {"签到率", "Check-in rate"},
	"low_checkin":                {"签到率偏低", "Low check-in"},
	"deliveries":                 {"推送", "Deliveries"},
	"sent":                       {"成功", "Sent"},
	"failed":                     {"失败", "Failed"},
	"dropped":                    {"丢弃", "Dropped"},
	"pending":                    {"待发", "Pending"},
	"clicks":                     {"点击", "Clicks"},
	"clickers":                   {"点击人数", "Clickers"},
	"click_through":              {"点击率", "CTR"},
	"conversions":                {"转化", "Conv."},
	"conversion_rate":            {"转化率", "Conv. rate"},
	"top_error":                  {"最常见错误", "Top error"},
	"top_error_code":             {"错误码", "Error code"},
	"top_error_message":          {"错误信息", "Error message"},
	"top_error_count":            {"次数", "Count"},
	"label":                      {"名称", "Label"},
	"session_id":                 {"场次编号", "Session"},
	"course_code":                {"课程代码", "Course code"},
	"course_title":               {"课程名称", "Course"},
	"session_title":              {"场次名称", "Session title"},
	"starts_at":                  {"开课时间", "Starts at"},
	"ends_at":                    {"下课时间", "Ends at"},
	"time_zone":                  {"时区", "Time zone"},
	"location":                   {"地点", "Place"},
	"teacher":                    {"讲师", "Teacher"},
	"window_opens":               {"签到开放", "Check-in opens"},
	"window_on_time_until":       {"准时截止", "On time until"},
	"window_late_until":          {"迟到截止", "Late until"},
	"window_makeup_until":        {"补签截止", "Make-up until"},
	"attribution_window_seconds": {"归因窗口（秒）", "Attribution window (s)"},
	"generated_at":               {"生成时间", "Generated at"},
	"id":                         {"ID", "ID"},
	"touchpoint_id":              {"推送ID", "Touchpoint"},
	"kind":                       {"类型", "Kind"},
	"audience":                   {"受众", "Audience"},
	"status":                     {"状态", "Status"},
	"run_at":                     {"计划时间", "Run at"},
	"fired_at":                   {"触发时间", "Fired at"},
	"platform":                   {"平台", "Platform"},
	"external_id":                {"工号", "Employee ID"},
	"name":                       {"姓名", "Name"},
	"department":                 {"部门", "Department"},
	"enrollment":                 {"报名状态", "Enrollment"},
	"checkin_kind":               {"签到类型", "Check-in"},
	"checked_in_at":              {"签到时间", "Checked in at"},
	"checkin_source":             {"签到方式", "Source"},
	"missing":                    {"未签到", "Missing"},
	"metric":                     {"指标", "Metric"},
	"value":                      {"数值", "Value"},
	"n":                          {"n", "n"},
	"definition":                 {"定义", "Definition"},
}

func label(key, lang string) string {
	l, ok := labels[key]
	if !ok {
		return key
	}
	if isEnglish(lang) {
		return l[1]
	}
	return l[0]
}

// bilingual is "中文 English", used for spreadsheet headers.
func bilingual(key string) string {
	l, ok := labels[key]
	if !ok {
		return key
	}
	if l[0] == l[1] {
		return l[0]
	}
	return l[0] + " " + l[1]
}

// location is the session's time zone, or UTC when it is unknown.
func (r *SessionReport) location() *time.Location {
	if r.Session.TimeZone != "" {
		if loc, err := time.LoadLocation(r.Session.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

func formatValue(f Figure) string {
	if f.Value == nil {
		return ""
	}
	return surveys.FormatFixed(*f.Value, 1)
}

// displayWidth approximates the terminal width of s: East Asian wide and
// full-width characters take two columns.
func displayWidth(s string) int {
	w := 0
	for _, r := range s {
		switch {
		case r < 0x20 || (r >= 0x7f && r < 0xa0):
		case r >= 0x1100 && r <= 0x115f,
			r >= 0x2e80 && r <= 0x303e,
			r >= 0x3041 && r <= 0x33ff,
			r >= 0x3400 && r <= 0x4dbf,
			r >= 0x4e00 && r <= 0x9fff,
			r >= 0xa000 && r <= 0xa4cf,
			r >= 0xac00 && r <= 0xd7a3,
			r >= 0xf900 && r <= 0xfaff,
			r >= 0xfe30 && r <= 0xfe4f,
			r >= 0xff00 && r <= 0xff60,
			r >= 0xffe0 && r <= 0xffe6,
			r >= 0x1f300 && r <= 0x1f64f,
			r >= 0x20000 && r <= 0x3fffd:
			w += 2
		default:
			w++
		}
	}
	return w
}

// writeGrid renders a table with columns padded to their display width.
func writeGrid(b *strings.Builder, header []string, rows [][]string) {
	widths := make([]int, len(header))
	measure := func(cells []string) {
		for i, c := range cells {
			if i < len(widths) {
				if w := displayWidth(c); w > widths[i] {
					widths[i] = w
				}
			}
		}
	}
	measure(header)
	for _, r := range rows {
		measure(r)
	}
	line := func(cells []string) {
		var sb strings.Builder
		for i, c := range cells {
			if i > 0 {
				sb.WriteString("  ")
			}
			sb.WriteString(c)
			if i < len(cells)-1 && i < len(widths) {
				sb.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)))
			}
		}
		b.WriteString(strings.TrimRight(sb.String(), " "))
		b.WriteByte('\n')
	}
	line(header)
	rule := make([]string, len(header))
	for i := range rule {
		rule[i] = strings.Repeat("-", widths[i])
	}
	line(rule)
	for _, r := range rows {
		line(r)
	}
}

// oneLine collapses line breaks so a value cannot break a text table.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// truncate shortens s to at most n runes.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
