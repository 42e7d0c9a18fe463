package wecom

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"
	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit/kittest"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/clocktest"
	"github.com/learnloop/learnloop/text"
)

// fakeClock is a settable clock; sleeping on it advances it.
type fakeClock struct{ *clocktest.Clock }

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{clocktest.New(t)} }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

// bundle is one client against one fake.
type bundle struct {
	f   *FakeWeCom
	c   *Client
	cfg Config
	clk *fakeClock
	log *kittest.LogBuffer
}

func setup(t testing.TB, users ...string) *bundle {
	t.Helper()
	f := NewFakeWeCom(t, users...)
	clk := newFakeClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
	f.Now = clk.Now
	cfg := f.Config()
	logs := &kittest.LogBuffer{}
	c, err := New(cfg, WithNow(clk.Now), WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	c.sleep = clk.Sleep
	return &bundle{f: f, c: c, cfg: cfg, clk: clk, log: logs}
}

// tok makes a syntactically valid interaction token.
func tok(t testing.TB) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func checkinMessage(t testing.TB, key string) bot.Message {
	return bot.Message{
		Key: key, Kind: bot.KindCheckinPrompt, Title: "签到提醒：高效沟通", Body: "《高效沟通》即将开始，请点击下方按钮签到。",
		Fields: []bot.Field{{Label: "时间", Value: "2026-03-02 10:00–12:00"}, {Label: "地点", Value: "3F A"}},
		Buttons: []bot.Button{
			{Text: "签到", Action: bot.ActionCheckin, Token: tok(t), Primary: true},
			{Text: "进入课堂", Action: bot.ActionLink, URL: "https://learn.example.com/l/abc"},
		},
		Fallback: "…", Locale: text.ZH,
	}
}

// CardEvent is a decrypted template_card_event as WeCom sends it.
type CardEvent struct {
	To, From, EventKey, TaskID, CardType, ResponseCode string
	CreateTime                                         int64
	AgentID                                            int64
	// Selected maps a question key to the option ids chosen.
	Selected map[string][]string
}

type cdata struct {
	Text string `xml:",cdata"`
}

// XML renders the event as WeCom's XML.
func (e CardEvent) XML() string {
	type option struct {
		IDs []cdata `xml:"OptionId"`
	}
	type item struct {
		QuestionKey cdata  `xml:"QuestionKey"`
		OptionIds   option `xml:"OptionIds"`
	}
	type doc struct {
		XMLName      xml.Name `xml:"xml"`
		ToUserName   cdata    `xml:"ToUserName"`
		FromUserName cdata    `xml:"FromUserName"`
		CreateTime   int64    `xml:"CreateTime"`
		MsgType      cdata    `xml:"MsgType"`
		Event        cdata    `xml:"Event"`
		EventKey     cdata    `xml:"EventKey"`
		TaskID       cdata    `xml:"TaskId"`
		CardType     cdata    `xml:"CardType"`
		ResponseCode cdata    `xml:"ResponseCode"`
		AgentID      int64    `xml:"AgentID"`
		Items        []item   `xml:"SelectedItems>SelectedItem"`
	}
	d := doc{ToUserName: cdata{e.To}, FromUserName: cdata{e.From}, CreateTime: e.CreateTime, MsgType: cdata{"event"},
		Event: cdata{eventTemplateCard}, EventKey: cdata{e.EventKey}, TaskID: cdata{e.TaskID}, CardType: cdata{e.CardType},
		ResponseCode: cdata{e.ResponseCode}, AgentID: e.AgentID}
	for q, ids := range e.Selected {
		it := item{QuestionKey: cdata{q}}
		for _, id := range ids {
			it.OptionIds.IDs = append(it.OptionIds.IDs, cdata{id})
		}
		d.Items = append(d.Items, it)
	}
	b, err := xml.Marshal(d)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// SignedCallback encrypts plain (with the SDK's EncryptMsg, for interop)
// for receiveID and signs it as WeCom does; it returns the query string and
// the XML body of the POST.
func SignedCallback(cfg Config, receiveID string, at time.Time, plain string) (string, string) {
	random := make([]byte, 16)
	_, _ = rand.Read(random)
	enc, err := util.EncryptMsg(random, []byte(plain), receiveID, cfg.EncodingAESKey)
	if err != nil {
		panic(err)
	}
	return signedEnvelope(cfg, at, string(enc))
}

// signedEnvelope signs an Encrypt value and wraps it in WeCom's XML.
func signedEnvelope(cfg Config, at time.Time, encrypt string) (string, string) {
	ts := strconv.FormatInt(at.Unix(), 10)
	nonce := randHex(5)
	q := url.Values{"msg_signature": {util.Signature(cfg.Token, ts, nonce, encrypt)}, "timestamp": {ts}, "nonce": {nonce}}
	body := fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt><AgentID><![CDATA[%d]]></AgentID></xml>", cfg.CorpID, encrypt, cfg.AgentID)
	return q.Encode(), body
}

// recorder is an InteractionHandler that counts and keeps what it got.
type recorder struct {
	mu    sync.Mutex
	got   []bot.Interaction
	calls atomic.Int32
	fn    func(bot.Interaction) (bot.Reply, error)
}

func (r *recorder) HandleInteraction(_ context.Context, in bot.Interaction) (bot.Reply, error) {
	r.calls.Add(1)
	r.mu.Lock()
	r.got = append(r.got, in)
	r.mu.Unlock()
	if r.fn != nil {
		return r.fn(in)
	}
	return bot.Reply{OK: true}, nil
}

func (r *recorder) all() []bot.Interaction {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Interaction(nil), r.got...)
}

// post sends a callback POST to h.
func post(h http.Handler, query, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, CallbackPath, strings.NewReader(body))
	req.URL.RawQuery = query // as received, even when malformed
	req.Header.Set("Content-Type", "text/xml")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
