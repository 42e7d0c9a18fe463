package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/learnloop/learnloop/store"
)

// DeliveryChecker is optional: adapters whose platform accepts a message
// and may still drop it later (DingTalk work notifications) report what
// became of a sent delivery. A nil error means delivered; a *DroppedError or
// *PermanentError is recorded on the delivery; any other error means "ask
// again later".
type DeliveryChecker interface {
	CheckDelivery(ctx context.Context, handle, userID string) error
}

// Reconcile asks the platforms that implement DeliveryChecker about the
// deliveries they accepted between from and to, and marks the ones they
// dropped or refused since. It returns how many it changed.
func (d *Deliverer) Reconcile(ctx context.Context, from, to time.Time) (int, error) {
	changed := 0
	for p, m := range d.Messengers {
		dc, ok := m.(DeliveryChecker)
		if !ok {
			continue
		}
		var rows []store.Delivery
		err := d.DB.WithContext(ctx).Where("platform = ? AND status = ? AND sent_at >= ? AND sent_at < ? AND handle <> ''",
			string(p), store.DeliverySent, from.UTC(), to.UTC()).Order("id").Limit(5000).Find(&rows).Error
		if err != nil {
			return changed, fmt.Errorf("load sent %s deliveries: %w", p, err)
		}
		for _, r := range rows {
			err := dc.CheckDelivery(ctx, r.Handle, r.UserID)
			var drop *DroppedError
			var perm *PermanentError
			upd := map[string]any{"updated_at": d.now()}
			switch {
			case err == nil:
				continue
			case errors.As(err, &drop):
				upd["status"] = store.DeliveryDropped
				upd["error_code"], upd["error_message"] = store.PlatformError(drop.Code, drop.Message)
			case errors.As(err, &perm):
				upd["status"] = store.DeliveryFailed
				upd["error_code"], upd["error_message"] = store.PlatformError(perm.Code, perm.Error())
			default:
				continue // still pending, or the platform did not answer: next run
			}
			res := d.DB.WithContext(ctx).Model(&store.Delivery{}).Where("id = ? AND status = ?", r.ID, store.DeliverySent).Updates(upd)
			if res.Error != nil {
				return changed, fmt.Errorf("record delivery %d: %w", r.ID, res.Error)
			}
			if res.RowsAffected == 1 {
				changed++
				d.Metrics.delivery(r.Platform, upd["status"].(string))
			}
		}
	}
	return changed, nil
}
