package wecom

import (
	"encoding/xml"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"
	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
)

// counting is an InteractionHandler that answers with reply and counts the
// card updates the adapter reports (as the Router does).
type counting struct {
	recorder
	mu      sync.Mutex
	updates []error
}

func (c *counting) CardUpdated(_ bot.Platform, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.updates = append(c.updates, err)
}

func (c *counting) counted() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.updates...)
}

func TestTapIsAnsweredWithTheCardUpdate(t *testing.T) {
	t.Parallel()
	withStatus := func(t *testing.T) bot.Message {
		m := checkinMessage(t, "ll-7-0-1")
		m.Status, m.Buttons = "已签到 09:02 ✓", m.Buttons[1:]
		return m
	}
	rating := func(t *testing.T) bot.Message { // a whole new card: five buttons
		m := checkinMessage(t, "ll-7-0-2")
		m.Title, m.Buttons = "请为《高效沟通》打分", nil
		tk := tok(t)
		for i := 1; i <= 5; i++ {
			m.Buttons = append(m.Buttons, bot.Button{Text: strings.Repeat("★", i), Action: bot.ActionRate, Value: string(rune('0' + i)), Token: tk})
		}
		return m
	}
	nps := func(t *testing.T) bot.Message { // a whole new vote card
		m := checkinMessage(t, "ll-7-0-3")
		m.Title, m.Buttons = "推荐度", nil
		m.Choice = &bot.Choice{Action: bot.ActionNPS, Token: tok(t), Question: "您会向同事推荐吗？", Options: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}}
		return m
	}
	tests := []struct {
		name     string
		card     func(t *testing.T) bot.Message // nil: the reply has no card
		cardType string                         // the tapped card's
		button   string                         // want update_button with this text
		whole    string                         // want update_template_card of this card_type
		empty    bool                           // want an empty answer
		countErr bool                           // the update is counted as failed
	}{
		{name: "status line: update_button", card: withStatus, cardType: cardButtonInteraction, button: "已签到 09:02 ✓"},
		{name: "a status that needs CDATA care", card: func(t *testing.T) bot.Message {
			m := withStatus(t)
			m.Status = "已签到 ]]> <b>&\x01"
			return m
		}, cardType: cardButtonInteraction, button: "已签到 ]]> <b>&\uFFFD"},
		{name: "vote card, status line", card: func(t *testing.T) bot.Message {
			m := withStatus(t)
			m.Status = "已提交：9 分"
			return m
		}, cardType: cardVoteInteraction, button: "已提交：9 分"},
		{name: "new buttons: the whole card", card: rating, cardType: cardButtonInteraction, whole: cardButtonInteraction},
		{name: "new vote: the whole card", card: nps, cardType: cardButtonInteraction, whole: cardVoteInteraction},
		{name: "nothing to tap is no card", card: func(t *testing.T) bot.Message {
			m := checkinMessage(t, "ll-7-0-4")
			m.Buttons = nil
			return m
		}, cardType: cardButtonInteraction, empty: true, countErr: true},
		{name: "no card in the reply", cardType: cardButtonInteraction, empty: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, "zhangwei")
			var m *bot.Message
			if tc.card != nil {
				c := tc.card(t)
				m = &c
			}
			h := &counting{recorder: recorder{fn: func(bot.Interaction) (bot.Reply, error) { return bot.Reply{OK: true, Card: m}, nil }}}
			cb := b.c.CallbackHandler(h)
			ev := tapEvent(b, "zhangwei", "ll:checkin::"+tok(t))
			ev.CardType = tc.cardType
			for range 2 { // a redelivery gets the same answer
				rec, err := b.f.Tap(cb, b.cfg, ev)
				require.NoError(t, err, "WeCom takes the answer: %s", rec.Body.String())
				require.Equal(t, http.StatusOK, rec.Code)
				require.Equal(t, tc.empty, rec.Body.Len() == 0, rec.Body.String())
			}
			require.EqualValues(t, 1, h.calls.Load())
			ups := b.f.Updates()
			counted := h.counted()
			if tc.card != nil {
				require.Len(t, counted, 1, "one update counted per tap")
				require.Equal(t, tc.countErr, counted[0] != nil, "%v", counted[0])
			} else {
				require.Empty(t, counted)
			}
			if tc.empty {
				require.Empty(t, ups)
				return
			}
			require.Len(t, ups, 2)
			for _, u := range ups {
				require.True(t, u.Passive)
				require.Equal(t, tc.button, u.ReplaceName)
				if tc.whole == "" {
					require.Nil(t, u.Card)
					continue
				}
				require.NotNil(t, u.Card)
				want, err := render(*m)
				require.NoError(t, err)
				require.Equal(t, tc.whole, u.Card.CardType)
				require.Equal(t, *want.TemplateCard, *u.Card, "the passive card is the API's card")
			}
		})
	}
}

func TestPassiveReplyChecks(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	m := checkinMessage(t, "ll-8-0-1")
	m.Status = "已签到 09:02 ✓"
	h := &counting{recorder: recorder{fn: func(bot.Interaction) (bot.Reply, error) { return bot.Reply{OK: true, Card: &m}, nil }}}
	ev := tapEvent(b, "zhangwei", "ll:checkin::"+tok(t))
	q, body := SignedCallback(b.cfg, b.cfg.CorpID, b.clk.Now(), ev.XML())
	rec := post(b.c.CallbackHandler(h), q, body)
	require.Equal(t, http.StatusOK, rec.Code)
	answer := rec.Body.String()
	require.NoError(t, b.f.Answer(b.cfg, ev, time.Now(), rec.Code, rec.Body.Bytes()))

	// The fake refuses what WeCom would not apply.
	other := b.cfg
	other.Token = "another-token"
	otherKey := b.cfg
	otherKey.EncodingAESKey = randomAESKey()
	elsewhere := ev
	elsewhere.From = "wangfang"
	text := func() []byte {
		plain := b.c.passiveText("zhangwei", "你好")
		sealed, err := b.c.sealPassive(plain)
		require.NoError(t, err)
		return sealed
	}
	cases := []struct {
		name string
		cfg  Config
		ev   CardEvent
		sent time.Time
		body []byte
		want string
	}{
		{"signed with another token", other, ev, time.Now(), []byte(answer), "msg_signature"},
		{"another EncodingAESKey", otherKey, ev, time.Now(), []byte(answer), "passive reply"},
		{"to someone else", b.cfg, elsewhere, time.Now(), []byte(answer), "the tap came from"},
		{"too late", b.cfg, ev, time.Now().Add(-6 * time.Second), []byte(answer), "stopped waiting"},
		{"a text to a tap", b.cfg, ev, time.Now(), text(), "not update_button"},
		{"not XML", b.cfg, ev, time.Now(), []byte("success"), "is not <xml>"},
	}
	for _, tc := range cases {
		err := b.f.Answer(tc.cfg, tc.ev, tc.sent, http.StatusOK, tc.body)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
	require.Len(t, b.f.Updates(), 1, "only the genuine answer was applied")
}

func TestEncryptRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	// Every pad value from 1 to 32 and an empty message.
	for n := range 70 {
		msg := []byte(strings.Repeat("签", n/3) + strings.Repeat("a", n%3))
		enc, err := b.c.crypto.encrypt(msg)
		require.NoError(t, err)
		_, plain, err := util.DecryptMsg(b.cfg.CorpID, enc, b.cfg.EncodingAESKey) // checks the receive id
		require.NoError(t, err, "the SDK opens it (n=%d)", n)
		require.Equal(t, msg, plain)
		own, err := b.c.crypto.decrypt(enc)
		require.NoError(t, err)
		require.Equal(t, msg, own)
	}
	other, err := newCryptor(b.cfg.Token, b.cfg.EncodingAESKey, "wwanothercorp")
	require.NoError(t, err)
	enc, err := other.encrypt([]byte("x"))
	require.NoError(t, err)
	_, err = b.c.crypto.decrypt(enc)
	require.ErrorIs(t, err, ErrReceiveID)
}

func TestPassiveTextIsWellFormed(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	var got struct {
		ToUserName, FromUserName, MsgType, Content string
		CreateTime                                 int64
	}
	require.NoError(t, xml.Unmarshal(b.c.passiveText("zhang]]>wei", "a]]>b\n\tc\x00"+strings.Repeat("长", 1000)), &got))
	require.Equal(t, "zhang]]>wei", got.ToUserName)
	require.Equal(t, b.cfg.CorpID, got.FromUserName)
	require.Equal(t, "text", got.MsgType)
	require.True(t, strings.HasPrefix(got.Content, "a]]>b\n\tc\uFFFD长"), got.Content[:20])
	require.LessOrEqual(t, len(got.Content), maxReplyBytes, "the reply is cut to what WeCom takes")
	require.Equal(t, b.clk.Now().Unix(), got.CreateTime)
}

// TestTapAnswerFailureIsStillRetried: a tap that could not be stored gets
// no card, only the late failure (as before the passive answer).
func TestTapAnswerFailureIsStillRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, "zhangwei")
	m := checkinMessage(t, "ll-9-0-1")
	m.Status = "已签到 09:02 ✓"
	h := &counting{recorder: recorder{fn: func(bot.Interaction) (bot.Reply, error) {
		return bot.Reply{Card: &m}, errors.New("database is down")
	}}}
	cb := b.c.CallbackHandler(h)
	cb.(*callbackHandler).failHold = 50 * time.Millisecond
	rec, err := b.f.Tap(cb, b.cfg, tapEvent(b, "zhangwei", "ll:checkin::"+tok(t)))
	require.NoError(t, err)
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.Empty(t, b.f.Updates())
	require.Empty(t, h.counted(), "no update is counted for a tap that was not stored")
}

// TestIDCharsMatchTheirPatterns: the loops that check ids and key parts on
// the tap path accept exactly what their patterns describe.
func TestIDCharsMatchTheirPatterns(t *testing.T) {
	t.Parallel()
	checks := []struct {
		name string
		fn   func(string) bool
		re   *regexp.Regexp
	}{
		{"task_id", isTaskID, regexp.MustCompile(`^[0-9A-Za-z_\-@]{1,128}$`)},
		{"token", isToken, regexp.MustCompile(`^[0-9A-Za-z_\-]{1,900}$`)},
		{"value", isValue, regexp.MustCompile(`^[0-9A-Za-z_\-]{0,32}$`)},
		{"option id", isOptionID, regexp.MustCompile(`^[0-9A-Za-z_\-]{1,128}$`)},
	}
	inputs := []string{"", "a", "ll-1-0-1", "a@b", "a:b", "a b", "签到", "A_z-9", "x\x00", strings.Repeat("a", 32), strings.Repeat("a", 33),
		strings.Repeat("b", 128), strings.Repeat("b", 129), strings.Repeat("c", 900), strings.Repeat("c", 901), "a.b", "a/b", "a+b", "a=b", "é"}
	for b := range 256 {
		inputs = append(inputs, "x"+string(rune(b)), string([]byte{byte(b)}))
	}
	for _, c := range checks {
		for _, in := range inputs {
			require.Equal(t, c.re.MatchString(in), c.fn(in), "%s %q", c.name, in)
		}
	}
}
