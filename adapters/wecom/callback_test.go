package wecom

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
)

func tapEvent(b *bundle, from, key string) CardEvent {
	return CardEvent{To: b.cfg.CorpID, From: from, EventKey: key, TaskID: "ll-1-0-1", CardType: cardButtonInteraction,
		ResponseCode: "rc-" + randHex(4), CreateTime: b.clk.Now().Unix(), AgentID: b.cfg.AgentID}
}

func TestCheckinCallback(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	token := tok(t)
	ev := tapEvent(b, "zhangwei", "ll:checkin::"+token)
	ev.ResponseCode = b.f.IssueResponseCode()
	done := checkinMessage(t, "ll-1-0-1")
	done.Status, done.Buttons = "已签到 09:02 ✓", done.Buttons[1:]
	r := &recorder{fn: func(bot.Interaction) (bot.Reply, error) { return bot.Reply{OK: true, Card: &done}, nil }}
	h := b.c.CallbackHandler(r)
	// WeCom retries up to three times, re-signed each time; each answer
	// (a redelivery shares the first run's) carries the card's update.
	for range 3 {
		rec, err := b.f.Tap(h, b.cfg, ev)
		require.NoError(t, err, "WeCom takes the answer")
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "application/xml; charset=utf-8", rec.Header().Get("Content-Type"))
		b.clk.Advance(5 * time.Second)
	}
	require.EqualValues(t, 1, r.calls.Load(), "the router sees the tap once")
	in := r.all()[0]
	require.Equal(t, bot.Interaction{
		Platform: bot.PlatformWeCom, UserID: "zhangwei", Action: bot.ActionCheckin, Token: token,
		DedupKey: in.DedupKey, At: time.Unix(ev.CreateTime, 0).UTC(), Source: "card",
	}, in)
	require.NotEmpty(t, in.DedupKey)
	// The adapter applied the reply's card itself, in the answer: the
	// buttons turn into the status line; no update_template_card call.
	ups := b.f.Updates()
	require.Len(t, ups, 3)
	for _, u := range ups {
		require.True(t, u.Passive, "a tap's card travels in the callback's answer")
		require.Equal(t, []string{"zhangwei"}, u.UserIDs)
		require.Equal(t, "已签到 09:02 ✓", u.ReplaceName)
		require.Nil(t, u.Card)
	}

	// A new tap (later CreateTime) is a new event.
	ev.CreateTime += 60
	rec, err := b.f.Tap(h, b.cfg, ev)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, rec.Code)
	require.EqualValues(t, 2, r.calls.Load())
}

func TestConcurrentRedelivery(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	release := make(chan struct{})
	r := &recorder{fn: func(bot.Interaction) (bot.Reply, error) { <-release; return bot.Reply{OK: true}, nil }}
	h := b.c.CallbackHandler(r)
	ev := tapEvent(b, "zhangwei", "ll:checkin::"+tok(t))
	var wg sync.WaitGroup
	codes := make([]int, 3)
	for i := range 3 {
		q, body := SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), ev.XML())
		wg.Go(func() { codes[i] = post(h, q, body).Code })
	}
	require.Eventually(t, func() bool { return r.calls.Load() == 1 }, 2*time.Second, 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	require.Equal(t, []int{200, 200, 200}, codes)
	require.EqualValues(t, 1, r.calls.Load())
}

func TestCallbackFailureIsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	fail := true
	r := &recorder{fn: func(bot.Interaction) (bot.Reply, error) {
		if fail {
			fail = false
			return bot.Reply{}, errors.New("database is down")
		}
		return bot.Reply{OK: true}, nil
	}}
	h := b.c.CallbackHandler(r)
	const hold = 300 * time.Millisecond
	h.(*callbackHandler).failHold = hold // failHold in production: past WeCom's 5 s
	ev := tapEvent(b, "zhangwei", "ll:checkin::"+tok(t))
	q, body := SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), ev.XML())
	start := time.Now()
	require.Equal(t, http.StatusInternalServerError, post(h, q, body).Code, "never a success")
	require.GreaterOrEqual(t, time.Since(start), hold, "answered only after WeCom stopped waiting, so that it retries")
	q, body = SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), ev.XML())
	start = time.Now()
	require.Equal(t, http.StatusOK, post(h, q, body).Code)
	require.Less(t, time.Since(start), hold, "a stored tap is answered at once")
	require.EqualValues(t, 2, r.calls.Load(), "the retry reached the router")
	require.Greater(t, failHold, 5*time.Second, "WeCom retries a callback it had no answer to within 5 s")
	require.NotContains(t, b.log.String(), strings.TrimPrefix(ev.EventKey, "ll:checkin::"), "tokens are not logged")
}

func TestVoteCallback(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	token := tok(t)
	r := &recorder{}
	h := b.c.CallbackHandler(r)
	ev := tapEvent(b, "zhangwei", "ll:nps::"+token)
	ev.CardType = cardVoteInteraction
	ev.Selected = map[string][]string{questionKey: {"9"}}
	q, body := SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), ev.XML())
	require.Equal(t, http.StatusOK, post(h, q, body).Code)
	require.EqualValues(t, 1, r.calls.Load())
	in := r.all()[0]
	require.Equal(t, bot.ActionNPS, in.Action)
	require.Equal(t, "9", in.Value)
	require.Equal(t, token, in.Token)

	// A rating button carries its value in the key.
	ev = tapEvent(b, "zhangwei", "ll:rate:4:"+token)
	q, body = SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), ev.XML())
	require.Equal(t, http.StatusOK, post(h, q, body).Code)
	require.Equal(t, "4", r.all()[1].Value)

	for name, sel := range map[string]map[string][]string{
		"nothing selected": nil,
		"two options":      {questionKey: {"1", "2"}},
		"bad option id":    {questionKey: {"<x>"}},
	} {
		ev := tapEvent(b, "zhangwei", "ll:nps::"+token)
		ev.Selected = sel
		q, body := SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), ev.XML())
		require.Equal(t, http.StatusBadRequest, post(h, q, body).Code, name)
	}
	require.EqualValues(t, 2, r.calls.Load())
}

// TestVoteCallbackSpellings: the vote choice arrives as OptionIds/OptionId
// (the documented spelling) or OpitonIds/OpitonId (WeCom's own callback
// sample and a maintained SDK), in XML and in JSON; each is the same tap.
func TestVoteCallbackSpellings(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	token := tok(t)
	r := &recorder{}
	h := b.c.CallbackHandler(r)
	xmlEvent := func(outer, ids string, at int64) string {
		return "<xml><ToUserName><![CDATA[" + b.cfg.CorpID + "]]></ToUserName><FromUserName><![CDATA[zhangwei]]></FromUserName>" +
			"<CreateTime>" + strconv.FormatInt(at, 10) + "</CreateTime><MsgType><![CDATA[event]]></MsgType>" +
			"<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[ll:nps::" + token + "]]></EventKey>" +
			"<TaskId><![CDATA[ll-1-0-1]]></TaskId><CardType><![CDATA[vote_interaction]]></CardType>" +
			"<ResponseCode><![CDATA[rc-1]]></ResponseCode><AgentID>" + strconv.FormatInt(b.cfg.AgentID, 10) + "</AgentID>" +
			"<SelectedItems><SelectedItem><QuestionKey><![CDATA[" + questionKey + "]]></QuestionKey>" +
			"<" + outer + ">" + ids + "</" + outer + "></SelectedItem></SelectedItems></xml>"
	}
	id := func(inner, v string) string { return "<" + inner + "><![CDATA[" + v + "]]></" + inner + ">" }
	at := b.clk.Now().Unix()
	cases := []struct {
		name, plain, want string
	}{
		{"documented", xmlEvent("OptionIds", id("OptionId", "7"), at), "7"},
		{"official sample", xmlEvent("OpitonIds", id("OpitonId", "8"), at+1), "8"},
		{"mixed outer", xmlEvent("OpitonIds", id("OptionId", "6"), at+2), "6"},
		{"mixed inner", xmlEvent("OptionIds", id("OpitonId", "5"), at+3), "5"},
		{"json sample", `{"ToUserName":"` + b.cfg.CorpID + `","FromUserName":"zhangwei","CreateTime":` + strconv.FormatInt(at+4, 10) +
			`,"MsgType":"event","Event":"template_card_event","EventKey":"ll:nps::` + token + `","TaskId":"ll-1-0-1",` +
			`"CardType":"vote_interaction","ResponseCode":"rc-2","AgentID":` + strconv.FormatInt(b.cfg.AgentID, 10) +
			`,"SelectedItems":{"SelectedItem":[{"QuestionKey":"` + questionKey + `","OpitonIds":{"OpitonId":["10"]}}]}}`, "10"},
	}
	for i, tc := range cases {
		q, body := SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), tc.plain)
		require.Equal(t, http.StatusOK, post(h, q, body).Code, tc.name)
		require.EqualValues(t, i+1, r.calls.Load(), tc.name)
		in := r.all()[i]
		require.Equal(t, bot.ActionNPS, in.Action, tc.name)
		require.Equal(t, tc.want, in.Value, tc.name)
	}
	// Two different options, one under each spelling: not exactly one.
	q, body := SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), xmlEvent("OptionIds", id("OptionId", "1")+id("OpitonId", "2"), at+9))
	require.Equal(t, http.StatusBadRequest, post(h, q, body).Code)
	require.EqualValues(t, len(cases), r.calls.Load())
}

func TestCallbackIgnores(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	r := &recorder{}
	h := b.c.CallbackHandler(r)
	other := tapEvent(b, "zhangwei", "ll:checkin::"+tok(t))
	other.AgentID = 999
	foreign := tapEvent(b, "zhangwei", "APPROVE_123")
	for name, plain := range map[string]string{
		"another app's agent":    other.XML(),
		"a key we did not write": foreign.XML(),
		"a text message": "<xml><ToUserName><![CDATA[" + b.cfg.CorpID + "]]></ToUserName><FromUserName><![CDATA[zhangwei]]></FromUserName>" +
			"<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content></xml>",
		"another event": "<xml><MsgType>event</MsgType><Event>enter_agent</Event><FromUserName>zhangwei</FromUserName></xml>",
	} {
		q, body := SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), plain)
		require.Equal(t, http.StatusOK, post(h, q, body).Code, name)
	}
	require.Zero(t, r.calls.Load())
}

// FuzzCallback feeds arbitrary decrypted payloads (signed and encrypted
// with the test keys, so they pass verification) and arbitrary raw bodies
// and queries through the handler. It must never panic, answer 2xx only
// for well-formed taps on our keys, and never pass the router anything it
// should not.
func FuzzCallback(f *testing.F) {
	b := setup(f, "zhangwei")
	ev := tapEvent(b, "zhangwei", "ll:checkin::"+tok(f))
	vote := tapEvent(b, "zhangwei", "ll:nps::"+tok(f))
	vote.Selected = map[string][]string{questionKey: {"10"}}
	f.Add(ev.XML(), "", "")
	f.Add(vote.XML(), "", "")
	f.Add(`{"MsgType":"event","Event":"template_card_event","FromUserName":"u","EventKey":"ll:rate:3:abc","CreateTime":1}`, "", "")
	f.Add("<xml><MsgType>event</MsgType></xml>", "", "")
	f.Add("", "<xml><Encrypt>AAAA</Encrypt></xml>", "msg_signature=00&timestamp=1&nonce=1")
	f.Add("", `{"encrypt":"`+strings.Repeat("A", 64)+`"}`, "msg_signature=&timestamp=&nonce=")
	// Keep only the last interaction: the fuzzer makes millions of calls.
	var calls int
	var last bot.Interaction
	h := b.c.CallbackHandler(bot.InteractionHandlerFunc(func(_ context.Context, in bot.Interaction) (bot.Reply, error) {
		calls++
		last = in
		return bot.Reply{OK: true}, nil
	}))
	f.Fuzz(func(t *testing.T, plain, rawBody, rawQuery string) {
		before := calls
		var q, body string
		if rawBody == "" && rawQuery == "" {
			q, body = SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), plain)
		} else {
			q, body = rawQuery, rawBody
		}
		rec := post(h, q, body)
		got := calls - before
		switch {
		case rec.Code >= 500:
			t.Fatalf("status %d for %q", rec.Code, plain)
		case rec.Code != http.StatusOK:
			require.Zero(t, got, "a refused callback reached the router")
		}
		if rawBody != "" || rawQuery != "" {
			require.Zero(t, got, "an unsigned body reached the router")
		}
		if got > 0 {
			in := last
			require.Equal(t, bot.PlatformWeCom, in.Platform)
			require.NotEmpty(t, in.UserID)
			require.NotEmpty(t, in.Token)
			require.True(t, callbackActions[in.Action], in.Action)
			if in.Action != bot.ActionCheckin {
				require.NotEmpty(t, in.Value)
			}
		}
		// The parser alone agrees with the handler.
		if rawBody == "" && rawQuery == "" {
			tp, ok, err := b.c.parseEvent([]byte(plain))
			if err == nil && ok {
				require.NotEmpty(t, tp.in.DedupKey)
			}
		}
	})
}
