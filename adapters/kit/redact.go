package kit

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/learnloop/learnloop/internal/cut"
)

// Redacted replaces every secret a Redactor removes.
const Redacted = "REDACTED"

// MaxErrorLen caps the text of a redacted error.
const MaxErrorLen = 400

// credentialParam matches query parameters that carry credentials, as
// platforms put them in URLs (access_token, appsecret, corpsecret, secret,
// token, ticket).
var credentialParam = regexp.MustCompile(`(?i)\b((?:access_token|appsecret|corpsecret|secret|token|ticket)=)[^&\s"'<>]*`)

// minSecretLen is the shortest literal a Redactor replaces (shorter values
// would mangle ordinary text).
const minSecretLen = 4

// Redactor removes an adapter's secrets from text: credential query
// parameters, the literal secrets it was given (app secret, callback keys)
// and the tokens its sources list (TokenCache.Recent). Nothing that leaves an
// adapter — an error, a stored failure message, a log line — carries a
// secret.
type Redactor struct {
	secrets []string
	sources []func() []string
}

// NewRedactor returns a Redactor for the given literal secrets; empty ones
// are ignored.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			r.secrets = append(r.secrets, s)
		}
	}
	return r
}

// Track adds a source of secrets that change (a token cache's Recent).
// Call it while wiring, before the Redactor is used.
func (r *Redactor) Track(src func() []string) *Redactor {
	r.sources = append(r.sources, src)
	return r
}

// String returns s with every known secret replaced by Redacted.
func (r *Redactor) String(s string) string {
	if r == nil {
		return credentialParam.ReplaceAllString(s, "${1}"+Redacted)
	}
	s = credentialParam.ReplaceAllString(s, "${1}"+Redacted)
	lits := append([]string(nil), r.secrets...)
	for _, src := range r.sources {
		lits = append(lits, src()...)
	}
	for _, v := range lits {
		if len(v) >= minSecretLen {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	return s
}

// Error returns err with its text redacted and cut to MaxErrorLen. The
// result wraps nothing but a context error (context.Canceled,
// context.DeadlineExceeded) that err wrapped, so no SDK or transport error
// (whose text may hold a URL with a token) can be reached through it.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := r.String(err.Error())
	if len(msg) > MaxErrorLen {
		msg = cut.Bytes(msg, MaxErrorLen) + "…"
	}
	re := &RedactedError{msg: msg}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		re.err = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		re.err = context.Canceled
	}
	return re
}

// RedactedError is an error whose text has had its secrets removed.
type RedactedError struct {
	msg string
	err error // nil, context.DeadlineExceeded or context.Canceled
}

// Error implements error.
func (e *RedactedError) Error() string { return e.msg }

// Unwrap returns the context error the original wrapped, if any.
func (e *RedactedError) Unwrap() error { return e.err }
