package feishu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/text"
)

// Keys of a callback button's value object. Feishu echoes the object back
// in event.action.value; the router verifies the signed token.
const (
	valToken  = "token"
	valAction = "action"
	valValue  = "value"
	valSent   = "sent" // unix seconds the card was sent (card age check)
	// valLang is "en" on cards for English recipients (absent: zh-CN),
	// so that a tap that cannot be stored is answered in their language.
	valLang = "lang"
)

// obj is a JSON object in a card.
type obj = map[string]any

// renderCard turns m into a card JSON 2.0 object. sentUnix (0 = unknown) is
// stamped into callback values so a tap can tell how old its card is.
func renderCard(m bot.Message, sentUnix int64) obj {
	st := stamp{sent: sentUnix, en: text.Parse(string(m.Locale)) == text.EN}
	template := "blue"
	if m.Status != "" {
		template = "green"
	}
	var elems []any
	if m.Body != "" {
		elems = append(elems, plainDiv(m.Body, "", ""))
	}
	for _, f := range m.Fields {
		elems = append(elems, plainDiv(f.Label+"："+f.Value, "", ""))
	}
	if m.Status != "" {
		elems = append(elems, plainDiv(m.Status, "green", "heading"))
	}

	// Buttons: rating (1–5) in one row, NPS (0–10) in two rows, everything
	// else (check-in, links) in one action row, in the order given. A
	// Choice is shown as its question plus score buttons, unless the
	// message already carries those buttons (surveys send both).
	var actions, rates, nps []bot.Button
	for _, b := range m.Buttons {
		switch b.Action {
		case bot.ActionRate:
			rates = append(rates, b)
		case bot.ActionNPS:
			nps = append(nps, b)
		default:
			actions = append(actions, b)
		}
	}
	if c := m.Choice; c != nil && len(c.Options) > 0 {
		if c.Question != "" && c.Question != m.Body {
			elems = append(elems, plainDiv(c.Question, "", ""))
		}
		if !hasAction(m.Buttons, c.Action) {
			for _, o := range c.Options {
				b := bot.Button{Text: o, Action: c.Action, Token: c.Token, Value: o}
				if c.Action == bot.ActionRate {
					rates = append(rates, b)
				} else {
					nps = append(nps, b)
				}
			}
		}
	}
	if len(rates) > 0 {
		elems = append(elems, scoreRows(rates, st)...)
	}
	if len(nps) > 0 {
		elems = append(elems, scoreRows(nps, st)...)
	}
	if len(actions) > 0 {
		elems = append(elems, buttonRow(actions, st, false))
	}
	if link := fallbackLink(m); link != nil {
		elems = append(elems, link)
	}
	summary := m.Title
	if m.Status != "" {
		summary = m.Status + " · " + m.Title
	}
	return obj{
		"schema": "2.0",
		"config": obj{
			"update_multi": true,
			"summary":      obj{"content": summary},
		},
		"header": obj{
			"title":    obj{"tag": "plain_text", "content": m.Title},
			"template": template,
		},
		"body": obj{"elements": elems},
	}
}

// plainDiv is a text line; plain_text so course titles and notes are shown
// as written, never interpreted as markdown.
func plainDiv(text, color, size string) obj {
	t := obj{"tag": "plain_text", "content": text}
	if color != "" {
		t["text_color"] = color
	}
	if size != "" {
		t["text_size"] = size
	}
	return obj{"tag": "div", "text": t}
}

// scoreRows lays score buttons out in one row of up to 6 (1–5) or two rows
// (0–5 and 6–10 for NPS), equal widths.
func scoreRows(bs []bot.Button, st stamp) []any {
	if len(bs) <= 6 {
		return []any{buttonRow(bs, st, true)}
	}
	half := (len(bs) + 1) / 2
	return []any{buttonRow(bs[:half], st, true), buttonRow(bs[half:], st, true)}
}

func hasAction(bs []bot.Button, action string) bool {
	for _, b := range bs {
		if b.Action == action {
			return true
		}
	}
	return false
}

// buttonRow lays buttons out side by side; equal widths for score rows.
func buttonRow(bs []bot.Button, st stamp, equal bool) obj {
	cols := make([]any, 0, len(bs))
	for _, b := range bs {
		col := obj{"tag": "column", "width": "auto", "elements": []any{button(b, st, equal)}}
		if equal {
			col["width"], col["weight"] = "weighted", 1
		}
		cols = append(cols, col)
	}
	mode := "flow"
	if equal {
		mode = "none"
	}
	return obj{"tag": "column_set", "flex_mode": mode, "horizontal_spacing": "8px", "columns": cols}
}

// stamp is what every callback value carries besides the button's own
// token, action and value: when the card was sent (unix seconds, 0 =
// unknown) and whether its recipient reads English.
type stamp struct {
	sent int64
	en   bool
}

func button(b bot.Button, st stamp, fill bool) obj {
	typ := "default"
	if b.Primary {
		typ = "primary_filled"
	}
	out := obj{"tag": "button", "text": obj{"tag": "plain_text", "content": b.Text}, "type": typ}
	if fill {
		out["width"] = "fill"
	}
	if b.Action == bot.ActionLink {
		out["behaviors"] = []any{obj{"type": "open_url", "default_url": b.URL}}
		return out
	}
	v := obj{valToken: b.Token, valAction: b.Action}
	if b.Value != "" {
		v[valValue] = b.Value
	}
	if st.sent > 0 {
		v[valSent] = strconv.FormatInt(st.sent, 10)
	}
	if st.en {
		v[valLang] = "en"
	}
	out["behaviors"] = []any{obj{"type": "callback", "value": v}}
	return out
}

// cardJSON renders m and checks that the card alone is within Feishu's
// 30 KB limit: the bound that applies to a card in a callback answer. A
// card sent or patched is checked again inside its request body, where
// it is escaped and larger (checkBodySize).
func cardJSON(m bot.Message, sentUnix int64) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "&" in URLs one byte: the limit is tight
	if err := enc.Encode(renderCard(m, sentUnix)); err != nil {
		return nil, fmt.Errorf("encode card: %w", err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(b) > maxCardBytes {
		return nil, fmt.Errorf("card is %d bytes, over Feishu's %d-byte limit", len(b), maxCardBytes)
	}
	return b, nil
}

// fallbackLink renders the check-in fallback ("无法点击按钮？打开链接签到：URL",
// the last line of m.Fallback) as a small link under the buttons, for when
// the callback cannot reach us. Only cards with a check-in button get one.
func fallbackLink(m bot.Message) obj {
	hasCheckin := false
	for _, b := range m.Buttons {
		hasCheckin = hasCheckin || b.Action == bot.ActionCheckin
	}
	if !hasCheckin || m.Fallback == "" {
		return nil
	}
	line := m.Fallback
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	i := strings.Index(line, "https://")
	if i < 0 {
		i = strings.Index(line, "http://")
	}
	if i <= 0 {
		return nil
	}
	u := strings.TrimSpace(line[i:])
	label := strings.TrimRight(strings.TrimSpace(line[:i]), "：:")
	if strings.ContainsAny(u, " ()[]<>\"") {
		return nil
	}
	label = strings.Map(func(r rune) rune {
		if strings.ContainsRune("[]()*_~`<>\\", r) {
			return -1
		}
		return r
	}, label)
	return obj{"tag": "markdown", "content": "[" + label + "](" + u + ")", "text_size": "notation"}
}
