package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/learnloop/learnloop/calendar/invite"
	"github.com/learnloop/learnloop/internal/cut"
)

// Schedule (日程) API paths. silenceper/wechat has no oa/schedule calls,
// so they go through call() like the directory's.
const (
	pathScheduleAdd    = "/cgi-bin/oa/schedule/add"
	pathScheduleUpdate = "/cgi-bin/oa/schedule/update"
	pathScheduleDel    = "/cgi-bin/oa/schedule/del"
)

// Schedule limits: the summary and location at most 128 characters, the
// description at most 1,000, at most 1,000 attendees, the reminder's time
// zone a whole hour offset from UTC between −12 and +12.
const (
	maxScheduleSummary     = 128
	maxScheduleLocation    = 128
	maxScheduleDescription = 1000
	maxScheduleAttendees   = 1000
	// scheduleRemindBefore is when WeCom reminds attendees: 15 minutes
	// before the start, the check-in prompt's time.
	scheduleRemindBefore = 15 * 60
)

type scheduleAttendee struct {
	UserID string `json:"userid"`
}

type scheduleReminders struct {
	IsRemind              int `json:"is_remind"`
	RemindBeforeEventSecs int `json:"remind_before_event_secs"`
	Timezone              int `json:"timezone"`
}

type schedule struct {
	ScheduleID  string             `json:"schedule_id,omitempty"`
	StartTime   int64              `json:"start_time"`
	EndTime     int64              `json:"end_time"`
	Attendees   []scheduleAttendee `json:"attendees"`
	Summary     string             `json:"summary"`
	Description string             `json:"description"`
	Location    string             `json:"location"`
	Reminders   scheduleReminders  `json:"reminders"`
}

type scheduleAddRequest struct {
	Schedule schedule `json:"schedule"`
	AgentID  int64    `json:"agentid"`
}

type scheduleUpdateRequest struct {
	// SkipAttendees 0: the attendee list is replaced by Schedule's.
	SkipAttendees int      `json:"skip_attendees"`
	Schedule      schedule `json:"schedule"`
}

type scheduleAddResponse struct {
	ScheduleID string `json:"schedule_id"`
}

// schedulePayload is ev as WeCom's schedule.
func schedulePayload(ev invite.Event) (schedule, error) {
	if len(ev.Attendees) > maxScheduleAttendees {
		return schedule{}, &invite.Error{Platform: "wecom", Op: "schedule", Message: fmt.Sprintf("%d attendees: a WeCom schedule takes at most %d", len(ev.Attendees), maxScheduleAttendees), Permanent: true}
	}
	tz := 8
	if loc, err := time.LoadLocation(ev.TimeZone); err == nil {
		_, off := ev.Start.In(loc).Zone()
		tz = min(max(off/3600, -12), 12)
	}
	s := schedule{
		StartTime: ev.Start.Unix(), EndTime: ev.End.Unix(), Attendees: make([]scheduleAttendee, 0, len(ev.Attendees)),
		Summary: cut.Runes(ev.Title, maxScheduleSummary), Description: cut.Runes(ev.Description, maxScheduleDescription),
		Location:  cut.Runes(ev.Location, maxScheduleLocation),
		Reminders: scheduleReminders{IsRemind: 1, RemindBeforeEventSecs: scheduleRemindBefore, Timezone: tz},
	}
	for _, id := range ev.Attendees {
		s.Attendees = append(s.Attendees, scheduleAttendee{UserID: id})
	}
	return s, nil
}

// CreateEvent implements calendar.Platform: oa/schedule/add with the
// attendees by userid. WeCom has no idempotency key for schedules, so key
// is not sent: a create whose answer is lost is made again by the retry.
func (c *Client) CreateEvent(ctx context.Context, key string, ev invite.Event) (invite.Ref, error) {
	s, err := schedulePayload(ev)
	if err != nil {
		return invite.Ref{}, err
	}
	raw, err := c.call(ctx, "oa/schedule/add", http.MethodPost, pathScheduleAdd, nil, scheduleAddRequest{Schedule: s, AgentID: c.cfg.AgentID})
	if err != nil {
		return invite.Ref{}, calendarError("add", err)
	}
	var res scheduleAddResponse
	if err := json.Unmarshal(raw, &res); err != nil || res.ScheduleID == "" {
		return invite.Ref{}, &invite.Error{Platform: "wecom", Op: "add", Message: "answer has no schedule_id"}
	}
	return invite.Ref{EventID: res.ScheduleID}, nil
}

// UpdateEvent implements calendar.Platform: oa/schedule/update, which
// replaces the attendee list with ev's (had is not needed).
func (c *Client) UpdateEvent(ctx context.Context, ref invite.Ref, ev invite.Event, had []string) error {
	s, err := schedulePayload(ev)
	if err != nil {
		return err
	}
	s.ScheduleID = ref.EventID
	if _, err := c.call(ctx, "oa/schedule/update", http.MethodPost, pathScheduleUpdate, nil, scheduleUpdateRequest{Schedule: s}); err != nil {
		return calendarError("update", err)
	}
	return nil
}

// DeleteEvent implements calendar.Platform: oa/schedule/del (the
// attendees see it cancelled).
func (c *Client) DeleteEvent(ctx context.Context, ref invite.Ref) error {
	if _, err := c.call(ctx, "oa/schedule/del", http.MethodPost, pathScheduleDel, nil, map[string]string{"schedule_id": ref.EventID}); err != nil {
		return calendarError("del", err)
	}
	return nil
}

// calendarError turns a call's error into an *invite.Error: WeCom's
// errcodes are permanent unless they are busy, frequency or token answers;
// a failed exchange (network, 5xx, timeout) is transient.
func calendarError(op string, err error) error {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return &invite.Error{Platform: "wecom", Op: op, Code: strconv.FormatInt(apiErr.Code, 10), Message: apiErr.Msg, Permanent: !apiErr.Transient(), Err: err}
	}
	return &invite.Error{Platform: "wecom", Op: op, Message: err.Error(), Err: err}
}
