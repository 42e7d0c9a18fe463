package dingtalk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	contact "github.com/alibabacloud-go/dingtalk/contact_1_0"
	oauth2 "github.com/alibabacloud-go/dingtalk/oauth2_1_0"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"
)

// AuthorizeBase is DingTalk's OAuth 2 authorisation host. Inside the
// DingTalk client it answers without asking (免登) by sending the browser
// back to the redirect URL with ?authCode=…&state=….
const AuthorizeBase = "https://login.dingtalk.com"

// AuthorizeURL returns DingTalk's OAuth 2 authorisation URL (scope openid).
// redirectURI must be registered under the app's 登录与分享 → 回调域名.
func (c *Client) AuthorizeURL(redirectURI, state string) string {
	q := url.Values{
		"redirect_uri": {redirectURI}, "response_type": {"code"}, "client_id": {c.cfg.AppKey},
		"scope": {"openid"}, "state": {state}, "prompt": {"consent"},
	}
	return AuthorizeBase + "/oauth2/auth?" + q.Encode()
}

// IdentifyUser exchanges an authorisation code for the person's userid
// (staffId), the id a roster's dingtalk_id column holds:
// /v1.0/oauth2/userAccessToken and /v1.0/contact/users/me through the SDK
// (both on api_base), then the legacy topapi/user/getbyunionid (oapi_base),
// which turns the unionId into the organisation's userid. Codes are
// single-use.
func (c *Client) IdentifyUser(ctx context.Context, code, _ string) (string, error) {
	if code == "" || len(code) > 512 {
		return "", errors.New("dingtalk: userAccessToken: empty or oversized code")
	}
	var tok *oauth2.GetUserTokenResponse
	err := c.sdkCall(ctx, func(rt *util.RuntimeOptions) error {
		c.oauthMu.Lock()
		defer c.oauthMu.Unlock()
		var err error
		tok, err = c.oauth.GetUserTokenWithOptions(&oauth2.GetUserTokenRequest{
			ClientId: tea.String(c.cfg.AppKey), ClientSecret: tea.String(c.cfg.AppSecret),
			Code: tea.String(code), GrantType: tea.String("authorization_code"),
		}, map[string]*string{}, rt)
		return err
	})
	if err != nil {
		return "", c.classifySDK("oauth2/userAccessToken", err)
	}
	if tok == nil || tok.Body == nil || tea.StringValue(tok.Body.AccessToken) == "" {
		return "", errors.New("dingtalk: oauth2/userAccessToken: no accessToken in response")
	}
	oc, err := openAPIConfig(c.cfg.APIBase, c.cfg.Timeout)
	if err != nil {
		return "", err
	}
	cc, err := contact.NewClient(oc)
	if err != nil {
		return "", fmt.Errorf("dingtalk: contact client: %w", err)
	}
	var me *contact.GetUserResponse
	err = c.sdkCall(ctx, func(rt *util.RuntimeOptions) error {
		var err error
		me, err = cc.GetUserWithOptions(tea.String("me"), &contact.GetUserHeaders{XAcsDingtalkAccessToken: tok.Body.AccessToken}, rt)
		return err
	})
	if err != nil {
		return "", c.classifySDK("contact/users/me", err)
	}
	if me == nil || me.Body == nil || tea.StringValue(me.Body.UnionId) == "" {
		return "", errors.New("dingtalk: contact/users/me: no unionId in response")
	}
	var out struct {
		oapiStatus
		Result struct {
			UserID      string `json:"userid"`
			ContactType int    `json:"contact_type"`
		} `json:"result"`
	}
	err = c.withOAPIToken(ctx, func(oapiTok string) error {
		body := map[string]string{"unionid": tea.StringValue(me.Body.UnionId)}
		if err := c.oapiDo(ctx, http.MethodPost, "/topapi/user/getbyunionid", url.Values{"access_token": {oapiTok}}, body, &out); err != nil {
			return err
		}
		return c.statusErr("topapi/user/getbyunionid", out.oapiStatus)
	})
	if err != nil {
		return "", err
	}
	if out.Result.UserID == "" {
		return "", errors.New("dingtalk: topapi/user/getbyunionid: the person is not a member of the organisation")
	}
	return out.Result.UserID, nil
}
