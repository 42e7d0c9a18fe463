package store

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Webhook event types: the facts an endpoint can follow.
const (
	EventCheckin        = "checkin.created"
	EventResponse       = "response.submitted"
	EventConversion     = "conversion.credited"
	EventDeliveryFailed = "delivery.failed"
)

// EventTypes lists every webhook event type in a stable order.
func EventTypes() []string {
	return []string{EventCheckin, EventResponse, EventConversion, EventDeliveryFailed}
}

// Webhook delivery states.
const (
	WebhookPending   = "pending"
	WebhookSucceeded = "succeeded"
	WebhookFailed    = "failed"
)

// WebhookEndpoint is a receiver (a company's LMS or BI) of signed webhooks
// (migration 11). Secret is stored sealed (package webhooks); Events is the
// comma-separated list of event types it follows.
type WebhookEndpoint struct {
	ID          uint64 `gorm:"primaryKey"`
	URL         string `gorm:"column:url;size:1024;not null"`
	Secret      string `gorm:"size:255;not null"`
	Events      string `gorm:"size:255;not null"`
	Enabled     bool   `gorm:"not null"`
	Description string `gorm:"size:255"`
	CreatedBy   string `gorm:"size:128"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// WebhookEvent is one fact in the outbox, written in the same transaction as
// the fact itself: its type and the id of the fact's row (a check-in, a
// survey response, a conversion, a delivery). The payload is built from that
// row when the event is sent. FannedOut is set once a delivery row exists for
// every endpoint that followed the type at that moment.
type WebhookEvent struct {
	ID         uint64    `gorm:"primaryKey"`
	Type       string    `gorm:"size:32;not null;uniqueIndex:ux_webhook_event,priority:1"`
	RefID      uint64    `gorm:"not null;uniqueIndex:ux_webhook_event,priority:2"`
	OccurredAt time.Time `gorm:"not null"`
	FannedOut  bool      `gorm:"not null;default:false;index"`
	CreatedAt  time.Time
}

// WebhookDelivery is one event for one endpoint: pending until the receiver
// answers 2xx (succeeded) or the attempts are spent (failed).
type WebhookDelivery struct {
	ID            uint64    `gorm:"primaryKey"`
	EndpointID    uint64    `gorm:"not null;uniqueIndex:ux_webhook_delivery,priority:1"`
	EventID       uint64    `gorm:"not null;uniqueIndex:ux_webhook_delivery,priority:2"`
	Status        string    `gorm:"size:16;not null;index:idx_webhook_deliveries_due,priority:1"`
	NextAttemptAt time.Time `gorm:"not null;index:idx_webhook_deliveries_due,priority:2"`
	Attempts      int       `gorm:"not null;default:0"`
	LastStatus    int       `gorm:"not null;default:0"`
	LastError     string    `gorm:"size:1000"`
	DeliveredAt   *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// WebhookAttempt is the log line of one HTTP attempt of a delivery: the
// receiver's status code (0 when none came back), latency and error.
type WebhookAttempt struct {
	ID         uint64    `gorm:"primaryKey"`
	DeliveryID uint64    `gorm:"not null;index"`
	EndpointID uint64    `gorm:"not null;index"`
	Attempt    int       `gorm:"not null"`
	StatusCode int       `gorm:"not null;default:0"`
	LatencyMS  int64     `gorm:"column:latency_ms;not null;default:0"`
	Outcome    string    `gorm:"size:16;not null"`
	Error      string    `gorm:"size:1000"`
	StartedAt  time.Time `gorm:"not null"`
}

// webhookModels lists the webhook tables (migration 11).
func webhookModels() []any {
	return []any{&WebhookEndpoint{}, &WebhookEvent{}, &WebhookDelivery{}, &WebhookAttempt{}}
}

// RecordEventsFrom writes one outbox event of eventType for every row the
// SELECT returns, in tx (the fact's own transaction): the SELECT names its
// columns ref_id and occurred_at (e.g. "SELECT id AS ref_id, checked_in_at
// AS occurred_at FROM checkins WHERE …"). It is one INSERT … SELECT whatever
// the number of rows, and an event already recorded for the same fact is
// left alone, so running it again is safe.
func RecordEventsFrom(tx *gorm.DB, eventType string, now time.Time, selectSQL string, args ...any) error {
	sql, all, err := EventsFromSQL(IsMySQL(tx), eventType, now, selectSQL, args...)
	if err == nil {
		err = tx.Exec(sql, all...).Error
	}
	if err != nil {
		return fmt.Errorf("record %s events: %w", eventType, err)
	}
	return nil
}

// EventsFromSQL is the statement RecordEventsFrom runs, with its arguments,
// for a writer that sends it in a batch of its own (mysql: the MySQL
// dialect, else SQLite's).
func EventsFromSQL(mysql bool, eventType string, now time.Time, selectSQL string, args ...any) (string, []any, error) {
	if !strings.HasPrefix(strings.TrimSpace(selectSQL), "SELECT ") {
		return "", nil, errors.New("the source must be a SELECT")
	}
	sql := "INSERT INTO webhook_events (type, ref_id, occurred_at, fanned_out, created_at) SELECT ?, src.ref_id, src.occurred_at, ?, ? FROM (" +
		selectSQL + ") AS src"
	if mysql {
		sql += " ON DUPLICATE KEY UPDATE webhook_events.ref_id = webhook_events.ref_id"
	} else {
		sql += " WHERE true ON CONFLICT DO NOTHING"
	}
	return sql, append([]any{eventType, false, now.UTC().Truncate(time.Millisecond)}, args...), nil
}
