package simulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/simulator"
	"github.com/learnloop/learnloop/bot"
)

// chatBot answers taps and text; it remembers the message ids it saw and
// answers a repeated one as a duplicate, as the chat service does.
type chatBot struct {
	mu   sync.Mutex
	seen map[string]bool
	got  []bot.InboundText
}

func (b *chatBot) HandleInteraction(context.Context, bot.Interaction) (bot.Reply, error) {
	return bot.Reply{OK: true}, nil
}

func (b *chatBot) HandleText(_ context.Context, in bot.InboundText) (bot.ChatReply, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[in.MessageID] {
		return bot.ChatReply{Duplicate: true}, nil
	}
	b.seen[in.MessageID] = true
	b.got = append(b.got, in)
	return bot.ChatReply{Text: "你说：" + in.Text, Links: []bot.ChatLink{{Text: "签到", URL: "https://x.example/c/t"}}}, nil
}

func TestSimulatorChat(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	c := simulator.New(simulator.Options{Now: func() time.Time { return now }})
	b := &chatBot{seen: map[string]bool{}}
	h := c.Handler("/sim", b, time.UTC, nil)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	say := func(body string) (int, bot.ChatReply) {
		resp, err := http.Post(srv.URL+"/sim/api/say", "application/json", bytes.NewBufferString(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		var r bot.ChatReply
		raw, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(raw, &r)
		return resp.StatusCode, r
	}
	cases := []struct {
		name, body string
		code       int
		text       string
		dup        bool
	}{
		{"a message", `{"user":"E1","text":" 签到 "}`, http.StatusOK, "你说：签到", false},
		{"with a message id", `{"user":"E1","text":"帮助","message_id":"m1"}`, http.StatusOK, "你说：帮助", false},
		{"the same id again", `{"user":"E1","text":"帮助","message_id":"m1"}`, http.StatusOK, "", true},
		{"no text", `{"user":"E1","text":"  "}`, http.StatusBadRequest, "", false},
		{"unknown field", `{"user":"E1","text":"x","token":"y"}`, http.StatusBadRequest, "", false},
	}
	for _, cs := range cases {
		code, r := say(cs.body)
		require.Equal(t, cs.code, code, cs.name)
		require.Equal(t, cs.text, r.Text, cs.name)
		require.Equal(t, cs.dup, r.Duplicate, cs.name)
	}
	lines := c.Chat("E1")
	require.Len(t, lines, 4, "two messages and two answers; the duplicate added nothing")
	require.False(t, lines[0].FromBot)
	require.Equal(t, "签到", lines[0].Text)
	require.True(t, lines[1].FromBot)
	require.Equal(t, "https://x.example/c/t", lines[1].Links[0].URL)
	require.Len(t, b.got, 2)
	require.Equal(t, bot.PlatformSimulator, b.got[0].Platform)
	require.NotEmpty(t, b.got[0].MessageID)

	// The page's text box posts a form and shows the conversation.
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.PostForm(srv.URL+"/sim/say", url.Values{"user": {"E1"}, "text": {"我的课程"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, err = http.Get(srv.URL + "/sim?user=E1")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(page), "你说：我的课程")
	require.Contains(t, string(page), `action="/sim/say"`)
	require.True(t, strings.Contains(string(page), `href="https://x.example/c/t"`))
}

// TestSimulatorWithoutChat: a handler that answers no text gets no text box.
func TestSimulatorWithoutChat(t *testing.T) {
	t.Parallel()
	c := simulator.New(simulator.Options{})
	h := c.Handler("/sim", bot.InteractionHandlerFunc(func(context.Context, bot.Interaction) (bot.Reply, error) { return bot.Reply{}, nil }), time.UTC, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sim?user=E1", nil))
	require.NotContains(t, rec.Body.String(), `action="/sim/say"`)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/sim/api/say", strings.NewReader(`{"user":"E1","text":"x"}`)))
	require.Equal(t, http.StatusBadRequest, rec.Code)
}
