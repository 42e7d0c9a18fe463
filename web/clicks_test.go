package web

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUAClass(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1": "in_app",
		"Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Mobile Safari/537.36 AliApp(DingTalk/7.5.0)":          "in_app",
		"Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Lark/6.9.5 LarkLocale/zh_CN":                                "in_app",
		"Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36":             "mobile",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Safari/537.36":                   "desktop",
		"": "unknown",
		// Not ASCII, and longer than the stack buffer: lowered by strings.ToLower.
		"Mozilla/5.0 (iPad) 浏览器 FEISHU/7.1":                                    "in_app",
		"Mozilla/5.0 (X11) " + strings.Repeat("x", 600) + " ANDROID":           "mobile",
		"Mozilla/5.0 (X11) " + strings.Repeat("Ü", 300) + " Chrome/120 Safari": "desktop",
	}
	for ua, want := range cases {
		require.Equal(t, want, UAClass(ua), ua)
	}
}
