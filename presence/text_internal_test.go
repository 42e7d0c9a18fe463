package presence

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/internal/texttest"
)

// TestEveryTextKeyExists: every key the /q/ pages look up has a zh-CN and
// an en text.
func TestEveryTextKeyExists(t *testing.T) {
	t.Parallel()
	used := texttest.Keys(t, ".", texttest.Call("tx", 1), texttest.Template("t", 1))
	has := func(k string) bool { m, ok := texts[k]; return ok && m[0] != "" && m[1] != "" }
	require.Empty(t, texttest.Missing(used, has))
}
