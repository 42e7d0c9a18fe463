package text

import (
	"fmt"
	"html/template"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Locale
	}{
		{"", ZH},
		{"zh-CN", ZH},
		{"zh", ZH},
		{"zh_cn", ZH},
		{"ZH-Hans-CN", ZH},
		{"en", EN},
		{"EN", EN},
		{"en-US", EN},
		{"en_GB", EN},
		{" english ", EN},
		{"fr", ZH},
		{"de-DE", ZH},
		{"en-GB,en;q=0.9,zh;q=0.8", EN},
		{"zh-CN,zh;q=0.9,en;q=0.8", ZH},
		{"fr-FR,fr;q=0.9,en;q=0.8", EN},
		{"zh;q=0.5,en;q=0.9", EN},
		{"en;q=0,zh", ZH},
		{"en;q=x", ZH},
		{"*", ZH},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, Parse(tc.in))
		})
	}
}

func TestMatchAndExact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tag  string
		want Locale
		ok   bool
	}{{"en-US", EN, true}, {"zh_TW", ZH, true}, {"fr", "", false}, {"", "", false}} {
		got, ok := Match(tc.tag)
		require.Equal(t, tc.ok, ok, tc.tag)
		require.Equal(t, tc.want, got, tc.tag)
	}
	for _, tc := range []struct {
		in string
		ok bool
	}{{"zh-CN", true}, {"en", true}, {"zh", false}, {"EN", false}, {"en-US", false}, {"", false}} {
		l, ok := Exact(tc.in)
		require.Equal(t, tc.ok, ok, tc.in)
		if ok {
			require.Equal(t, tc.in, l.String())
		}
	}
}

func TestT(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		loc  Locale
		key  string
		args []any
		want string
	}{
		{"zh", ZH, "bot:button.checkin", nil, "签到"},
		{"en", EN, "bot:button.checkin", nil, "Check in"},
		{"args", ZH, "bot:status.on_time", []any{"09:02"}, "已签到 09:02 ✓"},
		{"args en", EN, "bot:reminder.title", []any{"Go"}, "Class reminder: Go"},
		{"unparsed spelling", Locale("en-US"), "bot:button.checkin", nil, "Check in"},
		{"empty locale is zh-CN", "", "bot:button.checkin", nil, "签到"},
		{"unknown key is the key", EN, "no.such.key", nil, "no.such.key"},
		{"args without verbs are ignored", ZH, "bot:button.join", []any{1}, "进入课堂"},
		{"a message argument is localized", EN, "surveys:form.about", []any{M("bot:button.checkin")}, "About: Check in"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, T(tc.loc, tc.key, tc.args...))
		})
	}
	require.True(t, Has("bot:button.checkin"))
	require.False(t, Has("bot.button"))
}

func TestMessage(t *testing.T) {
	t.Parallel()
	m := M("surveys:answer.too_long", 2000, 2001)
	require.False(t, m.IsZero())
	require.True(t, Message{}.IsZero())
	require.Equal(t, "text is too long: at most 2000 characters, got 2001", m.In(EN))
	require.Equal(t, "文字过长：最多 2000 字，当前 2001 字", m.In(ZH))
}

func TestFuncMap(t *testing.T) {
	t.Parallel()
	tmpl := template.Must(template.New("x").Funcs(FuncMap(EN)).Parse(`{{t "bot:status.late" "09:10"}}|{{T .L "bot:button.checkin"}}`))
	var b strings.Builder
	require.NoError(t, tmpl.Execute(&b, map[string]any{"L": ZH}))
	require.Equal(t, "Checked in (late) 09:10 ✓|签到", b.String())
}

// TestCatalogue: every text exists in both locales, no key is defined twice,
// and each area's keys carry its prefix, which no other area's key uses.
func TestCatalogue(t *testing.T) {
	t.Parallel()
	require.NotPanics(t, func() { merge(areas) })
	require.Panics(t, func() {
		merge([]area{{"a", "", Texts{"k": {"一", "one"}}}, {"b", "", Texts{"k": {"二", "two"}}}})
	})
	var problems []string
	for _, a := range areas {
		for k, e := range a.texts {
			if strings.TrimSpace(e.ZH) == "" {
				problems = append(problems, fmt.Sprintf("%s: %q has no zh-CN text", a.name, k))
			}
			if strings.TrimSpace(e.EN) == "" {
				problems = append(problems, fmt.Sprintf("%s: %q has no en text", a.name, k))
			}
			if a.prefix != "" && !strings.HasPrefix(k, a.prefix) {
				problems = append(problems, fmt.Sprintf("%s: %q does not start with %q", a.name, k, a.prefix))
			}
			for _, b := range areas {
				if b.name != a.name && b.prefix != "" && strings.HasPrefix(k, b.prefix) {
					problems = append(problems, fmt.Sprintf("%s: %q starts with %s's prefix %q", a.name, k, b.name, b.prefix))
				}
			}
			if !keyPattern.MatchString(k) {
				problems = append(problems, fmt.Sprintf("%s: %q is not a key (lowercase words joined by . and _)", a.name, k))
			}
		}
	}
	require.Empty(t, problems)
}
