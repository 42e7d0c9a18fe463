package directory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
)

// ErrNoConflict is returned by ResolveConflict for a member with no
// conflict on record.
var ErrNoConflict = errors.New("no directory conflict for that member")

// ErrNoEmployee is returned by ResolveConflict for an unknown employee.
var ErrNoEmployee = errors.New("no such employee")

// ResolveConflict records a person's decision on a directory conflict: the
// platform member userID is employee externalID ("" means a new employee).
// The next sync links (or creates) accordingly. It is audited as actor.
func ResolveConflict(ctx context.Context, db *gorm.DB, platform, userID, externalID, actor string, now func() time.Time) error {
	return store.Tx(ctx, db, func(tx *gorm.DB) error {
		var c store.DirectoryConflict
		err := tx.Where("platform = ? AND user_id = ?", platform, userID).Take(&c).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("%s member %q: %w", platform, userID, ErrNoConflict)
		}
		if err != nil {
			return fmt.Errorf("read conflict: %w", err)
		}
		var empID uint64
		if externalID != "" {
			var e store.Employee
			err := tx.Where("external_id = ?", externalID).Take(&e).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return fmt.Errorf("employee %q: %w", externalID, ErrNoEmployee)
			}
			if err != nil {
				return fmt.Errorf("read employee: %w", err)
			}
			if id := platformID(&e, platform); id != "" && id != userID {
				return fmt.Errorf("employee %q already has %s user %q: clear it first", externalID, platform, id)
			}
			empID = e.ID
		}
		at := now().UTC()
		if err := tx.Model(&store.DirectoryConflict{ID: c.ID}).Updates(map[string]any{
			"status": store.ConflictResolved, "resolved_employee_id": empID, "resolved_by": actor, "resolved_at": at,
		}).Error; err != nil {
			return fmt.Errorf("resolve conflict: %w", err)
		}
		target := externalID
		if target == "" {
			target = "(new employee)"
		}
		return tx.Create(&store.AuditLog{Actor: actor, Action: "directory.resolve", Object: platform + ":" + userID,
			Detail: fmt.Sprintf("candidates %s by %s → %s", c.Candidates, c.Rule, target), CreatedAt: at}).Error
	})
}
