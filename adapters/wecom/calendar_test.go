package wecom_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit/kittest"
	"github.com/learnloop/learnloop/adapters/wecom"
	"github.com/learnloop/learnloop/calendar"
	"github.com/learnloop/learnloop/calendar/invite"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

var _ calendar.Platform = (*wecom.Client)(nil)

func calendarClient(t *testing.T, users ...string) (*wecom.Client, *wecom.FakeWeCom) {
	t.Helper()
	fake := wecom.NewFakeWeCom(t, users...)
	c, err := wecom.New(fake.Config())
	require.NoError(t, err)
	return c, fake
}

func TestCalendarLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, fake := calendarClient(t, "zhangwei", "wangfang")
	ev := kittest.Event("wangfang", "zhangwei")
	start := ev.Start

	ref, err := c.CreateEvent(ctx, "ll-cal-1-wecom-abc", ev)
	require.NoError(t, err)
	require.NotEmpty(t, ref.EventID)
	got := fake.Schedules()
	require.Len(t, got, 1)
	require.Equal(t, ref.EventID, got[0].ID)
	require.Equal(t, "高效沟通", got[0].Summary)
	require.Equal(t, "3F A", got[0].Location)
	require.Equal(t, start.Unix(), got[0].Start)
	require.Equal(t, 8, got[0].Timezone, "reminders in the session's zone (UTC+8)")
	require.Equal(t, []string{"wangfang", "zhangwei"}, got[0].Attendees)

	// Moved an hour later, one attendee fewer.
	ev.Start, ev.End, ev.Attendees = start.Add(time.Hour), start.Add(3*time.Hour), []string{"zhangwei"}
	require.NoError(t, c.UpdateEvent(ctx, ref, ev, []string{"wangfang", "zhangwei"}))
	got = fake.Schedules()
	require.Len(t, got, 1, "an update makes no second schedule")
	require.Equal(t, start.Add(time.Hour).Unix(), got[0].Start)
	require.Equal(t, []string{"zhangwei"}, got[0].Attendees)
	require.Equal(t, 1, got[0].Updates)

	// Cancelled.
	require.NoError(t, c.DeleteEvent(ctx, ref))
	require.True(t, fake.Schedules()[0].Deleted)
	var ie *invite.Error
	require.ErrorAs(t, c.DeleteEvent(ctx, ref), &ie, "a deleted schedule cannot be deleted twice")
	require.True(t, ie.Permanent)
}

func TestCalendarErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	ev := invite.Event{Title: "t", Start: start, End: start.Add(time.Hour), TimeZone: "Asia/Shanghai", Attendees: []string{"zhangwei"}}
	many := make([]string, 1001)
	for i := range many {
		many[i] = "u"
	}
	tests := []struct {
		name      string
		fault     *wecom.Fault
		ev        func(invite.Event) invite.Event
		permanent bool
		code      string
	}{
		{name: "5xx is transient", fault: &wecom.Fault{Status: http.StatusBadGateway}},
		{name: "busy is transient", fault: &wecom.Fault{ErrCode: -1}, code: "-1"},
		{name: "frequency limit is transient", fault: &wecom.Fault{ErrCode: 45009}, code: "45009"},
		{name: "unknown attendee is permanent", ev: func(e invite.Event) invite.Event { e.Attendees = []string{"lisi"}; return e }, permanent: true, code: "40031"},
		{name: "more than 1000 attendees is refused before the call", ev: func(e invite.Event) invite.Event { e.Attendees = many; return e }, permanent: true},
		{name: "end before start is permanent", ev: func(e invite.Event) invite.Event { e.End = e.Start.Add(-time.Hour); return e }, permanent: true, code: "40058"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, fake := calendarClient(t, "zhangwei")
			if tt.fault != nil {
				fake.Fail("/cgi-bin/oa/schedule/add", *tt.fault)
			}
			e := ev
			if tt.ev != nil {
				e = tt.ev(e)
			}
			_, err := c.CreateEvent(ctx, "k", e)
			var ie *invite.Error
			require.ErrorAs(t, err, &ie)
			require.Equal(t, tt.permanent, ie.Permanent)
			require.Equal(t, tt.code, ie.Code)
			require.Empty(t, fake.Schedules())
			for _, tok := range fake.Tokens() {
				require.NotContains(t, err.Error(), tok)
			}
		})
	}
}

// calendarEvent loads the session's stored WeCom event.
func calendarEvent(t *testing.T, db *storetest.DB, sessionID uint64) store.CalendarEvent {
	t.Helper()
	var row store.CalendarEvent
	require.NoError(t, db.Where("session_id = ? AND platform = ?", sessionID, "wecom").Take(&row).Error)
	return row
}

func TestEndToEndCalendarInvites(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := setupApp(t, db, func(c *config.Config) { c.Calendar.InviteDefault = true })
		e.fake.AddUser("lisi")

		sess := apptest.NewSession(t, e.srv.URL, apptest.SessionSpec{
			Course: map[string]any{"code": "CAL-101", "title": "高效沟通"},
			Session: map[string]any{
				"title": "高效沟通 第1期", "starts_at": "2026-03-09T10:00:00+08:00", "ends_at": "2026-03-09T12:00:00+08:00",
				"location": "3F A", "teacher": "赵老师", "time_zone": "Asia/Shanghai",
			},
		})
		id := jsonNum(sess.ID)
		// Nobody to invite yet: no event.
		e.runDue(t)
		require.Empty(t, e.fake.Schedules())

		// The roster arrives, but WeCom answers 502 first: the job retries
		// and makes exactly one schedule.
		e.fake.Fail("/cgi-bin/oa/schedule/add", wecom.Fault{Status: http.StatusBadGateway})
		sess.ImportRoster(t, e.srv.URL, "external_id,name,department,platform,wecom_id\nE001,张伟,销售,wecom,zhangwei\nE002,王芳,销售,wecom,wangfang\n")
		e.runDue(t)
		require.Empty(t, e.fake.Schedules())
		row := calendarEvent(t, db, sess.ID)
		require.Equal(t, store.CalendarPending, row.State)
		require.Equal(t, 1, row.Failures)
		require.Contains(t, row.LastError, "502")
		e.clk.Set(e.clk.Now().Add(time.Minute))
		e.runDue(t)
		sch := e.fake.Schedules()
		require.Len(t, sch, 1, "the retry made one schedule")
		require.Equal(t, []string{"wangfang", "zhangwei"}, sch[0].Attendees)
		require.Contains(t, sch[0].Description, "讲师：赵老师")
		require.Contains(t, sch[0].Description, e.srv.URL+"/q/")
		row = calendarEvent(t, db, sess.ID)
		require.Equal(t, store.CalendarActive, row.State)
		require.Equal(t, sch[0].ID, row.EventID)
		require.Zero(t, row.Failures)
		require.Empty(t, row.LastError)

		// Running again changes nothing.
		e.clk.Set(e.clk.Now().Add(time.Minute))
		e.runDue(t)
		require.Zero(t, e.fake.Schedules()[0].Updates)

		// Moved and re-roomed: the same schedule is updated.
		require.Equal(t, http.StatusOK, e.call(t, "PATCH", "/api/v1/sessions/"+id, "", map[string]any{
			"starts_at": "2026-03-09T14:00:00+08:00", "ends_at": "2026-03-09T16:00:00+08:00", "location": "5F B"}, nil))
		e.runDue(t)
		sch = e.fake.Schedules()
		require.Len(t, sch, 1)
		require.Equal(t, 1, sch[0].Updates)
		require.Equal(t, "5F B", sch[0].Location)
		require.Equal(t, time.Date(2026, 3, 9, 6, 0, 0, 0, time.UTC).Unix(), sch[0].Start)

		// Enrolment changes: lisi joins, wangfang is excused.
		require.Equal(t, http.StatusOK, e.call(t, "POST", "/api/v1/sessions/"+id+"/roster", "text/csv",
			"external_id,name,department,platform,wecom_id\nE003,李四,市场,wecom,lisi\n", nil))
		require.Equal(t, http.StatusOK, e.call(t, "POST", "/api/v1/sessions/"+id+"/excuse", "", map[string]any{"external_id": "E002", "note": "出差"}, nil))
		// Two jobs: the older leaves the work to the newer, which waits
		// for it to finish (busy wait of 5 s) and then syncs both changes.
		e.runDue(t)
		e.clk.Set(e.clk.Now().Add(10 * time.Second))
		e.runDue(t)
		sch = e.fake.Schedules()
		require.Len(t, sch, 1)
		require.Equal(t, []string{"lisi", "zhangwei"}, sch[0].Attendees)
		require.Equal(t, 2, sch[0].Updates, "both changes in one update")

		// Cancelled: the schedule is deleted.
		require.Equal(t, http.StatusOK, e.call(t, "POST", "/api/v1/sessions/"+id+"/cancel", "", nil, nil))
		e.runDue(t)
		sch = e.fake.Schedules()
		require.Len(t, sch, 1)
		require.True(t, sch[0].Deleted)
		require.Equal(t, store.CalendarDeleted, calendarEvent(t, db, sess.ID).State)

		// Every sync job finished.
		var open int64
		require.NoError(t, db.Model(&store.Job{}).Where("kind = ? AND state IN ?", calendar.JobSync, []string{store.JobAvailable, store.JobRunning}).Count(&open).Error)
		require.Zero(t, open)
	})
}
