package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
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

// runOK runs the CLI with args, which must succeed, and returns what it
// printed on stdout.
func runOK(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	out, errOut, err := run(t, env, args...)
	require.NoError(t, err, errOut)
	return out
}

// migrated is the environment of the CLI on a new, migrated SQLite
// database in dir.
func migrated(t *testing.T, dir string) map[string]string {
	t.Helper()
	env := map[string]string{
		"LEARNLOOP_DATABASE_DSN":         filepath.Join(dir, "ll.db"),
		"LEARNLOOP_SECURITY_LINK_SECRET": "cli-test-link-secret-0123",
	}
	_, _, err := run(t, env, "migrate")
	require.NoError(t, err)
	return env
}

func TestVersionAndConfigMasked(t *testing.T) {
	t.Parallel()
	out, _, err := run(t, nil, "version")
	require.NoError(t, err)
	require.Contains(t, out, "learnloop")

	env := map[string]string{"LEARNLOOP_SECURITY_LINK_SECRET": "super-secret-link-key-123", "LEARNLOOP_SECURITY_ADMIN_TOKENS": "tok-AAA,tok-BBB"}
	out = runOK(t, env, "config")
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

	out := runOK(t, env, "migrate")
	require.Contains(t, out, "applied migrations")
	out = runOK(t, env, "migrate", "--status")
	require.Contains(t, out, fmt.Sprintf("schema version %d, latest %d", store.LatestVersion(), store.LatestVersion()))

	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("external_id,name\nE1,张三\n,无工号\n"), 0o600))
	_, stderr, err := run(t, env, "import", bad)
	require.Error(t, err)
	require.Contains(t, stderr, "line 3: external_id: is required")

	good := filepath.Join(dir, "good.csv")
	require.NoError(t, os.WriteFile(good, []byte("external_id,name\nE1,张三\nE2,李四\n"), 0o600))
	out = runOK(t, env, "import", good)
	require.Contains(t, out, "imported 2 employees")

	_, _, err = run(t, env, "report", "session", "abc")
	require.ErrorContains(t, err, "positive integer")
	_, _, err = run(t, env, "send-now", "99")
	require.ErrorContains(t, err, "not found")
}

// TestDemoRunsTheLoop runs the demo on a compressed timeline and checks what
// it prints: the console and a ready account, a sorted timeline in the
// configured zone with quiet hours said to be off, quoted URLs, the three
// auto taps (on time, late, make-up), and a Chinese report (no English keys,
// columns aligned by display width) with the check-in prompt's A/B test. LEARNLOOP_HTTP_ADDR sets the address.
func TestDemoRunsTheLoop(t *testing.T) {
	t.Parallel()
	out, stderr, err := run(t, map[string]string{"LEARNLOOP_HTTP_ADDR": "127.0.0.1:0"}, "demo", "--minutes", "0.4", "--exit")
	require.NoError(t, err, stderr)
	for _, want := range []string{"'http://127.0.0.1:0/console/'", "'http://127.0.0.1:0/sim'", "用户名 demo  密码 ", "免打扰时段已关闭", "Asia/Shanghai",
		"张伟（模拟）点了签到", "王芳（模拟）点了签到", "李娜（模拟）点了签到", "张伟（模拟）在反馈卡片中打了 9 分",
		"状态      已结束", "签到率    50.0%（3/6）", "补签提醒      未签到的人", "回复率",
		"的 A/B 实验（结果：已签到）", "到了吗？一键签到", "数据不足：每个版本至少需要 100 人", "不要因为中途看到显著结果就提前停止"} {
		require.Contains(t, out, want)
	}
	for _, bad := range []string{"planned", "response_rate", "makeup_reminder", "not_checked_in", "tapped"} {
		require.NotContains(t, out, bad)
	}
	require.Contains(t, stderr, "+08:00", "log times are in the configured zone")
	// The timeline is in time order.
	var times []string
	inTimeline := false
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "时间线 Timeline") {
			inTimeline = true
			continue
		}
		if inTimeline {
			f := strings.Fields(line)
			if len(f) == 0 {
				break
			}
			times = append(times, f[0])
		}
	}
	require.NotEmpty(t, times)
	require.True(t, sort.StringsAreSorted(times), "%v", times)
	// Columns line up however wide the characters: every row of the
	// attendee table has its 部门 column at the same display column.
	col := -1
	for _, line := range strings.Split(out, "\n") {
		for _, dept := range []string{"部门", "销售一部", "市场部", "客服中心", "R&D"} {
			if i := strings.Index(line, "  "+dept+"  "); i >= 0 && strings.HasPrefix(strings.TrimSpace(line), "E") || strings.Contains(line, "工号") && dept == "部门" && i >= 0 {
				c := displayWidth(line[:i])
				if col == -1 {
					col = c
				}
				require.Equal(t, col, c, line)
			}
		}
	}
	require.NotEqual(t, -1, col)
}

func TestSurveyReportsFromCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := migrated(t, dir)
	out := runOK(t, env, "report", "teachers", "--year", "2026")
	require.Contains(t, out, "保留认证")
	_, _, err := run(t, env, "report", "survey", "7")
	require.ErrorContains(t, err, "not found")
	_, _, err = run(t, env, "report", "course", "x")
	require.ErrorContains(t, err, "positive integer")
}
