package dingtalk

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	im "github.com/alibabacloud-go/dingtalk/im_1_0"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/text"
)

// StandardTemplateID is DingTalk's built-in card template of the im 1.0
// robot interactive card API (机器人发送互动卡片（普通版）): the card is the
// JSON learnloop builds (StandardCard), so no template has to be built in
// the card platform.
const StandardTemplateID = "StandardCard"

// stdButtonPrefix starts the id of every callback button learnloop puts
// on a StandardCard. A StandardCard tap reports the tapped button's id in
// cardPrivateData.actionIds, so the id carries what the template path
// carries in the button's params: "ll.<action>.<value>.<token>". "." is
// outside the tokens' alphabet; the token may itself start with the
// English marker "en." (markTokens).
const stdButtonPrefix = "ll."

// StandardCard is the card JSON of DingTalk's StandardCard template.
type StandardCard struct {
	Config   StandardConfig    `json:"config"`
	Header   StandardHeader    `json:"header"`
	Contents []StandardContent `json:"contents"`
}

// StandardConfig is a StandardCard's config block.
type StandardConfig struct {
	AutoLayout    bool `json:"autoLayout"`
	EnableForward bool `json:"enableForward"`
}

// StandardText is a text element ("text" or "markdown").
type StandardText struct {
	Type string `json:"type"`
	Text string `json:"text"`
	ID   string `json:"id,omitempty"`
}

// StandardHeader is a StandardCard's title.
type StandardHeader struct {
	Title StandardText `json:"title"`
}

// StandardContent is one block of a StandardCard: "markdown" (Text) or
// "action" (a row of Actions).
type StandardContent struct {
	Type    string           `json:"type"`
	Text    string           `json:"text,omitempty"`
	Actions []StandardButton `json:"actions,omitempty"`
	ID      string           `json:"id"`
}

// StandardButton is a button: actionType "request" calls back (Stream
// card callback, the id in actionIds), "openLink" opens URL.
type StandardButton struct {
	Type       string       `json:"type"`
	Label      StandardText `json:"label"`
	ActionType string       `json:"actionType"`
	URL        *StandardURL `json:"url,omitempty"`
	Status     string       `json:"status"`
	ID         string       `json:"id"`
}

// StandardURL is an openLink button's target on every client.
type StandardURL struct {
	All string `json:"all"`
}

// stdButtonID is the id of a callback button.
func stdButtonID(action, value, token string) string {
	return stdButtonPrefix + action + "." + value + "." + token
}

// parseStdButtonID reverses stdButtonID.
func parseStdButtonID(id string) (action, value, token string, ok bool) {
	rest, found := strings.CutPrefix(id, stdButtonPrefix)
	if !found {
		return "", "", "", false
	}
	parts := strings.SplitN(rest, ".", 3)
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// standardCard renders m as a StandardCard for a recipient speaking
// locale. It is built from the same variables as a custom template
// (cardVars), so both paths show the same text, buttons and links.
func (c *Client) standardCard(m bot.Message, locale text.Locale) StandardCard {
	pub, priv := c.cardVars(m)
	markTokens(priv, locale)
	card := StandardCard{
		Config: StandardConfig{AutoLayout: true, EnableForward: false},
		Header: StandardHeader{Title: StandardText{Type: "text", Text: pub["title"]}},
	}
	add := func(ct StandardContent) { card.Contents = append(card.Contents, ct) }
	if pub["content"] != "" {
		add(StandardContent{Type: "markdown", Text: pub["content"], ID: "content"})
	}
	n := 0
	label := func(s string) StandardText {
		n++
		return StandardText{Type: "text", Text: s, ID: "label_" + strconv.Itoa(n)}
	}
	request := func(text, action, value, token, status string) StandardButton {
		return StandardButton{Type: "button", Label: label(text), ActionType: "request", Status: status, ID: stdButtonID(action, value, token)}
	}
	var row []StandardButton
	if pub["show_checkin"] == "true" && priv["checkin_token"] != "" {
		row = append(row, request(pub["checkin_text"], bot.ActionCheckin, "", priv["checkin_token"], "primary"))
	}
	for i := 1; i <= 2; i++ {
		k := strconv.Itoa(i)
		if pub["show_link"+k] == "true" {
			row = append(row, StandardButton{Type: "button", Label: label(pub["link"+k+"_text"]), ActionType: "openLink",
				URL: &StandardURL{All: pub["link"+k+"_url"]}, Status: "normal", ID: "link_" + k})
		}
	}
	if len(row) > 0 {
		add(StandardContent{Type: "action", Actions: row, ID: "actions"})
	}
	scores := func(action, question string, from, to int, tokenVar func(string) string) {
		if question != "" {
			add(StandardContent{Type: "markdown", Text: mdEscape(question), ID: action + "_question"})
		}
		// Rows of at most six buttons: eleven NPS buttons in one row do
		// not fit a phone.
		var row []StandardButton
		part := 0
		flush := func() {
			if len(row) > 0 {
				part++
				add(StandardContent{Type: "action", Actions: row, ID: action + "_" + strconv.Itoa(part)})
				row = nil
			}
		}
		for v := from; v <= to; v++ {
			s := strconv.Itoa(v)
			if tok := priv[tokenVar(s)]; tok != "" {
				row = append(row, request(s, action, s, tok, "normal"))
			}
			if len(row) == 6 {
				flush()
			}
		}
		flush()
	}
	if pub["show_rate"] == "true" {
		scores(bot.ActionRate, pub["rate_question"], 1, 5, rateTokenVar)
	}
	if pub["show_nps"] == "true" {
		scores(bot.ActionNPS, pub["nps_question"], 0, 10, npsTokenVar)
	}
	if u := priv["checkin_url"]; u != "" {
		add(StandardContent{Type: "markdown", Text: "[" + text.T(locale, "adapters:checkin_link") + "](" + u + ")", ID: "checkin_link"})
	}
	return card
}

// standardJSON is the cardData string of m's StandardCard.
func (c *Client) standardJSON(m bot.Message, locale text.Locale) (string, error) {
	b, err := json.Marshal(c.standardCard(m, locale))
	if err != nil {
		return "", fmt.Errorf("encode standard card: %w", err)
	}
	return string(b), nil
}

// sendStandard sends m as a StandardCard to the user's robot chat
// (POST /v1.0/im/v1.0/robot/interactiveCards/send); cardBizId is the
// delivery key, which is also the receipt handle.
func (c *Client) sendStandard(ctx context.Context, to bot.Recipient, m bot.Message) (bot.Receipt, error) {
	data, err := c.standardJSON(m, text.Parse(string(recipientLocale(to, m))))
	if err != nil {
		return bot.Receipt{}, bot.Permanent("invalid_message", err.Error(), nil)
	}
	recv, _ := json.Marshal(map[string]string{"userId": to.UserID})
	req := &im.SendRobotInteractiveCardRequest{
		CardTemplateId:     tea.String(StandardTemplateID),
		CardBizId:          tea.String(m.Key),
		RobotCode:          tea.String(c.cfg.RobotCode),
		CardData:           tea.String(data),
		SingleChatReceiver: tea.String(string(recv)),
		PullStrategy:       tea.Bool(false),
	}
	const op = "im/robot/interactiveCards/send"
	var res *im.SendRobotInteractiveCardResponse
	if err := c.imDo(ctx, op, func(cl *im.Client, tok *string, rt *util.RuntimeOptions) (err error) {
		res, err = cl.SendRobotInteractiveCardWithOptions(req, &im.SendRobotInteractiveCardHeaders{XAcsDingtalkAccessToken: tok}, rt)
		return err
	}); err != nil {
		return bot.Receipt{}, toBot(err)
	}
	if res == nil || res.Body == nil || tea.StringValue(res.Body.ProcessQueryKey) == "" {
		return bot.Receipt{}, fmt.Errorf("%s: no processQueryKey: %w", op, errTransient)
	}
	return bot.Receipt{Handle: m.Key, SentAt: c.nowUTC()}, nil
}

// updateStandard replaces the StandardCard sent under cardBizId handle
// with m (PUT /v1.0/im/robots/interactiveCards).
func (c *Client) updateStandard(ctx context.Context, to bot.Recipient, handle string, m bot.Message) error {
	data, err := c.standardJSON(m, text.Parse(string(recipientLocale(to, m))))
	if err != nil {
		return fmt.Errorf("dingtalk: update card %s: %w", handle, err)
	}
	req := &im.UpdateRobotInteractiveCardRequest{
		CardBizId: tea.String(handle),
		CardData:  tea.String(data),
		UpdateOptions: &im.UpdateRobotInteractiveCardRequestUpdateOptions{
			UpdateCardDataByKey: tea.Bool(true), UpdatePrivateDataByKey: tea.Bool(true),
		},
	}
	const op = "im/robots/interactiveCards update"
	var res *im.UpdateRobotInteractiveCardResponse
	if err := c.imDo(ctx, op, func(cl *im.Client, tok *string, rt *util.RuntimeOptions) (err error) {
		res, err = cl.UpdateRobotInteractiveCardWithOptions(req, &im.UpdateRobotInteractiveCardHeaders{XAcsDingtalkAccessToken: tok}, rt)
		return err
	}); err != nil {
		return fmt.Errorf("dingtalk: update card %s: %w", handle, err)
	}
	if res == nil || res.Body == nil || tea.StringValue(res.Body.ProcessQueryKey) == "" {
		return fmt.Errorf("dingtalk: update card %s: no processQueryKey: %w", handle, errTransient)
	}
	return nil
}

// imDo runs one im SDK call with a new-API token (refreshed once when
// DingTalk rejects it), classifies its error and notes a quota pause.
func (c *Client) imDo(ctx context.Context, op string, fn func(cl *im.Client, tok *string, rt *util.RuntimeOptions) error) error {
	err := c.withAPIToken(ctx, func(tok string) error {
		if err := c.imCall(ctx, func(cl *im.Client, rt *util.RuntimeOptions) error { return fn(cl, tea.String(tok), rt) }); err != nil {
			return c.classifySDK(op, err)
		}
		return nil
	})
	if err != nil {
		c.noteQuota(err)
	}
	return err
}
