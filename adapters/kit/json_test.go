package kit_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit"
)

// FuzzAppendJSONString: any string is written as a JSON string that
// decodes as encoding/json's own encoding of it does.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "签到成功", "\"\\\n\t\x00\x7f", "\xff\xfe", "\u2028x\u2029", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		got := kit.AppendJSONString(nil, s)
		var a, b string
		require.NoError(t, json.Unmarshal(got, &a), "%q", got)
		require.NoError(t, json.Unmarshal(want, &b))
		require.Equal(t, b, a)
	})
}
