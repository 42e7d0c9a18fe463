package dingtalk_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/dingtalk"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/text"
)

// noTemplate selects the default: DingTalk's built-in StandardCard.
func noTemplate(c *dingtalk.Config) { c.CardTemplateID = "" }

func TestSendStandardCard(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		locale   text.Locale
		token    string // the token the check-in button's id carries
		linkText string
	}{
		{"zh-CN", text.ZH, "itok-1", "按钮无反应？打开链接签到"},
		{"en", text.EN, "en.itok-1", "Button not working? Open the link to check in"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, true, noTemplate)
			require.Equal(t, dingtalk.CardsStandard, b.c.Cards())
			require.True(t, b.c.CardMode())
			m := checkinMessage("ll-7-0-1", 1)
			rc, err := b.c.Send(context.Background(), bot.Recipient{UserID: "dt001", Locale: tc.locale}, m)
			require.NoError(t, err)
			require.Equal(t, "ll-7-0-1", rc.Handle, "the handle is the cardBizId")
			require.Equal(t, 1, b.f.callCount(stdSendPath))
			require.Zero(t, b.f.callCount("/v1.0/card/instances/createAndDeliver"), "no template call")

			card := b.f.card("ll-7-0-1")
			require.NotNil(t, card)
			require.NotNil(t, card.Standard)
			require.Equal(t, "dt001", card.UserID)
			std := card.Standard
			require.Equal(t, "签到：高效沟通", std.Header.Title.Text)
			require.False(t, std.Config.EnableForward, "a card whose buttons carry tokens is not forwardable")
			shown := standardText(std)
			require.Contains(t, shown, "课程即将开始，请签到。")
			require.Contains(t, shown, "**地点**：3F A")
			require.Contains(t, shown, "[签到]")
			require.Contains(t, shown, "[进入课堂]")
			require.Contains(t, shown, "["+tc.linkText+"]("+testPublicURL+"/c/chk1_tok-1)")
			require.Equal(t, "ll.checkin.."+tc.token, stdButton(std, bot.ActionCheckin, ""), "the tap comes back with this id")
			var link *dingtalk.StandardButton
			for _, ct := range std.Contents {
				for i := range ct.Actions {
					if ct.Actions[i].ActionType == "openLink" {
						link = &ct.Actions[i]
					}
				}
			}
			require.NotNil(t, link)
			require.Equal(t, "dingtalk://dingtalkclient/page/link?url="+url.QueryEscape(testPublicURL+"/l/link1")+"&pc_slide=false", link.URL.All)
		})
	}
}

func TestSendStandardCardScores(t *testing.T) {
	t.Parallel()
	b := setup(t, true, noTemplate)
	m := bot.Message{Key: "ll-9-0-2", Title: "请评分", Body: "本次课程如何？", Choice: &bot.Choice{
		Question: "推荐给同事的可能性？（0 = 完全不可能 · 10 = 非常可能）", Action: bot.ActionNPS, Token: "npstok",
		Options: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"},
	}}
	for v := 1; v <= 5; v++ {
		m.Buttons = append(m.Buttons, bot.Button{Text: strconv.Itoa(v) + "★", Action: bot.ActionRate, Value: strconv.Itoa(v), Token: "ratetok" + strconv.Itoa(v)})
	}
	_, err := b.c.Send(context.Background(), bot.Recipient{UserID: "dt002"}, m)
	require.NoError(t, err)
	std := b.f.card("ll-9-0-2").Standard
	require.NotNil(t, std)
	require.Contains(t, standardText(std), "推荐给同事的可能性？（0 = 完全不可能 · 10 = 非常可能）")
	for v := 1; v <= 5; v++ {
		require.Equal(t, "ll.rate."+strconv.Itoa(v)+".ratetok"+strconv.Itoa(v), stdButton(std, bot.ActionRate, strconv.Itoa(v)))
	}
	rows := 0
	for v := 0; v <= 10; v++ {
		require.Equal(t, "ll.nps."+strconv.Itoa(v)+".npstok", stdButton(std, bot.ActionNPS, strconv.Itoa(v)))
	}
	for _, ct := range std.Contents {
		if strings.HasPrefix(ct.ID, "nps_") && ct.Type == "action" {
			rows++
			require.LessOrEqual(t, len(ct.Actions), 6)
		}
	}
	require.Equal(t, 2, rows, "eleven NPS buttons in two rows")
	require.Empty(t, stdButton(std, bot.ActionCheckin, ""))
}

func TestUpdateStandardCard(t *testing.T) {
	t.Parallel()
	b := setup(t, true, noTemplate)
	done, card := checkedIn(t, b)
	require.Equal(t, 1, card.Updates)
	require.Equal(t, 1, card.Creates, "updated in place")
	shown := standardText(card.Standard)
	require.Contains(t, shown, "已签到 09:47 ✓")
	require.Contains(t, shown, "[进入课堂]")
	require.Empty(t, stdButton(card.Standard, bot.ActionCheckin, ""), "the used button is gone")
	require.NotContains(t, shown, "itok-1")

	require.Error(t, b.c.UpdateCard(context.Background(), bot.Recipient{UserID: "dt001"}, "ll-unknown", done), "a card DingTalk does not know")
	require.Zero(t, b.f.callCount("/v1.0/card/instances"), "no template call")
}

func TestSendStandardCardRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		inject func(f *fakeDT)
		want   string
	}{
		{"user outside the robot's range", func(f *fakeDT) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.unknownUsers["dt001"] = true
		}, "param.userIdNotExist"},
		{"robot refused", func(f *fakeDT) {
			f.fail(stdSendPath, 400, `{"code":"robot.notExist","message":"机器人不存在"}`)
		}, "robot.notExist"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, true, noTemplate)
			tc.inject(b.f)
			_, err := b.c.Send(context.Background(), bot.Recipient{UserID: "dt001"}, checkinMessage("ll-7-0-1", 1))
			var pe *bot.PermanentError
			require.ErrorAs(t, err, &pe)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestPreviewCardStandard(t *testing.T) {
	t.Parallel()
	raw, err := dingtalk.PreviewCard(checkinMessage("ll-7-0-1", 1))
	require.NoError(t, err)
	var vars map[string]string
	require.NoError(t, json.Unmarshal(raw, &vars))
	require.Equal(t, "签到：高效沟通", vars["title"])
	std, bad := checkStandardJSON(vars["standard_card"])
	require.Empty(t, bad)
	require.Equal(t, "ll.checkin.."+dingtalk.PreviewToken, stdButton(std, bot.ActionCheckin, ""))
	require.NotContains(t, string(raw), "itok-1", "the preview carries no real token")
}

// TestTemplateContractFile keeps templates/learnloop-card.vars.json in step
// with the variables the adapter sends on a custom template.
func TestTemplateContractFile(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("templates/learnloop-card.vars.json")
	require.NoError(t, err)
	var doc struct {
		CardData    []struct{ Name, Type string } `json:"cardData"`
		PrivateData []struct{ Name, Type string } `json:"privateData"`
		Buttons     []struct {
			Params map[string]string `json:"params"`
		} `json:"buttons"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	names := func(vs []struct{ Name, Type string }) []string {
		var out []string
		for _, v := range vs {
			require.Equal(t, "String", v.Type, v.Name)
			out = append(out, v.Name)
		}
		return out
	}
	require.Equal(t, dingtalk.PublicVars, names(doc.CardData))
	require.ElementsMatch(t, dingtalk.PrivateVars, names(doc.PrivateData))
	for _, b := range doc.Buttons {
		if b.Params == nil {
			continue
		}
		require.Contains(t, []string{bot.ActionCheckin, bot.ActionRate, bot.ActionNPS}, b.Params[dingtalk.ParamAction])
		require.Contains(t, dingtalk.PrivateVars, strings.Trim(b.Params[dingtalk.ParamToken], "${}"))
	}
}
