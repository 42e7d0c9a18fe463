package dingtalk

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"
)

// FuzzCallback drives the HTTP callback parser (signature, timestamp,
// decryption, owner check, event and card-tap parsing) with arbitrary
// requests. With sign set the fuzzer's body is signed correctly, so that it
// reaches the decryption and parsing behind the signature check. The seed
// corpus (testdata/fuzz/FuzzCallback) holds the published vector.
func FuzzCallback(f *testing.F) {
	v := loadVector(f)
	f.Add(false, v.Timestamp, v.Nonce, v.MsgSignature, []byte(`{"encrypt":"`+v.Encrypt+`"}`))
	f.Add(true, v.Timestamp, v.Nonce, "", []byte(`{"encrypt":"`+v.Encrypt+`"}`))
	f.Add(true, v.Timestamp, v.Nonce, "", []byte(`{"encrypt":""}`))
	f.Add(true, "-1", "n", "", []byte(`{"encrypt":"AAAA"}`))
	c, err := New(Config{
		AppKey: v.Owner, AppSecret: "s", CardTemplateID: "tpl", CallbackMode: ModeHTTP,
		CallbackToken: v.Token, CallbackAESKey: v.AESKey,
	}, WithNow(func() time.Time { return v.at() }), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sign bool, ts, nonce, sig string, body []byte) {
		if sign {
			var env struct {
				Encrypt string `json:"encrypt"`
			}
			if json.Unmarshal(body, &env) == nil {
				sig = signature(v.Token, ts, nonce, env.Encrypt)
			}
		}
		q := url.Values{"signature": {sig}, "timestamp": {ts}, "nonce": {nonce}}
		plain, err := c.openCallback(q, body)
		if err != nil {
			if plain != nil {
				t.Fatalf("error %v with a payload", err)
			}
			return
		}
		ev, err := parseEvent(plain)
		if err != nil {
			return
		}
		if ev.Type == "card_callback" {
			checkTap(t, ev.Tap)
		}
	})
}

// FuzzParseEvent drives the decrypted-event and card-callback parser (also
// used for Stream frames) with arbitrary plaintext.
func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"EventType":"check_url"}`))
	f.Add([]byte(`{"outTrackId":"ll-1-0-1","userId":"dt001","userIdType":1,"content":"{\"cardPrivateData\":{\"actionIds\":[\"checkin\"],\"params\":{\"action\":\"checkin\",\"token\":\"abc\",\"value\":\"\"}}}"}`))
	f.Add([]byte(`{"outTrackId":"ll-1-0-1","userId":"dt001","content":"{\"cardPrivateData\":{\"params\":{\"action\":\"nps\",\"token\":\"abc\",\"value\":10}}}"}`))
	f.Add([]byte(`{"outTrackId":"x","userId":"u","content":"{\"cardPrivateData\":{\"params\":null}}"}`))
	f.Fuzz(func(t *testing.T, plain []byte) {
		ev, err := parseEvent(plain)
		if err != nil {
			return
		}
		if ev.Type == "card_callback" {
			checkTap(t, ev.Tap)
		}
		if tap, err := parseCardCallback(plain); err == nil {
			checkTap(t, tap)
		}
	})
}

func checkTap(t *testing.T, tap cardTap) {
	t.Helper()
	switch {
	case tap.Token == "" || len(tap.Token) > maxTokenLen:
		t.Fatalf("accepted token of length %d", len(tap.Token))
	case tap.OutTrackID == "" || tap.UserID == "":
		t.Fatalf("accepted tap without card or user: %+v", tap)
	case len(tap.Action) > 64 || len(tap.Value) > 64:
		t.Fatalf("accepted oversized action/value: %+v", tap)
	}
}
