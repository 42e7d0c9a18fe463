package reports

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/text"
)

func TestFigureRounding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		num, n int
		want   float64
	}{
		// Half up at the second decimal: 1/16 = 6.25 → 6.3, 3/16 = 18.75 → 18.8.
		{1, 3, 33.3}, {2, 3, 66.7}, {1, 8, 12.5}, {1, 16, 6.3}, {3, 16, 18.8}, {0, 5, 0}, {5, 5, 100},
		{4996, 10000, 50.0}, {499, 1000, 49.9},
	} {
		got := NewFigure(tc.num, tc.n, text.M("reports:definition.checkin_rate"))
		require.NotNil(t, got.Value)
		require.True(t, math.Abs(*got.Value-tc.want) < 1e-9, "%d/%d = %v, want %v", tc.num, tc.n, *got.Value, tc.want)
		require.Equal(t, tc.n, got.N)
		require.Equal(t, tc.num, got.Numerator)
		require.Equal(t, text.M("reports:definition.checkin_rate"), got.Definition)
	}
	require.Nil(t, NewFigure(0, 0, text.Message{}).Value)
}

func TestLowCheckinComparesExactly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		checked, eligible int
		low               bool
	}{
		{1, 2, false},     // 50% exactly
		{499, 1000, true}, // 49.9%
		// 49.96% shows as 50.0 after rounding but is below 50%: still flagged.
		{4996, 10000, true},
		{5000, 10000, false},
		{0, 0, false}, // no eligible people: no rate, no flag
		{0, 1, true},
	} {
		f, low := checkinFigure(tc.checked, tc.eligible)
		require.Equal(t, tc.low, low, "%d/%d", tc.checked, tc.eligible)
		require.Equal(t, tc.eligible == 0, f.Value == nil)
	}
}

func TestCSVSafe(t *testing.T) {
	t.Parallel()
	require.Equal(t, "'=HYPERLINK(\"x\")", CSVText("=HYPERLINK(\"x\")"))
	require.Equal(t, "'+1", CSVText("+1"))
	require.Equal(t, "'@SUM(A1)", CSVText("@SUM(A1)"))
	require.Equal(t, "张三", CSVText("张三"))
	require.Equal(t, "", CSVText(""))
}

func TestDisplayWidth(t *testing.T) {
	t.Parallel()
	require.Equal(t, 4, displayWidth("张三"))
	require.Equal(t, 4, displayWidth("ab张"))
	require.Equal(t, 2, displayWidth("（"))
}

// TestFigureJSONKeepsItsDefinitionInBothLanguages: a figure carries its
// definition as a message and gives it in the API as "zh-CN | en".
func TestFigureJSONKeepsItsDefinitionInBothLanguages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		f    Figure
		want string
	}{
		{NewFigure(1, 4, text.M("reports:definition.checkin_rate")),
			`{"value":25,"n":4,"numerator":1,"definition":` + strconv.Quote(text.M("reports:definition.checkin_rate").Bilingual()) + `}`},
		{NewFigure(0, 0, text.Message{}), `{"value":null,"n":0,"numerator":0,"definition":""}`},
	} {
		b, err := json.Marshal(tc.f)
		require.NoError(t, err)
		require.JSONEq(t, tc.want, string(b))
	}
}
