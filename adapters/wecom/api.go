package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/util"

	"github.com/learnloop/learnloop/adapters/kit"
)

// API paths used by the adapter.
const (
	pathSend     = "/cgi-bin/message/send"
	pathUpdate   = "/cgi-bin/message/update_template_card"
	pathAgentGet = "/cgi-bin/agent/get"
)

// Errcodes the adapter treats specially.
const (
	codeBusy           = -1    // 系统繁忙
	codeInvalidSecret  = 40001 // 不合法的secret参数 (also "invalid credential")
	codeInvalidToken   = 40014 // 不合法的access_token
	codeTokenExpired   = 42001 // access_token已过期
	codeTaskIDExists   = 42014 // taskid has existed or empty or exceed max len
	codeFreqLimit      = 45009 // 接口调用超过限制
	codeFreqLimitAPI   = 45011 // API调用太频繁
	codeConcurrency    = 45033 // 接口并发调用超过限制
	codeAllInvalidUser = 81013 // UserID、部门ID、标签ID全部非法或无权限
)

// tokenCode reports whether code means "this access token is no good":
// the cached token is dropped and the call retried once with a new one.
func tokenCode(code int64) bool {
	return code == codeInvalidSecret || code == codeInvalidToken || code == codeTokenExpired
}

// frequencyCode reports whether code is a WeCom rate-limit answer: the
// call is retried later and every send backs off for a while.
func frequencyCode(code int64) bool {
	return code == codeFreqLimit || code == codeFreqLimitAPI || code == codeConcurrency
}

// transientCode reports whether a later attempt may succeed.
func transientCode(code int64) bool {
	return code == codeBusy || frequencyCode(code) || code == codeInvalidToken || code == codeTokenExpired
}

// APIError is an error answer from WeCom, with its own errcode and errmsg.
type APIError struct {
	Op   string // gettoken, send, update_template_card, agent/get
	Code int64
	Msg  string
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("wecom: %s: errcode %d: %s", e.Op, e.Code, e.Msg)
}

// Transient reports whether a later attempt may succeed.
func (e *APIError) Transient() bool { return transientCode(e.Code) }

// callError is a failed HTTP exchange (network, timeout, HTTP status, a body
// that is not WeCom's JSON). Its text is redacted; it wraps nothing but a
// context error, so no SDK error (whose text holds the URL with the access
// token) can be reached through it.
type callError struct {
	msg string
	err error // nil, context.DeadlineExceeded or context.Canceled
}

func (e *callError) Error() string { return e.msg }
func (e *callError) Unwrap() error { return e.err }

// errBridgeReplaced is returned when something else replaced the SDK's HTTP
// client after this package installed its own: calls would bypass api_base.
var errBridgeReplaced = errors.New("wecom: util.DefaultHTTPClient of silenceper/wechat was replaced by other code; refusing to call WeCom")

// route is one Client's destination: its api_base and transport.
type route struct {
	base   *url.URL
	client *http.Client
}

type routeKey struct{}

var (
	bridgeOnce   sync.Once
	bridgeClient *http.Client
)

// installBridge sets silenceper's util.DefaultHTTPClient, once per process,
// to a client that sends each request to the route found in its context.
// Requests without a route (none from this package) go out unchanged.
func installBridge() {
	bridgeOnce.Do(func() {
		bridgeClient = &http.Client{Transport: bridgeTransport{}}
		util.DefaultHTTPClient = bridgeClient
	})
}

type bridgeTransport struct{}

// RoundTrip rewrites the request's scheme, host and path prefix to the
// route's api_base and sends it through the route's transport.
func (bridgeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt, _ := req.Context().Value(routeKey{}).(*route)
	if rt == nil {
		return http.DefaultTransport.RoundTrip(req)
	}
	u := *rt.base
	u.Path = strings.TrimRight(rt.base.Path, "/") + req.URL.Path
	u.RawPath = ""
	u.RawQuery = req.URL.RawQuery
	out := req.Clone(req.Context())
	out.URL = &u
	out.Host = ""
	t := rt.client.Transport
	if t == nil {
		t = http.DefaultTransport
	}
	return t.RoundTrip(out)
}

// tokenMargin is how long before its expiry a token is refreshed (as the
// SDK's own cache does: expires_in − 1500 s).
const tokenMargin = 1500 * time.Second

// workTokenURL is gettoken as the SDK builds it (the bridge routes it).
const workTokenURL = DefaultAPIBase + "/cgi-bin/gettoken?corpid=%s&corpsecret=%s"

var (
	// sdkTokenErr is how silenceper reports a gettoken errcode.
	sdkTokenErr = regexp.MustCompile(`errcode=(-?\d+)\s*,\s*errormsg=(.*)$`)
	// sdkStatusErr is how silenceper reports an HTTP status other than 200.
	sdkStatusErr = regexp.MustCompile(`statusCode=(\d+)`)
)

// redact removes credentials from s: query parameters that carry them and
// any literal occurrence of the secret, the callback keys or a recent token.
func (c *Client) redact(s string) string { return c.redactor.String(s) }

// checkBridge refuses to call when the SDK's HTTP client is not ours.
func checkBridge() error {
	if util.DefaultHTTPClient != bridgeClient {
		return errBridgeReplaced
	}
	return nil
}

// routed returns ctx bounded by the call timeout and carrying c's route.
func (c *Client) routed(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	return context.WithValue(ctx, routeKey{}, c.route), cancel
}

// token returns a cached access token, fetching one when there is none.
func (c *Client) token(ctx context.Context) (string, error) {
	if err := checkBridge(); err != nil {
		return "", err
	}
	return c.tokens.Get(ctx)
}

// fetchToken asks gettoken for a token through the SDK (so through the
// bridge), and turns the SDK's error texts into redacted errors.
func (c *Client) fetchToken(ctx context.Context) (string, time.Duration, error) {
	rctx, cancel := c.routed(ctx)
	defer cancel()
	res, err := credential.GetTokenFromServerContext(rctx, fmt.Sprintf(workTokenURL, url.QueryEscape(c.cfg.CorpID), url.QueryEscape(c.cfg.Secret)))
	if err != nil {
		if m := sdkTokenErr.FindStringSubmatch(err.Error()); m != nil {
			code, _ := strconv.ParseInt(m[1], 10, 64)
			return "", 0, &APIError{Op: "gettoken", Code: code, Msg: c.redact(strings.TrimSpace(m[2]))}
		}
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return "", 0, &callError{msg: "wecom: gettoken: answer is not JSON"}
		}
		return "", 0, c.transportError("gettoken", err)
	}
	if res.AccessToken == "" {
		return "", 0, &callError{msg: "wecom: gettoken: empty access token"}
	}
	return res.AccessToken, time.Duration(res.ExpiresIn) * time.Second, nil
}

// transportError turns an SDK/HTTP failure into a redacted callError.
func (c *Client) transportError(op string, err error) error {
	msg := c.redact(err.Error())
	if m := sdkStatusErr.FindStringSubmatch(err.Error()); m != nil {
		msg = "http status " + m[1]
	}
	ce := &callError{msg: "wecom: " + op + ": " + msg}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		ce.err = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		ce.err = context.Canceled
	}
	return ce
}

// apiResult is the errcode/errmsg every WeCom answer carries.
type apiResult struct {
	ErrCode *int64 `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// call makes one API call with an access token, through the SDK's HTTP
// helpers (so through the bridge). A refused token (40001/40014/42001) is
// dropped from the cache and the call made once more with a new one. It
// returns the raw answer, also with an *APIError, so callers can read
// fields such as invaliduser.
func (c *Client) call(ctx context.Context, op, method, path string, query url.Values, body any) ([]byte, error) {
	if err := checkBridge(); err != nil {
		return nil, err
	}
	var raw []byte
	attempt := 0
	err := kit.WithToken(ctx, c.tokens, refusedToken, func(tok string) error {
		if attempt++; attempt > 1 {
			c.log.Info("wecom refused the access token; fetching a new one", "op", op)
		}
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("access_token", tok)
		uri := DefaultAPIBase + path + "?" + q.Encode()
		rctx, cancel := c.routed(ctx)
		defer cancel()
		var err error
		raw = nil
		var got []byte
		if method == http.MethodGet {
			got, err = util.HTTPGetContext(rctx, uri)
		} else {
			got, err = util.PostJSONContext(rctx, uri, body)
		}
		if err != nil {
			return c.transportError(op, err)
		}
		var res apiResult
		if err := json.Unmarshal(got, &res); err != nil || res.ErrCode == nil {
			return &callError{msg: "wecom: " + op + ": answer has no errcode"}
		}
		raw = got
		if code := *res.ErrCode; code != 0 {
			return &APIError{Op: op, Code: code, Msg: c.redact(res.ErrMsg)}
		}
		return nil
	})
	return raw, err
}

// refusedToken reports whether err is WeCom refusing the access token.
func refusedToken(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Op != "gettoken" && tokenCode(apiErr.Code)
}
