package dingtalk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	cal "github.com/alibabacloud-go/dingtalk/calendar_1_0"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/learnloop/learnloop/calendar/invite"
	"github.com/learnloop/learnloop/internal/cut"
)

// Calendar v1.0 bounds: at most 500 attendees an event and 100 an
// attendees call; the summary at most 2,048 characters, the description
// 5,000. Events go into the organizer's primary calendar.
const (
	maxCalAttendees    = 500
	calAttendeesPerAdd = 100
	maxCalSummary      = 2048
	maxCalDescription  = 5000
	calRemindMinutes   = 15
	primaryCalendar    = "primary"
)

// ErrNoOrganizer is the calendar calls' refusal while
// platforms.dingtalk.calendar_organizer is not set.
var ErrNoOrganizer = errors.New("dingtalk: platforms.dingtalk.calendar_organizer is not set: DingTalk 日程 need the userid of the member whose calendar holds them")

// unionID is the unionId of member userID (calendar calls name people by
// it), read once with topapi/v2/user/get and kept.
func (c *Client) unionID(ctx context.Context, userID string) (string, error) {
	c.unionMu.Lock()
	id, ok := c.unions[userID]
	c.unionMu.Unlock()
	if ok {
		return id, nil
	}
	m, err := c.DirectoryUser(ctx, userID)
	if err != nil {
		return "", err
	}
	if m.UnionID == "" {
		return "", &invite.Error{Platform: "dingtalk", Op: "user/get", Message: "no unionid for " + userID, Permanent: true}
	}
	c.unionMu.Lock()
	c.unions[userID] = m.UnionID
	c.unionMu.Unlock()
	return m.UnionID, nil
}

func (c *Client) unionIDs(ctx context.Context, userIDs []string) ([]string, error) {
	out := make([]string, 0, len(userIDs))
	for _, u := range userIDs {
		id, err := c.unionID(ctx, u)
		if err != nil {
			if errors.Is(err, ErrUserNotFound) {
				return nil, &invite.Error{Platform: "dingtalk", Op: "user/get", Message: "DingTalk does not know userid " + u, Permanent: true, Err: err}
			}
			return nil, calendarError("user/get", err)
		}
		out = append(out, id)
	}
	return out, nil
}

// organizer is the organizer's unionId.
func (c *Client) organizer(ctx context.Context) (string, error) {
	if c.cfg.CalendarOrganizer == "" {
		return "", &invite.Error{Platform: "dingtalk", Op: "calendar", Message: ErrNoOrganizer.Error(), Permanent: true, Err: ErrNoOrganizer}
	}
	ids, err := c.unionIDs(ctx, []string{c.cfg.CalendarOrganizer})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// calCall runs fn with the calendar SDK client (one at a time: the SDK's
// clients are not safe for concurrent use) and a new-API token.
func (c *Client) calCall(ctx context.Context, op string, fn func(cl *cal.Client, tok *string, rt *util.RuntimeOptions) error) error {
	err := c.withAPIToken(ctx, func(tok string) error {
		err := c.sdkCall(ctx, func(rt *util.RuntimeOptions) error {
			c.calMu.Lock()
			defer c.calMu.Unlock()
			return fn(c.cal, tea.String(tok), rt)
		})
		if err != nil {
			return c.classifySDK(op, err)
		}
		return nil
	})
	if err != nil {
		c.noteQuota(err)
		return calendarError(op, err)
	}
	return nil
}

// wallTime is t in zone as DingTalk's dateTime (RFC 3339 with offset).
func wallTime(t time.Time, zone string) string {
	if loc, err := time.LoadLocation(zone); err == nil {
		t = t.In(loc)
	}
	return t.Format(time.RFC3339)
}

// CreateEvent implements calendar.Platform: the event in the organizer's
// primary calendar with x-client-token key (DingTalk's idempotency key),
// its attendees by unionId.
func (c *Client) CreateEvent(ctx context.Context, key string, ev invite.Event) (invite.Ref, error) {
	if len(ev.Attendees) > maxCalAttendees {
		return invite.Ref{}, &invite.Error{Platform: "dingtalk", Op: "create", Message: fmt.Sprintf("%d attendees: a DingTalk event takes at most %d", len(ev.Attendees), maxCalAttendees), Permanent: true}
	}
	org, err := c.organizer(ctx)
	if err != nil {
		return invite.Ref{}, err
	}
	ids, err := c.unionIDs(ctx, ev.Attendees)
	if err != nil {
		return invite.Ref{}, err
	}
	req := &cal.CreateEventRequest{
		Summary: tea.String(cut.Runes(ev.Title, maxCalSummary)), Description: tea.String(cut.Runes(ev.Description, maxCalDescription)),
		Start:     &cal.CreateEventRequestStart{DateTime: tea.String(wallTime(ev.Start, ev.TimeZone)), TimeZone: tea.String(ev.TimeZone)},
		End:       &cal.CreateEventRequestEnd{DateTime: tea.String(wallTime(ev.End, ev.TimeZone)), TimeZone: tea.String(ev.TimeZone)},
		IsAllDay:  tea.Bool(false),
		Reminders: []*cal.CreateEventRequestReminders{{Method: tea.String("dingtalk"), Minutes: tea.Int32(calRemindMinutes)}},
	}
	if ev.Location != "" {
		req.Location = &cal.CreateEventRequestLocation{DisplayName: tea.String(ev.Location)}
	}
	for _, id := range ids {
		req.Attendees = append(req.Attendees, &cal.CreateEventRequestAttendees{Id: tea.String(id), IsOptional: tea.Bool(false)})
	}
	var eventID string
	err = c.calCall(ctx, "calendar/events/create", func(cl *cal.Client, tok *string, rt *util.RuntimeOptions) error {
		res, err := cl.CreateEventWithOptions(tea.String(org), tea.String(primaryCalendar), req,
			&cal.CreateEventHeaders{XAcsDingtalkAccessToken: tok, XClientToken: tea.String(key)}, rt)
		if err == nil && res != nil && res.Body != nil {
			eventID = tea.StringValue(res.Body.Id)
		}
		return err
	})
	if err != nil {
		return invite.Ref{}, err
	}
	if eventID == "" {
		return invite.Ref{}, &invite.Error{Platform: "dingtalk", Op: "create", Message: "answer has no event id"}
	}
	return invite.Ref{EventID: eventID, CalendarID: primaryCalendar}, nil
}

// UpdateEvent implements calendar.Platform: PUT the event's fields, then
// add the attendees it lacks and remove those no longer invited.
func (c *Client) UpdateEvent(ctx context.Context, ref invite.Ref, ev invite.Event, had []string) error {
	if len(ev.Attendees) > maxCalAttendees {
		return &invite.Error{Platform: "dingtalk", Op: "update", Message: fmt.Sprintf("%d attendees: a DingTalk event takes at most %d", len(ev.Attendees), maxCalAttendees), Permanent: true}
	}
	org, err := c.organizer(ctx)
	if err != nil {
		return err
	}
	req := &cal.PatchEventRequest{
		Id: tea.String(ref.EventID), Summary: tea.String(cut.Runes(ev.Title, maxCalSummary)), Description: tea.String(cut.Runes(ev.Description, maxCalDescription)),
		Start:    &cal.PatchEventRequestStart{DateTime: tea.String(wallTime(ev.Start, ev.TimeZone)), TimeZone: tea.String(ev.TimeZone)},
		End:      &cal.PatchEventRequestEnd{DateTime: tea.String(wallTime(ev.End, ev.TimeZone)), TimeZone: tea.String(ev.TimeZone)},
		Location: &cal.PatchEventRequestLocation{DisplayName: tea.String(ev.Location)},
	}
	err = c.calCall(ctx, "calendar/events/patch", func(cl *cal.Client, tok *string, rt *util.RuntimeOptions) error {
		_, err := cl.PatchEventWithOptions(tea.String(org), tea.String(calendarOf(ref)), tea.String(ref.EventID), req, &cal.PatchEventHeaders{XAcsDingtalkAccessToken: tok}, rt)
		return err
	})
	if err != nil {
		return err
	}
	add, remove := invite.Changes(had, ev.Attendees)
	addIDs, err := c.unionIDs(ctx, add)
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(addIDs, calAttendeesPerAdd) {
		r := &cal.AddAttendeeRequest{PushNotification: tea.Bool(true)}
		for _, id := range chunk {
			r.AttendeesToAdd = append(r.AttendeesToAdd, &cal.AddAttendeeRequestAttendeesToAdd{Id: tea.String(id), IsOptional: tea.Bool(false)})
		}
		if err := c.calCall(ctx, "calendar/events/attendees/add", func(cl *cal.Client, tok *string, rt *util.RuntimeOptions) error {
			_, err := cl.AddAttendeeWithOptions(tea.String(org), tea.String(calendarOf(ref)), tea.String(ref.EventID), r, &cal.AddAttendeeHeaders{XAcsDingtalkAccessToken: tok}, rt)
			return err
		}); err != nil {
			return err
		}
	}
	removeIDs, err := c.unionIDs(ctx, remove)
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(removeIDs, calAttendeesPerAdd) {
		r := &cal.RemoveAttendeeRequest{}
		for _, id := range chunk {
			r.AttendeesToRemove = append(r.AttendeesToRemove, &cal.RemoveAttendeeRequestAttendeesToRemove{Id: tea.String(id)})
		}
		if err := c.calCall(ctx, "calendar/events/attendees/batchRemove", func(cl *cal.Client, tok *string, rt *util.RuntimeOptions) error {
			_, err := cl.RemoveAttendeeWithOptions(tea.String(org), tea.String(calendarOf(ref)), tea.String(ref.EventID), r, &cal.RemoveAttendeeHeaders{XAcsDingtalkAccessToken: tok}, rt)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// DeleteEvent implements calendar.Platform: the event is deleted and the
// attendees notified.
func (c *Client) DeleteEvent(ctx context.Context, ref invite.Ref) error {
	org, err := c.organizer(ctx)
	if err != nil {
		return err
	}
	return c.calCall(ctx, "calendar/events/delete", func(cl *cal.Client, tok *string, rt *util.RuntimeOptions) error {
		_, err := cl.DeleteEventWithOptions(tea.String(org), tea.String(calendarOf(ref)), tea.String(ref.EventID),
			&cal.DeleteEventRequest{PushNotification: tea.Bool(true)}, &cal.DeleteEventHeaders{XAcsDingtalkAccessToken: tok}, rt)
		return err
	})
}

func calendarOf(ref invite.Ref) string {
	if ref.CalendarID != "" {
		return ref.CalendarID
	}
	return primaryCalendar
}

// calendarError turns an adapter error into an *invite.Error: a refusal
// (an *APIError that is not temporary) is permanent, an event DingTalk no
// longer has (HTTP 404) wraps invite.ErrNotFound; quota, 5xx, token and
// network failures are transient.
func calendarError(op string, err error) error {
	var ie *invite.Error
	if errors.As(err, &ie) {
		return err
	}
	var ae *APIError
	if errors.As(err, &ae) {
		e := &invite.Error{Platform: "dingtalk", Op: op, Code: ae.Code, Message: ae.Message, Permanent: !ae.Temporary(), Err: err}
		if ae.HTTPStatus == http.StatusNotFound {
			e.Err = invite.ErrNotFound
		}
		return e
	}
	return &invite.Error{Platform: "dingtalk", Op: op, Message: err.Error(), Err: err}
}
