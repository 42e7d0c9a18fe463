package feishu

import (
	"context"
	"time"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkws "github.com/larksuite/oapi-sdk-go/v3/ws"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/bot"
)

// wsRestartMax caps the wait between restarts of a stopped long connection.
const wsRestartMax = 5 * time.Minute

// Run keeps a Feishu long connection (长连接) open until ctx is done and
// hands every card.action.trigger to h; no public callback URL is needed.
// The SDK reconnects a dropped connection by itself (auto reconnect, the
// server's reconnect settings); when it gives up — bad credentials, the
// 50-connection limit — Run starts a new client after a capped exponential
// backoff and logs why. Every replica may run one: Feishu delivers each
// event to one of them. Run returns nil when ctx is done.
func (c *Client) Run(ctx context.Context, h bot.InteractionHandler) error {
	d := c.dispatcher(h)
	backoff := time.Second
	for {
		cli := larkws.NewClient(c.cfg.AppID, c.cfg.AppSecret,
			larkws.WithEventHandler(d),
			larkws.WithDomain(c.cfg.APIBase),
			larkws.WithAutoReconnect(true),
			larkws.WithHttpClient(c.hc),
			larkws.WithLogger(sdkLogger{c.log}),
			larkws.WithLogLevel(larkcore.LogLevelInfo),
			larkws.WithOnReady(func() { c.log.Info("feishu long connection ready") }),
			larkws.WithOnReconnected(func() { c.log.Info("feishu long connection reconnected") }),
		)
		started := time.Now()
		err := cli.Start(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(started) > time.Minute {
			backoff = time.Second
		}
		c.log.Warn("feishu long connection stopped; starting again", "err", c.scrub(err), "in", backoff)
		if kit.Sleep(ctx, backoff) != nil {
			return nil
		}
		backoff = min(backoff*2, wsRestartMax)
	}
}
