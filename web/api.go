package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/campaigns"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/problem"
	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/sendtime"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

func (s *Server) api() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /courses", pageOf(s, "courses", s.listCourses))
	mux.HandleFunc("POST /courses", opBody(s, http.StatusCreated, s.createCourse))
	mux.HandleFunc("GET /courses/{id}", opID(s, http.StatusOK, s.getCourse))
	mux.HandleFunc("PATCH /courses/{id}", opIDBody(s, http.StatusOK, s.patchCourse))
	mux.HandleFunc("GET /sessions", pageOf(s, "sessions", s.listSessions))
	mux.HandleFunc("POST /sessions", opBody(s, http.StatusCreated, s.createSession))
	mux.HandleFunc("GET /sessions/{id}", opID(s, http.StatusOK, s.getSession))
	mux.HandleFunc("PATCH /sessions/{id}", opIDBody(s, http.StatusOK, s.patchSession))
	mux.HandleFunc("POST /sessions/{id}/cancel", opID(s, http.StatusOK, s.cancelSession))
	mux.HandleFunc("GET /sessions/{id}/roster", listOf(s, "session_id", "roster", s.commands().ListRoster))
	mux.HandleFunc("POST /sessions/{id}/roster", withID(s.postRoster))
	mux.HandleFunc("GET /sessions/{id}/touchpoints", listOf(s, "session_id", "touchpoints", s.listTouchpoints))
	mux.HandleFunc("POST /sessions/{id}/touchpoints", opIDBody(s, http.StatusCreated, s.createTouchpoint))
	mux.HandleFunc("GET /sessions/{id}/checkins", listOf(s, "session_id", "checkins", s.commands().ListCheckins))
	mux.HandleFunc("POST /sessions/{id}/checkins", withID(s.manualCheckin))
	mux.HandleFunc("POST /sessions/{id}/excuse", opIDBody(s, http.StatusOK, s.excuse))
	mux.HandleFunc("GET /sessions/{id}/report", withID(s.sessionReport))
	mux.HandleFunc("GET /touchpoints/{id}", opID(s, http.StatusOK, s.getTouchpoint))
	mux.HandleFunc("PATCH /touchpoints/{id}", opIDBody(s, http.StatusOK, s.patchTouchpoint))
	mux.HandleFunc("DELETE /touchpoints/{id}", opNoContent(s, s.deleteTouchpoint))
	mux.HandleFunc("GET /touchpoints/{id}/preview", opID(s, http.StatusOK, s.previewTouchpoint))
	mux.HandleFunc("POST /touchpoints/{id}/send-now", opID(s, http.StatusAccepted, s.sendNow))
	mux.HandleFunc("POST /touchpoints/{id}/pause", opID(s, http.StatusOK, s.pauseTouchpoint(true)))
	mux.HandleFunc("POST /touchpoints/{id}/resume", opID(s, http.StatusOK, s.pauseTouchpoint(false)))
	mux.HandleFunc("GET /touchpoints/{id}/deliveries", listOf(s, "touchpoint_id", "deliveries", s.commands().ListDeliveries))
	mux.HandleFunc("GET /employees", pageOf(s, "employees", s.listEmployees))
	s.surveyRoutes(mux)
	s.campaignRoutes(mux)
	s.webhookRoutes(mux)
	s.digestRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "not_found", text.T(text.EN, "web:detail.no_endpoint", r.Method, r.URL.Path), nil)
	})
	return mux
}

// commands is the one door behind the API and the console.
func (s *Server) commands() *command.Service { return s.Commands }

// asActor is the API token of the request: it acts as an admin.
func asActor(r *http.Request) command.Actor { return command.TokenActor(actor(r.Context())) }

// commandError answers a command's or a domain service's error (digests,
// webhooks, campaigns): 422 with its fields, 404, 403, 409 or 500; and a
// bad query parameter (badQuery): 400.
func (s *Server) commandError(w http.ResponseWriter, r *http.Request, err error) {
	var ie *command.InvalidError
	var qe *queryError
	switch {
	case errors.As(err, &qe):
		apiError(w, http.StatusBadRequest, "bad_query", qe.detail, nil)
	case errors.As(err, &ie):
		// Each field with its code (one of command's Code* values,
		// documented in api/openapi.yaml).
		apiError(w, http.StatusUnprocessableEntity, "invalid", text.T(text.EN, "web:detail.invalid"), problem.Fields(ie.Fields))
	case errors.Is(err, command.ErrNotFound):
		apiError(w, http.StatusNotFound, "not_found", err.Error(), nil)
	case errors.Is(err, command.ErrForbidden):
		apiError(w, http.StatusForbidden, "forbidden", err.Error(), nil)
	case errors.Is(err, command.ErrNotEnrolled):
		apiError(w, http.StatusConflict, "not_enrolled", err.Error(), nil)
	case errors.Is(err, command.ErrConflict), errors.Is(err, campaigns.ErrConflict):
		apiError(w, http.StatusConflict, "conflict", err.Error(), nil)
	default:
		s.internal(w, r, err)
	}
}

// queryError is a request's bad query parameter.
type queryError struct{ detail string }

func (e *queryError) Error() string { return e.detail }

// badQuery is the error of a bad query parameter: 400 bad_query with the
// catalogue's text key (English, as the API answers).
func badQuery(key string, args ...any) error {
	return &queryError{detail: text.T(text.EN, key, args...)}
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log().Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	apiError(w, http.StatusInternalServerError, "internal", text.T(text.EN, "web:detail.internal"), nil)
}

// withID runs h with the request's {id} path value, or answers 400.
func withID(h func(w http.ResponseWriter, r *http.Request, id uint64)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if id, ok := pathID(w, r, "id"); ok {
			h(w, r, id)
		}
	}
}

// answer answers an operation's result: out as JSON with status (no body
// with 204 No Content), or its error as commandError does.
func answer[Out any](s *Server, w http.ResponseWriter, r *http.Request, status int, out Out, err error) {
	switch {
	case err != nil:
		s.commandError(w, r, err)
	case status == http.StatusNoContent:
		w.WriteHeader(status)
	default:
		writeJSON(w, status, out)
	}
}

// opID answers the operation do on the request's {id} (see answer).
func opID[Out any](s *Server, status int, do func(r *http.Request, id uint64) (Out, error)) http.HandlerFunc {
	return withID(func(w http.ResponseWriter, r *http.Request, id uint64) {
		out, err := do(r, id)
		answer(s, w, r, status, out, err)
	})
}

// opNoContent answers 204 No Content once do on the request's {id} is done,
// or its error.
func opNoContent(s *Server, do func(r *http.Request, id uint64) error) http.HandlerFunc {
	return opID(s, http.StatusNoContent, func(r *http.Request, id uint64) (struct{}, error) {
		return struct{}{}, do(r, id)
	})
}

// opBody answers the operation do on the request's JSON body, decoded
// strictly (400 when it does not decode; see answer).
func opBody[In, Out any](s *Server, status int, do func(r *http.Request, in In) (Out, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in In
		if !decode(w, r, &in) {
			return
		}
		out, err := do(r, in)
		answer(s, w, r, status, out, err)
	}
}

// opIDBody answers the operation do on the request's {id} and its JSON
// body (see opBody).
func opIDBody[In, Out any](s *Server, status int, do func(r *http.Request, id uint64, in In) (Out, error)) http.HandlerFunc {
	return withID(func(w http.ResponseWriter, r *http.Request, id uint64) {
		var in In
		if !decode(w, r, &in) {
			return
		}
		out, err := do(r, id, in)
		answer(s, w, r, status, out, err)
	})
}

// createdUnless is the status of a write that may repeat an earlier one:
// 201 Created, or 200 OK when it was a duplicate (the earlier one answers).
func createdUnless(duplicate bool) int {
	if duplicate {
		return http.StatusOK
	}
	return http.StatusCreated
}

// listPage answers the requested page of a list: the fields, the rows list
// gives for the page under key, next_cursor and next (see writePage), or
// list's error as commandError does.
func listPage[T any](s *Server, w http.ResponseWriter, r *http.Request, fields map[string]any, key string, list func(p page) ([]T, error)) {
	p, ok := readPage(w, r)
	if !ok {
		return
	}
	rows, err := list(p)
	if err != nil {
		s.commandError(w, r, err)
		return
	}
	writePage(w, p, fields, key, rows)
}

// pageOf answers a paged list: {key: rows, next_cursor, next}.
func pageOf[T any](s *Server, key string, list func(r *http.Request, p page) ([]T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		listPage(s, w, r, nil, key, func(p page) ([]T, error) { return list(r, p) })
	}
}

// pageOfID answers a paged list of the {id} path value's rows:
// {idKey: id, key: rows, next_cursor, next}.
func pageOfID[T any](s *Server, idKey, key string, list func(r *http.Request, id uint64, p page) ([]T, error)) http.HandlerFunc {
	return withID(func(w http.ResponseWriter, r *http.Request, id uint64) {
		listPage(s, w, r, map[string]any{idKey: id}, key, func(p page) ([]T, error) { return list(r, id, p) })
	})
}

// listOf is pageOfID for a command's list.
func listOf[T any](s *Server, idKey, key string, list func(ctx context.Context, a command.Actor, id uint64, p command.Page) ([]T, error)) http.HandlerFunc {
	return pageOfID(s, idKey, key, func(r *http.Request, id uint64, p page) ([]T, error) {
		return list(r.Context(), asActor(r), id, p.command())
	})
}

// ---- courses ----

type courseJSON struct {
	ID          uint64   `json:"id"`
	Code        string   `json:"code"`
	Title       string   `json:"title"`
	Category    string   `json:"category"`
	TargetLevel int      `json:"target_level"`
	Behaviours  []string `json:"behaviours"`
	Owner       string   `json:"owner"`
	// CalendarInvite is "on", "off" or "inherit".
	CalendarInvite string `json:"calendar_invite"`
}

func toCourseJSON(c store.Course) courseJSON {
	out := courseJSON{ID: c.ID, Code: c.Code, Title: c.Title, Category: c.Category, TargetLevel: c.TargetLevel, Owner: c.Owner, Behaviours: []string{},
		CalendarInvite: command.InviteChoice(c.CalendarInvite)}
	_ = json.Unmarshal([]byte(c.Behaviours), &out.Behaviours)
	return out
}

type courseInput struct {
	Code        *string   `json:"code"`
	Title       *string   `json:"title"`
	Category    *string   `json:"category"`
	TargetLevel *int      `json:"target_level"`
	Behaviours  *[]string `json:"behaviours"`
	Owner       *string   `json:"owner"`
	// CalendarInvite is "on", "off" or "inherit".
	CalendarInvite *string `json:"calendar_invite"`
}

func (in courseInput) command() command.CourseInput {
	return command.CourseInput{Code: in.Code, Title: in.Title, Category: in.Category, TargetLevel: in.TargetLevel, Behaviours: in.Behaviours, Owner: in.Owner,
		CalendarInvite: in.CalendarInvite}
}

func (s *Server) listCourses(r *http.Request, p page) ([]courseJSON, error) {
	// The campaigns' carrier course holds pushes (see /campaigns), not classes.
	cs, err := s.commands().ListCourses(r.Context(), asActor(r), command.CoursesByID, p.command())
	if err != nil {
		return nil, err
	}
	out := make([]courseJSON, len(cs))
	for i, c := range cs {
		out[i] = toCourseJSON(c)
	}
	return out, nil
}

func (s *Server) createCourse(r *http.Request, in courseInput) (courseJSON, error) {
	c, err := s.commands().CreateCourse(r.Context(), asActor(r), in.command())
	if err != nil {
		return courseJSON{}, err
	}
	return toCourseJSON(c), nil
}

func (s *Server) getCourse(r *http.Request, id uint64) (courseJSON, error) {
	c, _, err := s.commands().Course(r.Context(), asActor(r), id)
	if err != nil {
		return courseJSON{}, err
	}
	return toCourseJSON(c), nil
}

func (s *Server) patchCourse(r *http.Request, id uint64, in courseInput) (courseJSON, error) {
	c, err := s.commands().UpdateCourse(r.Context(), asActor(r), id, in.command())
	if err != nil {
		return courseJSON{}, err
	}
	return toCourseJSON(c), nil
}

// ---- sessions ----

type sessionJSON struct {
	ID        uint64      `json:"id"`
	CourseID  uint64      `json:"course_id"`
	Title     string      `json:"title"`
	StartsAt  time.Time   `json:"starts_at"`
	EndsAt    time.Time   `json:"ends_at"`
	Location  string      `json:"location"`
	OnlineURL string      `json:"online_url"`
	Teacher   string      `json:"teacher"`
	TimeZone  string      `json:"time_zone"`
	Locale    string      `json:"locale"`
	Status    string      `json:"status"`
	Checkin   windowsJSON `json:"checkin"`
	// CalendarInvite is "on", "off" or "inherit" (follow the course).
	CalendarInvite string `json:"calendar_invite"`
}

type windowsJSON struct {
	OpensBeforeMinutes int64     `json:"opens_before_minutes"`
	GraceMinutes       int64     `json:"grace_minutes"`
	MakeupAfterMinutes int64     `json:"makeup_after_minutes"`
	Opens              time.Time `json:"opens"`
	OnTimeUntil        time.Time `json:"on_time_until"`
	LateUntil          time.Time `json:"late_until"`
	MakeupUntil        time.Time `json:"makeup_until"`
}

// sessionsJSON shows sessions with their teachers' names.
func (s *Server) sessionsJSON(r *http.Request, ss []store.Session) []sessionJSON {
	teachers, err := s.commands().TeacherNames(r.Context(), ss)
	if err != nil {
		s.log().Warn("load teachers; sessions shown without them", "err", err)
	}
	out := make([]sessionJSON, len(ss))
	for i, x := range ss {
		w := bot.SessionWindows(x)
		out[i] = sessionJSON{ID: x.ID, CourseID: x.CourseID, Title: x.Title, StartsAt: x.StartsAt, EndsAt: x.EndsAt,
			Location: x.Location, OnlineURL: x.OnlineURL, TimeZone: x.TimeZone, Locale: x.Locale, Status: x.Status, Teacher: teachers[x.ID],
			Checkin: windowsJSON{OpensBeforeMinutes: x.CheckinOpensBefore / 60, GraceMinutes: x.CheckinGrace / 60, MakeupAfterMinutes: x.MakeupAfter / 60,
				Opens: w.Opens, OnTimeUntil: w.OnTimeUntil, LateUntil: w.LateUntil, MakeupUntil: w.MakeupUntil},
			CalendarInvite: command.InviteChoice(x.CalendarInvite)}
	}
	return out
}

// toSessionJSON shows one session.
func (s *Server) toSessionJSON(r *http.Request, ss store.Session) sessionJSON {
	return s.sessionsJSON(r, []store.Session{ss})[0]
}

type sessionInput struct {
	CourseID  *uint64    `json:"course_id"`
	Title     *string    `json:"title"`
	StartsAt  *time.Time `json:"starts_at"`
	EndsAt    *time.Time `json:"ends_at"`
	Location  *string    `json:"location"`
	OnlineURL *string    `json:"online_url"`
	Teacher   *string    `json:"teacher"`
	TimeZone  *string    `json:"time_zone"`
	Locale    *string    `json:"locale"`
	Checkin   *struct {
		OpensBeforeMinutes *int64 `json:"opens_before_minutes"`
		GraceMinutes       *int64 `json:"grace_minutes"`
		MakeupAfterMinutes *int64 `json:"makeup_after_minutes"`
	} `json:"checkin"`
	// Plan is "default" (the default is used when absent) or "none"; only on create.
	Plan *string `json:"plan"`
	// CalendarInvite is "on", "off" or "inherit".
	CalendarInvite *string `json:"calendar_invite"`
}

func (in sessionInput) command() command.SessionInput {
	out := command.SessionInput{CourseID: in.CourseID, Title: in.Title, StartsAt: in.StartsAt, EndsAt: in.EndsAt, Location: in.Location,
		OnlineURL: in.OnlineURL, Teacher: in.Teacher, TimeZone: in.TimeZone, Locale: in.Locale, Plan: in.Plan, CalendarInvite: in.CalendarInvite}
	if c := in.Checkin; c != nil {
		out.OpensBeforeMinutes, out.GraceMinutes, out.MakeupAfterMinutes = c.OpensBeforeMinutes, c.GraceMinutes, c.MakeupAfterMinutes
	}
	return out
}

func (s *Server) listSessions(r *http.Request, p page) ([]sessionJSON, error) {
	sq := command.SessionQuery{Newest: true}
	if c := r.URL.Query().Get("course_id"); c != "" {
		id, err := strconv.ParseUint(c, 10, 64)
		if err != nil {
			return nil, badQuery("web:detail.bad_id", "course_id")
		}
		sq.CourseID = id
	}
	ss, err := s.commands().ListSessions(r.Context(), asActor(r), sq, p.command())
	if err != nil {
		return nil, err
	}
	return s.sessionsJSON(r, ss), nil
}

// sessionPlanJSON is a stored session with its touchpoints: what a create
// or a copy answers.
type sessionPlanJSON struct {
	Session     sessionJSON      `json:"session"`
	Touchpoints []touchpointJSON `json:"touchpoints"`
}

// sessionPlanJSON shows a stored session with its touchpoints.
func (s *Server) sessionPlanJSON(r *http.Request, res command.SessionResult) sessionPlanJSON {
	return sessionPlanJSON{Session: s.toSessionJSON(r, res.Session), Touchpoints: s.touchpointsJSON(res.Touchpoints)}
}

func (s *Server) createSession(r *http.Request, in sessionInput) (sessionPlanJSON, error) {
	res, err := s.commands().CreateSession(r.Context(), asActor(r), in.command())
	if err != nil {
		return sessionPlanJSON{}, renamed(err, sessionFields)
	}
	return s.sessionPlanJSON(r, res), nil
}

func (s *Server) getSession(r *http.Request, id uint64) (sessionJSON, error) {
	sv, err := s.commands().Session(r.Context(), asActor(r), id)
	if err != nil {
		return sessionJSON{}, err
	}
	return s.toSessionJSON(r, sv.Session), nil
}

func (s *Server) patchSession(r *http.Request, id uint64, in sessionInput) (sessionJSON, error) {
	res, err := s.commands().UpdateSession(r.Context(), asActor(r), id, in.command())
	if err != nil {
		return sessionJSON{}, renamed(err, sessionFields)
	}
	return s.toSessionJSON(r, res.Session), nil
}

func (s *Server) cancelSession(r *http.Request, id uint64) (sessionJSON, error) {
	ss, _, err := s.commands().CancelSession(r.Context(), asActor(r), id)
	if err != nil {
		return sessionJSON{}, err
	}
	return s.toSessionJSON(r, ss), nil
}

// ---- roster ----

// postRoster adds people to a session: a CSV/XLSX upload, or JSON
// {"employees":[{external_id,name,...}]}. Any bad row → 422 listing every bad
// line; nothing is imported.
func (s *Server) postRoster(w http.ResponseWriter, r *http.Request, id uint64) {
	if _, err := s.commands().Session(r.Context(), asActor(r), id); err != nil {
		s.commandError(w, r, err)
		return
	}
	ct := r.Header.Get("Content-Type")
	var (
		rows []roster.Row
		res  roster.Result
		err  error
	)
	body := http.MaxBytesReader(w, r.Body, roster.MaxFileBytes)
	switch {
	case strings.HasPrefix(ct, "text/csv"):
		rows, err = roster.ParseCSV(body)
	case strings.Contains(ct, "spreadsheetml"):
		rows, err = roster.ParseXLSX(body)
	case strings.HasPrefix(ct, "application/json"), ct == "":
		var in struct {
			Employees []map[string]string `json:"employees"`
		}
		if !decode(w, r, &in) {
			return
		}
		rows, err = roster.FromMaps(in.Employees)
	default:
		apiError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", text.T(text.EN, "web:detail.roster_media"), nil)
		return
	}
	if err == nil {
		// The admin token acts as an admin: it may change any employee.
		res, err = s.commands().ImportRoster(r.Context(), asActor(r), id, rows, nil)
	}
	var ve *roster.ValidationError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ve):
		apiError(w, http.StatusUnprocessableEntity, "invalid_roster", text.T(text.EN, "web:detail.roster_rows"), rowProblems(ve.Rows))
	case errors.As(err, &mbe):
		apiError(w, http.StatusBadRequest, "bad_roster", text.T(text.EN, "web:detail.roster_size", roster.MaxFileBytes>>20), nil)
	case errors.Is(err, roster.ErrNoSession):
		apiError(w, http.StatusNotFound, "not_found", text.T(text.EN, "web:detail.no_session"), nil)
	case err != nil && rows == nil:
		apiError(w, http.StatusBadRequest, "bad_roster", err.Error(), nil)
	case err != nil:
		s.internal(w, r, err)
	}
	if err != nil {
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// ---- touchpoints ----

type touchpointJSON struct {
	ID            uint64     `json:"id"`
	SessionID     uint64     `json:"session_id"`
	Kind          string     `json:"kind"`
	Anchor        string     `json:"anchor"`
	OffsetMinutes int64      `json:"offset_minutes"`
	At            *time.Time `json:"at,omitempty"`
	Cron          string     `json:"cron,omitempty"`
	Audience      string     `json:"audience"`
	Note          string     `json:"note,omitempty"`
	Status        string     `json:"status"`
	RunAt         time.Time  `json:"run_at"`
	FiredAt       *time.Time `json:"fired_at,omitempty"`
	// BestFromMinutes and BestToMinutes are a best-time touchpoint's
	// window; SendTime the choice its run_at comes from.
	BestFromMinutes *int64           `json:"best_from_minutes,omitempty"`
	BestToMinutes   *int64           `json:"best_to_minutes,omitempty"`
	SendTime        *sendtime.Choice `json:"send_time,omitempty"`
	// Variants are the touchpoint's A/B variants (A first), when it has
	// any; variants counts them.
	Variants []variantJSON `json:"variants,omitempty"`
	variants int
}

func (s *Server) touchpointsJSON(tps []store.Touchpoint) []touchpointJSON {
	out := make([]touchpointJSON, len(tps))
	for i, t := range tps {
		out[i] = touchpointJSON{ID: t.ID, SessionID: t.SessionID, Kind: t.Kind, Anchor: t.Anchor, OffsetMinutes: t.Offset / 60,
			At: t.At, Cron: t.CronSpec, Audience: t.Audience, Note: t.Note, Status: t.Status, RunAt: t.RunAt, FiredAt: t.FiredAt, variants: t.Variants}
		if t.BestTime() {
			from, to := *t.BestFrom/60, *t.BestTo/60
			out[i].BestFromMinutes, out[i].BestToMinutes = &from, &to
		}
		if ch, err := sendtime.ParseBasis(t.SendBasis); t.SendBasis != "" && err == nil {
			out[i].SendTime = &ch
		}
	}
	return out
}

type touchpointInput struct {
	Kind          *string    `json:"kind"`
	Anchor        *string    `json:"anchor"`
	OffsetMinutes *int64     `json:"offset_minutes"`
	At            *time.Time `json:"at"`
	Cron          *string    `json:"cron"`
	Audience      *string    `json:"audience"`
	Note          *string    `json:"note"`
	BestTime      *bool      `json:"best_time"`
	BestFrom      *int64     `json:"best_from_minutes"`
	BestTo        *int64     `json:"best_to_minutes"`
	// Variants replaces the touchpoint's A/B variants when present.
	Variants *[]variantInput `json:"variants"`
}

func (in touchpointInput) command() command.TouchpointInput {
	return command.TouchpointInput{Kind: in.Kind, Anchor: in.Anchor, OffsetMinutes: in.OffsetMinutes, At: in.At, Cron: in.Cron, Audience: in.Audience, Note: in.Note,
		BestTime: in.BestTime, BestFromMinutes: in.BestFrom, BestToMinutes: in.BestTo, Variants: variantInputs(in.Variants)}
}

// sessionFields names the session fields as the API spells them.
var sessionFields = map[string]string{
	command.FieldOpensBefore: "checkin.opens_before_minutes", command.FieldGrace: "checkin.grace_minutes", command.FieldMakeupAfter: "checkin.makeup_after_minutes",
}

// touchpointFields names the touchpoint fields as the API spells them.
var touchpointFields = map[string]string{"offset": "offset_minutes", "best_from": "best_from_minutes", "best_to": "best_to_minutes"}

// listTouchpoints lists a session's touchpoints as the API shows them.
func (s *Server) listTouchpoints(ctx context.Context, a command.Actor, id uint64, p command.Page) ([]touchpointJSON, error) {
	tps, err := s.commands().ListTouchpoints(ctx, a, id, p)
	if err != nil {
		return nil, err
	}
	out := s.touchpointsJSON(tps)
	return out, s.withVariants(ctx, out)
}

// touchpointJSON is one touchpoint as the API shows it, with its variants.
func (s *Server) touchpointJSON(ctx context.Context, tp store.Touchpoint) (touchpointJSON, error) {
	out := s.touchpointsJSON([]store.Touchpoint{tp})
	return out[0], s.withVariants(ctx, out)
}

func (s *Server) createTouchpoint(r *http.Request, id uint64, in touchpointInput) (touchpointJSON, error) {
	tp, err := s.commands().CreateTouchpoint(r.Context(), asActor(r), id, in.command())
	if err != nil {
		return touchpointJSON{}, renamed(err, touchpointFields)
	}
	return s.touchpointJSON(r.Context(), tp)
}

func (s *Server) getTouchpoint(r *http.Request, id uint64) (touchpointJSON, error) {
	tp, err := s.commands().Touchpoint(r.Context(), asActor(r), id)
	if err != nil {
		return touchpointJSON{}, err
	}
	return s.touchpointJSON(r.Context(), tp)
}

func (s *Server) patchTouchpoint(r *http.Request, id uint64, in touchpointInput) (touchpointJSON, error) {
	tp, err := s.commands().UpdateTouchpoint(r.Context(), asActor(r), id, in.command())
	if err != nil {
		return touchpointJSON{}, renamed(err, touchpointFields)
	}
	return s.touchpointJSON(r.Context(), tp)
}

func (s *Server) deleteTouchpoint(r *http.Request, id uint64) error {
	return s.commands().DeleteTouchpoint(r.Context(), asActor(r), id)
}

// previewJSON is a touchpoint's next fires, and each variant's when it
// has variants.
type previewJSON struct {
	TouchpointID uint64            `json:"touchpoint_id"`
	TimeZone     string            `json:"time_zone"`
	Fires        []fireJSON        `json:"fires"`
	Variants     []variantFireJSON `json:"variants,omitempty"`
}

// fireJSON is one fire of a touchpoint's preview.
type fireJSON struct {
	Due      time.Time        `json:"due"`
	At       time.Time        `json:"at"`
	Local    string           `json:"local"`
	Moved    bool             `json:"moved_by_quiet_hours"`
	SendTime *sendtime.Choice `json:"send_time,omitempty"`
	Basis    string           `json:"send_time_basis,omitempty"`
}

// localTime is t as a preview shows it in the session's zone.
func localTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// basisOf says why a learned send time was chosen, in both languages;
// nothing for a fixed time.
func basisOf(ch *sendtime.Choice) string {
	if ch == nil {
		return ""
	}
	return ch.Explain().Bilingual()
}

func (s *Server) previewTouchpoint(r *http.Request, id uint64) (previewJSON, error) {
	n := 5
	if q := r.URL.Query().Get("n"); q != "" {
		v, err := strconv.Atoi(q)
		if err != nil || v < 1 || v > 50 {
			return previewJSON{}, badQuery("web:detail.bad_n")
		}
		n = v
	}
	tp, err := s.commands().Touchpoint(r.Context(), asActor(r), id)
	if err != nil {
		return previewJSON{}, err
	}
	sv, err := s.commands().Session(r.Context(), asActor(r), tp.SessionID)
	if err != nil {
		return previewJSON{}, err
	}
	ss := sv.Session
	fires, err := s.Planner.Fires(r.Context(), tp, ss, n)
	if err != nil {
		return previewJSON{}, command.PlanError(err)
	}
	loc := bot.SessionLocation(ss)
	out := previewJSON{TouchpointID: id, TimeZone: loc.String(), Fires: make([]fireJSON, 0, len(fires))}
	for _, f := range fires {
		out.Fires = append(out.Fires, fireJSON{Due: f.Due, At: f.At, Local: localTime(f.At, loc), Moved: f.Moved(), SendTime: f.SendTime, Basis: basisOf(f.SendTime)})
	}
	if tp.Variants > 0 {
		if out.Variants, err = s.variantFires(r.Context(), tp, ss); err != nil {
			return previewJSON{}, command.PlanError(err)
		}
	}
	return out, nil
}

// sendNowJSON is the job a send-now enqueued.
type sendNowJSON struct {
	TouchpointID uint64    `json:"touchpoint_id"`
	JobID        uint64    `json:"job_id"`
	State        string    `json:"state"`
	RunAt        time.Time `json:"run_at"`
}

func (s *Server) sendNow(r *http.Request, id uint64) (sendNowJSON, error) {
	job, err := s.commands().SendNow(r.Context(), asActor(r), id, nil)
	if err != nil {
		return sendNowJSON{}, err
	}
	return sendNowJSON{TouchpointID: id, JobID: job.ID, State: job.State, RunAt: job.RunAt}, nil
}

func (s *Server) pauseTouchpoint(paused bool) func(r *http.Request, id uint64) (touchpointJSON, error) {
	return func(r *http.Request, id uint64) (touchpointJSON, error) {
		tp, err := s.commands().SetPaused(r.Context(), asActor(r), id, paused)
		if err != nil {
			return touchpointJSON{}, err
		}
		return s.touchpointsJSON([]store.Touchpoint{tp})[0], nil
	}
}

// ---- check-ins ----

// checkinJSON is one check-in as the API shows it, in lists and in the
// manual check-in's answer.
type checkinJSON = command.CheckinRow

type personInput struct {
	EmployeeID uint64 `json:"employee_id"`
	ExternalID string `json:"external_id"`
	Note       string `json:"note"`
	Kind       string `json:"kind"`
}

func (in personInput) person() command.Person {
	return command.Person{EmployeeID: in.EmployeeID, ExternalID: in.ExternalID}
}

// manualCheckinJSON answers a manual check-in: the stored check-in (the
// earlier one when it is a duplicate).
type manualCheckinJSON struct {
	Duplicate bool        `json:"duplicate"`
	Checkin   checkinJSON `json:"checkin"`
}

// manualCheckin lets a coordinator record a check-in (e.g. someone whose
// phone died). The kind follows the windows unless given.
func (s *Server) manualCheckin(w http.ResponseWriter, r *http.Request, id uint64) {
	var in personInput
	if !decode(w, r, &in) {
		return
	}
	res, err := s.commands().ManualCheckin(r.Context(), asActor(r), id, command.CheckinInput{Person: in.person(), Kind: in.Kind, Note: in.Note})
	if err != nil {
		s.commandError(w, r, err)
		return
	}
	c, e := res.Checkin, res.Employee
	writeJSON(w, createdUnless(res.Duplicate), manualCheckinJSON{Duplicate: res.Duplicate, Checkin: checkinJSON{EmployeeID: e.ID, ExternalID: e.ExternalID, Name: e.Name,
		Kind: c.Kind, Source: c.Source, Platform: c.Platform, CheckedInAt: c.CheckedInAt, RecordedBy: c.RecordedBy, Note: c.Note}})
}

// excuseJSON is a roster member's status after an excuse.
type excuseJSON struct {
	SessionID  uint64 `json:"session_id"`
	ExternalID string `json:"external_id"`
	Status     string `json:"status"`
}

// excuse marks a roster member excused (请假): they leave the denominator.
func (s *Server) excuse(r *http.Request, id uint64, in personInput) (excuseJSON, error) {
	res, err := s.commands().Excuse(r.Context(), asActor(r), id, in.person(), in.Note)
	if err != nil {
		return excuseJSON{}, err
	}
	return excuseJSON{SessionID: id, ExternalID: res.Employee.ExternalID, Status: res.Status}, nil
}

// ---- reports ----

func (s *Server) sessionReport(w http.ResponseWriter, r *http.Request, id uint64) {
	rep, err := s.commands().Reports().Session(r.Context(), id, s.now())
	var csv, xlsx exporter
	if rep != nil {
		csv, xlsx = rep.WriteCSV, rep.WriteXLSX
	}
	s.writeReport(w, r, "session", id, err, fmt.Sprintf("session-%d", id), rep, csv, xlsx)
}

// ---- employees ----

// employeeJSON is an employee as the API shows it.
type employeeJSON struct {
	ID         uint64    `json:"id"`
	ExternalID string    `json:"external_id"`
	Name       string    `json:"name"`
	Department string    `json:"department"`
	Title      string    `json:"title"`
	City       string    `json:"city"`
	ManagerID  string    `json:"manager_id"`
	Email      string    `json:"email"`
	Mobile     string    `json:"mobile"`
	Platform   string    `json:"platform"`
	WecomID    string    `json:"wecom_id"`
	FeishuID   string    `json:"feishu_id"`
	DingtalkID string    `json:"dingtalk_id"`
	Locale     string    `json:"locale"`
	Active     bool      `json:"active"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func (s *Server) listEmployees(r *http.Request, p page) ([]employeeJSON, error) {
	es, err := s.commands().ListEmployees(r.Context(), asActor(r), r.URL.Query().Get("department"), p.command())
	if err != nil {
		return nil, err
	}
	out := make([]employeeJSON, len(es))
	for i, e := range es {
		out[i] = employeeJSON{ID: e.ID, ExternalID: e.ExternalID, Name: e.Name, Department: e.Department, Title: e.Title, City: e.City,
			ManagerID: e.ManagerID, Email: e.Email, Mobile: e.Mobile, Platform: e.Platform, WecomID: e.WecomID, FeishuID: e.FeishuID,
			DingtalkID: e.DingtalkID, Locale: e.Locale, Active: e.Active, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
	}
	return out, nil
}
