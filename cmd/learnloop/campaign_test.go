package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCampaignCLI: the learned send time's evidence from the CLI,
// with thin data said to keep the configured time, and a bad zone refused;
// a campaign created and updated from JSON files, a bad update refused.
func TestCampaignCLI(t *testing.T) {
	t.Parallel()
	env := migrated(t, t.TempDir())
	out := runOK(t, env, "campaign", "send-time", "--department", "销售", "--time-zone", "Asia/Shanghai")
	require.Contains(t, out, "HOUR (Asia/Shanghai)")
	require.Contains(t, out, "n = 0: fewer than two hours with 30 sent; campaigns keep their configured time")
	_, _, err := run(t, env, "campaign", "send-time", "--time-zone", "Mars/Base")
	require.ErrorContains(t, err, "not an IANA time zone")

	// Create, then update from JSON files; a bad update stores nothing.
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	out = runOK(t, env, "campaign", "create", write("c.json", `{"name":"直播","title":"今晚直播","event":"live_join","audience":{},"schedule":{"kind":"at","at":"2027-06-01T10:00:00+08:00"}}`))
	require.Contains(t, out, `"name": "直播"`)
	out = runOK(t, env, "campaign", "update", "1", write("u.json", `{"name":"直播（改）","title":"今晚直播","event":"live_join","audience":{},"schedule":{"kind":"at","at":"2027-06-02T10:00:00+08:00"},"variants":[{"name":"A"},{"name":"B","title":"别错过"}]}`))
	require.Contains(t, out, `"name": "直播（改）"`)
	require.Contains(t, out, `"title": "别错过"`)
	_, _, err = run(t, env, "campaign", "update", "1", write("bad.json", `{"name":"","title":"x","event":"e","audience":{},"schedule":{"kind":"now"}}`))
	require.ErrorContains(t, err, "nothing was stored")
	out = runOK(t, env, "campaign", "list")
	require.Contains(t, out, "直播（改）")
}
