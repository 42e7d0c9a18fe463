package app

import (
	"context"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/bot/chat"
)

// inbound is the one handler the adapters are given for what people send:
// taps go to the router, text messages to the chat service (adapters find
// it with bot.TextHandlerOf).
type inbound struct {
	router *bot.Router
	chat   *chat.Service
}

var (
	_ bot.InteractionHandler  = inbound{}
	_ bot.TextHandler         = inbound{}
	_ bot.CardUpdateCounter   = inbound{}
	_ bot.StorageErrorCounter = inbound{}
)

// HandleInteraction implements bot.InteractionHandler.
func (h inbound) HandleInteraction(ctx context.Context, in bot.Interaction) (bot.Reply, error) {
	return h.router.HandleInteraction(ctx, in)
}

// HandleText implements bot.TextHandler.
func (h inbound) HandleText(ctx context.Context, in bot.InboundText) (bot.ChatReply, error) {
	return h.chat.HandleText(ctx, in)
}

// CardUpdated implements bot.CardUpdateCounter.
func (h inbound) CardUpdated(platform bot.Platform, err error) { h.router.CardUpdated(platform, err) }

// CallbackStorageError implements bot.StorageErrorCounter.
func (h inbound) CallbackStorageError(platform bot.Platform, action string) {
	h.router.CallbackStorageError(platform, action)
}

// chatPlatforms are the platforms whose adapters hand text messages to the
// chat service (the bot asks for a score's reason only there).
var chatPlatforms = map[bot.Platform]bool{
	bot.PlatformSimulator: true,
	bot.PlatformWeCom:     true,
	bot.PlatformFeishu:    true,
	bot.PlatformDingTalk:  true,
}
