package bot

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

func TestLoadDeliveryJoinsEverything(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		now := time.Now().UTC()
		c := store.Course{Code: "C", Title: "T"}
		require.NoError(t, db.Create(&c).Error)
		s := store.Session{CourseID: c.ID, Title: "S", StartsAt: now, EndsAt: now, TimeZone: "UTC", Locale: "zh-CN", Status: "planned"}
		require.NoError(t, db.Create(&s).Error)
		e := store.Employee{ExternalID: "E", Name: "N", Active: true}
		require.NoError(t, db.Create(&e).Error)
		tp := store.Touchpoint{SessionID: s.ID, Kind: "reminder", Anchor: "start", Audience: "all", Template: "x", RunAt: now}
		require.NoError(t, db.Create(&tp).Error)
		d := store.Delivery{TouchpointID: tp.ID, Occurrence: "0", EmployeeID: e.ID, SessionID: s.ID, Key: "k", Platform: "simulator", UserID: "E", Status: "sent"}
		require.NoError(t, db.Create(&d).Error)
		dc, err := LoadDelivery(context.Background(), db.DB, d.ID)
		require.NoError(t, err)
		require.Equal(t, "T", dc.Course.Title)
		require.Equal(t, "N", dc.Employee.Name)
		require.Equal(t, "reminder", dc.Touchpoint.Kind)
		require.Equal(t, "S", dc.Session.Title)
	})
}
