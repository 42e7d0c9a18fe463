package dingtalk

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"
	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/bot"
)

// BenchmarkStreamTap is one card callback frame through the handler the
// Stream client calls (parse, dedup, the card's new variables, the
// acknowledgement's JSON), with a router that answers at once, and the
// frame decoding and acknowledgement encoding the SDK does around it: the
// adapter's own cost a tap.
func BenchmarkStreamTap(b *testing.B) {
	c, err := New(Config{AppKey: "k", AppSecret: "s", CardTemplateID: "tpl.schema", PublicURL: "https://learn.example.com"},
		WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(b, err)
	card := bot.Message{Key: "k1", Title: "签到提醒：高效沟通", Body: "《高效沟通》即将开始，请点击下方按钮签到。",
		Fields: []bot.Field{{Label: "时间", Value: "2026-03-02 10:00–12:00"}, {Label: "地点", Value: "3F A"}},
		Status: "已签到 09:02 ✓", Buttons: []bot.Button{{Text: "进入课堂", Action: bot.ActionLink, URL: "https://learn.example.com/l/abc"}}}
	h := c.cardFrameHandler(bot.InteractionHandlerFunc(func(context.Context, bot.Interaction) (bot.Reply, error) {
		return bot.Reply{OK: true, Toast: "签到成功 09:02", Card: &card}, nil
	}))
	const n = 4096
	frames := make([][]byte, n)
	now := time.Now()
	for i := range frames {
		content, _ := json.Marshal(map[string]any{"cardPrivateData": map[string]any{"actionIds": []string{"tap"},
			"params": map[string]any{"action": bot.ActionCheckin, "token": "tok-" + strconv.Itoa(i), "value": ""}}})
		data, _ := json.Marshal(map[string]any{"content": string(content), "corpId": "dingcorp", "outTrackId": "out-" + strconv.Itoa(i),
			"spaceId": "u1", "spaceType": "IM_ROBOT", "type": "actionCallback", "userId": "u1", "userIdType": 1, "extension": "{}"})
		frames[i], _ = json.Marshal(map[string]any{"specVersion": "1.0", "type": "CALLBACK",
			"headers": map[string]string{"topic": CardCallbackTopic, "messageId": fmt.Sprintf("msg-%d", i), "contentType": "application/json",
				"time": strconv.FormatInt(now.UnixMilli(), 10)},
			"data": string(data)})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i > 0 && i%n == 0 {
			b.StopTimer()
			c.seen = kit.NewDedup[tapResult](10*time.Minute, 10000, c.now) // every frame once
			b.StartTimer()
		}
		df, err := payload.DecodeDataFrame(frames[i%n])
		if err != nil {
			b.Fatal(err)
		}
		ack, err := h(context.Background(), df)
		if err != nil || ack.Code != payload.DataFrameResponseStatusCodeKOK {
			b.Fatalf("ack %+v, %v", ack, err)
		}
		if _, err := json.Marshal(ack); err != nil { // as the SDK writes it
			b.Fatal(err)
		}
		i++
	}
}
