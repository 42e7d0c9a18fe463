package wecom

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/learnloop/learnloop/directory/contact"
)

// eventChangeContact is the event of a 通讯录 change (成员/部门变更通知).
const eventChangeContact = "change_contact"

// contactTimeout bounds handing one change event on (the handler only
// keeps it; WeCom waits 5 s).
const contactTimeout = 4 * time.Second

// WithContactHandler hands the corp's 通讯录 change events (change_contact:
// create_user, update_user, delete_user, create_party, update_party,
// delete_party), arriving on the app's callback URL, to h. Without it they
// are acknowledged and dropped.
func WithContactHandler(h contact.Handler) Option { return func(c *Client) { c.contact = h } }

// contactEvent is the part of a decrypted change_contact event the
// directory uses. Since 2022 WeCom leaves a member's name, mobile and most
// other fields out of member events for apps created after then, so a
// member event names the member and the directory reads them (user/get).
type contactEvent struct {
	ChangeType string `xml:"ChangeType" json:"ChangeType"`
	UserID     string `xml:"UserID" json:"UserID"`
	NewUserID  string `xml:"NewUserID" json:"NewUserID"`
	ID         string `xml:"Id" json:"Id"`
	Name       string `xml:"Name" json:"Name"`
	ParentID   string `xml:"ParentId" json:"ParentId"`
}

// parseContactChange decodes a change_contact event into a contact.Change;
// nil for a change the directory does not use (update_tag). Its event id
// is a hash of the decrypted event: WeCom's redeliveries repeat it exactly.
func (c *Client) parseContactChange(plain []byte, created int64) (*contact.Change, error) {
	var ev contactEvent
	if err := decode(plain, &ev); err != nil {
		return nil, errors.New("wecom: change_contact event is not a WeCom message")
	}
	sum := sha256.Sum256(plain)
	ch := contact.Change{Platform: "wecom", EventID: "wecom:" + hex.EncodeToString(sum[:16]), Type: eventChangeContact + "/" + ev.ChangeType}
	if created > 0 {
		ch.At = time.Unix(created, 0).UTC()
	}
	switch ev.ChangeType {
	case "create_user", "update_user":
		ch.Kind, ch.UserID = contact.UserUpsert, ev.UserID
		if ev.NewUserID != "" && ev.NewUserID != ev.UserID {
			ch.UserID, ch.PreviousUserID = ev.NewUserID, ev.UserID
		}
	case "delete_user":
		ch.Kind, ch.UserID = contact.UserDelete, ev.UserID
	case "create_party", "update_party":
		parent := ev.ParentID
		if parent == "0" || parent == ev.ID {
			parent = ""
		}
		ch.Kind, ch.DeptID = contact.DeptUpsert, ev.ID
		ch.Dept = &contact.Department{ID: ev.ID, ParentID: parent, Name: ev.Name}
		// update_party carries only what changed.
		ch.Partial = ev.ChangeType == "update_party"
	case "delete_party":
		ch.Kind, ch.DeptID = contact.DeptDelete, ev.ID
	default:
		return nil, nil
	}
	if err := ch.Validate(); err != nil {
		return nil, fmt.Errorf("wecom: %s: %w", ch.Type, err)
	}
	return &ch, nil
}

// contactChange hands a verified change event to the contact handler once
// (WeCom re-sends an event it got no answer to within 5 s, up to 3 times).
// A handler that fails is answered after WeCom stopped waiting, so that it
// sends the event again.
func (cb *callbackHandler) contactChange(w http.ResponseWriter, r *http.Request, start time.Time, ch contact.Change) {
	if cb.c.contact == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), contactTimeout)
	defer cancel()
	_, shared, err := cb.c.contactSeen.Do(ctx, ch.EventID, func() (struct{}, error) {
		return struct{}{}, cb.c.contact.HandleContactChange(ctx, ch)
	})
	if err != nil {
		cb.c.log.Warn("wecom directory event not kept; WeCom will send it again", "type", ch.Type, "user", ch.UserID, "dept", ch.DeptID, "err", err)
		cb.hold(r.Context(), start)
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	cb.c.log.Info("wecom directory event", "type", ch.Type, "user", ch.UserID, "dept", ch.DeptID, "duplicate", shared)
	w.WriteHeader(http.StatusOK)
}
