package wecom

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/text"
)

// WeCom template-card limits (developer.work.weixin.qq.com path/90236).
const (
	maxButtons     = 6    // button_list
	maxKeyBytes    = 1024 // button key, submit_button key, question_key
	maxVoteOptions = 20   // checkbox.option_list
	maxFields      = 6    // horizontal_content_list
	maxJumps       = 3    // jump_list
	maxTextBytes   = 2048 // text.content
	maxTaskID      = 128
	// dupCheckInterval is the duplicate-check window for text messages,
	// WeCom's maximum (4 h); cards are deduplicated by task_id instead.
	dupCheckInterval = 4 * 3600
)

// Button styles: 1 is the highlighted one, 4 the plain one.
const (
	styleMain  = 1
	stylePlain = 4
)

// keyPrefix starts every callback key this adapter writes; callbacks whose
// key does not start with it are not ours and are ignored.
const keyPrefix = "ll:"

// questionKey is the checkbox key of an in-card single choice (NPS).
const questionKey = "score"

// Character sets of the ids and key parts WeCom carries: task_id is
// [0-9A-Za-z_-@]{1,128}; a key's value is [0-9A-Za-z_-]{0,32}, its token
// [0-9A-Za-z_-]{1,900}; an option id [0-9A-Za-z_-]{1,128}. They are checked
// on every tap, without regexp (which took a fifth of the adapter's CPU per
// tap).
func isTaskID(s string) bool   { return idChars(s, 1, maxTaskID, true) }
func isToken(s string) bool    { return idChars(s, 1, 900, false) }
func isValue(s string) bool    { return idChars(s, 0, 32, false) }
func isOptionID(s string) bool { return idChars(s, 1, 128, false) }

// idChars reports whether s has min to max bytes of [0-9A-Za-z_-] (and @
// when at is set).
func idChars(s string, min, max int, at bool) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '_', c == '-':
		case c == '@' && at:
		default:
			return false
		}
	}
	return true
}

// taskID derives the card's task_id from the delivery key. WeCom refuses a
// second card with the same task_id in the same app, so a retried delivery
// can never make a second card. Keys that are not valid task ids (other
// characters, too long) are hashed.
func taskID(key string) string {
	if isTaskID(key) {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "llh-" + hex.EncodeToString(sum[:20])
}

// callbackActions are the button actions that call back.
var callbackActions = map[string]bool{bot.ActionCheckin: true, bot.ActionRate: true, bot.ActionNPS: true}

// encodeKey packs a button's action, value and signed token into its
// WeCom key: "ll:<action>:<value>:<token>".
func encodeKey(action, value, token string) (string, error) {
	if !callbackActions[action] {
		return "", fmt.Errorf("unknown button action %q", action)
	}
	if !isValue(value) {
		return "", fmt.Errorf("button value %q has characters a key cannot carry", value)
	}
	if !isToken(token) {
		return "", errors.New("button token is empty, too long or not URL-safe base64")
	}
	k := keyPrefix + action + ":" + value + ":" + token
	if len(k) > maxKeyBytes {
		return "", fmt.Errorf("button key is %d bytes, more than %d", len(k), maxKeyBytes)
	}
	return k, nil
}

// errNotOurs marks a callback key that this adapter did not write.
var errNotOurs = errors.New("not a learnloop key")

// decodeKey unpacks a key written by encodeKey.
func decodeKey(key string) (action, value, token string, err error) {
	rest, ok := strings.CutPrefix(key, keyPrefix)
	if !ok {
		return "", "", "", errNotOurs
	}
	action, rest, ok1 := strings.Cut(rest, ":")
	value, token, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || !callbackActions[action] || !isValue(value) || !isToken(token) {
		return "", "", "", errors.New("malformed callback key")
	}
	return action, value, token, nil
}

// sendRequest is the body of /cgi-bin/message/send.
type sendRequest struct {
	ToUser                 string        `json:"touser"`
	MsgType                string        `json:"msgtype"`
	AgentID                int64         `json:"agentid"`
	TemplateCard           *templateCard `json:"template_card,omitempty"`
	Text                   *textBody     `json:"text,omitempty"`
	EnableDuplicateCheck   int           `json:"enable_duplicate_check,omitempty"`
	DuplicateCheckInterval int           `json:"duplicate_check_interval,omitempty"`
}

type textBody struct {
	Content string `json:"content"`
}

// templateCard is the template_card object; which fields are set depends
// on card_type.
type templateCard struct {
	CardType              string              `json:"card_type"`
	MainTitle             *mainTitle          `json:"main_title,omitempty"`
	SubTitleText          string              `json:"sub_title_text,omitempty"`
	HorizontalContentList []horizontalContent `json:"horizontal_content_list,omitempty"`
	JumpList              []jump              `json:"jump_list,omitempty"`
	CardAction            *cardAction         `json:"card_action,omitempty"`
	TaskID                string              `json:"task_id"`
	ButtonList            []cardButton        `json:"button_list,omitempty"`
	Checkbox              *checkbox           `json:"checkbox,omitempty"`
	SubmitButton          *submitButton       `json:"submit_button,omitempty"`
}

type mainTitle struct {
	Title string `json:"title,omitempty"`
	Desc  string `json:"desc,omitempty"`
}

type horizontalContent struct {
	KeyName string `json:"keyname"`
	Value   string `json:"value"`
}

type jump struct {
	Type  int    `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

type cardAction struct {
	Type int    `json:"type"`
	URL  string `json:"url"`
}

// cardButton is one entry of button_list: type 0 calls back with key,
// type 1 opens url.
type cardButton struct {
	Type  int    `json:"type"`
	Text  string `json:"text"`
	Style int    `json:"style,omitempty"`
	Key   string `json:"key,omitempty"`
	URL   string `json:"url,omitempty"`
}

type checkbox struct {
	QuestionKey string   `json:"question_key"`
	Mode        int      `json:"mode"` // 0 single choice, 1 multiple
	OptionList  []option `json:"option_list"`
}

type option struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

type submitButton struct {
	Text string `json:"text"`
	Key  string `json:"key"`
}

// Card types.
const (
	cardButtonInteraction = "button_interaction"
	cardVoteInteraction   = "vote_interaction"
	cardTextNotice        = "text_notice"
)

// vote is an in-card single choice, rendered as vote_interaction.
type vote struct {
	action, token, question, submit string
	options                         []option
}

// render turns m into the message WeCom shows (without touser/agentid):
//   - callback buttons (≤ 6 with the links that fit) → button_interaction
//     (check-in: one button; rating: five; a choice of ≤ 6 options becomes
//     buttons too);
//   - a choice, or one action with more values than 6 buttons hold (NPS
//     0–10) → vote_interaction, single choice with a submit button; such a
//     card cannot hold links, so when a link is Primary (the survey form)
//     the links win and the card is a text_notice;
//   - only links → text_notice (card_action on the primary link, jump_list);
//   - nothing to tap → a text message.
//
// Buttons that repeat the Choice (same action and token) are the choice
// laid out for other platforms and are not rendered twice.
func render(m bot.Message) (sendRequest, error) {
	if err := m.Validate(); err != nil {
		return sendRequest{}, err
	}
	var calls, links []bot.Button
	for _, b := range m.Buttons {
		if b.Action == bot.ActionLink {
			links = append(links, b)
		} else {
			calls = append(calls, b)
		}
	}
	var v *vote
	if ch := m.Choice; ch != nil {
		if len(ch.Options) == 0 {
			return sendRequest{}, errors.New("choice has no options")
		}
		// Buttons with the choice's action and token are the same choice
		// laid out as buttons for other platforms.
		kept := calls[:0]
		for _, b := range calls {
			if b.Action != ch.Action || b.Token != ch.Token {
				kept = append(kept, b)
			}
		}
		calls = kept
		if len(calls)+len(ch.Options) <= maxButtons {
			for _, o := range ch.Options {
				calls = append(calls, bot.Button{Text: o, Action: ch.Action, Value: o, Token: ch.Token})
			}
		} else {
			v = &vote{action: ch.Action, token: ch.Token, question: ch.Question, submit: ch.Submit}
			for _, o := range ch.Options {
				v.options = append(v.options, option{ID: o, Text: o})
			}
		}
	} else if len(calls) > maxButtons {
		v = &vote{action: calls[0].Action, token: calls[0].Token}
		for _, b := range calls {
			if b.Action != v.action || b.Token != v.token {
				return sendRequest{}, fmt.Errorf("%d callback buttons do not fit in %d and are not one choice", len(calls), maxButtons)
			}
			v.options = append(v.options, option{ID: b.Value, Text: b.Text})
		}
		calls = nil
	}
	if v != nil && len(calls) == 0 && primaryLink(links) {
		// A vote card cannot hold links. When a link is the main call to
		// action (the feedback form, which asks the same question), the
		// card keeps the links and the choice is answered there.
		v = nil
	}
	card := &templateCard{TaskID: taskID(m.Key), MainTitle: &mainTitle{Title: m.Title}}
	body := m.Body
	if m.Status != "" {
		body = strings.TrimSpace(body + "\n" + m.Status)
	}
	switch {
	case v != nil:
		if len(calls) > 0 {
			return sendRequest{}, errors.New("a card cannot hold both a choice and callback buttons")
		}
		if err := v.fill(card, m, body); err != nil {
			return sendRequest{}, err
		}
	case len(calls) > 0:
		card.CardType = cardButtonInteraction
		card.SubTitleText = body
		card.HorizontalContentList = fields(m)
		for _, b := range calls {
			key, err := encodeKey(b.Action, b.Value, b.Token)
			if err != nil {
				return sendRequest{}, err
			}
			card.ButtonList = append(card.ButtonList, cardButton{Type: 0, Text: b.Text, Style: styleMain, Key: key})
		}
		for _, b := range links {
			if len(card.ButtonList) < maxButtons {
				style := stylePlain
				if b.Primary {
					style = styleMain
				}
				card.ButtonList = append(card.ButtonList, cardButton{Type: 1, Text: b.Text, Style: style, URL: b.URL})
			} else if card.CardAction == nil {
				card.CardAction = &cardAction{Type: 1, URL: b.URL}
			}
		}
	case len(links) > 0:
		card.CardType = cardTextNotice
		card.SubTitleText = body
		card.HorizontalContentList = fields(m)
		main := links[0]
		for _, b := range links {
			if b.Primary {
				main = b
				break
			}
		}
		card.CardAction = &cardAction{Type: 1, URL: main.URL}
		for _, b := range links[:min(len(links), maxJumps)] {
			card.JumpList = append(card.JumpList, jump{Type: 1, Title: b.Text, URL: b.URL})
		}
	default:
		return sendRequest{MsgType: "text", Text: &textBody{Content: plainText(m, body)},
			EnableDuplicateCheck: 1, DuplicateCheckInterval: dupCheckInterval}, nil
	}
	return sendRequest{MsgType: "template_card", TemplateCard: card}, nil
}

func primaryLink(links []bot.Button) bool {
	for _, b := range links {
		if b.Primary {
			return true
		}
	}
	return false
}

func (v *vote) fill(card *templateCard, m bot.Message, body string) error {
	if v.action != bot.ActionNPS && v.action != bot.ActionRate {
		return fmt.Errorf("action %q cannot be an in-card choice", v.action)
	}
	if len(v.options) > maxVoteOptions {
		return fmt.Errorf("choice has %d options, more than %d", len(v.options), maxVoteOptions)
	}
	for _, o := range v.options {
		if !isOptionID(o.ID) {
			return fmt.Errorf("choice option %q cannot be an option id", o.ID)
		}
	}
	key, err := encodeKey(v.action, "", v.token)
	if err != nil {
		return err
	}
	submit := v.submit
	if submit == "" {
		submit = text.T(m.Locale, "adapters:submit")
	}
	desc := v.question
	if desc == "" {
		desc = body
	}
	card.CardType = cardVoteInteraction
	card.MainTitle.Desc = desc
	card.Checkbox = &checkbox{QuestionKey: questionKey, Mode: 0, OptionList: v.options}
	card.SubmitButton = &submitButton{Text: submit, Key: key}
	return nil
}

func fields(m bot.Message) []horizontalContent {
	var out []horizontalContent
	for _, f := range m.Fields[:min(len(m.Fields), maxFields)] {
		out = append(out, horizontalContent{KeyName: f.Label, Value: f.Value})
	}
	return out
}

// plainText renders m as a text message of at most maxTextBytes.
func plainText(m bot.Message, body string) string {
	var b strings.Builder
	b.WriteString(m.Title)
	if body != "" {
		b.WriteString("\n" + body)
	}
	for _, f := range m.Fields {
		b.WriteString("\n" + f.Label + "：" + f.Value)
	}
	return cut.Bytes(b.String(), maxTextBytes)
}
