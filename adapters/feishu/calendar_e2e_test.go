package feishu_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestEndToEndCalendarInvites: a course whose sessions go into the
// calendar; the session's own flag turns it off and back; a 502 is retried
// into one event; cancelling deletes it. Through app.New on both databases.
func TestEndToEndCalendarInvites(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := setupE2E(t, db)
		// run runs the due jobs, then those a retry's backoff or a
		// busy wait put a little later.
		run := func() {
			apptest.RunDue(t, e.a)
			for range 2 {
				e.clk.Set(e.clk.Now().Add(2 * time.Minute))
				apptest.RunDue(t, e.a)
			}
		}
		var c struct {
			ID             uint64
			CalendarInvite string `json:"calendar_invite"`
		}
		require.Equal(t, http.StatusCreated, e.api(t, "POST", "/api/v1/courses", "", map[string]any{"code": "CAL-201", "title": "高效沟通", "calendar_invite": "on"}, &c))
		require.Equal(t, "on", c.CalendarInvite)
		var s struct {
			Session struct {
				ID             uint64
				CalendarInvite string `json:"calendar_invite"`
			} `json:"session"`
		}
		require.Equal(t, http.StatusCreated, e.api(t, "POST", "/api/v1/sessions", "", map[string]any{
			"course_id": c.ID, "starts_at": "2026-03-09T10:00:00+08:00", "ends_at": "2026-03-09T12:00:00+08:00",
			"location": "3F A", "online_url": "https://meeting.example.com/j/42", "teacher": "赵老师", "time_zone": "Asia/Shanghai",
		}, &s))
		require.Equal(t, "inherit", s.Session.CalendarInvite)
		sid := strconv.FormatUint(s.Session.ID, 10)

		e.fake.FailCalendarWith(502, 0, "bad gateway")
		csv := "external_id,name,department,platform,feishu_id\nE001,张伟,销售,feishu,u-001\nE002,王芳,销售,feishu,u-002\n"
		require.Equal(t, http.StatusOK, e.api(t, "POST", "/api/v1/sessions/"+sid+"/roster", "text/csv", csv, nil))
		run()
		evs := e.fake.Events()
		require.Len(t, evs, 1, "the retry after the 502 made one event")
		require.Equal(t, []string{"u-001", "u-002"}, evs[0].Attendees)
		require.Equal(t, "https://meeting.example.com/j/42", evs[0].MeetingURL)
		require.Contains(t, evs[0].Description, "讲师：赵老师")
		var row store.CalendarEvent
		require.NoError(t, db.Where("session_id = ? AND platform = ?", s.Session.ID, "feishu").Take(&row).Error)
		require.Equal(t, store.CalendarActive, row.State)
		require.Equal(t, evs[0].ID, row.EventID)
		require.Zero(t, row.Failures)

		// Refused values change nothing.
		require.Equal(t, http.StatusUnprocessableEntity, e.api(t, "PATCH", "/api/v1/sessions/"+sid, "", map[string]any{"calendar_invite": "maybe"}, nil))

		// The session turns invites off: deleted; back to the course's: a new event.
		require.Equal(t, http.StatusOK, e.api(t, "PATCH", "/api/v1/sessions/"+sid, "", map[string]any{"calendar_invite": "off"}, nil))
		run()
		require.True(t, e.fake.Events()[0].Deleted)
		require.Equal(t, http.StatusOK, e.api(t, "PATCH", "/api/v1/sessions/"+sid, "", map[string]any{"calendar_invite": "inherit", "location": "5F B"}, nil))
		run()
		evs = e.fake.Events()
		require.Len(t, evs, 2)
		require.False(t, evs[1].Deleted)
		require.Equal(t, "5F B", evs[1].Location)

		// The course turns them off: its sessions' events go.
		require.Equal(t, http.StatusOK, e.api(t, "PATCH", "/api/v1/courses/"+strconv.FormatUint(c.ID, 10), "", map[string]any{"calendar_invite": "off"}, nil))
		run()
		for _, ev := range e.fake.Events() {
			require.True(t, ev.Deleted, ev.ID)
		}
		require.Equal(t, http.StatusOK, e.api(t, "PATCH", "/api/v1/courses/"+strconv.FormatUint(c.ID, 10), "", map[string]any{"calendar_invite": "on"}, nil))
		run()
		require.Len(t, e.fake.Events(), 3)

		// Cancelled: deleted.
		require.Equal(t, http.StatusOK, e.api(t, "POST", "/api/v1/sessions/"+sid+"/cancel", "", nil, nil))
		run()
		for _, ev := range e.fake.Events() {
			require.True(t, ev.Deleted, ev.ID)
		}
	})
}
