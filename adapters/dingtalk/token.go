package dingtalk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	oauth2 "github.com/alibabacloud-go/dingtalk/oauth2_1_0"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"
)

// tokenMargin is how long before its expiry a token is refreshed (at most
// a quarter of its life early; kit.TokenCache).
const tokenMargin = 5 * time.Minute

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
