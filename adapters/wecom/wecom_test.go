package wecom

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
)

func TestFromConfig(t *testing.T) {
	t.Parallel()
	f := NewFakeWeCom(t, "zhangwei")
	fc := f.Config()
	cfg := config.Default().Platforms.WeCom
	cfg.Enabled = true
	cfg.CorpID, cfg.AgentID = f.CorpID, f.AgentID
	cfg.Secret, cfg.Token, cfg.EncodingAESKey = config.Secret(f.Secret), config.Secret(fc.Token), config.Secret(fc.EncodingAESKey)
	cfg.APIBase = f.URL
	cfg.DailyQuota = 5
	c, err := FromConfig(cfg, "https://learn.example.com/")
	require.NoError(t, err)
	require.Equal(t, "https://learn.example.com/callbacks/wecom", c.CallbackURL())
	require.Equal(t, 10*time.Second, c.cfg.Timeout)
	require.Equal(t, 5*time.Minute, c.cfg.CallbackMaxSkew)
	require.Equal(t, 5, c.pace.quota)
	require.Equal(t, bot.PlatformWeCom, c.Platform())
	require.NoError(t, c.Doctor(context.Background()))
	_, err = c.Send(context.Background(), bot.Recipient{UserID: "zhangwei"}, checkinMessage(t, "k"))
	require.NoError(t, err)
	require.Len(t, f.Cards(), 1, "api_base from the config is used")

	cfg.EncodingAESKey = "short"
	_, err = FromConfig(cfg, "")
	require.ErrorContains(t, err, "encoding aes key")
}
