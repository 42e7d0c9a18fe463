// Package store owns learnloop's persistent data: GORM models, versioned
// migrations and the database connection for MySQL/MariaDB and SQLite.
package store

import "time"

// Enrollment states.
const (
	EnrollInvited   = "invited"
	EnrollExcused   = "excused"
	EnrollCancelled = "cancelled"
)

// Session states.
const (
	SessionPlanned   = "planned"
	SessionCancelled = "cancelled"
)

// Touchpoint audiences.
const (
	AudienceAll          = "all"
	AudienceNotCheckedIn = "not_checked_in"
	AudienceCheckedIn    = "checked_in"
)

// Touchpoint states.
const (
	TouchpointScheduled = "scheduled"
	TouchpointPaused    = "paused"
	TouchpointFired     = "fired"
	TouchpointSkipped   = "skipped"
	TouchpointCancelled = "cancelled"
)

// Touchpoint anchors: the session time a touchpoint's offset is relative to.
const (
	AnchorStart    = "start"
	AnchorEnd      = "end"
	AnchorAbsolute = "absolute"
)

// Delivery states.
const (
	DeliveryPending = "pending"
	DeliverySending = "sending"
	DeliverySent    = "sent"
	DeliveryFailed  = "failed"
	DeliveryDropped = "dropped"
)

// Check-in kinds.
const (
	CheckinOnTime = "on_time"
	CheckinLate   = "late"
	CheckinMakeup = "makeup"
)

// Check-in sources.
const (
	SourceCard   = "card"
	SourceLink   = "link"
	SourceQR     = "qr"
	SourceManual = "manual"
)

// Job states.
const (
	JobAvailable = "available"
	JobRunning   = "running"
	JobCompleted = "completed"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// Employee is a learner, manager or coordinator known from the roster.
type Employee struct {
	ID         uint64 `gorm:"primaryKey"`
	ExternalID string `gorm:"size:64;not null;uniqueIndex"`
	Name       string `gorm:"size:128;not null"`
	Department string `gorm:"size:128;index"`
	Title      string `gorm:"size:128"`
	City       string `gorm:"size:64"`
	ManagerID  string `gorm:"size:64;index"` // the manager's ExternalID
	Email      string `gorm:"size:191"`
	Mobile     string `gorm:"size:32"`
	Platform   string `gorm:"size:16"` // preferred platform; empty means the configured default
	WecomID    string `gorm:"size:128;index"`
	FeishuID   string `gorm:"size:128;index"`
	DingtalkID string `gorm:"size:128;index"`
	Tags       string `gorm:"size:512"`
	Locale     string `gorm:"size:8"`
	Active     bool   `gorm:"not null;default:true"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// employeeColumns are the employees columns a roster import or a
// directory sync may change, with their values on an Employee.
var employeeColumns = []struct {
	col string
	get func(*Employee) any
}{
	{"name", func(e *Employee) any { return e.Name }},
	{"department", func(e *Employee) any { return e.Department }},
	{"title", func(e *Employee) any { return e.Title }},
	{"city", func(e *Employee) any { return e.City }},
	{"manager_id", func(e *Employee) any { return e.ManagerID }},
	{"email", func(e *Employee) any { return e.Email }},
	{"mobile", func(e *Employee) any { return e.Mobile }},
	{"platform", func(e *Employee) any { return e.Platform }},
	{"wecom_id", func(e *Employee) any { return e.WecomID }},
	{"feishu_id", func(e *Employee) any { return e.FeishuID }},
	{"dingtalk_id", func(e *Employee) any { return e.DingtalkID }},
	{"locale", func(e *Employee) any { return e.Locale }},
	{"tags", func(e *Employee) any { return e.Tags }},
	{"active", func(e *Employee) any { return e.Active }},
}

// EmployeeChanges returns the columns (with want's values) where want
// differs from old: the profile columns, platform ids, platform, locale,
// tags and active, never ids or timestamps. keep, when not nil, picks the
// columns to compare.
func EmployeeChanges(old, want *Employee, keep func(col string) bool) map[string]any {
	out := map[string]any{}
	for _, c := range employeeColumns {
		if keep != nil && !keep(c.col) {
			continue
		}
		if v := c.get(want); v != c.get(old) {
			out[c.col] = v
		}
	}
	return out
}

// Course is a training programme that runs as one or more sessions.
type Course struct {
	ID          uint64 `gorm:"primaryKey"`
	Code        string `gorm:"size:64;not null;uniqueIndex"`
	Title       string `gorm:"size:255;not null"`
	Category    string `gorm:"size:64"`
	TargetLevel int    `gorm:"not null;default:1"`
	Behaviours  string `gorm:"type:text"` // JSON array of observable behaviours (level 3)
	Owner       string `gorm:"size:64;index"`
	// CalendarInvite puts the course's sessions in their attendees'
	// platform calendars; nil follows calendar.invite_default (migration 13).
	CalendarInvite *bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Teacher teaches sessions; internal teachers link to an employee.
type Teacher struct {
	ID         uint64 `gorm:"primaryKey"`
	Name       string `gorm:"size:128;not null"`
	EmployeeID string `gorm:"size:64;index"`
	Internal   bool   `gorm:"not null;default:false"`
	CreatedAt  time.Time
}

// Session is one class of a course at a time and place.
type Session struct {
	ID        uint64    `gorm:"primaryKey"`
	CourseID  uint64    `gorm:"not null;index"`
	Title     string    `gorm:"size:255;not null"`
	StartsAt  time.Time `gorm:"not null;index"`
	EndsAt    time.Time `gorm:"not null"`
	Location  string    `gorm:"size:255"`
	OnlineURL string    `gorm:"size:1024"`
	TeacherID *uint64   `gorm:"index"`
	TimeZone  string    `gorm:"size:64;not null"`
	Locale    string    `gorm:"size:8;not null"`
	Status    string    `gorm:"size:16;not null;default:planned"`
	// Check-in windows, in seconds relative to StartsAt/EndsAt.
	CheckinOpensBefore int64 `gorm:"not null"`
	CheckinGrace       int64 `gorm:"not null"`
	MakeupAfter        int64 `gorm:"not null"`
	// CalendarInvite puts the session in its attendees' platform calendars;
	// nil follows the course (migration 13).
	CalendarInvite *bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Enrollment places an employee on a session's roster.
type Enrollment struct {
	ID         uint64 `gorm:"primaryKey"`
	SessionID  uint64 `gorm:"not null;uniqueIndex:ux_enrollment,priority:1"`
	EmployeeID uint64 `gorm:"not null;uniqueIndex:ux_enrollment,priority:2;index"`
	Status     string `gorm:"size:16;not null;default:invited"`
	Note       string `gorm:"size:255"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Touchpoint is one planned push of a session: a kind, a time, an audience and
// a template.
type Touchpoint struct {
	ID        uint64     `gorm:"primaryKey"`
	SessionID uint64     `gorm:"not null;index"`
	Kind      string     `gorm:"size:32;not null"`
	Anchor    string     `gorm:"size:16;not null"`
	Offset    int64      `gorm:"not null"` // seconds relative to the anchor
	At        *time.Time // absolute time when Anchor is "absolute"
	CronSpec  string     `gorm:"size:128"` // recurring plans; empty for one-off
	Audience  string     `gorm:"size:32;not null"`
	Template  string     `gorm:"size:64;not null"`
	// SurveyID is the survey a survey touchpoint pushes (0 for others).
	SurveyID  uint64    `gorm:"not null;default:0;index"`
	Status    string    `gorm:"size:16;not null;default:scheduled"`
	RunAt     time.Time `gorm:"not null"` // next fire time after quiet hours
	FiredAt   *time.Time
	Note      string `gorm:"size:255"`
	CreatedAt time.Time
	UpdatedAt time.Time
	// BestFrom and BestTo, when both are set, make the touchpoint send at
	// the learned best hour inside [anchor+BestFrom, anchor+BestTo)
	// (seconds, like Offset); anchor+Offset is the configured time it falls
	// back to. SendBasis is the last choice's basis (sendtime.Choice JSON).
	BestFrom  *int64
	BestTo    *int64
	SendBasis string `gorm:"type:text"`
	// Variants counts the touchpoint's A/B variants (TouchpointVariant,
	// migration 16); 0 means none, and nothing reads the variant tables.
	Variants int `gorm:"not null;default:0"`
}

// BestTime reports whether tp sends at a learned time inside a window.
func (tp Touchpoint) BestTime() bool { return tp.BestFrom != nil && tp.BestTo != nil }

// Job is a durable unit of work claimed by scheduler workers.
type Job struct {
	ID          uint64     `gorm:"primaryKey"`
	Kind        string     `gorm:"size:64;not null"`
	UniqueKey   *string    `gorm:"size:191;uniqueIndex"`
	Payload     string     `gorm:"type:text"`
	State       string     `gorm:"size:16;not null;index:ix_job_due,priority:1"`
	RunAt       time.Time  `gorm:"not null;index:ix_job_due,priority:2"`
	Attempts    int        `gorm:"not null;default:0"`
	MaxAttempts int        `gorm:"not null;default:10"`
	LockedUntil *time.Time `gorm:"index"`
	LockedBy    string     `gorm:"size:128"`
	LastError   string     `gorm:"type:text"`
	FinishedAt  *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Delivery is one push of one touchpoint occurrence to one recipient.
type Delivery struct {
	ID           uint64 `gorm:"primaryKey"`
	TouchpointID uint64 `gorm:"not null;uniqueIndex:ux_delivery,priority:1"`
	Occurrence   string `gorm:"size:32;not null;uniqueIndex:ux_delivery,priority:2"`
	EmployeeID   uint64 `gorm:"not null;uniqueIndex:ux_delivery,priority:3;index"`
	// SubjectID is the employee a delivery is about (a manager's direct
	// report in a behaviour follow-up); 0 when it is about the recipient.
	SubjectID    uint64 `gorm:"not null;default:0;uniqueIndex:ux_delivery,priority:4"`
	SessionID    uint64 `gorm:"not null;index"`
	Key          string `gorm:"size:96;not null;uniqueIndex"`
	Platform     string `gorm:"size:16;not null"`
	UserID       string `gorm:"size:128;not null"`
	Status       string `gorm:"size:16;not null;index"`
	Attempts     int    `gorm:"not null;default:0"`
	ClaimToken   string `gorm:"size:64;index"` // who is sending it; set with the "sending" status
	ErrorCode    string `gorm:"size:64"`
	ErrorMessage string `gorm:"size:1024"`
	Handle       string `gorm:"size:255"` // platform message id / response code for card updates
	SentAt       *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Checkin records one attendee's presence at a session; one per attendee.
type Checkin struct {
	ID          uint64    `gorm:"primaryKey"`
	SessionID   uint64    `gorm:"not null;uniqueIndex:ux_checkin,priority:1"`
	EmployeeID  uint64    `gorm:"not null;uniqueIndex:ux_checkin,priority:2"`
	Kind        string    `gorm:"size:16;not null"`
	Source      string    `gorm:"size:16;not null"`
	Platform    string    `gorm:"size:16"`
	DeliveryID  *uint64   `gorm:"index"`
	CheckedInAt time.Time `gorm:"not null"`
	RecordedBy  string    `gorm:"size:128"`
	Note        string    `gorm:"size:255"`
	CreatedAt   time.Time
}

// Click records one open of a tracked link. Its secondary indexes are
// (touchpoint_id, delivery_id) and (employee_id, clicked_at) (migrations 9
// and 17): every index costs each click INSERT, so a query by delivery also
// names the delivery's touchpoint (a click's touchpoint is its delivery's).
type Click struct {
	ID           uint64    `gorm:"primaryKey"`
	DeliveryID   uint64    `gorm:"not null;index:ix_clicks_touchpoint_delivery,priority:2"`
	TouchpointID uint64    `gorm:"not null;index:ix_clicks_touchpoint_delivery,priority:1"`
	EmployeeID   uint64    `gorm:"not null"`
	Target       string    `gorm:"size:1024"`
	UAClass      string    `gorm:"size:16"`
	Platform     string    `gorm:"size:16"`
	ClickedAt    time.Time `gorm:"not null"`
}

// CallbackEvent remembers processed platform callbacks so retries are recognised.
type CallbackEvent struct {
	ID         uint64    `gorm:"primaryKey"`
	Platform   string    `gorm:"size:16;not null;uniqueIndex:ux_callback,priority:1"`
	DedupKey   string    `gorm:"size:191;not null;uniqueIndex:ux_callback,priority:2"`
	ReceivedAt time.Time `gorm:"not null"`
}

// AuditLog records every change a person or API client made.
type AuditLog struct {
	ID        uint64    `gorm:"primaryKey"`
	Actor     string    `gorm:"size:128;not null"`
	Action    string    `gorm:"size:64;not null"`
	Object    string    `gorm:"size:128"`
	Detail    string    `gorm:"type:text"`
	CreatedAt time.Time `gorm:"index"`
}

// SchemaMigration records an applied migration version.
type SchemaMigration struct {
	Version   int    `gorm:"primaryKey;autoIncrement:false"`
	Name      string `gorm:"size:128;not null"`
	AppliedAt time.Time
}
