package feishu

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit/kittest"
)

// Test credentials. The fake checks them; the leak tests look for them.
const (
	testAppID      = "cli_test_app"
	testAppSecret  = "s3cret-app-secret-value"
	testVToken     = "v-token-verification-1234"
	testEncryptKey = "enc-key-0123456789"
)

// failure is a scripted answer the fake gives to the next message request.
type failure struct {
	status int
	code   int
	msg    string
	html   bool // answer text/html instead of JSON (a gateway error page)
}

// sentMessage is one message the fake accepted.
type sentMessage struct {
	ID            string
	ReceiveIDType string
	ReceiveID     string
	UUID          string
	Content       string
	Card          map[string]any
}

// fakeFeishu is an httptest Feishu open platform that enforces what the
// real one does for the calls the adapter makes: app credentials on the
// token endpoint, a valid tenant token on every API call (99991663
// otherwise, with HTTP 400 as Feishu does), receive_id_type, msg_type,
// card schema 2.0 with update_multi, the 30 KB card limit, uuid dedup,
// and scripted rate-limit / server errors.
type fakeFeishu struct {
	t   testing.TB
	srv *httptest.Server

	wantIDType string

	mu           sync.Mutex
	tokens       map[string]bool // issued tokens → still valid
	issued       []string
	tokenFetches int
	tokenFail    *failure
	failures     []failure
	messages     []sentMessage
	byUUID       map[string]string
	msgRequests  int
	patches      []sentMessage
	replies      []sentMessage                // text replies (chat), by the message replied to
	users        map[string]map[string]string // open_id → user fields
	userLookups  int
	// now is the fake's clock (nil: time.Now); arrivals records when each
	// message request came in and for whom, for sliding-window counts.
	now      func() time.Time
	arrivals []arrival
	// calendar (calendar_fake_test.go)
	calFailures []failure
	events      map[string]*FakeEvent
}

// arrival is one message request the fake received.
type arrival struct {
	At        time.Time
	ReceiveID string
}

func newFakeFeishu(t testing.TB, idType string) *fakeFeishu {
	f := &fakeFeishu{t: t, wantIDType: idType, tokens: map[string]bool{}, byUUID: map[string]string{}, users: map[string]map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /open-apis/auth/v3/tenant_access_token/internal", f.token)
	mux.HandleFunc("POST /open-apis/im/v1/messages", f.send)
	mux.HandleFunc("PATCH /open-apis/im/v1/messages/{id}", f.patch)
	mux.HandleFunc("POST /open-apis/im/v1/messages/{id}/reply", f.reply)
	mux.HandleFunc("GET /open-apis/contact/v3/users/{id}", f.user)
	f.calendarRoutes(mux)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeFeishu) URL() string { return f.srv.URL }

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeFeishu) token(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AppID     string `json:"app_id"`
		AppSecret string `json:"app_secret"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		reply(w, 400, map[string]any{"code": 9499, "msg": "bad request"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenFetches++
	if fl := f.tokenFail; fl != nil {
		if fl.html {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(fl.status)
			_, _ = io.WriteString(w, "<html>bad gateway</html>")
			return
		}
		reply(w, fl.status, map[string]any{"code": fl.code, "msg": fl.msg})
		return
	}
	if req.AppID != testAppID {
		reply(w, 200, map[string]any{"code": 10003, "msg": "invalid param: app_id"})
		return
	}
	if req.AppSecret != testAppSecret {
		reply(w, 200, map[string]any{"code": 10014, "msg": "app secret invalid"})
		return
	}
	tok := fmt.Sprintf("t-g1044fake%04d", len(f.issued)+1)
	f.tokens[tok] = true
	f.issued = append(f.issued, tok)
	reply(w, 200, map[string]any{"code": 0, "msg": "ok", "tenant_access_token": tok, "expire": 7200})
}

// authorized checks the bearer token; it answers 99991663 when it fails.
func (f *fakeFeishu) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !f.tokens[tok] {
		reply(w, 400, map[string]any{"code": 99991663, "msg": "Invalid access token for authorization. Please make a request with token attached."})
		return false
	}
	return true
}

// checkCard enforces card JSON 2.0 with update_multi and the size limit.
func checkCard(content string) (map[string]any, *failure) {
	if len(content) > 30*1024 {
		return nil, &failure{status: 400, code: 230025, msg: "The message content is too long."}
	}
	var card map[string]any
	if err := json.Unmarshal([]byte(content), &card); err != nil {
		return nil, &failure{status: 400, code: 230099, msg: "Failed to create card content: not json"}
	}
	cfg, _ := card["config"].(map[string]any)
	body, _ := card["body"].(map[string]any)
	if card["schema"] != "2.0" || cfg == nil || cfg["update_multi"] != true || body == nil {
		return nil, &failure{status: 400, code: 230099, msg: "Failed to create card content: want schema 2.0 with config.update_multi"}
	}
	if _, ok := body["elements"].([]any); !ok {
		return nil, &failure{status: 400, code: 230099, msg: "Failed to create card content: body.elements"}
	}
	return card, nil
}

func (f *fakeFeishu) send(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgRequests++
	at := time.Now()
	if f.now != nil {
		at = f.now()
	}
	if !f.authorized(w, r) {
		return
	}
	if len(f.failures) > 0 {
		fl := f.failures[0]
		f.failures = f.failures[1:]
		if fl.html {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(fl.status)
			_, _ = io.WriteString(w, "<html>upstream error</html>")
			return
		}
		reply(w, fl.status, map[string]any{"code": fl.code, "msg": fl.msg})
		return
	}
	idType := r.URL.Query().Get("receive_id_type")
	if idType != f.wantIDType {
		reply(w, 400, map[string]any{"code": 230001, "msg": "invalid receive_id_type " + idType})
		return
	}
	var req struct {
		ReceiveID string `json:"receive_id"`
		MsgType   string `json:"msg_type"`
		Content   string `json:"content"`
		UUID      string `json:"uuid"`
	}
	err := json.NewDecoder(r.Body).Decode(&req)
	f.arrivals = append(f.arrivals, arrival{At: at, ReceiveID: req.ReceiveID})
	if err != nil || req.ReceiveID == "" || req.MsgType != "interactive" || len(req.UUID) > 50 {
		reply(w, 400, map[string]any{"code": 230001, "msg": "Your request contains an invalid request parameter."})
		return
	}
	card, fl := checkCard(req.Content)
	if fl != nil {
		reply(w, fl.status, map[string]any{"code": fl.code, "msg": fl.msg})
		return
	}
	id, dup := f.byUUID[req.UUID]
	if !dup || req.UUID == "" {
		id = fmt.Sprintf("om_fake%04d", len(f.messages)+1)
		f.messages = append(f.messages, sentMessage{ID: id, ReceiveIDType: idType, ReceiveID: req.ReceiveID, UUID: req.UUID, Content: req.Content, Card: card})
		if req.UUID != "" {
			f.byUUID[req.UUID] = id
		}
	}
	reply(w, 200, map[string]any{"code": 0, "msg": "success", "data": map[string]any{
		"message_id": id, "msg_type": "interactive", "create_time": strconv.FormatInt(time.Now().UnixMilli(), 10),
	}})
}

func (f *fakeFeishu) patch(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.authorized(w, r) {
		return
	}
	id := r.PathValue("id")
	known := false
	for _, m := range f.messages {
		known = known || m.ID == id
	}
	if !known {
		reply(w, 400, map[string]any{"code": 230001, "msg": "message not found"})
		return
	}
	var req struct {
		Content string `json:"content"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	card, fl := checkCard(req.Content)
	if fl != nil {
		reply(w, fl.status, map[string]any{"code": fl.code, "msg": fl.msg})
		return
	}
	f.patches = append(f.patches, sentMessage{ID: id, Content: req.Content, Card: card})
	reply(w, 200, map[string]any{"code": 0, "msg": "success"})
}

func (f *fakeFeishu) user(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.userLookups++
	if !f.authorized(w, r) {
		return
	}
	if r.URL.Query().Get("user_id_type") != "open_id" {
		reply(w, 400, map[string]any{"code": 99992402, "msg": "field validation failed"})
		return
	}
	u, ok := f.users[r.PathValue("id")]
	if !ok {
		reply(w, 400, map[string]any{"code": 41050, "msg": "no user authority error"})
		return
	}
	reply(w, 200, map[string]any{"code": 0, "msg": "success", "data": map[string]any{"user": u}})
}

// fail scripts the next message responses.
func (f *fakeFeishu) fail(fs ...failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, fs...)
}

// revokeTokens makes every issued token invalid (as if it expired early).
func (f *fakeFeishu) revokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.tokens {
		f.tokens[k] = false
	}
}

func (f *fakeFeishu) sent() []sentMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentMessage(nil), f.messages...)
}

func (f *fakeFeishu) patched() []sentMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentMessage(nil), f.patches...)
}

func (f *fakeFeishu) issuedTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.issued...)
}

func (f *fakeFeishu) counts() (tokenFetches, msgRequests, userLookups int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenFetches, f.msgRequests, f.userLookups
}

// testClient returns a Client against f with debug logging into logs.
func testClient(t testing.TB, f *fakeFeishu, mutate func(*Config), opts ...Option) (*Client, *kittest.LogBuffer) {
	t.Helper()
	logs := &kittest.LogBuffer{}
	cfg := Config{
		AppID: testAppID, AppSecret: testAppSecret, VerificationToken: testVToken, EncryptKey: testEncryptKey,
		APIBase: f.URL(), ReceiveIDType: f.wantIDType, Timeout: 5 * time.Second,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))}, opts...)
	c, err := New(cfg, opts...)
	require.NoError(t, err)
	return c, logs
}

// reply is POST /open-apis/im/v1/messages/{id}/reply as the chat uses it:
// a valid tenant token, an om_ message id, msg_type text with content
// {"text": …} of at most 150 KB, a uuid of at most 50 characters that
// de-duplicates.
func (f *fakeFeishu) reply(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.authorized(w, r) {
		return
	}
	id := r.PathValue("id")
	var req struct {
		MsgType string `json:"msg_type"`
		Content string `json:"content"`
		UUID    string `json:"uuid"`
	}
	err := json.NewDecoder(r.Body).Decode(&req)
	var content struct {
		Text *string `json:"text"`
	}
	if err != nil || !strings.HasPrefix(id, "om_") || req.MsgType != "text" || len(req.UUID) > 50 ||
		json.Unmarshal([]byte(req.Content), &content) != nil || content.Text == nil || len(req.Content) > 150<<10 {
		reply(w, 400, map[string]any{"code": 230001, "msg": "Your request contains an invalid request parameter."})
		return
	}
	for _, m := range f.replies {
		if req.UUID != "" && m.UUID == req.UUID {
			reply(w, 200, map[string]any{"code": 0, "msg": "success", "data": map[string]any{"message_id": m.ID + "_r"}})
			return
		}
	}
	f.replies = append(f.replies, sentMessage{ID: id, UUID: req.UUID, Content: *content.Text})
	reply(w, 200, map[string]any{"code": 0, "msg": "success", "data": map[string]any{"message_id": id + "_r", "msg_type": "text"}})
}

func (f *fakeFeishu) replied() []sentMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentMessage(nil), f.replies...)
}
