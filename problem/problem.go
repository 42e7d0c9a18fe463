// Package problem writes learnloop's one HTTP error shape, an RFC 9457
// problem+json body with a stable code, for the REST API (web), the presence
// API (presence) and the signed conversions webhook (campaigns).
package problem

import (
	"encoding/json"
	"net/http"

	"github.com/learnloop/learnloop/fielderr"
	"github.com/learnloop/learnloop/text"
)

// TypePrefix starts the RFC 9457 "type" URI of every problem; the
// problem's code follows it. Tag URIs (RFC 4151) identify without
// resolving.
const TypePrefix = "tag:learnloop,2026:problem:"

// ContentType is the media type of every problem (RFC 9457).
const ContentType = "application/problem+json"

// Body is the RFC 9457 shape: the standard members plus the stable
// machine-readable code and, for invalid input, one entry per bad field or
// roster row.
type Body struct {
	Type   string  `json:"type"`
	Title  string  `json:"title"`
	Status int     `json:"status"`
	Detail string  `json:"detail"`
	Code   string  `json:"code"`
	Errors []Field `json:"errors,omitempty"`
}

// Field is one bad field of a request, or one bad cell of a roster file
// (with its 1-based line).
type Field struct {
	Field   string `json:"field"`
	Line    int    `json:"line,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Fields are the bad fields of an invalid input (fielderr) as a problem
// lists them: each with its code and English message; nil for none.
func Fields(fs []fielderr.Error) []Field {
	if len(fs) == 0 {
		return nil
	}
	out := make([]Field, len(fs))
	for i, f := range fs {
		out[i] = Field{Field: f.Field, Code: f.Code, Message: f.Message}
	}
	return out
}

// New is the problem of status with code, the detail of what happened this
// time and the bad fields, if any. The title belongs to the code (the
// catalogue's "web:problem.<code>" in English), else it is the status text.
func New(status int, code, detail string, errs []Field) Body {
	title := http.StatusText(status)
	if k := "web:problem." + code; text.Has(k) {
		title = text.T(text.EN, k)
	}
	return Body{Type: TypePrefix + code, Title: title, Status: status, Detail: detail, Code: code, Errors: errs}
}

// Write answers with New(status, code, detail, errs), never cached.
func Write(w http.ResponseWriter, status int, code, detail string, errs []Field) {
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(New(status, code, detail, errs))
}
