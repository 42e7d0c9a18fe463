package wecomtest

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// PassiveWait is how long WeCom waits for a callback's answer.
const PassiveWait = 5 * time.Second

// Answer is a card callback's answer, handed to Server.Answer by whoever
// delivered the callback (the test or the chaos driver plays WeCom's
// delivery): the tap it answered and what came back.
type Answer struct {
	// ToUser is the member who tapped; CardType the tapped card's type;
	// ResponseCode the callback's (recorded with the update).
	ToUser       string `json:"touser"`
	CardType     string `json:"card_type"`
	ResponseCode string `json:"response_code,omitempty"`
	// Status is the answer's HTTP status; TookMS how long after the
	// callback was sent it was read.
	Status int   `json:"status"`
	TookMS int64 `json:"took_ms"`
	// Body is the answer's body: empty, or a passive reply.
	Body string `json:"body"`
}

// OpenPassive opens an encrypted passive reply as WeCom does: the envelope
// <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>, its
// msg_signature over the token, timestamp, nonce and ciphertext, and the
// ciphertext decrypted with the EncodingAESKey for receive id = corpID. It
// returns the plain XML.
func OpenPassive(token, aesKey, corpID string, body []byte) ([]byte, error) {
	var env struct {
		XMLName      xml.Name `xml:"xml"`
		Encrypt      string   `xml:"Encrypt"`
		MsgSignature string   `xml:"MsgSignature"`
		TimeStamp    string   `xml:"TimeStamp"`
		Nonce        string   `xml:"Nonce"`
	}
	if err := xml.Unmarshal(body, &env); err != nil || env.Encrypt == "" || env.Nonce == "" || env.TimeStamp == "" {
		return nil, fmt.Errorf("passive reply is not <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>: %.200q", body)
	}
	if util.Signature(token, env.TimeStamp, env.Nonce, env.Encrypt) != env.MsgSignature {
		return nil, errors.New("passive reply: msg_signature does not match")
	}
	_, plain, err := util.DecryptMsg(corpID, env.Encrypt, aesKey) // checks receive id = corpID
	if err != nil {
		return nil, fmt.Errorf("passive reply: %w", err)
	}
	return plain, nil
}

// Answer reads a, sealed with the app's callback token and aesKey, as
// WeCom does, and records the card update it makes (Passive). An answer
// later than PassiveWait, or other than 200, is not read (WeCom retries
// the callback); an empty body changes nothing. A body is a passive reply
// (OpenPassive) addressed to the tapper from the corp: update_button (a
// ReplaceName, on a card with buttons) or update_template_card (a card
// that passes the send's checks). Whether WeCom also spends the callback's
// response_code on it is not documented: the fake leaves the code unused.
// It reports whether the answer updated the card.
func (s *Server) Answer(token, aesKey string, a Answer) (bool, error) {
	if took := time.Duration(a.TookMS) * time.Millisecond; took > PassiveWait {
		return false, fmt.Errorf("answered after %s: WeCom stopped waiting at %s", took, PassiveWait)
	}
	if a.Status != http.StatusOK || a.Body == "" {
		return false, nil
	}
	plain, err := OpenPassive(token, aesKey, s.cfg.CorpID, []byte(a.Body))
	if err != nil {
		return false, err
	}
	var msg struct {
		XMLName      xml.Name `xml:"xml"`
		ToUserName   string   `xml:"ToUserName"`
		FromUserName string   `xml:"FromUserName"`
		CreateTime   int64    `xml:"CreateTime"`
		MsgType      string   `xml:"MsgType"`
		Button       *struct {
			ReplaceName string `xml:"ReplaceName"`
		} `xml:"Button"`
		TemplateCard *card `xml:"TemplateCard"`
	}
	if err := xml.Unmarshal(plain, &msg); err != nil {
		return false, fmt.Errorf("passive reply: plain text is not XML: %w", err)
	}
	switch {
	case msg.ToUserName != a.ToUser:
		return false, fmt.Errorf("passive reply to %q, the tap came from %q", msg.ToUserName, a.ToUser)
	case msg.FromUserName != s.cfg.CorpID:
		return false, fmt.Errorf("passive reply from %q, not the corp", msg.FromUserName)
	case msg.CreateTime <= 0:
		return false, errors.New("passive reply has no CreateTime")
	}
	u := Update{UserIDs: []string{a.ToUser}, ResponseCode: a.ResponseCode, Passive: true}
	switch msg.MsgType {
	case "update_button":
		if msg.Button == nil || msg.Button.ReplaceName == "" || msg.TemplateCard != nil {
			return false, errors.New("update_button needs Button.ReplaceName and nothing else")
		}
		if a.CardType != "button_interaction" && a.CardType != "vote_interaction" {
			return false, fmt.Errorf("update_button on a %q card: only cards with buttons", a.CardType)
		}
		u.ReplaceName = msg.Button.ReplaceName
	case "update_template_card":
		c := msg.TemplateCard
		if c == nil || msg.Button != nil {
			return false, errors.New("update_template_card needs TemplateCard and nothing else")
		}
		has := map[string]bool{"button_list": len(c.ButtonList) > 0, "checkbox": c.Checkbox != nil, "submit_button": c.SubmitButton != nil}
		if code, m := c.check(func(k string) bool { return has[k] }); code != 0 {
			return false, fmt.Errorf("update_template_card: errcode %d %s", code, m)
		}
		if u.Template, err = json.Marshal(c); err != nil {
			return false, fmt.Errorf("update_template_card: %w", err)
		}
	default:
		return false, fmt.Errorf("passive reply to a card tap is %q, not update_button or update_template_card", msg.MsgType)
	}
	s.mu.Lock()
	s.updates = append(s.updates, u)
	s.mu.Unlock()
	return true, nil
}
