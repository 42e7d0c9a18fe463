package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDigestCLI: a coordinator subscribed (its employee linked), bad input
// refused, listed, previewed, sent once with --run (the simulator is not
// enabled here: a failed card, shown with its code), removed.
func TestDigestCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := migrated(t, dir)
	roster := filepath.Join(dir, "r.csv")
	require.NoError(t, os.WriteFile(roster, []byte("external_id,name,department,platform\nE1,张三,销售,simulator\n"), 0o600))
	_, _, err := run(t, env, "import", roster)
	require.NoError(t, err)
	pw := filepath.Join(dir, "pw")
	require.NoError(t, os.WriteFile(pw, []byte("correct horse battery 1\n"), 0o600))
	_, _, err = run(t, env, "account", "create", "--username", "wang", "--role", "coordinator", "--password-file", pw)
	require.NoError(t, err)

	_, _, err = run(t, env, "digest", "subscribe", "wang", "--frequency", "cron", "--cron", "61 9 * * *")
	require.ErrorContains(t, err, "cron: is not a cron spec")
	require.ErrorContains(t, err, "employee: is required")
	out := runOK(t, env, "digest", "subscribe", "wang", "--employee", "E1", "--time-zone", "Asia/Shanghai")
	require.Contains(t, out, `digest 1: wang (coordinator, employee E1) weekly "0 9 * * 1" in Asia/Shanghai; next card`)
	_, _, err = run(t, env, "digest", "subscribe", "wang", "--time-zone", "Asia/Shanghai")
	require.ErrorContains(t, err, "frequency: the account already gets this digest", "the same digest twice")
	out = runOK(t, env, "digest", "list")
	require.Contains(t, out, "E1")
	out = runOK(t, env, "digest", "preview", "1")
	require.Contains(t, out, "学习周报")
	require.Contains(t, out, "范围：我负责的课程")
	require.Contains(t, out, "开课场次: 0 场")
	out = runOK(t, env, "digest", "preview", "1", "--lang", "en")
	require.Contains(t, out, "Weekly learning digest")
	out = runOK(t, env, "digest", "send", "1", "--run")
	require.Contains(t, out, "digest 1 queued as job")
	require.Contains(t, out, "card failed on simulator: no_platform")
	out = runOK(t, env, "digest", "list")
	require.Contains(t, out, "failed no_platform")
	out = runOK(t, env, "digest", "remove", "1")
	require.Contains(t, out, "digest 1 removed")
	_, _, err = run(t, env, "digest", "preview", "1")
	require.ErrorContains(t, err, "not found")
}
