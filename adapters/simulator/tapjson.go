package simulator

import (
	"bytes"
	"encoding/json"
	"sync"
	"unicode/utf8"
)

// maxTapBody is the largest JSON body /sim/api/tap reads.
const maxTapBody = 1 << 16

// bodies are the reused buffers of the JSON API's request bodies and
// answers.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// decodeTap reads the JSON body of POST /sim/api/tap. The shape every client
// sends — one flat object of the four string fields, each at most once,
// without escapes — is read by hand; anything else (escapes, other types,
// other keys or spellings, trailing data) goes to encoding/json with unknown
// fields refused, as before. Whatever the fast reader accepts, encoding/json
// reads the same (FuzzDecodeTapAgreesWithEncodingJSON).
func decodeTap(body []byte) (TapRequest, error) {
	if req, ok := decodeFlatTap(body); ok {
		return req, nil
	}
	var req TapRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	return req, err
}

// decodeFlatTap is decodeTap's fast reader; ok is false for anything it
// does not read exactly as encoding/json would.
func decodeFlatTap(b []byte) (req TapRequest, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return req, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return req, skipSpace(b, i+1) == len(b)
	}
	var seen [4]bool
	for {
		key, next, ok := flatString(b, i)
		if !ok {
			return req, false
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return req, false
		}
		val, next, ok := flatString(b, skipSpace(b, i+1))
		if !ok {
			return req, false
		}
		var field *string
		var k int
		switch string(key) {
		case "user":
			field, k = &req.User, 0
		case "token":
			field, k = &req.Token, 1
		case "action":
			field, k = &req.Action, 2
		case "value":
			field, k = &req.Value, 3
		default:
			return req, false
		}
		if seen[k] {
			return req, false
		}
		seen[k] = true
		*field = string(val)
		i = skipSpace(b, next)
		if i >= len(b) {
			return req, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return req, skipSpace(b, i+1) == len(b)
		default:
			return req, false
		}
	}
}

// flatString reads a JSON string at b[i] that needs no unescaping: no
// backslash, no control character, valid UTF-8. It returns its contents and
// the index after its closing quote.
func flatString(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	end := bytes.IndexByte(b[i+1:], '"')
	if end < 0 {
		return nil, 0, false
	}
	s = b[i+1 : i+1+end]
	ascii := true
	for _, c := range s {
		switch {
		case c < 0x20 || c == '\\':
			return nil, 0, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	if !ascii && !utf8.Valid(s) {
		return nil, 0, false
	}
	return s, i + 2 + end, true
}

// skipSpace skips JSON white space from b[i].
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
