package main

import (
	"bytes"
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
	codeInvalidSecret   = 40001 // invalid credential
	codeInvalidCorpID   = 40013
	codeInvalidToken    = 40014
	codeInvalidButtons  = 40016
	codeInvalidKey      = 40019
	codeUserListLength  = 40032
	codeInvalidAgent    = 40056
	codeInvalidParam    = 40058
	codeInvalidMsgType  = 40008
	codeUsedRespCode    = 40099 // the fake's own: WeCom's code for a spent response_code is not published
	codeTokenMissing    = 41001
	codeCorpIDMissing   = 41002
	codeSecretMissing   = 41004
	codeTokenExpired    = 42001
	codeTaskIDExists    = 42014
	codeFreqLimit       = 45009
	codeAgentForbidden  = 301002
	codeAllInvalidUsers = 81013
)

// tokenTTL is how long an access token lives (WeCom: 7200 s).
const tokenTTL = 7200 * time.Second

// Fault modes switched at run time through /control.
const (
	ModeOK        = "ok"        // answer normally, no added latency
	ModeSlow      = "slow"      // answer normally after the configured latency
	Mode503       = "503"       // answer HTTP 503 (a proxy or gateway failing)
	ModeTimeout   = "timeout"   // hold the request for Hold, then accept it
	ModeRateLimit = "ratelimit" // answer errcode 45009
)

var (
	taskIDChars = regexp.MustCompile(`^[0-9A-Za-z_\-@]{1,128}$`)
	userIDChars = regexp.MustCompile(`^[0-9A-Za-z_\-.@]{1,64}$`)
)

// Config is what the fake corp looks like.
type Config struct {
	CorpID  string
	Secret  string
	AgentID int64
	// Members are the corp's userids; empty means every well-formed userid
	// is a member.
	Members []string
	// Hold is how long ModeTimeout holds a request before accepting it.
	Hold time.Duration
	Now  func() time.Time
	// Token and EncodingAESKey are the app's callback Token and
	// EncodingAESKey, with which WeCom reads a callback's passive answer
	// (POST /passive); without them /passive is refused.
	Token          string
	EncodingAESKey string
}

// Card is one template card (or text) the fake accepted for one member.
type Card struct {
	Seq          int       `json:"seq"`
	ToUser       string    `json:"touser"`
	MsgType      string    `json:"msgtype"`
	CardType     string    `json:"card_type,omitempty"`
	Kind         string    `json:"kind"`
	TaskID       string    `json:"task_id,omitempty"`
	Keys         []string  `json:"keys,omitempty"`
	ResponseCode string    `json:"response_code,omitempty"`
	Held         bool      `json:"held,omitempty"`
	At           time.Time `json:"at"`
}

// State is the fault state shown and set by /control.
type State struct {
	Mode    string `json:"mode"`
	Latency string `json:"latency"`
	Hold    string `json:"hold"`
	Until   string `json:"until,omitempty"`
}

// Stats is what /stats returns.
type Stats struct {
	// Accepted counts accepted cards (one per recipient).
	Accepted int `json:"accepted"`
	// PerToUser counts accepted cards per recipient userid (lower case).
	PerToUser map[string]int `json:"per_touser"`
	// TaskIDs counts the distinct task_ids accepted; WeCom refuses a
	// task_id twice.
	TaskIDs int `json:"task_ids"`
	// Duplicates counts acceptances beyond the first for one recipient and
	// one card kind (card type and title): the same card shown twice.
	Duplicates     int      `json:"duplicates"`
	DuplicateUsers []string `json:"duplicate_users,omitempty"`
	// Rejections counts refused calls by reason: "errcode_42014",
	// "http_503", "errcode_45009", ….
	Rejections map[string]int `json:"rejections"`
	// HeldAccepted counts cards accepted after a timeout hold: the client
	// gave up, WeCom still delivered.
	HeldAccepted int `json:"held_accepted"`
	// Updates counts update_template_card calls; PassiveUpdates the cards
	// updated by a callback's passive answer (POST /passive).
	Updates        int   `json:"updates"`
	PassiveUpdates int   `json:"passive_updates"`
	GetTokens      int   `json:"gettoken"`
	State          State `json:"state"`
}

// Fake is a WeCom API that checks what the real one checks for the calls
// learnloop makes, counts what it delivered, and fails on command.
type Fake struct {
	cfg Config
	mux *http.ServeMux

	mu         sync.Mutex
	members    map[string]bool
	tokens     map[string]time.Time // token → expiry
	taskIDs    map[string]int
	codes      map[string]bool // response_code → used
	cards      []Card
	perUser    map[string]int
	perKind    map[string]int // kind + "\x00" + user → accepted
	dupUsers   []string
	duplicates int
	rejections map[string]int
	held       int
	updates    int
	passive    int
	getTokens  int
	seq        int
	mode       string
	latency    time.Duration
	hold       time.Duration
	until      time.Time
	revert     *time.Timer
}

// New returns a fake for cfg.
func New(cfg Config) *Fake {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Hold <= 0 {
		cfg.Hold = 3 * time.Second
	}
	f := &Fake{
		cfg: cfg, members: map[string]bool{}, tokens: map[string]time.Time{}, taskIDs: map[string]int{},
		codes: map[string]bool{}, perUser: map[string]int{}, perKind: map[string]int{}, rejections: map[string]int{},
		mode: ModeOK, hold: cfg.Hold,
	}
	for _, m := range cfg.Members {
		f.members[strings.ToLower(m)] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/cgi-bin/gettoken", f.faulty(f.gettoken))
	mux.HandleFunc("/cgi-bin/message/send", f.faulty(f.withToken(f.send)))
	mux.HandleFunc("/cgi-bin/message/update_template_card", f.faulty(f.withToken(f.update)))
	mux.HandleFunc("/cgi-bin/agent/get", f.faulty(f.withToken(f.agentGet)))
	mux.HandleFunc("/control", f.control)
	mux.HandleFunc("GET /stats", f.stats)
	mux.HandleFunc("GET /cards", f.listCards)
	mux.HandleFunc("POST /response_code", f.issueResponseCode)
	mux.HandleFunc("POST /passive", f.takePassive)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	f.mux = mux
	return f
}

// ServeHTTP implements http.Handler.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (f *Fake) reject(reason string) {
	f.mu.Lock()
	f.rejections[reason]++
	f.mu.Unlock()
}

func (f *Fake) reply(w http.ResponseWriter, v map[string]any) {
	if _, ok := v["errmsg"]; !ok {
		v["errmsg"] = "ok"
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers an errcode and counts it as a rejection.
func (f *Fake) fail(w http.ResponseWriter, code int64, msg string) {
	f.reject("errcode_" + strconv.FormatInt(code, 10))
	f.reply(w, map[string]any{"errcode": code, "errmsg": msg})
}

// current returns the fault mode, latency and hold in force now.
func (f *Fake) current() (string, time.Duration, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mode, f.latency, f.hold
}

// faulty applies the fault mode before an API call. A held request
// (timeout) is processed afterwards whatever the client did meanwhile.
func (f *Fake) faulty(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		mode, latency, hold := f.current()
		if latency > 0 {
			time.Sleep(latency)
		}
		switch mode {
		case Mode503:
			f.reject("http_503")
			http.Error(w, "503 Service Temporarily Unavailable", http.StatusServiceUnavailable)
			return
		case ModeRateLimit:
			if r.URL.Path != "/cgi-bin/gettoken" {
				f.fail(w, codeFreqLimit, "api freq out of limit, hint: [fake]")
				return
			}
		case ModeTimeout:
			// Read the request first: the client gives up during the hold,
			// WeCom has the whole request by then and still acts on it.
			raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				f.fail(w, codeInvalidParam, "cannot read body")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(raw))
			f.mu.Lock()
			f.rejections["held"]++
			f.mu.Unlock()
			time.Sleep(hold)
			r = r.WithContext(withHeld(r.Context()))
		}
		next(w, r)
	}
}

func (f *Fake) gettoken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	switch {
	case q.Get("corpid") == "":
		f.fail(w, codeCorpIDMissing, "corpid missing")
	case q.Get("corpid") != f.cfg.CorpID:
		f.fail(w, codeInvalidCorpID, "invalid corpid")
	case q.Get("corpsecret") == "":
		f.fail(w, codeSecretMissing, "corpsecret missing")
	case q.Get("corpsecret") != f.cfg.Secret:
		f.fail(w, codeInvalidSecret, "invalid credential")
	default:
		f.mu.Lock()
		f.getTokens++
		tok := fmt.Sprintf("at%d%s", f.getTokens, randHex(16))
		f.tokens[tok] = f.cfg.Now().Add(tokenTTL)
		f.mu.Unlock()
		f.reply(w, map[string]any{"errcode": 0, "access_token": tok, "expires_in": int(tokenTTL / time.Second)})
	}
}

func (f *Fake) withToken(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("access_token")
		f.mu.Lock()
		exp, known := f.tokens[tok]
		f.mu.Unlock()
		switch {
		case tok == "":
			f.fail(w, codeTokenMissing, "access_token missing")
			return
		case !known:
			f.fail(w, codeInvalidToken, "invalid access_token")
			return
		case !f.cfg.Now().Before(exp):
			f.fail(w, codeTokenExpired, "access_token expired")
			return
		}
		if r.Method == http.MethodPost && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			f.fail(w, codeInvalidParam, "content type is not json")
			return
		}
		next(w, r)
	}
}

func (f *Fake) agentGet(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("agentid") != strconv.FormatInt(f.cfg.AgentID, 10) {
		f.fail(w, codeAgentForbidden, "api forbidden for the agentid")
		return
	}
	f.reply(w, map[string]any{"errcode": 0, "agentid": f.cfg.AgentID, "name": "learnloop", "close": 0})
}

// card is the part of a template_card the fake checks.
type card struct {
	CardType  string `json:"card_type"`
	TaskID    string `json:"task_id"`
	MainTitle *struct {
		Title string `json:"title"`
	} `json:"main_title"`
	ButtonList []struct {
		Type int    `json:"type"`
		Text string `json:"text"`
		Key  string `json:"key"`
		URL  string `json:"url"`
	} `json:"button_list"`
	Checkbox *struct {
		QuestionKey string `json:"question_key"`
		OptionList  []struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		} `json:"option_list"`
	} `json:"checkbox"`
	SubmitButton *struct {
		Text string `json:"text"`
		Key  string `json:"key"`
	} `json:"submit_button"`
	CardAction *struct {
		Type int    `json:"type"`
		URL  string `json:"url"`
	} `json:"card_action"`
}

// check validates a template_card as WeCom does; it returns the card's
// callback keys.
func (c card) check() ([]string, int64, string) {
	if !taskIDChars.MatchString(c.TaskID) {
		return nil, codeTaskIDExists, "taskid has existed or empty or exceed max len"
	}
	var keys []string
	switch c.CardType {
	case "button_interaction":
		if c.MainTitle == nil || c.MainTitle.Title == "" {
			return nil, codeInvalidParam, "main_title.title required"
		}
		if len(c.ButtonList) == 0 || len(c.ButtonList) > 6 {
			return nil, codeInvalidButtons, "invalid button size"
		}
		for _, b := range c.ButtonList {
			switch {
			case b.Text == "":
				return nil, codeInvalidParam, "button text required"
			case b.Type == 0 && (b.Key == "" || len(b.Key) > 1024):
				return nil, codeInvalidKey, "invalid button key length"
			case b.Type == 1 && !strings.HasPrefix(b.URL, "http"):
				return nil, codeInvalidParam, "button url required"
			case b.Type != 0 && b.Type != 1:
				return nil, codeInvalidParam, "invalid button type"
			}
			if b.Type == 0 {
				keys = append(keys, b.Key)
			}
		}
	case "vote_interaction":
		if c.Checkbox == nil || c.SubmitButton == nil || len(c.Checkbox.OptionList) == 0 || len(c.Checkbox.OptionList) > 20 {
			return nil, codeInvalidParam, "checkbox and submit_button required"
		}
		if c.SubmitButton.Key == "" || len(c.SubmitButton.Key) > 1024 {
			return nil, codeInvalidKey, "invalid submit_button"
		}
		keys = append(keys, c.SubmitButton.Key)
	case "text_notice":
		if c.CardAction == nil || c.CardAction.Type != 1 || !strings.HasPrefix(c.CardAction.URL, "http") {
			return nil, codeInvalidParam, "card_action required"
		}
	default:
		return nil, codeInvalidParam, "invalid card_type"
	}
	return keys, 0, ""
}

func (f *Fake) send(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		f.fail(w, codeInvalidParam, "cannot read body")
		return
	}
	var body struct {
		ToUser       string          `json:"touser"`
		MsgType      string          `json:"msgtype"`
		AgentID      json.Number     `json:"agentid"`
		TemplateCard json.RawMessage `json:"template_card"`
		Text         *struct {
			Content string `json:"content"`
		} `json:"text"`
	}
	if json.Unmarshal(raw, &body) != nil {
		f.fail(w, codeInvalidParam, "Warning: wrong json format")
		return
	}
	if body.AgentID.String() != strconv.FormatInt(f.cfg.AgentID, 10) {
		f.fail(w, codeInvalidAgent, "invalid agentid")
		return
	}
	to := strings.Split(body.ToUser, "|")
	if body.ToUser == "" || len(to) > 1000 {
		f.fail(w, codeUserListLength, "invalid userid list length")
		return
	}
	var (
		c    card
		keys []string
		kind string
	)
	switch body.MsgType {
	case "template_card":
		if json.Unmarshal(body.TemplateCard, &c) != nil {
			f.fail(w, codeInvalidParam, "invalid template_card")
			return
		}
		var code int64
		var msg string
		if keys, code, msg = c.check(); code != 0 {
			f.fail(w, code, msg)
			return
		}
		title := ""
		if c.MainTitle != nil {
			title = c.MainTitle.Title
		}
		kind = c.CardType + "|" + title
	case "text":
		if body.Text == nil || body.Text.Content == "" || len(body.Text.Content) > 2048 {
			f.fail(w, codeInvalidParam, "invalid text content")
			return
		}
		kind = "text|" + strings.SplitN(body.Text.Content, "\n", 2)[0]
	default:
		f.fail(w, codeInvalidMsgType, "invalid message type")
		return
	}
	f.mu.Lock()
	if c.TaskID != "" {
		if f.taskIDs[c.TaskID] > 0 {
			f.mu.Unlock()
			f.fail(w, codeTaskIDExists, "taskid has existed or empty or exceed max len")
			return
		}
	}
	var invalid []string
	var valid []string
	for _, u := range to {
		lu := strings.ToLower(u)
		if !userIDChars.MatchString(u) || (len(f.members) > 0 && !f.members[lu]) {
			invalid = append(invalid, lu)
			continue
		}
		valid = append(valid, lu)
	}
	if len(valid) == 0 {
		f.rejections["errcode_81013"]++
		f.mu.Unlock()
		f.reply(w, map[string]any{"errcode": codeAllInvalidUsers, "errmsg": "all users invalid", "invaliduser": strings.Join(invalid, "|")})
		return
	}
	respCode := ""
	if len(keys) > 0 {
		f.seq++
		respCode = fmt.Sprintf("rc%d%s", f.seq, randHex(8))
		f.codes[respCode] = false
	}
	if c.TaskID != "" {
		f.taskIDs[c.TaskID] = len(valid)
	}
	held := isHeld(r.Context())
	now := f.cfg.Now()
	for _, u := range valid {
		f.cards = append(f.cards, Card{Seq: len(f.cards), ToUser: u, MsgType: body.MsgType, CardType: c.CardType, Kind: kind,
			TaskID: c.TaskID, Keys: keys, ResponseCode: respCode, Held: held, At: now})
		f.perUser[u]++
		k := kind + "\x00" + u
		f.perKind[k]++
		if f.perKind[k] > 1 {
			f.duplicates++
			if len(f.dupUsers) < 50 {
				f.dupUsers = append(f.dupUsers, u)
			}
		}
		if held {
			f.held++
		}
	}
	f.mu.Unlock()
	f.reply(w, map[string]any{"errcode": 0, "invaliduser": strings.Join(invalid, "|"), "msgid": "msg" + randHex(8), "response_code": respCode})
}

func (f *Fake) update(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		f.fail(w, codeInvalidParam, "cannot read body")
		return
	}
	var body struct {
		UserIDs      []string    `json:"userids"`
		AgentID      json.Number `json:"agentid"`
		ResponseCode string      `json:"response_code"`
		Button       *struct {
			ReplaceName string `json:"replace_name"`
		} `json:"button"`
		TemplateCard *card `json:"template_card"`
	}
	if json.Unmarshal(raw, &body) != nil {
		f.fail(w, codeInvalidParam, "Warning: wrong json format")
		return
	}
	if body.AgentID.String() != strconv.FormatInt(f.cfg.AgentID, 10) {
		f.fail(w, codeInvalidAgent, "invalid agentid")
		return
	}
	if len(body.UserIDs) == 0 || len(body.UserIDs) > 1000 {
		f.fail(w, codeUserListLength, "invalid userids")
		return
	}
	if (body.Button == nil) == (body.TemplateCard == nil) || (body.Button != nil && body.Button.ReplaceName == "") {
		f.fail(w, codeInvalidParam, "one of button.replace_name and template_card required")
		return
	}
	f.mu.Lock()
	used, ok := f.codes[body.ResponseCode]
	if !ok || used {
		f.mu.Unlock()
		f.fail(w, codeUsedRespCode, "invalid response_code, hint: [fake]")
		return
	}
	f.codes[body.ResponseCode] = true
	f.updates++
	var invalid []string
	for _, id := range body.UserIDs {
		if len(f.members) > 0 && !f.members[strings.ToLower(id)] {
			invalid = append(invalid, id)
		}
	}
	f.mu.Unlock()
	f.reply(w, map[string]any{"errcode": 0, "invaliduser": invalid})
}

// issueResponseCode hands out a response_code as WeCom puts one in each
// card callback (test drivers building callbacks use it).
func (f *Fake) issueResponseCode(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	f.seq++
	code := fmt.Sprintf("rccb%d%s", f.seq, randHex(8))
	f.codes[code] = false
	f.mu.Unlock()
	f.reply(w, map[string]any{"errcode": 0, "response_code": code})
}

// control shows (GET) or switches (POST) the fault mode. Parameters (query
// or form): mode (ok|slow|503|timeout|ratelimit), latency (a Go duration,
// added to every API call; set with mode=slow, kept by the fault modes,
// cleared by mode=ok), hold (how long timeout holds a request), for (revert
// a fault mode to the previous latency-only mode after this long).
func (f *Fake) control(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := f.set(r.Form.Get("mode"), r.Form.Get("latency"), r.Form.Get("hold"), r.Form.Get("for")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	} else if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(f.state())
}

func parseDur(name, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s: %q is not a non-negative Go duration", name, v)
	}
	return d, nil
}

// set validates everything first and changes nothing on bad input.
func (f *Fake) set(mode, latency, hold, forD string) error {
	switch mode {
	case ModeOK, ModeSlow, Mode503, ModeTimeout, ModeRateLimit:
	default:
		return fmt.Errorf("mode: %q is not one of ok, slow, 503, timeout, ratelimit", mode)
	}
	lat, err := parseDur("latency", latency)
	if err != nil {
		return err
	}
	h, err := parseDur("hold", hold)
	if err != nil {
		return err
	}
	d, err := parseDur("for", forD)
	if err != nil {
		return err
	}
	if mode == ModeSlow && latency == "" {
		return fmt.Errorf("latency: mode slow needs a latency")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.revert != nil {
		f.revert.Stop()
		f.revert = nil
	}
	f.until = time.Time{}
	switch mode {
	case ModeOK:
		f.latency = 0
	case ModeSlow:
		f.latency = lat
	default:
		if latency != "" {
			f.latency = lat
		}
	}
	if h > 0 {
		f.hold = h
	}
	f.mode = mode
	if d > 0 && mode != ModeOK && mode != ModeSlow {
		back := ModeOK
		if f.latency > 0 {
			back = ModeSlow
		}
		f.until = f.cfg.Now().Add(d)
		f.revert = time.AfterFunc(d, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.mode, f.until, f.revert = back, time.Time{}, nil
		})
	}
	return nil
}

func (f *Fake) state() State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stateLocked()
}

func (f *Fake) stateLocked() State {
	s := State{Mode: f.mode, Latency: f.latency.String(), Hold: f.hold.String()}
	if !f.until.IsZero() {
		s.Until = f.until.UTC().Format(time.RFC3339Nano)
	}
	return s
}

// Snapshot returns the counts.
func (f *Fake) Snapshot() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := Stats{
		Accepted: len(f.cards), PerToUser: make(map[string]int, len(f.perUser)), TaskIDs: len(f.taskIDs),
		Duplicates: f.duplicates, DuplicateUsers: append([]string(nil), f.dupUsers...),
		Rejections: make(map[string]int, len(f.rejections)), HeldAccepted: f.held, Updates: f.updates, PassiveUpdates: f.passive,
		GetTokens: f.getTokens, State: f.stateLocked(),
	}
	for k, v := range f.perUser {
		st.PerToUser[k] = v
	}
	for k, v := range f.rejections {
		st.Rejections[k] = v
	}
	return st
}

func (f *Fake) stats(w http.ResponseWriter, r *http.Request) {
	st := f.Snapshot()
	if r.URL.Query().Get("users") == "0" {
		st.PerToUser = nil
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(st)
}

// listCards returns accepted cards in order from ?offset= (default 0), at
// most ?limit= (default 1000).
func (f *Fake) listCards(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	off, lim := 0, 1000
	var err error
	if v := q.Get("offset"); v != "" {
		if off, err = strconv.Atoi(v); err != nil || off < 0 {
			http.Error(w, "offset must be a non-negative integer", http.StatusBadRequest)
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if lim, err = strconv.Atoi(v); err != nil || lim < 1 || lim > 100000 {
			http.Error(w, "limit must be 1–100000", http.StatusBadRequest)
			return
		}
	}
	f.mu.Lock()
	var out []Card
	if off < len(f.cards) {
		out = append(out, f.cards[off:min(off+lim, len(f.cards))]...)
	}
	f.mu.Unlock()
	if out == nil {
		out = []Card{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

type heldKey struct{}

// withHeld marks a request that ModeTimeout held.
func withHeld(ctx context.Context) context.Context { return context.WithValue(ctx, heldKey{}, true) }

func isHeld(ctx context.Context) bool { v, _ := ctx.Value(heldKey{}).(bool); return v }
