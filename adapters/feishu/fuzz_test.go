package feishu

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/learnloop/learnloop/bot"
)

// Fuzz modes: how the harness wraps the fuzzed body before parsing it.
const (
	fuzzRaw    = iota // body and headers as given, encrypt key configured
	fuzzPlain         // body as given, no encrypt key configured
	fuzzSealed        // body encrypted and correctly signed by the harness
)

// fuzzActionRE is what an accepted card action's action name must match.
var fuzzActionRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// FuzzParseCallback feeds arbitrary callbacks to the HTTP callback handler:
// raw (forged headers), plain (no encrypt key) and sealed (the harness
// encrypts and signs the fuzzed plaintext, so the parser behind the
// signature check is reached). It must never panic or answer 5xx, must not
// reach the router unless the verification token matched, and must hand
// the router only well-formed card actions.
func FuzzParseCallback(f *testing.F) {
	now := time.Unix(1772413200, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	valid := `{"schema":"2.0","header":{"event_id":"e1","token":"` + testVToken + `","create_time":"1772413200000","event_type":"card.action.trigger","app_id":"` + testAppID + `"},` +
		`"event":{"operator":{"open_id":"ou_1","user_id":"u1"},"action":{"tag":"button","value":{"token":"tok","action":"checkin","sent":"1772400000"}},"context":{"open_message_id":"om_1"}}}`
	f.Add(uint8(fuzzSealed), ts, "n", "", []byte(valid))
	f.Add(uint8(fuzzPlain), ts, "n", "", []byte(valid))
	f.Add(uint8(fuzzPlain), "", "", "", []byte(`{"challenge":"c","token":"`+testVToken+`","type":"url_verification"}`))
	f.Add(uint8(fuzzRaw), ts, "n", "00", []byte(`{"encrypt":"P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="}`))
	f.Add(uint8(fuzzSealed), ts, "n", "", []byte(`{"schema":"2.0","header":{"event_id":"e","token":"`+testVToken+`","event_type":"card.action.trigger"},"event":{"operator":{"open_id":"o"},"action":{"value":{"token":1e309,"action":"rate","value":3.5}}}}`))

	// open_id receivers: no contact lookups, the fuzzer stays in-process.
	c, err := New(Config{AppID: testAppID, AppSecret: testAppSecret, VerificationToken: testVToken, EncryptKey: testEncryptKey, ReceiveIDType: IDTypeOpenID, APIBase: "http://127.0.0.1:1"},
		WithNow(func() time.Time { return now }))
	if err != nil {
		f.Fatal(err)
	}
	plainC, err := New(Config{AppID: testAppID, AppSecret: testAppSecret, VerificationToken: testVToken, ReceiveIDType: IDTypeOpenID, APIBase: "http://127.0.0.1:1"},
		WithNow(func() time.Time { return now }))
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, mode uint8, tsHdr, nonce, sig string, body []byte) {
		client := c
		plaintext := body
		switch mode % 3 {
		case fuzzPlain:
			client = plainC
		case fuzzSealed:
			enc, err := Encrypt(body, testEncryptKey)
			if err != nil {
				t.Fatal(err)
			}
			body, _ = json.Marshal(map[string]string{"encrypt": enc})
			sig = Signature(tsHdr, nonce, testEncryptKey, body)
		}
		// Parser invariants.
		req, err := client.parseHTTP(http.Header{headerTimestamp: {tsHdr}, headerNonce: {nonce}, headerSignature: {sig}}, body, now)
		if err == nil {
			switch req.kind {
			case kindChallenge:
				if req.challenge == "" {
					t.Fatal("empty challenge accepted")
				}
			case kindCardAction, kindOtherEvent:
				var env envelope
				if mode%3 != fuzzRaw {
					if json.Unmarshal(plaintext, &env) != nil || env.Header == nil || env.Header.Token != testVToken {
						t.Fatalf("event accepted without the verification token: %q", plaintext)
					}
				}
				if req.eventID == "" {
					t.Fatal("event without id accepted")
				}
				if req.kind == kindCardAction && (req.card.token == "" || !fuzzActionRE.MatchString(req.card.action) || req.card.action == bot.ActionLink) {
					t.Fatalf("malformed card action accepted: %+v", req.card)
				}
			default:
				t.Fatalf("unknown kind %d", req.kind)
			}
		}
		// Handler invariants: never 5xx; the router only sees what parsed.
		called := 0
		h := bot.InteractionHandlerFunc(func(ctx context.Context, in bot.Interaction) (bot.Reply, error) {
			called++
			if in.Platform != bot.PlatformFeishu || in.Token == "" || in.UserID == "" {
				t.Fatalf("bad interaction %+v", in)
			}
			return bot.Reply{OK: true, Toast: "ok"}, nil
		})
		r := httptest.NewRequest(http.MethodPost, "/callbacks/feishu", bytes.NewReader(body))
		r.Header.Set(headerTimestamp, tsHdr)
		r.Header.Set(headerNonce, nonce)
		r.Header.Set(headerSignature, sig)
		rec := httptest.NewRecorder()
		client.CallbackHandler(h).ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Fatalf("status %d", rec.Code)
		}
		if rec.Code != http.StatusOK && called > 0 {
			t.Fatal("refused callback reached the router")
		}
		if called > 0 && (err != nil || req.kind != kindCardAction) {
			t.Fatal("router called for a callback the parser refused")
		}
	})
}
