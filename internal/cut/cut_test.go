package cut_test

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/internal/cut"
)

func TestRunes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    string
		n    int
		want string
	}{
		{"shorter stays", "abc", 5, "abc"},
		{"exactly n stays", "abc", 3, "abc"},
		{"ascii cut", "abcdef", 4, "abcd"},
		{"counts characters, not bytes", "签到签到签到", 4, "签到签到"},
		{"mixed", "a签b到c", 3, "a签b"},
		{"empty", "", 3, ""},
		{"zero", "abc", 0, ""},
		{"negative", "abc", -1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, cut.Runes(tc.s, tc.n))
		})
	}
}

func TestBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    string
		n    int
		want string
	}{
		{"shorter stays", "abc", 5, "abc"},
		{"exactly n stays", "abc", 3, "abc"},
		{"ascii cut", "abcdef", 4, "abcd"},
		// 签 and 到 are three bytes each: 4 bytes hold one of them.
		{"never splits a character", "签到", 4, "签"},
		{"on a boundary", "签到", 3, "签"},
		{"inside the first character", "签到", 2, ""},
		{"zero", "abc", 0, ""},
		{"negative", "abc", -1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := cut.Bytes(tc.s, tc.n)
			require.Equal(t, tc.want, got)
			require.True(t, utf8.ValidString(got))
		})
	}
}
