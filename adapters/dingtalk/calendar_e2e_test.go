package dingtalk_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/dingtalk"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestEndToEndCalendarInvites: a course with invites on puts its session
// in the organizer's calendar with the attendees by unionId; excusing one
// removes them; cancelling deletes it. Through app.New on both databases.
func TestEndToEndCalendarInvites(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := e2eSetup(t, db, dingtalk.CardsTemplate, func(c *dingtalk.Config) { c.CalendarOrganizer = "hr01" })
		for u, id := range map[string]string{"hr01": "union-hr01", "u-001": "union-001", "u-002": "union-002"} {
			e.f.calendarUser(u, id)
		}
		run := func() {
			apptest.RunDue(t, e.a)
			for range 2 {
				e.clk.Set(e.clk.Now().Add(2 * time.Minute))
				apptest.RunDue(t, e.a)
			}
		}
		var c struct{ ID uint64 }
		require.Equal(t, http.StatusCreated, e.call(t, "POST", "/api/v1/courses", "", map[string]any{"code": "CAL-301", "title": "高效沟通", "calendar_invite": "on"}, &c))
		var s struct {
			Session struct{ ID uint64 } `json:"session"`
		}
		require.Equal(t, http.StatusCreated, e.call(t, "POST", "/api/v1/sessions", "", map[string]any{
			"course_id": c.ID, "starts_at": "2026-03-09T10:00:00+08:00", "ends_at": "2026-03-09T12:00:00+08:00",
			"location": "3F A", "time_zone": "Asia/Shanghai",
		}, &s))
		sid := strconv.FormatUint(s.Session.ID, 10)
		csv := "external_id,name,department,platform,dingtalk_id\nE001,张伟,销售,dingtalk,u-001\nE002,王芳,销售,dingtalk,u-002\n"
		require.Equal(t, http.StatusOK, e.call(t, "POST", "/api/v1/sessions/"+sid+"/roster", "text/csv", csv, nil))
		run()
		evs := e.f.calendarEvents()
		require.Len(t, evs, 1)
		require.Equal(t, "union-hr01", evs[0].Organizer)
		require.Equal(t, []string{"union-001", "union-002"}, evs[0].Attendees)
		var row store.CalendarEvent
		require.NoError(t, db.Where("session_id = ? AND platform = ?", s.Session.ID, "dingtalk").Take(&row).Error)
		require.Equal(t, store.CalendarActive, row.State)
		require.Equal(t, evs[0].ID, row.EventID)

		require.Equal(t, http.StatusOK, e.call(t, "POST", "/api/v1/sessions/"+sid+"/excuse", "", map[string]any{"external_id": "E002"}, nil))
		run()
		evs = e.f.calendarEvents()
		require.Len(t, evs, 1)
		require.Equal(t, []string{"union-001"}, evs[0].Attendees)

		require.Equal(t, http.StatusOK, e.call(t, "POST", "/api/v1/sessions/"+sid+"/cancel", "", nil, nil))
		run()
		require.True(t, e.f.calendarEvents()[0].Deleted)
	})
}
