package feishu

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	larkws "github.com/larksuite/oapi-sdk-go/v3/ws"
	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
)

// fakeGateway is Feishu's long-connection side: the /callback/ws/endpoint
// bootstrap (checks the app credentials) and a WebSocket speaking the SDK's
// protobuf frames. Each connection delivers one card.action.trigger event,
// reads the client's answer frame and then drops the connection, so the
// client has to reconnect for the next one.
type fakeGateway struct {
	t      *testing.T
	srv    *httptest.Server
	events chan []byte // payloads to deliver, one per connection

	bootstraps atomic.Int32
	conns      atomic.Int32
	mu         sync.Mutex
	answers    []map[string]any // decoded callback answers, in order
}

func newFakeGateway(t *testing.T) *fakeGateway {
	g := &fakeGateway{t: t, events: make(chan []byte, 8)}
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /callback/ws/endpoint", func(w http.ResponseWriter, r *http.Request) {
		g.bootstraps.Add(1)
		var req larkws.BootstrapRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		if req.AppID != testAppID || req.AppSecret != testAppSecret {
			reply(w, 200, map[string]any{"code": 403, "msg": "app credentials invalid"})
			return
		}
		url := "ws" + strings.TrimPrefix(g.srv.URL, "http") + "/ws?device_id=d1&service_id=7"
		reply(w, 200, map[string]any{"code": 0, "msg": "ok", "data": map[string]any{
			"URL":          url,
			"ClientConfig": map[string]any{"ReconnectCount": -1, "ReconnectInterval": 1, "ReconnectNonce": 0, "PingInterval": 1},
		}})
	})
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		n := g.conns.Add(1)
		var payload []byte
		select {
		case payload = <-g.events:
		case <-r.Context().Done():
			return
		case <-time.After(10 * time.Second):
			return
		}
		msgID := "msg-" + string(rune('0'+n))
		frame := larkws.Frame{Method: int32(larkws.FrameTypeData), Service: 7, SeqID: uint64(n), Payload: payload,
			Headers: []larkws.Header{{Key: larkws.HeaderType, Value: string(larkws.MessageTypeEvent)}, {Key: larkws.HeaderMessageID, Value: msgID},
				{Key: larkws.HeaderSum, Value: "1"}, {Key: larkws.HeaderSeq, Value: "0"}, {Key: larkws.HeaderTraceID, Value: "trace"}}}
		b, err := frame.Marshal()
		if err != nil {
			g.t.Error(err)
			return
		}
		if err := conn.WriteMessage(websocket.BinaryMessage, b); err != nil {
			return
		}
		// Read until the answer to our frame arrives (pings come too).
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, raw, err := conn.ReadMessage()
			if err != nil {
				g.t.Errorf("no answer on connection %d: %v", n, err)
				return
			}
			var f larkws.Frame
			if err := f.Unmarshal(raw); err != nil {
				g.t.Errorf("bad frame: %v", err)
				return
			}
			if f.Method != int32(larkws.FrameTypeData) || larkws.Headers(f.Headers).GetString(larkws.HeaderMessageID) != msgID {
				continue
			}
			var resp larkws.Response
			if err := json.Unmarshal(f.Payload, &resp); err != nil || resp.StatusCode != http.StatusOK {
				g.t.Errorf("answer %q: %v", f.Payload, err)
				return
			}
			var ans map[string]any
			if err := json.Unmarshal(resp.Data, &ans); err != nil {
				g.t.Errorf("answer data %q: %v", resp.Data, err)
				return
			}
			g.mu.Lock()
			g.answers = append(g.answers, ans)
			g.mu.Unlock()
			return // drop the connection: the client must reconnect
		}
	})
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGateway) answered() []map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]map[string]any(nil), g.answers...)
}

// TestLongConnection runs Run against the fake gateway through the SDK's ws
// client: a tap arrives as an event frame and is answered in the ACK frame
// with the toast and card; after the server drops the connection the
// client reconnects and the next tap is answered too; cancelling the
// context stops Run.
func TestLongConnection(t *testing.T) {
	g := newFakeGateway(t)
	c, _ := testClient(t, newFakeFeishu(t, IDTypeUserID), func(cfg *Config) {
		cfg.APIBase, cfg.EncryptKey, cfg.CallbackMode = g.srv.URL, "", ModeWS
	})
	h := &recorder{}
	g.events <- newCallbackReq(t, "evt-ws-a").payload(t)
	g.events <- newCallbackReq(t, "evt-ws-b").payload(t)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, h) }()

	require.Eventually(t, func() bool { return len(g.answered()) == 2 }, 20*time.Second, 20*time.Millisecond)
	require.GreaterOrEqual(t, g.conns.Load(), int32(2), "reconnected after the drop")
	require.GreaterOrEqual(t, g.bootstraps.Load(), int32(2))
	require.Equal(t, 2, h.n())
	require.Equal(t, "u-1", h.calls[0].UserID)
	for _, ans := range g.answered() {
		toast := ans["toast"].(map[string]any)
		require.Equal(t, "success", toast["type"])
		card := ans["card"].(map[string]any)
		require.Equal(t, "raw", card["type"])
		require.Equal(t, "2.0", card["data"].(map[string]any)["schema"])
	}

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// TestLongConnectionStorageError: a tap over the long connection whose
// storage fails is answered in the ACK (status 200) with the "tap again"
// toast and no card, and counted: Feishu does not redeliver card
// callbacks, so an error answer would only lose the tap.
func TestLongConnectionStorageError(t *testing.T) {
	g := newFakeGateway(t)
	c, _ := testClient(t, newFakeFeishu(t, IDTypeUserID), func(cfg *Config) {
		cfg.APIBase, cfg.EncryptKey, cfg.CallbackMode = g.srv.URL, "", ModeWS
	})
	h := &recorder{reply: func(bot.Interaction) (bot.Reply, error) { return bot.Reply{}, errors.New("database is down") }}
	g.events <- newCallbackReq(t, "evt-ws-fail").payload(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, h) }()
	require.Eventually(t, func() bool { return len(g.answered()) == 1 }, 20*time.Second, 20*time.Millisecond)
	ans := g.answered()[0]
	require.Equal(t, map[string]any{"type": "warning", "content": "请稍后再点一次"}, ans["toast"])
	require.Nil(t, ans["card"])
	require.Equal(t, []string{"feishu/checkin"}, h.counted())
	cancel()
	require.NoError(t, <-done)
}
