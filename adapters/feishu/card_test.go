package feishu

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/text"
)

// buttons lists every button of a rendered card, row by row.
func buttons(t *testing.T, card *card) [][]map[string]any {
	t.Helper()
	raw, err := json.Marshal(card)
	require.NoError(t, err)
	var c struct {
		Body struct {
			Elements []struct {
				Tag     string `json:"tag"`
				Columns []struct {
					Elements []map[string]any `json:"elements"`
				} `json:"columns"`
			} `json:"elements"`
		} `json:"body"`
	}
	require.NoError(t, json.Unmarshal(raw, &c))
	var rows [][]map[string]any
	for _, e := range c.Body.Elements {
		if e.Tag != "column_set" {
			continue
		}
		var row []map[string]any
		for _, col := range e.Columns {
			row = append(row, col.Elements...)
		}
		rows = append(rows, row)
	}
	return rows
}

func behavior(b map[string]any) map[string]any {
	return b["behaviors"].([]any)[0].(map[string]any)
}

func scoreButtons(action string, from, to int) []bot.Button {
	var bs []bot.Button
	for i := from; i <= to; i++ {
		bs = append(bs, bot.Button{Text: strconv.Itoa(i), Action: action, Value: strconv.Itoa(i), Token: "tok-" + action})
	}
	return bs
}

func TestRenderCard(t *testing.T) {
	t.Parallel()
	m := checkinMessage("k")
	m.Buttons = append(m.Buttons, scoreButtons(bot.ActionRate, 1, 5)...)
	m.Buttons = append(m.Buttons, scoreButtons(bot.ActionNPS, 0, 10)...)
	card := renderCard(m, 1772413200)
	require.Equal(t, "2.0", card.Schema)
	require.True(t, card.Config.UpdateMulti)

	rows := buttons(t, card)
	require.Len(t, rows, 4, "rating row, two NPS rows, action row")
	require.Len(t, rows[0], 5, "1–5 in one row")
	require.Len(t, rows[1], 6, "NPS 0–5")
	require.Len(t, rows[2], 5, "NPS 6–10")
	require.Len(t, rows[3], 2, "check-in and link")

	rate4 := behavior(rows[0][3])
	require.Equal(t, "callback", rate4["type"])
	require.Equal(t, map[string]any{valToken: "tok-rate", valAction: "rate", valValue: "4", valSent: "1772413200"}, rate4["value"])
	nps10 := behavior(rows[2][4])
	require.Equal(t, "10", nps10["value"].(map[string]any)[valValue])

	checkin := behavior(rows[3][0])
	require.Equal(t, map[string]any{valToken: "tok-checkin", valAction: "checkin", valSent: "1772413200"}, checkin["value"])
	require.Equal(t, "primary_filled", rows[3][0]["type"])
	link := behavior(rows[3][1])
	require.Equal(t, "open_url", link["type"])
	require.Equal(t, "https://learn.example.com/l/abc_DEF-1?x=1&y=2", link["default_url"], "the tracked /l/ link, untouched")

	raw, err := cardJSON(m, 1772413200)
	require.NoError(t, err)
	require.Contains(t, string(raw), `[无法点击按钮？打开链接签到](https://learn.example.com/c/tok_1-2)`)
	require.Contains(t, string(raw), "x=1&y=2", "no HTML escaping of & in URLs")

	// An English recipient's callback values say so (for the "tap again"
	// answer when storage fails); zh-CN ones carry no language.
	m.Locale = text.EN
	rows = buttons(t, renderCard(m, 1772413200))
	require.Equal(t, map[string]any{valToken: "tok-rate", valAction: "rate", valValue: "4", valSent: "1772413200", valLang: "en"}, behavior(rows[0][3])["value"])
	require.Equal(t, "en", behavior(rows[3][0])["value"].(map[string]any)[valLang])
}

func TestRenderChoiceAndStatus(t *testing.T) {
	t.Parallel()
	opts := make([]string, 11)
	for i := range opts {
		opts[i] = strconv.Itoa(i)
	}
	m := bot.Message{Key: "k", Title: "推荐意愿", Status: "感谢评分 ★★★★☆",
		Choice: &bot.Choice{Question: "您向同事推荐本课程的可能性？", Action: bot.ActionNPS, Token: "tok-nps", Options: opts}}
	card := renderCard(m, 0)
	require.Equal(t, "green", card.Header.Template)
	rows := buttons(t, card)
	require.Len(t, rows, 2)
	require.Len(t, rows[0], 6)
	require.Len(t, rows[1], 5)
	v := behavior(rows[1][0])["value"].(map[string]any)
	require.Equal(t, map[string]any{valToken: "tok-nps", valAction: "nps", valValue: "6"}, v, "no sent stamp when unknown")
	raw, _ := json.Marshal(card)
	require.Contains(t, string(raw), "感谢评分 ★★★★☆")
	require.NotContains(t, string(raw), "markdown", "no fallback link without a check-in button")
}

func TestRenderPlainText(t *testing.T) {
	t.Parallel()
	m := bot.Message{Key: "k", Title: "**not bold** <at id=all></at>", Body: "[x](javascript:alert(1))"}
	raw, err := cardJSON(m, 0)
	require.NoError(t, err)
	require.Contains(t, string(raw), `"content":"[x](javascript:alert(1))","tag":"plain_text"`)
	require.False(t, strings.Contains(string(raw), `"tag":"lark_md"`))
}

// TestRenderSurveyCard: surveys send the NPS question as a Choice and as
// buttons at once; the card shows one set of score rows and the question
// once.
func TestRenderSurveyCard(t *testing.T) {
	t.Parallel()
	opts := make([]string, 11)
	for i := range opts {
		opts[i] = strconv.Itoa(i)
	}
	c := &bot.Choice{Question: "您有多大可能向同事推荐本课程？", Action: bot.ActionNPS, Token: "tok-nps", Options: opts}
	m := bot.Message{Key: "k", Title: "课程反馈", Body: "请为《高效沟通》打分", Choice: c}
	m.Buttons = append(scoreButtons(bot.ActionNPS, 0, 10), bot.Button{Text: "填写完整问卷", Action: bot.ActionLink, URL: "https://x/l/1", Primary: true})
	card := renderCard(m, 0)
	rows := buttons(t, card)
	require.Len(t, rows, 3, "two NPS rows and the link row")
	require.Len(t, rows[0], 6)
	require.Len(t, rows[1], 5)
	require.Len(t, rows[2], 1)
	raw, _ := json.Marshal(card)
	require.Equal(t, 1, strings.Count(string(raw), c.Question))

	// When the question is the body, it is not repeated.
	m.Body = c.Question
	raw, _ = json.Marshal(renderCard(m, 0))
	require.Equal(t, 1, strings.Count(string(raw), c.Question))
}
