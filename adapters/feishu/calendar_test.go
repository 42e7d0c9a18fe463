package feishu

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit/kittest"
	"github.com/learnloop/learnloop/calendar/invite"
)

func TestCalendarLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFakeFeishu(t, IDTypeUserID)
	c, logs := testClient(t, f, nil)

	ev := kittest.Event("u1", "u2")
	ref, err := c.CreateEvent(ctx, "ll-cal-1-feishu-abc", ev)
	require.NoError(t, err)
	require.Equal(t, fakePrimaryCalendar, ref.CalendarID, "the app's primary calendar")
	got := f.Events()
	require.Len(t, got, 1)
	require.Equal(t, ref.EventID, got[0].ID)
	require.Equal(t, "高效沟通", got[0].Summary)
	require.Equal(t, "3F A", got[0].Location)
	require.Equal(t, "Asia/Shanghai", got[0].TimeZone)
	require.Equal(t, ev.Start.Unix(), got[0].Start)
	require.Equal(t, []string{"u1", "u2"}, got[0].Attendees)

	// The same key again (a retry after a lost answer): the same event.
	again, err := c.CreateEvent(ctx, "ll-cal-1-feishu-abc", ev)
	require.NoError(t, err)
	require.Equal(t, ref, again)
	require.Len(t, f.Events(), 1)

	// Moved, online, u2 out and u3 in.
	ev2 := kittest.Event("u1", "u3")
	ev2.Start, ev2.End, ev2.OnlineURL = ev.Start.Add(time.Hour), ev.End.Add(time.Hour), "https://meeting.example.com/j/1"
	require.NoError(t, c.UpdateEvent(ctx, ref, ev2, []string{"u1", "u2"}))
	got = f.Events()
	require.Len(t, got, 1)
	require.Equal(t, 1, got[0].Patches)
	require.Equal(t, ev2.Start.Unix(), got[0].Start)
	require.Equal(t, "https://meeting.example.com/j/1", got[0].MeetingURL)
	require.Equal(t, []string{"u1", "u3"}, got[0].Attendees)

	// Cancelled, then gone.
	require.NoError(t, c.DeleteEvent(ctx, ref))
	require.True(t, f.Events()[0].Deleted)
	require.ErrorIs(t, c.DeleteEvent(ctx, ref), invite.ErrNotFound)
	require.ErrorIs(t, c.UpdateEvent(ctx, ref, ev2, nil), invite.ErrNotFound)

	for _, tok := range f.issuedTokens() {
		require.NotContains(t, logs.String(), tok)
	}
	require.NotContains(t, logs.String(), testAppSecret)
}

func TestCalendarAttendeesInChunks(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeOpenID)
	c, _ := testClient(t, f, nil)
	ids := make([]string, 2500)
	for i := range ids {
		ids[i] = fmt.Sprintf("ou_%04d", i)
	}
	_, err := c.CreateEvent(context.Background(), "k", kittest.Event(ids...))
	require.NoError(t, err, "2,500 attendees go in three calls of at most 1,000")
	require.Len(t, f.Events()[0].Attendees, 2500)

	var ie *invite.Error
	_, err = c.CreateEvent(context.Background(), "k2", kittest.Event(append(ids, make([]string, 501)...)...))
	require.ErrorAs(t, err, &ie)
	require.True(t, ie.Permanent, "over 3,000 attendees is refused before any call")
}

func TestCalendarErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fail      failure
		permanent bool
		code      string
	}{
		{name: "5xx is transient", fail: failure{status: 502, code: 0, msg: "bad gateway"}, code: "http_502"},
		{name: "rate limit is transient", fail: failure{status: 429, code: 99991400, msg: "too many requests"}, code: "99991400"},
		{name: "no calendar permission is permanent", fail: failure{status: 400, code: 191002, msg: "no calendar access"}, permanent: true, code: "191002"},
		{name: "bad parameters are permanent", fail: failure{status: 400, code: 190002, msg: "invalid parameters"}, permanent: true, code: "190002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeFeishu(t, IDTypeUserID)
			c, _ := testClient(t, f, func(cfg *Config) { cfg.CalendarID = fakePrimaryCalendar })
			f.FailCalendar(tt.fail)
			_, err := c.CreateEvent(context.Background(), "k", kittest.Event("u1"))
			var ie *invite.Error
			require.ErrorAs(t, err, &ie)
			require.Equal(t, tt.permanent, ie.Permanent, err.Error())
			require.Equal(t, tt.code, ie.Code)
			require.Empty(t, f.Events())
			// The next attempt goes through and makes one event.
			_, err = c.CreateEvent(context.Background(), "k", kittest.Event("u1"))
			require.NoError(t, err)
			require.Len(t, f.Events(), 1)
		})
	}
}

func TestCalendarEmailAttendees(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeEmail)
	c, _ := testClient(t, f, nil)
	_, err := c.CreateEvent(context.Background(), "k", kittest.Event("a@example.com"))
	require.NoError(t, err)
	require.Equal(t, []string{"a@example.com"}, f.Events()[0].Attendees)
}
