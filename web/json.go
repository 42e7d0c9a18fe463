package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// apiErrorBody is the JSON shape of every API error.
type apiErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details any    `json:"details,omitempty"`
	} `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

func apiError(w http.ResponseWriter, status int, code, msg string, details any) {
	var b apiErrorBody
	b.Error.Code, b.Error.Message, b.Error.Details = code, msg, details
	writeJSON(w, status, b)
}

// decode reads a strict JSON body into v.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			msg = "request body is empty"
		case errors.As(err, &se):
			msg = fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)
		case errors.As(err, &te):
			msg = fmt.Sprintf("field %q must be %s", te.Field, te.Type)
		}
		apiError(w, http.StatusBadRequest, "malformed_json", msg, nil)
		return false
	}
	if dec.More() {
		apiError(w, http.StatusBadRequest, "malformed_json", "body has data after the JSON value", nil)
		return false
	}
	return true
}

func pathID(w http.ResponseWriter, r *http.Request, name string) (uint64, bool) {
	id, err := strconv.ParseUint(r.PathValue(name), 10, 64)
	if err != nil || id == 0 {
		apiError(w, http.StatusBadRequest, "bad_id", fmt.Sprintf("%s must be a positive integer", name), nil)
		return 0, false
	}
	return id, true
}

// fieldError is one invalid field in a request.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func invalid(w http.ResponseWriter, errs []fieldError) {
	apiError(w, http.StatusUnprocessableEntity, "invalid", "request has invalid fields", errs)
}
