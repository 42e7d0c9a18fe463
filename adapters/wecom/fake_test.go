package wecom

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/learnloop/learnloop/adapters/wecom/wecomtest"
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

// FakeWeCom is an httptest WeCom: the one fake WeCom API (wecomtest, which
// checks what the real one checks) with faults scripted per path and the
// schedule API (calendar_fake_test.go). It reads what the fake accepted as
// the adapter's own types.
type FakeWeCom struct {
	*httptest.Server
	CorpID  string
	Secret  string
	AgentID int64
	Now     func() time.Time

	api *wecomtest.Server

	mu        sync.Mutex
	faults    map[string][]Fault
	cards     []FakeCard // the api's cards read so far
	seq       int
	schedules map[string]*FakeSchedule
}

// NewFakeWeCom starts a fake for corp corpID whose members are users.
func NewFakeWeCom(t testing.TB, users ...string) *FakeWeCom {
	t.Helper()
	f := &FakeWeCom{
		CorpID: "ww" + randHex(8), Secret: "sec-" + randHex(16), AgentID: 1000002, Now: time.Now,
		faults: map[string][]Fault{},
	}
	f.api = wecomtest.New(wecomtest.Config{CorpID: f.CorpID, Secret: f.Secret, AgentID: f.AgentID, Members: users,
		Now: func() time.Time { return f.Now() }})
	mux := http.NewServeMux()
	mux.Handle("/", f.api)
	f.calendarRoutes(mux)
	f.Server = httptest.NewServer(f.faulty(mux))
	t.Cleanup(f.Close)
	return f
}

func randHex(n int) string { return wecomtest.RandHex(n) }

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
func (f *FakeWeCom) AddUser(id string) { f.api.AddMember(id) }

// Fail scripts the next answers on path (e.g. pathSend).
func (f *FakeWeCom) Fail(path string, faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[path] = append(f.faults[path], faults...)
}

// IssueResponseCode registers a response_code as WeCom does with a callback.
func (f *FakeWeCom) IssueResponseCode() string { return f.api.IssueResponseCode() }

// Cards returns the accepted messages.
func (f *FakeWeCom) Cards() []FakeCard {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.api.Cards(len(f.cards)) {
		fc := FakeCard{ToUser: c.ToUser, MsgType: c.MsgType, Text: c.Text, ResponseCode: c.ResponseCode, At: c.At, Dropped: c.Dropped}
		_ = json.Unmarshal(c.Message, &fc.Raw)
		if c.Template != nil {
			_ = json.Unmarshal(c.Template, &fc.Card)
		}
		f.cards = append(f.cards, fc)
	}
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
	var out []FakeUpdate
	for _, u := range f.api.Updates() {
		fu := FakeUpdate{UserIDs: u.UserIDs, ResponseCode: u.ResponseCode, ReplaceName: u.ReplaceName, Passive: u.Passive}
		if u.Template != nil {
			fu.Card = new(templateCard)
			_ = json.Unmarshal(u.Template, fu.Card)
		}
		out = append(out, fu)
	}
	return out
}

// Errcodes returns every non-zero errcode the fake answered.
func (f *FakeWeCom) Errcodes() []int64 { return f.api.Errcodes() }

// GetTokens returns how many tokens were issued.
func (f *FakeWeCom) GetTokens() int { return f.api.GetTokens() }

// Tokens returns every token issued.
func (f *FakeWeCom) Tokens() []string { return f.api.Tokens() }

// faulty answers the next scripted fault for a request's path, if any,
// before the fake API sees the request.
func (f *FakeWeCom) faulty(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		q := f.faults[r.URL.Path]
		if len(q) == 0 {
			f.mu.Unlock()
			next.ServeHTTP(w, r)
			return
		}
		ft := q[0]
		f.faults[r.URL.Path] = q[1:]
		f.mu.Unlock()
		if ft.ErrCode == codeTokenExpired {
			f.api.Expire(r.URL.Query().Get("access_token"))
		}
		if ft.Delay > 0 {
			time.Sleep(ft.Delay)
		}
		if ft.Status != 0 {
			http.Error(w, "upstream failure", ft.Status)
			return
		}
		msg := ft.ErrMsg
		if msg == "" {
			msg = "fault"
		}
		f.api.Fail(w, ft.ErrCode, msg)
	})
}

// Tap delivers ev to h as WeCom delivers a tap on a card — signed and
// encrypted with cfg's Token and EncodingAESKey — and takes the answer as
// WeCom does (Answer). It returns the answer and what Answer found wrong.
func (f *FakeWeCom) Tap(h http.Handler, cfg Config, ev CardEvent) (*httptest.ResponseRecorder, error) {
	q, body := SignedCallback(cfg, cfg.CorpID, f.Now(), ev.XML())
	sent := time.Now()
	rec := post(h, q, body)
	return rec, f.Answer(cfg, ev, sent, rec.Code, rec.Body.Bytes())
}

// Answer takes the answer to the tap callback ev, sent at sent (wall
// clock), as WeCom does (wecomtest's Server.Answer: in time, 200, signed
// and sealed for the corp, to the tapper, update_button or
// update_template_card with a card that passes the send's checks); a card
// update it makes is recorded as an update (Passive).
func (f *FakeWeCom) Answer(cfg Config, ev CardEvent, sent time.Time, status int, body []byte) error {
	_, err := f.api.Answer(cfg.Token, cfg.EncodingAESKey, wecomtest.Answer{ToUser: ev.From, CardType: ev.CardType,
		ResponseCode: ev.ResponseCode, Status: status, TookMS: time.Since(sent).Milliseconds(), Body: string(body)})
	return err
}
