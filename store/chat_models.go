package store

import "time"

// Check-in source of a check-in asked for in chat (the 签到 command): remote,
// like a card tap.
const SourceChat = "chat"

// Outcomes of an inbound chat message (ChatMessage.Outcome).
const (
	ChatCheckin = "checkin"
	ChatCourses = "courses"
	ChatExcuse  = "excuse"
	ChatHelp    = "help"
	ChatComment = "comment"
	ChatUnknown = "unknown" // no such command: answered with the help
	ChatNobody  = "nobody"  // the sender is not on any roster
	ChatPending = "pending" // claimed, being handled
)

// Excuse request states.
const (
	ExcusePending  = "pending"
	ExcuseApproved = "approved"
	ExcuseRejected = "rejected"
)

// ChatMessage is one inbound chat message, kept so that a message the
// platform redelivers (to this replica or another) is handled once
// (migration 10). It stores neither the sender nor the text: what a message
// did lives where its fact does (a check-in, an excuse request and its audit
// row, a survey comment — which for an anonymous survey must not be tied to
// a person).
type ChatMessage struct {
	ID         uint64    `gorm:"primaryKey"`
	Platform   string    `gorm:"size:16;not null;uniqueIndex:ux_chat_message,priority:1"`
	MessageID  string    `gorm:"size:128;not null;uniqueIndex:ux_chat_message,priority:2"`
	Outcome    string    `gorm:"size:16;not null"`
	ReceivedAt time.Time `gorm:"not null;index"`
}

// ChatPrompt is an open "为什么？直接回复即可" after an NPS or rating tap: the
// person's next chat reply before ExpiresAt becomes QuestionKey's answer on
// ResponseID. One per person (a newer tap replaces it); it is deleted when
// the reply is stored or once it has expired. For an anonymous survey this
// row is the only link between the person and the response, and it lives
// only until the reply or the time limit (ExpiresAt; no creation time kept).
type ChatPrompt struct {
	ID          uint64    `gorm:"primaryKey"`
	EmployeeID  uint64    `gorm:"not null;uniqueIndex"`
	SurveyID    uint64    `gorm:"not null"`
	ResponseID  uint64    `gorm:"not null"`
	QuestionKey string    `gorm:"size:64;not null"`
	ExpiresAt   time.Time `gorm:"not null;index"`
}

// ExcuseRequest is an employee's request (请假 in chat) to be excused from a
// session; a coordinator approves it (the enrollment becomes excused) or
// rejects it. One per person and session.
type ExcuseRequest struct {
	ID         uint64 `gorm:"primaryKey"`
	SessionID  uint64 `gorm:"not null;uniqueIndex:ux_excuse_request,priority:1"`
	EmployeeID uint64 `gorm:"not null;uniqueIndex:ux_excuse_request,priority:2"`
	Reason     string `gorm:"size:512"`
	Status     string `gorm:"size:16;not null;index"`
	Platform   string `gorm:"size:16;not null"`
	DecidedBy  string `gorm:"size:128"`
	DecidedAt  *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// chatModels lists the tables of inbound chat (migration 10).
func chatModels() []any { return []any{&ChatMessage{}, &ChatPrompt{}, &ExcuseRequest{}} }
