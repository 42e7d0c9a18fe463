package dingtalk_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// FakeEvent is one calendar event the fake DingTalk holds.
type fakeEvent struct {
	ID          string
	Organizer   string // unionId
	Summary     string
	Description string
	Location    string
	Start, End  time.Time
	TimeZone    string
	Attendees   []string // unionIds
	ClientToken string
	Patches     int
	Deleted     bool
}

// calendarUser makes userID a member with unionID (topapi/v2/user/get
// answers it; calendar calls accept the unionId).
func (f *fakeDT) calendarUser(userID, unionID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unions == nil {
		f.unions = map[string]string{}
	}
	f.unions[userID] = unionID
}

func (f *fakeDT) calendarEvents() []fakeEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]fakeEvent, 0, len(f.events))
	for _, e := range f.events {
		c := *e
		c.Attendees = append([]string(nil), e.Attendees...)
		sort.Strings(c.Attendees)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (f *fakeDT) knownUnion(id string) bool {
	for _, u := range f.unions {
		if u == id {
			return true
		}
	}
	return false
}

// serveCalendar answers topapi/v2/user/get and the calendar v1.0 events
// API; it reports whether the request was one of them. It runs under f.mu.
// What it enforces: tokens, the organizer and every attendee a known
// unionId, summary and times present (RFC 3339, an IANA zone, end after
// start), at most 500 attendees an event, x-client-token de-duplicating
// creates, an unknown or deleted event 404.
func (f *fakeDT) serveCalendar(w http.ResponseWriter, r *http.Request, body []byte) bool {
	if r.Method == http.MethodPost && r.URL.Path == "/topapi/v2/user/get" {
		if f.oapiAuth(w, r) {
			var req struct {
				UserID string `json:"userid"`
			}
			_ = json.Unmarshal(body, &req)
			if u, ok := f.unions[req.UserID]; ok {
				writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "result": map[string]any{"userid": req.UserID, "unionid": u, "name": req.UserID}})
			} else {
				writeJSON(w, http.StatusOK, map[string]any{"errcode": 60121, "errmsg": "找不到该用户"})
			}
		}
		return true
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1.0/calendar/users/")
	if !ok {
		return false
	}
	parts := strings.Split(rest, "/")
	// {union}/calendars/primary/events[/{id}[/attendees[/batchRemove]]]
	if len(parts) < 4 || parts[1] != "calendars" || parts[3] != "events" {
		return false
	}
	if r.Method == http.MethodDelete {
		// A DELETE has no body (and no Content-Type): only the token.
		if !f.apiTokens[r.Header.Get("x-acs-dingtalk-access-token")] {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "InvalidAuthentication", "message": "不合法的access_token"})
			return true
		}
	} else if !f.newAPIAuth(w, r) {
		return true
	}
	union, calID := parts[0], parts[2]
	if !f.knownUnion(union) || calID != "primary" {
		writeJSON(w, http.StatusForbidden, map[string]string{"code": "forbidden.noPermission", "message": "no permission for calendar of " + union})
		return true
	}
	var ev *fakeEvent
	if len(parts) >= 5 {
		ev = f.events[parts[4]]
		if ev == nil || ev.Deleted || ev.Organizer != union {
			writeJSON(w, http.StatusNotFound, map[string]string{"code": "eventNotFound", "message": "event not found"})
			return true
		}
	}
	switch {
	case len(parts) == 4 && r.Method == http.MethodPost:
		f.calCreate(w, r, union, body)
	case len(parts) == 5 && r.Method == http.MethodPut:
		f.calPatch(w, ev, body)
	case len(parts) == 5 && r.Method == http.MethodDelete:
		ev.Deleted = true
		w.WriteHeader(http.StatusOK)
	case len(parts) == 6 && parts[5] == "attendees" && r.Method == http.MethodPost:
		f.calAttendees(w, ev, body, true)
	case len(parts) == 7 && parts[5] == "attendees" && parts[6] == "batchRemove" && r.Method == http.MethodPost:
		f.calAttendees(w, ev, body, false)
	default:
		return false
	}
	return true
}

type fakeEventReq struct {
	ID          *string `json:"id"`
	Summary     *string `json:"summary"`
	Description *string `json:"description"`
	Start       *struct {
		DateTime string `json:"dateTime"`
		TimeZone string `json:"timeZone"`
	} `json:"start"`
	End *struct {
		DateTime string `json:"dateTime"`
		TimeZone string `json:"timeZone"`
	} `json:"end"`
	Location *struct {
		DisplayName string `json:"displayName"`
	} `json:"location"`
	Attendees []struct {
		ID string `json:"id"`
	} `json:"attendees"`
}

func badParam(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"code": "invalidParameter", "message": msg})
}

// times checks and reads the request's times.
func (q fakeEventReq) times() (time.Time, time.Time, string, string) {
	if q.Start == nil || q.End == nil {
		return time.Time{}, time.Time{}, "", "start and end are required"
	}
	s, err1 := time.Parse(time.RFC3339, q.Start.DateTime)
	e, err2 := time.Parse(time.RFC3339, q.End.DateTime)
	if err1 != nil || err2 != nil || !e.After(s) {
		return time.Time{}, time.Time{}, "", "invalid start/end dateTime"
	}
	if _, err := time.LoadLocation(q.Start.TimeZone); err != nil || q.Start.TimeZone == "" {
		return time.Time{}, time.Time{}, "", "invalid timeZone"
	}
	return s, e, q.Start.TimeZone, ""
}

func (f *fakeDT) calCreate(w http.ResponseWriter, r *http.Request, union string, body []byte) {
	var q fakeEventReq
	if err := json.Unmarshal(body, &q); err != nil || q.Summary == nil || *q.Summary == "" {
		badParam(w, "summary is required")
		return
	}
	if utf8.RuneCountInString(*q.Summary) > 2048 || (q.Description != nil && utf8.RuneCountInString(*q.Description) > 5000) {
		badParam(w, "summary or description too long")
		return
	}
	s, e, tz, msg := q.times()
	if msg != "" {
		badParam(w, msg)
		return
	}
	if len(q.Attendees) > 500 {
		badParam(w, "at most 500 attendees")
		return
	}
	var ids []string
	for _, a := range q.Attendees {
		if !f.knownUnion(a.ID) {
			badParam(w, "unknown attendee unionId "+a.ID)
			return
		}
		ids = append(ids, a.ID)
	}
	tok := r.Header.Get("x-client-token")
	if f.events == nil {
		f.events = map[string]*fakeEvent{}
	}
	for _, ev := range f.events {
		if tok != "" && ev.ClientToken == tok {
			writeJSON(w, http.StatusOK, map[string]any{"id": ev.ID, "summary": ev.Summary})
			return
		}
	}
	id := fmt.Sprintf("dtev%04d", len(f.events)+1)
	ev := &fakeEvent{ID: id, Organizer: union, Summary: *q.Summary, Start: s, End: e, TimeZone: tz, Attendees: ids, ClientToken: tok}
	if q.Description != nil {
		ev.Description = *q.Description
	}
	if q.Location != nil {
		ev.Location = q.Location.DisplayName
	}
	f.events[id] = ev
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "summary": ev.Summary})
}

func (f *fakeDT) calPatch(w http.ResponseWriter, ev *fakeEvent, body []byte) {
	var q fakeEventReq
	if err := json.Unmarshal(body, &q); err != nil || q.ID == nil || *q.ID != ev.ID {
		badParam(w, "id must be the event's")
		return
	}
	if len(q.Attendees) > 0 {
		f.badf("patch replaced attendees: the adapter adds and removes them")
	}
	if q.Start != nil || q.End != nil {
		s, e, tz, msg := q.times()
		if msg != "" {
			badParam(w, msg)
			return
		}
		ev.Start, ev.End, ev.TimeZone = s, e, tz
	}
	if q.Summary != nil {
		ev.Summary = *q.Summary
	}
	if q.Description != nil {
		ev.Description = *q.Description
	}
	if q.Location != nil {
		ev.Location = q.Location.DisplayName
	}
	ev.Patches++
	writeJSON(w, http.StatusOK, map[string]any{"id": ev.ID})
}

func (f *fakeDT) calAttendees(w http.ResponseWriter, ev *fakeEvent, body []byte, add bool) {
	var q struct {
		Add []struct {
			ID string `json:"id"`
		} `json:"attendeesToAdd"`
		Remove []struct {
			ID string `json:"id"`
		} `json:"attendeesToRemove"`
	}
	if err := json.Unmarshal(body, &q); err != nil {
		badParam(w, "body is not JSON")
		return
	}
	list := q.Remove
	if add {
		list = q.Add
	}
	if len(list) == 0 || len(list) > 500 {
		badParam(w, "1 to 500 attendees a call")
		return
	}
	have := map[string]bool{}
	for _, a := range ev.Attendees {
		have[a] = true
	}
	for _, a := range list {
		if !f.knownUnion(a.ID) {
			badParam(w, "unknown attendee unionId "+a.ID)
			return
		}
		have[a.ID] = add
	}
	if add && len(have) > 500 {
		badParam(w, "an event has at most 500 attendees")
		return
	}
	ev.Attendees = ev.Attendees[:0]
	for a, in := range have {
		if in {
			ev.Attendees = append(ev.Attendees, a)
		}
	}
	sort.Strings(ev.Attendees)
	w.WriteHeader(http.StatusOK)
}
