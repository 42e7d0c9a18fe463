package store

import "time"

// Calendar event states (migration 13).
const (
	// CalendarPending: no platform event exists yet (or a create was
	// started and its answer is not stored); the next sync creates it
	// under the row's IdemKey.
	CalendarPending = "pending"
	// CalendarActive: the platform event EventID exists and carries the
	// attendees and Fingerprint last synced.
	CalendarActive = "active"
	// CalendarDeleted: the event was deleted on the platform (the session
	// was cancelled, invites were turned off or nobody is left to invite).
	CalendarDeleted = "deleted"
)

// CalendarEvent is a session's event in one platform's calendar: the
// platform's own event id, so that a retry or a later change updates the
// same event instead of creating a second one, and what was last synced.
// LastError and ErrorCode are the last failed sync's (cleared when a sync
// succeeds); the console's delivery health lists them.
type CalendarEvent struct {
	ID         uint64 `gorm:"primaryKey"`
	SessionID  uint64 `gorm:"not null;uniqueIndex:ux_calendar_event,priority:1"`
	Platform   string `gorm:"size:16;not null;uniqueIndex:ux_calendar_event,priority:2"`
	State      string `gorm:"size:16;not null;default:pending"`
	EventID    string `gorm:"size:191;not null"`
	CalendarID string `gorm:"size:191;not null"`
	// IdemKey is passed as the platform's idempotency key on create.
	IdemKey string `gorm:"size:64;not null"`
	// Attendees is the JSON array of the platform user ids last synced.
	Attendees   string `gorm:"type:text"`
	Fingerprint string `gorm:"size:64;not null"`
	Failures    int    `gorm:"not null;default:0"`
	ErrorCode   string `gorm:"size:64;not null"`
	LastError   string `gorm:"type:text"`
	SyncedAt    *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}
