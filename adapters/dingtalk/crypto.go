package dingtalk

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
	"sort"
	"strings"
)

// DingTalk's HTTP callback crypto is WeCom's WXBizMsgCrypt: a SHA1 over the
// sorted (token, timestamp, nonce, encrypt) strings, and AES-256-CBC with
// IV = key[:16], PKCS#7 padding to 32-byte blocks, over
// random(16) | len(msg) (4 bytes, big-endian) | msg | owner key (the app key).

// Callback crypto errors; all are answered 4xx and record nothing.
var (
	ErrBadSignature = errors.New("callback signature mismatch")
	ErrBadPayload   = errors.New("callback payload cannot be decrypted")
	ErrWrongOwner   = errors.New("callback is for another app")
)

const cryptoBlock = 32

// signature computes the callback signature.
func signature(token, timestamp, nonce, encrypt string) string {
	parts := []string{token, timestamp, nonce, encrypt}
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

// verifySignature compares in constant time.
func verifySignature(token, timestamp, nonce, encrypt, sig string) bool {
	want := signature(token, timestamp, nonce, encrypt)
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(sig))) == 1
}

// decrypt opens an encrypted callback payload and checks that it is for
// owner (compared in constant time).
func decrypt(key []byte, encrypt, owner string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil || len(raw) == 0 || len(raw)%aes.BlockSize != 0 {
		return nil, ErrBadPayload
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, ErrBadPayload
	}
	plain := make([]byte, len(raw))
	cipher.NewCBCDecrypter(block, key[:aes.BlockSize]).CryptBlocks(plain, raw)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > cryptoBlock || pad > len(plain) {
		return nil, ErrBadPayload
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, ErrBadPayload
		}
	}
	plain = plain[:len(plain)-pad]
	if len(plain) < 20 {
		return nil, ErrBadPayload
	}
	n := binary.BigEndian.Uint32(plain[16:20])
	if uint64(n) > uint64(len(plain)-20) {
		return nil, ErrBadPayload
	}
	msg, rest := plain[20:20+n], plain[20+n:]
	if subtle.ConstantTimeCompare(rest, []byte(owner)) != 1 {
		return nil, ErrWrongOwner
	}
	return msg, nil
}

// encrypt seals msg for owner with a fresh random prefix.
func encrypt(key []byte, msg []byte, owner string) (string, error) {
	var random [16]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", err
	}
	return encryptWith(key, random[:], msg, owner)
}

func encryptWith(key, random, msg []byte, owner string) (string, error) {
	buf := make([]byte, 0, 20+len(msg)+len(owner)+cryptoBlock)
	buf = append(buf, random...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(msg)))
	buf = append(buf, msg...)
	buf = append(buf, owner...)
	pad := cryptoBlock - len(buf)%cryptoBlock
	for range pad {
		buf = append(buf, byte(pad))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	out := make([]byte, len(buf))
	cipher.NewCBCEncrypter(block, key[:aes.BlockSize]).CryptBlocks(out, buf)
	return base64.StdEncoding.EncodeToString(out), nil
}
