package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/problem"
	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/text"
)

func writeJSON(w http.ResponseWriter, code int, v any) {
	writeBody(w, code, "application/json; charset=utf-8", v)
}

func writeBody(w http.ResponseWriter, code int, ctype string, v any) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// apiError answers with an RFC 9457 problem: status, the stable code, a
// detail message and the bad fields, if any (package problem, the shape
// the presence API and the conversions webhook answer too).
func apiError(w http.ResponseWriter, status int, code, msg string, errs []problem.Field) {
	problem.Write(w, status, code, msg, errs)
}

// decode reads a strict JSON body into v.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		var big *http.MaxBytesError
		switch {
		case errors.As(err, &big):
			apiError(w, http.StatusRequestEntityTooLarge, "too_large", text.T(text.EN, "web:detail.too_large", big.Limit), nil)
			return false
		case errors.Is(err, io.EOF):
			msg = text.T(text.EN, "web:detail.empty_body")
		case errors.As(err, &se):
			msg = text.T(text.EN, "web:detail.malformed_json", se.Offset, se)
		case errors.As(err, &te) && te.Field == "":
			msg = text.T(text.EN, "web:detail.body_type", te.Value)
		case errors.As(err, &te):
			msg = text.T(text.EN, "web:detail.field_type", te.Field, jsonType(te.Type))
		}
		apiError(w, http.StatusBadRequest, "malformed_json", msg, nil)
		return false
	}
	if dec.More() {
		apiError(w, http.StatusBadRequest, "malformed_json", text.T(text.EN, "web:detail.trailing_data"), nil)
		return false
	}
	return true
}

// jsonType names the JSON type a Go type decodes from, for an error
// message (the Go type's own name says nothing to an API client).
func jsonType(t reflect.Type) string {
	if t == nil {
		return "a JSON value"
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		if t.PkgPath() == "time" && t.Name() == "Time" {
			return "an RFC 3339 time"
		}
		return "an object"
	}
	return "a JSON value"
}

func pathID(w http.ResponseWriter, r *http.Request, name string) (uint64, bool) {
	id, err := strconv.ParseUint(r.PathValue(name), 10, 64)
	if err != nil || id == 0 {
		apiError(w, http.StatusBadRequest, "bad_id", text.T(text.EN, "web:detail.bad_id", name), nil)
		return 0, false
	}
	return id, true
}

// withFields rewrites each field of an invalid-input error with rewrite
// (the API's spelling of its name or code); any other error, nil included,
// is returned as it is.
func withFields(err error, rewrite func(command.FieldError) command.FieldError) error {
	var ie *command.InvalidError
	if !errors.As(err, &ie) {
		return err
	}
	fs := make([]command.FieldError, len(ie.Fields))
	for i, f := range ie.Fields {
		fs[i] = rewrite(f)
	}
	return &command.InvalidError{Fields: fs}
}

// renamed renames the fields of an invalid-input error by names, the API's
// names of the command's fields; a list's field ("variants[1].offset")
// takes the API's name of its last part.
func renamed(err error, names map[string]string) error {
	return withFields(err, func(f command.FieldError) command.FieldError {
		if n, ok := names[f.Field]; ok {
			f.Field = n
		} else if i := strings.LastIndex(f.Field, "]."); i > 0 {
			if n, ok := names[f.Field[i+2:]]; ok {
				f.Field = f.Field[:i+2] + n
			}
		}
		return f
	})
}

// rowProblems lists a roster's bad rows as problem errors: the column is the
// field, with its line.
func rowProblems(rows []roster.RowError) []problem.Field {
	out := make([]problem.Field, len(rows))
	for i, e := range rows {
		out[i] = problem.Field{Field: e.Column, Line: e.Line, Code: "invalid_row", Message: e.Message}
	}
	return out
}
