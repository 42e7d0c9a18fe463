package dingtalk

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/text"
)

// PreviewToken stands for every signed token in a preview.
const PreviewToken = "TOKEN"

// PreviewCard returns what a DingTalk delivery of m carries, exactly as
// the send builds it: the public card variables (cardData) a custom
// template receives, and under "standard_card" the StandardCard JSON that
// is sent when no template is configured (the default). Private variables
// are left out, and the tokens in the StandardCard's button ids read
// PreviewToken. The console draws its card preview from the variables.
func PreviewCard(m bot.Message) (json.RawMessage, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	c := &Client{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	pub, _ := c.cardVars(m)
	p := m
	p.Buttons = slices.Clone(m.Buttons)
	for i := range p.Buttons {
		if p.Buttons[i].Token != "" {
			p.Buttons[i].Token = PreviewToken
		}
	}
	if m.Choice != nil {
		ch := *m.Choice
		ch.Token = PreviewToken
		p.Choice = &ch
	}
	std, err := c.standardJSON(p, text.Parse(string(m.Locale)))
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(pub)+1)
	for k, v := range pub {
		out[k] = v
	}
	out["standard_card"] = std
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode dingtalk card: %w", err)
	}
	return b, nil
}
