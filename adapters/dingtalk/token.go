package dingtalk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	oauth2 "github.com/alibabacloud-go/dingtalk/oauth2_1_0"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"
)

// tokenMargin is how long before its expiry a token is refreshed.
const tokenMargin = 5 * time.Minute

// tokenCache caches one access token. Concurrent callers share one fetch;
// invalidate drops a token DingTalk rejected so the next get fetches anew.
type tokenCache struct {
	fetch func(ctx context.Context) (string, time.Duration, error)
	now   func() time.Time

	mu     sync.Mutex
	tok    string
	prev   string // the token before tok, still redacted from errors
	exp    time.Time
	flight chan struct{} // closed when the running fetch ends
}

func (t *tokenCache) get(ctx context.Context) (string, error) {
	for {
		t.mu.Lock()
		if t.tok != "" && t.now().Before(t.exp) {
			tok := t.tok
			t.mu.Unlock()
			return tok, nil
		}
		if t.flight != nil {
			ch := t.flight
			t.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		ch := make(chan struct{})
		t.flight = ch
		t.mu.Unlock()

		tok, ttl, err := t.fetch(ctx)
		t.mu.Lock()
		t.flight = nil
		if err == nil {
			if ttl <= 0 {
				ttl = 2 * time.Hour
			}
			// Refresh early, but never cache a token for less than a
			// fraction of its life.
			margin := min(tokenMargin, ttl/4)
			if t.tok != "" {
				t.prev = t.tok
			}
			t.tok, t.exp = tok, t.now().Add(ttl-margin)
		}
		t.mu.Unlock()
		close(ch)
		if err != nil {
			return "", err
		}
		return tok, nil
	}
}

// invalidate forgets tok if it is still the cached token.
func (t *tokenCache) invalidate(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok == tok {
		t.prev, t.tok = tok, ""
	}
}

// fetchAPIToken gets a new-API token with oauth2/accessToken (SDK).
func (c *Client) fetchAPIToken(ctx context.Context) (string, time.Duration, error) {
	var res *oauth2.GetAccessTokenResponse
	err := c.sdkCall(ctx, func(rt *util.RuntimeOptions) error {
		c.oauthMu.Lock()
		defer c.oauthMu.Unlock()
		var err error
		res, err = c.oauth.GetAccessTokenWithOptions(&oauth2.GetAccessTokenRequest{
			AppKey: tea.String(c.cfg.AppKey), AppSecret: tea.String(c.cfg.AppSecret),
		}, map[string]*string{}, rt)
		return err
	})
	if err != nil {
		return "", 0, c.classifySDK("oauth2/accessToken", err)
	}
	if res == nil || res.Body == nil || tea.StringValue(res.Body.AccessToken) == "" {
		return "", 0, fmt.Errorf("oauth2/accessToken: empty token in response: %w", errTransient)
	}
	return tea.StringValue(res.Body.AccessToken), time.Duration(tea.Int64Value(res.Body.ExpireIn)) * time.Second, nil
}

// fetchOAPIToken gets a legacy token with gettoken. The URL carries the
// app secret: it never appears in an error.
func (c *Client) fetchOAPIToken(ctx context.Context) (string, time.Duration, error) {
	q := url.Values{"appkey": {c.cfg.AppKey}, "appsecret": {c.cfg.AppSecret}}
	var out struct {
		oapiStatus
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := c.oapiDo(ctx, http.MethodGet, "/gettoken", q, nil, &out); err != nil {
		return "", 0, err
	}
	if err := c.statusErr("gettoken", out.oapiStatus); err != nil {
		return "", 0, err
	}
	if out.AccessToken == "" {
		return "", 0, fmt.Errorf("gettoken: empty token in response: %w", errTransient)
	}
	return out.AccessToken, time.Duration(out.ExpiresIn) * time.Second, nil
}

// oapiStatus is the errcode/errmsg pair every legacy response carries.
type oapiStatus struct {
	ErrCode json.Number `json:"errcode"`
	ErrMsg  string      `json:"errmsg"`
}
