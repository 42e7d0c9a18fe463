package dingtalk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	sevent "github.com/open-dingtalk/dingtalk-stream-sdk-go/event"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/handler"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"

	"github.com/learnloop/learnloop/directory/contact"
)

// 通讯录 events (Stream event subscription) the directory uses.
const (
	eventUserAdd    = "user_add_org"
	eventUserModify = "user_modify_org"
	eventUserLeave  = "user_leave_org"
	eventDeptCreate = "org_dept_create"
	eventDeptModify = "org_dept_modify"
	eventDeptRemove = "org_dept_remove"
)

// contactTimeout bounds handing one event's changes on.
const contactTimeout = 4 * time.Second

// WithContactHandler subscribes to the organisation's 通讯录 events over
// Stream (user_add_org, user_modify_org, user_leave_org, org_dept_create,
// org_dept_modify, org_dept_remove) and hands each member or department
// they name to h. DingTalk's events name ids only: the directory reads
// the member or department (topapi/v2/user/get, department/get).
func WithContactHandler(h contact.Handler) Option { return func(c *Client) { c.contact = h } }

// contactData is an event's data: the ids it names, in the Stream
// spelling (userId, deptId) or the HTTP callback's (UserId, DeptId).
type contactData struct {
	UserID  []string          `json:"userId"`
	UserID2 []string          `json:"UserId"`
	DeptID  []json.RawMessage `json:"deptId"`
	DeptID2 []json.RawMessage `json:"DeptId"`
}

// parseContactEvent turns one event into a change per id it names; nil
// for an event the directory does not use.
func (c *Client) parseContactEvent(hd *sevent.EventHeader, data []byte) ([]contact.Change, error) {
	var kind string
	switch hd.EventType {
	case eventUserAdd, eventUserModify:
		kind = contact.UserUpsert
	case eventUserLeave:
		kind = contact.UserDelete
	case eventDeptCreate, eventDeptModify:
		kind = contact.DeptUpsert
	case eventDeptRemove:
		kind = contact.DeptDelete
	default:
		return nil, nil
	}
	var d contactData
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("dingtalk: %s event data is not an object", hd.EventType)
	}
	id := hd.EventId
	if id == "" {
		sum := sha256.Sum256(data)
		id = hex.EncodeToString(sum[:16])
	}
	at := time.Time{}
	if hd.EventBornTime > 0 {
		at = time.UnixMilli(hd.EventBornTime).UTC()
		if now := c.nowUTC(); at.After(now.Add(time.Minute)) || now.Sub(at) > 7*24*time.Hour {
			at = time.Time{} // implausible: when it was received
		}
	}
	var out []contact.Change
	add := func(ch contact.Change) error {
		ch.Platform, ch.Type, ch.Kind, ch.At = "dingtalk", hd.EventType, kind, at
		if err := ch.Validate(); err != nil {
			return fmt.Errorf("dingtalk: %s: %w", hd.EventType, err)
		}
		out = append(out, ch)
		return nil
	}
	if kind == contact.UserUpsert || kind == contact.UserDelete {
		for _, u := range append(d.UserID, d.UserID2...) {
			if err := add(contact.Change{EventID: "dingtalk:" + id + ":" + u, UserID: u}); err != nil {
				return nil, err
			}
		}
	} else {
		for _, raw := range append(d.DeptID, d.DeptID2...) {
			dept := strings.Trim(string(raw), `"`)
			if err := add(contact.Change{EventID: "dingtalk:" + id + ":d" + dept, DeptID: dept}); err != nil {
				return nil, err
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dingtalk: %s event names nobody", hd.EventType)
	}
	return out, nil
}

// errNotKept is a change the contact handler did not take.
var errNotKept = errors.New("dingtalk: directory event not kept")

// eventFrameHandler answers Stream event frames: a 通讯录 event is handed
// to the contact handler, one change per id, each once; the answer is
// SUCCESS, or LATER (DingTalk sends the event again) when a change was
// not taken. Other events, and malformed ones, are acknowledged.
func (c *Client) eventFrameHandler() handler.IFrameHandler {
	return func(ctx context.Context, df *payload.DataFrame) (*payload.DataFrameResponse, error) {
		hd := sevent.NewEventHeaderFromDataFrame(df)
		changes, err := c.parseContactEvent(hd, []byte(df.Data))
		if err != nil {
			c.log.Warn("dingtalk directory event dropped", "event", hd.EventId, "type", hd.EventType, "err", err)
			return sevent.NewSuccessResponse()
		}
		ctx, cancel := context.WithTimeout(ctx, contactTimeout)
		defer cancel()
		for _, ch := range changes {
			_, shared, err := c.contactSeen.Do(ctx, ch.EventID, func() (struct{}, error) {
				return struct{}{}, c.contact.HandleContactChange(ctx, ch)
			})
			if err != nil {
				c.log.Warn("dingtalk directory event not kept; DingTalk will send it again", "event", hd.EventId, "type", hd.EventType,
					"err", errors.Join(errNotKept, err))
				return sevent.NewLaterResponse()
			}
			c.log.Info("dingtalk directory event", "event", hd.EventId, "type", hd.EventType, "user", ch.UserID, "dept", ch.DeptID, "duplicate", shared)
		}
		return sevent.NewSuccessResponse()
	}
}
