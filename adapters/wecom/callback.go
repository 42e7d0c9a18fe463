package wecom

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/directory/contact"
)

const (
	// maxCallbackBody bounds a callback body; a template_card_event is well
	// under 4 KiB.
	maxCallbackBody = 64 << 10
	// handleTimeout bounds the router's work on one tap: WeCom waits 5 s
	// before it retries.
	handleTimeout = 4 * time.Second
	// failHold is how long after a callback arrived a tap that could not
	// be stored is answered. WeCom documents a retry only for a callback
	// it gets no answer to within 5 s (not for an error status), so the
	// failure is answered after that: WeCom has given up on this request
	// and will send the event again, up to 3 times.
	failHold = 5500 * time.Millisecond
)

// eventTemplateCard is the event of a tap on a template card.
const eventTemplateCard = "template_card_event"

// SourceCard is the Interaction.Source of a tap on a card.
const SourceCard = "card"

// errStale is a callback whose timestamp is outside the allowed window.
var errStale = errors.New("wecom: callback timestamp is missing or outside the allowed window")

// CallbackHandler returns the handler for the app's 接收消息 URL (mount it
// at CallbackPath). GET answers WeCom's URL verification with the decrypted
// echostr. POST verifies the signature and the timestamp, decrypts, checks
// the receive id, parses a template_card_event into a bot.Interaction and
// hands it to h once per event (WeCom retries up to 3 times). Anything that
// fails a check gets a 4xx and reaches nobody.
func (c *Client) CallbackHandler(h bot.InteractionHandler) http.Handler {
	return &callbackHandler{c: c, h: h, failHold: failHold}
}

type callbackHandler struct {
	c        *Client
	h        bot.InteractionHandler
	failHold time.Duration // see failHold
}

// ServeHTTP implements http.Handler.
func (cb *callbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		cb.verifyURL(w, r)
	case http.MethodPost:
		cb.event(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (cb *callbackHandler) reject(w http.ResponseWriter, r *http.Request, status int, err error) {
	cb.c.log.Info("wecom callback rejected", "method", r.Method, "status", status, "reason", err.Error(), "remote", r.RemoteAddr)
	http.Error(w, http.StatusText(status), status)
}

// verifyURL answers the URL check WeCom makes when the callback URL is
// saved: the plaintext of echostr, and nothing else, within 1 s.
func (cb *callbackHandler) verifyURL(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sig, ts, nonce, echo := q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), q.Get("echostr")
	if sig == "" || nonce == "" || echo == "" {
		cb.reject(w, r, http.StatusBadRequest, errors.New("missing msg_signature, nonce or echostr"))
		return
	}
	if err := cb.c.fresh(ts); err != nil {
		cb.reject(w, r, http.StatusBadRequest, err)
		return
	}
	err := cb.c.crypto.verify(sig, ts, nonce, echo)
	if err != nil && strings.Contains(echo, " ") {
		// An unescaped "+" in the query decodes to a space.
		if alt := strings.ReplaceAll(echo, " ", "+"); cb.c.crypto.verify(sig, ts, nonce, alt) == nil {
			echo, err = alt, nil
		}
	}
	if err != nil {
		cb.reject(w, r, http.StatusForbidden, err)
		return
	}
	plain, err := cb.c.crypto.decrypt(echo)
	if err != nil {
		cb.reject(w, r, http.StatusBadRequest, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(plain)
}

// event handles one encrypted POST.
func (cb *callbackHandler) event(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	buf, _ := cb.c.bodies.Get().(*bytes.Buffer)
	if buf == nil {
		buf = bytes.NewBuffer(make([]byte, 0, 2048))
	}
	defer cb.c.bodies.Put(buf)
	buf.Reset()
	// The parsed event holds copies: the buffer goes back when the
	// callback is answered.
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxCallbackBody)); err != nil {
		cb.reject(w, r, http.StatusRequestEntityTooLarge, fmt.Errorf("read body: %w", err))
		return
	}
	body := buf.Bytes()
	q := r.URL.Query()
	tp, ok, status, err := cb.c.openEvent(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), body)
	if err != nil {
		cb.reject(w, r, status, err)
		return
	}
	if !ok && tp.change != nil {
		cb.contactChange(w, r, start, *tp.change)
		return
	}
	if !ok && tp.text != nil {
		cb.textMessage(w, r, start, *tp.text)
		return
	}
	if !ok {
		// A verified callback that is not a tap on our card (another
		// event, a text message): acknowledge and drop it.
		w.WriteHeader(http.StatusOK)
		return
	}
	in := tp.in
	// A redelivery waits for the run in flight (WeCom re-sends after 5 s)
	// and shares its result, the same passive answer included; the run
	// itself is detached from the request.
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(r.Context()), handleTimeout+time.Second)
	ans, shared, err := cb.c.dedup.Do(wctx, in.DedupKey, func() (tapAnswer, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), handleTimeout)
		defer cancel()
		reply, err := cb.h.HandleInteraction(ctx, in)
		ans := tapAnswer{reply: reply}
		if err == nil && reply.Card != nil {
			ans.plain = cb.cardAnswer(in.UserID, *reply.Card)
		}
		return ans, err
	})
	wcancel()
	reply := ans.reply
	switch {
	case err != nil && shared:
		// The run it waited for failed (or is still running): like that
		// run, answer once WeCom has stopped waiting, so that it sends the
		// event again.
		cb.hold(r.Context(), start)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	case err != nil:
		// Never a silent success: the event is forgotten (the retry runs
		// afresh) and answered only once WeCom has stopped waiting, so
		// that WeCom retries it whatever it makes of an error status.
		cb.c.log.Warn("wecom tap not recorded; WeCom will retry", "user", in.UserID, "action", in.Action, "err", err)
		cb.hold(r.Context(), start)
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	case shared:
		cb.c.log.Debug("wecom callback redelivered; already handled", "user", in.UserID)
	default:
		cb.c.log.Info("wecom tap", "user", in.UserID, "action", in.Action, "ok", reply.OK, "duplicate", reply.Duplicate)
	}
	if ans.plain == nil {
		// An empty 200 tells WeCom to stop retrying.
		w.WriteHeader(http.StatusOK)
		return
	}
	// The tap is stored: the answer carries the card's update in place,
	// and its 200 stops WeCom's retries too.
	sealed, err := cb.c.sealPassive(ans.plain)
	if err != nil {
		cb.c.log.Error("wecom passive card update not sealed", "user", in.UserID, "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = w.Write(sealed)
}

// tapAnswer is one tap's outcome, shared by its redeliveries: the router's
// reply and the plain passive reply that applies its card (nil: none).
type tapAnswer struct {
	reply bot.Reply
	plain []byte
}

// cardAnswer is the plain passive reply that puts m in place of user's
// tapped card (path/90241), in the callback's own answer: no
// update_template_card call and no response_code on the tap path. A card
// that cannot be a WeCom update is logged and counted, and the tap is
// answered empty: it is already stored.
func (cb *callbackHandler) cardAnswer(user string, m bot.Message) []byte {
	up, err := cardUpdateOf(m)
	if err != nil {
		cb.c.log.Warn("wecom card update after a tap not built", "user", user, "err", err)
	}
	kit.CountUpdate(cb.h, bot.PlatformWeCom, err)
	if err != nil {
		return nil
	}
	return cb.c.passiveCard(user, up)
}

// hold waits until failHold has passed since start (or the request is
// gone).
func (cb *callbackHandler) hold(ctx context.Context, start time.Time) {
	t := time.NewTimer(max(cb.failHold-time.Since(start), 0))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// fresh checks a callback timestamp (seconds) against the allowed skew.
func (c *Client) fresh(ts string) error {
	if ts == "" || len(ts) > 12 || strings.TrimLeft(ts, "0123456789") != "" {
		return errStale
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errStale
	}
	d := c.now().Sub(time.Unix(sec, 0))
	if d > c.cfg.CallbackMaxSkew || d < -c.cfg.CallbackMaxSkew {
		return errStale
	}
	return nil
}

// envelope is the outer callback body: XML (apps) or JSON.
type envelope struct {
	XMLName    xml.Name `xml:"xml" json:"-"`
	ToUserName string   `xml:"ToUserName" json:"tousername"`
	Encrypt    string   `xml:"Encrypt" json:"encrypt"`
	AgentID    string   `xml:"AgentID" json:"agentid"`
}

// event is a decrypted callback (path/90240).
type event struct {
	XMLName       xml.Name      `xml:"xml" json:"-"`
	ToUserName    string        `xml:"ToUserName" json:"ToUserName"`
	FromUserName  string        `xml:"FromUserName" json:"FromUserName"`
	CreateTime    int64         `xml:"CreateTime" json:"CreateTime"`
	MsgType       string        `xml:"MsgType" json:"MsgType"`
	Event         string        `xml:"Event" json:"Event"`
	EventKey      string        `xml:"EventKey" json:"EventKey"`
	TaskID        string        `xml:"TaskId" json:"TaskId"`
	CardType      string        `xml:"CardType" json:"CardType"`
	ResponseCode  string        `xml:"ResponseCode" json:"ResponseCode"`
	AgentID       int64         `xml:"AgentID" json:"AgentID"`
	SelectedItems selectedItems `xml:"SelectedItems" json:"SelectedItems"`
}

type selectedItems struct {
	Items []selectedItem `xml:"SelectedItem" json:"SelectedItem"`
}

// selectedItem is one answered question. WeCom's documentation spells the
// option list OptionIds/OptionId; its official callback sample and at
// least one maintained SDK spell it OpitonIds/OpitonId. Both are read, in
// any combination.
type selectedItem struct {
	QuestionKey string    `xml:"QuestionKey" json:"QuestionKey"`
	OptionIDs   optionIDs `xml:"OptionIds" json:"OptionIds"`
	OpitonIDs   optionIDs `xml:"OpitonIds" json:"OpitonIds"`
}

type optionIDs struct {
	IDs    []string `xml:"OptionId" json:"OptionId"`
	Opiton []string `xml:"OpitonId" json:"OpitonId"`
}

// options returns the chosen option ids under either spelling, each once.
func (it selectedItem) options() []string {
	var out []string
	for _, l := range [][]string{it.OptionIDs.IDs, it.OptionIDs.Opiton, it.OpitonIDs.IDs, it.OpitonIDs.Opiton} {
		for _, id := range l {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

// tap is a parsed tap: the interaction for the router and the callback's
// response_code (the passive answer needs none; see cardAnswer).
type tap struct {
	in           bot.Interaction
	responseCode string
	// change is a 通讯录 change_contact event instead (ok false).
	change *contact.Change
	// text is a text message instead (ok false; see chat.go).
	text *bot.InboundText
}

// openEvent verifies, decrypts and parses one POST. ok is false for a
// verified callback that is not a tap on one of our cards. On error, status
// is the HTTP status to answer.
func (c *Client) openEvent(sig, ts, nonce string, body []byte) (tp tap, ok bool, status int, err error) {
	var env envelope
	if err := decode(body, &env); err != nil || env.Encrypt == "" {
		return tp, false, http.StatusBadRequest, errors.New("wecom: callback body has no Encrypt")
	}
	if sig == "" || nonce == "" {
		return tp, false, http.StatusBadRequest, errors.New("wecom: callback has no msg_signature or nonce")
	}
	if err := c.fresh(ts); err != nil {
		return tp, false, http.StatusBadRequest, err
	}
	if err := c.crypto.verify(sig, ts, nonce, env.Encrypt); err != nil {
		return tp, false, http.StatusForbidden, err
	}
	plain, err := c.crypto.decrypt(env.Encrypt)
	if err != nil {
		return tp, false, http.StatusBadRequest, err
	}
	tp, ok, err = c.parseEvent(plain)
	if err != nil {
		return tap{}, false, http.StatusBadRequest, err
	}
	return tp, ok, http.StatusOK, nil
}

// decode reads XML or JSON, whichever body is (flat XML without
// encoding/xml: see decodeFlat).
func decode(body []byte, v any) error {
	b := bytes.TrimSpace(body)
	if len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, v)
	}
	if decodeFlat(b, v) {
		return nil
	}
	return xml.Unmarshal(b, v)
}

// parseEvent turns a decrypted callback into a tap. ok is false
// for events that are not taps on our cards (other events, messages, other
// apps' agent ids, keys we did not write).
func (c *Client) parseEvent(plain []byte) (tap, bool, error) {
	var ev event
	if err := decode(plain, &ev); err != nil {
		return tap{}, false, errors.New("wecom: decrypted callback is not a WeCom message")
	}
	if ev.MsgType == "event" && ev.Event == eventChangeContact {
		ch, err := c.parseContactChange(plain, ev.CreateTime)
		if err != nil || ch == nil {
			return tap{}, false, err
		}
		return tap{change: ch}, false, nil
	}
	if ev.MsgType == "text" {
		in, ok, err := c.parseText(plain, ev)
		if err != nil || !ok {
			return tap{}, false, err
		}
		return tap{text: &in}, false, nil
	}
	if ev.MsgType != "event" || ev.Event != eventTemplateCard {
		return tap{}, false, nil
	}
	if ev.AgentID != 0 && ev.AgentID != c.cfg.AgentID {
		return tap{}, false, nil
	}
	action, value, token, err := decodeKey(ev.EventKey)
	if errors.Is(err, errNotOurs) {
		return tap{}, false, nil
	}
	if err != nil {
		return tap{}, false, fmt.Errorf("wecom: template_card_event: %w", err)
	}
	if ev.FromUserName == "" || len(ev.FromUserName) > 64 {
		return tap{}, false, errors.New("wecom: template_card_event has no valid FromUserName")
	}
	if value == "" && action != bot.ActionCheckin {
		// A vote card: the value is the one option chosen.
		for _, it := range ev.SelectedItems.Items {
			if it.QuestionKey != questionKey {
				continue
			}
			ids := it.options()
			if len(ids) != 1 || !isOptionID(ids[0]) {
				return tap{}, false, errors.New("wecom: template_card_event must select exactly one option")
			}
			value = ids[0]
		}
		if value == "" {
			return tap{}, false, errors.New("wecom: template_card_event selects nothing")
		}
	}
	if len(ev.ResponseCode) > 255 {
		return tap{}, false, errors.New("wecom: template_card_event response code is too long")
	}
	in := bot.Interaction{
		Platform: bot.PlatformWeCom, UserID: ev.FromUserName, Action: action, Value: value, Token: token,
		Source: SourceCard, DedupKey: dedupKey(ev, value),
	}
	if ev.CreateTime > 0 {
		in.At = time.Unix(ev.CreateTime, 0).UTC()
	}
	return tap{in: in, responseCode: ev.ResponseCode}, true, nil
}

// dedupKey identifies one tap across WeCom's redeliveries: events carry no
// MsgId, so it is who, when, which card, which button and what choice.
func dedupKey(ev event, value string) string {
	h := sha256.New()
	for _, s := range []string{ev.FromUserName, strconv.FormatInt(ev.CreateTime, 10), ev.TaskID, ev.EventKey, value} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "wecom:" + hex.EncodeToString(h.Sum(nil)[:16])
}
