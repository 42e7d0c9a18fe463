package dingtalk_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/dingtalk"
)

// Fake DingTalk: the new OpenAPI (api.dingtalk.com: oauth2, cards, the
// Stream gateway bootstrap), the legacy oapi (gettoken, asyncsend_v2,
// getsendresult) and a Stream WebSocket endpoint, on one httptest server.
// It checks what DingTalk checks — tokens, payload shape, limits — and can
// answer with scripted faults.

const (
	testAppKey    = "dingappkey0001"
	testAppSecret = "SECRET-app-secret-0123456789abcdef"
	testTemplate  = "tpl-0001.schema"
	testAgentID   = 4242
	testPublicURL = "https://learn.example.com"
)

type fault struct {
	status int
	body   string
}

type fakeCard struct {
	OutTrackID string
	UserID     string
	Public     map[string]string
	Private    map[string]string // the recipient's private data
	Creates    int
	Updates    int
	// Standard is the card JSON of a StandardCard (nil for a template card).
	Standard *dingtalk.StandardCard
}

type fakeTask struct {
	users  []string
	result map[string]string // user → "unread" | "forbidden:<code>" | "invalid"
	polls  int
}

type fakeDT struct {
	t   testing.TB
	srv *httptest.Server

	mu            sync.Mutex
	apiTokens     map[string]bool
	oapiTokens    map[string]bool
	apiTokenCalls int
	oapiTokenN    int
	cards         map[string]*fakeCard
	tasks         map[int64]*fakeTask
	nextTask      int64
	sent          map[string]bool // user|day|content hash
	perUserDay    map[string]int
	dailyLimit    int
	unknownUsers  map[string]bool
	faults        map[string][]fault
	pendingPolls  int // getsendresult answers "still sending" this many times per task
	maxUsersSeen  int
	calls         map[string]int
	day           string
	bad           []string // payload problems found (the test fails on them)
	noticeBodies  []string // asyncsend_v2 request bodies
	// forbid makes getsendresult report these users in forbidden_list
	// with the given code (e.g. 143103, too fast) on their next send.
	forbid map[string]string
	// arrivals records when each request came in, by path, for
	// sliding-window counts.
	arrivals map[string][]time.Time

	gw *fakeGateway

	// calendar (calendar_fake_test.go): unionIds by userid, events by id.
	unions map[string]string
	events map[string]*fakeEvent
	// sessions are the sessionWebhook sessions handed out in robot
	// messages (session → expiry); replies what was posted to them.
	sessions map[string]time.Time
	replies  []sessionReply
}

// sessionReply is one message posted to a sessionWebhook.
type sessionReply struct {
	Session, MsgType, Content string
}

func newFakeDT(t testing.TB) *fakeDT {
	f := &fakeDT{
		t: t, apiTokens: map[string]bool{}, oapiTokens: map[string]bool{}, cards: map[string]*fakeCard{},
		tasks: map[int64]*fakeTask{}, nextTask: 1000, sent: map[string]bool{}, perUserDay: map[string]int{},
		dailyLimit: 500, unknownUsers: map[string]bool{}, faults: map[string][]fault{}, calls: map[string]int{},
		day: "2026-03-02", sessions: map[string]time.Time{},
	}
	f.gw = newFakeGateway(t, f)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.gw.close()
		f.srv.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.bad) > 0 {
			t.Errorf("fake DingTalk saw bad requests:\n%s", strings.Join(f.bad, "\n"))
		}
	})
	return f
}

func (f *fakeDT) URL() string { return f.srv.URL }

// fail queues a scripted answer for the next call to path.
func (f *fakeDT) fail(path string, status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[path] = append(f.faults[path], fault{status, body})
}

// revokeTokens makes every issued token invalid (expired).
func (f *fakeDT) revokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apiTokens, f.oapiTokens = map[string]bool{}, map[string]bool{}
}

func (f *fakeDT) card(outTrackID string) *fakeCard {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cards[outTrackID]
	if c == nil {
		return nil
	}
	cp := *c
	cp.Public, cp.Private = copyMap(c.Public), copyMap(c.Private)
	if c.Standard != nil {
		std := *c.Standard
		cp.Standard = &std
	}
	return &cp
}

func (f *fakeDT) callCount(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[path]
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (f *fakeDT) badf(format string, args ...any) {
	f.bad = append(f.bad, fmt.Sprintf(format, args...))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeDT) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/gateway/connect" {
		f.gw.serveWS(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[r.URL.Path]++
	if f.arrivals == nil {
		f.arrivals = map[string][]time.Time{}
	}
	f.arrivals[r.URL.Path] = append(f.arrivals[r.URL.Path], time.Now())
	if q := f.faults[r.URL.Path]; len(q) > 0 {
		f.faults[r.URL.Path] = q[1:]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(q[0].status)
		_, _ = io.WriteString(w, q[0].body)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/robot/sendBySession":
		f.sendBySession(w, r, body)
	case r.Method == http.MethodPost && r.URL.Path == "/v1.0/oauth2/accessToken":
		f.accessToken(w, r, body)
	case r.Method == http.MethodGet && r.URL.Path == "/gettoken":
		f.getToken(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/v1.0/card/instances/createAndDeliver":
		if f.newAPIAuth(w, r) {
			f.createAndDeliver(w, body)
		}
	case r.Method == http.MethodPut && r.URL.Path == "/v1.0/card/instances":
		if f.newAPIAuth(w, r) {
			f.updateCard(w, body)
		}
	case r.Method == http.MethodPost && r.URL.Path == stdSendPath:
		if f.newAPIAuth(w, r) {
			f.sendStandard(w, body)
		}
	case r.Method == http.MethodPut && r.URL.Path == stdUpdatePath:
		if f.newAPIAuth(w, r) {
			f.updateStandard(w, body)
		}
	case r.Method == http.MethodPost && r.URL.Path == "/topapi/message/corpconversation/asyncsend_v2":
		if f.oapiAuth(w, r) {
			f.asyncSend(w, body)
		}
	case r.Method == http.MethodPost && r.URL.Path == "/topapi/message/corpconversation/getsendresult":
		if f.oapiAuth(w, r) {
			f.getSendResult(w, body)
		}
	case r.Method == http.MethodPost && r.URL.Path == "/v1.0/gateway/connections/open":
		f.gw.open(w, body)
	case f.serveCalendar(w, r, body):
	default:
		f.badf("unexpected %s %s", r.Method, r.URL.Path)
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "NotFound", "message": "no such api"})
	}
}

func (f *fakeDT) accessToken(w http.ResponseWriter, r *http.Request, body []byte) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.badf("accessToken content-type %q", ct)
	}
	var req struct{ AppKey, AppSecret string }
	if err := json.Unmarshal(body, &req); err != nil {
		f.badf("accessToken body: %v", err)
	}
	if req.AppKey != testAppKey || req.AppSecret != testAppSecret {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "invalidClientIdOrSecret", "message": "无效的clientId或者clientSecret", "requestid": "r-1"})
		return
	}
	f.apiTokenCalls++
	tok := "newtok-" + strconv.Itoa(f.apiTokenCalls)
	f.apiTokens[tok] = true
	writeJSON(w, http.StatusOK, map[string]any{"accessToken": tok, "expireIn": 7200})
}

func (f *fakeDT) getToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("appkey") != testAppKey || q.Get("appsecret") != testAppSecret {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 40089, "errmsg": "不合法的appKey或appSecret"})
		return
	}
	f.oapiTokenN++
	tok := "oldtok-" + strconv.Itoa(f.oapiTokenN)
	f.oapiTokens[tok] = true
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": tok, "expires_in": 7200})
}

func (f *fakeDT) newAPIAuth(w http.ResponseWriter, r *http.Request) bool {
	tok := r.Header.Get("x-acs-dingtalk-access-token")
	if !f.apiTokens[tok] {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "InvalidAuthentication", "message": "不合法的access_token", "requestid": "r-2"})
		return false
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.badf("%s content-type %q", r.URL.Path, ct)
	}
	return true
}

func (f *fakeDT) oapiAuth(w http.ResponseWriter, r *http.Request) bool {
	if !f.oapiTokens[r.URL.Query().Get("access_token")] {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 40014, "errmsg": "不合法的access_token"})
		return false
	}
	return true
}

type paramMap struct {
	CardParamMap map[string]string `json:"cardParamMap"`
}

func (f *fakeDT) createAndDeliver(w http.ResponseWriter, body []byte) {
	var req struct {
		CardTemplateID        string              `json:"cardTemplateId"`
		OutTrackID            string              `json:"outTrackId"`
		CallbackType          string              `json:"callbackType"`
		CardData              paramMap            `json:"cardData"`
		PrivateData           map[string]paramMap `json:"privateData"`
		OpenSpaceID           string              `json:"openSpaceId"`
		UserIDType            int                 `json:"userIdType"`
		ImRobotOpenSpaceModel *struct {
			SupportForward  *bool             `json:"supportForward"`
			LastMessageI18n map[string]string `json:"lastMessageI18n"`
			Notification    *struct {
				AlertContent    string `json:"alertContent"`
				NotificationOff *bool  `json:"notificationOff"`
			} `json:"notification"`
		} `json:"imRobotOpenSpaceModel"`
		ImRobotOpenDeliverModel *struct {
			SpaceType string `json:"spaceType"`
			RobotCode string `json:"robotCode"`
		} `json:"imRobotOpenDeliverModel"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		// cardParamMap values must be strings: a number or object fails here.
		f.badf("createAndDeliver body: %v: %s", err, body)
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "param.invalid", "message": err.Error()})
		return
	}
	const prefix = "dtv1.card//IM_ROBOT."
	user := strings.TrimPrefix(req.OpenSpaceID, prefix)
	switch {
	case req.CardTemplateID != testTemplate:
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "param.cardTemplateIdInvalid", "message": "模板不存在"})
		return
	case req.OutTrackID == "" || len(req.OutTrackID) > 128:
		f.badf("outTrackId %q", req.OutTrackID)
	case !strings.HasPrefix(req.OpenSpaceID, prefix) || user == "" || strings.Contains(user, ";"):
		f.badf("openSpaceId %q is not one robot chat", req.OpenSpaceID)
	case req.ImRobotOpenDeliverModel == nil || req.ImRobotOpenDeliverModel.SpaceType != "IM_ROBOT" || req.ImRobotOpenDeliverModel.RobotCode != testAppKey:
		f.badf("imRobotOpenDeliverModel %+v", req.ImRobotOpenDeliverModel)
	case req.CallbackType != "STREAM":
		f.badf("callbackType %q", req.CallbackType)
	case req.UserIDType != 1:
		f.badf("userIdType %d", req.UserIDType)
	case req.ImRobotOpenSpaceModel == nil || req.ImRobotOpenSpaceModel.SupportForward == nil || *req.ImRobotOpenSpaceModel.SupportForward:
		f.badf("robot card must not be forwardable: %+v", req.ImRobotOpenSpaceModel)
	case len(req.PrivateData) != 1 || req.PrivateData[user].CardParamMap == nil:
		f.badf("privateData must be keyed by the recipient %q: %v", user, req.PrivateData)
	case len(req.CardData.CardParamMap) == 0:
		f.badf("cardData.cardParamMap is empty")
	}
	for k := range req.CardData.CardParamMap {
		if strings.Contains(k, "token") {
			f.badf("public card data carries %q", k)
		}
	}
	if c := f.cards[req.OutTrackID]; c != nil {
		c.Creates++
	} else {
		f.cards[req.OutTrackID] = &fakeCard{OutTrackID: req.OutTrackID, UserID: user, Public: req.CardData.CardParamMap, Private: req.PrivateData[user].CardParamMap, Creates: 1}
	}
	ok := !f.unknownUsers[user]
	res := map[string]any{"spaceType": "IM_ROBOT", "spaceId": user, "success": ok, "carrierId": "carrier-" + req.OutTrackID}
	if !ok {
		res["errorMsg"] = "user not in the robot's range"
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "result": map[string]any{"outTrackId": req.OutTrackID, "deliverResults": []any{res}}})
}

func (f *fakeDT) updateCard(w http.ResponseWriter, body []byte) {
	var req struct {
		OutTrackID        string              `json:"outTrackId"`
		CardData          *paramMap           `json:"cardData"`
		PrivateData       map[string]paramMap `json:"privateData"`
		UserIDType        int                 `json:"userIdType"`
		CardUpdateOptions *struct {
			UpdateCardDataByKey    bool `json:"updateCardDataByKey"`
			UpdatePrivateDataByKey bool `json:"updatePrivateDataByKey"`
		} `json:"cardUpdateOptions"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		f.badf("update card body: %v: %s", err, body)
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "param.invalid", "message": err.Error()})
		return
	}
	c := f.cards[req.OutTrackID]
	if c == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "param.cardNotExist", "message": "卡片不存在"})
		return
	}
	if req.CardUpdateOptions == nil || !req.CardUpdateOptions.UpdateCardDataByKey {
		f.badf("card update without updateCardDataByKey replaces the whole card")
	}
	if req.CardData != nil {
		for k, v := range req.CardData.CardParamMap {
			c.Public[k] = v
		}
	}
	for u, p := range req.PrivateData {
		if u != c.UserID {
			f.badf("private data for %q on %q's card", u, c.UserID)
		}
		for k, v := range p.CardParamMap {
			c.Private[k] = v
		}
	}
	c.Updates++
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "result": true})
}

func (f *fakeDT) asyncSend(w http.ResponseWriter, body []byte) {
	f.noticeBodies = append(f.noticeBodies, string(body))
	var req struct {
		AgentID    int64           `json:"agent_id"`
		UserIDList string          `json:"userid_list"`
		Msg        json.RawMessage `json:"msg"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 40035, "errmsg": "缺少参数 json"})
		return
	}
	if req.AgentID != testAgentID {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 40056, "errmsg": "不合法的agentid"})
		return
	}
	users := strings.Split(req.UserIDList, ",")
	if req.UserIDList == "" {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 1430000, "errmsg": "接受者为空"})
		return
	}
	if len(users) > 100 {
		f.badf("userid_list has %d users", len(users))
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 40000, "errmsg": "userid_list 最多100个"})
		return
	}
	f.maxUsersSeen = max(f.maxUsersSeen, len(users))
	if len(req.Msg) > 2048 {
		f.badf("msg is %d bytes", len(req.Msg))
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 40035, "errmsg": "消息体过长"})
		return
	}
	var msg struct {
		MsgType    string `json:"msgtype"`
		ActionCard *struct {
			Title       string `json:"title"`
			Markdown    string `json:"markdown"`
			BtnJSONList []struct {
				Title     string `json:"title"`
				ActionURL string `json:"action_url"`
			} `json:"btn_json_list"`
		} `json:"action_card"`
		Markdown *struct{ Title, Text string } `json:"markdown"`
	}
	if err := json.Unmarshal(req.Msg, &msg); err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 40035, "errmsg": "缺少参数 msg"})
		return
	}
	switch msg.MsgType {
	case "action_card":
		if msg.ActionCard == nil || msg.ActionCard.Title == "" || msg.ActionCard.Markdown == "" || len(msg.ActionCard.BtnJSONList) == 0 {
			f.badf("action_card incomplete: %s", req.Msg)
		} else {
			for _, b := range msg.ActionCard.BtnJSONList {
				if b.Title == "" || b.ActionURL == "" {
					f.badf("action_card button incomplete: %s", req.Msg)
				}
			}
		}
	case "markdown":
		if msg.Markdown == nil || msg.Markdown.Title == "" || msg.Markdown.Text == "" {
			f.badf("markdown incomplete: %s", req.Msg)
		}
	default:
		f.badf("msgtype %q", msg.MsgType)
	}
	sum := sha256.Sum256(req.Msg)
	content := hex.EncodeToString(sum[:])
	f.nextTask++
	task := &fakeTask{users: users, result: map[string]string{}, polls: f.pendingPolls}
	for _, u := range users {
		key := u + "|" + f.day + "|" + content
		switch {
		case f.forbid[u] != "":
			task.result[u] = "forbidden:" + f.forbid[u]
			delete(f.forbid, u)
		case f.unknownUsers[u]:
			task.result[u] = "invalid"
		case f.sent[key]:
			task.result[u] = "forbidden:" + dingtalk.CodeDuplicate
		case f.perUserDay[u+"|"+f.day] >= f.dailyLimit:
			task.result[u] = "forbidden:" + dingtalk.CodeDailyLimit
		default:
			f.sent[key] = true
			f.perUserDay[u+"|"+f.day]++
			task.result[u] = "unread"
		}
	}
	f.tasks[f.nextTask] = task
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "task_id": f.nextTask, "request_id": "req-" + strconv.FormatInt(f.nextTask, 10)})
}

func (f *fakeDT) getSendResult(w http.ResponseWriter, body []byte) {
	var req struct {
		AgentID int64 `json:"agent_id"`
		TaskID  int64 `json:"task_id"`
	}
	_ = json.Unmarshal(body, &req)
	task := f.tasks[req.TaskID]
	if req.AgentID != testAgentID || task == nil {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 40056, "errmsg": "不合法的agentid或task_id"})
		return
	}
	res := map[string]any{
		"invalid_user_id_list": []string{}, "forbidden_user_id_list": []string{}, "failed_user_id_list": []string{},
		"read_user_id_list": []string{}, "unread_user_id_list": []string{}, "forbidden_list": []any{},
	}
	if task.polls > 0 {
		task.polls--
	} else {
		var invalid, forbidden, unread []string
		var reasons []any
		for _, u := range task.users {
			switch r := task.result[u]; {
			case r == "invalid":
				invalid = append(invalid, u)
			case strings.HasPrefix(r, "forbidden:"):
				forbidden = append(forbidden, u)
				reasons = append(reasons, map[string]any{"code": strings.TrimPrefix(r, "forbidden:"), "count": 1, "userid": u})
			default:
				unread = append(unread, u)
			}
		}
		res["invalid_user_id_list"], res["forbidden_user_id_list"], res["unread_user_id_list"], res["forbidden_list"] = invalid, forbidden, unread, reasons
	}
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "send_result": res})
}

// ---- Stream gateway ----

type gwAck struct {
	Conn      int
	MessageID string
	Code      int
	Data      string
}

type fakeGateway struct {
	t testing.TB
	f *fakeDT

	mu        sync.Mutex
	tickets   map[string]bool
	ticketN   int
	conn      *websocket.Conn
	connN     int
	conns     []*websocket.Conn
	unacked   map[string][]byte
	order     []string
	writeMu   sync.Mutex
	connected chan int
	acks      chan gwAck
}

func newFakeGateway(t testing.TB, f *fakeDT) *fakeGateway {
	return &fakeGateway{t: t, f: f, tickets: map[string]bool{}, unacked: map[string][]byte{},
		connected: make(chan int, 16), acks: make(chan gwAck, 64)}
}

// open is POST /v1.0/gateway/connections/open (called with f.mu held).
func (g *fakeGateway) open(w http.ResponseWriter, body []byte) {
	var req struct {
		ClientID      string `json:"clientId"`
		ClientSecret  string `json:"clientSecret"`
		UA            string `json:"ua"`
		Subscriptions []struct {
			Type, Topic string
		} `json:"subscriptions"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		g.f.badf("connections/open body: %v", err)
	}
	if req.ClientID != testAppKey || req.ClientSecret != testAppSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "invalidClientIdOrSecret", "message": "无效的clientId或者clientSecret"})
		return
	}
	if req.UA == "" {
		g.f.badf("connections/open without ua")
	}
	found := false
	for _, s := range req.Subscriptions {
		if s.Type == "CALLBACK" && (s.Topic == dingtalk.CardCallbackTopic || s.Topic == dingtalk.BotMessageTopic) || s.Type == "EVENT" && s.Topic == "*" {
			found = true
		}
	}
	if !found {
		g.f.badf("connections/open subscribes neither to card callbacks nor to events: %+v", req.Subscriptions)
	}
	g.mu.Lock()
	g.ticketN++
	ticket := "ticket-" + strconv.Itoa(g.ticketN)
	g.tickets[ticket] = true
	g.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"endpoint": "ws" + strings.TrimPrefix(g.f.srv.URL, "http") + "/gateway/connect", "ticket": ticket})
}

func (g *fakeGateway) serveWS(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	g.mu.Lock()
	ok := g.tickets[ticket]
	delete(g.tickets, ticket) // a ticket opens one connection
	g.mu.Unlock()
	if !ok {
		http.Error(w, `{"code":"invalidTicket"}`, http.StatusUnauthorized)
		return
	}
	up := websocket.Upgrader{}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	g.mu.Lock()
	g.connN++
	n := g.connN
	g.conn = conn
	g.conns = append(g.conns, conn)
	// Redeliver everything not acknowledged, in order.
	var resend [][]byte
	for _, id := range g.order {
		if fr, ok := g.unacked[id]; ok {
			resend = append(resend, fr)
		}
	}
	g.mu.Unlock()
	for _, fr := range resend {
		g.write(conn, fr)
	}
	g.connected <- n
	go func() {
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				g.mu.Lock()
				if g.conn == conn {
					g.conn = nil
				}
				g.mu.Unlock()
				return
			}
			var resp struct {
				Code    int               `json:"code"`
				Headers map[string]string `json:"headers"`
				Message string            `json:"message"`
				Data    string            `json:"data"`
			}
			if err := json.Unmarshal(data, &resp); err != nil {
				g.t.Errorf("gateway: bad ack %s", data)
				continue
			}
			id := resp.Headers["messageId"]
			g.mu.Lock()
			// An event answered LATER stays unacknowledged: DingTalk sends
			// it again.
			if resp.Code == http.StatusOK && !strings.Contains(resp.Data, `"LATER"`) {
				delete(g.unacked, id)
			}
			g.mu.Unlock()
			g.acks <- gwAck{Conn: n, MessageID: id, Code: resp.Code, Data: resp.Data}
		}
	}()
}

func (g *fakeGateway) write(conn *websocket.Conn, frame []byte) {
	g.writeMu.Lock()
	defer g.writeMu.Unlock()
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = conn.WriteMessage(websocket.TextMessage, frame)
}

// push delivers a frame now, or on the next connection; it is redelivered
// on every new connection until acknowledged with code 200.
func (g *fakeGateway) push(id string, frame []byte) {
	g.mu.Lock()
	if _, ok := g.unacked[id]; !ok {
		g.order = append(g.order, id)
	}
	g.unacked[id] = frame
	conn := g.conn
	g.mu.Unlock()
	if conn != nil {
		g.write(conn, frame)
	}
}

// pushOnce writes a frame without tracking it (a duplicate delivery).
func (g *fakeGateway) pushOnce(frame []byte) {
	g.mu.Lock()
	conn := g.conn
	g.mu.Unlock()
	if conn != nil {
		g.write(conn, frame)
	}
}

// disconnect sends the SYSTEM disconnect frame on the current connection.
func (g *fakeGateway) disconnect(id string) {
	fr, _ := json.Marshal(map[string]any{
		"specVersion": "1.0", "type": "SYSTEM",
		"headers": map[string]string{"topic": "disconnect", "messageId": id, "contentType": "application/json", "time": strconv.FormatInt(time.Now().UnixMilli(), 10)},
		"data":    `{"reason":"connection rotation"}`,
	})
	g.pushOnce(fr)
}

func (g *fakeGateway) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.conns {
		_ = c.Close()
	}
}

func (g *fakeGateway) waitConnected(t testing.TB, want int) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case n := <-g.connected:
			if n >= want {
				return
			}
		case <-deadline:
			t.Fatalf("gateway: connection %d never opened", want)
		}
	}
}

// waitAck waits for the ack of message id (ignoring others).
func (g *fakeGateway) waitAck(t testing.TB, id string) gwAck {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case a := <-g.acks:
			if a.MessageID == id {
				return a
			}
		case <-deadline:
			t.Fatalf("gateway: no ack for %s", id)
		}
	}
}

func (g *fakeGateway) unackedCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.unacked)
}

// tapFrame builds a card callback frame as the gateway sends it.
func tapFrame(t testing.TB, msgID, outTrackID, userID string, params map[string]any) []byte {
	t.Helper()
	content, err := json.Marshal(map[string]any{"cardPrivateData": map[string]any{"actionIds": []string{"tap"}, "params": params}})
	require.NoError(t, err)
	data, err := json.Marshal(map[string]any{
		"content": string(content), "corpId": "dingcorp01", "outTrackId": outTrackID, "spaceId": userID,
		"spaceType": "IM_ROBOT", "type": "actionCallback", "userId": userID, "userIdType": 1, "extension": "{}",
	})
	require.NoError(t, err)
	fr, err := json.Marshal(map[string]any{
		"specVersion": "1.0", "type": "CALLBACK",
		"headers": map[string]string{"topic": dingtalk.CardCallbackTopic, "messageId": msgID, "contentType": "application/json",
			"time": strconv.FormatInt(time.Now().UnixMilli(), 10), "appId": "app-1", "connectionId": "c-1"},
		"data": string(data),
	})
	require.NoError(t, err)
	return fr
}

// cardResponse decodes the card update carried by a callback ack.
func cardResponse(t testing.TB, a gwAck) (pub, priv map[string]string) {
	t.Helper()
	var d struct {
		Response struct {
			CardData        *paramMap `json:"cardData"`
			UserPrivateData *paramMap `json:"userPrivateData"`
		} `json:"response"`
	}
	require.NoError(t, json.Unmarshal([]byte(a.Data), &d), "ack data %s", a.Data)
	if d.Response.CardData != nil {
		pub = d.Response.CardData.CardParamMap
	}
	if d.Response.UserPrivateData != nil {
		priv = d.Response.UserPrivateData.CardParamMap
	}
	return pub, priv
}

// newSession hands out a sessionWebhook valid for ttl, as a robot message
// carries it.
func (f *fakeDT) newSession(id string, ttl time.Duration) (string, int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	exp := time.Now().Add(ttl)
	f.sessions[id] = exp
	return f.srv.URL + "/robot/sendBySession?session=" + id, exp.UnixMilli()
}

// sendBySession is POST /robot/sendBySession as DingTalk enforces it for
// the chat's answers: a known, unexpired session, msgtype text with a
// content of at most 20,000 bytes (called with f.mu held).
func (f *fakeDT) sendBySession(w http.ResponseWriter, r *http.Request, body []byte) {
	id := r.URL.Query().Get("session")
	exp, ok := f.sessions[id]
	if !ok || time.Now().After(exp) {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 300001, "errmsg": "session 不存在或已过期"})
		return
	}
	var req struct {
		MsgType string `json:"msgtype"`
		Text    struct {
			Content string `json:"content"`
		} `json:"text"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.MsgType != "text" || req.Text.Content == "" || len(req.Text.Content) > 20000 {
		f.badf("sendBySession body: %s", body)
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 40035, "errmsg": "缺少参数 json"})
		return
	}
	f.replies = append(f.replies, sessionReply{Session: id, MsgType: req.MsgType, Content: req.Text.Content})
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok"})
}

func (f *fakeDT) sessionReplies() []sessionReply {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sessionReply(nil), f.replies...)
}

// botFrame builds a robot message frame as the gateway sends it.
func botFrame(t testing.TB, frameID string, msg map[string]any) []byte {
	t.Helper()
	data, err := json.Marshal(msg)
	require.NoError(t, err)
	fr, err := json.Marshal(map[string]any{
		"specVersion": "1.0", "type": "CALLBACK",
		"headers": map[string]string{"topic": dingtalk.BotMessageTopic, "messageId": frameID, "contentType": "application/json",
			"time": strconv.FormatInt(time.Now().UnixMilli(), 10), "appId": "app-1", "connectionId": "c-1"},
		"data": string(data),
	})
	require.NoError(t, err)
	return fr
}
