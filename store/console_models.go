package store

import "time"

// Console account roles.
const (
	// RoleAdmin may do everything, including managing accounts and reading
	// the audit log.
	RoleAdmin = "admin"
	// RoleCoordinator plans and runs the courses it owns (Course.Owner).
	RoleCoordinator = "coordinator"
	// RoleDepartmentHead reads the sessions and aggregates of its own
	// department, never a group below the minimum size.
	RoleDepartmentHead = "department_head"
)

// Roles lists every console role.
var Roles = []string{RoleAdmin, RoleCoordinator, RoleDepartmentHead}

// Comment triage tags.
const (
	TagShortTerm = "short_term"
	TagLongTerm  = "long_term"
	TagNoAction  = "no_action"
)

// Account is a person who signs in to the coordinator console.
type Account struct {
	ID          uint64 `gorm:"primaryKey"`
	Username    string `gorm:"size:64;not null;uniqueIndex"`
	DisplayName string `gorm:"size:128"`
	Role        string `gorm:"size:32;not null"`
	Department  string `gorm:"size:128;index"` // department heads: the department they may read
	// EmployeeID is the account's own employee (0: not linked): the person
	// its digest cards go to (migration 14).
	EmployeeID   uint64 `gorm:"not null;default:0;index"`
	PasswordHash string `gorm:"size:255;not null"`
	Locale       string `gorm:"size:8"`
	Disabled     bool   `gorm:"not null;default:false"`
	LastLoginAt  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// TableName keeps console tables together.
func (Account) TableName() string { return "console_accounts" }

// LoginSession is one signed-in browser. Only a hash of the cookie's token is
// stored, so a database leak does not leak live sessions.
type LoginSession struct {
	ID         uint64    `gorm:"primaryKey"`
	TokenHash  string    `gorm:"size:64;not null;uniqueIndex"`
	AccountID  uint64    `gorm:"not null;index"`
	CSRFToken  string    `gorm:"size:64;not null"`
	IP         string    `gorm:"size:64"`
	UserAgent  string    `gorm:"size:255"`
	CreatedAt  time.Time `gorm:"not null"`
	LastSeenAt time.Time `gorm:"not null"`
	ExpiresAt  time.Time `gorm:"not null;index"`
}

// TableName keeps console tables together.
func (LoginSession) TableName() string { return "console_login_sessions" }

// LoginAttempt records one sign-in attempt; recent failures per username and
// per address rate-limit sign-ins across every replica.
type LoginAttempt struct {
	ID       uint64    `gorm:"primaryKey"`
	Username string    `gorm:"size:64;not null;index:ix_login_attempt_user,priority:1"`
	IP       string    `gorm:"size:64;not null;index:ix_login_attempt_ip,priority:1"`
	Success  bool      `gorm:"not null"`
	At       time.Time `gorm:"not null;index:ix_login_attempt_user,priority:2;index:ix_login_attempt_ip,priority:2"`
}

// TableName keeps console tables together.
func (LoginAttempt) TableName() string { return "console_login_attempts" }

// CommentTag is a coordinator's triage of one free-text answer: a short-term
// fix, a long-term fix or no action, and whether the writer gets a follow-up
// call.
type CommentTag struct {
	ID           uint64    `gorm:"primaryKey"`
	ResponseID   uint64    `gorm:"not null;uniqueIndex:ux_comment_tag,priority:1"`
	QuestionKey  string    `gorm:"size:64;not null;uniqueIndex:ux_comment_tag,priority:2"`
	Tag          string    `gorm:"size:16;not null"`
	FollowUpCall bool      `gorm:"not null;default:false"`
	By           string    `gorm:"size:128;not null"`
	At           time.Time `gorm:"not null"`
}

// TableName keeps console tables together.
func (CommentTag) TableName() string { return "console_comment_tags" }

// consoleModels lists the tables of the coordinator console (migration 3).
// The console package's engineers own this file.
func consoleModels() []any {
	return []any{&Account{}, &LoginSession{}, &LoginAttempt{}, &CommentTag{}}
}
