package feishu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher/callback"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/directory/contact"
	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/text"
)

// Callback headers Feishu signs requests with.
const (
	headerTimestamp = "X-Lark-Request-Timestamp"
	headerNonce     = "X-Lark-Request-Nonce"
	headerSignature = "X-Lark-Signature"
)

// Event types.
const (
	eventCardAction      = "card.action.trigger"
	typeURLVerification  = "url_verification"
	maxCallbackBodyBytes = 1 << 20
)

// callbackError is a refused callback: the HTTP status and a reason that
// is safe to log and to answer with (it never contains a secret).
type callbackError struct {
	status int
	reason string
}

// Error implements error.
func (e *callbackError) Error() string { return e.reason }

func unauthorized(format string, args ...any) error {
	return &callbackError{status: http.StatusUnauthorized, reason: fmt.Sprintf(format, args...)}
}

func malformed(format string, args ...any) error {
	return &callbackError{status: http.StatusBadRequest, reason: fmt.Sprintf(format, args...)}
}

// envelope is the JSON Feishu posts (after decryption): a url_verification
// challenge or a schema 2.0 event.
type envelope struct {
	Encrypt   string          `json:"encrypt"`
	Schema    string          `json:"schema"`
	Type      string          `json:"type"`
	Token     string          `json:"token"`
	Challenge string          `json:"challenge"`
	Header    *eventHeader    `json:"header"`
	Event     json.RawMessage `json:"event"`
}

type eventHeader struct {
	EventID    string `json:"event_id"`
	EventType  string `json:"event_type"`
	CreateTime string `json:"create_time"`
	Token      string `json:"token"`
	AppID      string `json:"app_id"`
	TenantKey  string `json:"tenant_key"`
}

// cardEvent is the event of a card.action.trigger (the SDK's model lacks
// operator.union_id, so the adapter reads the payload itself).
type cardEvent struct {
	Operator struct {
		OpenID  string `json:"open_id"`
		UserID  string `json:"user_id"`
		UnionID string `json:"union_id"`
	} `json:"operator"`
	Token  string `json:"token"`
	Action struct {
		Value *buttonValue `json:"value"`
		Tag   string       `json:"tag"`
	} `json:"action"`
	Context struct {
		OpenMessageID string `json:"open_message_id"`
		OpenChatID    string `json:"open_chat_id"`
	} `json:"context"`
}

// buttonValue is our callback button's value object as Feishu echoes it
// (callbackValue in card.go). A key is read when it is a string or a
// number; anything else counts as absent.
type buttonValue struct {
	Token  any `json:"token"`
	Action any `json:"action"`
	Value  any `json:"value"`
	Sent   any `json:"sent"`
	Lang   any `json:"lang"`
}

// cardEnvelope is a decrypted card.action.trigger decoded in one pass,
// its event straight into cardEvent: a tap's body is read once, not as an
// envelope and then again as its event.
type cardEnvelope struct {
	Encrypt string       `json:"encrypt"`
	Schema  string       `json:"schema"`
	Type    string       `json:"type"`
	Header  *eventHeader `json:"header"`
	Event   *cardEvent   `json:"event"`
}

// requestKind says what a verified callback asks for.
type requestKind int

const (
	kindChallenge requestKind = iota + 1
	kindCardAction
	kindOtherEvent
	kindContact // a 通讯录 change event (contactevent.go)
	kindMessage // a text message to the bot (chat.go)
)

// request is a verified, decrypted and parsed callback.
type request struct {
	kind      requestKind
	challenge string
	eventID   string
	eventType string
	at        time.Time // when Feishu says the event happened; zero if unknown
	card      *cardAction
	change    *contact.Change
	message   *inboundMessage
}

// cardAction is one button tap, with our button's value decoded.
type cardAction struct {
	openID, userID, unionID string
	messageID               string
	token, action, value    string
	sent                    time.Time   // when the card was sent; zero if unknown
	locale                  text.Locale // the recipient's language (valLang)
}

// validAction reports whether s is an action name: a lowercase letter,
// then up to 31 lowercase letters, digits or underscores.
func validAction(s string) bool {
	if len(s) == 0 || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if b := s[i]; (b < 'a' || b > 'z') && (b < '0' || b > '9') && b != '_' {
			return false
		}
	}
	return true
}

// parseHTTP verifies and parses an HTTP callback: signature (when an encrypt
// key is set) and timestamp first, then decryption, then the verification
// token, then the event. Only a url_verification may come unsigned.
func (c *Client) parseHTTP(h http.Header, body []byte, now time.Time) (*request, error) {
	if len(body) == 0 {
		return nil, malformed("empty body")
	}
	ts, nonce, sig := h.Get(headerTimestamp), h.Get(headerNonce), h.Get(headerSignature)
	signed := false
	if ts != "" {
		if err := c.checkSkew(ts, now); err != nil {
			return nil, err
		}
	}
	plain := body
	if key := c.cfg.EncryptKey; key != "" {
		if sig != "" {
			if ts == "" || nonce == "" {
				return nil, unauthorized("signature without timestamp or nonce")
			}
			if err := verifySignature(ts, nonce, key, body, sig); err != nil {
				return nil, unauthorized("%v", err)
			}
			signed = true
		}
		encrypted, ok := encryptField(body)
		if !ok {
			var outer struct {
				Encrypt string `json:"encrypt"`
			}
			if err := json.Unmarshal(body, &outer); err != nil {
				return nil, malformed("body is not JSON")
			}
			encrypted = outer.Encrypt
		}
		if encrypted == "" {
			return nil, malformed("callback is not encrypted but an encrypt key is configured")
		}
		p, err := decrypt(c.block, encrypted)
		if err != nil {
			return nil, malformed("%v", err)
		}
		plain = p
		if !signed {
			// Only the URL check may come unsigned: look no further
			// into anything else.
			var kind struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(plain, &kind) != nil || kind.Type != typeURLVerification {
				return nil, unauthorized("event without X-Lark-Signature")
			}
		}
	}
	return c.parseEnvelope(plain, now, true)
}

// encryptField reads the body Feishu posts with an encrypt key,
// {"encrypt":"<base64>"} exactly, without a JSON decoder: base64 needs no
// unescaping. ok is false for any other body, which is then decoded in
// full.
func encryptField(body []byte) (string, bool) {
	const prefix, suffix = `{"encrypt":"`, `"}`
	b := bytes.TrimSpace(body)
	if len(b) < len(prefix)+len(suffix) || !bytes.HasPrefix(b, []byte(prefix)) || !bytes.HasSuffix(b, []byte(suffix)) {
		return "", false
	}
	v := b[len(prefix) : len(b)-len(suffix)]
	// Any other byte that is not base64 fails the decoding later, as it
	// did when the field was read by a JSON decoder; only what JSON would
	// unescape or refuse, or what the base64 decoder would skip, is
	// left to the decoder here.
	if bytes.IndexByte(v, '"') >= 0 || bytes.IndexByte(v, '\\') >= 0 || bytes.IndexByte(v, '\n') >= 0 || bytes.IndexByte(v, '\r') >= 0 {
		return "", false
	}
	return string(v), true
}

// checkSkew rejects a timestamp (unix seconds) outside the allowed window.
func (c *Client) checkSkew(ts string, now time.Time) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return malformed("timestamp %q is not unix seconds", cut.Bytes(ts, 20))
	}
	d := now.Sub(time.Unix(sec, 0))
	if d < 0 {
		d = -d
	}
	if d > c.cfg.CallbackMaxSkew {
		return unauthorized("stale timestamp: %s from now", d.Round(time.Second))
	}
	return nil
}

// parseEnvelope parses a decrypted callback. requireToken says the
// verification token must be present (HTTP); over the authenticated long
// connection a missing token is accepted but a wrong one is not.
func (c *Client) parseEnvelope(plain []byte, now time.Time, requireToken bool) (*request, error) {
	if bytes.Contains(plain, []byte(`"`+eventCardAction+`"`)) {
		// Most likely a tap: decode it in one pass. Anything that is not
		// a well-formed card action after all takes the general path,
		// which also says what is wrong.
		var ce cardEnvelope
		if json.Unmarshal(plain, &ce) == nil && ce.Encrypt == "" && ce.Type != typeURLVerification && ce.Schema == "2.0" &&
			ce.Header != nil && ce.Header.EventType == eventCardAction && ce.Event != nil {
			req, err := c.eventRequest(ce.Header, now, requireToken)
			if err != nil {
				return nil, err
			}
			ca, err := cardActionOf(ce.Event)
			if err != nil {
				return nil, err
			}
			req.kind, req.card = kindCardAction, ca
			return req, nil
		}
	}
	var env envelope
	if err := json.Unmarshal(plain, &env); err != nil {
		return nil, malformed("callback is not JSON")
	}
	if env.Encrypt != "" {
		return nil, malformed("callback is encrypted but no encrypt key is configured")
	}
	if env.Type == typeURLVerification {
		if !equalSecret(env.Token, c.cfg.VerificationToken) {
			return nil, unauthorized("verification token mismatch")
		}
		if env.Challenge == "" || len(env.Challenge) > 256 {
			return nil, malformed("bad challenge")
		}
		return &request{kind: kindChallenge, challenge: env.Challenge}, nil
	}
	if env.Schema != "2.0" || env.Header == nil {
		return nil, malformed("unsupported callback: want an event of schema 2.0")
	}
	hd := env.Header
	req, err := c.eventRequest(hd, now, requireToken)
	if err != nil {
		return nil, err
	}
	if isContactEvent(hd.EventType) {
		ch, err := c.parseContactEvent(hd.EventID, hd.EventType, req.at, env.Event)
		if err != nil {
			return nil, err
		}
		req.kind, req.change = kindContact, ch
		return req, nil
	}
	if hd.EventType == eventMessageReceive {
		// A message event we cannot read is acknowledged like any other
		// event: sending it again would not make it readable.
		if m, err := parseMessageEvent(env.Event, now); err == nil {
			req.kind, req.message = kindMessage, m
		}
		return req, nil
	}
	if hd.EventType != eventCardAction {
		return req, nil
	}
	ca, err := parseCardEvent(env.Event)
	if err != nil {
		return nil, err
	}
	req.kind, req.card = kindCardAction, ca
	return req, nil
}

// eventRequest checks a schema 2.0 event's header (verification token,
// app, event id) and starts its request.
func (c *Client) eventRequest(hd *eventHeader, now time.Time, requireToken bool) (*request, error) {
	if (requireToken || hd.Token != "") && !equalSecret(hd.Token, c.cfg.VerificationToken) {
		return nil, unauthorized("verification token mismatch")
	}
	if hd.AppID != "" && hd.AppID != c.cfg.AppID {
		return nil, unauthorized("event for another app")
	}
	if hd.EventID == "" || len(hd.EventID) > 128 {
		return nil, malformed("missing event_id")
	}
	return &request{kind: kindOtherEvent, eventID: hd.EventID, eventType: hd.EventType, at: eventTime(hd.CreateTime, now)}, nil
}

// parseCardEvent decodes a card.action.trigger event and our button value.
func parseCardEvent(raw json.RawMessage) (*cardAction, error) {
	var ev cardEvent
	if len(raw) == 0 {
		return nil, malformed("card action without event")
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && strings.HasPrefix(te.Field, "action.value") {
			return nil, malformed("button value is not an object")
		}
		return nil, malformed("card action event is not an object")
	}
	return cardActionOf(&ev)
}

// cardActionOf checks a decoded card action event and our button value.
func cardActionOf(ev *cardEvent) (*cardAction, error) {
	if ev.Operator.OpenID == "" && ev.Operator.UserID == "" && ev.Operator.UnionID == "" {
		return nil, malformed("card action without operator")
	}
	v := ev.Action.Value
	if v == nil {
		return nil, malformed("button value is not an object")
	}
	ca := &cardAction{
		openID: ev.Operator.OpenID, userID: ev.Operator.UserID, unionID: ev.Operator.UnionID,
		messageID: ev.Context.OpenMessageID,
		token:     valueString(v.Token), action: valueString(v.Action), value: valueString(v.Value),
	}
	switch {
	case ca.token == "" || len(ca.token) > 4096:
		return nil, malformed("button value has no token")
	case !validAction(ca.action) || ca.action == bot.ActionLink:
		return nil, malformed("button value has no valid action")
	case len(ca.value) > 64:
		return nil, malformed("button value too long")
	}
	if s, err := strconv.ParseInt(valueString(v.Sent), 10, 64); err == nil && s > 0 {
		ca.sent = time.Unix(s, 0).UTC()
	}
	ca.locale = text.Parse(valueString(v.Lang))
	return ca, nil
}

// valueString is a button value's key as text: a string as it is, a
// number in its shortest form, anything else "".
func valueString(x any) string {
	switch x := x.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// eventTime reads header.create_time (Feishu sends milliseconds; seconds
// and microseconds are accepted) and keeps it only when plausible.
func eventTime(s string, now time.Time) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	var t time.Time
	switch {
	case n > 1e15:
		t = time.UnixMicro(n)
	case n > 1e12:
		t = time.UnixMilli(n)
	default:
		t = time.Unix(n, 0)
	}
	if t.After(now) || now.Sub(t) > 24*time.Hour {
		return time.Time{}
	}
	return t.UTC()
}

// CallbackHandler returns the HTTP handler for /callbacks/feishu (事件与回调
// → 回调配置 → 将回调发送至开发者服务器). It answers url_verification,
// acknowledges other events, and turns card.action.trigger into an
// Interaction for h, answering with a toast and the updated card.
func (c *Client) CallbackHandler(h bot.InteractionHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"msg": "POST only"})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBodyBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"msg": "body too large"})
				return
			}
			writeJSON(w, http.StatusBadRequest, map[string]string{"msg": "cannot read body"})
			return
		}
		req, err := c.parseHTTP(r.Header, body, c.now())
		if err != nil {
			status := http.StatusBadRequest
			var ce *callbackError
			if errors.As(err, &ce) {
				status = ce.status
			}
			c.log.WarnContext(r.Context(), "feishu callback refused", "status", status, "reason", err.Error(), "remote", r.RemoteAddr)
			writeJSON(w, status, map[string]string{"msg": err.Error()})
			return
		}
		switch req.kind {
		case kindChallenge:
			writeJSON(w, http.StatusOK, map[string]string{"challenge": req.challenge})
		case kindCardAction:
			writeAnswer(w, c.answerCard(r.Context(), h, req))
		case kindContact:
			c.answerContact(w, r, req)
		case kindMessage:
			if !c.takeMessage(r.Context(), h, req) {
				writeJSON(w, http.StatusInternalServerError, map[string]string{"msg": "try again"})
				return
			}
			writeJSON(w, http.StatusOK, map[string]string{})
		default:
			writeJSON(w, http.StatusOK, map[string]string{})
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeAnswer writes a tap's answer as Feishu reads it,
// {"toast":{…},"card":{"type":"raw","data":<card>}}, with the card's bytes
// as cardJSON made them: they are not validated and compacted again the
// way encoding/json treats a RawMessage. An answer of any other shape is
// encoded by encoding/json.
func writeAnswer(w http.ResponseWriter, resp *callback.CardActionTriggerResponse) {
	bp := answerBufs.Get().(*[]byte)
	defer answerBufs.Put(bp)
	b, ok := appendAnswer((*bp)[:0], resp)
	if !ok {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	if cap(b) <= maxAnswerBuf {
		*bp = b
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// answerBufs holds the buffers answers are written into; one that grew
// past maxAnswerBuf (a card near Feishu's 30 KB limit) is not kept.
var answerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxAnswerBuf = 64 << 10

// appendAnswer appends the JSON of resp to b; ok is false when resp holds
// something it does not write (i18n toasts, a card that is not raw JSON).
func appendAnswer(b []byte, resp *callback.CardActionTriggerResponse) ([]byte, bool) {
	b = append(b, '{')
	if t := resp.Toast; t != nil {
		if t.I18nContent != nil {
			return nil, false
		}
		b = append(b, `"toast":{`...)
		sep := false
		if t.Type != "" {
			b = kit.AppendJSONString(append(b, `"type":`...), t.Type)
			sep = true
		}
		if t.Content != "" {
			if sep {
				b = append(b, ',')
			}
			b = kit.AppendJSONString(append(b, `"content":`...), t.Content)
		}
		b = append(b, '}')
	}
	if cd := resp.Card; cd != nil {
		raw, isRaw := cd.Data.(json.RawMessage)
		if !isRaw || len(raw) == 0 || cd.Type == "" {
			return nil, false
		}
		if resp.Toast != nil {
			b = append(b, ',')
		}
		b = kit.AppendJSONString(append(b, `"card":{"type":`...), cd.Type)
		b = append(append(append(b, `,"data":`...), raw...), '}')
	}
	return append(b, '}', '\n'), true
}

// answerCard hands a tap to h once per event_id and builds the answer:
// a toast and, when the reply carries one, the updated card. A repeated
// event gets the first answer again without calling h.
func (c *Client) answerCard(ctx context.Context, h bot.InteractionHandler, req *request) *callback.CardActionTriggerResponse {
	ctx, cancel := context.WithTimeout(ctx, callbackBudget)
	defer cancel()
	resp, shared, err := c.seen.Do(ctx, req.eventID, func() (*callback.CardActionTriggerResponse, error) {
		resp, final := c.handleTap(ctx, h, req)
		if !final {
			return resp, errNotFinal
		}
		return resp, nil
	})
	if err != nil && shared {
		// The first delivery is still running, or failed: it answers the
		// person itself; this one only says to wait.
		return toastOnly("info", text.T(text.ZH, "adapters:busy"))
	}
	return resp
}

// errNotFinal marks an answer a retry may change (see handleTap): the
// event is not remembered.
var errNotFinal = errors.New("feishu: tap answer not final")

// handleTap runs one tap; the bool says whether the answer is final (false:
// a failure a retry may fix, so the event is not remembered).
func (c *Client) handleTap(ctx context.Context, h bot.InteractionHandler, req *request) (*callback.CardActionTriggerResponse, bool) {
	ca := req.card
	uid, err := c.operatorID(ctx, ca)
	if err != nil {
		c.log.WarnContext(ctx, "feishu tap: cannot resolve the user's id", "id_type", c.cfg.ReceiveIDType, "event", req.eventID, "err", err)
		return toastOnly("error", text.T(text.ZH, "adapters:who_failed")), false
	}
	in := bot.Interaction{
		Platform: bot.PlatformFeishu, UserID: uid, Action: ca.action, Value: ca.value, Token: ca.token,
		DedupKey: req.eventID, At: req.at, Source: "card",
	}
	reply, err := h.HandleInteraction(ctx, in)
	if err != nil {
		// Feishu does not redeliver card callbacks, over HTTP or the long
		// connection ("回调…不提供补推机制"): an error status would only
		// show Feishu's own error. Ask the person to tap again, leave the
		// card as it is, count it, and do not remember the event.
		c.log.WarnContext(ctx, "feishu tap not stored; asked the user to tap again", "event", req.eventID, "action", ca.action, "err", err)
		kit.CountStorageError(h, bot.PlatformFeishu, ca.action)
		return toastOnly("warning", text.T(ca.locale, "adapters:retry")), false
	}
	resp := &callback.CardActionTriggerResponse{}
	toastType := "success"
	switch {
	case !reply.OK:
		toastType = "warning"
	case reply.Duplicate:
		toastType = "info"
	}
	toast := reply.Toast
	if reply.Card != nil {
		switch age := c.now().Sub(ca.sent); {
		case !ca.sent.IsZero() && age > cardUpdateMaxAge:
			// Feishu refuses to update messages older than 14 days: say
			// so instead of answering with a card it would reject.
			toast = strings.TrimSpace(toast + " " + text.T(reply.Card.Locale, "adapters:too_old"))
			if toastType == "success" {
				toastType = "info"
			}
		default:
			sent := int64(0)
			if !ca.sent.IsZero() {
				sent = ca.sent.Unix()
			}
			raw, err := cardJSON(*reply.Card, sent)
			if err != nil {
				c.log.WarnContext(ctx, "feishu tap: updated card not sent", "event", req.eventID, "err", err)
			} else {
				// The answer carries the new card: Feishu puts it in
				// place of the tapped one.
				resp.Card = &callback.Card{Type: "raw", Data: json.RawMessage(raw)}
			}
			kit.CountUpdate(h, bot.PlatformFeishu, err)
		}
	}
	if toast != "" {
		resp.Toast = &callback.Toast{Type: toastType, Content: toast}
	}
	return resp, true
}

func toastOnly(typ, content string) *callback.CardActionTriggerResponse {
	return &callback.CardActionTriggerResponse{Toast: &callback.Toast{Type: typ, Content: content}}
}
