package surveys_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/surveys"
)

// requireBilingual checks that l has non-blank zh-CN and en texts.
func requireBilingual(t *testing.T, l surveys.Localized, what string) {
	t.Helper()
	require.NotEmpty(t, strings.TrimSpace(l["zh-CN"]), "%s: zh-CN", what)
	require.NotEmpty(t, strings.TrimSpace(l["en"]), "%s: en", what)
}

func TestBuiltin(t *testing.T) {
	t.Parallel()
	defs, err := surveys.Builtin()
	require.NoError(t, err)
	var keys []string
	for _, d := range defs {
		keys = append(keys, d.Key)
		require.NoError(t, d.Validate(), d.Key)
		require.Equal(t, 1, d.Version, d.Key)
		requireBilingual(t, d.Title, d.Key+" title")
		if len(d.Intro) > 0 {
			requireBilingual(t, d.Intro, d.Key+" intro")
		}
		for _, q := range d.Questions {
			requireBilingual(t, q.Text, d.Key+"."+q.Key+" text")
			if len(q.Help) > 0 {
				requireBilingual(t, q.Help, d.Key+"."+q.Key+" help")
			}
			for _, o := range q.Options {
				requireBilingual(t, o.Label, d.Key+"."+q.Key+"."+o.ID)
			}
		}
	}
	require.Subset(t, keys, []string{"manager_followup", "nps", "post_course_feedback"})
	require.IsIncreasing(t, keys, "ordered by key")
}

func TestBuiltinContents(t *testing.T) {
	t.Parallel()
	type item struct {
		key, typ, dimension string
		required            bool
	}
	tests := []struct {
		key   string
		kind  string
		items []item
	}{
		{
			key: "post_course_feedback", kind: "feedback",
			items: []item{
				{"teacher_satisfaction", surveys.TypeRating, "teacher", true},
				{"course_satisfaction", surveys.TypeRating, "course", true},
				{"organisation_satisfaction", surveys.TypeRating, "organisation", true},
				{"suggestions", surveys.TypeText, "", false},
				{"nps", surveys.TypeNPS, "", true},
				{"nps_why", surveys.TypeText, "", false},
			},
		},
		{
			key: "nps", kind: "nps",
			items: []item{
				{"nps", surveys.TypeNPS, "", true},
				{"why", surveys.TypeText, "", false},
			},
		},
		{
			key: "manager_followup", kind: "manager_followup",
			items: []item{
				{"behaviour_before", surveys.TypeFrequency, "", true},
				{"behaviour_now", surveys.TypeFrequency, "", true},
				{"overall_change", surveys.TypeChange, "", true},
				{"barriers", surveys.TypeText, "", false},
				{"enablers", surveys.TypeText, "", false},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			t.Parallel()
			d, err := surveys.BuiltinByKey(tc.key)
			require.NoError(t, err)
			require.Equal(t, tc.kind, d.Kind)
			require.Len(t, d.Questions, len(tc.items))
			for i, it := range tc.items {
				q := d.Questions[i]
				require.Equal(t, it.key, q.Key)
				require.Equal(t, it.typ, q.Type, it.key)
				require.Equal(t, it.dimension, q.Dimension, it.key)
				require.Equal(t, it.required, q.Required, it.key)
			}
		})
	}

	t.Run("manager_followup placeholders", func(t *testing.T) {
		t.Parallel()
		d, err := surveys.BuiltinByKey("manager_followup")
		require.NoError(t, err)
		require.True(t, d.IsTemplate())
		for _, k := range []string{"behaviour_before", "behaviour_now"} {
			q, ok := d.Question(k)
			require.True(t, ok)
			require.Zero(t, q.Behaviour)
			require.Equal(t, strings.TrimPrefix(k, "behaviour_"), q.Phase)
			require.Contains(t, q.Text["zh-CN"], surveys.BehaviourPlaceholder)
			require.Contains(t, q.Text["en"], surveys.BehaviourPlaceholder)
		}
	})
}

func TestBuiltinByKey(t *testing.T) {
	t.Parallel()
	_, err := surveys.BuiltinByKey("no_such_template")
	require.ErrorIs(t, err, surveys.ErrUnknownTemplate)

	// callers get copies: changing one does not change the next
	d, err := surveys.BuiltinByKey("nps")
	require.NoError(t, err)
	d.Title["zh-CN"] = "改"
	d.Questions[0].Text["zh-CN"] = "改"
	d.Questions = d.Questions[:1]
	again, err := surveys.BuiltinByKey("nps")
	require.NoError(t, err)
	require.NotEqual(t, "改", again.Title["zh-CN"])
	require.NotEqual(t, "改", again.Questions[0].Text["zh-CN"])
	require.Len(t, again.Questions, 2)

	all, err := surveys.Builtin()
	require.NoError(t, err)
	all[0].Title["zh-CN"] = "改"
	all2, err := surveys.Builtin()
	require.NoError(t, err)
	require.NotEqual(t, "改", all2[0].Title["zh-CN"])
}

func TestParseDefinition(t *testing.T) {
	t.Parallel()
	const yamlDef = `
key: onboarding_pulse
version: 2
kind: custom
title: {zh-CN: 入职脉搏, en: Onboarding pulse}
questions:
  - key: mood
    type: single
    required: true
    text: {zh-CN: 这周感觉如何？, en: "How was your week?"}
    options:
      - {id: good, label: {zh-CN: 好, en: Good}}
      - {id: bad, label: {zh-CN: 不好, en: Bad}}
  - key: comment
    type: text
    text: {zh-CN: 还有什么想说的？}
`
	d, err := surveys.ParseDefinition([]byte(yamlDef))
	require.NoError(t, err)
	require.Equal(t, "onboarding_pulse", d.Key)
	require.Equal(t, 2, d.Version)
	require.Len(t, d.Questions, 2)
	require.Equal(t, "Good", d.Questions[0].Options[0].Label.In("en"))
	require.Equal(t, "还有什么想说的？", d.Questions[1].Text.In("en"))

	t.Run("JSON round trip", func(t *testing.T) {
		t.Parallel()
		raw, err := json.Marshal(d)
		require.NoError(t, err)
		back, err := surveys.ParseDefinition(raw)
		require.NoError(t, err)
		require.Equal(t, d, back)
		// indented JSON with tabs, as API clients send it
		pretty, err := json.MarshalIndent(d, "", "\t")
		require.NoError(t, err)
		back, err = surveys.ParseDefinition(pretty)
		require.NoError(t, err)
		require.Equal(t, d, back)
	})

	t.Run("every builtin round-trips through JSON", func(t *testing.T) {
		t.Parallel()
		defs, err := surveys.Builtin()
		require.NoError(t, err)
		for _, b := range defs {
			raw, err := json.Marshal(b)
			require.NoError(t, err)
			back, err := surveys.ParseDefinition(raw)
			require.NoError(t, err, b.Key)
			require.Equal(t, b, back)
		}
	})

	for _, tc := range []struct {
		name, input, want string
	}{
		{"empty", "  \n", "empty"},
		{"unknown YAML field", strings.Replace(yamlDef, "required: true", "requird: true", 1), "requird"},
		{"unknown JSON field", `{"key":"x","version":1,"kind":"custom","title":{"zh-CN":"x"},"questions":[],"extra":1}`, "extra"},
		{"two YAML documents", yamlDef + "\n---\nkey: other\n", "more than one document"},
		{"trailing JSON", `{"key":"x"} {"key":"y"}`, "trailing data"},
		{"malformed YAML", "key: [unclosed", "parse definition YAML"},
		{"malformed JSON", `{"key": `, "parse definition JSON"},
		{"invalid definition", strings.Replace(yamlDef, "type: single", "type: stars", 1), `question "mood": type "stars"`},
		{"wrong field type", strings.Replace(yamlDef, "version: 2", "version: two", 1), "parse definition YAML"},
	} {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := surveys.ParseDefinition([]byte(tc.input))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}

	t.Run("rejects oversized input", func(t *testing.T) {
		t.Parallel()
		_, err := surveys.ParseDefinition(make([]byte, surveys.MaxDefinitionBytes+1))
		require.ErrorContains(t, err, "at most")
	})

	t.Run("validation problems stay separate", func(t *testing.T) {
		t.Parallel()
		bad := strings.Replace(strings.Replace(yamlDef, "type: single", "type: stars", 1), "version: 2", "version: 0", 1)
		_, err := surveys.ParseDefinition([]byte(bad))
		var joined interface{ Unwrap() []error }
		require.True(t, errors.As(err, &joined))
		require.GreaterOrEqual(t, len(joined.Unwrap()), 2)
	})
}
