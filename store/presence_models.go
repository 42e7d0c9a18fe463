package store

import "time"

// Presence check-in sources beyond the card, link, QR and manual ones in
// models.go: a room code typed on the /q/ page, and a check-in recorded as
// made from elsewhere (not counted as present in sessions that require
// on-site check-in).
const (
	SourceRoomCode = "room_code"
	SourceRemote   = "remote"
)

// DefaultRotateSeconds is how often the venue QR code changes when a
// session sets nothing else.
const DefaultRotateSeconds = 15

// PresenceSetting is a session's presence rules (migration 7). A session
// without a row has the defaults: no on-site requirement, no geofence, no
// app identity on /c/, a QR code that rotates every DefaultRotateSeconds.
type PresenceSetting struct {
	SessionID uint64 `gorm:"primaryKey;autoIncrement:false"`
	// RequireOnsite (现场签到): only QR, room code and manual check-ins
	// count as present; card and link taps are reported as remote.
	RequireOnsite bool `gorm:"not null;default:false"`
	// RotateSeconds is the QR code's lifetime on the projector (5–300).
	RotateSeconds int `gorm:"not null;default:15"`
	// Geofence: a scan is accepted only when the browser places the phone
	// within RadiusMeters of (Latitude, Longitude).
	Geofence     bool    `gorm:"not null;default:false"`
	Latitude     float64 `gorm:"not null;default:0"`
	Longitude    float64 `gorm:"not null;default:0"`
	RadiusMeters int     `gorm:"not null;default:0"`
	// RequireIdentity makes the /c/ check-in page ask for the app identity
	// (WeCom/Feishu/DingTalk web authorisation) of the card's recipient.
	RequireIdentity bool   `gorm:"not null;default:false"`
	UpdatedBy       string `gorm:"size:128"`
	UpdatedAt       time.Time
}

// TableName is presence_settings.
func (PresenceSetting) TableName() string { return "presence_settings" }

// PresenceScan is the evidence of one accepted venue scan: which code (slot)
// was scanned, by whom, on which platform, where the browser said it was
// and what happened to the check-in. Nonce is the scan's single-use ticket:
// a replayed sign-in answer finds it taken.
type PresenceScan struct {
	ID         uint64    `gorm:"primaryKey"`
	Nonce      string    `gorm:"size:32;not null;uniqueIndex"`
	SessionID  uint64    `gorm:"not null;index"`
	EmployeeID uint64    `gorm:"not null;index"`
	CheckinID  uint64    `gorm:"not null;default:0"`
	Method     string    `gorm:"size:16;not null"` // qr or room_code
	Slot       int64     `gorm:"not null"`         // the code's rotation slot
	Platform   string    `gorm:"size:16;not null"`
	ScannedAt  time.Time `gorm:"not null"`
	// Outcome is recorded (a new check-in), duplicate (already checked in
	// on site) or upgraded (a remote check-in became an on-site one).
	Outcome string `gorm:"size:16;not null"`
	// Browser location, when the session has a geofence: coordinates,
	// the accuracy the browser reported and the distance from the venue,
	// all in metres.
	Latitude  *float64
	Longitude *float64
	AccuracyM *float64
	DistanceM *float64
	CreatedAt time.Time
}

// TableName is presence_scans.
func (PresenceScan) TableName() string { return "presence_scans" }

// SurveyIdentity marks a named survey whose form (/s/) must be opened by its
// recipient's app identity, so that a forwarded link cannot answer for
// someone else. A survey without a row does not require it.
type SurveyIdentity struct {
	SurveyID  uint64 `gorm:"primaryKey;autoIncrement:false"`
	Required  bool   `gorm:"not null;default:false"`
	UpdatedBy string `gorm:"size:128"`
	UpdatedAt time.Time
}

// TableName is survey_identities.
func (SurveyIdentity) TableName() string { return "survey_identities" }

// presenceModels lists the tables of venue presence (migration 7).
func presenceModels() []any { return []any{&PresenceSetting{}, &PresenceScan{}, &SurveyIdentity{}} }
