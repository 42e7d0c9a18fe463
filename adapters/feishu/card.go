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

// The card JSON 2.0 elements learnloop renders, as typed structs rather
// than maps: encoding them needs no map building and no key sorting. Their
// fields are in alphabetical order, the order the maps they replace were
// encoded in, so a card's bytes are what they were.

// card is a whole card.
type card struct {
	Body   cardBody   `json:"body"`
	Config cardConfig `json:"config"`
	Header cardHeader `json:"header"`
	Schema string     `json:"schema"`
}

type cardBody struct {
	Elements []any `json:"elements"` // *divElem, *columnSet, *markdownElem
}

type cardConfig struct {
	Summary     cardSummary `json:"summary"`
	UpdateMulti bool        `json:"update_multi"`
}

type cardSummary struct {
	Content string `json:"content"`
}

type cardHeader struct {
	Template string    `json:"template"`
	Title    plainText `json:"title"`
}

// plainText is a plain_text text object.
type plainText struct {
	Content   string `json:"content"`
	Tag       string `json:"tag"`
	TextColor string `json:"text_color,omitempty"`
	TextSize  string `json:"text_size,omitempty"`
}

type divElem struct {
	Tag  string    `json:"tag"`
	Text plainText `json:"text"`
}

type markdownElem struct {
	Content  string `json:"content"`
	Tag      string `json:"tag"`
	TextSize string `json:"text_size"`
}

type columnSet struct {
	Columns           []column `json:"columns"`
	FlexMode          string   `json:"flex_mode"`
	HorizontalSpacing string   `json:"horizontal_spacing"`
	Tag               string   `json:"tag"`
}

type column struct {
	Elements []cardButton `json:"elements"`
	Tag      string       `json:"tag"`
	Weight   int          `json:"weight,omitempty"`
	Width    string       `json:"width"`
}

type cardButton struct {
	Behaviors []any     `json:"behaviors"` // one *openURL or *callbackBehavior
	Tag       string    `json:"tag"`
	Text      plainText `json:"text"`
	Type      string    `json:"type"`
	Width     string    `json:"width,omitempty"`
}

type openURL struct {
	DefaultURL string `json:"default_url"`
	Type       string `json:"type"`
}

type callbackBehavior struct {
	Type  string        `json:"type"`
	Value callbackValue `json:"value"`
}

// callbackValue is a callback button's value object, echoed back by
// Feishu in event.action.value (keys valToken, valAction, …).
type callbackValue struct {
	Action string `json:"action"`
	Lang   string `json:"lang,omitempty"`
	Sent   string `json:"sent,omitempty"`
	Token  string `json:"token"`
	Value  string `json:"value,omitempty"`
}

// renderCard turns m into a card JSON 2.0 object. sentUnix (0 = unknown) is
// stamped into callback values so a tap can tell how old its card is.
func renderCard(m bot.Message, sentUnix int64) *card {
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
	return &card{
		Schema: "2.0",
		Config: cardConfig{UpdateMulti: true, Summary: cardSummary{Content: summary}},
		Header: cardHeader{Title: plainText{Tag: "plain_text", Content: m.Title}, Template: template},
		Body:   cardBody{Elements: elems},
	}
}

// plainDiv is a text line; plain_text so course titles and notes are shown
// as written, never interpreted as markdown.
func plainDiv(text, color, size string) *divElem {
	return &divElem{Tag: "div", Text: plainText{Tag: "plain_text", Content: text, TextColor: color, TextSize: size}}
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
func buttonRow(bs []bot.Button, st stamp, equal bool) *columnSet {
	cols := make([]column, 0, len(bs))
	for _, b := range bs {
		col := column{Tag: "column", Width: "auto", Elements: []cardButton{button(b, st, equal)}}
		if equal {
			col.Width, col.Weight = "weighted", 1
		}
		cols = append(cols, col)
	}
	mode := "flow"
	if equal {
		mode = "none"
	}
	return &columnSet{Tag: "column_set", FlexMode: mode, HorizontalSpacing: "8px", Columns: cols}
}

// stamp is what every callback value carries besides the button's own
// token, action and value: when the card was sent (unix seconds, 0 =
// unknown) and whether its recipient reads English.
type stamp struct {
	sent int64
	en   bool
}

func button(b bot.Button, st stamp, fill bool) cardButton {
	typ := "default"
	if b.Primary {
		typ = "primary_filled"
	}
	out := cardButton{Tag: "button", Text: plainText{Tag: "plain_text", Content: b.Text}, Type: typ}
	if fill {
		out.Width = "fill"
	}
	if b.Action == bot.ActionLink {
		out.Behaviors = []any{&openURL{Type: "open_url", DefaultURL: b.URL}}
		return out
	}
	v := callbackValue{Token: b.Token, Action: b.Action, Value: b.Value}
	if st.sent > 0 {
		v.Sent = strconv.FormatInt(st.sent, 10)
	}
	if st.en {
		v.Lang = "en"
	}
	out.Behaviors = []any{&callbackBehavior{Type: "callback", Value: v}}
	return out
}

// cardJSON renders m and checks that the card alone is within Feishu's
// 30 KB limit: the bound that applies to a card in a callback answer. A
// card sent or patched is checked again inside its request body, where
// it is escaped and larger (checkBodySize).
func cardJSON(m bot.Message, sentUnix int64) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(2048) // a check-in card's answer is 1–2 KB: one allocation
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
func fallbackLink(m bot.Message) *markdownElem {
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
	return &markdownElem{Tag: "markdown", Content: "[" + label + "](" + u + ")", TextSize: "notation"}
}
