package surveys_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
)

func loc(zh, en string) surveys.Localized {
	return surveys.Localized{"zh-CN": zh, "en": en}
}

// validCustom returns a valid custom definition with one question of every type.
func validCustom() surveys.Definition {
	return surveys.Definition{
		Key: "custom_check", Version: 1, Kind: "custom",
		Title: loc("自定义", "Custom"),
		Questions: []surveys.Question{
			{Key: "r", Type: surveys.TypeRating, Required: true, Text: loc("评分", "Rate"), Dimension: "course"},
			{Key: "n", Type: surveys.TypeNPS, Text: loc("推荐", "Recommend")},
			{Key: "s", Type: surveys.TypeSingle, Text: loc("单选", "Pick one"), Options: []surveys.Option{
				{ID: "a", Label: loc("甲", "A")}, {ID: "b", Label: loc("乙", "B")},
			}},
			{Key: "m", Type: surveys.TypeMulti, Text: loc("多选", "Pick some"), Options: []surveys.Option{
				{ID: "a", Label: loc("甲", "A")}, {ID: "b", Label: loc("乙", "B")}, {ID: "c", Label: loc("丙", "C")},
			}},
			{Key: "f", Type: surveys.TypeFrequency, Text: loc("频率", "How often")},
			{Key: "c", Type: surveys.TypeChange, Text: loc("变化", "Change")},
			{Key: "t", Type: surveys.TypeText, Text: loc("建议", "Suggestions"), Help: loc("选填", "Optional")},
		},
	}
}

// validFollowup returns a valid manager_followup template.
func validFollowup() surveys.Definition {
	return surveys.Definition{
		Key: "mf", Version: 1, Kind: "manager_followup", Title: loc("跟进", "Follow-up"),
		Questions: []surveys.Question{
			{Key: "pb", Type: surveys.TypeFrequency, Phase: "before", Text: loc("之前：{behaviour}", "Before: {behaviour}")},
			{Key: "pn", Type: surveys.TypeFrequency, Phase: "now", Text: loc("现在：{behaviour}", "Now: {behaviour}")},
			{Key: "overall_change", Type: surveys.TypeChange, Text: loc("总体", "Overall")},
		},
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, validCustom().Validate())
	require.NoError(t, validFollowup().Validate())

	tests := []struct {
		name   string
		base   func() surveys.Definition
		mutate func(d *surveys.Definition)
		want   []string
	}{
		{
			name:   "duplicate keys",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Questions[1].Key = "r" },
			want:   []string{`question "r": duplicate key`},
		},
		{
			name:   "bad type",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Questions[0].Type = "stars" },
			want:   []string{`question "r": type "stars"`},
		},
		{
			name:   "single with one option",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Questions[2].Options = d.Questions[2].Options[:1] },
			want:   []string{`question "s": type single needs 2–20 options, has 1`},
		},
		{
			name: "multi with 21 options",
			base: validCustom,
			mutate: func(d *surveys.Definition) {
				var opts []surveys.Option
				for i := range 21 {
					opts = append(opts, surveys.Option{ID: strings.Repeat("x", i+1), Label: loc("选项", "Option")})
				}
				d.Questions[3].Options = opts
			},
			want: []string{`question "m": type multi needs 2–20 options, has 21`},
		},
		{
			name: "nps with options",
			base: validCustom,
			mutate: func(d *surveys.Definition) {
				d.Questions[1].Options = []surveys.Option{{ID: "a", Label: loc("甲", "A")}, {ID: "b", Label: loc("乙", "B")}}
			},
			want: []string{`question "n": options are not allowed for type nps`},
		},
		{
			name:   "missing zh-CN text",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Questions[4].Text = surveys.Localized{"en": "How often"} },
			want:   []string{`question "f": text has no zh-CN text`},
		},
		{
			name:   "blank zh-CN text",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Questions[4].Text["zh-CN"] = "  " },
			want:   []string{`question "f": text has no zh-CN text`},
		},
		{
			name:   "help without zh-CN",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Questions[6].Help = surveys.Localized{"en": "Optional"} },
			want:   []string{`question "t": help has no zh-CN text`},
		},
		{
			name:   "bad question key",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Questions[0].Key = "Q 1" },
			want:   []string{`question #1 (key "Q 1"): key must be`},
		},
		{
			name:   "too long question key",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Questions[0].Key = strings.Repeat("a", 65) },
			want:   []string{`question #1`},
		},
		{
			name: "duplicate and malformed option ids",
			base: validCustom,
			mutate: func(d *surveys.Definition) {
				d.Questions[3].Options[1].ID = "a"
				d.Questions[3].Options[2].ID = "c d"
			},
			want: []string{`question "m": duplicate option id "a"`, `question "m": option #3 id "c d"`},
		},
		{
			name:   "option without zh-CN label",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Questions[2].Options[0].Label = surveys.Localized{"en": "A"} },
			want:   []string{`question "s": option "a" has no zh-CN label`},
		},
		{
			name: "definition header",
			base: validCustom,
			mutate: func(d *surveys.Definition) {
				d.Key, d.Version, d.Kind, d.Title = "", 0, "quiz", nil
			},
			want: []string{"definition: key", "definition: version", `definition: kind "quiz"`, "definition: title has no zh-CN text"},
		},
		{
			name:   "no questions",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Questions = nil },
			want:   []string{"definition: has no questions"},
		},
		{
			name: "overlong text",
			base: validCustom,
			mutate: func(d *surveys.Definition) {
				d.Questions[0].Text["en"] = strings.Repeat("x", surveys.MaxQuestionTextRunes+1)
			},
			want: []string{`question "r": text (en) has 1001 characters`},
		},
		{
			name:   "bad dimension",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Questions[0].Dimension = "Teacher!" },
			want:   []string{`question "r": dimension "Teacher!"`},
		},
		{
			name:   "phase on a rating",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Questions[0].Phase, d.Questions[0].Behaviour = "before", 1 },
			want:   []string{`question "r": phase is only allowed on frequency questions`},
		},
		{
			name:   "unknown phase",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Questions[4].Phase, d.Questions[4].Behaviour = "after", 1 },
			want:   []string{`question "f": phase "after"`},
		},
		{
			name:   "behaviour without phase",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Questions[4].Behaviour = 1 },
			want:   []string{`question "f": behaviour 1 needs a phase`},
		},
		{
			name:   "behaviour out of range",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Questions[4].Behaviour, d.Questions[4].Phase = 5, "before" },
			want:   []string{`question "f": behaviour 5 must be 1–4`},
		},
		{
			name:   "placeholder outside manager_followup",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Questions[4].Phase = "before" },
			want:   []string{`question "f": behaviour placeholders`, "need both a before and a now"},
		},
		{
			name:   "nps kind with two nps questions",
			base:   validCustom,
			mutate: func(d *surveys.Definition) { d.Kind = "nps"; d.Questions[0].Type = surveys.TypeNPS },
			want:   []string{"exactly one nps question, has 2"},
		},
		{
			name:   "placeholder text without the placeholder",
			base:   validFollowup,
			mutate: func(d *surveys.Definition) { d.Questions[1].Text["en"] = "Now" },
			want:   []string{`question "pn": placeholder text (en) must contain {behaviour}`},
		},
		{
			name:   "follow-up without behaviours",
			base:   validFollowup,
			mutate: func(d *surveys.Definition) { d.Questions = d.Questions[2:] },
			want:   []string{"needs behaviour placeholders"},
		},
		{
			name:   "two before placeholders",
			base:   validFollowup,
			mutate: func(d *surveys.Definition) { d.Questions[1].Phase = "before" },
			want:   []string{"more than one before or now behaviour placeholder", "need both a before and a now"},
		},
		{
			name: "behaviour pairs with a gap",
			base: validCustom,
			mutate: func(d *surveys.Definition) {
				d.Questions = append(d.Questions,
					surveys.Question{Key: "b1_before", Type: surveys.TypeFrequency, Behaviour: 1, Phase: "before", Text: loc("前", "Before")},
					surveys.Question{Key: "b1_now", Type: surveys.TypeFrequency, Behaviour: 1, Phase: "now", Text: loc("后", "Now")},
					surveys.Question{Key: "b3_now", Type: surveys.TypeFrequency, Behaviour: 3, Phase: "now", Text: loc("后", "Now")},
				)
			},
			want: []string{"2 is missing"},
		},
		{
			name: "expanded follow-up with one behaviour",
			base: validFollowup,
			mutate: func(d *surveys.Definition) {
				d.Questions[0].Behaviour, d.Questions[1].Behaviour = 1, 1
			},
			want: []string{"needs 2–4 behaviours, has 1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := tc.base()
			tc.mutate(&d)
			err := d.Validate()
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}

	t.Run("every problem is reported", func(t *testing.T) {
		t.Parallel()
		d := validCustom()
		d.Version = 0
		d.Questions[0].Type = "stars"
		d.Questions[1].Options = []surveys.Option{{ID: "a", Label: loc("甲", "A")}, {ID: "b", Label: loc("乙", "B")}}
		err := d.Validate()
		var joined interface{ Unwrap() []error }
		require.ErrorAs(t, err, &joined)
		require.Len(t, joined.Unwrap(), 3)
	})
}

func TestQuestionLookup(t *testing.T) {
	t.Parallel()
	d := validCustom()
	q, ok := d.Question("m")
	require.True(t, ok)
	require.Equal(t, surveys.TypeMulti, q.Type)
	_, ok = d.Question("missing")
	require.False(t, ok)
}

func TestLocalizedIn(t *testing.T) {
	t.Parallel()
	both := loc("中文", "English")
	tests := []struct {
		name   string
		l      surveys.Localized
		locale string
		want   string
	}{
		{"exact en", both, "en", "English"},
		{"exact zh", both, "zh-CN", "中文"},
		{"region falls back to language", both, "en-US", "English"},
		{"case and underscore", both, "EN_us", "English"},
		{"zh language", both, "zh", "中文"},
		{"unknown falls back to zh-CN", both, "fr", "中文"},
		{"empty locale", both, "", "中文"},
		{"no zh-CN: any", surveys.Localized{"en": "English"}, "zh-CN", "English"},
		{"blank counts as missing", surveys.Localized{"zh-CN": "中文", "en": " "}, "en", "中文"},
		{"blank zh-CN", surveys.Localized{"zh-CN": "", "en": "English"}, "zh-CN", "English"},
		{"any is deterministic", surveys.Localized{"ja": "J", "de": "D"}, "fr", "D"},
		{"nil", nil, "en", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.l.In(text.Parse(tc.locale)))
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	d := validCustom()
	q := func(key string) surveys.Question {
		qq, ok := d.Question(key)
		require.True(t, ok, key)
		return qq
	}
	num := func(f float64) *float64 { return &f }
	type want struct {
		number  *float64
		text    string
		empty   bool // ErrEmpty
		invalid bool // *ValidationError
	}
	tests := []struct {
		name   string
		key    string
		values []string
		want   want
	}{
		// rating 1–5
		{"rating min", "r", []string{"1"}, want{number: num(1)}},
		{"rating max", "r", []string{"5"}, want{number: num(5)}},
		{"rating trimmed", "r", []string{" 3 "}, want{number: num(3)}},
		{"rating plus sign", "r", []string{"+3"}, want{number: num(3)}},
		{"rating with blank extra value", "r", []string{"3", " "}, want{number: num(3)}},
		{"rating zero", "r", []string{"0"}, want{invalid: true}},
		{"rating six", "r", []string{"6"}, want{invalid: true}},
		{"rating fraction", "r", []string{"4.5"}, want{invalid: true}},
		{"rating word", "r", []string{"abc"}, want{invalid: true}},
		{"rating leading zero", "r", []string{"03"}, want{invalid: true}},
		{"rating two values", "r", []string{"3", "4"}, want{invalid: true}},
		{"rating nil", "r", nil, want{empty: true}},
		{"rating blank", "r", []string{"", "  "}, want{empty: true}},
		// nps 0–10
		{"nps zero", "n", []string{"0"}, want{number: num(0)}},
		{"nps ten", "n", []string{"10"}, want{number: num(10)}},
		{"nps nine", "n", []string{"9"}, want{number: num(9)}},
		{"nps eleven", "n", []string{"11"}, want{invalid: true}},
		{"nps negative", "n", []string{"-1"}, want{invalid: true}},
		{"nps 10.0", "n", []string{"10.0"}, want{invalid: true}},
		{"nps exponent", "n", []string{"1e1"}, want{invalid: true}},
		{"nps leading zero", "n", []string{"09"}, want{invalid: true}},
		{"nps hex", "n", []string{"0x9"}, want{invalid: true}},
		{"nps full-width digit", "n", []string{"９"}, want{invalid: true}},
		{"nps huge", "n", []string{"99999999999999999999"}, want{invalid: true}},
		{"nps empty", "n", []string{""}, want{empty: true}},
		// frequency 1–5
		{"frequency never", "f", []string{"1"}, want{number: num(1)}},
		{"frequency always", "f", []string{"5"}, want{number: num(5)}},
		{"frequency zero", "f", []string{"0"}, want{invalid: true}},
		// change −3..+3
		{"change min", "c", []string{"-3"}, want{number: num(-3)}},
		{"change max signed", "c", []string{"+3"}, want{number: num(3)}},
		{"change zero", "c", []string{"0"}, want{number: num(0)}},
		{"change below", "c", []string{"-4"}, want{invalid: true}},
		{"change above", "c", []string{"4"}, want{invalid: true}},
		// single
		{"single", "s", []string{"b"}, want{text: "b"}},
		{"single unknown", "s", []string{"z"}, want{invalid: true}},
		{"single two", "s", []string{"a", "b"}, want{invalid: true}},
		{"single empty", "s", nil, want{empty: true}},
		// multi
		{"multi in option order", "m", []string{"c", "a"}, want{text: `["a","c"]`}},
		{"multi one", "m", []string{"b"}, want{text: `["b"]`}},
		{"multi duplicate", "m", []string{"a", "a"}, want{invalid: true}},
		{"multi unknown", "m", []string{"a", "x"}, want{invalid: true}},
		{"multi empty", "m", []string{"", " "}, want{empty: true}},
		// text
		{"text trimmed, CRLF to LF", "t", []string{"  第一行\r\nsecond "}, want{text: "第一行\nsecond"}},
		{"text at the limit", "t", []string{strings.Repeat("好", surveys.MaxTextRunes)}, want{text: strings.Repeat("好", surveys.MaxTextRunes)}},
		{"text too long", "t", []string{strings.Repeat("好", surveys.MaxTextRunes+1)}, want{invalid: true}},
		{"text invalid UTF-8", "t", []string{"a\xffb"}, want{invalid: true}},
		{"text NUL", "t", []string{"a\x00b"}, want{invalid: true}},
		{"text two values", "t", []string{"a", "b"}, want{invalid: true}},
		{"text blank", "t", []string{" \n "}, want{empty: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, err := q(tc.key).Parse(tc.values)
			switch {
			case tc.want.empty:
				require.ErrorIs(t, err, surveys.ErrEmpty)
			case tc.want.invalid:
				var ve *surveys.ValidationError
				require.ErrorAs(t, err, &ve)
				require.Equal(t, tc.key, ve.Key)
				require.NotEmpty(t, ve.In(text.ZH))
				require.NotEmpty(t, ve.In(text.EN))
				require.NotEqual(t, ve.Message.Key, ve.In(text.EN), "the key has a text")
				require.Contains(t, ve.Error(), ve.In(text.EN))
				require.NotErrorIs(t, err, surveys.ErrEmpty)
			default:
				require.NoError(t, err)
				require.Equal(t, tc.want.number, a.Number)
				require.Equal(t, tc.want.text, a.Text)
				if tc.key == "m" {
					var ids []string
					require.NoError(t, json.Unmarshal([]byte(a.Text), &ids))
				}
			}
		})
	}

	t.Run("unknown type", func(t *testing.T) {
		t.Parallel()
		_, err := surveys.Question{Key: "x", Type: "stars"}.Parse([]string{"3"})
		var ve *surveys.ValidationError
		require.ErrorAs(t, err, &ve)
	})
	t.Run("message locale", func(t *testing.T) {
		t.Parallel()
		_, err := q("n").Parse([]string{"11"})
		var ve *surveys.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "answer is out of range: choose a whole number from 0 to 10", ve.In(text.Parse("en-US")))
		require.Equal(t, "答案超出范围：请选择 0 到 10 之间的整数", ve.In(text.ZH))
	})
}

func TestRangeAndScale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ    string
		lo, hi int
		ok     bool
		first  string // en label of the lowest value
	}{
		{surveys.TypeRating, 1, 5, true, "Very dissatisfied"},
		{surveys.TypeNPS, 0, 10, true, "0"},
		{surveys.TypeFrequency, 1, 5, true, "Never"},
		{surveys.TypeChange, -3, 3, true, "-3 Much worse"},
		{surveys.TypeSingle, 0, 0, false, ""},
		{surveys.TypeMulti, 0, 0, false, ""},
		{surveys.TypeText, 0, 0, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.typ, func(t *testing.T) {
			t.Parallel()
			q := surveys.Question{Key: "q", Type: tc.typ}
			lo, hi, ok := q.Range()
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.lo, lo)
			require.Equal(t, tc.hi, hi)
			s := q.Scale()
			if !ok {
				require.Nil(t, s)
				return
			}
			require.Len(t, s, hi-lo+1)
			require.Equal(t, lo, s[0].Value)
			require.Equal(t, hi, s[len(s)-1].Value)
			require.Equal(t, tc.first, s[0].Label.In("en"))
			for _, p := range s {
				require.NotEmpty(t, p.Label.In("zh-CN"))
				// every scale value is accepted by Parse
				_, err := q.Parse([]string{strconv.Itoa(p.Value)})
				require.NoError(t, err)
			}
		})
	}
	// the frequency scale is exactly Never … Always
	var got []string
	for _, p := range (surveys.Question{Type: surveys.TypeFrequency}).Scale() {
		got = append(got, p.Label.In("en"))
	}
	require.Equal(t, []string{"Never", "Rarely", "Sometimes", "Often", "Always"}, got)
}

func itoa(v int) string { return strconv.Itoa(v) }

func TestExpandBehaviours(t *testing.T) {
	t.Parallel()
	tpl, err := surveys.BuiltinByKey("manager_followup")
	require.NoError(t, err)
	require.True(t, tpl.IsTemplate())

	behaviours := []string{"在一对一中给出具体反馈", "每周与团队同步目标", "  Delegates decisions  ", "Asks for feedback"}
	for _, n := range []int{2, 3, 4} {
		t.Run(itoa(n)+" behaviours", func(t *testing.T) {
			t.Parallel()
			got, err := tpl.ExpandBehaviours(behaviours[:n])
			require.NoError(t, err)
			require.NoError(t, got.Validate())
			require.False(t, got.IsTemplate())
			require.Equal(t, tpl.Key, got.Key)
			require.Equal(t, tpl.Version, got.Version)
			require.Equal(t, "manager_followup", got.Kind)

			var keys []string
			for _, q := range got.Questions {
				keys = append(keys, q.Key)
			}
			var want []string
			for i := 1; i <= n; i++ {
				want = append(want, "b"+itoa(i)+"_before", "b"+itoa(i)+"_now")
			}
			want = append(want, "overall_change", "barriers", "enablers")
			require.Equal(t, want, keys)

			for i := 1; i <= n; i++ {
				b := strings.TrimSpace(behaviours[i-1])
				for _, phase := range []string{"before", "now"} {
					q, ok := got.Question("b" + itoa(i) + "_" + phase)
					require.True(t, ok)
					require.Equal(t, surveys.TypeFrequency, q.Type)
					require.Equal(t, i, q.Behaviour)
					require.Equal(t, phase, q.Phase)
					require.True(t, q.Required)
					for _, l := range []string{"zh-CN", "en"} {
						require.Contains(t, q.Text[l], b)
						require.NotContains(t, q.Text[l], surveys.BehaviourPlaceholder)
					}
				}
			}
			oc, ok := got.Question("overall_change")
			require.True(t, ok)
			require.Equal(t, surveys.TypeChange, oc.Type)
			for _, k := range []string{"barriers", "enablers"} {
				q, ok := got.Question(k)
				require.True(t, ok)
				require.Equal(t, surveys.TypeText, q.Type)
				require.False(t, q.Required)
			}

			// the expanded definition survives the JSON round trip used to freeze it on a survey
			raw, err := json.Marshal(got)
			require.NoError(t, err)
			back, err := surveys.ParseDefinition(raw)
			require.NoError(t, err)
			require.Equal(t, got, back)
		})
	}

	for _, tc := range []struct {
		name       string
		behaviours []string
		want       string
	}{
		{"none", nil, "got 0"},
		{"one", behaviours[:1], "got 1"},
		{"five", append(append([]string{}, behaviours...), "Coaches peers"), "got 5"},
		{"blank", []string{"A", "  "}, "behaviour 2 is empty"},
		{"duplicate", []string{"A", " A "}, "behaviour 2 repeats"},
		{"too long", []string{"A", strings.Repeat("长", surveys.MaxBehaviourRunes+1)}, "behaviour 2 has more than"},
	} {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tpl.ExpandBehaviours(tc.behaviours)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}

	t.Run("template is not modified", func(t *testing.T) {
		t.Parallel()
		before, err := surveys.BuiltinByKey("manager_followup")
		require.NoError(t, err)
		_, err = before.ExpandBehaviours(behaviours[:2])
		require.NoError(t, err)
		again, err := surveys.BuiltinByKey("manager_followup")
		require.NoError(t, err)
		require.Equal(t, again, before)
		require.True(t, before.IsTemplate())
	})

	t.Run("expanded twice", func(t *testing.T) {
		t.Parallel()
		got, err := tpl.ExpandBehaviours(behaviours[:2])
		require.NoError(t, err)
		_, err = got.ExpandBehaviours(behaviours[:2])
		require.ErrorContains(t, err, "no behaviour placeholders")
	})

	t.Run("wrong kind", func(t *testing.T) {
		t.Parallel()
		fb, err := surveys.BuiltinByKey("post_course_feedback")
		require.NoError(t, err)
		_, err = fb.ExpandBehaviours(behaviours[:2])
		require.ErrorContains(t, err, "not manager_followup")
	})

	t.Run("placeholders in the middle keep the surrounding order", func(t *testing.T) {
		t.Parallel()
		d := validFollowup()
		d.Questions = append([]surveys.Question{{Key: "intro_q", Type: surveys.TypeText, Text: loc("说明", "Note")}}, d.Questions...)
		got, err := d.ExpandBehaviours([]string{"A", "B"})
		require.NoError(t, err)
		var keys []string
		for _, q := range got.Questions {
			keys = append(keys, q.Key)
		}
		require.Equal(t, []string{"intro_q", "b1_before", "b1_now", "b2_before", "b2_now", "overall_change"}, keys)
	})

	t.Run("key collision is reported", func(t *testing.T) {
		t.Parallel()
		d := validFollowup()
		d.Questions[2].Key = "b2_now"
		_, err := d.ExpandBehaviours([]string{"A", "B"})
		require.ErrorContains(t, err, `question "b2_now": duplicate key`)
	})
}

func TestClone(t *testing.T) {
	t.Parallel()
	d := validCustom()
	c := d.Clone()
	c.Title["zh-CN"] = "改"
	c.Questions[2].Options[0].Label["zh-CN"] = "改"
	c.Questions[0].Text["en"] = "changed"
	require.Equal(t, "自定义", d.Title["zh-CN"])
	require.Equal(t, "甲", d.Questions[2].Options[0].Label["zh-CN"])
	require.Equal(t, "Rate", d.Questions[0].Text["en"])
}

func TestValidationErrorIsError(t *testing.T) {
	t.Parallel()
	var err error = &surveys.ValidationError{Key: "nps", Message: text.M("surveys:answer.unknown_option", "x")}
	require.Equal(t, `question "nps": unknown option "x"`, err.Error())
	require.False(t, errors.Is(err, surveys.ErrEmpty))
}

func TestTouchpointKind(t *testing.T) {
	t.Parallel()
	nps, err := surveys.BuiltinByKey("nps")
	require.NoError(t, err)
	feedback, err := surveys.BuiltinByKey("post_course_feedback")
	require.NoError(t, err)
	rating := surveys.Definition{Kind: "custom", Questions: []surveys.Question{{Key: "r", Type: surveys.TypeRating}}}
	twoRatings := surveys.Definition{Kind: "custom", Questions: []surveys.Question{{Key: "a", Type: surveys.TypeRating}, {Key: "b", Type: surveys.TypeRating}}}
	for _, tc := range []struct {
		name string
		def  surveys.Definition
		want string
	}{
		{"standalone NPS with its why", nps, surveys.KindNPS},
		{"single rating", rating, surveys.KindNPS},
		{"feedback form", feedback, surveys.KindFeedback},
		{"two ratings", twoRatings, surveys.KindFeedback},
	} {
		require.Equal(t, tc.want, surveys.TouchpointKind(tc.def), tc.name)
	}
}
