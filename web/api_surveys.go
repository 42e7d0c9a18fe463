package web

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
)

func (s *Server) surveyRoutes(mux *http.ServeMux) {
	if s.Surveys == nil {
		return
	}
	mux.HandleFunc("GET /survey-templates", pageOf(s, "templates", listTemplates))
	mux.HandleFunc("GET /sessions/{id}/surveys", pageOfID(s, "session_id", "surveys", s.listSurveys))
	mux.HandleFunc("POST /sessions/{id}/surveys", opIDBody(s, http.StatusCreated, s.createSurvey))
	mux.HandleFunc("GET /surveys/{id}", opID(s, http.StatusOK, s.getSurvey))
	mux.HandleFunc("POST /surveys/{id}/close", opID(s, http.StatusOK, s.closeSurvey))
	mux.HandleFunc("POST /surveys/{id}/remind", withID(s.remindSurvey))
	mux.HandleFunc("GET /surveys/{id}/missing", pageOfID(s, "survey_id", "missing", s.missingSurvey))
	mux.HandleFunc("GET /surveys/{id}/report", withID(s.surveyReport))
	mux.HandleFunc("GET /courses/{id}/report", withID(s.courseReport))
	mux.HandleFunc("GET /teachers/report", s.teacherReport)
	mux.HandleFunc("POST /sessions/{id}/copy", withID(s.copySession))
}

type surveyJSON struct {
	ID           uint64    `json:"id"`
	Kind         string    `json:"kind"`
	Title        string    `json:"title"`
	SessionID    uint64    `json:"session_id"`
	CourseID     uint64    `json:"course_id"`
	Anonymous    bool      `json:"anonymous"`
	MinGroupSize int       `json:"min_group_size"`
	OpensAt      time.Time `json:"opens_at"`
	ClosesAt     time.Time `json:"closes_at"`
	Status       string    `json:"status"`
	Complete     int       `json:"complete"`
	Partial      int       `json:"partial"`
}

func (s *Server) surveyJSON(r *http.Request, sv store.Survey) surveyJSON {
	out := surveyJSON{ID: sv.ID, Kind: sv.Kind, Title: sv.Title, SessionID: sv.SessionID, CourseID: sv.CourseID, Anonymous: sv.Anonymous,
		MinGroupSize: sv.MinGroupSize, OpensAt: sv.OpensAt, ClosesAt: sv.ClosesAt, Status: sv.Status}
	var err error
	if out.Complete, out.Partial, err = s.commands().ResponseCounts(r.Context(), sv.ID); err != nil {
		s.log().Warn("count survey responses", "survey", sv.ID, "err", err)
	}
	return out
}

func listTemplates(_ *http.Request, p page) ([]surveys.Definition, error) {
	defs, err := surveys.Builtin()
	if err != nil {
		return nil, err
	}
	return pageSlice(p, defs), nil
}

func (s *Server) listSurveys(r *http.Request, id uint64, p page) ([]surveyJSON, error) {
	if _, err := s.commands().Session(r.Context(), asActor(r), id); err != nil {
		return nil, err
	}
	svs, err := s.commands().Reports().SessionSurveys(r.Context(), id)
	if err != nil {
		return nil, err
	}
	svs = pageSlice(p, svs)
	out := make([]surveyJSON, len(svs))
	for i, sv := range svs {
		out[i] = s.surveyJSON(r, sv)
	}
	return out, nil
}

// surveyInput creates a survey for a session: a built-in template by key or
// a coordinator-defined definition, pushed at send_at (default: the end of
// the session) to those checked in.
type surveyInput struct {
	Template   string              `json:"template"`
	Definition *surveys.Definition `json:"definition"`
	Anonymous  bool                `json:"anonymous"`
	ClosesAt   *time.Time          `json:"closes_at"`
	SendAt     *time.Time          `json:"send_at"`
	Audience   string              `json:"audience"`
}

// createdSurveyJSON is a created survey with the touchpoint that pushes it.
type createdSurveyJSON struct {
	Survey     surveyJSON     `json:"survey"`
	Touchpoint touchpointJSON `json:"touchpoint"`
}

func (s *Server) createSurvey(r *http.Request, id uint64, in surveyInput) (createdSurveyJSON, error) {
	res, err := s.commands().CreateSurvey(r.Context(), asActor(r), id, command.SurveyInput{Template: in.Template, Definition: in.Definition,
		Anonymous: in.Anonymous, SendAt: in.SendAt, ClosesAt: in.ClosesAt, Audience: in.Audience})
	if err != nil {
		return createdSurveyJSON{}, err
	}
	return createdSurveyJSON{Survey: s.surveyJSON(r, res.Survey), Touchpoint: s.touchpointsJSON([]store.Touchpoint{res.Touchpoint})[0]}, nil
}

func (s *Server) getSurvey(r *http.Request, id uint64) (surveyJSON, error) {
	sv, err := s.commands().Survey(r.Context(), asActor(r), id)
	if err != nil {
		return surveyJSON{}, err
	}
	return s.surveyJSON(r, sv), nil
}

func (s *Server) closeSurvey(r *http.Request, id uint64) (surveyJSON, error) {
	sv, err := s.commands().CloseSurvey(r.Context(), asActor(r), id)
	if err != nil {
		return surveyJSON{}, err
	}
	return s.surveyJSON(r, sv), nil
}

func (s *Server) remindSurvey(w http.ResponseWriter, r *http.Request, id uint64) {
	tp, err := s.commands().RemindSurvey(r.Context(), asActor(r), id)
	switch {
	case errors.Is(err, surveys.ErrTooMany):
		apiError(w, http.StatusConflict, "too_many_reminders", text.T(text.EN, "web:detail.too_many_reminders", surveys.MaxReminders, err), nil)
	case errors.Is(err, surveys.ErrClosed):
		apiError(w, http.StatusConflict, "closed", text.T(text.EN, "web:detail.survey_closed"), nil)
	case errors.Is(err, surveys.ErrNoneMissing):
		apiError(w, http.StatusConflict, "nobody_to_remind", text.T(text.EN, "web:detail.nobody_to_remind"), nil)
	case err != nil:
		s.commandError(w, r, err)
	default:
		writeJSON(w, http.StatusAccepted, s.touchpointsJSON([]store.Touchpoint{tp})[0])
	}
}

func (s *Server) missingSurvey(r *http.Request, id uint64, p page) ([]surveys.MissingRow, error) {
	sv, err := s.commands().Survey(r.Context(), asActor(r), id)
	if err != nil {
		return nil, err
	}
	rows, err := s.Surveys.Missing(r.Context(), sv)
	if err != nil {
		return nil, err
	}
	// A fixed order, so that pages do not overlap.
	slices.SortStableFunc(rows, func(a, b surveys.MissingRow) int {
		return cmp.Or(cmp.Compare(a.ExternalID, b.ExternalID), cmp.Compare(a.SubjectExternalID, b.SubjectExternalID))
	})
	return pageSlice(p, rows), nil
}

// exporter writes a report as a file (CSV or XLSX).
type exporter func(io.Writer) error

// writeReport answers a report found by id: 404 when there is none, else
// JSON or, with ?format=, the file csv or xlsx writes, named name.
func (s *Server) writeReport(w http.ResponseWriter, r *http.Request, what string, id uint64, err error, name string, rep any, csv, xlsx exporter) {
	switch {
	case errors.Is(err, reports.ErrNotFound):
		apiError(w, http.StatusNotFound, "not_found", text.T(text.EN, "web:detail.not_exist", what, id), nil)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	write := xlsx
	switch r.URL.Query().Get("format") {
	case "", "json":
		writeJSON(w, http.StatusOK, rep)
		return
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, name))
		write = csv
	case "xlsx":
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.xlsx"`, name))
	default:
		apiError(w, http.StatusBadRequest, "bad_query", text.T(text.EN, "web:detail.bad_format"), nil)
		return
	}
	if err := write(w); err != nil {
		s.log().Error("write report", "report", name, "err", err)
	}
}

// tabular is a report made of reports.Tables.
type tabular interface{ Tables() []reports.Table }

// writeTabular is writeReport for a report made of tables.
func (s *Server) writeTabular(w http.ResponseWriter, r *http.Request, what string, id uint64, err error, name string, rep tabular) {
	csv := func(out io.Writer) error { return reports.WriteTablesCSV(out, rep.Tables()) }
	xlsx := func(out io.Writer) error { return reports.WriteTablesXLSX(out, rep.Tables()) }
	s.writeReport(w, r, what, id, err, name, rep, csv, xlsx)
}

func (s *Server) surveyReport(w http.ResponseWriter, r *http.Request, id uint64) {
	rep, err := s.commands().Reports().Survey(r.Context(), id, s.now())
	s.writeTabular(w, r, "survey", id, err, fmt.Sprintf("survey-%d", id), rep)
}

func (s *Server) courseReport(w http.ResponseWriter, r *http.Request, id uint64) {
	rep, err := s.commands().Reports().Course(r.Context(), id, s.now())
	s.writeTabular(w, r, "course", id, err, fmt.Sprintf("course-%d", id), rep)
}

func (s *Server) teacherReport(w http.ResponseWriter, r *http.Request) {
	year := s.now().In(s.Location).Year()
	if q := r.URL.Query().Get("year"); q != "" {
		y, err := strconv.Atoi(q)
		if err != nil || y < 2000 || y > 2100 {
			apiError(w, http.StatusBadRequest, "bad_query", text.T(text.EN, "web:detail.bad_year"), nil)
			return
		}
		year = y
	}
	rep, err := s.commands().Reports().Teachers(r.Context(), year, s.Location, s.now())
	s.writeTabular(w, r, "teachers", uint64(year), err, fmt.Sprintf("teachers-%d", year), rep)
}

// copyInput changes the copied session; every field is optional (the
// source's title, its times a week later).
type copyInput struct {
	Title    *string    `json:"title"`
	StartsAt *time.Time `json:"starts_at"`
	EndsAt   *time.Time `json:"ends_at"`
}

// copySession stores the next session of a session's course: the same plan,
// surveys and roster, times a week later unless given (the console's "copy
// as next session" runs the same command).
func (s *Server) copySession(w http.ResponseWriter, r *http.Request, id uint64) {
	var in copyInput
	if r.ContentLength != 0 && !decode(w, r, &in) {
		return
	}
	res, err := s.commands().CopySession(r.Context(), asActor(r), id, command.CopyInput{Title: in.Title, StartsAt: in.StartsAt, EndsAt: in.EndsAt})
	if err != nil {
		s.commandError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.sessionPlanJSON(r, res))
}
