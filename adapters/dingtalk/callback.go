package dingtalk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/learnloop/learnloop/bot"
)

// HTTP callback limits.
const (
	maxCallbackBody = 64 << 10
	// replyBudget is how long a tap may take before the handler stops
	// waiting; DingTalk wants the answer within 1.5 s.
	replyBudget = 1200 * time.Millisecond
)

// More callback errors (see also ErrBadSignature, ErrBadPayload, ErrWrongOwner).
var (
	ErrBadRequest = errors.New("callback request is malformed")
	ErrStale      = errors.New("callback timestamp outside the allowed window")
)

// event is a decrypted HTTP callback.
type event struct {
	Type  string // EventType, "card_callback" for card taps
	Tap   cardTap
	Plain []byte
}

// openCallback verifies, checks the timestamp of and decrypts an HTTP
// callback. Nothing in the request is trusted before the signature matches.
func (c *Client) openCallback(q url.Values, body []byte) ([]byte, error) {
	sig := q.Get("msg_signature")
	if sig == "" {
		sig = q.Get("signature")
	}
	ts := q.Get("timestamp")
	if ts == "" {
		ts = q.Get("timeStamp")
	}
	nonce := q.Get("nonce")
	if sig == "" || ts == "" || nonce == "" || len(sig) > 128 || len(ts) > 32 || len(nonce) > 128 {
		return nil, ErrBadRequest
	}
	var env struct {
		Encrypt string `json:"encrypt"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Encrypt == "" {
		return nil, ErrBadRequest
	}
	if !verifySignature(c.cfg.CallbackToken, ts, nonce, env.Encrypt, sig) {
		return nil, ErrBadSignature
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n <= 0 {
		return nil, ErrBadRequest
	}
	at := time.Unix(n, 0)
	if n > 1e11 { // milliseconds (DingTalk's unit)
		at = time.UnixMilli(n)
	}
	if d := c.now().Sub(at); d > c.cfg.CallbackMaxSkew || d < -c.cfg.CallbackMaxSkew {
		return nil, ErrStale
	}
	return decrypt(c.aesKey, env.Encrypt, c.cfg.AppKey)
}

// parseEvent reads a decrypted HTTP event: a card tap (a card callback
// body) or any other event type.
func parseEvent(plain []byte) (event, error) {
	var head struct {
		EventType  string `json:"EventType"`
		OutTrackID string `json:"outTrackId"`
	}
	if err := json.Unmarshal(plain, &head); err != nil {
		return event{}, ErrBadPayload
	}
	ev := event{Type: head.EventType, Plain: plain}
	if head.OutTrackID != "" {
		tap, err := parseCardCallback(plain)
		if err != nil {
			return event{}, err
		}
		ev.Type, ev.Tap = "card_callback", tap
	}
	return ev, nil
}

// CallbackHandler serves DingTalk's HTTP event subscription
// (/callbacks/dingtalk): it verifies the signature, rejects stale
// timestamps, decrypts (the owner key must be the app key), answers
// check_url and other events with the encrypted "success", and hands card
// taps to h. Bad input gets a 4xx and records nothing.
func (c *Client) CallbackHandler(h bot.InteractionHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if c.aesKey == nil {
			http.Error(w, "dingtalk http callbacks are not configured", http.StatusNotFound)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxCallbackBody+1))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		if len(body) > maxCallbackBody {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		plain, err := c.openCallback(r.URL.Query(), body)
		if err != nil {
			status := http.StatusBadRequest
			switch {
			case errors.Is(err, ErrBadSignature), errors.Is(err, ErrStale):
				status = http.StatusUnauthorized
			case errors.Is(err, ErrWrongOwner):
				status = http.StatusForbidden
			}
			c.log.Warn("dingtalk callback rejected", "err", err, "remote", r.RemoteAddr)
			http.Error(w, err.Error(), status)
			return
		}
		ev, err := parseEvent(plain)
		if err != nil {
			c.log.Warn("dingtalk callback rejected", "err", err)
			http.Error(w, "malformed event", http.StatusBadRequest)
			return
		}
		if ev.Type == "card_callback" {
			if !c.tapHTTP(r.Context(), h, ev, start) {
				// Not stored yet: no "success", so DingTalk retries; the
				// retry joins the run in flight.
				http.Error(w, "busy, retry", http.StatusServiceUnavailable)
				return
			}
		} else if ev.Type != "check_url" {
			c.log.Debug("dingtalk event ignored", "type", ev.Type)
		}
		c.replySuccess(w)
	})
}

// tapHTTP processes a tap and reports whether it was stored within the
// reply budget. Work not finished by then continues (bounded by
// tapTimeout) so that DingTalk's retry finds it done.
func (c *Client) tapHTTP(ctx context.Context, h bot.InteractionHandler, ev event, start time.Time) bool {
	sum := sha256.Sum256(ev.Plain)
	key := "http:" + hex.EncodeToString(sum[:16])
	done := make(chan error, 1)
	dctx := context.WithoutCancel(ctx)
	go func() {
		_, _, err := c.seen.Do(dctx, key, func() (tapResult, error) {
			return c.handleTap(dctx, h, ev.Tap, key, time.Time{}, false)
		})
		done <- err
	}()
	t := time.NewTimer(max(replyBudget-time.Since(start), 0))
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			c.log.Warn("dingtalk card callback failed; DingTalk will retry", "err", err)
			return false
		}
		return true
	case <-t.C:
		c.log.Warn("dingtalk card callback slower than the reply budget; answering without success", "budget", replyBudget)
		return false
	}
}

// replySuccess writes the encrypted "success" answer.
func (c *Client) replySuccess(w http.ResponseWriter) {
	ts := strconv.FormatInt(c.now().UnixMilli(), 10)
	nonce := randomNonce()
	enc, err := encrypt(c.aesKey, []byte("success"), c.cfg.AppKey)
	if err != nil {
		http.Error(w, "encrypt reply", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"msg_signature": signature(c.cfg.CallbackToken, ts, nonce, enc),
		"timeStamp":     ts,
		"nonce":         nonce,
		"encrypt":       enc,
	})
}

func randomNonce() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b [8]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}
