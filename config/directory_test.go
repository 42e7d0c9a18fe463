package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDirectoryKeys(t *testing.T) {
	t.Parallel()
	env := func(kv map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			if k == "LEARNLOOP_SECURITY_LINK_SECRET" {
				return "0123456789abcdef0123456789abcdef", true
			}
			v, ok := kv[k]
			return v, ok
		}
	}
	c, err := Load("", env(map[string]string{"LEARNLOOP_DIRECTORY_SYNC_CRON": "CRON_TZ=Asia/Shanghai 30 2 * * *", "LEARNLOOP_DIRECTORY_PLATFORMS": "feishu,wecom"}))
	require.NoError(t, err)
	require.Equal(t, []string{"feishu", "wecom"}, c.Directory.Platforms)
	require.Equal(t, 20, c.Directory.MaxDeactivatePercent)
	for _, tc := range []struct {
		kv  map[string]string
		key string
	}{
		{map[string]string{"LEARNLOOP_DIRECTORY_SYNC_CRON": "every night"}, "directory.sync_cron"},
		{map[string]string{"LEARNLOOP_DIRECTORY_SYNC_CRON": "CRON_TZ=Asia/Shanghai"}, "directory.sync_cron"},
		{map[string]string{"LEARNLOOP_DIRECTORY_PLATFORMS": "wecom,teams"}, "directory.platforms"},
		{map[string]string{"LEARNLOOP_DIRECTORY_PLATFORMS": "wecom,wecom"}, "directory.platforms"},
		{map[string]string{"LEARNLOOP_DIRECTORY_MAX_DEACTIVATE_PERCENT": "0"}, "directory.max_deactivate_percent"},
		{map[string]string{"LEARNLOOP_DIRECTORY_CONCURRENCY": "0"}, "directory.concurrency"},
	} {
		_, err := Load("", env(tc.kv))
		require.ErrorContains(t, err, tc.key, "%v", tc.kv)
	}
}
