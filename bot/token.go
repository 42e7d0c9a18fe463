package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"
	"time"
)

// Token kinds: each kind is signed in its own domain, so a token of one kind
// can never be replayed as another.
const (
	TokenInteraction byte = 'i' // a callback button: delivery + action
	TokenLink        byte = 'l' // a tracked link: delivery + target URL
	TokenCheckin     byte = 'c' // the check-in fallback page: delivery
	TokenSurvey      byte = 's' // a survey form: delivery (+ subject)
)

const macLen = 16

// Token errors. Callers answer all of them with a plain 404/refusal.
var (
	ErrTokenInvalid = errors.New("token invalid")
	ErrTokenExpired = errors.New("token expired")
)

// Claims is what a signed token says.
type Claims struct {
	Kind       byte
	DeliveryID uint64
	Expires    time.Time
	// Extra is kind-specific: the action for interactions, the target URL
	// for links, the subject for surveys.
	Extra string
}

// Signer makes and verifies opaque HMAC-SHA256 tokens.
type Signer struct {
	secret []byte
	now    func() time.Time
	macs   sync.Pool // keyed HMAC states, reused (a tap verifies one token)
}

// NewSigner returns a Signer. The secret must be at least 16 bytes.
func NewSigner(secret []byte, now func() time.Time) (*Signer, error) {
	if len(secret) < 16 {
		return nil, errors.New("link secret must be at least 16 bytes")
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{secret: append([]byte(nil), secret...), now: now}, nil
}

// Sign encodes c as an opaque URL-safe token.
func (s *Signer) Sign(c Claims) string {
	buf := make([]byte, 0, 24+len(c.Extra)+macLen)
	buf = append(buf, 1, c.Kind) // version, kind
	buf = binary.AppendUvarint(buf, c.DeliveryID)
	var exp uint64
	if !c.Expires.IsZero() {
		exp = uint64(c.Expires.Unix())
	}
	buf = binary.AppendUvarint(buf, exp)
	buf = append(buf, c.Extra...)
	buf = append(buf, s.mac(buf)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

func (s *Signer) mac(payload []byte) []byte {
	m, _ := s.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, s.secret)
	} else {
		m.Reset() // back to the keyed state, without hashing the key again
	}
	m.Write([]byte("learnloop-token-v1\x00"))
	m.Write(payload)
	sum := m.Sum(make([]byte, 0, sha256.Size))[:macLen]
	s.macs.Put(m)
	return sum
}

// maxTokenLen bounds the tokens Verify reads: a tracked link's carries its
// target (a session's online URL may have 1,024 characters of up to four
// bytes each), about 4/3 of it in base64.
const maxTokenLen = 8192

// Verify checks tok's signature, kind and expiry and returns its claims.
func (s *Signer) Verify(tok string, kind byte) (Claims, error) {
	if len(tok) > maxTokenLen {
		return Claims{}, ErrTokenInvalid
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(raw) < 2+2+macLen {
		return Claims{}, ErrTokenInvalid
	}
	payload, sig := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if !hmac.Equal(sig, s.mac(payload)) {
		return Claims{}, ErrTokenInvalid
	}
	if payload[0] != 1 || payload[1] != kind {
		return Claims{}, ErrTokenInvalid
	}
	rest := payload[2:]
	id, n := binary.Uvarint(rest)
	if n <= 0 || id == 0 {
		return Claims{}, ErrTokenInvalid
	}
	rest = rest[n:]
	exp, n := binary.Uvarint(rest)
	if n <= 0 {
		return Claims{}, ErrTokenInvalid
	}
	rest = rest[n:]
	c := Claims{Kind: kind, DeliveryID: id, Extra: string(rest)}
	if exp != 0 {
		c.Expires = time.Unix(int64(exp), 0).UTC()
		if !s.now().Before(c.Expires) {
			return c, fmt.Errorf("expired at %s: %w", c.Expires.Format(time.RFC3339), ErrTokenExpired)
		}
	}
	return c, nil
}
