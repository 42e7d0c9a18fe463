package feishu

import (
	"context"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkevent "github.com/larksuite/oapi-sdk-go/v3/event"
	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher"
	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher/callback"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/text"
)

// dispatcher builds the SDK event dispatcher the long connection feeds:
// card.action.trigger events go through the same parsing, dedup and
// answering as HTTP callbacks. Long-connection payloads are not encrypted
// and the connection itself is authenticated with the app secret.
func (c *Client) dispatcher(h bot.InteractionHandler) *dispatcher.EventDispatcher {
	d := dispatcher.NewEventDispatcher(c.cfg.VerificationToken, "")
	d.InitConfig(larkevent.WithLogger(sdkLogger{c.log}), larkevent.WithLogLevel(larkcore.LogLevelWarn))
	d.OnP2CardActionTrigger(func(ctx context.Context, ev *callback.CardActionTriggerEvent) (*callback.CardActionTriggerResponse, error) {
		var body []byte
		if ev != nil && ev.EventReq != nil {
			body = ev.EventReq.Body
		}
		return c.handleLongConnEvent(ctx, h, body), nil
	})
	c.onContactEvents(d)
	c.onMessageEvents(d, h)
	return d
}

// handleLongConnEvent answers one card.action.trigger payload received over
// the long connection. Every payload gets an answer, never an error (the
// SDK would send status 500, and Feishu does not redeliver callbacks): one
// that fails verification gets a refusal toast, a tap that cannot be
// stored a "tap again" toast (handleTap).
func (c *Client) handleLongConnEvent(ctx context.Context, h bot.InteractionHandler, payload []byte) *callback.CardActionTriggerResponse {
	req, err := c.parseEnvelope(payload, c.now(), false)
	if err == nil && req.kind != kindCardAction {
		err = malformed("not a card action")
	}
	if err != nil {
		c.log.WarnContext(ctx, "feishu long-connection event refused", "reason", err.Error())
		return toastOnly("error", text.T(text.ZH, "bot:reply.invalid"))
	}
	return c.answerCard(ctx, h, req)
}
