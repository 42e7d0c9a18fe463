package feishu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// Codes the fake's calendar answers with: invalid parameters (190002),
// an event it does not have (193001).
const (
	fakeCalInvalidParam = 190002
	fakeCalEventGone    = 193001
	fakePrimaryCalendar = "feishu.cn_learnloop-app@group.calendar.feishu.cn"
)

// FakeEvent is one calendar event the fake holds.
type FakeEvent struct {
	ID             string
	CalendarID     string
	Summary        string
	Description    string
	Location       string
	MeetingURL     string
	Start, End     int64
	TimeZone       string
	Attendees      []string
	IdempotencyKey string
	Patches        int
	Deleted        bool
}

// calendarRoutes serves calendar v4: the app's primary calendar, events
// (create with idempotency_key: the same key answers the same event;
// patch; delete) and their attendees (add at most 1,000 a call and 3,000
// an event, of the expected user_id_type; batch_delete), each with a
// valid tenant token; an unknown calendar or event is 193001/191002-like
// refusals, bad fields 190002.
func (f *fakeFeishu) calendarRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /open-apis/calendar/v4/calendars/primary", f.calPrimary)
	mux.HandleFunc("POST /open-apis/calendar/v4/calendars/{cal}/events", f.calCreate)
	mux.HandleFunc("PATCH /open-apis/calendar/v4/calendars/{cal}/events/{id}", f.calPatch)
	mux.HandleFunc("DELETE /open-apis/calendar/v4/calendars/{cal}/events/{id}", f.calDelete)
	mux.HandleFunc("POST /open-apis/calendar/v4/calendars/{cal}/events/{id}/attendees", f.calAddAttendees)
	mux.HandleFunc("POST /open-apis/calendar/v4/calendars/{cal}/events/{id}/attendees/batch_delete", f.calRemoveAttendees)
}

// FailCalendar scripts the next calendar answers.
func (f *fakeFeishu) FailCalendar(fs ...failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calFailures = append(f.calFailures, fs...)
}

// Events returns the events the fake holds, deleted ones too, by id.
func (f *fakeFeishu) Events() []FakeEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FakeEvent, 0, len(f.events))
	for _, e := range f.events {
		c := *e
		c.Attendees = append([]string(nil), e.Attendees...)
		sort.Strings(c.Attendees)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// calGate checks the token and pops a scripted calendar failure; it
// reports whether the request may go on.
func (f *fakeFeishu) calGate(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.authorized(w, r) {
		return false
	}
	if len(f.calFailures) > 0 {
		fl := f.calFailures[0]
		f.calFailures = f.calFailures[1:]
		reply(w, fl.status, map[string]any{"code": fl.code, "msg": fl.msg})
		return false
	}
	return true
}

func (f *fakeFeishu) calPrimary(w http.ResponseWriter, r *http.Request) {
	if !f.calGate(w, r) {
		return
	}
	reply(w, 200, map[string]any{"code": 0, "msg": "success", "data": map[string]any{"calendars": []any{
		map[string]any{"calendar": map[string]any{"calendar_id": fakePrimaryCalendar, "type": "primary", "summary": "learnloop"}}}}})
}

type fakeEventBody struct {
	Summary     *string `json:"summary"`
	Description *string `json:"description"`
	StartTime   *struct {
		Timestamp string `json:"timestamp"`
		Timezone  string `json:"timezone"`
	} `json:"start_time"`
	EndTime *struct {
		Timestamp string `json:"timestamp"`
		Timezone  string `json:"timezone"`
	} `json:"end_time"`
	Location *struct {
		Name string `json:"name"`
	} `json:"location"`
	Vchat *struct {
		VcType     string `json:"vc_type"`
		MeetingURL string `json:"meeting_url"`
	} `json:"vchat"`
}

// check validates the event fields Feishu validates; create needs times.
func (b fakeEventBody) check(create bool) string {
	if create && (b.StartTime == nil || b.EndTime == nil) {
		return "start_time and end_time are required"
	}
	if b.Summary != nil && utf8.RuneCountInString(*b.Summary) > 1000 {
		return "summary is too long"
	}
	if b.Description != nil && utf8.RuneCountInString(*b.Description) > 40960 {
		return "description is too long"
	}
	if b.StartTime != nil && b.EndTime != nil {
		s, err1 := strconv.ParseInt(b.StartTime.Timestamp, 10, 64)
		e, err2 := strconv.ParseInt(b.EndTime.Timestamp, 10, 64)
		if err1 != nil || err2 != nil || e <= s {
			return "invalid start_time/end_time"
		}
		if _, err := time.LoadLocation(b.StartTime.Timezone); err != nil || b.StartTime.Timezone == "" {
			return "invalid timezone"
		}
	}
	if b.Vchat != nil && b.Vchat.VcType == "third_party" && b.Vchat.MeetingURL == "" {
		return "meeting_url is required for a third_party vchat"
	}
	return ""
}

func (b fakeEventBody) apply(e *FakeEvent) {
	if b.Summary != nil {
		e.Summary = *b.Summary
	}
	if b.Description != nil {
		e.Description = *b.Description
	}
	if b.StartTime != nil {
		e.Start, _ = strconv.ParseInt(b.StartTime.Timestamp, 10, 64)
		e.TimeZone = b.StartTime.Timezone
	}
	if b.EndTime != nil {
		e.End, _ = strconv.ParseInt(b.EndTime.Timestamp, 10, 64)
	}
	if b.Location != nil {
		e.Location = b.Location.Name
	}
	if b.Vchat != nil {
		e.MeetingURL = b.Vchat.MeetingURL
	}
}

func (f *fakeFeishu) badParam(w http.ResponseWriter, msg string) {
	reply(w, 400, map[string]any{"code": fakeCalInvalidParam, "msg": "invalid parameters in request: " + msg})
}

func (f *fakeFeishu) calCreate(w http.ResponseWriter, r *http.Request) {
	if !f.calGate(w, r) {
		return
	}
	if r.PathValue("cal") != fakePrimaryCalendar {
		reply(w, 400, map[string]any{"code": 191002, "msg": "no calendar access"})
		return
	}
	var b fakeEventBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		f.badParam(w, "body is not JSON")
		return
	}
	if msg := b.check(true); msg != "" {
		f.badParam(w, msg)
		return
	}
	key := r.URL.Query().Get("idempotency_key")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.events == nil {
		f.events = map[string]*FakeEvent{}
	}
	for _, e := range f.events {
		if key != "" && e.IdempotencyKey == key {
			replyEvent(w, e.ID)
			return
		}
	}
	id := fmt.Sprintf("ev_%04d_0", len(f.events)+1)
	e := &FakeEvent{ID: id, CalendarID: r.PathValue("cal"), IdempotencyKey: key}
	b.apply(e)
	f.events[id] = e
	replyEvent(w, id)
}

// withEvent runs fn on the request's live event under the fake's lock, or
// answers 193001.
func (f *fakeFeishu) withEvent(w http.ResponseWriter, r *http.Request, fn func(e *FakeEvent)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.events[r.PathValue("id")]
	if !ok || e.Deleted || e.CalendarID != r.PathValue("cal") {
		reply(w, 400, map[string]any{"code": fakeCalEventGone, "msg": "event not found"})
		return
	}
	fn(e)
}

// replyEvent answers success with the event's id.
func replyEvent(w http.ResponseWriter, id string) {
	reply(w, 200, map[string]any{"code": 0, "msg": "success", "data": map[string]any{"event": map[string]any{"event_id": id}}})
}

func (f *fakeFeishu) calPatch(w http.ResponseWriter, r *http.Request) {
	if !f.calGate(w, r) {
		return
	}
	var b fakeEventBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		f.badParam(w, "body is not JSON")
		return
	}
	if msg := b.check(false); msg != "" {
		f.badParam(w, msg)
		return
	}
	f.withEvent(w, r, func(e *FakeEvent) {
		b.apply(e)
		e.Patches++
		replyEvent(w, e.ID)
	})
}

func (f *fakeFeishu) calDelete(w http.ResponseWriter, r *http.Request) {
	if !f.calGate(w, r) {
		return
	}
	f.withEvent(w, r, func(e *FakeEvent) {
		e.Deleted = true
		reply(w, 200, map[string]any{"code": 0, "msg": "success"})
	})
}

type fakeAttendee struct {
	Type            string `json:"type"`
	UserID          string `json:"user_id"`
	ThirdPartyEmail string `json:"third_party_email"`
}

func (a fakeAttendee) id() string {
	if a.Type == "third_party" {
		return a.ThirdPartyEmail
	}
	return a.UserID
}

// attendeeIDs checks the user_id_type and each attendee's shape.
func (f *fakeFeishu) attendeeIDs(w http.ResponseWriter, r *http.Request, as []fakeAttendee) ([]string, bool) {
	if f.wantIDType != IDTypeEmail && r.URL.Query().Get("user_id_type") != f.wantIDType {
		f.badParam(w, "user_id_type must be "+f.wantIDType)
		return nil, false
	}
	ids := make([]string, 0, len(as))
	for _, a := range as {
		switch {
		case a.Type == "user" && a.UserID != "":
		case a.Type == "third_party" && a.ThirdPartyEmail != "":
		default:
			f.badParam(w, "attendee of type "+a.Type+" without its id")
			return nil, false
		}
		ids = append(ids, a.id())
	}
	return ids, true
}

func (f *fakeFeishu) calAddAttendees(w http.ResponseWriter, r *http.Request) {
	if !f.calGate(w, r) {
		return
	}
	var b struct {
		Attendees []fakeAttendee `json:"attendees"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil || len(b.Attendees) == 0 {
		f.badParam(w, "attendees are required")
		return
	}
	if len(b.Attendees) > 1000 {
		f.badParam(w, "at most 1000 attendees per request")
		return
	}
	ids, ok := f.attendeeIDs(w, r, b.Attendees)
	if !ok {
		return
	}
	f.withEvent(w, r, func(e *FakeEvent) {
		have := map[string]bool{}
		for _, a := range e.Attendees {
			have[a] = true
		}
		n := len(e.Attendees)
		for _, id := range ids {
			if !have[id] {
				n++
			}
		}
		if n > 3000 {
			f.badParam(w, "an event has at most 3000 attendees")
			return
		}
		for _, id := range ids {
			if !have[id] {
				have[id] = true
				e.Attendees = append(e.Attendees, id)
			}
		}
		reply(w, 200, map[string]any{"code": 0, "msg": "success", "data": map[string]any{"attendees": []any{}}})
	})
}

func (f *fakeFeishu) calRemoveAttendees(w http.ResponseWriter, r *http.Request) {
	if !f.calGate(w, r) {
		return
	}
	var b struct {
		DeleteIDs []fakeAttendee `json:"delete_ids"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil || len(b.DeleteIDs) == 0 {
		f.badParam(w, "delete_ids are required")
		return
	}
	ids, ok := f.attendeeIDs(w, r, b.DeleteIDs)
	if !ok {
		return
	}
	f.withEvent(w, r, func(e *FakeEvent) {
		gone := map[string]bool{}
		for _, id := range ids {
			gone[id] = true
		}
		e.Attendees = slices.DeleteFunc(e.Attendees, func(a string) bool { return gone[a] })
		reply(w, 200, map[string]any{"code": 0, "msg": "success"})
	})
}
