package console

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/learnloop/learnloop/text"
)

// Charts are inline SVG built here (no script, no external library). Every
// text that goes into them is escaped with template.HTMLEscapeString.

// stackChart draws one horizontal bar split into on time, late, make-up,
// missing and excused, with a legend.
func stackChart(lang text.Locale, k counts) string {
	type seg struct {
		key, class string
		n          int
	}
	segs := []seg{
		{"checkin.on_time", "c-ontime", k.OnTime},
		{"checkin.late", "c-late", k.Late},
		{"checkin.makeup", "c-makeup", k.Makeup},
		{"board.missing", "c-missing", k.Missing()},
		{"board.excused", "c-excused", k.Excused},
	}
	total := k.Roster
	const width, barH = 600.0, 28.0
	var b strings.Builder
	title := template.HTMLEscapeString(text.T(lang, "chart.session_title"))
	fmt.Fprintf(&b, `<svg class="chart" width="%d" height="92" viewBox="0 0 %d 92" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`, int(width), int(width), title, title)
	x := 0.0
	if total == 0 {
		fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" class="c-empty"/>`, int(width), int(barH))
	}
	for _, s := range segs {
		if s.n <= 0 || total == 0 {
			continue
		}
		w := width * float64(s.n) / float64(total)
		label := template.HTMLEscapeString(fmt.Sprintf("%s %d", text.T(lang, s.key), s.n))
		fmt.Fprintf(&b, `<rect x="%.1f" y="0" width="%.1f" height="%d" class="%s"><title>%s</title></rect>`, x, w, int(barH), s.class, label)
		x += w
	}
	// Legend: two rows.
	for i, s := range segs {
		lx := float64(i%3) * 200
		ly := 44 + float64(i/3)*24
		label := template.HTMLEscapeString(fmt.Sprintf("%s %d", text.T(lang, s.key), max(s.n, 0)))
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="14" height="14" class="%s"/><text x="%.0f" y="%.0f" class="c-text">%s</text>`, lx, ly, s.class, lx+20, ly+12, label)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// rateBar is one bar of a rate chart.
type rateBar struct {
	Label      string
	Rate       rateFigure
	Suppressed bool
}

// rateChart draws check-in rates as vertical bars (0–100%) with a dashed
// line at 50%; bars below it are red. A few bars share the chart's minimum
// width between them, each centred in its slot, so that one session is
// not one bar in a corner.
func rateChart(lang text.Locale, bars []rateBar) string {
	const h, top, bottom, left, minWidth = 220.0, 10.0, 40.0, 40.0, 360.0
	n := len(bars)
	if n == 0 {
		return ""
	}
	slot := max(64.0, (minWidth-left-10)/float64(n))
	width := left + slot*float64(n) + 10
	plot := h - top - bottom
	y := func(pct float64) float64 { return top + plot*(1-pct/100) }
	var b strings.Builder
	title := template.HTMLEscapeString(text.T(lang, "chart.course_title"))
	fmt.Fprintf(&b, `<svg class="chart" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`, width, h, width, h, title, title)
	for _, g := range []float64{0, 50, 100} {
		cls := "c-grid"
		if g == 50 {
			cls = "c-threshold"
		}
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" class="%s"/><text x="%.0f" y="%.1f" class="c-axis" text-anchor="end">%.0f%%</text>`,
			left, width-10, y(g), y(g), cls, left-4, y(g)+4, g)
	}
	for i, bar := range bars {
		x := left + slot*float64(i) + (slot-40)/2 // the bar's left edge; bars are 40 wide
		label := template.HTMLEscapeString(bar.Label)
		switch {
		case bar.Suppressed:
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="c-axis" text-anchor="middle">%s</text>`, x+20, y(0)-6, template.HTMLEscapeString(text.T(lang, "chart.hidden")))
		case bar.Rate.Value == nil:
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="c-axis" text-anchor="middle">—</text>`, x+20, y(0)-6)
		default:
			v := *bar.Rate.Value
			cls := "c-ok"
			if bar.Rate.Low {
				cls = "c-low"
			}
			tip := template.HTMLEscapeString(fmt.Sprintf("%s: %.1f%% (%d/%d)", bar.Label, v, bar.Rate.Numerator, bar.Rate.N))
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="40" height="%.1f" class="%s"><title>%s</title></rect><text x="%.1f" y="%.1f" class="c-value" text-anchor="middle">%.1f%%</text>`,
				x, y(v), y(0)-y(v), cls, tip, x+20, y(v)-3, v)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="c-axis" text-anchor="middle">%s</text>`, x+20, h-bottom+16, label)
	}
	b.WriteString(`</svg>`)
	return b.String()
}
