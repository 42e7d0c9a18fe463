package webhooks

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDialRefusesInternalAddresses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr     string
		internal bool
	}{
		{"127.0.0.1:443", true},
		{"[::1]:443", true},
		{"10.0.0.8:80", true},
		{"172.16.5.4:80", true},
		{"192.168.0.1:80", true},
		{"169.254.169.254:80", true},
		{"100.64.1.1:80", true},
		{"0.0.0.0:80", true},
		{"[::ffff:127.0.0.1]:80", true},
		{"[fd00::1]:80", true},
		{"93.184.216.34:443", false},
		{"[2606:2800:220:1::]:443", false},
	}
	for _, tc := range tests {
		err := dialControl(false)("tcp", tc.addr, nil)
		if tc.internal {
			require.ErrorIs(t, err, ErrPrivateTarget, tc.addr)
		} else {
			require.NoError(t, err, tc.addr)
		}
		require.NoError(t, dialControl(true)("tcp", tc.addr, nil), "allowed by config: %s", tc.addr)
	}
}
