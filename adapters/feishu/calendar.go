package feishu

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkcal "github.com/larksuite/oapi-sdk-go/v3/service/calendar/v4"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/calendar/invite"
	"github.com/learnloop/learnloop/internal/cut"
)

// Calendar v4 limits: at most 1,000 attendees per attendees call, 3,000 on
// one event; the summary at most 1,000 characters, the description 40,960.
const (
	attendeesPerCall       = 1000
	maxEventAttendees      = 3000
	maxEventSummary        = 1000
	maxEventDescription    = 40960
	eventRemindBeforeMin   = 15
	codeCalendarEventGone  = 193001 // 日程不存在 (event not found)
	attendeeTypeUser       = "user"
	attendeeTypeThirdParty = "third_party"
)

// calendarID is the configured calendar (calendar_id), else the app's own
// primary calendar, asked once (calendars/primary) and kept.
func (c *Client) calendarID(ctx context.Context) (string, error) {
	if c.cfg.CalendarID != "" {
		return c.cfg.CalendarID, nil
	}
	c.calMu.Lock()
	defer c.calMu.Unlock()
	if c.calID != "" {
		return c.calID, nil
	}
	var id string
	err := c.call(ctx, "calendar primary", "", func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
		resp, err := c.sdk.Calendar.V4.Calendar.Primary(ctx, larkcal.NewPrimaryCalendarReqBuilder().Build(), opt)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		if resp.Data != nil {
			for _, uc := range resp.Data.Calendars {
				if uc != nil && uc.Calendar != nil && str(uc.Calendar.CalendarId) != "" {
					id = str(uc.Calendar.CalendarId)
					break
				}
			}
		}
		return resp.ApiResp, resp.CodeError, nil
	})
	if err != nil {
		return "", calendarError("primary", err)
	}
	if id == "" {
		return "", &invite.Error{Platform: "feishu", Op: "primary", Message: "the app has no primary calendar (enable the bot capability)", Permanent: true}
	}
	c.calID = id
	return id, nil
}

// userIDType is the user_id_type of calendar calls: the receive id type,
// except e-mail addressing, whose attendees are e-mail attendees.
func (c *Client) userIDType() string {
	switch c.cfg.ReceiveIDType {
	case IDTypeOpenID, IDTypeUnionID:
		return c.cfg.ReceiveIDType
	}
	return IDTypeUserID
}

func (c *Client) attendee(id string) *larkcal.CalendarEventAttendee {
	if c.cfg.ReceiveIDType == IDTypeEmail {
		return &larkcal.CalendarEventAttendee{Type: ptr(attendeeTypeThirdParty), ThirdPartyEmail: ptr(id)}
	}
	return &larkcal.CalendarEventAttendee{Type: ptr(attendeeTypeUser), UserId: ptr(id)}
}

func (c *Client) attendeeID(id string) *larkcal.CalendarEventAttendeeId {
	if c.cfg.ReceiveIDType == IDTypeEmail {
		return &larkcal.CalendarEventAttendeeId{Type: ptr(attendeeTypeThirdParty), ThirdPartyEmail: ptr(id)}
	}
	return &larkcal.CalendarEventAttendeeId{Type: ptr(attendeeTypeUser), UserId: ptr(id)}
}

func ptr[T any](v T) *T { return &v }

// eventBody is ev as a calendar v4 event (without attendees).
func eventBody(ev invite.Event) *larkcal.CalendarEvent {
	ts := func(t int64) *larkcal.TimeInfo {
		return &larkcal.TimeInfo{Timestamp: ptr(strconv.FormatInt(t, 10)), Timezone: ptr(ev.TimeZone)}
	}
	e := &larkcal.CalendarEvent{
		Summary: ptr(cut.Runes(ev.Title, maxEventSummary)), Description: ptr(cut.Runes(ev.Description, maxEventDescription)),
		NeedNotification: ptr(true), StartTime: ts(ev.Start.Unix()), EndTime: ts(ev.End.Unix()),
		AttendeeAbility: ptr("can_see_others"), Reminders: []*larkcal.Reminder{{Minutes: ptr(eventRemindBeforeMin)}},
		Location: &larkcal.EventLocation{Name: ptr(ev.Location)},
		Vchat:    &larkcal.Vchat{VcType: ptr("no_meeting")},
	}
	if ev.OnlineURL != "" {
		e.Vchat = &larkcal.Vchat{VcType: ptr("third_party"), MeetingUrl: ptr(ev.OnlineURL)}
	}
	return e
}

// CreateEvent implements calendar.Platform: the event in the calendar
// (calendar_id, else the app's primary) under idempotency_key key, then
// its attendees, 1,000 a call. A retry with the same key answers the same
// event, and attendees already invited are accepted again.
func (c *Client) CreateEvent(ctx context.Context, key string, ev invite.Event) (invite.Ref, error) {
	if len(ev.Attendees) > maxEventAttendees {
		return invite.Ref{}, &invite.Error{Platform: "feishu", Op: "create", Message: "a Feishu event takes at most 3000 attendees, got " + strconv.Itoa(len(ev.Attendees)), Permanent: true}
	}
	cal, err := c.calendarID(ctx)
	if err != nil {
		return invite.Ref{}, err
	}
	var id string
	err = c.call(ctx, "create event", "", func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
		req := larkcal.NewCreateCalendarEventReqBuilder().CalendarId(cal).IdempotencyKey(key).UserIdType(c.userIDType()).CalendarEvent(eventBody(ev)).Build()
		resp, err := c.sdk.Calendar.V4.CalendarEvent.Create(ctx, req, opt)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		if resp.Data != nil && resp.Data.Event != nil {
			id = str(resp.Data.Event.EventId)
		}
		return resp.ApiResp, resp.CodeError, nil
	})
	if err != nil {
		return invite.Ref{}, calendarError("create", err)
	}
	if id == "" {
		return invite.Ref{}, &invite.Error{Platform: "feishu", Op: "create", Message: "answer has no event_id"}
	}
	ref := invite.Ref{EventID: id, CalendarID: cal}
	if err := c.addAttendees(ctx, ref, ev.Attendees); err != nil {
		return invite.Ref{}, err
	}
	return ref, nil
}

func (c *Client) addAttendees(ctx context.Context, ref invite.Ref, ids []string) error {
	for chunk := range slices.Chunk(ids, attendeesPerCall) {
		body := &larkcal.CreateCalendarEventAttendeeReqBody{NeedNotification: ptr(true)}
		for _, id := range chunk {
			body.Attendees = append(body.Attendees, c.attendee(id))
		}
		err := c.call(ctx, "add attendees", "", func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
			req := larkcal.NewCreateCalendarEventAttendeeReqBuilder().CalendarId(ref.CalendarID).EventId(ref.EventID).UserIdType(c.userIDType()).Body(body).Build()
			resp, err := c.sdk.Calendar.V4.CalendarEventAttendee.Create(ctx, req, opt)
			if err != nil {
				return nil, larkcore.CodeError{}, err
			}
			return resp.ApiResp, resp.CodeError, nil
		})
		if err != nil {
			return calendarError("add attendees", err)
		}
	}
	return nil
}

func (c *Client) removeAttendees(ctx context.Context, ref invite.Ref, ids []string) error {
	for chunk := range slices.Chunk(ids, attendeesPerCall) {
		body := &larkcal.BatchDeleteCalendarEventAttendeeReqBody{NeedNotification: ptr(true)}
		for _, id := range chunk {
			body.DeleteIds = append(body.DeleteIds, c.attendeeID(id))
		}
		err := c.call(ctx, "remove attendees", "", func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
			req := larkcal.NewBatchDeleteCalendarEventAttendeeReqBuilder().CalendarId(ref.CalendarID).EventId(ref.EventID).UserIdType(c.userIDType()).Body(body).Build()
			resp, err := c.sdk.Calendar.V4.CalendarEventAttendee.BatchDelete(ctx, req, opt)
			if err != nil {
				return nil, larkcore.CodeError{}, err
			}
			return resp.ApiResp, resp.CodeError, nil
		})
		if err != nil {
			return calendarError("remove attendees", err)
		}
	}
	return nil
}

// UpdateEvent implements calendar.Platform: PATCH the event's fields, then
// add the attendees it lacks and remove those no longer invited (had are
// the ones invited so far).
func (c *Client) UpdateEvent(ctx context.Context, ref invite.Ref, ev invite.Event, had []string) error {
	if len(ev.Attendees) > maxEventAttendees {
		return &invite.Error{Platform: "feishu", Op: "update", Message: "a Feishu event takes at most 3000 attendees, got " + strconv.Itoa(len(ev.Attendees)), Permanent: true}
	}
	err := c.call(ctx, "patch event", "", func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
		req := larkcal.NewPatchCalendarEventReqBuilder().CalendarId(ref.CalendarID).EventId(ref.EventID).UserIdType(c.userIDType()).CalendarEvent(eventBody(ev)).Build()
		resp, err := c.sdk.Calendar.V4.CalendarEvent.Patch(ctx, req, opt)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		return resp.ApiResp, resp.CodeError, nil
	})
	if err != nil {
		return calendarError("patch", err)
	}
	add, remove := invite.Changes(had, ev.Attendees)
	if err := c.addAttendees(ctx, ref, add); err != nil {
		return err
	}
	return c.removeAttendees(ctx, ref, remove)
}

// DeleteEvent implements calendar.Platform: the event is deleted and its
// attendees notified.
func (c *Client) DeleteEvent(ctx context.Context, ref invite.Ref) error {
	err := c.call(ctx, "delete event", "", func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
		req := larkcal.NewDeleteCalendarEventReqBuilder().CalendarId(ref.CalendarID).EventId(ref.EventID).NeedNotification("true").Build()
		resp, err := c.sdk.Calendar.V4.CalendarEvent.Delete(ctx, req, opt)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		return resp.ApiResp, resp.CodeError, nil
	})
	if err != nil {
		return calendarError("delete", err)
	}
	return nil
}

// calendarError turns call()'s error into an *invite.Error: a
// *bot.PermanentError (Feishu refused) is permanent, an event Feishu no
// longer has (193001, HTTP 404) wraps invite.ErrNotFound, anything else
// (rate limits, 5xx, a token refresh, the network) is transient.
func calendarError(op string, err error) error {
	var ie *invite.Error
	if errors.As(err, &ie) {
		return err
	}
	var pe *bot.PermanentError
	if errors.As(err, &pe) {
		e := &invite.Error{Platform: "feishu", Op: op, Code: pe.Code, Message: pe.Message, Permanent: true, Err: err}
		if pe.Code == strconv.Itoa(codeCalendarEventGone) || pe.Code == "http_"+strconv.Itoa(http.StatusNotFound) {
			e.Err = invite.ErrNotFound
		}
		return e
	}
	var ae *APIError
	if errors.As(err, &ae) {
		code := strconv.Itoa(ae.Code)
		if ae.Code == 0 {
			code = "http_" + strconv.Itoa(ae.Status)
		}
		return &invite.Error{Platform: "feishu", Op: op, Code: code, Message: ae.Msg, Err: err}
	}
	return &invite.Error{Platform: "feishu", Op: op, Message: err.Error(), Err: err}
}
