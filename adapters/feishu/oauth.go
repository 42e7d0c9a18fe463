package feishu

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkauthen "github.com/larksuite/oapi-sdk-go/v3/service/authen/v1"

	"github.com/learnloop/learnloop/adapters/kit"
)

// AuthorizeURL returns Feishu's web authorisation URL (网页应用免登): inside
// Feishu it answers without asking, sending the person back to redirectURI
// with ?code=…&state=state. redirectURI must be listed under the app's
// 安全设置 → 重定向 URL. It lives on api_base, so a fake serves it in tests.
func (c *Client) AuthorizeURL(redirectURI, state string) string {
	q := url.Values{"app_id": {c.cfg.AppID}, "redirect_uri": {redirectURI}, "state": {state}}
	return c.cfg.APIBase + "/open-apis/authen/v1/authorize?" + q.Encode()
}

// IdentifyUser exchanges a web authorisation code for the person's id of
// the configured receive_id_type (open_id, user_id, union_id or email), the
// id a roster's feishu_id column holds: app_access_token (internal app),
// then authen/v1/oidc/access_token (user_access_token) and
// authen/v1/user_info, all through the SDK. Codes are single-use and
// expire after 5 minutes.
func (c *Client) IdentifyUser(ctx context.Context, code, _ string) (string, error) {
	if code == "" || len(code) > 512 {
		return "", errors.New("feishu: oidc access token: empty or oversized code")
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	appToken, err := c.appAccessToken(ctx)
	if err != nil {
		return "", err
	}
	withApp := func(o *larkcore.RequestOption) { o.AppAccessToken = appToken }
	tok, err := c.sdk.Authen.V1.OidcAccessToken.Create(ctx, larkauthen.NewCreateOidcAccessTokenReqBuilder().
		Body(larkauthen.NewCreateOidcAccessTokenReqBodyBuilder().GrantType("authorization_code").Code(code).Build()).Build(), withApp)
	if err != nil {
		return "", fmt.Errorf("feishu: oidc access token: %w", c.scrub(err))
	}
	if !tok.Success() || tok.Data == nil || tok.Data.AccessToken == nil || *tok.Data.AccessToken == "" {
		return "", fmt.Errorf("feishu: oidc access token: code %d: %s", tok.Code, c.scrub(errors.New(tok.Msg)))
	}
	info, err := c.sdk.Authen.V1.UserInfo.Get(ctx, larkcore.WithUserAccessToken(*tok.Data.AccessToken))
	if err != nil {
		return "", fmt.Errorf("feishu: user info: %w", c.scrub(err))
	}
	if !info.Success() || info.Data == nil {
		return "", fmt.Errorf("feishu: user info: code %d: %s", info.Code, info.Msg)
	}
	d := info.Data
	var id *string
	switch c.cfg.ReceiveIDType {
	case IDTypeOpenID:
		id = d.OpenId
	case IDTypeUnionID:
		id = d.UnionId
	case IDTypeEmail:
		id = d.EnterpriseEmail
		if id == nil || *id == "" {
			id = d.Email
		}
	default:
		id = d.UserId
	}
	if id == nil || *id == "" {
		return "", fmt.Errorf("feishu: user info has no %s (check the app's contact scopes)", c.cfg.ReceiveIDType)
	}
	return *id, nil
}

// appAccessToken returns the app_access_token of sign-ins, cached for its
// lifetime: a 300-person room scanning at once fetches it once.
func (c *Client) appAccessToken(ctx context.Context) (string, error) {
	c.appTokensOnce.Do(func() {
		c.appTokens = kit.NewTokenCache(func(ctx context.Context) (string, time.Duration, error) {
			app, err := c.sdk.GetAppAccessTokenBySelfBuiltApp(ctx, &larkcore.SelfBuiltAppAccessTokenReq{AppID: c.cfg.AppID, AppSecret: c.cfg.AppSecret})
			if err != nil {
				return "", 0, fmt.Errorf("feishu: fetch app_access_token: %w", c.scrub(err))
			}
			if app.Code != 0 || app.AppAccessToken == "" {
				return "", 0, &CredentialError{Code: app.Code, Msg: app.Msg}
			}
			return app.AppAccessToken, time.Duration(app.Expire) * time.Second, nil
		}, 5*time.Minute, c.now)
	})
	return c.appTokens.Get(ctx)
}
