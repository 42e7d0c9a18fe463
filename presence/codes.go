package presence

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Code errors. Each is answered with a page that says what to do; none
// changes anything.
var (
	// ErrCodeInvalid: not a code this service made (typo, tampered, cut).
	ErrCodeInvalid = errors.New("presence: code invalid")
	// ErrCodeExpired: a real code whose rotation has passed (a screenshot
	// forwarded after the projector moved on).
	ErrCodeExpired = errors.New("presence: code expired")
)

// RoomPeriod is how long a room code stays on the projector. It changes
// more slowly than the QR code: people type it.
const RoomPeriod = 60 * time.Second

// skew is how far ahead of this replica's clock another replica may have
// minted a code.
const skew = 2 * time.Second

// codec signs venue codes, room codes and the browser's flow and identity
// cookies with keys derived from the link secret, each in its own domain.
type codec struct{ key []byte }

func newCodec(secret []byte) codec {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("learnloop-presence-v1"))
	return codec{key: m.Sum(nil)}
}

func (c codec) mac(domain string, payload []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)
}

// qrMacLen keeps the QR code short (a smaller, more scannable symbol):
// 80 bits cannot be guessed within a code's lifetime.
const qrMacLen = 10

// Slot is one rotation of a session's venue code.
type Slot struct {
	SessionID uint64
	Period    time.Duration
	N         int64 // Unix time / Period
}

// Start is when the slot's code appears on the projector.
func (s Slot) Start() time.Time { return time.UnixMilli(s.N * s.Period.Milliseconds()).UTC() }

// End is when the projector shows the next code.
func (s Slot) End() time.Time { return s.Start().Add(s.Period) }

// ValidUntil is the last moment a scan of the slot's code is accepted: one
// more period after it left the projector, for a scan made just before the
// change and a slow venue network.
func (s Slot) ValidUntil() time.Time { return s.End().Add(s.Period) }

// SlotAt is the slot shown at t for a session rotating every period.
func SlotAt(sessionID uint64, period time.Duration, t time.Time) Slot {
	return Slot{SessionID: sessionID, Period: period, N: t.UnixMilli() / period.Milliseconds()}
}

// qrCode is the text of the slot's code: session, period, slot and a MAC,
// URL-safe.
func (c codec) qrCode(s Slot) string {
	buf := make([]byte, 0, 32)
	buf = append(buf, 1)
	buf = binary.AppendUvarint(buf, s.SessionID)
	buf = binary.AppendUvarint(buf, uint64(s.Period/time.Second))
	buf = binary.AppendUvarint(buf, uint64(s.N))
	buf = append(buf, c.mac("qr", buf)[:qrMacLen]...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// parseQR verifies a code and checks it is still accepted at now.
func (c codec) parseQR(code string, now time.Time) (Slot, error) {
	if len(code) == 0 || len(code) > 64 {
		return Slot{}, ErrCodeInvalid
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(code)
	if err != nil || len(raw) < 1+3+qrMacLen || raw[0] != 1 {
		return Slot{}, ErrCodeInvalid
	}
	payload, sig := raw[:len(raw)-qrMacLen], raw[len(raw)-qrMacLen:]
	if !hmac.Equal(sig, c.mac("qr", payload)[:qrMacLen]) {
		return Slot{}, ErrCodeInvalid
	}
	rest := payload[1:]
	var vals [3]uint64
	for i := range vals {
		v, n := binary.Uvarint(rest)
		if n <= 0 {
			return Slot{}, ErrCodeInvalid
		}
		vals[i], rest = v, rest[n:]
	}
	if len(rest) != 0 || vals[0] == 0 || vals[1] == 0 || vals[1] > maxRotateSeconds {
		return Slot{}, ErrCodeInvalid
	}
	s := Slot{SessionID: vals[0], Period: time.Duration(vals[1]) * time.Second, N: int64(vals[2])}
	if now.Before(s.Start().Add(-skew)) || !now.Before(s.ValidUntil()) {
		return s, ErrCodeExpired
	}
	return s, nil
}

// roomCode is the 4-digit code of a session for the room slot n (Unix time
// / RoomPeriod).
func (c codec) roomCode(sessionID uint64, n int64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], sessionID)
	binary.BigEndian.PutUint64(b[8:], uint64(n))
	v := binary.BigEndian.Uint32(c.mac("room", b[:])[:4]) % 10000
	return fmt.Sprintf("%04d", v)
}

// roomSlot is the room slot shown at t.
func roomSlot(t time.Time) int64 { return t.UnixMilli() / RoomPeriod.Milliseconds() }

// roomMatches reports whether code is the session's room code now or in the
// previous room slot (typed just after the change).
func (c codec) roomMatches(sessionID uint64, code string, now time.Time) (int64, bool) {
	n := roomSlot(now)
	for _, k := range []int64{n, n - 1} {
		if hmac.Equal([]byte(c.roomCode(sessionID, k)), []byte(code)) {
			return k, true
		}
	}
	return 0, false
}

// seal signs v (JSON) for a cookie of the given domain.
func (c codec) seal(domain string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", domain, err)
	}
	return base64.RawURLEncoding.EncodeToString(b) + "." + hex.EncodeToString(c.mac(domain, b)[:16]), nil
}

// open verifies a sealed value and decodes it into v.
func (c codec) open(domain, s string, v any) bool {
	if len(s) > 4096 {
		return false
	}
	i := len(s) - 33
	if i < 1 || s[i] != '.' {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s[:i])
	if err != nil {
		return false
	}
	sig, err := hex.DecodeString(s[i+1:])
	if err != nil || !hmac.Equal(sig, c.mac(domain, b)[:16]) {
		return false
	}
	return json.Unmarshal(b, v) == nil
}
