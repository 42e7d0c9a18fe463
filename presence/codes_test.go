package presence

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var testSecret = []byte("presence-test-secret-0123456789")

// TestCodeRotationExpiryAndTampering: a code is accepted while it is on
// the projector and for one more period (a scan just before the change),
// then refused as expired; any edit makes it invalid.
func TestCodeRotationExpiryAndTampering(t *testing.T) {
	t.Parallel()
	c := newCodec(testSecret)
	shown := time.Date(2026, 3, 2, 1, 0, 3, 0, time.UTC)
	period := 15 * time.Second
	slot := SlotAt(42, period, shown)
	code := c.qrCode(slot)
	require.Less(t, len(code), 40, "short enough for a small, scannable symbol")

	cases := []struct {
		name string
		at   time.Time
		err  error
	}{
		{"while shown", shown, nil},
		{"just before the next code", slot.End().Add(-time.Millisecond), nil},
		{"after rotation, within the grace period", slot.End().Add(14 * time.Second), nil},
		{"forwarded screenshot after the grace period", slot.ValidUntil(), ErrCodeExpired},
		{"a minute later", shown.Add(time.Minute), ErrCodeExpired},
		{"minted by a replica whose clock is far ahead", slot.Start().Add(-3 * time.Second), ErrCodeExpired},
		{"minted by a replica 1 s ahead", slot.Start().Add(-time.Second), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.parseQR(code, tc.at)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, slot, got)
		})
	}

	// The next slot's code differs; both name the same session.
	next := c.qrCode(SlotAt(42, period, slot.End()))
	require.NotEqual(t, code, next)

	// Tampering: every single-character change is refused as invalid.
	for i := range code {
		b := []byte(code)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		_, err := c.parseQR(string(b), shown)
		require.ErrorIs(t, err, ErrCodeInvalid, "edited at %d", i)
	}
	for _, bad := range []string{"", "!!", strings.Repeat("A", 65), code[:len(code)-2]} {
		_, err := c.parseQR(bad, shown)
		require.ErrorIs(t, err, ErrCodeInvalid, bad)
	}
	// Another secret (another deployment) does not accept it.
	_, err := newCodec([]byte("another-deployment-secret-000000")).parseQR(code, shown)
	require.ErrorIs(t, err, ErrCodeInvalid)
}

func TestRoomCodeWindowAndSessions(t *testing.T) {
	t.Parallel()
	c := newCodec(testSecret)
	now := time.Date(2026, 3, 2, 1, 0, 30, 0, time.UTC)
	n := roomSlot(now)
	code := c.roomCode(7, n)
	require.Len(t, code, 4)
	_, ok := c.roomMatches(7, code, now)
	require.True(t, ok, "current room slot")
	_, ok = c.roomMatches(7, code, now.Add(RoomPeriod))
	require.True(t, ok, "typed just after the change")
	_, ok = c.roomMatches(7, code, now.Add(2*RoomPeriod))
	require.False(t, ok, "two room slots later it is gone")
	// Across many sessions codes spread over the 10,000 values.
	seen := map[string]bool{}
	for id := uint64(1); id <= 200; id++ {
		seen[c.roomCode(id, n)] = true
	}
	require.Greater(t, len(seen), 190)
}

func TestSealedCookiesRefuseTamperingAndOtherDomains(t *testing.T) {
	t.Parallel()
	c := newCodec(testSecret)
	v, err := c.seal("ident", ident{Platform: "wecom", UserID: "zhangsan", EmployeeID: 3, Exp: 99})
	require.NoError(t, err)
	var got ident
	require.True(t, c.open("ident", v, &got))
	require.Equal(t, "zhangsan", got.UserID)
	require.False(t, c.open("flow", v, &got), "a sealed identity is not a flow")
	b := []byte(v)
	b[3] ^= 1
	require.False(t, c.open("ident", string(b), &got))
	require.False(t, c.open("ident", "", &got))
}

func TestDistanceAndDetectPlatform(t *testing.T) {
	t.Parallel()
	// Two points in central Shanghai about 1.9 km apart.
	d := Distance(31.2304, 121.4737, 31.2400, 121.4900)
	require.InDelta(t, 1890, d, 100)
	require.InDelta(t, 0, Distance(31.23, 121.47, 31.23, 121.47), 1e-6)
	for ua, want := range map[string]string{
		"Mozilla/5.0 (iPhone) AppleWebKit/605 MicroMessenger/8.0 wxwork/4.1.0": "wecom",
		"Mozilla/5.0 (Linux; Android 14) Lark/7.1.0 LarkLocale/zh_CN":          "feishu",
		"Mozilla/5.0 (iPhone) AliApp(DingTalk/7.5.0) DingTalk(7.5.0)":          "dingtalk",
		"Mozilla/5.0 (iPhone) MicroMessenger/8.0.40":                           "",
		"Mozilla/5.0 (X11; Linux x86_64) Chrome/130":                           "",
	} {
		require.Equal(t, want, string(DetectPlatform(ua)), ua)
	}
}
