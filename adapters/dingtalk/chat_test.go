package dingtalk_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit/kittest"
	"github.com/learnloop/learnloop/bot"
)

// texter answers taps with nothing and text like the chat service.
type texter struct{ kittest.Texts }

func (x *texter) HandleInteraction(context.Context, bot.Interaction) (bot.Reply, error) {
	return bot.Reply{}, nil
}

func robotMsg(msgID, user, content, conversation, webhook string, expires int64) map[string]any {
	return map[string]any{
		"msgId": msgID, "msgtype": "text", "text": map[string]any{"content": content}, "conversationType": conversation,
		"senderStaffId": user, "senderId": "$:LWCP_v1:$x", "robotCode": "",
		"createAt": time.Now().Add(-time.Second).UnixMilli(), "sessionWebhook": webhook, "sessionWebhookExpiredTime": expires,
		"chatbotCorpId": "dingcorp01", "conversationId": "cid-1",
	}
}

// TestStreamRobotMessages sends robot messages over the fake Stream
// gateway: each is handed to the chat service once per msgId and answered
// through its sessionWebhook; group chats, foreign webhooks and failures
// are handled as the adapter promises.
func TestStreamRobotMessages(t *testing.T) {
	t.Parallel()
	b := setup(t, false, nil) // work-notification mode: Stream runs for the robot alone
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	x := &texter{}
	runErr := make(chan error, 1)
	go func() { runErr <- b.c.Run(ctx, x) }()
	gw := b.f.gw
	gw.waitConnected(t, 1)

	hook, exp := b.f.newSession("s1", time.Hour)
	gw.push("f1", botFrame(t, "f1", robotMsg("msg-1", "dt001", " 签到 ", "1", hook, exp)))
	require.Equal(t, 200, gw.waitAck(t, "f1").Code)
	require.EqualValues(t, 1, x.Calls())
	in := x.Got()[0]
	require.Equal(t, bot.InboundText{Platform: bot.PlatformDingTalk, UserID: "dt001", MessageID: "msg-1", Text: "签到", At: in.At, ReplyTo: hook}, in)
	require.False(t, in.At.IsZero())
	rs := b.f.sessionReplies()
	require.Len(t, rs, 1)
	require.Equal(t, "s1", rs[0].Session)
	require.Equal(t, "你说：签到\n签到：https://learn.example.com/c/x", rs[0].Content)

	// The same message in another frame (a redelivery): not handed on again.
	gw.push("f2", botFrame(t, "f2", robotMsg("msg-1", "dt001", "签到", "1", hook, exp)))
	require.Equal(t, 200, gw.waitAck(t, "f2").Code)
	require.EqualValues(t, 1, x.Calls())
	require.Len(t, b.f.sessionReplies(), 1)

	// A group chat is acknowledged and left alone.
	gw.push("f3", botFrame(t, "f3", robotMsg("msg-2", "dt001", "签到", "2", hook, exp)))
	require.Equal(t, 200, gw.waitAck(t, "f3").Code)
	require.EqualValues(t, 1, x.Calls())

	// A sessionWebhook that is not DingTalk's is never called.
	gw.push("f4", botFrame(t, "f4", robotMsg("msg-3", "dt002", "帮助", "1", "https://attacker.example/hook", exp)))
	require.Equal(t, 200, gw.waitAck(t, "f4").Code)
	require.EqualValues(t, 2, x.Calls())
	require.Len(t, b.f.sessionReplies(), 1)
	require.Contains(t, b.log.String(), "sessionWebhook is not a DingTalk URL")

	// Not stored: DingTalk does not send it again, so the person is asked to.
	x.Fail(true)
	hook2, exp2 := b.f.newSession("s2", time.Hour)
	gw.push("f5", botFrame(t, "f5", robotMsg("msg-4", "dt003", "我的课程", "1", hook2, exp2)))
	require.Equal(t, 200, gw.waitAck(t, "f5").Code)
	rs = b.f.sessionReplies()
	require.Len(t, rs, 2)
	require.Equal(t, "s2", rs[1].Session)
	require.True(t, strings.Contains(rs[1].Content, "请稍后再发一次"))
	require.NotContains(t, b.log.String(), testAppSecret)

	cancel()
	require.NoError(t, <-runErr)
}

// TestRobotMessagesNeedATextHandler: without one, a client with no card
// template and no directory events opens no Stream connection.
func TestRobotMessagesNeedATextHandler(t *testing.T) {
	t.Parallel()
	b := setup(t, false, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	require.NoError(t, b.c.Run(ctx, bot.InteractionHandlerFunc(func(context.Context, bot.Interaction) (bot.Reply, error) { return bot.Reply{}, nil })))
	require.Zero(t, b.f.callCount("/v1.0/gateway/connections/open"))
}
