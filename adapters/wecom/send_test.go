package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"
	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/wecom/wecomtest"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/text"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestSendCheckinCard(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	m := checkinMessage(t, "ll-7-0-42")
	rc, err := b.c.Send(context.Background(), bot.Recipient{UserID: "zhangwei"}, m)
	require.NoError(t, err)
	cards := b.f.Cards()
	require.Len(t, cards, 1)
	got := cards[0]
	require.Equal(t, "zhangwei", got.ToUser)
	require.Equal(t, "template_card", got.MsgType)
	require.Equal(t, cardButtonInteraction, got.Card.CardType)
	require.Equal(t, "ll-7-0-42", got.Card.TaskID, "task_id is the delivery key")
	require.Equal(t, got.ResponseCode, rc.Handle, "the receipt keeps the response_code for a later update")
	require.Equal(t, b.clk.Now(), rc.SentAt)
	require.Len(t, got.Card.ButtonList, 2)
	cb := got.Card.ButtonList[0]
	require.Equal(t, 0, cb.Type)
	action, value, token, err := decodeKey(cb.Key)
	require.NoError(t, err)
	require.Equal(t, bot.ActionCheckin, action)
	require.Empty(t, value)
	require.Equal(t, m.Buttons[0].Token, token, "the key carries the recipient's own signed token")
	link := got.Card.ButtonList[1]
	require.Equal(t, 1, link.Type)
	require.Equal(t, "https://learn.example.com/l/abc", link.URL, "links are the tracked /l/ links")
	require.Equal(t, []horizontalContent{{"时间", "2026-03-02 10:00–12:00"}, {"地点", "3F A"}}, got.Card.HorizontalContentList)
}

// TestRenderGolden pins the JSON of each card kind and checks that the fake
// (which validates like WeCom) accepts it.
func TestRenderGolden(t *testing.T) {
	t.Parallel()
	const token = "AQFpAbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_"
	link := bot.Button{Text: "进入课堂", Action: bot.ActionLink, URL: "https://learn.example.com/l/LINKTOKEN"}
	rate := func() []bot.Button {
		var out []bot.Button
		for i := 1; i <= 5; i++ {
			out = append(out, bot.Button{Text: strings.Repeat("★", i), Action: bot.ActionRate, Value: strconv.Itoa(i), Token: token})
		}
		return out
	}
	npsButtons := func() []bot.Button {
		var out []bot.Button
		for i := 0; i <= 10; i++ {
			out = append(out, bot.Button{Text: strconv.Itoa(i), Action: bot.ActionNPS, Value: strconv.Itoa(i), Token: token})
		}
		return out
	}
	base := bot.Message{Title: "课程反馈：高效沟通", Body: "请为本次课程打分。", Fields: []bot.Field{{Label: "讲师", Value: "赵老师"}}, Locale: text.ZH}
	with := func(key string, f func(m *bot.Message)) bot.Message {
		m := base
		m.Key = key
		f(&m)
		return m
	}
	tests := []struct {
		name string
		m    bot.Message
		want string // card_type or "text"
	}{
		{"checkin", with("ll-1-0-1", func(m *bot.Message) {
			m.Buttons = []bot.Button{{Text: "签到", Action: bot.ActionCheckin, Token: token, Primary: true}, link}
		}), cardButtonInteraction},
		{"rating", with("ll-2-0-1", func(m *bot.Message) { m.Buttons = append(rate(), link) }), cardButtonInteraction},
		{"rating choice", with("ll-3-0-1", func(m *bot.Message) {
			m.Choice = &bot.Choice{Question: "本课程评分", Action: bot.ActionRate, Token: token, Options: []string{"1", "2", "3", "4", "5"}}
		}), cardButtonInteraction},
		{"nps choice", with("ll-4-0-1", func(m *bot.Message) {
			m.Choice = &bot.Choice{Question: "您有多大可能向同事推荐本课程？", Action: bot.ActionNPS, Token: token,
				Options: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}}
		}), cardVoteInteraction},
		{"nps buttons", with("ll-5-0-1", func(m *bot.Message) { m.Buttons = npsButtons() }), cardVoteInteraction},
		{"nps survey", with("ll-9-0-1", func(m *bot.Message) {
			// As surveys renders it: the choice, the same choice as buttons, a secondary link.
			m.Choice = &bot.Choice{Question: "推荐度", Action: bot.ActionNPS, Token: token, Submit: "提交评分",
				Options: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}}
			m.Buttons = append(npsButtons(), bot.Button{Text: "说说原因", Action: bot.ActionLink, URL: "https://learn.example.com/l/WHY"})
		}), cardVoteInteraction},
		{"feedback with form", with("ll-10-0-1", func(m *bot.Message) {
			// The form link is the main call to action: it wins over the in-card choice.
			m.Choice = &bot.Choice{Question: "推荐度", Action: bot.ActionNPS, Token: token,
				Options: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}}
			m.Buttons = append(npsButtons(), bot.Button{Text: "填写问卷", Action: bot.ActionLink, URL: "https://learn.example.com/l/FORM", Primary: true}, link)
		}), cardTextNotice},
		{"links only", with("ll-6-0-1", func(m *bot.Message) { m.Buttons = []bot.Button{link} }), cardTextNotice},
		{"no buttons", with("ll-7-0-1", func(*bot.Message) {}), "text"},
		{"key with other characters", with("ll-8-2026-03-02T10:00:00Z-1", func(m *bot.Message) {
			m.Buttons = []bot.Button{{Text: "签到", Action: bot.ActionCheckin, Token: token}}
		}), cardButtonInteraction},
	}
	b := setup(t, "u1")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := render(tc.m)
			require.NoError(t, err)
			req.ToUser, req.AgentID = "u1", 1000002
			got, err := json.MarshalIndent(req, "", "  ")
			require.NoError(t, err)
			if tc.want == "text" {
				require.Equal(t, "text", req.MsgType)
			} else {
				require.Equal(t, tc.want, req.TemplateCard.CardType)
				require.Regexp(t, `^[0-9A-Za-z_\-@]{1,128}$`, req.TemplateCard.TaskID)
			}
			golden := filepath.Join("testdata", "golden", strings.ReplaceAll(tc.name, " ", "_")+".json")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
				require.NoError(t, os.WriteFile(golden, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -update to create %s", golden)
			require.JSONEq(t, string(want), string(got))
			_, err = b.c.Send(context.Background(), bot.Recipient{UserID: "u1"}, tc.m)
			require.NoError(t, err, "the fake WeCom accepts it")
		})
	}
}

func TestRenderRefuses(t *testing.T) {
	t.Parallel()
	tok := tok(t)
	many := make([]bot.Button, 7)
	for i := range many {
		many[i] = bot.Button{Text: "x", Action: bot.ActionCheckin, Token: fmt.Sprintf("%s%d", tok, i)}
	}
	for name, m := range map[string]bot.Message{
		"no key":                  {Title: "t"},
		"seven different buttons": {Key: "k", Title: "t", Buttons: many},
		"choice and buttons": {Key: "k", Title: "t", Buttons: many[:1],
			Choice: &bot.Choice{Action: bot.ActionNPS, Token: tok, Options: []string{"0", "1", "2", "3", "4", "5", "6"}}},
		"option not an id": {Key: "k", Title: "t", Choice: &bot.Choice{Action: bot.ActionNPS, Token: tok,
			Options: []string{"0", "1", "2", "3", "4", "5", "非常好"}}},
		"token not url-safe": {Key: "k", Title: "t", Buttons: []bot.Button{{Text: "签到", Action: bot.ActionCheckin, Token: "a:b"}}},
		"key too long":       {Key: "k", Title: "t", Buttons: []bot.Button{{Text: "签到", Action: bot.ActionCheckin, Token: strings.Repeat("a", 1100)}}},
	} {
		_, err := render(m)
		require.Error(t, err, name)
	}
	// Send reports it as a permanent failure without calling WeCom.
	c, err := New(Config{CorpID: "ww1", AgentID: 1, Secret: "s", Token: "t", EncodingAESKey: randomAESKey(), APIBase: "http://127.0.0.1:1"})
	require.NoError(t, err)
	_, err = c.Send(context.Background(), bot.Recipient{UserID: "u"}, bot.Message{Key: "k", Title: "t", Buttons: many})
	var perm *bot.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, CodeRender, perm.Code)
}

func TestTaskID(t *testing.T) {
	t.Parallel()
	require.Equal(t, "ll-1-0-2", taskID("ll-1-0-2"))
	require.Equal(t, "a@b_c-D", taskID("a@b_c-D"))
	for _, k := range []string{"ll-1-2026-03-02T10:00:00Z-2", strings.Repeat("x", 129), "签到", "a b"} {
		id := taskID(k)
		require.Regexp(t, `^[0-9A-Za-z_\-@]{1,128}$`, id, k)
		require.Equal(t, id, taskID(k), "deterministic")
		require.NotEqual(t, taskID(k+"x"), id)
	}
}

// TestRetryMakesNoSecondCard: a retry after a lost answer finds the task_id
// taken (42014) and counts as sent; WeCom shows one card.
func TestRetryMakesNoSecondCard(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	m := checkinMessage(t, "ll-9-0-1")
	to := bot.Recipient{UserID: "zhangwei"}
	_, err := b.c.Send(context.Background(), to, m)
	require.NoError(t, err)
	rc, err := b.c.Send(context.Background(), to, m)
	require.NoError(t, err)
	require.False(t, rc.SentAt.IsZero())
	require.Len(t, b.f.Cards(), 1)
	require.Equal(t, []int64{codeTaskIDExists}, b.f.Errcodes(), "the fake refused the second card")
}

func TestSendErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		faults     []Fault
		user       string
		wantPerm   string // PermanentError code, "" for success/transient
		transient  bool
		wantTokens int
		check      func(t *testing.T, b *bundle, err error)
	}{
		{name: "ok", user: "zhangwei", wantTokens: 1},
		{name: "42001 token expired: dropped and refetched", faults: []Fault{{ErrCode: codeTokenExpired}}, user: "zhangwei", wantTokens: 2},
		{name: "40014 invalid token: dropped and refetched", faults: []Fault{{ErrCode: codeInvalidToken}}, user: "zhangwei", wantTokens: 2},
		{name: "40001: dropped and refetched", faults: []Fault{{ErrCode: codeInvalidSecret}}, user: "zhangwei", wantTokens: 2},
		{name: "42001 twice is transient", faults: []Fault{{ErrCode: codeTokenExpired}, {ErrCode: codeTokenExpired}}, user: "zhangwei", transient: true, wantTokens: 2},
		{name: "45009 backs off", faults: []Fault{{ErrCode: codeFreqLimit, ErrMsg: "api freq out of limit"}}, user: "zhangwei", transient: true, wantTokens: 1,
			check: func(t *testing.T, b *bundle, err error) {
				var ae *APIError
				require.ErrorAs(t, err, &ae)
				require.EqualValues(t, codeFreqLimit, ae.Code)
				wait, werr := b.c.pace.reserve("someone", false)
				require.NoError(t, werr)
				require.Equal(t, baseCooldown, wait, "every send now waits")
			}},
		{name: "-1 busy is transient", faults: []Fault{{ErrCode: codeBusy}}, user: "zhangwei", transient: true, wantTokens: 1},
		{name: "5xx is transient", faults: []Fault{{Status: http.StatusBadGateway}}, user: "zhangwei", transient: true, wantTokens: 1,
			check: func(t *testing.T, _ *bundle, err error) { require.ErrorContains(t, err, "http status 502") }},
		{name: "other errcode is permanent", faults: []Fault{{ErrCode: 48002, ErrMsg: "api forbidden"}}, user: "zhangwei", wantPerm: "48002", wantTokens: 1,
			check: func(t *testing.T, _ *bundle, err error) {
				var perm *bot.PermanentError
				require.ErrorAs(t, err, &perm)
				require.Equal(t, "api forbidden", perm.Message)
			}},
		{name: "unknown user is invaliduser", user: "nobody", wantPerm: CodeInvalidUser, wantTokens: 1},
		{name: "no userid", user: "", wantPerm: CodeInvalidUser, wantTokens: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, "zhangwei")
			b.f.Fail(pathSend, tc.faults...)
			rc, err := b.c.Send(context.Background(), bot.Recipient{UserID: tc.user}, checkinMessage(t, "ll-1-0-1"))
			var perm *bot.PermanentError
			switch {
			case tc.wantPerm != "":
				require.ErrorAs(t, err, &perm)
				require.Equal(t, tc.wantPerm, perm.Code)
			case tc.transient:
				require.Error(t, err)
				require.False(t, errors.As(err, &perm), "transient: %v", err)
			default:
				require.NoError(t, err)
				require.NotEmpty(t, rc.Handle)
				require.Len(t, b.f.Cards(), 1)
			}
			require.Equal(t, tc.wantTokens, b.f.GetTokens())
			if tc.check != nil {
				tc.check(t, b, err)
			}
		})
	}
}

func TestTokenIsCached(t *testing.T) {
	t.Parallel()
	b := setup(t, "u1", "u2", "u3")
	for i, u := range []string{"u1", "u2", "u3"} {
		_, err := b.c.Send(context.Background(), bot.Recipient{UserID: u}, checkinMessage(t, fmt.Sprintf("k-%d", i)))
		require.NoError(t, err)
	}
	require.Equal(t, 1, b.f.GetTokens())
	// The SDK keeps it expires_in − 1500 s.
	b.clk.Advance(7200*time.Second - 1500*time.Second)
	_, err := b.c.Send(context.Background(), bot.Recipient{UserID: "u1"}, checkinMessage(t, "k-9"))
	require.NoError(t, err)
	require.Equal(t, 2, b.f.GetTokens())
}

func TestUpdateCard(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	ctx := context.Background()
	to := bot.Recipient{UserID: "zhangwei"}
	rc, err := b.c.Send(ctx, to, checkinMessage(t, "ll-1-0-1"))
	require.NoError(t, err)

	tapped := checkinMessage(t, "ll-1-0-1")
	tapped.Status = "已签到 09:02 ✓"
	require.NoError(t, b.c.UpdateCard(ctx, to, rc.Handle, tapped))
	ups := b.f.Updates()
	require.Len(t, ups, 1)
	require.Equal(t, "已签到 09:02 ✓", ups[0].ReplaceName)
	require.Equal(t, rc.Handle, ups[0].ResponseCode)
	require.Equal(t, []string{"zhangwei"}, ups[0].UserIDs)

	// A response_code is single use.
	err = b.c.UpdateCard(ctx, to, rc.Handle, tapped)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	require.EqualValues(t, wecomtest.CodeUsedRespCode, ae.Code)

	// Without a status the whole card is replaced.
	code := b.f.IssueResponseCode()
	whole := checkinMessage(t, "ll-1-0-1")
	whole.Buttons = whole.Buttons[1:]
	whole.Buttons = append([]bot.Button{{Text: "已签到", Action: bot.ActionCheckin, Token: tok(t)}}, whole.Buttons...)
	require.NoError(t, b.c.UpdateCard(ctx, to, code, whole))
	ups = b.f.Updates()
	require.Len(t, ups, 2)
	require.NotNil(t, ups[1].Card)
	require.Equal(t, "ll-1-0-1", ups[1].Card.TaskID)

	require.ErrorIs(t, b.c.UpdateCard(ctx, to, "", tapped), ErrNoHandle)

	// An expired token is refetched here too.
	b.f.Fail(pathUpdate, Fault{ErrCode: codeTokenExpired})
	require.NoError(t, b.c.UpdateCard(ctx, to, b.f.IssueResponseCode(), tapped))
	require.Equal(t, 2, b.f.GetTokens())
}

func TestDoctor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	require.NoError(t, b.c.Doctor(ctx))

	tests := []struct {
		name string
		mut  func(*Config)
		want []string
	}{
		{"wrong secret", func(c *Config) { c.Secret = "wrong-secret-value" }, []string{"errcode 40001", "secret is wrong", "platforms.wecom.secret"}},
		{"wrong corp id", func(c *Config) { c.CorpID = "wwwrong" }, []string{"errcode 40013", "corp id is wrong"}},
		{"wrong agent id", func(c *Config) { c.AgentID = 99 }, []string{"agent_id 99", "errcode 301002", "different apps"}},
		{"unreachable", func(c *Config) { c.APIBase = "http://127.0.0.1:1" }, []string{"cannot reach http://127.0.0.1:1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := b.cfg
			tc.mut(&cfg)
			c, err := New(cfg)
			require.NoError(t, err)
			err = c.Doctor(ctx)
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
			require.NotContains(t, err.Error(), cfg.Secret)
		})
	}
}

// TestNoSecretLeaks drives every failure path and checks that no error
// string and no log line carries the secret, the AES key or an access
// token, although the SDK's own errors carry the URL with them.
func TestNoSecretLeaks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, "zhangwei")
	var errs []string
	note := func(err error) {
		if err != nil {
			errs = append(errs, err.Error(), fmt.Sprintf("%+v", err))
		}
	}
	to := bot.Recipient{UserID: "zhangwei"}
	send := func(key string) error {
		_, err := b.c.Send(ctx, to, checkinMessage(t, key))
		return err
	}
	note(send("k0")) // a token exists from here on
	for i, f := range []Fault{{Status: 500}, {Status: 503}, {ErrCode: codeFreqLimit}, {ErrCode: codeTokenExpired}, {ErrCode: codeTokenExpired},
		{ErrCode: 40058, ErrMsg: "bad request from " + b.f.URL + "/cgi-bin/message/send?access_token=" + b.f.Tokens()[0]},
		{ErrCode: 40058, ErrMsg: "a dropped token echoed bare: " + b.f.Tokens()[0]}} {
		b.f.Fail(pathSend, f)
		b.clk.Advance(time.Minute)
		note(send(fmt.Sprintf("k%d", i+1)))
	}
	b.f.Fail(pathUpdate, Fault{Status: 502})
	note(b.c.UpdateCard(ctx, to, "rc", bot.Message{Key: "k", Title: "t", Status: "ok"}))
	note(b.c.Doctor(ctx))

	// A timeout, a host that refuses connections (the gettoken URL with
	// corpsecret is in the SDK's error) and a wrong secret: each client
	// sends once and runs the doctor.
	other := func(key string, mutate func(*Config)) error {
		cfg := b.cfg
		mutate(&cfg)
		c, err := New(cfg, WithLogger(slog.New(slog.NewJSONHandler(b.log, nil))))
		require.NoError(t, err)
		_, err = c.Send(ctx, to, checkinMessage(t, key))
		note(err)
		note(c.Doctor(ctx))
		return err
	}
	b.f.Fail("/cgi-bin/gettoken", Fault{Delay: 300 * time.Millisecond, ErrCode: 0})
	require.ErrorIs(t, other("slow", func(c *Config) { c.Timeout = 50 * time.Millisecond }), context.DeadlineExceeded)
	_ = other("dead", func(c *Config) { c.APIBase = "http://127.0.0.1:1" })
	const wrongSecret = "a-wrong-secret-1234"
	_ = other("wrong", func(c *Config) { c.Secret = wrongSecret })

	require.GreaterOrEqual(t, len(errs), 16)
	secrets := append(b.f.Tokens(), b.cfg.Secret, wrongSecret, b.cfg.EncodingAESKey)
	require.GreaterOrEqual(t, len(b.f.Tokens()), 2)
	all := strings.Join(errs, "\n") + "\n" + b.log.String()
	for _, s := range secrets {
		require.NotContains(t, all, s)
	}
	require.NotContains(t, all, "access_token=at-")
	require.NotContains(t, all, "corpsecret=sec-")
	require.Contains(t, all, "REDACTED", "the echoed URL was redacted, not dropped")
}

// TestClientsRouteSeparately: the SDK's HTTP globals are set once; each
// Client's calls reach its own api_base, even concurrently.
func TestClientsRouteSeparately(t *testing.T) {
	t.Parallel()
	b1, b2 := setup(t, "a"), setup(t, "a")
	var wg sync.WaitGroup
	for i := range 20 {
		for _, b := range []*bundle{b1, b2} {
			wg.Go(func() {
				_, err := b.c.Send(context.Background(), bot.Recipient{UserID: "a"}, checkinMessage(t, fmt.Sprintf("k-%d", i)))
				require.NoError(t, err)
			})
		}
	}
	wg.Wait()
	require.Len(t, b1.f.Cards(), 20)
	require.Len(t, b2.f.Cards(), 20)
}

// TestBridgeReplaced: if other code replaces the SDK's HTTP client, calls
// are refused instead of going to the real WeCom. Not parallel: it swaps a
// process global (parallel tests start only after it has restored it).
func TestBridgeReplaced(t *testing.T) {
	b := setup(t, "a")
	saved := util.DefaultHTTPClient
	util.DefaultHTTPClient = &http.Client{}
	_, err := b.c.Send(context.Background(), bot.Recipient{UserID: "a"}, checkinMessage(t, "k"))
	util.DefaultHTTPClient = saved
	require.ErrorIs(t, err, errBridgeReplaced)
	require.Empty(t, b.f.Cards())
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	_, err := New(Config{})
	require.Error(t, err)
	for _, s := range []string{"corp id", "agent id", "secret", "callback token", "encoding aes key"} {
		require.ErrorContains(t, err, s)
	}
	_, err = New(Config{CorpID: "c", AgentID: 1, Secret: "s", Token: "t", EncodingAESKey: randomAESKey(), APIBase: "ftp://x"})
	require.ErrorContains(t, err, "api base")
}

func TestIDList(t *testing.T) {
	t.Parallel()
	var l idList
	require.NoError(t, json.Unmarshal([]byte(`"a|B|"`), &l))
	require.Equal(t, idList{"a", "B"}, l)
	require.True(t, l.has("b"))
	require.NoError(t, json.Unmarshal([]byte(`["x"]`), &l))
	require.Equal(t, idList{"x"}, l)
	require.False(t, l.has("a"))
}
