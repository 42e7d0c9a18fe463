package presence

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/learnloop/learnloop/problem"
	"github.com/learnloop/learnloop/text"
)

// APIHandler serves the admin API's presence endpoints behind the API's
// bearer tokens (mount it under /api/v1 with the prefix stripped):
//
//	GET /sessions/{id}/presence   the session's rules and check-ins by source
//	PUT /sessions/{id}/presence   set the rules (a full Rules object)
//	PUT /surveys/{id}/identity    {"required": true|false}
//
// actor names the authenticated caller for the audit log.
func (s *Service) APIHandler(actor func(context.Context) string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sessions/{id}/presence", s.apiGet)
	mux.HandleFunc("PUT /sessions/{id}/presence", func(w http.ResponseWriter, r *http.Request) { s.apiPut(w, r, actor(r.Context())) })
	mux.HandleFunc("PUT /surveys/{id}/identity", func(w http.ResponseWriter, r *http.Request) { s.apiSurvey(w, r, actor(r.Context())) })
	return mux
}

type presenceJSON struct {
	SessionID uint64 `json:"session_id"`
	Rules
	Counts Counts `json:"counts"`
	// Definition says what counts as present.
	Definition string `json:"definition"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError answers with the API's RFC 9457 problem (package problem).
func apiError(w http.ResponseWriter, status int, code, msg string, fields []FieldError) {
	problem.Write(w, status, code, msg, problem.Fields(fields))
}

func pathID(r *http.Request) (uint64, bool) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// PresentDefinition says what counted as present (the API gives it in
// zh-CN).
func PresentDefinition(r Rules) text.Message {
	if r.RequireOnsite {
		return text.M("presence:definition.onsite")
	}
	return text.M("presence:definition.any")
}

func (s *Service) apiGet(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		apiError(w, http.StatusNotFound, "not_found", text.T(text.EN, "presence:api.no_session"), nil)
		return
	}
	var n int64
	if err := s.d.DB.WithContext(r.Context()).Table("sessions").Where("id = ?", id).Count(&n).Error; err != nil {
		apiError(w, http.StatusServiceUnavailable, "internal", text.T(text.EN, "presence:api.try_again"), nil)
		return
	}
	if n == 0 {
		apiError(w, http.StatusNotFound, "not_found", text.T(text.EN, "presence:api.no_session"), nil)
		return
	}
	rules, err := s.Settings(r.Context(), id)
	if err == nil {
		var c Counts
		if c, err = s.counts(r.Context(), id, rules); err == nil {
			writeJSON(w, http.StatusOK, presenceJSON{SessionID: id, Rules: rules, Counts: c, Definition: PresentDefinition(rules).In(text.ZH)})
			return
		}
	}
	s.log().Error("presence api: read", "err", err)
	apiError(w, http.StatusServiceUnavailable, "internal", text.T(text.EN, "presence:api.try_again"), nil)
}

func decodeStrict(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func (s *Service) apiPut(w http.ResponseWriter, r *http.Request, actor string) {
	id, ok := pathID(r)
	if !ok {
		apiError(w, http.StatusNotFound, "not_found", text.T(text.EN, "presence:api.no_session"), nil)
		return
	}
	rules := DefaultRules()
	if err := decodeStrict(r, &rules); err != nil {
		apiError(w, http.StatusBadRequest, "malformed_json", text.T(text.EN, "presence:api.bad_rules", strings.TrimPrefix(err.Error(), "json: ")), nil)
		return
	}
	err := s.SaveSettings(r.Context(), id, rules, actor)
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		apiError(w, http.StatusUnprocessableEntity, "invalid", text.T(text.EN, "presence:api.invalid_rules"), ve.Fields)
		return
	case errors.Is(err, ErrNotFound):
		apiError(w, http.StatusNotFound, "not_found", text.T(text.EN, "presence:api.no_session"), nil)
		return
	case err != nil:
		s.log().Error("presence api: save", "err", err)
		apiError(w, http.StatusServiceUnavailable, "internal", text.T(text.EN, "presence:api.not_saved"), nil)
		return
	}
	s.apiGet(w, r)
}

func (s *Service) apiSurvey(w http.ResponseWriter, r *http.Request, actor string) {
	id, ok := pathID(r)
	if !ok {
		apiError(w, http.StatusNotFound, "not_found", text.T(text.EN, "presence:api.no_survey"), nil)
		return
	}
	var body struct {
		Required *bool `json:"required"`
	}
	if err := decodeStrict(r, &body); err != nil || body.Required == nil {
		apiError(w, http.StatusBadRequest, "malformed_json", text.T(text.EN, "presence:api.bad_identity"), nil)
		return
	}
	err := s.SetSurveyIdentity(r.Context(), id, *body.Required, actor)
	switch {
	case errors.Is(err, ErrNotFound):
		apiError(w, http.StatusNotFound, "not_found", text.T(text.EN, "presence:api.no_survey"), nil)
	case errors.Is(err, ErrAnonymousSurvey):
		apiError(w, http.StatusUnprocessableEntity, "invalid", text.T(text.EN, "presence:api.anonymous"),
			[]FieldError{{Field: "required", Code: "not_allowed", Message: text.T(text.EN, "presence:api.anonymous_field")}})
	case err != nil:
		s.log().Error("presence api: survey identity", "err", err)
		apiError(w, http.StatusServiceUnavailable, "internal", text.T(text.EN, "presence:api.not_saved"), nil)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"survey_id": id, "required": *body.Required})
	}
}
