// Package wecomtest is the one fake WeCom (企业微信) server API of the
// tests: it checks what the real API checks for the calls learnloop makes
// (gettoken, message/send with template cards and texts, message/
// update_template_card, agent/get), records what it accepted, and reads a
// card callback's passive answer as WeCom does (Answer). The adapter's
// tests serve it in process (adapters/wecom's FakeWeCom adds scripted
// faults and the schedule API); the chaos suite runs it as a process of its
// own (chaos/fakewecom adds fault modes switched at run time and counts).
//
// It imports nothing of learnloop: it knows WeCom's API, not the adapter's
// types, so a card the adapter builds wrongly is refused here.
package wecomtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// WeCom errcodes the fake answers with, as the real API does.
const (
	CodeInvalidSecret   = 40001 // invalid credential
	CodeInvalidMsgType  = 40008
	CodeInvalidCorpID   = 40013
	CodeInvalidToken    = 40014
	CodeInvalidButtons  = 40016
	CodeInvalidKey      = 40019
	CodeUserListLength  = 40032
	CodeInvalidAgent    = 40056
	CodeInvalidParam    = 40058
	CodeUsedRespCode    = 40099 // the fake's own: WeCom's code for a spent response_code is not published
	CodeTokenMissing    = 41001
	CodeCorpIDMissing   = 41002
	CodeSecretMissing   = 41004
	CodeTokenExpired    = 42001
	CodeTaskIDExists    = 42014
	CodeFreqLimit       = 45009
	CodeDataFormat      = 47001
	CodeAgentForbidden  = 301002
	CodeAllInvalidUsers = 81013
)

// UsedRespCodeMsg is the errmsg that goes with CodeUsedRespCode.
const UsedRespCodeMsg = "invalid response_code, hint: [fake]"

// WeCom's limits the fake applies.
const (
	// TokenTTL is how long an access token lives.
	TokenTTL = 7200 * time.Second
	// PerMemberMinute and PerMemberHour are the messages an app may send
	// one member in a minute and in an hour; WeCom accepts more and drops
	// them silently (Card.Dropped).
	PerMemberMinute = 30
	PerMemberHour   = 1000
	maxRecipients   = 1000
	maxTextBytes    = 2048
	maxBody         = 1 << 20
)

var userIDChars = regexp.MustCompile(`^[0-9A-Za-z_\-.@]{1,64}$`)

// Config is what the fake corp looks like.
type Config struct {
	CorpID  string
	Secret  string
	AgentID int64
	// Members are the corp's userids (case does not matter); with
	// AnyMember every well-formed userid is a member.
	Members   []string
	AnyMember bool
	// Now is the fake's clock (token expiry, per-member limits, Card.At);
	// nil is time.Now.
	Now func() time.Time
}

// Card is one template card (or text) the fake accepted for one member.
type Card struct {
	Seq      int    `json:"seq"`
	ToUser   string `json:"touser"` // lower case
	MsgType  string `json:"msgtype"`
	CardType string `json:"card_type,omitempty"`
	Title    string `json:"title,omitempty"` // main_title.title
	TaskID   string `json:"task_id,omitempty"`
	// Keys are the card's callback keys (type 0 buttons, submit_button).
	Keys         []string `json:"keys,omitempty"`
	ResponseCode string   `json:"response_code,omitempty"`
	Text         string   `json:"text,omitempty"` // a text message's content
	// Held is set when the request was held by a fault before it was
	// processed (WithHeld): the client may have given up, WeCom delivered.
	Held bool `json:"held,omitempty"`
	// Dropped is set when WeCom would have silently dropped it (over
	// PerMemberMinute or PerMemberHour).
	Dropped bool      `json:"dropped,omitempty"`
	At      time.Time `json:"at"`
	// Message is the whole request body, Template its template_card.
	Message  json.RawMessage `json:"-"`
	Template json.RawMessage `json:"-"`
}

// Update is one accepted card update: an update_template_card call, or
// (Passive) a callback's passive answer read by Answer.
type Update struct {
	UserIDs      []string
	ResponseCode string
	ReplaceName  string          // update_button / button.replace_name
	Template     json.RawMessage // the whole card, in the API's JSON
	Passive      bool
}

// Server is the fake WeCom API; it is an http.Handler for /cgi-bin/….
type Server struct {
	cfg Config
	mux *http.ServeMux

	mu        sync.Mutex
	members   map[string]bool
	tokens    map[string]time.Time // token → expiry
	taskIDs   map[string]bool
	codes     map[string]bool // response_code → spent
	cards     []Card
	updates   []Update
	errcodes  []int64 // every non-zero errcode answered, in order
	getTokens int
	seq       int
	sentAt    map[string][]time.Time // member → sends in the last hour
}

// New returns a fake for cfg.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		cfg: cfg, members: map[string]bool{}, tokens: map[string]time.Time{}, taskIDs: map[string]bool{},
		codes: map[string]bool{}, sentAt: map[string][]time.Time{},
	}
	for _, m := range cfg.Members {
		s.members[strings.ToLower(m)] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/cgi-bin/gettoken", s.gettoken)
	mux.HandleFunc("/cgi-bin/message/send", s.WithToken(s.send))
	mux.HandleFunc("/cgi-bin/message/update_template_card", s.WithToken(s.update))
	mux.HandleFunc("/cgi-bin/agent/get", s.WithToken(s.agentGet))
	s.mux = mux
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// RandHex returns n random bytes in hex.
func RandHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Reply answers v as WeCom's JSON (errmsg "ok" unless v has one) and
// records a non-zero errcode.
func (s *Server) Reply(w http.ResponseWriter, v map[string]any) {
	if code := errcodeOf(v["errcode"]); code != 0 {
		s.mu.Lock()
		s.errcodes = append(s.errcodes, code)
		s.mu.Unlock()
	}
	if _, ok := v["errmsg"]; !ok {
		v["errmsg"] = "ok"
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}

func errcodeOf(v any) int64 {
	switch c := v.(type) {
	case int:
		return int64(c)
	case int64:
		return c
	}
	return 0
}

// Fail answers errcode code with msg.
func (s *Server) Fail(w http.ResponseWriter, code int64, msg string) {
	s.Reply(w, map[string]any{"errcode": code, "errmsg": msg})
}

// IsMember reports whether id is a member of the corp.
func (s *Server) IsMember(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isMemberLocked(id)
}

func (s *Server) isMemberLocked(id string) bool {
	return userIDChars.MatchString(id) && (s.cfg.AnyMember || s.members[strings.ToLower(id)])
}

// AddMember makes id a member.
func (s *Server) AddMember(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[strings.ToLower(id)] = true
}

// Expire expires an access token, as WeCom does before its time when it
// answers 42001.
func (s *Server) Expire(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tokens[token]; ok {
		s.tokens[token] = time.Time{}
	}
}

// IssueResponseCode registers a response_code as WeCom puts one in each
// card callback.
func (s *Server) IssueResponseCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newCodeLocked("cb")
}

func (s *Server) newCodeLocked(kind string) string {
	s.seq++
	code := fmt.Sprintf("rc-%s-%d-%s", kind, s.seq, RandHex(8))
	s.codes[code] = false
	return code
}

// Cards returns the accepted messages from the from-th on.
func (s *Server) Cards(from int) []Card {
	s.mu.Lock()
	defer s.mu.Unlock()
	if from >= len(s.cards) {
		return nil
	}
	return append([]Card(nil), s.cards[from:]...)
}

// Updates returns the accepted card updates.
func (s *Server) Updates() []Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Update(nil), s.updates...)
}

// Errcodes returns every non-zero errcode the fake answered, in order.
func (s *Server) Errcodes() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.errcodes...)
}

// GetTokens returns how many tokens were issued.
func (s *Server) GetTokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.getTokens
}

// Tokens returns every token issued.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.tokens))
	for t := range s.tokens {
		out = append(out, t)
	}
	return out
}

// TaskIDs returns how many distinct task_ids were accepted.
func (s *Server) TaskIDs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.taskIDs)
}

func (s *Server) gettoken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	switch {
	case q.Get("corpid") == "":
		s.Fail(w, CodeCorpIDMissing, "corpid missing")
	case q.Get("corpid") != s.cfg.CorpID:
		s.Fail(w, CodeInvalidCorpID, "invalid corpid")
	case q.Get("corpsecret") == "":
		s.Fail(w, CodeSecretMissing, "corpsecret missing")
	case q.Get("corpsecret") != s.cfg.Secret:
		// WeCom does not echo the secret, but a proxy might: the client
		// must redact whatever comes back.
		s.Fail(w, CodeInvalidSecret, "invalid credential, request "+r.URL.String())
	default:
		s.mu.Lock()
		s.getTokens++
		tok := fmt.Sprintf("at-%d-%s", s.getTokens, RandHex(12))
		s.tokens[tok] = s.cfg.Now().Add(TokenTTL)
		s.mu.Unlock()
		s.Reply(w, map[string]any{"errcode": 0, "access_token": tok, "expires_in": int(TokenTTL / time.Second)})
	}
}

// WithToken checks a call's access token (missing 41001, unknown 40014,
// expired 42001) and that a POST's body is JSON before next.
func (s *Server) WithToken(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("access_token")
		s.mu.Lock()
		exp, known := s.tokens[tok]
		s.mu.Unlock()
		switch {
		case tok == "":
			s.Fail(w, CodeTokenMissing, "access_token missing")
			return
		case !known:
			s.Fail(w, CodeInvalidToken, "invalid access_token")
			return
		case !s.cfg.Now().Before(exp):
			s.Fail(w, CodeTokenExpired, "access_token expired")
			return
		}
		if r.Method == http.MethodPost && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			s.Fail(w, CodeInvalidParam, "content type is not json")
			return
		}
		next(w, r)
	}
}

// AgentOK reports whether a call's agentid is the app's.
func (s *Server) AgentOK(agentID json.Number) bool {
	return agentID.String() == strconv.FormatInt(s.cfg.AgentID, 10)
}

func (s *Server) agentGet(w http.ResponseWriter, r *http.Request) {
	if !s.AgentOK(json.Number(r.URL.Query().Get("agentid"))) {
		s.Fail(w, CodeAgentForbidden, "api forbidden for the agentid")
		return
	}
	s.Reply(w, map[string]any{"errcode": 0, "agentid": s.cfg.AgentID, "name": "learnloop", "close": 0})
}

// readCall reads a message call's JSON body into v and checks its agentid;
// it answers WeCom's refusal (40058, 40056) and returns false when either
// is wrong.
func (s *Server) readCall(w http.ResponseWriter, r *http.Request, v any) ([]byte, bool) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		s.Fail(w, CodeInvalidParam, "cannot read body")
		return nil, false
	}
	var app struct {
		AgentID json.Number `json:"agentid"`
	}
	if json.Unmarshal(raw, v) != nil || json.Unmarshal(raw, &app) != nil {
		s.Fail(w, CodeInvalidParam, "Warning: wrong json format")
		return nil, false
	}
	if !s.AgentOK(app.AgentID) {
		s.Fail(w, CodeInvalidAgent, "invalid agentid")
		return nil, false
	}
	return raw, true
}

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ToUser       string          `json:"touser"`
		MsgType      string          `json:"msgtype"`
		TemplateCard json.RawMessage `json:"template_card"`
		Text         *struct {
			Content string `json:"content"`
		} `json:"text"`
	}
	raw, ok := s.readCall(w, r, &body)
	if !ok {
		return
	}
	to := strings.Split(body.ToUser, "|")
	if body.ToUser == "" || len(to) > maxRecipients {
		s.Fail(w, CodeUserListLength, "invalid userid list length")
		return
	}
	c := Card{MsgType: body.MsgType, Message: raw, Held: isHeld(r.Context())}
	switch body.MsgType {
	case "template_card":
		var code int64
		var msg string
		var tc card
		if tc, code, msg = checkCard(body.TemplateCard); code != 0 {
			s.Fail(w, code, msg)
			return
		}
		c.CardType, c.TaskID, c.Keys, c.Template = tc.CardType, tc.TaskID, tc.keys(), body.TemplateCard
		if tc.MainTitle != nil {
			c.Title = tc.MainTitle.Title
		}
	case "text":
		if body.Text == nil || body.Text.Content == "" || len(body.Text.Content) > maxTextBytes {
			s.Fail(w, CodeInvalidParam, "invalid text content")
			return
		}
		c.Text = body.Text.Content
	default:
		s.Fail(w, CodeInvalidMsgType, "invalid message type")
		return
	}
	s.mu.Lock()
	if c.TaskID != "" && s.taskIDs[c.TaskID] {
		s.mu.Unlock()
		s.Fail(w, CodeTaskIDExists, "taskid has existed or empty or exceed max len")
		return
	}
	var invalid, valid []string
	for _, u := range to {
		if !s.isMemberLocked(u) {
			invalid = append(invalid, strings.ToLower(u))
			continue
		}
		valid = append(valid, strings.ToLower(u))
	}
	if len(valid) == 0 {
		s.mu.Unlock()
		s.Reply(w, map[string]any{"errcode": CodeAllInvalidUsers, "errmsg": "all users invalid", "invaliduser": strings.Join(invalid, "|")})
		return
	}
	if len(c.Keys) > 0 {
		c.ResponseCode = s.newCodeLocked("send")
	}
	if c.TaskID != "" {
		s.taskIDs[c.TaskID] = true
	}
	c.At = s.cfg.Now()
	for _, u := range valid {
		c := c
		c.Seq, c.ToUser, c.Dropped = len(s.cards), u, s.overLimitLocked(u, c.At)
		s.cards = append(s.cards, c)
	}
	s.mu.Unlock()
	s.Reply(w, map[string]any{"errcode": 0, "invaliduser": strings.Join(invalid, "|"), "msgid": "msg-" + RandHex(6), "response_code": c.ResponseCode})
}

// overLimitLocked records a send to u at now and reports whether it is
// over the per-member limits (WeCom drops it).
func (s *Server) overLimitLocked(u string, now time.Time) bool {
	kept := s.sentAt[u][:0]
	inMinute := 0
	for _, t := range s.sentAt[u] {
		if now.Sub(t) < time.Hour {
			kept = append(kept, t)
			if now.Sub(t) < time.Minute {
				inMinute++
			}
		}
	}
	s.sentAt[u] = append(kept, now)
	return inMinute >= PerMemberMinute || len(kept) >= PerMemberHour
}

func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	var body struct {
		UserIDs      []string `json:"userids"`
		ResponseCode string   `json:"response_code"`
		Button       *struct {
			ReplaceName string `json:"replace_name"`
		} `json:"button"`
		TemplateCard json.RawMessage `json:"template_card"`
	}
	if _, ok := s.readCall(w, r, &body); !ok {
		return
	}
	if len(body.UserIDs) == 0 || len(body.UserIDs) > maxRecipients {
		s.Fail(w, CodeUserListLength, "invalid userids")
		return
	}
	hasCard := len(body.TemplateCard) > 0 && string(body.TemplateCard) != "null"
	if (body.Button == nil) == !hasCard || (body.Button != nil && body.Button.ReplaceName == "") {
		s.Fail(w, CodeInvalidParam, "one of button.replace_name and template_card required")
		return
	}
	if hasCard {
		if _, code, msg := checkCard(body.TemplateCard); code != 0 {
			s.Fail(w, code, msg)
			return
		}
	}
	s.mu.Lock()
	if spent, ok := s.codes[body.ResponseCode]; !ok || spent {
		s.mu.Unlock()
		s.Fail(w, CodeUsedRespCode, UsedRespCodeMsg)
		return
	}
	s.codes[body.ResponseCode] = true
	u := Update{UserIDs: body.UserIDs, ResponseCode: body.ResponseCode}
	if hasCard {
		u.Template = body.TemplateCard
	} else {
		u.ReplaceName = body.Button.ReplaceName
	}
	var invalid []string
	for _, id := range body.UserIDs {
		if !s.isMemberLocked(id) {
			invalid = append(invalid, id)
		}
	}
	s.updates = append(s.updates, u)
	s.mu.Unlock()
	s.Reply(w, map[string]any{"errcode": 0, "invaliduser": invalid})
}

type heldKey struct{}

// WithHeld marks a request that a fault held before it was processed; the
// cards it sends are Held.
func WithHeld(ctx context.Context) context.Context { return context.WithValue(ctx, heldKey{}, true) }

func isHeld(ctx context.Context) bool { v, _ := ctx.Value(heldKey{}).(bool); return v }
