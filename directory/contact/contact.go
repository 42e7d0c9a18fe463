// Package contact is the platform-neutral form of a company directory
// (通讯录) change event: WeCom change_contact, Feishu contact.*_v3 and
// DingTalk user_*_org / org_dept_* events are decoded by their adapters into
// a Change and handed to a Handler (the directory package's Inbox), which
// applies it with the same matching rules and change records as a full
// sync. It imports nothing of the project, so both the adapters and the
// directory package can use it.
package contact

import (
	"context"
	"errors"
	"time"
)

// Kinds of change.
const (
	// UserUpsert: a member was created or changed.
	UserUpsert = "user.upsert"
	// UserDelete: a member left (resigned or was removed).
	UserDelete = "user.delete"
	// DeptUpsert: a department was created, renamed or moved.
	DeptUpsert = "dept.upsert"
	// DeptDelete: a department was removed.
	DeptDelete = "dept.delete"
)

// Department is one department as a platform reports it.
type Department struct {
	ID       string
	ParentID string // "" for a root
	Name     string
}

// Person is one directory member as a platform reports it. Fields a
// platform does not give (or the app has no scope for) are empty.
type Person struct {
	UserID     string
	EmployeeNo string // 工号
	Name       string
	Title      string
	City       string
	Mobile     string
	Email      string
	// DeptIDs are the member's departments, the main one first.
	DeptIDs []string
	// ManagerID is the direct manager's user id on the same platform.
	ManagerID string
	// Active is false for a member the platform reports as resigned or
	// disabled.
	Active bool
}

// Change is one directory change event.
type Change struct {
	// Platform is wecom, feishu or dingtalk.
	Platform string `json:"platform"`
	// EventID identifies the event across the platform's redeliveries.
	EventID string `json:"event_id"`
	// Type is the platform's own event type (change_contact/update_user,
	// contact.user.updated_v3, user_modify_org), for the records.
	Type string `json:"type"`
	// Kind is one of the kinds above.
	Kind string `json:"kind"`
	// At is when the platform says the change happened; zero means when
	// it was received.
	At time.Time `json:"at"`
	// UserID is the member of a user change; DeptID the department of a
	// department change.
	UserID string `json:"user_id,omitempty"`
	DeptID string `json:"dept_id,omitempty"`
	// PreviousUserID is the member's former user id when the change gave
	// them a new one (WeCom's update_user NewUserID).
	PreviousUserID string `json:"previous_user_id,omitempty"`
	// Person is the member as the event carries it (Feishu sends the whole
	// member). nil means the event names the member only: the directory
	// reads them from the platform.
	Person *Person `json:"person,omitempty"`
	// Dept is the department as the event carries it; nil means read it
	// from the platform. Partial says its empty Name or ParentID mean
	// "unchanged" (WeCom's update_party carries only what changed).
	Dept    *Department `json:"dept,omitempty"`
	Partial bool        `json:"partial,omitempty"`
}

// Validate reports what makes c unusable.
func (c Change) Validate() error {
	switch {
	case c.Platform == "":
		return errors.New("contact change: no platform")
	case c.EventID == "" || len(c.EventID) > 160:
		return errors.New("contact change: no event id")
	}
	switch c.Kind {
	case UserUpsert, UserDelete:
		if c.UserID == "" || len(c.UserID) > 128 {
			return errors.New("contact change: a user change without a user id")
		}
		if c.Person != nil && c.Person.UserID != c.UserID {
			return errors.New("contact change: the member's id is not the change's user id")
		}
	case DeptUpsert, DeptDelete:
		if c.DeptID == "" || len(c.DeptID) > 64 {
			return errors.New("contact change: a department change without a department id")
		}
		if c.Dept != nil && c.Dept.ID != c.DeptID {
			return errors.New("contact change: the department's id is not the change's department id")
		}
	default:
		return errors.New("contact change: unknown kind " + c.Kind)
	}
	return nil
}

// Handler takes directory changes from an adapter. An error means the
// change was not taken: the adapter answers the platform so that it sends
// the event again.
type Handler interface {
	HandleContactChange(ctx context.Context, c Change) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, c Change) error

// HandleContactChange calls f.
func (f HandlerFunc) HandleContactChange(ctx context.Context, c Change) error { return f(ctx, c) }
