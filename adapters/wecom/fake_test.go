package wecom

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"
	"github.com/stretchr/testify/require"
)

// Errcodes the fake answers with, as the real API does (the last one is
// the fake's own: WeCom's code for a spent response_code is not published).
const (
	fakeInvalidAgent       = 40056
	fakeUserListLength     = 40032
	fakeInvalidButtons     = 40016
	fakeInvalidKey         = 40019
	fakeInvalidParameter   = 40058
	fakeUsedResponseCode   = 40099
	fakeResponseCodeErrMsg = "invalid response_code, hint: [fake]"
)

// Fault is one scripted answer of the fake to the next request on a path.
type Fault struct {
	Status  int    // HTTP status other than 200 (a 5xx from a proxy)
	ErrCode int64  // errcode to answer with; 42001 also expires the token
	ErrMsg  string // defaults to "fault"
	Delay   time.Duration
}

// FakeCard is one card (or text) the fake accepted for one member.
type FakeCard struct {
	ToUser       string
	MsgType      string
	Card         templateCard
	Text         string
	ResponseCode string
	Raw          map[string]any
	At           time.Time
	// Dropped is true when WeCom would have silently dropped it (over the
	// per-member limit of 30 a minute or 1000 an hour).
	Dropped bool
}

// FakeUpdate is one accepted card update: an update_template_card call, or
// (Passive) a callback's passive answer.
type FakeUpdate struct {
	UserIDs      []string
	ResponseCode string
	ReplaceName  string
	Card         *templateCard
	Passive      bool
}

// FakeWeCom is an httptest WeCom that checks what the real one checks: the
// corp id and secret at gettoken, the access token (unknown → 40014,
// expired → 42001), the agent id, the message shape, at most 1,000
// recipients, at most 6 buttons, key and task_id limits, task_id unique per
// app (42014), known userids (invaliduser / 81013), single-use
// response_codes, and it records what WeCom would silently drop over the
// per-member limits.
type FakeWeCom struct {
	*httptest.Server
	CorpID  string
	Secret  string
	AgentID int64
	Now     func() time.Time

	mu          sync.Mutex
	users       map[string]bool
	tokens      map[string]bool // token → expired
	taskIDs     map[string]bool
	codes       map[string]string // response_code → "" unused, "used"
	faults      map[string][]Fault
	cards       []FakeCard
	updates     []FakeUpdate
	errcodes    []int64 // every non-zero errcode answered, in order
	getTokens   int
	seq         int
	perUserSent map[string][]time.Time
	schedules   map[string]*FakeSchedule
}

// NewFakeWeCom starts a fake for corp corpID whose members are users.
func NewFakeWeCom(t testing.TB, users ...string) *FakeWeCom {
	t.Helper()
	f := &FakeWeCom{
		CorpID: "ww" + randHex(8), Secret: "sec-" + randHex(16), AgentID: 1000002, Now: time.Now,
		users: map[string]bool{}, tokens: map[string]bool{}, taskIDs: map[string]bool{}, codes: map[string]string{},
		faults: map[string][]Fault{}, perUserSent: map[string][]time.Time{},
	}
	for _, u := range users {
		f.users[strings.ToLower(u)] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/cgi-bin/gettoken", f.gettoken)
	mux.HandleFunc("/cgi-bin/message/send", f.withToken(f.send))
	mux.HandleFunc("/cgi-bin/message/update_template_card", f.withToken(f.update))
	mux.HandleFunc("/cgi-bin/agent/get", f.withToken(f.agentGet))
	f.calendarRoutes(mux)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// randomAESKey returns a fresh EncodingAESKey (43 characters).
func randomAESKey() string {
	var k [32]byte
	_, _ = rand.Read(k[:])
	return strings.TrimRight(base64.StdEncoding.EncodeToString(k[:]), "=")
}

// Config returns a Client config for this fake with fresh callback keys.
func (f *FakeWeCom) Config() Config {
	return Config{
		CorpID: f.CorpID, AgentID: f.AgentID, Secret: f.Secret, Token: "tk" + randHex(6),
		EncodingAESKey: randomAESKey(), APIBase: f.URL, Timeout: 2 * time.Second,
	}
}

// AddUser makes id a member.
func (f *FakeWeCom) AddUser(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[strings.ToLower(id)] = true
}

// Fail scripts the next answers on path (e.g. pathSend).
func (f *FakeWeCom) Fail(path string, faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[path] = append(f.faults[path], faults...)
}

// IssueResponseCode registers a response_code as WeCom does with a callback.
func (f *FakeWeCom) IssueResponseCode() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	code := fmt.Sprintf("rc-cb-%d-%s", f.seq, randHex(8))
	f.codes[code] = ""
	return code
}

// Cards returns the accepted messages.
func (f *FakeWeCom) Cards() []FakeCard {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FakeCard(nil), f.cards...)
}

// CardsFor returns the accepted messages to one member.
func (f *FakeWeCom) CardsFor(user string) []FakeCard {
	var out []FakeCard
	for _, c := range f.Cards() {
		if strings.EqualFold(c.ToUser, user) {
			out = append(out, c)
		}
	}
	return out
}

// Updates returns the accepted card updates.
func (f *FakeWeCom) Updates() []FakeUpdate {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FakeUpdate(nil), f.updates...)
}

// Errcodes returns every non-zero errcode the fake answered.
func (f *FakeWeCom) Errcodes() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int64(nil), f.errcodes...)
}

// GetTokens returns how many tokens were issued.
func (f *FakeWeCom) GetTokens() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.getTokens
}

// Tokens returns every token issued.
func (f *FakeWeCom) Tokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for t := range f.tokens {
		out = append(out, t)
	}
	return out
}

func (f *FakeWeCom) reply(w http.ResponseWriter, v map[string]any) {
	if code, _ := v["errcode"].(int64); code != 0 {
		f.mu.Lock()
		f.errcodes = append(f.errcodes, code)
		f.mu.Unlock()
	}
	if _, ok := v["errmsg"]; !ok {
		v["errmsg"] = "ok"
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *FakeWeCom) fail(w http.ResponseWriter, code int64, msg string) {
	f.reply(w, map[string]any{"errcode": code, "errmsg": msg})
}

// fault pops the next scripted fault for path, if any, and answers it.
func (f *FakeWeCom) fault(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	q := f.faults[r.URL.Path]
	if len(q) == 0 {
		f.mu.Unlock()
		return false
	}
	ft := q[0]
	f.faults[r.URL.Path] = q[1:]
	if ft.ErrCode == codeTokenExpired {
		f.tokens[r.URL.Query().Get("access_token")] = true
	}
	f.mu.Unlock()
	if ft.Delay > 0 {
		time.Sleep(ft.Delay)
	}
	if ft.Status != 0 {
		http.Error(w, "upstream failure", ft.Status)
		return true
	}
	msg := ft.ErrMsg
	if msg == "" {
		msg = "fault"
	}
	f.fail(w, ft.ErrCode, msg)
	return true
}

func (f *FakeWeCom) gettoken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	if f.fault(w, r) {
		return
	}
	q := r.URL.Query()
	switch {
	case q.Get("corpid") == "":
		f.fail(w, 41002, "corpid missing")
	case q.Get("corpid") != f.CorpID:
		f.fail(w, 40013, "invalid corpid")
	case q.Get("corpsecret") == "":
		f.fail(w, 41004, "corpsecret missing")
	case q.Get("corpsecret") != f.Secret:
		// WeCom does not echo the secret, but a proxy might: the client
		// must redact whatever comes back.
		f.fail(w, 40001, "invalid credential, request "+r.URL.String())
	default:
		f.mu.Lock()
		f.getTokens++
		tok := fmt.Sprintf("at-%d-%s", f.getTokens, randHex(12))
		f.tokens[tok] = false
		f.mu.Unlock()
		f.reply(w, map[string]any{"errcode": int64(0), "access_token": tok, "expires_in": 7200})
	}
}

func (f *FakeWeCom) withToken(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("access_token")
		f.mu.Lock()
		expired, known := f.tokens[tok]
		f.mu.Unlock()
		switch {
		case tok == "":
			f.fail(w, 41001, "access_token missing")
			return
		case !known:
			f.fail(w, codeInvalidToken, "invalid access_token")
			return
		case expired:
			f.fail(w, codeTokenExpired, "access_token expired")
			return
		}
		if f.fault(w, r) {
			return
		}
		if r.Method == http.MethodPost && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			f.fail(w, 40058, "content type is not json")
			return
		}
		next(w, r)
	}
}

func (f *FakeWeCom) agentGet(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("agentid") != strconv.FormatInt(f.AgentID, 10) {
		f.fail(w, 301002, "api forbidden for the agentid")
		return
	}
	f.reply(w, map[string]any{"errcode": int64(0), "agentid": f.AgentID, "name": "learnloop"})
}

var fakeTaskID = regexp.MustCompile(`^[0-9A-Za-z_\-@]{1,128}$`)

func (f *FakeWeCom) send(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body struct {
		ToUser       string          `json:"touser"`
		MsgType      string          `json:"msgtype"`
		AgentID      json.Number     `json:"agentid"`
		TemplateCard json.RawMessage `json:"template_card"`
		Text         *textBody       `json:"text"`
	}
	var shape map[string]any
	if json.Unmarshal(raw, &body) != nil || json.Unmarshal(raw, &shape) != nil {
		f.fail(w, 40058, "Warning: wrong json format")
		return
	}
	if body.AgentID.String() != strconv.FormatInt(f.AgentID, 10) {
		f.fail(w, fakeInvalidAgent, "invalid agentid")
		return
	}
	to := strings.Split(body.ToUser, "|")
	if body.ToUser == "" || len(to) > 1000 {
		f.fail(w, fakeUserListLength, "invalid userid list length")
		return
	}
	var card templateCard
	interactive := false
	switch body.MsgType {
	case "text":
		if body.Text == nil || body.Text.Content == "" || len(body.Text.Content) > 2048 {
			f.fail(w, 40058, "invalid text content")
			return
		}
	case "template_card":
		if json.Unmarshal(body.TemplateCard, &card) != nil {
			f.fail(w, 40058, "invalid template_card")
			return
		}
		var cardShape map[string]any
		_ = json.Unmarshal(body.TemplateCard, &cardShape)
		if code, msg := checkCard(card, cardShape); code != 0 {
			f.fail(w, code, msg)
			return
		}
		interactive = card.CardType != cardTextNotice
		f.mu.Lock()
		dup := f.taskIDs[card.TaskID]
		f.taskIDs[card.TaskID] = true
		f.mu.Unlock()
		if dup {
			f.fail(w, codeTaskIDExists, "taskid has existed or empty or exceed max len")
			return
		}
	default:
		f.fail(w, 40008, "invalid message type")
		return
	}
	f.mu.Lock()
	var invalid []string
	valid := 0
	code := ""
	if interactive {
		f.seq++
		code = fmt.Sprintf("rc-send-%d-%s", f.seq, randHex(8))
		f.codes[code] = ""
	}
	now := f.Now()
	for _, u := range to {
		if !f.users[strings.ToLower(u)] {
			invalid = append(invalid, strings.ToLower(u))
			continue
		}
		valid++
		sent := f.perUserSent[u]
		inMinute, inHour := 0, 0
		for _, t := range sent {
			if now.Sub(t) < time.Minute {
				inMinute++
			}
			if now.Sub(t) < time.Hour {
				inHour++
			}
		}
		f.perUserSent[u] = append(sent, now)
		c := FakeCard{ToUser: u, MsgType: body.MsgType, Card: card, ResponseCode: code, Raw: shape, At: now,
			Dropped: inMinute >= perMemberMinute || inHour >= perMemberHour}
		if body.Text != nil {
			c.Text = body.Text.Content
		}
		f.cards = append(f.cards, c)
	}
	f.mu.Unlock()
	if valid == 0 {
		f.reply(w, map[string]any{"errcode": int64(codeAllInvalidUser), "errmsg": "all users invalid", "invaliduser": strings.Join(invalid, "|")})
		return
	}
	f.reply(w, map[string]any{"errcode": int64(0), "invaliduser": strings.Join(invalid, "|"), "msgid": "msg-" + randHex(6), "response_code": code})
}

// checkCard validates a template_card as WeCom does.
func checkCard(c templateCard, shape map[string]any) (int64, string) {
	if !fakeTaskID.MatchString(c.TaskID) {
		return codeTaskIDExists, "taskid has existed or empty or exceed max len"
	}
	has := func(k string) bool { _, ok := shape[k]; return ok }
	switch c.CardType {
	case cardButtonInteraction:
		if c.MainTitle == nil || c.MainTitle.Title == "" {
			return fakeInvalidParameter, "main_title.title required"
		}
		if len(c.ButtonList) == 0 || len(c.ButtonList) > maxButtons {
			return fakeInvalidButtons, "invalid button size"
		}
		if has("checkbox") || has("submit_button") {
			return fakeInvalidParameter, "button_interaction has no checkbox"
		}
		for _, b := range c.ButtonList {
			if b.Text == "" {
				return fakeInvalidParameter, "button text required"
			}
			switch b.Type {
			case 0:
				if b.Key == "" || len(b.Key) > maxKeyBytes {
					return fakeInvalidKey, "invalid button key length"
				}
			case 1:
				if !strings.HasPrefix(b.URL, "http") {
					return fakeInvalidParameter, "button url required"
				}
			default:
				return fakeInvalidParameter, "invalid button type"
			}
			if b.Style < 0 || b.Style > 4 {
				return fakeInvalidParameter, "invalid button style"
			}
		}
	case cardVoteInteraction:
		if c.Checkbox == nil || c.SubmitButton == nil {
			return fakeInvalidParameter, "checkbox and submit_button required"
		}
		if has("button_list") {
			return fakeInvalidParameter, "vote_interaction has no button_list"
		}
		cb := c.Checkbox
		if cb.QuestionKey == "" || len(cb.QuestionKey) > maxKeyBytes || (cb.Mode != 0 && cb.Mode != 1) {
			return fakeInvalidParameter, "invalid checkbox"
		}
		if len(cb.OptionList) == 0 || len(cb.OptionList) > maxVoteOptions {
			return fakeInvalidParameter, "invalid option_list size"
		}
		seen := map[string]bool{}
		for _, o := range cb.OptionList {
			if o.ID == "" || len(o.ID) > 128 || o.Text == "" || seen[o.ID] {
				return fakeInvalidParameter, "invalid option"
			}
			seen[o.ID] = true
		}
		if c.SubmitButton.Key == "" || len(c.SubmitButton.Key) > maxKeyBytes || c.SubmitButton.Text == "" {
			return fakeInvalidKey, "invalid submit_button"
		}
	case cardTextNotice:
		if c.CardAction == nil || c.CardAction.Type != 1 || !strings.HasPrefix(c.CardAction.URL, "http") {
			return fakeInvalidParameter, "card_action required"
		}
		if len(c.JumpList) > maxJumps || has("button_list") {
			return fakeInvalidParameter, "invalid jump_list"
		}
	default:
		return fakeInvalidParameter, "invalid card_type"
	}
	if len(c.HorizontalContentList) > maxFields {
		return fakeInvalidParameter, "invalid horizontal_content_list size"
	}
	return 0, ""
}

func (f *FakeWeCom) update(w http.ResponseWriter, r *http.Request) {
	var body struct {
		UserIDs      []string    `json:"userids"`
		AgentID      json.Number `json:"agentid"`
		ResponseCode string      `json:"response_code"`
		Button       *struct {
			ReplaceName string `json:"replace_name"`
		} `json:"button"`
		TemplateCard *templateCard `json:"template_card"`
	}
	raw, _ := io.ReadAll(r.Body)
	if json.Unmarshal(raw, &body) != nil {
		f.fail(w, 40058, "Warning: wrong json format")
		return
	}
	if body.AgentID.String() != strconv.FormatInt(f.AgentID, 10) {
		f.fail(w, fakeInvalidAgent, "invalid agentid")
		return
	}
	if len(body.UserIDs) == 0 || len(body.UserIDs) > 1000 {
		f.fail(w, fakeUserListLength, "invalid userids")
		return
	}
	if (body.Button == nil) == (body.TemplateCard == nil) || (body.Button != nil && body.Button.ReplaceName == "") {
		f.fail(w, fakeInvalidParameter, "one of button.replace_name and template_card required")
		return
	}
	f.mu.Lock()
	state, ok := f.codes[body.ResponseCode]
	if !ok || state == "used" {
		f.mu.Unlock()
		f.fail(w, fakeUsedResponseCode, fakeResponseCodeErrMsg)
		return
	}
	f.codes[body.ResponseCode] = "used"
	u := FakeUpdate{UserIDs: body.UserIDs, ResponseCode: body.ResponseCode, Card: body.TemplateCard}
	if body.Button != nil {
		u.ReplaceName = body.Button.ReplaceName
	}
	var invalid []string
	for _, id := range body.UserIDs {
		if !f.users[strings.ToLower(id)] {
			invalid = append(invalid, id)
		}
	}
	if body.TemplateCard != nil {
		var shape struct {
			TemplateCard map[string]any `json:"template_card"`
		}
		_ = json.Unmarshal(raw, &shape)
		if code, msg := checkCard(*body.TemplateCard, shape.TemplateCard); code != 0 {
			f.codes[body.ResponseCode] = ""
			f.mu.Unlock()
			f.fail(w, code, msg)
			return
		}
	}
	f.updates = append(f.updates, u)
	f.mu.Unlock()
	f.reply(w, map[string]any{"errcode": int64(0), "invaliduser": invalid})
}

// passiveWait is how long WeCom waits for a callback's answer.
const passiveWait = 5 * time.Second

// Tap delivers ev to h as WeCom delivers a tap on a card — signed and
// encrypted with cfg's Token and EncodingAESKey — and takes the answer as
// WeCom does (Answer). It returns the answer and what Answer found wrong.
func (f *FakeWeCom) Tap(h http.Handler, cfg Config, ev CardEvent) (*httptest.ResponseRecorder, error) {
	q, body := SignedCallback(cfg, cfg.CorpID, f.Now(), ev.XML())
	sent := time.Now()
	rec := post(h, q, body)
	return rec, f.Answer(cfg, ev, sent, rec.Code, rec.Body.Bytes())
}

// openPassive opens an encrypted passive reply as WeCom does: the envelope
// <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>, its
// msg_signature over the token, timestamp, nonce and ciphertext, and the
// ciphertext decrypted with the EncodingAESKey for receive id = corpID. It
// returns the plain XML.
func openPassive(cfg Config, corpID string, body []byte) ([]byte, error) {
	var env struct {
		XMLName      xml.Name `xml:"xml"`
		Encrypt      string   `xml:"Encrypt"`
		MsgSignature string   `xml:"MsgSignature"`
		TimeStamp    string   `xml:"TimeStamp"`
		Nonce        string   `xml:"Nonce"`
	}
	if err := xml.Unmarshal(body, &env); err != nil || env.Encrypt == "" || env.Nonce == "" || env.TimeStamp == "" {
		return nil, fmt.Errorf("passive reply is not <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>: %q", body)
	}
	if util.Signature(cfg.Token, env.TimeStamp, env.Nonce, env.Encrypt) != env.MsgSignature {
		return nil, errors.New("passive reply: msg_signature does not match")
	}
	_, plain, err := util.DecryptMsg(corpID, env.Encrypt, cfg.EncodingAESKey) // checks receive id = corpID
	if err != nil {
		return nil, fmt.Errorf("passive reply: %w", err)
	}
	return plain, nil
}

// Answer takes the answer to the tap callback ev, sent at sent (wall
// clock), as WeCom does. An answer later than 5 s, or other than 200, is
// not read (WeCom retries the callback). An empty body changes nothing. A
// body is a passive reply: its msg_signature over the token, timestamp,
// nonce and ciphertext must match, it must decrypt with the EncodingAESKey
// for receive id = CorpID, be addressed to the tapper from the corp, and be
// update_button (a replace_name, on a card with buttons) or
// update_template_card (a card that passes the checks of send and of the
// update API); then it is recorded as an update (Passive). Whether WeCom
// also spends the callback's response_code on it is not documented: the
// fake leaves the code unused.
func (f *FakeWeCom) Answer(cfg Config, ev CardEvent, sent time.Time, status int, body []byte) error {
	if d := time.Since(sent); d > passiveWait {
		return fmt.Errorf("answered after %s: WeCom stopped waiting at %s", d, passiveWait)
	}
	if status != http.StatusOK || len(body) == 0 {
		return nil
	}
	plain, err := openPassive(cfg, f.CorpID, body)
	if err != nil {
		return err
	}
	var msg struct {
		XMLName      xml.Name `xml:"xml"`
		ToUserName   string   `xml:"ToUserName"`
		FromUserName string   `xml:"FromUserName"`
		CreateTime   int64    `xml:"CreateTime"`
		MsgType      string   `xml:"MsgType"`
		Button       *struct {
			ReplaceName string `xml:"ReplaceName"`
		} `xml:"Button"`
		TemplateCard *xmlCard `xml:"TemplateCard"`
	}
	if err := xml.Unmarshal(plain, &msg); err != nil {
		return fmt.Errorf("passive reply: plain text is not XML: %w", err)
	}
	switch {
	case msg.ToUserName != ev.From:
		return fmt.Errorf("passive reply to %q, the tap came from %q", msg.ToUserName, ev.From)
	case msg.FromUserName != f.CorpID:
		return fmt.Errorf("passive reply from %q, not the corp", msg.FromUserName)
	case msg.CreateTime <= 0:
		return errors.New("passive reply has no CreateTime")
	}
	u := FakeUpdate{UserIDs: []string{ev.From}, ResponseCode: ev.ResponseCode, Passive: true}
	switch msg.MsgType {
	case "update_button":
		if msg.Button == nil || msg.Button.ReplaceName == "" || msg.TemplateCard != nil {
			return errors.New("update_button needs Button.ReplaceName and nothing else")
		}
		if ev.CardType != cardButtonInteraction && ev.CardType != cardVoteInteraction {
			return fmt.Errorf("update_button on a %s card: only cards with buttons", ev.CardType)
		}
		u.ReplaceName = msg.Button.ReplaceName
	case "update_template_card":
		if msg.TemplateCard == nil || msg.Button != nil {
			return errors.New("update_template_card needs TemplateCard and nothing else")
		}
		card, shape := msg.TemplateCard.card()
		if code, m := checkCard(card, shape); code != 0 {
			return fmt.Errorf("update_template_card: errcode %d %s", code, m)
		}
		u.Card = &card
	default:
		return fmt.Errorf("passive reply to a card tap is %q, not update_button or update_template_card", msg.MsgType)
	}
	f.mu.Lock()
	f.updates = append(f.updates, u)
	f.mu.Unlock()
	return nil
}

// xmlCard is a TemplateCard as a passive update_template_card carries it.
type xmlCard struct {
	CardType  string `xml:"CardType"`
	MainTitle *struct {
		Title string `xml:"Title"`
		Desc  string `xml:"Desc"`
	} `xml:"MainTitle"`
	SubTitleText          string `xml:"SubTitleText"`
	HorizontalContentList []struct {
		KeyName string `xml:"KeyName"`
		Value   string `xml:"Value"`
	} `xml:"HorizontalContentList"`
	JumpList []struct {
		Type  int    `xml:"Type"`
		Title string `xml:"Title"`
		URL   string `xml:"Url"`
	} `xml:"JumpList"`
	CardAction *struct {
		Type int    `xml:"Type"`
		URL  string `xml:"Url"`
	} `xml:"CardAction"`
	TaskID     string `xml:"TaskId"`
	ButtonList []struct {
		Type  int    `xml:"Type"`
		Text  string `xml:"Text"`
		Style int    `xml:"Style"`
		Key   string `xml:"Key"`
		URL   string `xml:"Url"`
	} `xml:"ButtonList"`
	CheckBox *struct {
		QuestionKey string `xml:"QuestionKey"`
		OptionList  []struct {
			ID   string `xml:"Id"`
			Text string `xml:"Text"`
		} `xml:"OptionList"`
		Mode int `xml:"Mode"`
	} `xml:"CheckBox"`
	SubmitButton *struct {
		Text string `xml:"Text"`
		Key  string `xml:"Key"`
	} `xml:"SubmitButton"`
}

// card is x as the API's template_card, with the JSON keys it has (for
// checkCard).
func (x xmlCard) card() (templateCard, map[string]any) {
	c := templateCard{CardType: x.CardType, SubTitleText: x.SubTitleText, TaskID: x.TaskID}
	shape := map[string]any{}
	if x.MainTitle != nil {
		c.MainTitle = &mainTitle{Title: x.MainTitle.Title, Desc: x.MainTitle.Desc}
	}
	for _, h := range x.HorizontalContentList {
		c.HorizontalContentList = append(c.HorizontalContentList, horizontalContent{KeyName: h.KeyName, Value: h.Value})
	}
	for _, j := range x.JumpList {
		c.JumpList = append(c.JumpList, jump{Type: j.Type, Title: j.Title, URL: j.URL})
	}
	if x.CardAction != nil {
		c.CardAction = &cardAction{Type: x.CardAction.Type, URL: x.CardAction.URL}
	}
	for _, b := range x.ButtonList {
		c.ButtonList = append(c.ButtonList, cardButton{Type: b.Type, Text: b.Text, Style: b.Style, Key: b.Key, URL: b.URL})
		shape["button_list"] = true
	}
	if cb := x.CheckBox; cb != nil {
		c.Checkbox = &checkbox{QuestionKey: cb.QuestionKey, Mode: cb.Mode}
		for _, o := range cb.OptionList {
			c.Checkbox.OptionList = append(c.Checkbox.OptionList, option{ID: o.ID, Text: o.Text})
		}
		shape["checkbox"] = true
	}
	if s := x.SubmitButton; s != nil {
		c.SubmitButton = &submitButton{Text: s.Text, Key: s.Key}
		shape["submit_button"] = true
	}
	return c, shape
}

// TestFakeEnforces checks the fake's own teeth: what the real WeCom refuses,
// the fake refuses with the same errcode.
func TestFakeEnforces(t *testing.T) {
	t.Parallel()
	f := NewFakeWeCom(t, "a", "b")
	get := func(path string) map[string]any {
		resp, err := http.Get(f.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return out
	}
	tok := get("/cgi-bin/gettoken?corpid=" + f.CorpID + "&corpsecret=" + f.Secret)["access_token"].(string)
	require.EqualValues(t, 40001, get("/cgi-bin/gettoken?corpid=" + f.CorpID + "&corpsecret=x")["errcode"])
	require.EqualValues(t, 40013, get("/cgi-bin/gettoken?corpid=x&corpsecret=" + f.Secret)["errcode"])
	send := func(token string, body map[string]any) map[string]any {
		raw, _ := json.Marshal(body)
		resp, err := http.Post(f.URL+pathSend+"?access_token="+token, "application/json", strings.NewReader(string(raw)))
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return out
	}
	card := func(task string, buttons int) map[string]any {
		var bl []map[string]any
		for i := range buttons {
			bl = append(bl, map[string]any{"type": 0, "text": "b", "key": strconv.Itoa(i)})
		}
		return map[string]any{"card_type": "button_interaction", "main_title": map[string]any{"title": "t"}, "task_id": task, "button_list": bl}
	}
	msg := func(to string, c map[string]any) map[string]any {
		return map[string]any{"touser": to, "msgtype": "template_card", "agentid": f.AgentID, "template_card": c}
	}
	many := strings.TrimSuffix(strings.Repeat("a|", 1001), "|")
	tests := []struct {
		name  string
		token string
		body  map[string]any
		want  int64
	}{
		{"ok", tok, msg("a|b", card("t1", 1)), 0},
		{"unknown token", "nope", msg("a", card("t2", 1)), codeInvalidToken},
		{"wrong agent", tok, map[string]any{"touser": "a", "msgtype": "template_card", "agentid": 1, "template_card": card("t3", 1)}, fakeInvalidAgent},
		{"1001 recipients", tok, msg(many, card("t4", 1)), fakeUserListLength},
		{"7 buttons", tok, msg("a", card("t5", 7)), fakeInvalidButtons},
		{"no buttons", tok, msg("a", card("t6", 0)), fakeInvalidButtons},
		{"same task_id again", tok, msg("a", card("t1", 1)), codeTaskIDExists},
		{"task_id with a colon", tok, msg("a", card("t:7", 1)), codeTaskIDExists},
		{"task_id of 129 bytes", tok, msg("a", card(strings.Repeat("x", 129), 1)), codeTaskIDExists},
		{"key over 1024 bytes", tok, msg("a", map[string]any{"card_type": "button_interaction", "main_title": map[string]any{"title": "t"}, "task_id": "t8",
			"button_list": []map[string]any{{"type": 0, "text": "b", "key": strings.Repeat("k", 1025)}}}), fakeInvalidKey},
		{"all users unknown", tok, msg("x|y", card("t9", 1)), codeAllInvalidUser},
	}
	for _, tc := range tests {
		got := send(tc.token, tc.body)
		require.EqualValues(t, tc.want, got["errcode"], "%s: %v", tc.name, got)
	}
	partial := send(tok, msg("a|zz", card("t10", 1)))
	require.EqualValues(t, 0, partial["errcode"])
	require.Equal(t, "zz", partial["invaliduser"])
	require.NotEmpty(t, partial["response_code"])
}
