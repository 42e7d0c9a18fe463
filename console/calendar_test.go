package console_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestHealthListsCalendarInvites: delivery health shows each platform's
// calendar event of the session, a failing one with the platform's code
// and message, and exports them.
func TestHealthListsCalendarInvites(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := newEnv(t, db)
		c := e.signedIn(t, "zhang", store.RoleCoordinator, "")
		_, sess := planClass(t, c, "CAL-101")

		r := c.get(sess + "/health")
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		require.NotContains(t, r.Body, "日程邀请", "no calendar table without events")

		id, err := strconv.ParseUint(sess[strings.LastIndex(sess, "/")+1:], 10, 64)
		require.NoError(t, err)
		at := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
		require.NoError(t, db.Create(&store.CalendarEvent{SessionID: id, Platform: "wecom", State: store.CalendarActive, EventID: "sch-1",
			IdemKey: "k1", Attendees: `["a","b"]`, SyncedAt: &at, CreatedAt: at, UpdatedAt: at}).Error)
		require.NoError(t, db.Create(&store.CalendarEvent{SessionID: id, Platform: "feishu", State: store.CalendarPending,
			IdemKey: "k2", Attendees: "[]", Failures: 3, ErrorCode: "193001", LastError: "feishu: calendar create: no calendar permission",
			CreatedAt: at, UpdatedAt: at}).Error)

		r = c.get(sess + "/health")
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		require.Contains(t, r.Body, "日程邀请（平台日历）")
		require.Contains(t, r.Body, "sch-1")
		require.Contains(t, r.Body, "已同步")
		require.Contains(t, r.Body, "同步失败（重试中）")
		require.Contains(t, r.Body, "193001")
		require.Contains(t, r.Body, "no calendar permission")

		r = c.get(sess + "/health?export=csv&table=calendar")
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		require.Contains(t, r.Body, "193001")
		require.Contains(t, r.Body, "sch-1")
	})
}
