package surveys

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestFollowupGoesUpPastAResignedManager: the manager follow-up of an
// attendee whose manager left goes to the next active manager up.
func TestFollowupGoesUpPastAResignedManager(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		mk := func(ext, mgr string, active bool) store.Employee {
			e := store.Employee{ExternalID: ext, Name: ext, ManagerID: mgr, Active: true}
			require.NoError(t, db.Create(&e).Error)
			if !active {
				require.NoError(t, db.Model(&e).Update("active", false).Error)
			}
			return e
		}
		mk("VP", "", true)
		mk("M1", "VP", false) // resigned
		a := mk("A", "M1", true)
		b := mk("B", "GHOST", true) // manager unknown, nobody above
		c := mk("C", "VP", true)
		sess := store.Session{CourseID: 1, Title: "s", StartsAt: now, EndsAt: now.Add(time.Hour), TimeZone: "UTC", Locale: "zh-CN"}
		require.NoError(t, db.Create(&sess).Error)
		for _, e := range []store.Employee{a, b, c} {
			require.NoError(t, db.Create(&store.Enrollment{SessionID: sess.ID, EmployeeID: e.ID, Status: store.EnrollInvited}).Error)
			require.NoError(t, db.Create(&store.Checkin{SessionID: sess.ID, EmployeeID: e.ID, Kind: store.CheckinOnTime, Source: store.SourceCard, CheckedInAt: now}).Error)
		}
		targets, err := followupPairs(ctx, db.DB, sess.ID)
		require.NoError(t, err)
		got := map[string]string{}
		for _, tg := range targets {
			got[tg.Subject.ExternalID] = tg.Employee.ExternalID
		}
		require.Equal(t, map[string]string{"A": "VP", "C": "VP"}, got, "A's follow-up skips the resigned M1; B has nobody")

		// The escalations are in the audit log, once however often the
		// audience is resolved.
		_, err = followupPairs(ctx, db.DB, sess.ID)
		require.NoError(t, err)
		var audit []store.AuditLog
		require.NoError(t, db.Where("action = ?", AuditEscalated).Order("detail").Find(&audit).Error)
		require.Len(t, audit, 2)
		require.Equal(t, "attendee A: manager M1 passed over (left or unknown) → VP VP", audit[0].Detail)
		require.Equal(t, "attendee B: manager GHOST passed over (left or unknown) → nobody (no active manager above)", audit[1].Detail)
		require.Equal(t, fmt.Sprintf("session:%d", sess.ID), audit[0].Object)
		require.False(t, audit[0].CreatedAt.IsZero())
	})
}
