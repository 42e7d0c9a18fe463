package wecom

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"unicode/utf8"

	"github.com/learnloop/learnloop/adapters/wecom/wecomtest"
)

// Errcodes of the fake's schedule API: WeCom's "invalid userid list" and
// "invalid parameter" (an unknown or deleted schedule_id).
const (
	fakeInvalidUserList = 40031
)

// FakeSchedule is one schedule (日程) the fake holds.
type FakeSchedule struct {
	ID          string
	Summary     string
	Description string
	Location    string
	Start, End  int64
	Timezone    int
	Attendees   []string
	Updates     int
	Deleted     bool
}

// calendarRoutes serves oa/schedule/add, update and del: the access token
// and agent id checked, times (start before end), the summary's and
// location's 128 characters, the description's 1,000, at most 1,000
// attendees who must be members (40031), update and delete only of a
// known, not deleted schedule (40058).
func (f *FakeWeCom) calendarRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/cgi-bin/oa/schedule/add", f.api.WithToken(f.scheduleAdd))
	mux.HandleFunc("/cgi-bin/oa/schedule/update", f.api.WithToken(f.scheduleUpdate))
	mux.HandleFunc("/cgi-bin/oa/schedule/del", f.api.WithToken(f.scheduleDel))
}

// Schedules returns every schedule the fake holds, deleted ones too, by id.
func (f *FakeWeCom) Schedules() []FakeSchedule {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FakeSchedule, 0, len(f.schedules))
	for _, s := range f.schedules {
		c := *s
		c.Attendees = append([]string(nil), s.Attendees...)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

type fakeScheduleBody struct {
	ScheduleID  string `json:"schedule_id"`
	StartTime   int64  `json:"start_time"`
	EndTime     int64  `json:"end_time"`
	Summary     string `json:"summary"`
	Description string `json:"description"`
	Location    string `json:"location"`
	Attendees   []struct {
		UserID string `json:"userid"`
	} `json:"attendees"`
	Reminders struct {
		IsRemind int `json:"is_remind"`
		Timezone int `json:"timezone"`
	} `json:"reminders"`
}

// checkSchedule answers WeCom's refusal of s, or returns true.
func (f *FakeWeCom) checkSchedule(w http.ResponseWriter, s fakeScheduleBody) bool {
	switch {
	case s.StartTime <= 0 || s.EndTime <= s.StartTime:
		f.api.Fail(w, wecomtest.CodeInvalidParam, "invalid start_time/end_time")
	case utf8.RuneCountInString(s.Summary) > 128:
		f.api.Fail(w, wecomtest.CodeInvalidParam, "summary exceed max length")
	case utf8.RuneCountInString(s.Location) > 128:
		f.api.Fail(w, wecomtest.CodeInvalidParam, "location exceed max length")
	case utf8.RuneCountInString(s.Description) > 1000:
		f.api.Fail(w, wecomtest.CodeInvalidParam, "description exceed max length")
	case len(s.Attendees) > 1000:
		f.api.Fail(w, wecomtest.CodeUserListLength, "attendees exceed max length")
	case s.Reminders.Timezone < -12 || s.Reminders.Timezone > 12:
		f.api.Fail(w, wecomtest.CodeInvalidParam, "invalid timezone")
	default:
		for _, a := range s.Attendees {
			if !f.api.IsMember(a.UserID) {
				f.api.Fail(w, fakeInvalidUserList, "invalid userid list: "+a.UserID)
				return false
			}
		}
		return true
	}
	return false
}

func (s fakeScheduleBody) attendees() []string {
	out := make([]string, 0, len(s.Attendees))
	for _, a := range s.Attendees {
		out = append(out, a.UserID)
	}
	return out
}

func (f *FakeWeCom) scheduleAdd(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Schedule *fakeScheduleBody `json:"schedule"`
		AgentID  json.Number       `json:"agentid"`
	}
	raw, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(raw, &body); err != nil || body.Schedule == nil {
		f.api.Fail(w, wecomtest.CodeDataFormat, "data format error")
		return
	}
	if body.AgentID.String() != "" && !f.api.AgentOK(body.AgentID) {
		f.api.Fail(w, wecomtest.CodeInvalidAgent, "invalid agentid")
		return
	}
	if body.Schedule.ScheduleID != "" {
		f.api.Fail(w, wecomtest.CodeInvalidParam, "schedule_id is not accepted on add")
		return
	}
	if !f.checkSchedule(w, *body.Schedule) {
		return
	}
	f.mu.Lock()
	if f.schedules == nil {
		f.schedules = map[string]*FakeSchedule{}
	}
	f.seq++
	id := fmt.Sprintf("sch-%04d-%s", f.seq, randHex(4))
	s := body.Schedule
	f.schedules[id] = &FakeSchedule{ID: id, Summary: s.Summary, Description: s.Description, Location: s.Location,
		Start: s.StartTime, End: s.EndTime, Timezone: s.Reminders.Timezone, Attendees: s.attendees()}
	f.mu.Unlock()
	f.api.Reply(w, map[string]any{"errcode": int64(0), "schedule_id": id})
}

func (f *FakeWeCom) scheduleUpdate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		SkipAttendees int               `json:"skip_attendees"`
		Schedule      *fakeScheduleBody `json:"schedule"`
	}
	raw, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(raw, &body); err != nil || body.Schedule == nil {
		f.api.Fail(w, wecomtest.CodeDataFormat, "data format error")
		return
	}
	if !f.checkSchedule(w, *body.Schedule) {
		return
	}
	f.mu.Lock()
	s, ok := f.schedules[body.Schedule.ScheduleID]
	if !ok || s.Deleted {
		f.mu.Unlock()
		f.api.Fail(w, wecomtest.CodeInvalidParam, "invalid schedule_id")
		return
	}
	b := body.Schedule
	s.Summary, s.Description, s.Location, s.Start, s.End, s.Timezone = b.Summary, b.Description, b.Location, b.StartTime, b.EndTime, b.Reminders.Timezone
	if body.SkipAttendees == 0 {
		s.Attendees = b.attendees()
	}
	s.Updates++
	f.mu.Unlock()
	f.api.Reply(w, map[string]any{"errcode": int64(0)})
}

func (f *FakeWeCom) scheduleDel(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ScheduleID string `json:"schedule_id"`
	}
	raw, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(raw, &body); err != nil || body.ScheduleID == "" {
		f.api.Fail(w, wecomtest.CodeDataFormat, "data format error")
		return
	}
	f.mu.Lock()
	s, ok := f.schedules[body.ScheduleID]
	if !ok || s.Deleted {
		f.mu.Unlock()
		f.api.Fail(w, wecomtest.CodeInvalidParam, "invalid schedule_id")
		return
	}
	s.Deleted = true
	f.mu.Unlock()
	f.api.Reply(w, map[string]any{"errcode": int64(0)})
}
