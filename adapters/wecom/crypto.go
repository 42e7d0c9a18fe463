package wecom

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Callback crypto errors. Every one is answered with a 4xx and changes
// nothing.
var (
	ErrBadSignature = errors.New("wecom: callback signature does not match")
	ErrBadCipher    = errors.New("wecom: callback ciphertext is malformed")
	ErrBadPadding   = errors.New("wecom: callback padding is invalid")
	ErrReceiveID    = errors.New("wecom: callback receive id is not this corp")
)

// blockSize is WeCom's PKCS#7 block: 32 bytes, not AES's 16, so pad values
// run from 1 to 32.
const blockSize = 32

// cryptor is WXBizMsgCrypt: SHA1 signatures over the sorted token,
// timestamp, nonce and ciphertext, and AES-256-CBC with IV = key[:16] over
// random(16) | len(4, big-endian) | msg | receiveid.
type cryptor struct {
	token     string
	key       []byte
	block     cipher.Block
	receiveID string
	bufs      sync.Pool // *[]byte plaintexts of encrypt, reused
	// encs and decs are CBC modes reused with their IV reset (a new one
	// copies the expanded key: ≈ 0.5 kB a callback each way).
	encs, decs sync.Pool
}

// ivResetter is a CBC mode whose IV can be set again (crypto/cipher's
// implementations are).
type ivResetter interface{ SetIV(iv []byte) }

// mode returns a CBC mode with IV = key[:16] from pool, or a new one.
func (c *cryptor) mode(pool *sync.Pool, fresh func(cipher.Block, []byte) cipher.BlockMode) cipher.BlockMode {
	if m, ok := pool.Get().(cipher.BlockMode); ok {
		m.(ivResetter).SetIV(c.key[:aes.BlockSize])
		return m
	}
	return fresh(c.block, c.key[:aes.BlockSize])
}

// reuse gives m back to pool when its IV can be reset.
func reuse(pool *sync.Pool, m cipher.BlockMode) {
	if _, ok := m.(ivResetter); ok {
		pool.Put(m)
	}
}

func newCryptor(token, encodingAESKey, receiveID string) (*cryptor, error) {
	if len(encodingAESKey) != 43 {
		return nil, fmt.Errorf("encoding aes key must be 43 characters, got %d", len(encodingAESKey))
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("encoding aes key is not base64 of 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("encoding aes key: %w", err)
	}
	return &cryptor{token: token, key: key, block: block, receiveID: receiveID}, nil
}

// encrypt seals msg for the receive id as WXBizMsgCrypt does (the inverse
// of decrypt: random(16) | len(4, big-endian) | msg | receiveid, PKCS#7 to
// 32 bytes, AES-256-CBC with IV = key[:16]) and returns it base64-encoded.
func (c *cryptor) encrypt(msg []byte) (string, error) {
	b, err := c.appendEncrypt(make([]byte, 0, c.sealedLen(len(msg))), msg)
	return string(b), err
}

// sealedLen is the length of encrypt's answer for a message of n bytes.
func (c *cryptor) sealedLen(n int) int {
	n += 20 + len(c.receiveID)
	return base64.StdEncoding.EncodedLen(n + blockSize - n%blockSize)
}

// appendEncrypt appends encrypt's answer for msg to dst (a buffer of
// sealedLen more bytes takes it without growing).
func (c *cryptor) appendEncrypt(dst, msg []byte) ([]byte, error) {
	n := 20 + len(msg) + len(c.receiveID)
	pad := blockSize - n%blockSize
	bp, _ := c.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer c.bufs.Put(bp)
	pt := slices.Grow((*bp)[:0], n+pad)[:n+pad]
	*bp = pt
	if _, err := rand.Read(pt[:16]); err != nil {
		return dst, fmt.Errorf("wecom: encrypt: %w", err)
	}
	binary.BigEndian.PutUint32(pt[16:20], uint32(len(msg)))
	copy(pt[20:], msg)
	copy(pt[20+len(msg):], c.receiveID)
	for i := n; i < len(pt); i++ {
		pt[i] = byte(pad)
	}
	m := c.mode(&c.encs, cipher.NewCBCEncrypter)
	m.CryptBlocks(pt, pt)
	reuse(&c.encs, m)
	return base64.StdEncoding.AppendEncode(dst, pt), nil
}

// signature is hex(SHA1(sort(token, timestamp, nonce, encrypt)))
// (WXBizMsgCrypt's msg_signature).
func (c *cryptor) signature(timestamp, nonce, encrypt string) string {
	return signature(c.token, timestamp, nonce, encrypt)
}

// signature is cryptor.signature for a ciphertext that is a string (a
// callback's) or bytes (a passive reply's, in the buffer of its envelope).
func signature[T string | []byte](token, timestamp, nonce string, encrypt T) string {
	parts := [3]string{token, timestamp, nonce}
	slices.Sort(parts[:])
	// The parts are joined in sorted order in one buffer, on the stack
	// for a callback's usual size, and hashed at once: writing each to a
	// hash.Hash as a []byte copied every part (the ciphertext is most of a
	// kilobyte).
	var stack [2048]byte
	b := stack[:0]
	placed := false
	for _, p := range parts {
		if !placed && string(encrypt) < p {
			b, placed = append(b, encrypt...), true
		}
		b = append(b, p...)
	}
	if !placed {
		b = append(b, encrypt...)
	}
	sum := sha1.Sum(b)
	var out [2 * sha1.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// verify compares sig with the expected signature in constant time.
func (c *cryptor) verify(sig, timestamp, nonce, encrypt string) error {
	want := c.signature(timestamp, nonce, encrypt)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(sig)), []byte(want)) != 1 {
		return ErrBadSignature
	}
	return nil
}

// decrypt opens a base64 ciphertext and returns the message. It checks
// everything the SDK's DecryptMsg does not: every padding byte, the length
// field against the plaintext and the receive id in constant time.
func (c *cryptor) decrypt(encrypt string) ([]byte, error) {
	ct, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil || len(ct) == 0 || len(ct)%blockSize != 0 {
		return nil, ErrBadCipher
	}
	pt := ct // decrypted in place
	m := c.mode(&c.decs, cipher.NewCBCDecrypter)
	m.CryptBlocks(pt, ct)
	reuse(&c.decs, m)
	pad := int(pt[len(pt)-1])
	if pad < 1 || pad > blockSize || pad > len(pt) {
		return nil, ErrBadPadding
	}
	for _, b := range pt[len(pt)-pad:] {
		if int(b) != pad {
			return nil, ErrBadPadding
		}
	}
	pt = pt[:len(pt)-pad]
	if len(pt) < 20 {
		return nil, ErrBadCipher
	}
	n := binary.BigEndian.Uint32(pt[16:20])
	if uint64(n) > uint64(len(pt)-20) {
		return nil, ErrBadCipher
	}
	msg, rid := pt[20:20+int(n)], pt[20+int(n):]
	if subtle.ConstantTimeCompare(rid, []byte(c.receiveID)) != 1 {
		return nil, ErrReceiveID
	}
	return msg, nil
}
