package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/learnloop/learnloop/adapters/wecom/wecomtest"
)

// Fault modes switched at run time through /control.
const (
	ModeOK        = "ok"        // answer normally, no added latency
	ModeSlow      = "slow"      // answer normally after the configured latency
	Mode503       = "503"       // answer HTTP 503 (a proxy or gateway failing)
	ModeTimeout   = "timeout"   // hold the request for Hold, then accept it
	ModeRateLimit = "ratelimit" // answer errcode 45009
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
type Card = wecomtest.Card

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

// Fake is the one fake WeCom API (wecomtest: it checks what the real one
// checks for the calls learnloop makes and reads passive answers as WeCom
// does) behind fault modes switched at run time, with the counts the chaos
// suite reads.
type Fake struct {
	cfg Config
	api *wecomtest.Server
	mux *http.ServeMux

	mu         sync.Mutex
	rejections map[string]int // the fake's own: http_503, held, passive_refused
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
		cfg: cfg, rejections: map[string]int{}, mode: ModeOK, hold: cfg.Hold,
		api: wecomtest.New(wecomtest.Config{CorpID: cfg.CorpID, Secret: cfg.Secret, AgentID: cfg.AgentID,
			Members: cfg.Members, AnyMember: len(cfg.Members) == 0, Now: cfg.Now}),
	}
	mux := http.NewServeMux()
	mux.Handle("/cgi-bin/", f.faulty(f.api))
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

func (f *Fake) reject(reason string) {
	f.mu.Lock()
	f.rejections[reason]++
	f.mu.Unlock()
}

// current returns the fault mode, latency and hold in force now.
func (f *Fake) current() (string, time.Duration, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mode, f.latency, f.hold
}

// faulty applies the fault mode before an API call. A held request
// (timeout) is processed afterwards whatever the client did meanwhile.
func (f *Fake) faulty(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
				f.api.Fail(w, wecomtest.CodeFreqLimit, "api freq out of limit, hint: [fake]")
				return
			}
		case ModeTimeout:
			// Read the request first: the client gives up during the hold,
			// WeCom has the whole request by then and still acts on it.
			raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				f.api.Fail(w, wecomtest.CodeInvalidParam, "cannot read body")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(raw))
			f.reject("held")
			time.Sleep(hold)
			r = r.WithContext(wecomtest.WithHeld(r.Context()))
		}
		next.ServeHTTP(w, r)
	})
}

// issueResponseCode hands out a response_code as WeCom puts one in each
// card callback (test drivers building callbacks use it).
func (f *Fake) issueResponseCode(w http.ResponseWriter, _ *http.Request) {
	f.api.Reply(w, map[string]any{"errcode": 0, "response_code": f.api.IssueResponseCode()})
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
	cards := f.api.Cards(0)
	st := Stats{Accepted: len(cards), PerToUser: map[string]int{}, TaskIDs: f.api.TaskIDs(), Rejections: map[string]int{},
		GetTokens: f.api.GetTokens()}
	perKind := map[string]int{}
	for _, c := range cards {
		st.PerToUser[c.ToUser]++
		if c.Held {
			st.HeldAccepted++
		}
		kind := c.CardType + "|" + c.Title
		if c.MsgType == "text" {
			kind = "text|" + strings.SplitN(c.Text, "\n", 2)[0]
		}
		k := kind + "\x00" + c.ToUser
		if perKind[k]++; perKind[k] > 1 {
			st.Duplicates++
			if len(st.DuplicateUsers) < 50 {
				st.DuplicateUsers = append(st.DuplicateUsers, c.ToUser)
			}
		}
	}
	for _, u := range f.api.Updates() {
		if u.Passive {
			st.PassiveUpdates++
		} else {
			st.Updates++
		}
	}
	for _, code := range f.api.Errcodes() {
		st.Rejections["errcode_"+strconv.FormatInt(code, 10)]++
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, v := range f.rejections {
		st.Rejections[k] += v
	}
	st.State = f.stateLocked()
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
	out := f.api.Cards(off)
	out = out[:min(lim, len(out))]
	if out == nil {
		out = []Card{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
