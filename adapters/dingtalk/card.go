package dingtalk

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/learnloop/learnloop/bot"
)

// Card template variables. The card template built in DingTalk's card
// platform binds its components to these names (README "Card template").
// Every value is a string, as cardParamMap requires; flags are "true" or
// "false". Public variables go into cardData, private ones into the
// recipient's privateData, so a forwarded or screenshotted card carries no
// token.
var (
	// PublicVars are the cardData variables.
	PublicVars = []string{
		"title", "body", "fields", "fields_md", "content", "status", "done", "ref",
		"show_checkin", "checkin_text",
		"show_rate", "rate_question",
		"show_nps", "nps_question",
		"show_link1", "link1_text", "link1_url", "show_link2", "link2_text", "link2_url", "links",
	}
	// PrivateVars are the recipient's privateData variables.
	PrivateVars = privateVars()
)

// Callback button parameters (回传请求 params) the template must send.
const (
	ParamAction = "action"
	ParamValue  = "value"
	ParamToken  = "token"
)

func privateVars() []string {
	v := []string{"checkin_token", "checkin_url", "toast"}
	for i := 1; i <= 5; i++ {
		v = append(v, rateTokenVar(strconv.Itoa(i)))
	}
	for i := 0; i <= 10; i++ {
		v = append(v, npsTokenVar(strconv.Itoa(i)))
	}
	return v
}

func rateTokenVar(v string) string { return "rate_token_" + v }
func npsTokenVar(v string) string  { return "nps_token_" + v }

// rateValues and npsValues are the scores the template has buttons for.
func validScore(action, v string) bool {
	n, err := strconv.Atoi(v)
	if err != nil || strconv.Itoa(n) != v {
		return false
	}
	switch action {
	case bot.ActionRate:
		return n >= 1 && n <= 5
	case bot.ActionNPS:
		return n >= 0 && n <= 10
	}
	return false
}

func flag(b bool) string { return strconv.FormatBool(b) }

// cardVars renders m as template variables.
func (c *Client) cardVars(m bot.Message) (pub, priv map[string]string) {
	pub = make(map[string]string, len(PublicVars))
	priv = make(map[string]string, len(PrivateVars))
	for _, k := range PublicVars {
		pub[k] = ""
	}
	for _, k := range PrivateVars {
		priv[k] = ""
	}
	pub["title"] = m.Title
	pub["body"] = m.Body
	pub["status"] = m.Status
	pub["done"] = flag(m.Status != "")
	pub["ref"] = m.Key
	fields := m.Fields
	if fields == nil {
		fields = []bot.Field{}
	}
	fj, _ := json.Marshal(fields)
	pub["fields"] = string(fj)
	var md []string
	for _, f := range m.Fields {
		md = append(md, "**"+mdEscape(f.Label)+"**："+mdEscape(f.Value))
	}
	pub["fields_md"] = strings.Join(md, "\n\n")
	content := mdEscape(m.Body)
	if len(md) > 0 {
		content += "\n\n" + pub["fields_md"]
	}
	if m.Status != "" {
		content += "\n\n**" + mdEscape(m.Status) + "**"
	}
	pub["content"] = content

	type link struct {
		Text string `json:"text"`
		URL  string `json:"url"`
	}
	links := []link{}
	for _, b := range m.Buttons {
		switch b.Action {
		case bot.ActionCheckin:
			pub["show_checkin"], pub["checkin_text"] = "true", b.Text
			priv["checkin_token"] = b.Token
		case bot.ActionRate, bot.ActionNPS:
			if !validScore(b.Action, b.Value) {
				c.log.Warn("dingtalk card: score button outside the template's range dropped", "action", b.Action, "value", b.Value)
				continue
			}
			c.setScore(pub, priv, b.Action, b.Value, b.Token)
		case bot.ActionLink:
			links = append(links, link{Text: b.Text, URL: openInBrowser(b.URL)})
		}
	}
	if ch := m.Choice; ch != nil && (ch.Action == bot.ActionRate || ch.Action == bot.ActionNPS) {
		for _, o := range ch.Options {
			if validScore(ch.Action, o) {
				c.setScore(pub, priv, ch.Action, o, ch.Token)
			}
		}
		if ch.Action == bot.ActionRate {
			pub["rate_question"] = ch.Question
		} else {
			pub["nps_question"] = ch.Question
		}
	}
	for i, l := range links {
		if i >= 2 {
			break
		}
		n := strconv.Itoa(i + 1)
		pub["show_link"+n], pub["link"+n+"_text"], pub["link"+n+"_url"] = "true", l.Text, l.URL
	}
	lj, _ := json.Marshal(links)
	pub["links"] = string(lj)
	for _, k := range []string{"show_checkin", "show_rate", "show_nps", "show_link1", "show_link2"} {
		if pub[k] == "" {
			pub[k] = "false"
		}
	}
	if pub["show_checkin"] == "true" {
		priv["checkin_url"] = c.checkinURL(m.Fallback)
	}
	return pub, priv
}

func (c *Client) setScore(pub, priv map[string]string, action, value, token string) {
	if action == bot.ActionRate {
		pub["show_rate"] = "true"
		priv[rateTokenVar(value)] = token
		return
	}
	pub["show_nps"] = "true"
	priv[npsTokenVar(value)] = token
}

var checkinLinkRE = regexp.MustCompile(`https?://[^\s<>"'）)]+/c/[A-Za-z0-9_-]+`)

// checkinURL finds the signed /c/ check-in link in a message's fallback
// text; it must be on learnloop's public URL when that is known.
func (c *Client) checkinURL(fallback string) string {
	for _, u := range checkinLinkRE.FindAllString(fallback, -1) {
		if c.cfg.PublicURL == "" || strings.HasPrefix(u, c.cfg.PublicURL+"/c/") {
			return u
		}
	}
	return ""
}

// openInBrowser wraps a link so DingTalk's desktop client opens it in the
// browser instead of its side panel (pc_slide=false); the mobile client
// opens it in its webview either way.
func openInBrowser(u string) string {
	if u == "" || strings.HasPrefix(u, "dingtalk://") {
		return u
	}
	return "dingtalk://dingtalkclient/page/link?url=" + url.QueryEscape(u) + "&pc_slide=false"
}

// mdEscape normalizes text for DingTalk markdown. DingTalk renders no HTML
// entities, so text is kept as written (course data comes from
// coordinators, not from trainees).
func mdEscape(s string) string { return strings.ReplaceAll(s, "\r", "") }

// paramString renders a callback parameter (string, number or bool) as text.
func paramString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	default:
		return fmt.Sprint(x)
	}
}
