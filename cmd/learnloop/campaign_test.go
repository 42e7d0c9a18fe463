package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCampaignSendTimeCLI: the learned send time's evidence from the CLI,
// with thin data said to keep the configured time, and a bad zone refused.
func TestCampaignSendTimeCLI(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"LEARNLOOP_DATABASE_DSN":         filepath.Join(t.TempDir(), "ll.db"),
		"LEARNLOOP_SECURITY_LINK_SECRET": "cli-test-link-secret-0123",
	}
	_, _, err := run(t, env, "migrate")
	require.NoError(t, err)
	out, _, err := run(t, env, "campaign", "send-time", "--department", "销售", "--time-zone", "Asia/Shanghai")
	require.NoError(t, err)
	require.Contains(t, out, "HOUR (Asia/Shanghai)")
	require.Contains(t, out, "n = 0: fewer than two hours with 30 sent; campaigns keep their configured time")
	_, _, err = run(t, env, "campaign", "send-time", "--time-zone", "Mars/Base")
	require.ErrorContains(t, err, "not an IANA time zone")
}
