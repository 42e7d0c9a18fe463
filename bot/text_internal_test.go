package bot

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/internal/texttest"
)

// TestEveryTextKeyExists: every key bot's code, and any package calling
// bot.T, looks up has a zh-CN and an en text.
func TestEveryTextKeyExists(t *testing.T) {
	t.Parallel()
	used := texttest.Keys(t, ".", texttest.Call("T", 1))
	for k, f := range texttest.Keys(t, "..", texttest.Call("bot.T", 1)) {
		used[k] = f
	}
	has := func(k string) bool { return texts[LocaleZH][k] != "" && texts[LocaleEN][k] != "" }
	require.Empty(t, texttest.Missing(used, has))
}
