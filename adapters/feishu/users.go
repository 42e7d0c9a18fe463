package feishu

import (
	"context"
	"errors"
	"sync"
	"time"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkcontact "github.com/larksuite/oapi-sdk-go/v3/service/contact/v3"
)

// operatorID returns the tapper's id of the configured receive id type, so
// it compares equal to the delivery's user id. Callbacks carry open_id and,
// with the contact permissions, user_id and union_id; an email (or an id
// the callback left out) is looked up with contact/v3/users and cached.
func (c *Client) operatorID(ctx context.Context, ca *cardAction) (string, error) {
	switch c.cfg.ReceiveIDType {
	case IDTypeOpenID:
		if ca.openID != "" {
			return ca.openID, nil
		}
	case IDTypeUserID:
		if ca.userID != "" {
			return ca.userID, nil
		}
	case IDTypeUnionID:
		if ca.unionID != "" {
			return ca.unionID, nil
		}
	}
	if ca.openID == "" {
		return "", errors.New("callback has no open_id to look the user up by")
	}
	if id, ok := c.ids.get(ca.openID); ok {
		return id, nil
	}
	id, err := c.lookupUser(ctx, ca.openID)
	if err != nil {
		return "", err
	}
	c.ids.put(ca.openID, id)
	return id, nil
}

// lookupUser reads one user's id of the configured type by open_id.
func (c *Client) lookupUser(ctx context.Context, openID string) (string, error) {
	var user *larkcontact.User
	err := c.call(ctx, "look up user", "", func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
		req := larkcontact.NewGetUserReqBuilder().UserId(openID).UserIdType(IDTypeOpenID).Build()
		resp, err := c.sdk.Contact.V3.User.Get(ctx, req, opt)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		if resp.Data != nil {
			user = resp.Data.User
		}
		return resp.ApiResp, resp.CodeError, nil
	})
	if err != nil {
		return "", err
	}
	var id *string
	if user != nil {
		switch c.cfg.ReceiveIDType {
		case IDTypeEmail:
			id = user.Email
		case IDTypeUserID:
			id = user.UserId
		case IDTypeUnionID:
			id = user.UnionId
		case IDTypeOpenID:
			id = user.OpenId
		}
	}
	if id == nil || *id == "" {
		return "", errors.New("contact API returned no " + c.cfg.ReceiveIDType + " (check the app's contact permissions)")
	}
	return *id, nil
}

// idCache maps open_id to the configured id type, bounded and expiring.
type idCache struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[string]idEntry
}

type idEntry struct {
	id string
	at time.Time
}

func newIDCache(ttl time.Duration, max int) *idCache {
	return &idCache{ttl: ttl, max: max, m: map[string]idEntry{}}
}

func (c *idCache) get(openID string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[openID]
	if !ok || time.Since(e.at) > c.ttl {
		return "", false
	}
	return e.id, true
}

func (c *idCache) put(openID, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, e := range c.m {
			if time.Since(e.at) > c.ttl || len(c.m) >= c.max {
				delete(c.m, k)
			}
		}
	}
	c.m[openID] = idEntry{id: id, at: time.Now()}
}
