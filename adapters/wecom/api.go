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

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/util"
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

// tokenCache is the SDK's token cache for one Client. It can drop a token
// that WeCom refused (the SDK itself never evicts).
type tokenCache struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]cacheEntry
	// seen keeps the last tokens handed out, dropped ones included, so that
	// redaction still knows them.
	seen []string
}

// maxSeen is how many recent tokens redaction remembers.
const maxSeen = 8

type cacheEntry struct {
	val any
	exp time.Time
}

var _ cache.Cache = (*tokenCache)(nil)

func newTokenCache(now func() time.Time) *tokenCache {
	return &tokenCache{now: now, m: map[string]cacheEntry{}}
}

// Get implements cache.Cache.
func (t *tokenCache) Get(key string) any {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[key]
	if !ok || !t.now().Before(e.exp) {
		delete(t.m, key)
		return nil
	}
	return e.val
}

// Set implements cache.Cache.
func (t *tokenCache) Set(key string, val any, timeout time.Duration) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.m[key] = cacheEntry{val: val, exp: t.now().Add(timeout)}
	if s, ok := val.(string); ok && s != "" {
		t.seen = append(t.seen, s)
		if len(t.seen) > maxSeen {
			t.seen = t.seen[len(t.seen)-maxSeen:]
		}
	}
	return nil
}

// IsExist implements cache.Cache.
func (t *tokenCache) IsExist(key string) bool { return t.Get(key) != nil }

// Delete implements cache.Cache.
func (t *tokenCache) Delete(key string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
	return nil
}

// dropValue removes every entry holding val (a refused access token), so a
// token fetched meanwhile by another goroutine is kept.
func (t *tokenCache) dropValue(val string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, e := range t.m {
		if s, ok := e.val.(string); ok && s == val {
			delete(t.m, k)
		}
	}
}

// clear drops everything.
func (t *tokenCache) clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.m)
}

// values returns the recent tokens (for redaction).
func (t *tokenCache) values() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.seen...)
}

var (
	// secretParam matches query parameters that carry credentials.
	secretParam = regexp.MustCompile(`(?i)\b((?:access_token|corpsecret|secret|token)=)[^&\s"'<>]*`)
	// sdkTokenErr is how silenceper reports a gettoken errcode.
	sdkTokenErr = regexp.MustCompile(`errcode=(-?\d+)\s*,\s*errormsg=(.*)$`)
	// sdkStatusErr is how silenceper reports an HTTP status other than 200.
	sdkStatusErr = regexp.MustCompile(`statusCode=(\d+)`)
)

const redacted = "REDACTED"

// redact removes credentials from s: query parameters that carry them and
// any literal occurrence of the secret, the callback key or a cached token.
func (c *Client) redact(s string) string {
	s = secretParam.ReplaceAllString(s, "${1}"+redacted)
	lits := append(c.cache.values(), c.cfg.Secret, c.cfg.EncodingAESKey)
	for _, v := range lits {
		if len(v) >= 8 {
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	return s
}

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

// token returns an access token from the SDK's cache, fetching one from
// gettoken when there is none.
func (c *Client) token(ctx context.Context) (string, error) {
	if err := checkBridge(); err != nil {
		return "", err
	}
	rctx, cancel := c.routed(ctx)
	defer cancel()
	tok, err := c.tokens.GetAccessTokenContext(rctx)
	if err != nil {
		if m := sdkTokenErr.FindStringSubmatch(err.Error()); m != nil {
			code, _ := strconv.ParseInt(m[1], 10, 64)
			return "", &APIError{Op: "gettoken", Code: code, Msg: c.redact(strings.TrimSpace(m[2]))}
		}
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return "", &callError{msg: "wecom: gettoken: answer is not JSON"}
		}
		return "", c.transportError("gettoken", err)
	}
	if tok == "" {
		return "", &callError{msg: "wecom: gettoken: empty access token"}
	}
	return tok, nil
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
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx)
		if err != nil {
			return nil, err
		}
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("access_token", tok)
		uri := DefaultAPIBase + path + "?" + q.Encode()
		rctx, cancel := c.routed(ctx)
		var raw []byte
		if method == http.MethodGet {
			raw, err = util.HTTPGetContext(rctx, uri)
		} else {
			raw, err = util.PostJSONContext(rctx, uri, body)
		}
		cancel()
		if err != nil {
			return nil, c.transportError(op, err)
		}
		var res apiResult
		if err := json.Unmarshal(raw, &res); err != nil || res.ErrCode == nil {
			return nil, &callError{msg: "wecom: " + op + ": answer has no errcode"}
		}
		code := *res.ErrCode
		if tokenCode(code) && attempt == 0 {
			c.cache.dropValue(tok)
			c.log.Info("wecom refused the access token; fetching a new one", "op", op, "errcode", code)
			continue
		}
		if code != 0 {
			return raw, &APIError{Op: op, Code: code, Msg: c.redact(res.ErrMsg)}
		}
		return raw, nil
	}
}
