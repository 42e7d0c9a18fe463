package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func runIn(t *testing.T, env map[string]string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	root := newRoot(&out, &errb, lookup)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String(), errb.String(), err
}

func TestAccountCreateAndList(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{
		"LEARNLOOP_DATABASE_DSN":         filepath.Join(dir, "ll.db"),
		"LEARNLOOP_SECURITY_LINK_SECRET": "cli-account-link-secret-01",
	}
	_, _, err := runIn(t, env, "", "migrate")
	require.NoError(t, err)

	// The first admin, password asked on stdin (twice).
	out, stderr, err := runIn(t, env, "admin-password-1\nadmin-password-1\n", "account", "create", "--username", "Root", "--role", "admin")
	require.NoError(t, err, stderr)
	require.Contains(t, out, `created admin account "root"`)
	require.Contains(t, stderr, "Password")
	require.NotContains(t, stderr+out, "admin-password-1", "the password is never printed")

	// From a file.
	pw := filepath.Join(dir, "pw")
	require.NoError(t, os.WriteFile(pw, []byte("head-password-1\n"), 0o600))
	_, _, err = runIn(t, env, "", "account", "create", "--username", "xiaoshou", "--role", "department_head", "--department", "销售", "--password-file", pw)
	require.NoError(t, err)

	// Bad input is refused and says why.
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"account", "create", "--role", "admin"}, "--username is required"},
		{"", []string{"account", "create", "--username", "x1", "--role", "boss", "--password-file", pw}, "role"},
		{"", []string{"account", "create", "--username", "x2", "--role", "department_head", "--password-file", pw}, "department"},
		{"", []string{"account", "create", "--username", "root", "--role", "admin", "--password-file", pw}, "already exists"},
		{"short\nshort\n", []string{"account", "create", "--username", "x3", "--role", "coordinator"}, "at least 10"},
		{"long-enough-1\nlong-enough-2\n", []string{"account", "create", "--username", "x4", "--role", "coordinator"}, "differ"},
		{"", []string{"account", "create", "--username", "x5", "--role", "coordinator"}, "stdin"},
	} {
		_, _, err := runIn(t, env, c.stdin, c.args...)
		require.ErrorContains(t, err, c.want, c.args)
		var ue usageError
		if c.want != "stdin" {
			require.ErrorAs(t, err, &ue, "bad input exits 2: %v", c.args)
		}
	}

	out, _, err = runIn(t, env, "", "account", "list")
	require.NoError(t, err)
	require.Contains(t, out, "root")
	require.Contains(t, out, "admin")
	require.Contains(t, out, "xiaoshou")
	require.Contains(t, out, "销售")
	require.NotContains(t, out, "x3")
	require.Equal(t, 3, strings.Count(out, "\n"), out)
}

// TestAccountCreateWithoutLinkSecret: the account commands sign nothing, so
// a database configured without security.link_secret (the demo's) takes
// accounts; any other configuration problem still stops them.
func TestAccountCreateWithoutLinkSecret(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	withSecret := map[string]string{"LEARNLOOP_DATABASE_DSN": filepath.Join(dir, "ll.db"), "LEARNLOOP_SECURITY_LINK_SECRET": "cli-account-link-secret-02"}
	_, _, err := runIn(t, withSecret, "", "migrate")
	require.NoError(t, err)
	env := map[string]string{"LEARNLOOP_DATABASE_DSN": filepath.Join(dir, "ll.db")}
	out, stderr, err := runIn(t, env, "demo-password-1\ndemo-password-1\n", "account", "create", "--username", "lin", "--role", "coordinator")
	require.NoError(t, err, stderr)
	require.Contains(t, out, `created coordinator account "lin"`)
	out, _, err = runIn(t, env, "", "account", "list")
	require.NoError(t, err)
	require.Contains(t, out, "lin")
	env["LEARNLOOP_QUIET_HOURS_START"] = "25:00"
	_, _, err = runIn(t, env, "", "account", "list")
	require.ErrorContains(t, err, "quiet_hours.start")
}
