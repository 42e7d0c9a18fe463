package dingtalk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	card "github.com/alibabacloud-go/dingtalk/card_1_0"
	im "github.com/alibabacloud-go/dingtalk/im_1_0"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/bot"
)

// errTransient marks failures a later attempt may fix.
var errTransient = errors.New("temporary failure")

// ErrPending is returned by CheckDelivery while DingTalk is still
// processing a work notification.
var ErrPending = errors.New("dingtalk: send result not available yet")

type errKind int

const (
	kindTransient errKind = iota // network, 5xx, unexpected answers
	kindQuota                    // per-minute quota (143103/143104, QPS limits): back off
	kindAuth                     // access token rejected: refresh and retry once
	kindPermanent                // anything else DingTalk refused
)

// APIError is an error DingTalk answered with: its code and message, and
// the operation that failed. It never contains a token or secret.
type APIError struct {
	Op   string
	Code string
	// SubCode is the legacy API's sub_code, which says what an errcode
	// 88 (authentication/authorization failure) really is, e.g. 60011
	// (the app lacks the permission); empty when DingTalk sent none.
	SubCode    string
	Message    string
	HTTPStatus int
	kind       errKind
}

// Error implements error.
func (e *APIError) Error() string {
	s := e.Op + ": " + e.Code
	if e.SubCode != "" && !strings.Contains(e.Message, e.SubCode) {
		s += " (sub_code " + e.SubCode + ")"
	}
	if e.Message != "" {
		s += " " + e.Message
	}
	return s
}

// Temporary reports whether a later attempt may succeed.
func (e *APIError) Temporary() bool { return e.kind != kindPermanent }

// Legacy (oapi) error codes.
var (
	quotaCodes     = []string{"143103", "143104", "143203", "143204", "90018", "90002"}
	transientCodes = []string{"-1", "1430003", "90019"}
	authCodes      = []string{"40014", "42001", "40001"}
)

// CodeAuthFailed is the legacy errcode of an authentication or
// authorization failure; its sub_code tells which (60011: the app lacks
// the permission for the call; 40014/42001/40001: the access token).
const CodeAuthFailed = "88"

// classifyCode classifies a legacy errcode and its sub_code. An errcode 88
// is classified by its sub_code: a token problem is refreshed once, a
// quota or transient sub_code is retried, anything else (a missing
// permission, say) is permanent: refreshing the token cannot fix it.
func classifyCode(code, sub string) errKind {
	if code == CodeAuthFailed {
		if sub == "" || sub == CodeAuthFailed {
			return kindPermanent
		}
		code = sub
	}
	switch {
	case slices.Contains(quotaCodes, code):
		return kindQuota
	case slices.Contains(transientCodes, code):
		return kindTransient
	case slices.Contains(authCodes, code):
		return kindAuth
	}
	return kindPermanent
}

// flexString decodes a JSON string or number (DingTalk sends sub_code as
// either) as text.
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexString(n.String())
	}
	return nil
}

// oapiSub is the sub_code/sub_msg pair legacy answers add to some errors
// (errcode 88 above all).
type oapiSub struct {
	SubCode flexString `json:"sub_code"`
	SubMsg  string     `json:"sub_msg"`
}

// statusErr converts a legacy errcode/errmsg into an error (nil for 0).
func (c *Client) statusErr(op string, s oapiStatus) error {
	return c.statusErrSub(op, s, oapiSub{})
}

// statusErrSub is statusErr for answers that may carry a sub_code: the
// error then names it and its message (sub_msg, then errmsg).
func (c *Client) statusErrSub(op string, s oapiStatus, sub oapiSub) error {
	code := s.ErrCode.String()
	if code == "" || code == "0" {
		return nil
	}
	return c.apiErr(op, code, s.ErrMsg, sub, http.StatusOK)
}

func (c *Client) apiErr(op, code, errmsg string, sub oapiSub, status int) *APIError {
	sc := strings.TrimSpace(string(sub.SubCode))
	msg := strings.TrimSpace(errmsg)
	if sc != "" {
		m := "sub_code " + sc
		if sm := strings.TrimSpace(sub.SubMsg); sm != "" {
			m += ": " + sm
		}
		if msg != "" && msg != strings.TrimSpace(sub.SubMsg) {
			m += " (" + msg + ")"
		}
		msg = m
	}
	return &APIError{Op: op, Code: code, SubCode: sc, Message: c.redact(msg), HTTPStatus: status, kind: classifyCode(code, sc)}
}

// toBot maps an error to the bot delivery contract: permanent refusals
// become *bot.PermanentError with DingTalk's code and message; everything
// else stays transient.
func toBot(err error) error {
	if err == nil {
		return nil
	}
	var pe *bot.PermanentError
	var de *bot.DroppedError
	if errors.As(err, &pe) || errors.As(err, &de) {
		return err
	}
	var ae *APIError
	if errors.As(err, &ae) && ae.kind == kindPermanent {
		return &bot.PermanentError{Code: ae.Code, Message: ae.Message, Err: err}
	}
	return err
}

// noteQuota pauses sending after a quota error.
func (c *Client) noteQuota(err error) {
	var ae *APIError
	if errors.As(err, &ae) && ae.kind == kindQuota {
		c.pause(c.quotaPause)
		c.log.Warn("dingtalk quota reached, pausing sends", "op", ae.Op, "code", ae.Code, "detail", ae.Message, "pause", c.quotaPause)
	}
}

// sdkCall runs one alibabacloud SDK call bounded by the configured timeout.
// The SDK takes no context: when ctx ends first the call finishes in the
// background within the timeout and its result is discarded (kit.Bounded).
func (c *Client) sdkCall(ctx context.Context, fn func(rt *util.RuntimeOptions) error) error {
	ms := int(c.cfg.Timeout / time.Millisecond)
	rt := &util.RuntimeOptions{ReadTimeout: tea.Int(ms), ConnectTimeout: tea.Int(ms), Autoretry: tea.Bool(false)}
	return kit.Bounded(ctx, errTransient, func() error { return fn(rt) })
}

// cardCall runs fn with a card SDK client of its own.
func (c *Client) cardCall(ctx context.Context, fn func(cl *card.Client, rt *util.RuntimeOptions) error) error {
	return pooled(ctx, c, c.cardPool, fn)
}

// imCall runs fn with an im SDK client of its own (StandardCard calls).
func (c *Client) imCall(ctx context.Context, fn func(cl *im.Client, rt *util.RuntimeOptions) error) error {
	return pooled(ctx, c, c.imPool, fn)
}

// pooled takes an SDK client from pool for one call (the SDK clients are
// not safe for concurrent use) and gives it back afterwards.
func pooled[T any](ctx context.Context, c *Client, pool chan T, fn func(cl T, rt *util.RuntimeOptions) error) error {
	var cl T
	select {
	case cl = <-pool:
	case <-ctx.Done():
		return ctx.Err()
	}
	return c.sdkCall(ctx, func(rt *util.RuntimeOptions) error {
		defer func() { pool <- cl }()
		return fn(cl, rt)
	})
}

// classifySDK turns an alibabacloud SDK error into an *APIError.
func (c *Client) classifySDK(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var se *tea.SDKError
	if !errors.As(err, &se) {
		// Transport errors, timeouts, non-JSON error pages.
		return &APIError{Op: op, Code: "transport", Message: c.redact(err.Error()), kind: kindTransient}
	}
	status := tea.IntValue(se.StatusCode)
	code := tea.StringValue(se.Code)
	msg := tea.StringValue(se.Message)
	if data := tea.StringValue(se.Data); data != "" {
		var d struct {
			Message    string `json:"message"`
			StatusCode int    `json:"statusCode"`
		}
		if json.Unmarshal([]byte(data), &d) == nil {
			if d.Message != "" {
				msg = d.Message
			}
			if status == 0 {
				status = d.StatusCode
			}
		}
	}
	ae := &APIError{Op: op, Code: code, Message: c.redact(msg), HTTPStatus: status, kind: kindPermanent}
	lc := strings.ToLower(code)
	switch {
	case status == http.StatusTooManyRequests, strings.Contains(lc, "qpslimit"), strings.Contains(lc, "qpmlimit"),
		strings.Contains(lc, "throttl"), slices.Contains(quotaCodes, code):
		ae.kind = kindQuota
	case status >= 500, strings.Contains(lc, "systemerror"), strings.Contains(lc, "serviceunavailable"):
		ae.kind = kindTransient
	case status == http.StatusUnauthorized, code == "InvalidAuthentication", strings.Contains(lc, "invalidaccesstoken"),
		strings.Contains(lc, "token.invalid"), strings.Contains(lc, "token.expired"):
		ae.kind = kindAuth
	}
	if ae.Code == "" {
		ae.Code = "http_" + strconv.Itoa(status)
	}
	return ae
}

// withAPIToken runs fn with a new-API token, refreshing it once when
// DingTalk rejects it.
func (c *Client) withAPIToken(ctx context.Context, fn func(tok string) error) error {
	return withToken(ctx, c.apiTok, fn)
}

// withOAPIToken runs fn with a legacy token, refreshing it once when
// DingTalk rejects it.
func (c *Client) withOAPIToken(ctx context.Context, fn func(tok string) error) error {
	return withToken(ctx, c.oapTok, fn)
}

func withToken(ctx context.Context, tc *kit.TokenCache, fn func(tok string) error) error {
	return kit.WithToken(ctx, tc, refusedToken, fn)
}

// refusedToken reports whether err is DingTalk rejecting the access token.
func refusedToken(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.kind == kindAuth
}

// maxResponse bounds how much of a response is read.
const maxResponse = 1 << 20

// oapiDo calls a legacy oapi endpoint and decodes the JSON answer into
// out. query may carry access_token or appsecret: the URL never appears in
// an error or a log line.
func (c *Client) oapiDo(ctx context.Context, method, path string, query url.Values, body any, out any) error {
	op := strings.TrimPrefix(path, "/")
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s: encode request: %w", op, err)
		}
		rd = bytes.NewReader(b)
	}
	u := c.cfg.OAPIBase + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("%s: build request: %w", op, errors.New(c.redact(err.Error())))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the URL: it holds the token
		}
		if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
			return &APIError{Op: op, Code: "timeout", Message: "no answer within " + c.cfg.Timeout.String(), kind: kindTransient}
		}
		return &APIError{Op: op, Code: "transport", Message: c.redact(err.Error()), kind: kindTransient}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return &APIError{Op: op, Code: "transport", Message: c.redact(err.Error()), HTTPStatus: resp.StatusCode, kind: kindTransient}
	}
	if resp.StatusCode != http.StatusOK {
		ae := &APIError{Op: op, Code: "http_" + strconv.Itoa(resp.StatusCode), Message: http.StatusText(resp.StatusCode), HTTPStatus: resp.StatusCode, kind: kindPermanent}
		var st struct {
			oapiStatus
			oapiSub
		}
		if json.Unmarshal(raw, &st) == nil && st.ErrCode.String() != "" && st.ErrCode.String() != "0" {
			ae = c.apiErr(op, st.ErrCode.String(), st.ErrMsg, st.oapiSub, resp.StatusCode)
		}
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			ae.kind = kindQuota
		case resp.StatusCode >= 500:
			ae.kind = kindTransient
		}
		return ae
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &APIError{Op: op, Code: "bad_response", Message: "response is not JSON", HTTPStatus: resp.StatusCode, kind: kindTransient}
	}
	return nil
}

// redact removes the app secret, callback secrets, recent tokens and
// credential query parameters from s.
func (c *Client) redact(s string) string { return c.secrets.String(s) }
