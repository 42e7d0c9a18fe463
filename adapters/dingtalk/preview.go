package dingtalk

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/learnloop/learnloop/bot"
)

// PreviewCard returns the public card variables (cardData) DingTalk's card
// template would receive for m, exactly as the send builds them; private
// variables (tokens) are left out. The console draws its card preview from
// them, laid out as the README's suggested template.
func PreviewCard(m bot.Message) (json.RawMessage, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	c := &Client{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	pub, _ := c.cardVars(m)
	b, err := json.Marshal(pub)
	if err != nil {
		return nil, fmt.Errorf("encode dingtalk card: %w", err)
	}
	return b, nil
}
