// Package invite is the platform-neutral form of a session's calendar event
// (WeCom 日程, Feishu calendar v4, DingTalk calendar v1.0): what the
// calendar package asks an adapter to create, update or delete, and the
// error an adapter answers with. It imports nothing of the project, so both
// the adapters and the calendar package can use it.
package invite

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Event is one session as a platform calendar shows it.
type Event struct {
	// Title is the event's summary.
	Title string
	// Description carries the teacher, the online link and the check-in
	// link, in the session's language.
	Description string
	// Location is the room, or the online link when there is no room.
	Location string
	// OnlineURL is the session's online link ("" when none).
	OnlineURL string
	// Start and End are the session's times; TimeZone is its IANA zone,
	// in which the platform shows them.
	Start, End time.Time
	TimeZone   string
	// Attendees are the platform user ids to invite, sorted, no duplicates.
	Attendees []string
}

// Ref names a stored platform event: its id and, where the platform needs
// one, the calendar holding it.
type Ref struct {
	EventID    string
	CalendarID string
}

// ErrNotFound is what an adapter's Update or Delete wraps when the platform
// no longer knows the event (deleted in the app by hand): a delete is then
// done, an update creates the event again.
var ErrNotFound = errors.New("calendar event not found")

// Error is a platform's refusal of a calendar call, with its own code and
// message; Permanent says a retry cannot succeed (bad permission, unknown
// attendee, a refused payload) — a later change of the session may.
type Error struct {
	Platform  string
	Op        string
	Code      string
	Message   string
	Permanent bool
	Err       error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s: calendar %s: code %s: %s", e.Platform, e.Op, e.Code, e.Message)
	}
	return fmt.Sprintf("%s: calendar %s: %s", e.Platform, e.Op, e.Message)
}

// Unwrap returns the wrapped error (ErrNotFound or a context error).
func (e *Error) Unwrap() error { return e.Err }

// Changes are the attendees to add (in want, not in had) and to remove (in
// had, not in want), for platforms whose attendees are changed one by one.
func Changes(had, want []string) (add, remove []string) {
	for _, id := range want {
		if !slices.Contains(had, id) {
			add = append(add, id)
		}
	}
	for _, id := range had {
		if !slices.Contains(want, id) {
			remove = append(remove, id)
		}
	}
	return add, remove
}
