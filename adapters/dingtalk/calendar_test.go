package dingtalk_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/dingtalk"
	"github.com/learnloop/learnloop/adapters/kit/kittest"
	"github.com/learnloop/learnloop/calendar"
	"github.com/learnloop/learnloop/calendar/invite"
)

var _ calendar.Platform = (*dingtalk.Client)(nil)

func calSetup(t *testing.T) *bundle {
	t.Helper()
	b := setup(t, true, func(c *dingtalk.Config) { c.CalendarOrganizer = "hr01" })
	for u, id := range map[string]string{"hr01": "union-hr01", "u1": "union-u1", "u2": "union-u2", "u3": "union-u3"} {
		b.f.calendarUser(u, id)
	}
	return b
}

func TestCalendarLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := calSetup(t)
	ref, err := b.c.CreateEvent(ctx, "ll-cal-1-dingtalk-abc", kittest.Event("u1", "u2"))
	require.NoError(t, err)
	evs := b.f.calendarEvents()
	require.Len(t, evs, 1)
	require.Equal(t, ref.EventID, evs[0].ID)
	require.Equal(t, "union-hr01", evs[0].Organizer, "in the organizer's primary calendar")
	require.Equal(t, []string{"union-u1", "union-u2"}, evs[0].Attendees, "attendees by unionId")
	require.Equal(t, "Asia/Shanghai", evs[0].TimeZone)
	require.True(t, evs[0].Start.Equal(kittest.Event().Start))
	_, off := evs[0].Start.Zone()
	require.Equal(t, 8*3600, off, "dateTime in the session's zone")
	require.Equal(t, "3F A", evs[0].Location)

	// A retry with the same x-client-token: the same event.
	again, err := b.c.CreateEvent(ctx, "ll-cal-1-dingtalk-abc", kittest.Event("u1", "u2"))
	require.NoError(t, err)
	require.Equal(t, ref, again)
	require.Len(t, b.f.calendarEvents(), 1)

	ev := kittest.Event("u1", "u3")
	ev.Start, ev.End, ev.Location = ev.Start.Add(time.Hour), ev.End.Add(time.Hour), "5F B"
	require.NoError(t, b.c.UpdateEvent(ctx, ref, ev, []string{"u1", "u2"}))
	evs = b.f.calendarEvents()
	require.Len(t, evs, 1)
	require.Equal(t, 1, evs[0].Patches)
	require.Equal(t, "5F B", evs[0].Location)
	require.True(t, evs[0].Start.Equal(ev.Start))
	require.Equal(t, []string{"union-u1", "union-u3"}, evs[0].Attendees)

	require.NoError(t, b.c.DeleteEvent(ctx, ref))
	require.True(t, b.f.calendarEvents()[0].Deleted)
	require.ErrorIs(t, b.c.DeleteEvent(ctx, ref), invite.ErrNotFound)
	require.ErrorIs(t, b.c.UpdateEvent(ctx, ref, ev, nil), invite.ErrNotFound)
	require.NotContains(t, b.log.String(), testAppSecret)
}

func TestCalendarErrors(t *testing.T) {
	t.Parallel()
	const path = "/v1.0/calendar/users/union-hr01/calendars/primary/events"
	tests := []struct {
		name      string
		setup     func(b *bundle)
		ev        invite.Event
		permanent bool
		code      string
		retryOK   bool
	}{
		{name: "5xx is transient", setup: func(b *bundle) { b.f.fail(path, 502, `{"code":"ServiceUnavailable","message":"busy"}`) }, ev: kittest.Event("u1"), code: "ServiceUnavailable", retryOK: true},
		{name: "throttling is transient", setup: func(b *bundle) {
			b.f.fail(path, 429, `{"code":"Forbidden.AccessDenied.QpsLimitForApi","message":"qps"}`)
		}, ev: kittest.Event("u1"), code: "Forbidden.AccessDenied.QpsLimitForApi", retryOK: true},
		{name: "a missing permission is permanent", setup: func(b *bundle) {
			b.f.fail(path, 403, `{"code":"Forbidden.AccessDenied.AccessTokenPermissionDenied","message":"没有调用该接口的权限"}`)
		}, ev: kittest.Event("u1"), permanent: true, code: "Forbidden.AccessDenied.AccessTokenPermissionDenied", retryOK: true},
		{name: "an unknown member is permanent", ev: kittest.Event("nobody"), permanent: true},
		{name: "more than 500 attendees is refused before any call", ev: kittest.Event(make([]string, 501)...), permanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := calSetup(t)
			if tt.setup != nil {
				tt.setup(b)
			}
			_, err := b.c.CreateEvent(context.Background(), "k", tt.ev)
			var ie *invite.Error
			require.ErrorAs(t, err, &ie)
			require.Equal(t, tt.permanent, ie.Permanent, err.Error())
			if tt.code != "" {
				require.Equal(t, tt.code, ie.Code)
			}
			require.Empty(t, b.f.calendarEvents())
			if tt.retryOK {
				_, err = b.c.CreateEvent(context.Background(), "k", tt.ev)
				require.NoError(t, err)
				require.Len(t, b.f.calendarEvents(), 1)
			}
		})
	}
}

func TestCalendarNeedsOrganizer(t *testing.T) {
	t.Parallel()
	b := setup(t, true, nil)
	_, err := b.c.CreateEvent(context.Background(), "k", kittest.Event("u1"))
	require.ErrorIs(t, err, dingtalk.ErrNoOrganizer)
	var ie *invite.Error
	require.ErrorAs(t, err, &ie)
	require.True(t, ie.Permanent)
	require.Zero(t, b.f.callCount("/topapi/v2/user/get"), "nothing is called")
}
