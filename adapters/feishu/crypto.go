package feishu

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// Crypto errors. All of them are answered with 401 and change nothing.
var (
	ErrBadSignature = errors.New("signature mismatch")
	ErrBadCipher    = errors.New("cannot decrypt")
	ErrBadPadding   = errors.New("bad PKCS#7 padding")
)

// aesKey is Feishu's AES-256 key: SHA-256 of the encrypt key.
func aesKey(encryptKey string) []byte {
	k := sha256.Sum256([]byte(encryptKey))
	return k[:]
}

// Decrypt decodes a Feishu "encrypt" field: base64(IV ‖ AES-256-CBC(plain))
// with key SHA256(encryptKey) and PKCS#7 padding, which is checked and
// removed (unlike the SDK's EventDecrypt, which slices between braces).
func Decrypt(encrypt, encryptKey string) ([]byte, error) {
	block, err := aes.NewCipher(aesKey(encryptKey))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCipher, err)
	}
	return decrypt(block, encrypt)
}

// decrypt is Decrypt with the AES block of the key already expanded (a
// Client keeps its own, so a callback does not hash and expand the key).
func decrypt(block cipher.Block, encrypt string) ([]byte, error) {
	buf := make([]byte, base64.StdEncoding.DecodedLen(len(encrypt)))
	n, err := base64.StdEncoding.Decode(buf, []byte(encrypt))
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %v", ErrBadCipher, err)
	}
	buf = buf[:n]
	if len(buf) < 2*aes.BlockSize || len(buf)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not IV plus whole blocks", ErrBadCipher, len(buf))
	}
	iv, ct := buf[:aes.BlockSize], buf[aes.BlockSize:]
	// Decrypted in place: the plaintext is never longer than the cipher text.
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(ct, ct)
	return unpad(ct, aes.BlockSize)
}

// unpad removes PKCS#7 padding of block size bs, checking every pad byte.
func unpad(b []byte, bs int) ([]byte, error) {
	if len(b) == 0 || len(b)%bs != 0 {
		return nil, ErrBadPadding
	}
	n := int(b[len(b)-1])
	if n == 0 || n > bs || n > len(b) {
		return nil, ErrBadPadding
	}
	bad := 0
	for _, p := range b[len(b)-n:] {
		bad |= int(p ^ byte(n))
	}
	if bad != 0 {
		return nil, ErrBadPadding
	}
	return b[:len(b)-n], nil
}

// Encrypt is Decrypt's inverse with a random IV (tests and tools use it to
// build callbacks the way Feishu does).
func Encrypt(plain []byte, encryptKey string) (string, error) {
	iv := make([]byte, aes.BlockSize)
	if _, err := rand.Read(iv); err != nil {
		return "", fmt.Errorf("random iv: %w", err)
	}
	return encryptIV(plain, encryptKey, iv)
}

func encryptIV(plain []byte, encryptKey string, iv []byte) (string, error) {
	block, err := aes.NewCipher(aesKey(encryptKey))
	if err != nil {
		return "", fmt.Errorf("aes: %w", err)
	}
	n := aes.BlockSize - len(plain)%aes.BlockSize
	padded := make([]byte, len(plain)+n)
	copy(padded, plain)
	for i := len(plain); i < len(padded); i++ {
		padded[i] = byte(n)
	}
	out := make([]byte, aes.BlockSize+len(padded))
	copy(out, iv)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out[aes.BlockSize:], padded)
	return base64.StdEncoding.EncodeToString(out), nil
}

// Signature is X-Lark-Signature: hex(SHA256(timestamp ‖ nonce ‖ encryptKey ‖ body)).
func Signature(timestamp, nonce, encryptKey string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write([]byte(nonce))
	h.Write([]byte(encryptKey))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// verifySignature compares sig with the expected signature in constant time.
func verifySignature(timestamp, nonce, encryptKey string, body []byte, sig string) error {
	want := Signature(timestamp, nonce, encryptKey, body)
	if subtle.ConstantTimeCompare([]byte(want), []byte(sig)) != 1 {
		return ErrBadSignature
	}
	return nil
}

// equalSecret compares two secrets in constant time (lengths may leak).
func equalSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
