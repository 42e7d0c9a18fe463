package surveys_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
)

const eps = 1e-9

// requireFloat checks that got is set and within eps of want.
func requireFloat(t *testing.T, want float64, got *float64, what string) {
	t.Helper()
	require.NotNil(t, got, what)
	require.InDelta(t, want, *got, eps, what)
}

// requireDefinition checks that a result names its definition by a
// catalogue key.
func requireDefinition(t *testing.T, def text.Message) {
	t.Helper()
	require.NotEmpty(t, def)
	require.True(t, text.Has(def.Key), def.Key)
}

// rejected is an input a metric refuses, with what its error names.
type rejected[T any] struct {
	name string
	in   T
	want []string
}

// testRejects runs one subtest per case: metric refuses the input with an
// error naming every want.
func testRejects[T any](t *testing.T, metric func(T) error, cases []rejected[T]) {
	t.Helper()
	for _, tc := range cases {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			t.Parallel()
			err := metric(tc.in)
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestNPS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		scores         []float64
		pro, pass, det int
		score, moe     float64
		wantNil        bool
		wantMOE1       float64 // Round1(MOE), when non-zero
		checkRound1    bool
	}{
		{name: "no answers", scores: nil, wantNil: true},
		{name: "empty slice", scores: []float64{}, wantNil: true},
		{
			// 4 passives: NPS = 100 × (0 − 0)/4 = 0; pPro = pDet = 0 → se = sqrt((0+0−0)/4) = 0 → MOE 0.
			name: "all passives", scores: []float64{7, 8, 7, 8},
			pass: 4, score: 0, moe: 0,
		},
		{
			// one promoter: NPS = 100 × 1/1 = 100; pPro = 1 → 1 + 0 − 1² = 0 → MOE 0.
			name: "single promoter", scores: []float64{10},
			pro: 1, score: 100, moe: 0,
		},
		{
			// one detractor at the bottom edge: NPS = 100 × (0 − 1)/1 = −100; pDet = 1 → 0 + 1 − (−1)² = 0 → MOE 0.
			name: "single detractor", scores: []float64{0},
			det: 1, score: -100, moe: 0,
		},
		{
			// 3 promoters: NPS = 100 × 3/3 = 100; MOE 0.
			name: "all promoters", scores: []float64{9, 10, 9},
			pro: 3, score: 100, moe: 0,
		},
		{
			// 6 promoters, 2 passives, 2 detractors of 10: NPS = 100 × (6 − 2)/10 = 40;
			// pPro .6, pDet .2 → se = sqrt((.6 + .2 − .4²)/10) = sqrt(.064) = 0.2529822
			// → MOE = 1.96 × 0.2529822 × 100 = 49.58451.
			name:   "known case 6/2/2",
			scores: []float64{9, 10, 9, 10, 9, 10, 7, 8, 3, 6},
			pro:    6, pass: 2, det: 2, score: 40, moe: 1.96 * math.Sqrt(0.064) * 100,
			wantMOE1: 49.6, checkRound1: true,
		},
		{
			// the boundaries 6|7 and 8|9: {0, 6} detractors, {7, 8} passives, {9, 10} promoters.
			// NPS = 100 × (2 − 2)/6 = 0; pPro = pDet = 1/3 → se = sqrt((2/3 − 0)/6) = sqrt(1/9) = 1/3
			// → MOE = 1.96 × 100/3 = 65.3333.
			name: "category edges", scores: []float64{0, 6, 7, 8, 9, 10},
			pro: 2, pass: 2, det: 2, score: 0, moe: 196.0 / 3,
		},
		{
			// 1 promoter, 3 detractors of 4: NPS = 100 × (1 − 3)/4 = −50;
			// pPro .25, pDet .75 → .25 + .75 − (−.5)² = .75 → se = sqrt(.75/4) = 0.4330127
			// → MOE = 1.96 × 0.4330127 × 100 = 84.87049.
			name: "negative", scores: []float64{9, 0, 3, 6},
			pro: 1, det: 3, score: -50, moe: 1.96 * math.Sqrt(0.1875) * 100,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := surveys.NPS(tc.scores)
			require.NoError(t, err)
			requireDefinition(t, r.Definition)
			require.Equal(t, len(tc.scores), r.N)
			if tc.wantNil {
				require.Nil(t, r.Score)
				require.Nil(t, r.MOE)
				require.Zero(t, r.Promoters+r.Passives+r.Detractors)
				return
			}
			require.Equal(t, tc.pro, r.Promoters, "promoters")
			require.Equal(t, tc.pass, r.Passives, "passives")
			require.Equal(t, tc.det, r.Detractors, "detractors")
			requireFloat(t, tc.score, r.Score, "score")
			requireFloat(t, tc.moe, r.MOE, "moe")
			if tc.checkRound1 {
				require.Equal(t, tc.wantMOE1, surveys.Round1(*r.MOE))
			}
		})
	}
}

func TestNPSRejects(t *testing.T) {
	t.Parallel()
	testRejects(t, func(v []float64) error { _, err := surveys.NPS(v); return err }, []rejected[[]float64]{
		{"non-integer", []float64{9, 4.5}, []string{"index 1"}},
		{"above 10", []float64{11}, []string{"index 0"}},
		{"below 0", []float64{10, 10, -1}, []string{"index 2"}},
		{"NaN", []float64{math.NaN()}, []string{"index 0"}},
		{"infinity", []float64{math.Inf(1)}, []string{"index 0"}},
		{"just below 10", []float64{9.999}, []string{"index 0"}},
	})
}

func TestRatings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		values              []float64
		mean, top2, top2MOE float64
		dist                [5]int
	}{
		{
			// sum 5+4+3+4+2 = 18 → mean 18/5 = 3.6; 4s and 5s: 3 → top-2-box 100 × 3/5 = 60;
			// p = .6 → sqrt(.6 × .4/5) = sqrt(.048) = 0.2190890 → MOE 1.96 × 0.2190890 × 100 = 42.94145.
			name: "mixed", values: []float64{5, 4, 3, 4, 2},
			mean: 3.6, top2: 60, top2MOE: 1.96 * math.Sqrt(0.048) * 100, dist: [5]int{0, 1, 1, 2, 1},
		},
		{
			// one respondent rating 1: mean 1, top-2-box 0, p = 0 → MOE 0.
			name: "single respondent", values: []float64{1},
			mean: 1, top2: 0, top2MOE: 0, dist: [5]int{1, 0, 0, 0, 0},
		},
		{
			// two 5s: mean 5, top-2-box 100, p = 1 → MOE 0.
			name: "all top", values: []float64{5, 5},
			mean: 5, top2: 100, top2MOE: 0, dist: [5]int{0, 0, 0, 0, 2},
		},
		{
			// 3 is not in the top two boxes: 4 of 4 answers are 3 → top-2-box 0, mean 3.
			name: "all neutral", values: []float64{3, 3, 3, 3},
			mean: 3, top2: 0, top2MOE: 0, dist: [5]int{0, 0, 4, 0, 0},
		},
		{
			// 1,2,4,5: sum 12 → mean 3; top 2 of 4 → 50; p = .5 → sqrt(.25/4) = .25 → MOE 1.96 × .25 × 100 = 49.
			name: "half", values: []float64{1, 2, 4, 5},
			mean: 3, top2: 50, top2MOE: 49, dist: [5]int{1, 1, 0, 1, 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := surveys.Ratings(tc.values)
			require.NoError(t, err)
			require.Equal(t, len(tc.values), r.N)
			requireFloat(t, tc.mean, r.Mean, "mean")
			requireFloat(t, tc.top2, r.Top2Box, "top-2-box")
			requireFloat(t, tc.top2MOE, r.Top2BoxMOE, "top-2-box MOE")
			require.Equal(t, tc.dist, r.Distribution)
			requireDefinition(t, r.Definition)
		})
	}

	testRejects(t, func(v []float64) error { _, err := surveys.Ratings(v); return err }, []rejected[[]float64]{
		{"zero", []float64{0}, []string{"index 0"}},
		{"six", []float64{5, 6}, []string{"index 1"}},
		{"non-integer", []float64{4, 4, 3.5}, []string{"index 2"}},
		{"NaN", []float64{math.NaN()}, []string{"index 0"}},
	})
}

func TestProportionMOE(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		successes  int
		n          int
		want       float64
		wantNilMOE bool
	}{
		{name: "n = 0", successes: 0, n: 0, wantNilMOE: true},
		{name: "negative successes", successes: -1, n: 2, wantNilMOE: true},
		{name: "successes above n", successes: 3, n: 2, wantNilMOE: true},
		// p = .5, n = 100 → sqrt(.25/100) = .05 → 1.96 × .05 × 100 = 9.8.
		{name: "half of 100", successes: 50, n: 100, want: 9.8},
		// p = .5, n = 2 → sqrt(.25/2) = 0.3535534 → 69.29646.
		{name: "one of two", successes: 1, n: 2, want: 1.96 * math.Sqrt(0.125) * 100},
		{name: "none", successes: 0, n: 10, want: 0},
		{name: "all", successes: 10, n: 10, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := surveys.ProportionMOE(tc.successes, tc.n)
			if tc.wantNilMOE {
				require.Nil(t, got)
				return
			}
			requireFloat(t, tc.want, got, "moe")
		})
	}
}

func TestResponseRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                        string
		complete, partial, eligible int
		rate, partialRate           float64
		wantNil, wantErr            bool
	}{
		// 100 × 30/50 = 60; partial 100 × 5/50 = 10, not added to the rate.
		{name: "typical", complete: 30, partial: 5, eligible: 50, rate: 60, partialRate: 10},
		{name: "everyone", complete: 5, partial: 0, eligible: 5, rate: 100, partialRate: 0},
		// 100 × 1/3 = 33.333…; 100 × 2/3 = 66.666…
		{name: "thirds", complete: 1, partial: 2, eligible: 3, rate: 100.0 / 3, partialRate: 200.0 / 3},
		{name: "nobody eligible", wantNil: true},
		{name: "nobody answered", complete: 0, partial: 0, eligible: 7, rate: 0, partialRate: 0},
		{name: "negative complete", complete: -1, eligible: 5, wantErr: true},
		{name: "negative partial", partial: -1, eligible: 5, wantErr: true},
		{name: "negative eligible", eligible: -1, wantErr: true},
		{name: "more responses than eligible", complete: 4, partial: 2, eligible: 5, wantErr: true},
		{name: "responses but nobody eligible", complete: 1, eligible: 0, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := surveys.ResponseRate(tc.complete, tc.partial, tc.eligible)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.eligible, r.Eligible)
			require.Equal(t, tc.complete, r.Complete)
			require.Equal(t, tc.partial, r.Partial)
			requireDefinition(t, r.Definition)
			if tc.wantNil {
				require.Nil(t, r.Rate)
				require.Nil(t, r.PartialRate)
				return
			}
			requireFloat(t, tc.rate, r.Rate, "rate")
			requireFloat(t, tc.partialRate, r.PartialRate, "partial rate")
		})
	}
}

func TestBehaviourChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                                string
		pairs                               []surveys.Pair
		before, now, delta, improved, worse float64
	}{
		{
			// before 2+3+4+1 = 10 → 2.5; now 4+3+2+5 = 14 → 3.5; Δ = (14 − 10)/4 = 1;
			// improved (2→4, 1→5) 2 of 4 → 50; worse (4→2) 1 of 4 → 25; 3→3 is neither.
			name:   "mixed",
			pairs:  []surveys.Pair{{Before: 2, Now: 4}, {Before: 3, Now: 3}, {Before: 4, Now: 2}, {Before: 1, Now: 5}},
			before: 2.5, now: 3.5, delta: 1, improved: 50, worse: 25,
		},
		{
			// one attendee 3 → 4: means 3 and 4, Δ 1, improved 100, worse 0.
			name:   "single respondent",
			pairs:  []surveys.Pair{{Before: 3, Now: 4}},
			before: 3, now: 4, delta: 1, improved: 100, worse: 0,
		},
		{
			// no change: 5→5, 1→1: means 3 and 3, Δ 0, nobody improved or got worse.
			name:   "no change",
			pairs:  []surveys.Pair{{Before: 5, Now: 5}, {Before: 1, Now: 1}},
			before: 3, now: 3, delta: 0, improved: 0, worse: 0,
		},
		{
			// 5→1, 4→3, 2→2: before 11/3 = 3.6667, now 6/3 = 2, Δ = (6 − 11)/3 = −1.6667; improved 0; worse 2/3 → 66.667.
			name:   "worse",
			pairs:  []surveys.Pair{{Before: 5, Now: 1}, {Before: 4, Now: 3}, {Before: 2, Now: 2}},
			before: 11.0 / 3, now: 2, delta: -5.0 / 3, improved: 0, worse: 200.0 / 3,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := surveys.BehaviourChange(tc.pairs)
			require.NoError(t, err)
			require.Equal(t, len(tc.pairs), r.N)
			requireFloat(t, tc.before, r.MeanBefore, "mean before")
			requireFloat(t, tc.now, r.MeanNow, "mean now")
			requireFloat(t, tc.delta, r.MeanDelta, "mean delta")
			requireFloat(t, tc.improved, r.ShareImproved, "share improved")
			requireFloat(t, tc.worse, r.ShareWorse, "share worse")
			requireDefinition(t, r.Definition)
		})
	}

	testRejects(t, func(v []surveys.Pair) error { _, err := surveys.BehaviourChange(v); return err }, []rejected[[]surveys.Pair]{
		{"before zero", []surveys.Pair{{Before: 0, Now: 3}}, []string{"before", "index 0"}},
		{"now six", []surveys.Pair{{Before: 3, Now: 3}, {Before: 3, Now: 6}}, []string{"now", "index 1"}},
		{"non-integer now", []surveys.Pair{{Before: 3, Now: 2.5}}, []string{"now", "index 0"}},
		{"NaN before", []surveys.Pair{{Before: math.NaN(), Now: 2}}, []string{"before", "index 0"}},
	})
}

func TestChangeScale(t *testing.T) {
	t.Parallel()
	t.Run("mixed", func(t *testing.T) {
		t.Parallel()
		// −3 + 0 + 2 + 2 + 3 = 4 → mean 4/5 = 0.8.
		r, err := surveys.ChangeScale([]float64{-3, 0, 2, 2, 3})
		require.NoError(t, err)
		require.Equal(t, 5, r.N)
		requireFloat(t, 0.8, r.Mean, "mean")
		require.Equal(t, map[int]int{-3: 1, -2: 0, -1: 0, 0: 1, 1: 0, 2: 2, 3: 1}, r.Distribution)
		requireDefinition(t, r.Definition)
	})
	t.Run("single respondent", func(t *testing.T) {
		t.Parallel()
		r, err := surveys.ChangeScale([]float64{-2})
		require.NoError(t, err)
		require.Equal(t, 1, r.N)
		requireFloat(t, -2, r.Mean, "mean")
		require.Equal(t, 1, r.Distribution[-2])
	})
	testRejects(t, func(v []float64) error { _, err := surveys.ChangeScale(v); return err }, []rejected[[]float64]{
		{"four", []float64{4}, []string{"index 0"}},
		{"minus four", []float64{0, -4}, []string{"index 1"}},
		{"non-integer", []float64{1.5}, []string{"index 0"}},
	})
}

// TestNoAnswers: a metric of no answers has n = 0, none of its figures,
// its definition and an empty distribution.
func TestNoAnswers(t *testing.T) {
	t.Parallel()
	// empty is a metric's result for no answers.
	type empty struct {
		n       int
		def     text.Message
		figures []*float64
		dist    any
	}
	tests := []struct {
		name     string
		metric   func() (empty, error)
		wantDist any
	}{
		{"ratings", func() (empty, error) {
			r, err := surveys.Ratings(nil)
			return empty{r.N, r.Definition, []*float64{r.Mean, r.Top2Box, r.Top2BoxMOE}, r.Distribution}, err
		}, [5]int{}},
		{"behaviour change", func() (empty, error) {
			r, err := surveys.BehaviourChange(nil)
			return empty{r.N, r.Definition, []*float64{r.MeanBefore, r.MeanNow, r.MeanDelta, r.ShareImproved, r.ShareWorse}, nil}, err
		}, nil},
		{"change scale", func() (empty, error) {
			r, err := surveys.ChangeScale(nil)
			return empty{r.N, r.Definition, []*float64{r.Mean}, r.Distribution}, err
		}, map[int]int{-3: 0, -2: 0, -1: 0, 0: 0, 1: 0, 2: 0, 3: 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := tc.metric()
			require.NoError(t, err)
			require.Zero(t, r.n)
			for i, f := range r.figures {
				require.Nil(t, f, "figure %d", i)
			}
			require.Equal(t, tc.wantDist, r.dist)
			requireDefinition(t, r.def)
		})
	}
}

func TestRound1(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want float64 }{
		{49.58451, 49.6},
		{40, 40},
		{0, 0},
		{2.25, 2.3},   // 22.5 rounds half away from zero
		{-0.05, -0.1}, // −0.5 rounds away from zero
		{-33.333, -33.3},
		{66.666, 66.7},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, surveys.Round1(tc.in), "Round1(%v)", tc.in)
	}
}

// TestResultJSONGivesDefinitions: a result carries its definition's key;
// its JSON gives the definition in both languages, as the API documents.
func TestResultJSONGivesDefinitions(t *testing.T) {
	t.Parallel()
	nps, err := surveys.NPS([]float64{10, 9, 0})
	require.NoError(t, err)
	rating, err := surveys.Ratings([]float64{5, 4})
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		v      any
		zh, en string
	}{
		{"nps", nps, "净推荐值（NPS）", "Net Promoter Score (NPS)"},
		{"rating", rating, "满意度（5 分制", "Satisfaction (5-point scale"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tc.v)
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.Unmarshal(b, &m))
			require.Contains(t, m["definition"], tc.zh)
			require.Contains(t, m["definition_en"], tc.en)
			require.Contains(t, m, "n")
			require.Equal(t, "n < 10：误差范围基于正态近似，样本过小时不可靠，仅供参考 | "+
				"n < 10: the margin of error uses a normal approximation that is unreliable for so few answers; treat it as indicative only", m["caveat"])
		})
	}
}
