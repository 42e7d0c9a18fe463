package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
)

func run(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	root := newRoot(&out, &errb, lookup)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String(), errb.String(), err
}

func TestVersionAndConfigMasked(t *testing.T) {
	t.Parallel()
	out, _, err := run(t, nil, "version")
	require.NoError(t, err)
	require.Contains(t, out, "learnloop")

	env := map[string]string{"LEARNLOOP_SECURITY_LINK_SECRET": "super-secret-link-key-123", "LEARNLOOP_SECURITY_ADMIN_TOKENS": "tok-AAA,tok-BBB"}
	out, _, err = run(t, env, "config")
	require.NoError(t, err)
	require.NotContains(t, out, "super-secret-link-key-123")
	require.NotContains(t, out, "tok-AAA")
	require.Contains(t, out, "******")

	_, _, err = run(t, map[string]string{"LEARNLOOP_HTTP_ADDR": "nonsense"}, "config")
	require.ErrorContains(t, err, "http.addr")
}

func TestMigrateImportReportOnSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{
		"LEARNLOOP_DATABASE_DSN":         filepath.Join(dir, "ll.db"),
		"LEARNLOOP_SECURITY_LINK_SECRET": "cli-test-link-secret-0123",
	}
	_, _, err := run(t, env, "report", "session", "1")
	require.ErrorContains(t, err, "migrate", "an unmigrated database says what to do")

	out, _, err := run(t, env, "migrate")
	require.NoError(t, err)
	require.Contains(t, out, "applied migrations")
	out, _, err = run(t, env, "migrate", "--status")
	require.NoError(t, err)
	require.Contains(t, out, fmt.Sprintf("schema version %d, latest %d", store.LatestVersion(), store.LatestVersion()))

	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("external_id,name\nE1,张三\n,无工号\n"), 0o600))
	_, stderr, err := run(t, env, "import", bad)
	require.Error(t, err)
	require.Contains(t, stderr, "line 3: external_id: is required")

	good := filepath.Join(dir, "good.csv")
	require.NoError(t, os.WriteFile(good, []byte("external_id,name\nE1,张三\nE2,李四\n"), 0o600))
	out, _, err = run(t, env, "import", good)
	require.NoError(t, err)
	require.Contains(t, out, "imported 2 employees")

	_, _, err = run(t, env, "report", "session", "abc")
	require.ErrorContains(t, err, "positive integer")
	_, _, err = run(t, env, "send-now", "99")
	require.ErrorContains(t, err, "not found")
}

// TestDemoRunsTheLoop runs the demo on a compressed timeline and checks the
// report it prints: reminder, check-in prompt, three auto taps (on time,
// late, make-up), make-up reminder to the three still missing.
func TestDemoRunsTheLoop(t *testing.T) {
	t.Parallel()
	out, stderr, err := run(t, nil, "demo", "--minutes", "0.4", "--exit", "--addr", "127.0.0.1:0")
	require.NoError(t, err, stderr)
	require.Contains(t, out, "/sim")
	for _, want := range []string{"张伟 tapped 签到", "王芳 tapped 签到", "李娜 tapped 签到", "签到率", "50.0%", "刘洋", "张伟 scored the class 9", "问卷概览"} {
		require.Contains(t, out, want)
	}
	require.True(t, strings.Contains(out, "makeup_reminder"), out)
}

func TestSurveyReportsFromCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"LEARNLOOP_DATABASE_DSN": filepath.Join(dir, "ll.db"), "LEARNLOOP_SECURITY_LINK_SECRET": "cli-test-link-secret-0123"}
	_, _, err := run(t, env, "migrate")
	require.NoError(t, err)
	out, _, err := run(t, env, "report", "teachers", "--year", "2026")
	require.NoError(t, err)
	require.Contains(t, out, "保留认证")
	_, _, err = run(t, env, "report", "survey", "7")
	require.ErrorContains(t, err, "not found")
	_, _, err = run(t, env, "report", "course", "x")
	require.ErrorContains(t, err, "positive integer")
}
