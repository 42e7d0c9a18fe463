package store

import (
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// WriteAudit records in tx one change that actor made: action on object,
// with detail as JSON (null when nil), at now.
func WriteAudit(tx *gorm.DB, actor, action, object string, detail any, now time.Time) error {
	b := []byte("null")
	if detail != nil {
		var err error
		if b, err = json.Marshal(detail); err != nil {
			return fmt.Errorf("audit detail: %w", err)
		}
	}
	if err := tx.Create(&AuditLog{Actor: actor, Action: action, Object: object, Detail: string(b), CreatedAt: now.UTC()}).Error; err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}
