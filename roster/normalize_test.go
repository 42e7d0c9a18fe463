package roster_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/roster"
)

func TestNormalizeMobile(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{" 138-0000-0000 ", "13800000000"},
		{"+86 138 0000 0000", "13800000000"},
		{"8613800000000", "13800000000"},
		{"+852 9123 4567", "+85291234567"},
		{"86123", "86123"}, // too short to carry a country code
		{"n/a", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, roster.NormalizeMobile(tc.in))
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	require.Equal(t, "li.si@example.com", roster.NormalizeEmail("  Li.Si@Example.COM "))
}
