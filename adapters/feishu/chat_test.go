package feishu

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit/kittest"
	"github.com/learnloop/learnloop/bot"
)

// messageEventJSON is an im.message.receive_v1 as Feishu sends it.
func messageEventJSON(t testing.TB, eventID, messageID, chatType, msgType, content string) []byte {
	t.Helper()
	ev := map[string]any{
		"schema": "2.0",
		"header": map[string]any{
			"event_id": eventID, "token": testVToken, "create_time": strconv.FormatInt(time.Now().UnixMilli(), 10),
			"event_type": eventMessageReceive, "tenant_key": "tenant-1", "app_id": testAppID,
		},
		"event": map[string]any{
			"sender": map[string]any{"sender_id": map[string]any{"open_id": "ou_writer", "user_id": "u-1", "union_id": "on_writer"}, "sender_type": "user", "tenant_key": "tenant-1"},
			"message": map[string]any{
				"message_id": messageID, "create_time": strconv.FormatInt(time.Now().UnixMilli(), 10), "chat_id": "oc_1",
				"chat_type": chatType, "message_type": msgType, "content": content,
			},
		},
	}
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	return b
}

// chatRecorder answers taps like recorder and text like the chat service.
type chatRecorder struct {
	recorder
	kittest.Texts
}

func TestTextMessageOverHTTP(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeUserID)
	c, logs := testClient(t, f, nil)
	x := &chatRecorder{}
	h := c.CallbackHandler(x)
	msg := func(eventID, messageID, chatType, msgType, content string) callbackReq {
		r := newCallbackReq(t, eventID)
		r.plain = messageEventJSON(t, eventID, messageID, chatType, msgType, content)
		return r
	}

	// A one-to-one text message: handed on once, answered with the reply
	// API in the same chat, @mention placeholders dropped.
	r := msg("ev-m1", "om_in0001", "p2p", "text", `{"text":"@_user_1 签到"}`)
	for range 2 { // Feishu redelivers an event (same event id)
		rec := r.do(t, h)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	}
	require.EqualValues(t, 1, x.Calls())
	require.Equal(t, bot.InboundText{Platform: bot.PlatformFeishu, UserID: "u-1", MessageID: "om_in0001", Text: "签到", At: x.Got()[0].At, ReplyTo: "om_in0001"}, x.Got()[0])
	require.False(t, x.Got()[0].At.IsZero())
	rs := f.replied()
	require.Len(t, rs, 1)
	require.Equal(t, "om_in0001", rs[0].ID)
	require.Equal(t, "你说：签到\n签到：https://learn.example.com/c/x", rs[0].Content)
	require.Empty(t, x.calls, "a message is not a tap")

	// Not text (an image): handed on with empty text, so the bot answers
	// with its help rather than nothing.
	require.Equal(t, http.StatusOK, msg("ev-m2", "om_in0002", "p2p", "image", `{"image_key":"img_1"}`).do(t, h).Code)
	require.EqualValues(t, 2, x.Calls())
	require.Equal(t, "", x.Got()[1].Text)

	// A group chat is acknowledged and left alone.
	require.Equal(t, http.StatusOK, msg("ev-m3", "om_in0003", "group", "text", `{"text":"签到"}`).do(t, h).Code)
	require.EqualValues(t, 2, x.Calls())

	// Forged, unsigned or stale: refused, nothing handed on or sent.
	forged := msg("ev-m4", "om_in0004", "p2p", "text", `{"text":"签到"}`)
	forged.sig = "0000"
	unsigned := msg("ev-m5", "om_in0005", "p2p", "text", `{"text":"签到"}`)
	unsigned.noSig = true
	stale := msg("ev-m6", "om_in0006", "p2p", "text", `{"text":"签到"}`)
	stale.ts = time.Now().Add(-2 * time.Hour)
	for _, bad := range []callbackReq{forged, unsigned, stale} {
		require.Equal(t, http.StatusUnauthorized, bad.do(t, h).Code)
	}
	require.EqualValues(t, 2, x.Calls())
	require.Len(t, f.replied(), 2)

	// Not stored: answered with an error so that Feishu sends it again;
	// the redelivery is handled.
	x.Fail(true)
	again := msg("ev-m7", "om_in0007", "p2p", "text", `{"text":"我的课程"}`)
	require.Equal(t, http.StatusInternalServerError, again.do(t, h).Code)
	x.Fail(false)
	require.Equal(t, http.StatusOK, again.do(t, h).Code)
	require.Len(t, f.replied(), 3)
	require.NotContains(t, logs.String(), testAppSecret)
	require.NotContains(t, logs.String(), testEncryptKey)
}

func TestTextMessageOverLongConnection(t *testing.T) {
	t.Parallel()
	f := newFakeFeishu(t, IDTypeOpenID)
	c, _ := testClient(t, f, func(c *Config) { c.EncryptKey = "" })
	x := &chatRecorder{}
	d := c.dispatcher(x)
	ctx := context.Background()
	ev := messageEventJSON(t, "ws-m1", "om_in0100", "p2p", "text", `{"text":"帮助"}`)
	for range 2 {
		_, err := d.Do(ctx, ev)
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, x.Calls())
	require.Equal(t, "ou_writer", x.Got()[0].UserID, "the configured id type (open_id)")
	require.Len(t, f.replied(), 1)

	x.Fail(true)
	_, err := d.Do(ctx, messageEventJSON(t, "ws-m2", "om_in0101", "p2p", "text", `{"text":"签到"}`))
	require.Error(t, err, "answered as a failure: Feishu sends it again")

	// Without a text handler the event is not even subscribed.
	plain := c.dispatcher(&recorder{})
	_, err = plain.Do(ctx, messageEventJSON(t, "ws-m3", "om_in0102", "p2p", "text", `{"text":"签到"}`))
	require.Error(t, err, "the SDK has no handler for it")
	require.Len(t, f.replied(), 1)
}
