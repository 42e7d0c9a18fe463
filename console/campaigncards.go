package console

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/campaigns"
)

// CardPreview returns the exact payload a platform's adapter sends for a
// message (wecom.PreviewCard, feishu.PreviewCard, dingtalk.PreviewCard);
// the console draws each platform's card from it, so a preview shows what
// the adapter decided (card type, which links fit), not a second copy of
// that logic.
type CardPreview func(bot.Message) (json.RawMessage, error)

// previewPlatforms is the order previews are shown in.
var previewPlatforms = []bot.Platform{bot.PlatformWeCom, bot.PlatformFeishu, bot.PlatformDingTalk}

// variantCards is one variant's card on each platform, with when it goes
// out.
type variantCards struct {
	Variant  string
	SendAt   string
	SendTime *sendTimeView
	Cards    []platformCard
}

// platformCard is one platform's rendering of a card.
type platformCard struct {
	Platform string
	Err      string
	WeCom    *wecomCard
	Feishu   *feishuCard
	DingTalk *dingtalkCard
}

// wecomCard is the part of a WeCom message a phone shows.
type wecomCard struct {
	Text     string // msgtype text
	CardType string
	Title    string
	Desc     string
	Sub      string
	Fields   []previewField
	Jumps    []string
	Buttons  []previewButton
	// Action is set when tapping the card opens a link.
	Action bool
}

type previewField struct{ Key, Value string }

type previewButton struct {
	Text    string
	Primary bool
}

// feishuCard is a card JSON 2.0 header and body.
type feishuCard struct {
	Title    string
	Template string
	Elements []feishuElement
}

type feishuElement struct {
	Text    string
	Color   string
	Buttons []previewButton
}

// dingtalkCard is the card variables laid out as the README's template.
type dingtalkCard struct {
	Title   string
	Content []string
	Links   []string
}

// cardsFor draws one message on every platform with an adapter preview.
func (c *Console) cardsFor(m bot.Message) []platformCard {
	var out []platformCard
	for _, p := range previewPlatforms {
		f := c.d.Previews[p]
		if f == nil {
			continue
		}
		pc := platformCard{Platform: string(p)}
		raw, err := f(m)
		if err == nil {
			err = pc.decode(raw)
		}
		if err != nil {
			pc.Err = err.Error()
		}
		out = append(out, pc)
	}
	return out
}

func (pc *platformCard) decode(raw json.RawMessage) error {
	switch bot.Platform(pc.Platform) {
	case bot.PlatformWeCom:
		var msg struct {
			MsgType string `json:"msgtype"`
			Text    *struct {
				Content string `json:"content"`
			} `json:"text"`
			Card *struct {
				CardType string `json:"card_type"`
				Main     *struct {
					Title string `json:"title"`
					Desc  string `json:"desc"`
				} `json:"main_title"`
				Sub    string `json:"sub_title_text"`
				Fields []struct {
					Key   string `json:"keyname"`
					Value string `json:"value"`
				} `json:"horizontal_content_list"`
				Jumps []struct {
					Title string `json:"title"`
				} `json:"jump_list"`
				Action  *struct{} `json:"card_action"`
				Buttons []struct {
					Text  string `json:"text"`
					Style int    `json:"style"`
				} `json:"button_list"`
			} `json:"template_card"`
		}
		if err := json.Unmarshal(raw, &msg); err != nil {
			return fmt.Errorf("read the wecom card: %w", err)
		}
		w := &wecomCard{}
		if msg.Text != nil {
			w.Text = msg.Text.Content
		}
		if k := msg.Card; k != nil {
			w.CardType, w.Sub, w.Action = k.CardType, k.Sub, k.Action != nil
			if k.Main != nil {
				w.Title, w.Desc = k.Main.Title, k.Main.Desc
			}
			for _, f := range k.Fields {
				w.Fields = append(w.Fields, previewField{f.Key, f.Value})
			}
			for _, j := range k.Jumps {
				w.Jumps = append(w.Jumps, j.Title)
			}
			for _, b := range k.Buttons {
				w.Buttons = append(w.Buttons, previewButton{b.Text, b.Style == 1})
			}
		}
		pc.WeCom = w
	case bot.PlatformFeishu:
		type text struct {
			Content string `json:"content"`
			Color   string `json:"text_color"`
		}
		type elem struct {
			Tag     string `json:"tag"`
			Text    *text  `json:"text"`
			Type    string `json:"type"`
			Columns []struct {
				Elements []elem `json:"elements"`
			} `json:"columns"`
		}
		var card struct {
			Header struct {
				Title    text   `json:"title"`
				Template string `json:"template"`
			} `json:"header"`
			Body struct {
				Elements []elem `json:"elements"`
			} `json:"body"`
		}
		if err := json.Unmarshal(raw, &card); err != nil {
			return fmt.Errorf("read the feishu card: %w", err)
		}
		f := &feishuCard{Title: card.Header.Title.Content, Template: card.Header.Template}
		for _, e := range card.Body.Elements {
			switch e.Tag {
			case "div":
				if e.Text != nil {
					f.Elements = append(f.Elements, feishuElement{Text: e.Text.Content, Color: e.Text.Color})
				}
			case "column_set":
				var row feishuElement
				for _, col := range e.Columns {
					for _, b := range col.Elements {
						if b.Tag == "button" && b.Text != nil {
							row.Buttons = append(row.Buttons, previewButton{b.Text.Content, strings.HasPrefix(b.Type, "primary")})
						}
					}
				}
				f.Elements = append(f.Elements, row)
			}
		}
		pc.Feishu = f
	case bot.PlatformDingTalk:
		var vars map[string]string
		if err := json.Unmarshal(raw, &vars); err != nil {
			return fmt.Errorf("read the dingtalk card: %w", err)
		}
		d := &dingtalkCard{Title: vars["title"]}
		for _, line := range strings.Split(vars["content"], "\n") {
			if line = strings.TrimSpace(line); line != "" {
				d.Content = append(d.Content, strings.ReplaceAll(line, "**", ""))
			}
		}
		for _, n := range []string{"1", "2"} {
			if vars["show_link"+n] == "true" {
				d.Links = append(d.Links, vars["link"+n+"_text"])
			}
		}
		pc.DingTalk = d
	}
	return nil
}

// sendTimeView explains a learned send time.
type sendTimeView struct {
	Learned  bool
	Reason   string
	Hour     string
	N        int
	MinN     int
	Window   string
	Fallback string
	Compared []hourView
}

// hourView is one hour of an estimate.
type hourView struct {
	Hour      string
	Sent      int
	Opened    int
	QuickOpen *float64
	Median    *float64
	Enough    bool
	Best      bool
}

func hourViews(hs []campaigns.HourEstimate, best *int) []hourView {
	out := make([]hourView, 0, len(hs))
	for _, h := range hs {
		out = append(out, hourView{Hour: fmt.Sprintf("%02d:00", h.Hour), Sent: h.Sent, Opened: h.Opened, QuickOpen: h.QuickOpen,
			Median: h.MedianMinutes, Enough: h.Enough, Best: best != nil && *best == h.Hour})
	}
	return out
}

func (c *Console) sendTimeView(st *campaigns.SendTimeChoice) *sendTimeView {
	if st == nil {
		return nil
	}
	loc := zoneOr(st.TimeZone, c.d.Location)
	v := &sendTimeView{Learned: st.Learned, Reason: st.Reason, N: st.N, MinN: st.MinPerHour,
		Window:   st.Window.From.In(loc).Format("2006-01-02 15:04") + " – " + st.Window.To.In(loc).Format("2006-01-02 15:04"),
		Fallback: st.FallbackAt.In(loc).Format("2006-01-02 15:04")}
	if st.Hour != nil {
		v.Hour = fmt.Sprintf("%02d:00", *st.Hour)
	}
	v.Compared = hourViews(st.Compared, st.Hour)
	return v
}
