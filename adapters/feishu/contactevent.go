package feishu

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkevent "github.com/larksuite/oapi-sdk-go/v3/event"
	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher"
	larkcontact "github.com/larksuite/oapi-sdk-go/v3/service/contact/v3"

	"github.com/learnloop/learnloop/directory/contact"
)

// 通讯录 change events (event v2 schema) the directory uses.
const (
	eventUserCreated = "contact.user.created_v3"
	eventUserUpdated = "contact.user.updated_v3"
	eventUserDeleted = "contact.user.deleted_v3"
	eventDeptCreated = "contact.department.created_v3"
	eventDeptUpdated = "contact.department.updated_v3"
	eventDeptDeleted = "contact.department.deleted_v3"
)

// contactTimeout bounds handing one change event on (the handler only
// keeps it; Feishu expects an answer within 3 s).
const contactTimeout = 2500 * time.Millisecond

// WithContactHandler hands the tenant's 通讯录 change events
// (contact.user.*_v3, contact.department.*_v3), from the HTTP callback or
// the long connection, to h. Without it they are acknowledged and dropped.
func WithContactHandler(h contact.Handler) Option { return func(c *Client) { c.contact = h } }

func isContactEvent(t string) bool {
	switch t {
	case eventUserCreated, eventUserUpdated, eventUserDeleted, eventDeptCreated, eventDeptUpdated, eventDeptDeleted:
		return true
	}
	return false
}

// contactEvent is the part of a contact event the directory uses: who or
// which department (the event's object). A member's fields are read again
// with users/get rather than taken from the event, whose object leaves
// department_ids out of updates and names the leader by open_id whatever
// id type the app uses.
type contactEvent struct {
	Object struct {
		OpenID           string `json:"open_id"`
		UserID           string `json:"user_id"`
		UnionID          string `json:"union_id"`
		Email            string `json:"email"`
		OpenDepartmentID string `json:"open_department_id"`
		ParentID         string `json:"parent_department_id"`
		Name             string `json:"name"`
		Status           struct {
			IsDeleted bool `json:"is_deleted"`
		} `json:"status"`
	} `json:"object"`
}

// parseContactEvent decodes a verified contact event.
func (c *Client) parseContactEvent(eventID, eventType string, at time.Time, raw json.RawMessage) (*contact.Change, error) {
	var ev contactEvent
	if len(raw) == 0 || json.Unmarshal(raw, &ev) != nil {
		return nil, malformed("%s event is not an object", eventType)
	}
	ch := contact.Change{Platform: "feishu", EventID: eventID, Type: eventType, At: at}
	o := ev.Object
	switch eventType {
	case eventUserCreated, eventUserUpdated, eventUserDeleted:
		switch c.directoryIDType() {
		case IDTypeOpenID:
			ch.UserID = o.OpenID
		case IDTypeUnionID:
			ch.UserID = o.UnionID
		default:
			ch.UserID = o.UserID
		}
		ch.Kind = contact.UserUpsert
		if eventType == eventUserDeleted {
			ch.Kind = contact.UserDelete
			if c.cfg.ReceiveIDType == IDTypeEmail && o.Email != "" {
				ch.UserID = o.Email // members are kept by e-mail then
			}
		}
	default:
		ch.DeptID = o.OpenDepartmentID
		ch.Kind = contact.DeptUpsert
		if eventType == eventDeptDeleted || o.Status.IsDeleted {
			ch.Kind = contact.DeptDelete
			break
		}
		parent := o.ParentID
		if parent == "" {
			parent = RootDepartment
		}
		ch.Dept = &contact.Department{ID: o.OpenDepartmentID, ParentID: parent, Name: o.Name}
	}
	if err := ch.Validate(); err != nil {
		return nil, malformed("%s: %v", eventType, err)
	}
	return &ch, nil
}

// takeContact hands a change to the contact handler once per event id.
// false means it was not taken: Feishu sends an event again when the
// answer is not a success.
func (c *Client) takeContact(ctx context.Context, ch *contact.Change) bool {
	if c.contact == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), contactTimeout)
	defer cancel()
	_, shared, err := c.contactSeen.Do(ctx, ch.EventID, func() (struct{}, error) {
		return struct{}{}, c.contact.HandleContactChange(ctx, *ch)
	})
	if err != nil {
		c.log.WarnContext(ctx, "feishu directory event not kept; Feishu will send it again", "event", ch.EventID, "type", ch.Type, "err", err)
		return false
	}
	c.log.InfoContext(ctx, "feishu directory event", "event", ch.EventID, "type", ch.Type, "user", ch.UserID, "dept", ch.DeptID, "duplicate", shared)
	return true
}

// answerContact answers an HTTP contact event.
func (c *Client) answerContact(w http.ResponseWriter, r *http.Request, req *request) {
	if !c.takeContact(r.Context(), req.change) {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"msg": "try again"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{})
}

// longConnContact handles a contact event from the long connection: the
// same parsing and de-duplication as HTTP; an error makes the SDK answer
// a failure, so that Feishu sends the event again.
func (c *Client) longConnContact(ctx context.Context, body []byte) error {
	req, err := c.parseEnvelope(body, c.now(), false)
	if err == nil && req.kind != kindContact {
		err = malformed("not a contact event")
	}
	if err != nil {
		// Sending a malformed event again cannot help.
		c.log.WarnContext(ctx, "feishu long-connection event refused", "reason", err.Error())
		return nil
	}
	if !c.takeContact(ctx, req.change) {
		return errNotKept
	}
	return nil
}

var errNotKept = malformed("directory event not kept")

// DirectoryUser reads one member with users/get, in the id type directory
// calls use (for change events).
func (c *Client) DirectoryUser(ctx context.Context, userID string) (DirectoryMember, error) {
	var u *larkcontact.User
	err := c.dirCall(ctx, "get user", func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
		req := larkcontact.NewGetUserReqBuilder().UserId(userID).UserIdType(c.directoryIDType()).DepartmentIdType(deptIDType).Build()
		resp, err := c.sdk.Contact.V3.User.Get(ctx, req, opt)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		if resp.Data != nil {
			u = resp.Data.User
		}
		return resp.ApiResp, resp.CodeError, nil
	})
	if err != nil {
		return DirectoryMember{}, err
	}
	if u == nil {
		return DirectoryMember{}, malformed("users/get: answer has no user")
	}
	return c.memberOf(u), nil
}

// onContactEvents registers the contact events with the long
// connection's dispatcher (when a contact handler is set).
func (c *Client) onContactEvents(d *dispatcher.EventDispatcher) {
	if c.contact == nil {
		return
	}
	body := func(r *larkevent.EventReq) []byte {
		if r == nil {
			return nil
		}
		return r.Body
	}
	d.OnP2UserCreatedV3(func(ctx context.Context, ev *larkcontact.P2UserCreatedV3) error {
		return c.longConnContact(ctx, body(ev.EventReq))
	})
	d.OnP2UserUpdatedV3(func(ctx context.Context, ev *larkcontact.P2UserUpdatedV3) error {
		return c.longConnContact(ctx, body(ev.EventReq))
	})
	d.OnP2UserDeletedV3(func(ctx context.Context, ev *larkcontact.P2UserDeletedV3) error {
		return c.longConnContact(ctx, body(ev.EventReq))
	})
	d.OnP2DepartmentCreatedV3(func(ctx context.Context, ev *larkcontact.P2DepartmentCreatedV3) error {
		return c.longConnContact(ctx, body(ev.EventReq))
	})
	d.OnP2DepartmentUpdatedV3(func(ctx context.Context, ev *larkcontact.P2DepartmentUpdatedV3) error {
		return c.longConnContact(ctx, body(ev.EventReq))
	})
	d.OnP2DepartmentDeletedV3(func(ctx context.Context, ev *larkcontact.P2DepartmentDeletedV3) error {
		return c.longConnContact(ctx, body(ev.EventReq))
	})
}
