package console

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/text"
)

// Survey charts: inline SVG like chart.go, every text escaped.

// distBar is one labelled horizontal bar split into counted segments.
type distBar struct {
	Label  string
	Counts []int
}

// segmentChart draws one horizontal 100% bar per row, split into segments
// (classes[i] colours segment i, names[i] is its legend), each segment
// labelled with its count when it is wide enough.
func segmentChart(title string, names, classes []string, bars []distBar) template.HTML {
	if len(bars) == 0 {
		return ""
	}
	const width, labelW, barH, gap = 640.0, 150.0, 24.0, 10.0
	plotW := width - labelW - 10
	legendY := float64(len(bars))*(barH+gap) + 6
	h := legendY + 24
	var b strings.Builder
	et := template.HTMLEscapeString(title)
	fmt.Fprintf(&b, `<svg class="chart" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`, width, h, width, h, et, et)
	for i, bar := range bars {
		y := float64(i) * (barH + gap)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" class="c-axis" text-anchor="end">%s</text>`, labelW-6, y+barH/2+4, template.HTMLEscapeString(bar.Label))
		total := 0
		for _, n := range bar.Counts {
			total += n
		}
		if total == 0 {
			fmt.Fprintf(&b, `<rect x="%.0f" y="%.1f" width="%.0f" height="%.0f" class="c-empty"/><text x="%.0f" y="%.1f" class="c-axis">n=0</text>`, labelW, y, plotW, barH, labelW+6, y+barH/2+4)
			continue
		}
		x := labelW
		for j, n := range bar.Counts {
			if n <= 0 {
				continue
			}
			w := plotW * float64(n) / float64(total)
			tip := template.HTMLEscapeString(fmt.Sprintf("%s · %s: %d/%d", bar.Label, names[j], n, total))
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" class="%s"><title>%s</title></rect>`, x, y, w, barH, classes[j], tip)
			if w >= 22 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="c-value c-in" text-anchor="middle">%d</text>`, x+w/2, y+barH/2+4, n)
			}
			x += w
		}
	}
	lx := labelW
	for j, name := range names {
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="12" height="12" class="%s"/><text x="%.0f" y="%.0f" class="c-text">%s</text>`, lx, legendY, classes[j], lx+16, legendY+11, template.HTMLEscapeString(name))
		lx += float64(max(16+len([]rune(name))*13+14, 60))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec: every text above is escaped
}

// csatChart draws the answer distribution (1–5) of each rating dimension.
func csatChart(lang text.Locale, bars []distBar) template.HTML {
	names := make([]string, 5)
	classes := make([]string, 5)
	for i := range names {
		names[i] = text.T(lang, "chart.score", i+1)
		classes[i] = fmt.Sprintf("c-s%d", i+1)
	}
	return segmentChart(text.T(lang, "chart.csat_title"), names, classes, bars)
}

// npsChart draws detractors, passives and promoters as one bar.
func npsChart(lang text.Locale, detractors, passives, promoters int) template.HTML {
	return segmentChart(text.T(lang, "chart.nps_title"),
		[]string{text.T(lang, "nps.detractors"), text.T(lang, "nps.passives"), text.T(lang, "nps.promoters")},
		[]string{"c-det", "c-pas", "c-pro"},
		[]distBar{{Label: "NPS", Counts: []int{detractors, passives, promoters}}})
}

// beforeNow is one behaviour's mean before and now (1–5).
type beforeNow struct {
	Label       string
	Before, Now *float64
	N           int
}

// behaviourChart draws, per behaviour, the mean frequency before the
// training and now as two horizontal bars on the 1–5 scale.
func behaviourChart(lang text.Locale, rows []beforeNow) template.HTML {
	if len(rows) == 0 {
		return ""
	}
	const width, labelW, barH, gap = 640.0, 190.0, 14.0, 14.0
	plotW := width - labelW - 50
	rowH := 2*barH + 2 + gap
	legendY := float64(len(rows))*rowH + 18
	h := legendY + 22
	x := func(v float64) float64 { return labelW + plotW*(v-1)/4 } // 1 → left edge, 5 → right edge
	var b strings.Builder
	et := template.HTMLEscapeString(text.T(lang, "chart.behaviour_title"))
	fmt.Fprintf(&b, `<svg class="chart" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`, width, h, width, h, et, et)
	for v := 1; v <= 5; v++ {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="0" y2="%.1f" class="c-grid"/><text x="%.1f" y="%.1f" class="c-axis" text-anchor="middle">%d</text>`,
			x(float64(v)), x(float64(v)), legendY-16, x(float64(v)), legendY-4, v)
	}
	short := func(s string) string { return cut.Ellipsis(s, 14) }
	for i, r := range rows {
		y := float64(i) * rowH
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" class="c-axis" text-anchor="end"><title>%s</title>%s</text>`, labelW-6, y+barH+4,
			template.HTMLEscapeString(r.Label), template.HTMLEscapeString(short(r.Label)))
		for j, v := range []*float64{r.Before, r.Now} {
			by := y + float64(j)*(barH+2)
			cls := []string{"c-before", "c-now"}[j]
			if v == nil {
				fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" class="c-axis">—</text>`, labelW+4, by+barH-2)
				continue
			}
			name := []string{text.T(lang, "behaviour.before"), text.T(lang, "behaviour.now")}[j]
			tip := template.HTMLEscapeString(fmt.Sprintf("%s · %s: %.2f (n=%d)", r.Label, name, *v, r.N))
			fmt.Fprintf(&b, `<rect x="%.0f" y="%.1f" width="%.1f" height="%.0f" class="%s"><title>%s</title></rect><text x="%.1f" y="%.1f" class="c-value">%.2f</text>`,
				labelW, by, max(x(*v)-labelW, 2), barH, cls, tip, max(x(*v), labelW+2)+4, by+barH-2, *v)
		}
	}
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="12" height="12" class="c-before"/><text x="%.0f" y="%.0f" class="c-text">%s</text>`, labelW, legendY, labelW+16, legendY+11, template.HTMLEscapeString(text.T(lang, "behaviour.before")))
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="12" height="12" class="c-now"/><text x="%.0f" y="%.0f" class="c-text">%s</text>`, labelW+130, legendY, labelW+146, legendY+11, template.HTMLEscapeString(text.T(lang, "behaviour.now")))
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec: every text above is escaped
}
