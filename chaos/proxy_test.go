package chaos

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// echoServer answers every line with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(c net.Conn, r *bufio.Reader, deadline time.Duration) (string, error) {
	_ = c.SetDeadline(time.Now().Add(deadline))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return "", err
	}
	return r.ReadString('\n')
}

// TestProxyCutAndStall checks the two faults the suite injects between
// learnloop and MariaDB.
func TestProxyCutAndStall(t *testing.T) {
	t.Parallel()
	p, err := NewProxy("127.0.0.1:0", echoServer(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })

	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)
	got, err := roundTrip(c, r, 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "ping\n", got)

	// Stall: nothing comes back until the stall ends, then it does.
	p.Stall(400 * time.Millisecond)
	require.True(t, p.Stalled())
	start := time.Now()
	_, err = roundTrip(c, r, 150*time.Millisecond)
	require.Error(t, err, "no answer while stalled")
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	got, err = r.ReadString('\n')
	require.NoError(t, err, "the held bytes are forwarded after the stall")
	require.Equal(t, "ping\n", got)
	require.GreaterOrEqual(t, time.Since(start), 350*time.Millisecond)
	require.False(t, p.Stalled())

	// A connection opened during a stall is connected when it ends.
	p.Stall(300 * time.Millisecond)
	c2, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c2.Close()
	got, err = roundTrip(c2, bufio.NewReader(c2), 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "ping\n", got)

	// Cut: every open connection is closed; new ones work.
	require.Equal(t, 2, p.Cut())
	_, err = roundTrip(c, r, time.Second)
	require.Error(t, err, "a cut connection is dead")
	c3, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c3.Close()
	got, err = roundTrip(c3, bufio.NewReader(c3), 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "ping\n", got)
	require.EqualValues(t, 3, p.Accepted())
}
