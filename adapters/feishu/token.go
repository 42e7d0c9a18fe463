package feishu

import (
	"context"
	"errors"
	"fmt"
	"time"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
)

// Feishu codes meaning "the access token you sent is no longer valid".
const (
	codeAccessTokenInvalid       = 99991671
	codeAppAccessTokenInvalid    = 99991664
	codeTenantAccessTokenInvalid = 99991663
)

func isTokenInvalid(code int) bool {
	return code == codeTenantAccessTokenInvalid || code == codeAppAccessTokenInvalid || code == codeAccessTokenInvalid
}

// tokenMargin is how long before its stated expiry a token is refreshed
// (the SDK uses the same 3 minutes).
const tokenMargin = 3 * time.Minute

// CredentialError is Feishu refusing the app's credentials (or the token
// endpoint failing), with Feishu's own code and message.
type CredentialError struct {
	Status int // HTTP status, 0 when the request did not complete
	Code   int
	Msg    string
}

// Error explains the failure in plain words; it never contains a secret.
func (e *CredentialError) Error() string {
	hint := ""
	switch e.Code {
	case 10003:
		hint = " (check platforms.feishu.app_id)"
	case 10014:
		hint = " (check platforms.feishu.app_secret)"
	}
	return fmt.Sprintf("feishu refused the app credentials: code %d: %s%s", e.Code, e.Msg, hint)
}

// fetchToken asks Feishu for a tenant_access_token.
func (c *Client) fetchToken(ctx context.Context) (string, time.Duration, error) {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, err := c.sdk.GetTenantAccessTokenBySelfBuiltApp(ctx, &larkcore.SelfBuiltTenantAccessTokenReq{
		AppID: c.cfg.AppID, AppSecret: c.cfg.AppSecret,
	})
	if err != nil {
		return "", 0, fmt.Errorf("feishu: fetch tenant_access_token: %w", c.scrub(err))
	}
	if resp.Code != 0 || resp.TenantAccessToken == "" {
		status := 0
		if resp.ApiResp != nil {
			status = resp.StatusCode
		}
		msg := resp.Msg
		if msg == "" && resp.Code == 0 {
			msg = "empty token in response"
		}
		return "", 0, &CredentialError{Status: status, Code: resp.Code, Msg: msg}
	}
	ttl := time.Duration(resp.Expire) * time.Second
	if ttl <= tokenMargin {
		ttl = tokenMargin + time.Minute
	}
	return resp.TenantAccessToken, ttl, nil
}

// Doctor checks the app credentials by fetching a fresh tenant_access_token.
// On failure it returns Feishu's code and message in plain words.
func (c *Client) Doctor(ctx context.Context) error {
	if _, _, err := c.fetchToken(ctx); err != nil {
		var ce *CredentialError
		if errors.As(err, &ce) {
			return fmt.Errorf("app %s: %w", c.cfg.AppID, ce)
		}
		return fmt.Errorf("app %s: cannot reach %s: %w", c.cfg.AppID, c.cfg.APIBase, err)
	}
	return nil
}
