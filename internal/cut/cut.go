// Package cut shortens a string to the size of the column or field it is
// stored in without splitting a character: the one rule for every name,
// note, address and error text that may be longer than its place. What it
// returns is always valid UTF-8 — a byte sequence that is not (an error
// carrying what a platform or a webhook receiver answered) becomes U+FFFD —
// because MySQL in strict mode refuses anything else.
package cut

import (
	"strings"
	"unicode/utf8"
)

// Runes returns s cut to at most n runes (a VARCHAR(n) column counts
// characters); nothing when n is not positive.
func Runes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	seen := 0
	for i := range s {
		if seen == n {
			return s[:i]
		}
		seen++
	}
	return s
}

// Ellipsis returns s cut to at most n runes for display, its last rune
// "…" when it was cut; nothing when n is not positive.
func Ellipsis(s string, n int) string {
	if n <= 0 {
		return ""
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if c := Runes(s, n); len(c) < len(s) {
		return Runes(c, n-1) + "…"
	}
	return s
}

// Bytes returns s cut to at most n bytes on a rune boundary (a text sized
// in bytes); nothing when n is not positive.
func Bytes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
