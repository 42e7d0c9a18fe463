package wecom_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/wecom"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestEndToEndWeComCampaign: an A/B campaign created through the API goes
// out through the real WeCom adapter to its fake (which enforces the card
// rules): a text_notice card per member with the campaign's tracked links,
// the delivery key as task_id, a non-member failed with WeCom's own errcode,
// a refused first attempt (HTTP 502) retried into one card, a second fire
// sending nothing new; then a click and a conversion credited to the
// campaign and counted in its report, on SQLite and MariaDB.
// previewedCard is the part of a template_card the preview is compared on.
type previewedCard struct {
	CardType  string `json:"card_type"`
	MainTitle struct {
		Title string `json:"title"`
	} `json:"main_title"`
	SubTitleText string `json:"sub_title_text"`
	JumpList     []struct {
		Title string `json:"title"`
	} `json:"jump_list"`
}

func TestEndToEndWeComCampaign(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := setupApp(t, db)
		ctx := context.Background()
		people := []store.Employee{
			{ExternalID: "E001", Name: "张伟", Department: "销售", Platform: "wecom", WecomID: "zhangwei", Active: true},
			{ExternalID: "E002", Name: "王芳", Department: "销售", Platform: "wecom", WecomID: "wangfang", Active: true},
			{ExternalID: "E003", Name: "李四", Department: "销售", Platform: "wecom", WecomID: "lisi", Active: true},
			{ExternalID: "E004", Name: "赵六", Department: "市场", Platform: "wecom", WecomID: "zhaoliu", Active: true},
		}
		require.NoError(t, db.Create(&people).Error)

		var count struct {
			Count int `json:"count"`
		}
		aud := map[string]any{"include": []any{map[string]any{"department": "销售"}}}
		require.Equal(t, http.StatusOK, e.call(t, "POST", "/api/v1/campaigns/audience-count", "", aud, &count))
		require.Equal(t, 3, count.Count)

		var c struct {
			ID       uint64 `json:"id"`
			Variants []struct {
				TouchpointID uint64 `json:"touchpoint_id"`
			} `json:"variants"`
		}
		e.fake.Fail("/cgi-bin/message/send", wecom.Fault{Status: http.StatusBadGateway})
		require.Equal(t, http.StatusCreated, e.call(t, "POST", "/api/v1/campaigns", "", map[string]any{
			"name": "直播推广", "title": "今晚 8 点直播：高效沟通", "body": "点击进入直播间", "event": "live_join", "audience": aud,
			"min_sample": 1, "min_group_size": 1,
			"buttons": []any{
				map[string]any{"kind": "live", "text": "", "url": "https://live.example.com/r/1"},
				map[string]any{"kind": "document", "text": "讲义", "url": "https://doc.example.com/1"},
			},
			"schedule": map[string]any{"kind": "now"},
			"variants": []any{map[string]any{"name": "A"}, map[string]any{"name": "B", "title": "别错过：高效沟通直播"}},
		}, &c))
		require.Len(t, c.Variants, 2)
		tps := []uint64{c.Variants[0].TouchpointID, c.Variants[1].TouchpointID}

		e.runDue(t)
		e.clk.Set(e.clk.Now().Add(5 * time.Minute)) // past the retry's backoff
		e.runDue(t)

		var ds []store.Delivery
		require.NoError(t, db.Where("touchpoint_id IN ?", tps).Order("id").Find(&ds).Error)
		require.Len(t, ds, 3, "one delivery per person of the audience, across the variants")
		byUser := map[string]store.Delivery{}
		for _, d := range ds {
			byUser[d.UserID] = d
		}
		require.Equal(t, store.DeliveryFailed, byUser["lisi"].Status, "lisi is not a member of the corp")
		require.Equal(t, wecom.CodeInvalidUser, byUser["lisi"].ErrorCode)
		cards := e.fake.Cards()
		require.Len(t, cards, 2, "the refused attempt was retried into one card each, nobody twice")
		for _, u := range []string{"zhangwei", "wangfang"} {
			d := byUser[u]
			require.Equal(t, store.DeliverySent, d.Status, u)
			got := e.fake.CardsFor(u)
			require.Len(t, got, 1, u)
			card := got[0].Card
			require.Equal(t, "text_notice", card.CardType, "a card of links only")
			require.Equal(t, d.Key, card.TaskID, "task_id is the delivery key")
			require.Contains(t, card.MainTitle.Title, "高效沟通")
			require.Equal(t, "点击进入直播间", card.SubTitleText)
			require.Len(t, card.JumpList, 2)
			require.Equal(t, "进入直播", card.JumpList[0].Title)
			require.Equal(t, "讲义", card.JumpList[1].Title)
			for _, j := range card.JumpList {
				require.True(t, strings.HasPrefix(j.URL, e.srv.URL+"/l/"), "tracked link: %s", j.URL)
			}
			require.Equal(t, card.JumpList[0].URL, card.CardAction.URL, "tapping the card opens the first link")
		}
		require.Empty(t, e.fake.CardsFor("zhaoliu"), "市场 is not in the audience")
		attempts := 0
		for _, d := range ds {
			attempts += d.Attempts
		}
		require.Greater(t, attempts, len(ds), "the 502 cost one delivery a second attempt")

		// The console's preview is the card WeCom got: the same payload
		// from the same renderer (only the links' delivery and the task id
		// differ).
		var pv struct {
			Variants []struct {
				Card bot.Message `json:"card"`
			} `json:"variants"`
		}
		require.Equal(t, http.StatusOK, e.call(t, "GET", "/api/v1/campaigns/"+jsonNum(c.ID)+"/preview", "", nil, &pv))
		previews := map[string]previewedCard{}
		for _, v := range pv.Variants {
			raw, err := wecom.PreviewCard(v.Card)
			require.NoError(t, err)
			var msg struct {
				MsgType string        `json:"msgtype"`
				Card    previewedCard `json:"template_card"`
			}
			require.NoError(t, json.Unmarshal(raw, &msg))
			require.Equal(t, "template_card", msg.MsgType)
			previews[msg.Card.MainTitle.Title] = msg.Card
		}
		for _, fc := range cards {
			want, ok := previews[fc.Card.MainTitle.Title]
			require.True(t, ok, "a preview for %q", fc.Card.MainTitle.Title)
			require.Equal(t, want.CardType, fc.Card.CardType)
			require.Equal(t, want.SubTitleText, fc.Card.SubTitleText)
			require.Len(t, fc.Card.JumpList, len(want.JumpList))
			for i, j := range want.JumpList {
				require.Equal(t, j.Title, fc.Card.JumpList[i].Title)
			}
		}

		// Firing the variants again sends nobody a second card.
		for _, tp := range tps {
			_, err := e.a.Deliverer().Fire(ctx, tp, "0")
			require.NoError(t, err)
		}
		require.Len(t, e.fake.Cards(), 2)

		// zhangwei opens the live stream from the card and joins it.
		link := e.fake.CardsFor("zhangwei")[0].Card.JumpList[0].URL
		u, err := url.Parse(link)
		require.NoError(t, err)
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Get(e.srv.URL + u.Path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusFound, resp.StatusCode)
		require.Equal(t, "https://live.example.com/r/1", resp.Header.Get("Location"))
		e.clk.Set(e.clk.Now().Add(10 * time.Minute))
		var conv struct {
			Credited *struct {
				CampaignID uint64 `json:"campaign_id"`
				DeliveryID uint64 `json:"delivery_id"`
			} `json:"credited"`
		}
		require.Equal(t, http.StatusCreated, e.call(t, "POST", "/api/v1/conversions", "", map[string]any{
			"event_id": "live-1", "event": "live_join", "occurred_at": e.clk.Now().Format(time.RFC3339), "platform": "wecom", "platform_user_id": "zhangwei",
		}, &conv))
		require.NotNil(t, conv.Credited)
		require.Equal(t, c.ID, conv.Credited.CampaignID)
		require.Equal(t, byUser["zhangwei"].ID, conv.Credited.DeliveryID)

		var rep struct {
			Funnel struct {
				Deliveries int `json:"deliveries"`
				Sent       int `json:"sent"`
				Failed     int `json:"failed"`
				Delivered  int `json:"delivered"`
				Clickers   int `json:"clickers"`
				Converted  int `json:"converted"`
			} `json:"funnel"`
			Platforms []struct {
				Key string `json:"key"`
			} `json:"platforms"`
		}
		require.Equal(t, http.StatusOK, e.call(t, "GET", "/api/v1/campaigns/"+jsonNum(c.ID)+"/report", "", nil, &rep))
		require.Equal(t, 3, rep.Funnel.Deliveries)
		require.Equal(t, 2, rep.Funnel.Sent)
		require.Equal(t, 1, rep.Funnel.Failed)
		require.Equal(t, 2, rep.Funnel.Delivered)
		require.Equal(t, 1, rep.Funnel.Clickers)
		require.Equal(t, 1, rep.Funnel.Converted)
		require.Len(t, rep.Platforms, 1)
		require.Equal(t, "wecom", rep.Platforms[0].Key)
	})
}
