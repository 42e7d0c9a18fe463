package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	workconfig "github.com/silenceper/wechat/v2/work/config"
	workctx "github.com/silenceper/wechat/v2/work/context"
	"github.com/silenceper/wechat/v2/work/oauth"
)

// AuthorizeBase is where WeCom's web authorisation page lives. The WeCom
// client opens it inside its webview; it answers at once, without asking
// (snsapi_base), by sending the browser back with a one-time code.
const AuthorizeBase = "https://open.weixin.qq.com"

// ErrNotMember is returned by IdentifyUser when WeCom identified someone
// outside the organisation (an openid instead of a UserID).
var ErrNotMember = errors.New("wecom: the person is not a member of the organisation")

// AuthorizeURL returns WeCom's web authorisation URL (scope snsapi_base)
// that sends the person back to redirectURI with ?code=…&state=state. It is
// built by the SDK's work/oauth; state must be [a-zA-Z0-9], ≤ 128 bytes.
// redirectURI's host must be the app's trusted domain (可信域名).
func (c *Client) AuthorizeURL(redirectURI, state string) string {
	o := oauth.NewOauth(&workctx.Context{Config: &workconfig.Config{CorpID: c.cfg.CorpID, AgentID: c.agentID}})
	u := o.GetTargetURL(redirectURI)
	// The SDK leaves the state as the literal STATE and omits agentid,
	// which WeCom needs to check the app's trusted domain.
	return strings.Replace(u, "state=STATE", "state="+url.QueryEscape(state)+"&agentid="+url.QueryEscape(c.agentID), 1)
}

// IdentifyUser exchanges a web authorisation code for the member's UserID
// (auth/getuserinfo), the id a roster's wecom_id column holds. Codes are
// single-use and expire after 5 minutes (WeCom errcode 40029). The call
// goes through the adapter's token cache and api_base: the SDK's own
// Oauth.GetUserInfo takes no context and so cannot be routed to api_base.
func (c *Client) IdentifyUser(ctx context.Context, code, _ string) (string, error) {
	if code == "" || len(code) > 512 {
		return "", errors.New("wecom: auth/getuserinfo: empty or oversized code")
	}
	raw, err := c.call(ctx, "auth/getuserinfo", http.MethodGet, "/cgi-bin/auth/getuserinfo", url.Values{"code": {code}}, nil)
	if err != nil {
		return "", err
	}
	var res oauth.GetUserInfoResponse
	if err := json.Unmarshal(raw, &res); err != nil {
		return "", &callError{msg: "wecom: auth/getuserinfo: answer is not JSON"}
	}
	if res.UserID == "" {
		return "", ErrNotMember
	}
	return res.UserID, nil
}
