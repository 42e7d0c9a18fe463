package wecom

import (
	"encoding/json"
	"fmt"

	"github.com/learnloop/learnloop/bot"
)

// PreviewCard returns the message body WeCom would receive for m (without
// touser and agentid): the template_card, or the text message, exactly as
// the send builds it. The console draws its card preview from it.
func PreviewCard(m bot.Message) (json.RawMessage, error) {
	req, err := render(m)
	if err != nil {
		return nil, fmt.Errorf("wecom card: %w", err)
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode wecom card: %w", err)
	}
	return b, nil
}
