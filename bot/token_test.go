package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func testSigner(t testing.TB, now time.Time) *Signer {
	t.Helper()
	s, err := NewSigner([]byte("0123456789abcdef-test-secret"), func() time.Time { return now })
	require.NoError(t, err)
	return s
}

func TestTokenRoundTripAndRejections(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)
	s := testSigner(t, now)
	good := s.Sign(Claims{Kind: TokenLink, DeliveryID: 42, Expires: now.Add(time.Hour), Extra: "https://example.com/x?a=1"})

	c, err := s.Verify(good, TokenLink)
	require.NoError(t, err)
	require.EqualValues(t, 42, c.DeliveryID)
	require.Equal(t, "https://example.com/x?a=1", c.Extra)
	require.NotContains(t, good, "example.com", "token is opaque")

	flip := []byte(good)
	flip[5] ^= 1
	other, err := NewSigner([]byte("another-secret-of-16+bytes"), func() time.Time { return now })
	require.NoError(t, err)
	cases := []struct {
		name string
		tok  string
		kind byte
		want error
	}{
		{"tampered byte", string(flip), TokenLink, ErrTokenInvalid},
		{"truncated", good[:len(good)-3], TokenLink, ErrTokenInvalid},
		{"wrong kind", good, TokenCheckin, ErrTokenInvalid},
		{"other secret", other.Sign(Claims{Kind: TokenLink, DeliveryID: 42, Extra: "https://evil"}), TokenLink, ErrTokenInvalid},
		{"not base64", "%%%", TokenLink, ErrTokenInvalid},
		{"empty", "", TokenLink, ErrTokenInvalid},
		{"huge", strings.Repeat("A", 5000), TokenLink, ErrTokenInvalid},
		{"expired", s.Sign(Claims{Kind: TokenLink, DeliveryID: 1, Expires: now.Add(-time.Second)}), TokenLink, ErrTokenExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Verify(tc.tok, tc.kind)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func FuzzVerifyToken(f *testing.F) {
	now := time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)
	s := testSigner(f, now)
	f.Add(s.Sign(Claims{Kind: TokenInteraction, DeliveryID: 7, Extra: "checkin"}))
	f.Add(s.Sign(Claims{Kind: TokenLink, DeliveryID: 1 << 40, Expires: now.Add(time.Hour), Extra: "https://a"}))
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(tok, TokenLink)
		if err == nil {
			// A token that verifies must re-sign to itself: nothing but our
			// own signatures is accepted.
			require.Equal(t, tok, s.Sign(c))
		}
	})
}
