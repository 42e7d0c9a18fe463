package console

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/reports"
)

// TestRateChartCentresFewBars: one or two sessions' bars sit in the middle
// of their share of the plot, not in its left corner; many bars keep their
// 64-unit slots.
func TestRateChartCentresFewBars(t *testing.T) {
	t.Parallel()
	v := 80.0
	bar := rateBar{Label: "03-02", Rate: rateFigure{reports.CheckinRate{Figure: reports.Figure{Value: &v, Numerator: 8, N: 10}}}}
	svgWidth := regexp.MustCompile(`<svg class="chart" width="([0-9.]+)"`)
	rect := regexp.MustCompile(`<rect x="([0-9.]+)" y="[0-9.]+" width="40"`)
	for _, tc := range []struct {
		n         int
		width     float64
		centresAt []float64 // the bars' centres as a share of the plot (40 to width-10)
	}{
		{1, 360, []float64{0.5}},
		{2, 360, []float64{0.25, 0.75}},
		{10, 40 + 640 + 10, []float64{0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95}},
	} {
		bars := make([]rateBar, tc.n)
		for i := range bars {
			bars[i] = bar
		}
		svg := rateChart("zh-CN", bars)
		w, err := strconv.ParseFloat(svgWidth.FindStringSubmatch(svg)[1], 64)
		require.NoError(t, err)
		require.InDelta(t, tc.width, w, 0.5, "n=%d", tc.n)
		xs := rect.FindAllStringSubmatch(svg, -1)
		require.Len(t, xs, tc.n)
		for i, m := range xs {
			x, err := strconv.ParseFloat(m[1], 64)
			require.NoError(t, err)
			share := (x + 20 - 40) / (w - 50)
			require.InDelta(t, tc.centresAt[i], share, 0.01, "n=%d bar %d at x=%.1f", tc.n, i, x)
		}
	}
}
