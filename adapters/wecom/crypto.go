package wecom

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/silenceper/wechat/v2/util"
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

// signature is hex(SHA1(sort(token, timestamp, nonce, encrypt))), using the
// SDK's implementation.
func (c *cryptor) signature(timestamp, nonce, encrypt string) string {
	return util.Signature(c.token, timestamp, nonce, encrypt)
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
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(c.block, c.key[:aes.BlockSize]).CryptBlocks(pt, ct)
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
