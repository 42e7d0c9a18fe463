package feishu

import (
	"encoding/json"

	"github.com/learnloop/learnloop/bot"
)

// PreviewCard returns the card JSON 2.0 Feishu would receive for m, exactly
// as the send builds it (checked against Feishu's size limit). The console
// draws its card preview from it.
func PreviewCard(m bot.Message) (json.RawMessage, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return cardJSON(m, 0)
}
