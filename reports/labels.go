package reports

import (
	"strings"
	"time"

	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
)

// label is a column or figure name in loc (its key when it has none).
func label(loc text.Locale, key string) string { return text.Enum(loc, "reports:label", key) }

// bilingual is "中文 English", used for spreadsheet headers.
func bilingual(key string) string {
	zh, en := label(text.ZH, key), label(text.EN, key)
	if zh == en {
		return zh
	}
	return zh + " " + en
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
