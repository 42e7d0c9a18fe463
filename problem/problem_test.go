package problem_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/fielderr"
	"github.com/learnloop/learnloop/problem"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		code   string
		errs   []problem.Field
		title  string
		body   string
	}{
		{
			name: "a code with its own title", status: http.StatusNotFound, code: "not_found", title: "Not found",
			body: `{"type":"tag:learnloop,2026:problem:not_found","title":"Not found","status":404,"detail":"no such session","code":"not_found"}`,
		},
		{
			name: "a code without one takes the status text", status: http.StatusTeapot, code: "teapot", title: "I'm a teapot",
			body: `{"type":"tag:learnloop,2026:problem:teapot","title":"I'm a teapot","status":418,"detail":"no such session","code":"teapot"}`,
		},
		{
			name: "fields, a line only where given", status: http.StatusUnprocessableEntity, code: "invalid", title: "Invalid fields",
			errs: []problem.Field{{Field: "title", Code: "required", Message: "is required"}, {Field: "name", Line: 3, Code: "invalid_row", Message: "is empty"}},
			body: `{"type":"tag:learnloop,2026:problem:invalid","title":"Invalid fields","status":422,"detail":"no such session","code":"invalid",` +
				`"errors":[{"field":"title","code":"required","message":"is required"},{"field":"name","line":3,"code":"invalid_row","message":"is empty"}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			problem.Write(rec, tt.status, tt.code, "no such session", tt.errs)
			require.Equal(t, tt.status, rec.Code)
			require.Equal(t, problem.ContentType, rec.Header().Get("Content-Type"))
			require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			require.JSONEq(t, tt.body, rec.Body.String())
			var b problem.Body
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &b))
			require.Equal(t, tt.title, b.Title)
			require.Equal(t, problem.New(tt.status, tt.code, "no such session", tt.errs), b)
		})
	}
}

func TestFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []fielderr.Error
		want []problem.Field
	}{
		{name: "none", in: nil, want: nil},
		{name: "empty", in: []fielderr.Error{}, want: nil},
		{
			name: "each field with its code and message, not its args",
			in: []fielderr.Error{
				{Field: "title", Code: "too_long", Args: []any{200}, Message: "is longer than 200 characters"},
				{Field: "ends_at", Code: "end_before_start", Message: "must be after starts_at"},
			},
			want: []problem.Field{
				{Field: "title", Code: "too_long", Message: "is longer than 200 characters"},
				{Field: "ends_at", Code: "end_before_start", Message: "must be after starts_at"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, problem.Fields(tc.in))
		})
	}
}
