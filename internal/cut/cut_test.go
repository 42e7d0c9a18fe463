package cut_test

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/internal/cut"
)

func TestCut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cut  func(string, int) string
		s    string
		n    int
		want string
	}{
		{"runes: shorter stays", cut.Runes, "abc", 5, "abc"},
		{"runes: exactly n stays", cut.Runes, "abc", 3, "abc"},
		{"runes: ascii cut", cut.Runes, "abcdef", 4, "abcd"},
		{"runes: counts characters, not bytes", cut.Runes, "签到签到签到", 4, "签到签到"},
		{"runes: mixed", cut.Runes, "a签b到c", 3, "a签b"},
		{"runes: empty", cut.Runes, "", 3, ""},
		{"runes: zero", cut.Runes, "abc", 0, ""},
		{"runes: negative", cut.Runes, "abc", -1, ""},
		{"ellipsis: shorter stays", cut.Ellipsis, "abc", 3, "abc"},
		{"ellipsis: the last character marks the cut", cut.Ellipsis, "签到签到签到", 4, "签到签…"},
		{"ellipsis: one", cut.Ellipsis, "abc", 1, "…"},
		{"ellipsis: zero", cut.Ellipsis, "abc", 0, ""},
		{"bytes: shorter stays", cut.Bytes, "abc", 5, "abc"},
		{"bytes: exactly n stays", cut.Bytes, "abc", 3, "abc"},
		{"bytes: ascii cut", cut.Bytes, "abcdef", 4, "abcd"},
		// 签 and 到 are three bytes each: 4 bytes hold one of them.
		{"bytes: never splits a character", cut.Bytes, "签到", 4, "签"},
		{"bytes: on a boundary", cut.Bytes, "签到", 3, "签"},
		{"bytes: inside the first character", cut.Bytes, "签到", 2, ""},
		{"bytes: zero", cut.Bytes, "abc", 0, ""},
		{"bytes: negative", cut.Bytes, "abc", -1, ""},
		{"runes: not UTF-8 made valid", cut.Runes, "a\xffb\xe7\xad", 10, "a\uFFFDb\uFFFD"},
		{"bytes: not UTF-8 made valid", cut.Bytes, "a\xffb", 10, "a\uFFFDb"},
		{"ellipsis: not UTF-8 made valid", cut.Ellipsis, "\xff\xfeabc", 3, "\uFFFDa…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.cut(tc.s, tc.n)
			require.Equal(t, tc.want, got)
			require.True(t, utf8.ValidString(got))
		})
	}
}
