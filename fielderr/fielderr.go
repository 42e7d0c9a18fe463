// Package fielderr is the one "invalid input" error of learnloop's domain
// services (command, campaigns, digests, webhooks, presence): every invalid
// field with a stable code, its arguments and an English message. The
// services alias its types (command.FieldError, campaigns.InvalidError, …)
// so the front doors — the API, the console and the CLI — map one type,
// each in one place. It imports nothing of learnloop, so any package may use it.
package fielderr

import (
	"errors"
	"strings"
)

// ErrInvalid is what an *Invalid matches with errors.Is.
var ErrInvalid = errors.New("invalid input")

// Error is one invalid field: its name, a stable code and the code's
// arguments. Callers localize it; Message is the English text.
type Error struct {
	Field   string
	Code    string
	Args    []any
	Message string
}

// Invalid lists every invalid field of one input; nothing was changed.
type Invalid struct {
	Fields []Error
}

// Error implements error.
func (e *Invalid) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + " " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) hold.
func (e *Invalid) Is(target error) bool { return target == ErrInvalid }

// Has reports whether field has an error.
func (e *Invalid) Has(field string) bool {
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
