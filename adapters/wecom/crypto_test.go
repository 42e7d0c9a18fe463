package wecom

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type vectorFile struct {
	XML struct {
		Token, EncodingAESKey, ReceiveID string
		VerifyURL                        vector `json:"verify_url"`
		Message                          vector `json:"message"`
	} `json:"wecom_xml"`
	JSON struct {
		Token, EncodingAESKey, ReceiveID string
		vector
	} `json:"wecom_json"`
}

type vector struct {
	Timestamp    string `json:"timestamp"`
	Nonce        string `json:"nonce"`
	Echostr      string `json:"echostr"`
	Encrypt      string `json:"encrypt"`
	MsgSignature string `json:"msg_signature"`
	Plaintext    string `json:"plaintext"`
	PadLen       int    `json:"pkcs7_pad_len"`
}

func (v vector) cipher() string {
	if v.Echostr != "" {
		return v.Echostr
	}
	return v.Encrypt
}

func loadVectors(t *testing.T) vectorFile {
	t.Helper()
	raw, err := os.ReadFile("testdata/crypto_vectors.json")
	require.NoError(t, err)
	// The file uses snake_case keys for the inputs.
	raw = []byte(strings.NewReplacer(`"encoding_aes_key"`, `"EncodingAESKey"`, `"receive_id"`, `"ReceiveID"`, `"token"`, `"Token"`).Replace(string(raw)))
	var vf vectorFile
	require.NoError(t, json.Unmarshal(raw, &vf))
	require.NotEmpty(t, vf.XML.Message.Encrypt)
	require.NotEmpty(t, vf.JSON.Encrypt)
	return vf
}

// vectorClient is a Client whose callback settings are a vector's and whose
// clock stands at the vector's timestamp.
func vectorClient(t *testing.T, token, key, rid, ts string) *Client {
	t.Helper()
	sec, err := strconv.ParseInt(ts, 10, 64)
	require.NoError(t, err)
	c, err := New(Config{CorpID: rid, AgentID: 218, Secret: "unused-secret", Token: token, EncodingAESKey: key},
		WithNow(func() time.Time { return time.Unix(sec, 0).Add(30 * time.Second) }))
	require.NoError(t, err)
	return c
}

func TestPublishedVectors(t *testing.T) {
	t.Parallel()
	vf := loadVectors(t)
	tests := []struct {
		name                  string
		token, key, receiveID string
		v                     vector
		wantPad               int
	}{
		{"xml verify url", vf.XML.Token, vf.XML.EncodingAESKey, vf.XML.ReceiveID, vf.XML.VerifyURL, 0},
		{"xml message", vf.XML.Token, vf.XML.EncodingAESKey, vf.XML.ReceiveID, vf.XML.Message, 30},
		{"json message", vf.JSON.Token, vf.JSON.EncodingAESKey, vf.JSON.ReceiveID, vf.JSON.vector, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cr, err := newCryptor(tc.token, tc.key, tc.receiveID)
			require.NoError(t, err)
			require.Equal(t, tc.v.MsgSignature, cr.signature(tc.v.Timestamp, tc.v.Nonce, tc.v.cipher()))
			require.NoError(t, cr.verify(tc.v.MsgSignature, tc.v.Timestamp, tc.v.Nonce, tc.v.cipher()))
			plain, err := cr.decrypt(tc.v.cipher())
			require.NoError(t, err)
			require.Equal(t, tc.v.Plaintext, string(plain))
			if tc.wantPad > 0 {
				require.Equal(t, tc.wantPad, tc.v.PadLen)
				require.Equal(t, tc.wantPad, padOf(t, cr, tc.v.cipher()), "a pad over 16 must be accepted")
			}
		})
	}

	t.Run("url verification through the handler", func(t *testing.T) {
		t.Parallel()
		v := vf.XML.VerifyURL
		c := vectorClient(t, vf.XML.Token, vf.XML.EncodingAESKey, vf.XML.ReceiveID, v.Timestamp)
		q := url.Values{"msg_signature": {v.MsgSignature}, "timestamp": {v.Timestamp}, "nonce": {v.Nonce}, "echostr": {v.Echostr}}
		rec := httptest.NewRecorder()
		c.CallbackHandler(&recorder{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, CallbackPath+"?"+q.Encode(), nil))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, v.Plaintext, rec.Body.String(), "the plaintext only: no quotes, BOM or newline")
	})
	t.Run("xml message through the handler", func(t *testing.T) {
		t.Parallel()
		v := vf.XML.Message
		c := vectorClient(t, vf.XML.Token, vf.XML.EncodingAESKey, vf.XML.ReceiveID, v.Timestamp)
		r := &recorder{}
		q := url.Values{"msg_signature": {v.MsgSignature}, "timestamp": {v.Timestamp}, "nonce": {v.Nonce}}
		body := "<xml><ToUserName><![CDATA[" + vf.XML.ReceiveID + "]]></ToUserName><Encrypt><![CDATA[" + v.Encrypt + "]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>"
		rec := post(c.CallbackHandler(r), q.Encode(), body)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Empty(t, rec.Body.String())
		require.Zero(t, r.calls.Load(), "a text message is not a tap")
	})
	t.Run("json message through the handler", func(t *testing.T) {
		t.Parallel()
		v := vf.JSON.vector
		c := vectorClient(t, vf.JSON.Token, vf.JSON.EncodingAESKey, vf.JSON.ReceiveID, v.Timestamp)
		r := &recorder{}
		q := url.Values{"msg_signature": {v.MsgSignature}, "timestamp": {v.Timestamp}, "nonce": {v.Nonce}}
		rec := post(c.CallbackHandler(r), q.Encode(), `{"tousername":"`+vf.JSON.ReceiveID+`","encrypt":"`+v.Encrypt+`","agentid":"218"}`)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Zero(t, r.calls.Load())
	})
}

// padOf decrypts raw and returns its PKCS#7 pad value.
func padOf(t *testing.T, cr *cryptor, enc string) int {
	ct, err := base64.StdEncoding.DecodeString(enc)
	require.NoError(t, err)
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(cr.block, cr.key[:16]).CryptBlocks(pt, ct)
	return int(pt[len(pt)-1])
}

// encryptRaw encrypts a plaintext that is already laid out and padded.
func encryptRaw(t testing.TB, aesKey string, pt []byte) string {
	key, err := base64.StdEncoding.DecodeString(aesKey + "=")
	require.NoError(t, err)
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	ct := make([]byte, len(pt))
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(ct, pt)
	return base64.StdEncoding.EncodeToString(ct)
}

// layout builds random(16) | len | msg | rid, padded with pad (a function
// of the pad length and position) to a multiple of 32.
func layout(msg, rid string, lenField int, pad func(n, i int) byte) []byte {
	pt := make([]byte, 16, 64+len(msg))
	_, _ = rand.Read(pt)
	pt = binary.BigEndian.AppendUint32(pt, uint32(lenField))
	pt = append(pt, msg...)
	pt = append(pt, rid...)
	n := blockSize - len(pt)%blockSize
	for i := range n {
		pt = append(pt, pad(n, i))
	}
	return pt
}

func goodPad(n, _ int) byte { return byte(n) }

// TestCryptorReusesItsModes: the CBC modes a cryptor reuses start each
// message at IV = key[:16] again, so every message opens and seals as the
// first one did.
func TestCryptorReusesItsModes(t *testing.T) {
	t.Parallel()
	vf := loadVectors(t)
	v := vf.XML.Message
	cr, err := newCryptor(vf.XML.Token, vf.XML.EncodingAESKey, vf.XML.ReceiveID)
	require.NoError(t, err)
	for i, msg := range []string{"first", "<xml>second, longer than one block of thirty-two bytes</xml>", ""} {
		plain, err := cr.decrypt(v.cipher())
		require.NoError(t, err, "decrypt %d", i)
		require.Equal(t, v.Plaintext, string(plain), "decrypt %d", i)
		sealed, err := cr.encrypt([]byte(msg))
		require.NoError(t, err, "encrypt %d", i)
		opened, err := cr.decrypt(sealed)
		require.NoError(t, err, "open %d", i)
		require.Equal(t, msg, string(opened), "round trip %d", i)
	}
}

func TestCallbackRejected(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	tap := CardEvent{To: b.cfg.CorpID, From: "zhangwei", EventKey: "ll:checkin::" + tok(t), TaskID: "ll-1-0-1",
		CardType: cardButtonInteraction, ResponseCode: "rc", CreateTime: b.clk.Now().Unix(), AgentID: b.cfg.AgentID}.XML()
	now := b.clk.Now()
	signed := func(enc string) (string, string) { return signedEnvelope(b.cfg, now, enc) }
	tests := []struct {
		name   string
		build  func() (query, body string)
		method string
		want   int
	}{
		{"wrong signature", func() (string, string) {
			q, body := SignedCallback(b.cfg, b.cfg.CorpID, now, tap)
			v, _ := url.ParseQuery(q)
			sig := []byte(v.Get("msg_signature"))
			sig[0] ^= 1
			v.Set("msg_signature", string(sig))
			return v.Encode(), body
		}, "", http.StatusForbidden},
		{"signature of another token", func() (string, string) {
			other := b.cfg
			other.Token = "someone-else"
			return SignedCallback(other, b.cfg.CorpID, now, tap)
		}, "", http.StatusForbidden},
		{"wrong receive id", func() (string, string) { return SignedCallback(b.cfg, "wwsomeoneelse", now, tap) }, "", http.StatusBadRequest},
		{"padding bytes differ", func() (string, string) {
			return signed(encryptRaw(t, b.cfg.EncodingAESKey, layout(tap, b.cfg.CorpID, len(tap), func(n, i int) byte {
				if i == 0 {
					return byte(n + 1)
				}
				return byte(n)
			})))
		}, "", http.StatusBadRequest},
		{"padding value zero", func() (string, string) {
			return signed(encryptRaw(t, b.cfg.EncodingAESKey, layout(tap, b.cfg.CorpID, len(tap), func(int, int) byte { return 0 })))
		}, "", http.StatusBadRequest},
		{"padding value over 32", func() (string, string) {
			return signed(encryptRaw(t, b.cfg.EncodingAESKey, layout(tap, b.cfg.CorpID, len(tap), func(int, int) byte { return 33 })))
		}, "", http.StatusBadRequest},
		{"length field past the end", func() (string, string) {
			return signed(encryptRaw(t, b.cfg.EncodingAESKey, layout(tap, b.cfg.CorpID, len(tap)+len(b.cfg.CorpID)+1, goodPad)))
		}, "", http.StatusBadRequest},
		{"ciphertext not a multiple of 32", func() (string, string) {
			return signed(base64.StdEncoding.EncodeToString(make([]byte, 48)))
		}, "", http.StatusBadRequest},
		{"encrypt not base64", func() (string, string) { return signed("!!not base64!!") }, "", http.StatusBadRequest},
		{"stale timestamp", func() (string, string) { return SignedCallback(b.cfg, b.cfg.CorpID, now.Add(-6*time.Minute), tap) }, "", http.StatusBadRequest},
		{"future timestamp", func() (string, string) { return SignedCallback(b.cfg, b.cfg.CorpID, now.Add(6*time.Minute), tap) }, "", http.StatusBadRequest},
		{"timestamp not a number", func() (string, string) {
			q, body := SignedCallback(b.cfg, b.cfg.CorpID, now, tap)
			v, _ := url.ParseQuery(q)
			v.Set("timestamp", "1e9")
			return v.Encode(), body
		}, "", http.StatusBadRequest},
		{"no signature", func() (string, string) {
			q, body := SignedCallback(b.cfg, b.cfg.CorpID, now, tap)
			v, _ := url.ParseQuery(q)
			v.Del("msg_signature")
			return v.Encode(), body
		}, "", http.StatusBadRequest},
		{"body not xml", func() (string, string) {
			q, _ := SignedCallback(b.cfg, b.cfg.CorpID, now, tap)
			return q, "hello"
		}, "", http.StatusBadRequest},
		{"body too large", func() (string, string) {
			q, _ := SignedCallback(b.cfg, b.cfg.CorpID, now, tap)
			return q, "<xml><Encrypt>" + strings.Repeat("A", maxCallbackBody) + "</Encrypt></xml>"
		}, "", http.StatusRequestEntityTooLarge},
		{"signed, decrypted, but not an event xml", func() (string, string) { return SignedCallback(b.cfg, b.cfg.CorpID, now, "{{{") }, "", http.StatusBadRequest},
		{"malformed key of ours", func() (string, string) {
			bad := strings.Replace(tap, "ll:checkin::", "ll:checkin:x:y:", 1)
			return SignedCallback(b.cfg, b.cfg.CorpID, now, bad)
		}, "", http.StatusBadRequest},
		{"wrong method", func() (string, string) { return SignedCallback(b.cfg, b.cfg.CorpID, now, tap) }, http.MethodPut, http.StatusMethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{}
			h := b.c.CallbackHandler(r)
			q, body := tc.build()
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, CallbackPath+"?"+q, strings.NewReader(body))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, tc.want, rec.Code, rec.Body.String())
			require.Zero(t, r.calls.Load(), "nothing reaches the router")
		})
	}
	// Nothing was remembered either: the genuine tap still goes through once.
	r := &recorder{}
	q, body := SignedCallback(b.cfg, b.cfg.CorpID, now, tap)
	require.Equal(t, http.StatusOK, post(b.c.CallbackHandler(r), q, body).Code)
	require.EqualValues(t, 1, r.calls.Load())
}

func TestURLVerificationRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	random := make([]byte, 16)
	_, _ = rand.Read(random)
	echo := "3141592653589793"
	enc := encryptRaw(t, b.cfg.EncodingAESKey, layout(echo, b.cfg.CorpID, len(echo), goodPad))
	ts := strconv.FormatInt(b.clk.Now().Unix(), 10)
	good := func() url.Values {
		return url.Values{"msg_signature": {b.c.crypto.signature(ts, "n1", enc)}, "timestamp": {ts}, "nonce": {"n1"}, "echostr": {enc}}
	}
	get := func(q url.Values) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		b.c.CallbackHandler(&recorder{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, CallbackPath+"?"+q.Encode(), nil))
		return rec
	}
	rec := get(good())
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, echo, rec.Body.String())

	// An unescaped "+" arrives as a space and is still accepted.
	raw := "msg_signature=" + good().Get("msg_signature") + "&timestamp=" + ts + "&nonce=n1&echostr=" + strings.ReplaceAll(enc, "=", "%3D")
	rec = httptest.NewRecorder()
	b.c.CallbackHandler(&recorder{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, CallbackPath+"?"+raw, nil))
	if strings.Contains(enc, "+") {
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, echo, rec.Body.String())
	}

	for name, mutate := range map[string]func(url.Values){
		"bad signature": func(q url.Values) { q.Set("msg_signature", strings.Repeat("0", 40)) },
		"stale":         func(q url.Values) { q.Set("timestamp", strconv.FormatInt(b.clk.Now().Add(-time.Hour).Unix(), 10)) },
		"no echostr":    func(q url.Values) { q.Del("echostr") },
	} {
		q := good()
		mutate(q)
		rec := get(q)
		require.GreaterOrEqual(t, rec.Code, 400, name)
		require.Less(t, rec.Code, 500, name)
		require.NotContains(t, rec.Body.String(), echo, name)
	}
}
