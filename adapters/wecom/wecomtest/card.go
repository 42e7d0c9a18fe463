package wecomtest

import (
	"encoding/json"
	"regexp"
	"strings"
)

// WeCom's template-card limits (developer.work.weixin.qq.com path/90236).
const (
	maxButtons     = 6    // button_list
	maxKeyBytes    = 1024 // button key, submit_button key, question_key
	maxVoteOptions = 20   // checkbox.option_list
	maxOptionID    = 128
	maxFields      = 6 // horizontal_content_list
	maxJumps       = 3 // jump_list
)

var taskIDChars = regexp.MustCompile(`^[0-9A-Za-z_\-@]{1,128}$`)

// card is a template_card as the API takes it (JSON tags) and as a passive
// update_template_card carries it (XML tags, CamelCase).
type card struct {
	CardType  string `json:"card_type" xml:"CardType"`
	MainTitle *struct {
		Title string `json:"title,omitempty" xml:"Title"`
		Desc  string `json:"desc,omitempty" xml:"Desc"`
	} `json:"main_title,omitempty" xml:"MainTitle"`
	SubTitleText          string `json:"sub_title_text,omitempty" xml:"SubTitleText"`
	HorizontalContentList []struct {
		KeyName string `json:"keyname" xml:"KeyName"`
		Value   string `json:"value" xml:"Value"`
	} `json:"horizontal_content_list,omitempty" xml:"HorizontalContentList"`
	JumpList []struct {
		Type  int    `json:"type" xml:"Type"`
		Title string `json:"title" xml:"Title"`
		URL   string `json:"url" xml:"Url"`
	} `json:"jump_list,omitempty" xml:"JumpList"`
	CardAction *struct {
		Type int    `json:"type" xml:"Type"`
		URL  string `json:"url" xml:"Url"`
	} `json:"card_action,omitempty" xml:"CardAction"`
	TaskID     string `json:"task_id" xml:"TaskId"`
	ButtonList []struct {
		Type  int    `json:"type" xml:"Type"`
		Text  string `json:"text" xml:"Text"`
		Style int    `json:"style,omitempty" xml:"Style"`
		Key   string `json:"key,omitempty" xml:"Key"`
		URL   string `json:"url,omitempty" xml:"Url"`
	} `json:"button_list,omitempty" xml:"ButtonList"`
	Checkbox *struct {
		QuestionKey string `json:"question_key" xml:"QuestionKey"`
		Mode        int    `json:"mode" xml:"Mode"` // 0 single choice, 1 multiple
		OptionList  []struct {
			ID   string `json:"id" xml:"Id"`
			Text string `json:"text" xml:"Text"`
		} `json:"option_list" xml:"OptionList"`
	} `json:"checkbox,omitempty" xml:"CheckBox"`
	SubmitButton *struct {
		Text string `json:"text" xml:"Text"`
		Key  string `json:"key" xml:"Key"`
	} `json:"submit_button,omitempty" xml:"SubmitButton"`
}

// keys returns the card's callback keys: its type 0 buttons' and its
// submit_button's.
func (c card) keys() []string {
	var keys []string
	for _, b := range c.ButtonList {
		if b.Type == 0 {
			keys = append(keys, b.Key)
		}
	}
	if c.SubmitButton != nil {
		keys = append(keys, c.SubmitButton.Key)
	}
	return keys
}

// CheckCard validates a template_card (the API's JSON) as WeCom does; it
// returns 0 and "" for a card WeCom takes, else the errcode and errmsg
// WeCom answers.
func CheckCard(raw json.RawMessage) (int64, string) {
	_, code, msg := checkCard(raw)
	return code, msg
}

func checkCard(raw json.RawMessage) (card, int64, string) {
	var c card
	var shape map[string]json.RawMessage
	if json.Unmarshal(raw, &c) != nil || json.Unmarshal(raw, &shape) != nil {
		return c, CodeInvalidParam, "invalid template_card"
	}
	has := func(k string) bool { v, ok := shape[k]; return ok && string(v) != "null" }
	code, msg := c.check(has)
	return c, code, msg
}

// check validates c; has reports whether the card carries a key at all.
func (c card) check(has func(string) bool) (int64, string) {
	if !taskIDChars.MatchString(c.TaskID) {
		return CodeTaskIDExists, "taskid has existed or empty or exceed max len"
	}
	switch c.CardType {
	case "button_interaction":
		if c.MainTitle == nil || c.MainTitle.Title == "" {
			return CodeInvalidParam, "main_title.title required"
		}
		if len(c.ButtonList) == 0 || len(c.ButtonList) > maxButtons {
			return CodeInvalidButtons, "invalid button size"
		}
		if has("checkbox") || has("submit_button") {
			return CodeInvalidParam, "button_interaction has no checkbox"
		}
		for _, b := range c.ButtonList {
			if b.Text == "" {
				return CodeInvalidParam, "button text required"
			}
			switch b.Type {
			case 0:
				if b.Key == "" || len(b.Key) > maxKeyBytes {
					return CodeInvalidKey, "invalid button key length"
				}
			case 1:
				if !strings.HasPrefix(b.URL, "http") {
					return CodeInvalidParam, "button url required"
				}
			default:
				return CodeInvalidParam, "invalid button type"
			}
			if b.Style < 0 || b.Style > 4 {
				return CodeInvalidParam, "invalid button style"
			}
		}
	case "vote_interaction":
		if c.Checkbox == nil || c.SubmitButton == nil {
			return CodeInvalidParam, "checkbox and submit_button required"
		}
		if has("button_list") {
			return CodeInvalidParam, "vote_interaction has no button_list"
		}
		cb := c.Checkbox
		if cb.QuestionKey == "" || len(cb.QuestionKey) > maxKeyBytes || (cb.Mode != 0 && cb.Mode != 1) {
			return CodeInvalidParam, "invalid checkbox"
		}
		if len(cb.OptionList) == 0 || len(cb.OptionList) > maxVoteOptions {
			return CodeInvalidParam, "invalid option_list size"
		}
		seen := map[string]bool{}
		for _, o := range cb.OptionList {
			if o.ID == "" || len(o.ID) > maxOptionID || o.Text == "" || seen[o.ID] {
				return CodeInvalidParam, "invalid option"
			}
			seen[o.ID] = true
		}
		if c.SubmitButton.Key == "" || len(c.SubmitButton.Key) > maxKeyBytes || c.SubmitButton.Text == "" {
			return CodeInvalidKey, "invalid submit_button"
		}
	case "text_notice":
		if c.CardAction == nil || c.CardAction.Type != 1 || !strings.HasPrefix(c.CardAction.URL, "http") {
			return CodeInvalidParam, "card_action required"
		}
		if len(c.JumpList) > maxJumps || has("button_list") {
			return CodeInvalidParam, "invalid jump_list"
		}
	default:
		return CodeInvalidParam, "invalid card_type"
	}
	if len(c.HorizontalContentList) > maxFields {
		return CodeInvalidParam, "invalid horizontal_content_list size"
	}
	return 0, ""
}
