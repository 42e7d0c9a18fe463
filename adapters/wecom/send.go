package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/learnloop/learnloop/bot"
)

// Error codes stored on a failed delivery besides WeCom's numeric errcodes.
const (
	CodeInvalidUser    = "invaliduser"    // WeCom does not know the userid, or the app cannot see it
	CodeUnlicensedUser = "unlicenseduser" // the member has no (valid) interface licence
	CodeRender         = "render"         // the message cannot be a WeCom card
)

// idList is a WeCom id list, sent either as "a|b" or as ["a","b"].
type idList []string

// UnmarshalJSON accepts both forms.
func (l *idList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var ids []string
		if err := json.Unmarshal(b, &ids); err != nil {
			return err
		}
		*l = ids
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*l = nil
	for _, id := range strings.Split(s, "|") {
		if id != "" {
			*l = append(*l, id)
		}
	}
	return nil
}

// has reports whether id is in l; WeCom lower-cases the ids it returns.
func (l idList) has(id string) bool {
	for _, x := range l {
		if strings.EqualFold(x, id) {
			return true
		}
	}
	return false
}

// sendResponse is the answer of /cgi-bin/message/send (silenceper's
// message.SendResponse, with id lists that accept both forms).
type sendResponse struct {
	InvalidUser    idList `json:"invaliduser"`
	UnlicensedUser idList `json:"unlicenseduser"`
	MsgID          string `json:"msgid"`
	ResponseCode   string `json:"response_code"`
}

// Send implements bot.Messenger. It sends one card to one member: each card
// carries that member's own signed token in its button keys and a task_id
// derived from the delivery key, so cards are never batched (see README).
// The member's per-minute and per-hour windows, the corp-wide API rate and
// the daily quota are honoured by waiting; a long wait, a frequency errcode,
// a token or network failure and a 5xx are transient errors; other errcodes
// are *bot.PermanentError with WeCom's errcode and errmsg.
func (c *Client) Send(ctx context.Context, to bot.Recipient, m bot.Message) (bot.Receipt, error) {
	if to.UserID == "" {
		return bot.Receipt{}, bot.Permanent(CodeInvalidUser, "recipient has no WeCom userid", nil)
	}
	req, err := render(m)
	if err != nil {
		return bot.Receipt{}, bot.Permanent(CodeRender, err.Error(), nil)
	}
	req.ToUser, req.AgentID = to.UserID, c.cfg.AgentID
	if err := c.acquire(ctx, to.UserID, true); err != nil {
		return bot.Receipt{}, err
	}
	raw, err := c.call(ctx, "send", http.MethodPost, pathSend, nil, req)
	var res sendResponse
	if raw != nil {
		_ = json.Unmarshal(raw, &res)
	}
	var apiErr *APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Code == codeTaskIDExists && req.TemplateCard != nil:
		// The task_id is valid by construction, so WeCom already has this
		// card: an earlier attempt got through but its answer was lost.
		c.log.Warn("wecom already has this card's task_id; treating the delivery as sent",
			"task_id", req.TemplateCard.TaskID, "user", to.UserID)
		return bot.Receipt{SentAt: c.now().UTC()}, nil
	case errors.As(err, &apiErr):
		c.pace.unreserve()
		return bot.Receipt{}, c.sendError(apiErr, res, to)
	case err != nil:
		return bot.Receipt{}, err
	}
	c.pace.ok()
	if res.InvalidUser.has(to.UserID) {
		return bot.Receipt{}, invalidUser(to.UserID, "")
	}
	if res.UnlicensedUser.has(to.UserID) {
		return bot.Receipt{}, bot.Permanent(CodeUnlicensedUser, fmt.Sprintf("member %s has no WeCom interface licence", to.UserID), nil)
	}
	return bot.Receipt{Handle: res.ResponseCode, SentAt: c.now().UTC()}, nil
}

func invalidUser(id, msg string) error {
	text := fmt.Sprintf("WeCom does not know userid %s or the app cannot reach it (check the app's visible range)", id)
	if msg != "" {
		text += ": " + msg
	}
	return bot.Permanent(CodeInvalidUser, text, nil)
}

// sendError classifies an errcode answer to a send.
func (c *Client) sendError(e *APIError, res sendResponse, to bot.Recipient) error {
	switch {
	case e.Code == codeAllInvalidUser || res.InvalidUser.has(to.UserID):
		return invalidUser(to.UserID, fmt.Sprintf("errcode %d %s", e.Code, e.Msg))
	case frequencyCode(e.Code):
		d := c.pace.throttled()
		c.log.Warn("wecom frequency limit; backing off", "errcode", e.Code, "cooldown", d)
		return e
	case e.Transient():
		return e
	}
	return bot.Permanent(strconv.FormatInt(e.Code, 10), e.Msg, nil)
}

// Wait implements bot.Pacer: it blocks until a message to `to` stays within
// WeCom's limits, or returns a *RateLimitError when that is too far away.
func (c *Client) Wait(ctx context.Context, to bot.Recipient) error {
	return c.acquire(ctx, to.UserID, false)
}

// updateRequest is the body of /cgi-bin/message/update_template_card.
type updateRequest struct {
	UserIDs      []string       `json:"userids"`
	AgentID      int64          `json:"agentid"`
	ResponseCode string         `json:"response_code"`
	Button       *replaceButton `json:"button,omitempty"`
	TemplateCard *templateCard  `json:"template_card,omitempty"`
}

type replaceButton struct {
	ReplaceName string `json:"replace_name"`
}

// ErrNoHandle is returned by UpdateCard without a response_code.
var ErrNoHandle = errors.New("wecom: no response_code to update the card with")

// UpdateCard implements bot.CardUpdater with update_template_card (which
// the SDK lacks; it is called through the same token cache and HTTP
// client). handle is a response_code: from the tap's callback or from the
// send; each is single use and valid for 72 hours. A message with a Status
// ("已签到 09:02 ✓") turns the card's buttons into that grey, untappable
// text; without one the whole card is replaced (cardUpdateOf, as in a tap's
// passive answer). A tap's own card travels in the callback's answer; this
// call is for updates outside a tap (the /c/ page, a manual check-in).
func (c *Client) UpdateCard(ctx context.Context, to bot.Recipient, handle string, m bot.Message) error {
	if handle == "" {
		return ErrNoHandle
	}
	up, err := cardUpdateOf(m)
	if err != nil {
		return err
	}
	req := updateRequest{UserIDs: []string{to.UserID}, AgentID: c.cfg.AgentID, ResponseCode: handle, TemplateCard: up.card}
	if up.card == nil {
		req.Button = &replaceButton{ReplaceName: up.replaceName}
	}
	raw, err := c.call(ctx, "update_template_card", http.MethodPost, pathUpdate, nil, req)
	var apiErr *APIError
	if errors.As(err, &apiErr) && frequencyCode(apiErr.Code) {
		c.pace.throttled()
	}
	if err != nil {
		return err
	}
	var res struct {
		InvalidUser idList `json:"invaliduser"`
	}
	_ = json.Unmarshal(raw, &res)
	if res.InvalidUser.has(to.UserID) {
		return fmt.Errorf("wecom: update card: invaliduser %s", to.UserID)
	}
	return nil
}

// Doctor fetches a fresh access token and reads the app's agent, and says
// in plain words what WeCom answered when either fails.
func (c *Client) Doctor(ctx context.Context) error {
	c.tokens.Clear()
	if _, err := c.token(ctx); err != nil {
		return fmt.Errorf("wecom: cannot get an access token for corp_id %s: %s: %w", c.cfg.CorpID, c.explain(err), err)
	}
	if _, err := c.call(ctx, "agent/get", http.MethodGet, pathAgentGet, url.Values{"agentid": {c.agentID}}, nil); err != nil {
		return fmt.Errorf("wecom: the token works but agent_id %s does not: %s: %w", c.agentID, c.explain(err), err)
	}
	return nil
}

// hints say what to do about the errcodes a misconfigured app gets.
var hints = map[int64]string{
	-1:     "WeCom is busy; try again in a minute",
	40001:  "the secret is wrong: set platforms.wecom.secret to this app's Secret (应用管理 → the app → Secret)",
	40013:  "the corp id is wrong: set platforms.wecom.corp_id to 我的企业 → 企业信息 → 企业ID",
	40056:  "agent_id is wrong: set platforms.wecom.agent_id to the app's AgentId",
	40091:  "the secret is not valid: copy this app's Secret again",
	41002:  "the corp id is missing: set platforms.wecom.corp_id",
	41004:  "the secret is missing: set platforms.wecom.secret",
	45009:  "WeCom's call frequency limit was hit; try again later",
	48002:  "this app may not call the API: check its permissions",
	60011:  "the app has no permission for this member, department or tag: widen its visible range (可见范围)",
	60020:  "this server's IP address is not in the app's trusted IPs (应用管理 → the app → 企业可信IP)",
	301002: "agent_id and secret belong to different apps: use the AgentId and Secret of the same app",
}

// explain puts an error from WeCom in plain words.
func (c *Client) explain(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		if h, ok := hints[apiErr.Code]; ok {
			return fmt.Sprintf("WeCom answered errcode %d, %s", apiErr.Code, h)
		}
		return fmt.Sprintf("WeCom answered errcode %d (look it up at https://open.work.weixin.qq.com/devtool/query?e=%d)", apiErr.Code, apiErr.Code)
	}
	return "cannot reach " + c.base.String() + " (check platforms.wecom.api_base and the network)"
}
