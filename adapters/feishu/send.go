package feishu

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/cut"
)

// Feishu codes that mean "slow down"; the send is retried later.
var rateLimitCodes = map[int]bool{
	99991400: true, // app request frequency limit (gateway)
	11232:    true, // message service trigger rate limit
	230020:   true, // per-chat (per-user) message rate limit
}

// APIError is a Feishu API failure that a later attempt may fix (rate
// limits, server errors, an expired token that could not be renewed).
type APIError struct {
	Op     string
	Status int // HTTP status
	Code   int // Feishu code
	Msg    string
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("feishu: %s: code %d: %s (HTTP %d)", e.Op, e.Code, e.Msg, e.Status)
}

// maxUUIDLen is the longest uuid im/v1/messages accepts.
const maxUUIDLen = 50

// messageUUID derives Feishu's idempotency key from the delivery key: the
// key itself when it fits, otherwise a stable hash of it.
func messageUUID(key string) string {
	if len(key) <= maxUUIDLen {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "ll-" + hex.EncodeToString(sum[:])[:40]
}

// Send implements bot.Messenger: one card JSON 2.0 message to one user,
// with the delivery key as uuid so a retried send is not shown twice.
// Send paces itself to Feishu's quotas (see Limits).
func (c *Client) Send(ctx context.Context, to bot.Recipient, m bot.Message) (bot.Receipt, error) {
	if to.UserID == "" {
		return bot.Receipt{}, bot.Permanent("no_user_id", "recipient has no Feishu "+c.cfg.ReceiveIDType, nil)
	}
	if err := m.Validate(); err != nil {
		return bot.Receipt{}, bot.Permanent("invalid_message", err.Error(), nil)
	}
	sent := c.now()
	card, err := cardJSON(m, sent.Unix())
	if err != nil {
		return bot.Receipt{}, bot.Permanent("card_too_large", err.Error(), nil)
	}
	uuid := messageUUID(m.Key)
	body := larkim.NewCreateMessageReqBodyBuilder().
		ReceiveId(to.UserID).MsgType(larkim.MsgTypeInteractive).Content(string(card)).Uuid(uuid).Build()
	if err := checkBodySize(body); err != nil {
		return bot.Receipt{}, err
	}
	var data *larkim.CreateMessageRespData
	err = c.call(ctx, "send message", "u:"+to.UserID, func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
		req := larkim.NewCreateMessageReqBuilder().
			ReceiveIdType(c.cfg.ReceiveIDType).
			Body(body).
			Build()
		resp, err := c.sdk.Im.V1.Message.Create(ctx, req, opt)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		data = resp.Data
		return resp.ApiResp, resp.CodeError, nil
	})
	if err != nil {
		return bot.Receipt{}, err
	}
	rc := bot.Receipt{SentAt: sent}
	if data != nil && data.MessageId != nil {
		rc.Handle = *data.MessageId
	}
	if data != nil && data.CreateTime != nil {
		if ms, perr := strconv.ParseInt(*data.CreateTime, 10, 64); perr == nil && ms > 0 {
			rc.SentAt = time.UnixMilli(ms).UTC()
		}
	}
	if rc.Handle == "" {
		return rc, &APIError{Op: "send message", Status: http.StatusOK, Msg: "response has no message_id"}
	}
	return rc, nil
}

// checkBodySize applies Feishu's 30 KB card limit to what it applies to:
// the whole request body. The card travels as a JSON string inside
// "content", so every quote and backslash in it doubles and the SDK's
// encoder (encoding/json, HTML-escaping) turns "<", ">" and "&" into six
// bytes each; the body is measured encoded exactly as the SDK sends it.
func checkBodySize(body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return bot.Permanent("invalid_message", fmt.Sprintf("encode request body: %v", err), nil)
	}
	if len(b) > maxCardBytes {
		return bot.Permanent("card_too_large", fmt.Sprintf("request body is %d bytes with the card encoded in it, over Feishu's %d-byte limit", len(b), maxCardBytes), nil)
	}
	return nil
}

// UpdateCard implements bot.CardUpdater for changes that do not come from a
// card tap (a check-in through the /c/ fallback link, say): it PATCHes the
// message whose id handle is. A tap is answered with the new card in the
// callback's answer instead (see handleTap). Without a handle it does
// nothing. Feishu only updates messages up to 14 days old.
func (c *Client) UpdateCard(ctx context.Context, to bot.Recipient, handle string, m bot.Message) error {
	if handle == "" {
		return nil
	}
	card, err := cardJSON(m, 0)
	if err != nil {
		return bot.Permanent("card_too_large", err.Error(), nil)
	}
	body := larkim.NewPatchMessageReqBodyBuilder().Content(string(card)).Build()
	if err := checkBodySize(body); err != nil {
		return err
	}
	return c.call(ctx, "update card", "m:"+handle, func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
		req := larkim.NewPatchMessageReqBuilder().MessageId(handle).Body(body).Build()
		resp, err := c.sdk.Im.V1.Message.Patch(ctx, req, opt)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		return resp.ApiResp, resp.CodeError, nil
	})
}

// apiCall is one SDK call made with the given tenant token option.
type apiCall func(ctx context.Context, tok larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error)

// call runs fn with a cached tenant token, paced by paceKey (messages: the
// app quotas plus 5/s per user or per message; "" for no pacing), each attempt
// bounded by the configured timeout. A token Feishu calls invalid is evicted
// and the call retried once with a fresh one.
func (c *Client) call(ctx context.Context, op, paceKey string, fn apiCall) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.tokens.Get(ctx)
		if err != nil {
			return err // transient: the job retries; doctor explains
		}
		if paceKey != "" {
			if err := c.pace.wait(ctx, paceKey); err != nil {
				return fmt.Errorf("feishu: %s: %w", op, err)
			}
		}
		cctx, cancel := c.callCtx(ctx)
		resp, ce, err := fn(cctx, larkcore.WithTenantAccessToken(tok))
		cancel()
		if err != nil {
			return fmt.Errorf("feishu: %s: %w", op, c.scrub(err))
		}
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		if ce.Code == 0 && status < 300 {
			if paceKey != "" {
				c.pace.ok()
			}
			return nil
		}
		if status == http.StatusTooManyRequests || rateLimitCodes[ce.Code] {
			c.pace.throttled(time.Now())
		}
		if isTokenInvalid(ce.Code) {
			c.tokens.Invalidate(tok)
			if attempt == 0 {
				continue
			}
		}
		return c.classify(op, status, ce)
	}
}

// classify maps a failed response to a transient *APIError or a
// *bot.PermanentError carrying Feishu's code and message.
func (c *Client) classify(op string, status int, ce larkcore.CodeError) error {
	msg := c.scrubString(cut.Bytes(ce.Msg, maxErrLen))
	switch {
	case status >= 500, status == http.StatusTooManyRequests, rateLimitCodes[ce.Code], isTokenInvalid(ce.Code):
		return &APIError{Op: op, Status: status, Code: ce.Code, Msg: msg}
	case ce.Code != 0:
		return bot.Permanent(strconv.Itoa(ce.Code), msg, nil)
	default:
		return bot.Permanent("http_"+strconv.Itoa(status), msg, nil)
	}
}
