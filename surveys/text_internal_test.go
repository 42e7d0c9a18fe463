package surveys

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/texttest"
)

// TestEveryTextKeyExists: every key the survey code and the form template
// look up has a zh-CN and an en text (the form once showed the raw key
// form.required_error under unanswered questions).
func TestEveryTextKeyExists(t *testing.T) {
	t.Parallel()
	used := texttest.Keys(t, ".", texttest.Call("T", 1), texttest.Template("T", 1))
	require.Contains(t, used, "form.required_error")
	has := func(k string) bool { return texts[bot.LocaleZH][k] != "" && texts[bot.LocaleEN][k] != "" }
	require.Empty(t, texttest.Missing(used, has))
}
