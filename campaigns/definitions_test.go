package campaigns_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/campaigns"
)

// TestDefinitionJSON: a definition carries its text's key; its JSON gives
// the text in both languages, with the campaign's settings filled in.
func TestDefinitionJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(campaigns.SendTimeDefinition())
	require.NoError(t, err)
	var got map[string]string
	require.NoError(t, json.Unmarshal(b, &got))
	require.Len(t, got, 3)
	require.Equal(t, "send_time", got["key"])
	require.Contains(t, got["zh"], "学习得出的发送时间：读取过去 ")
	require.Contains(t, got["en"], "Learned send time: the sent campaign pushes and class reminders (")
	require.Contains(t, got["en"], "a check-in made from the card", "a tap is an open, and the definition says so")
	require.NotContains(t, got["zh"]+got["en"], "%!")
}
