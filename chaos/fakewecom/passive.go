package main

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// passiveWait is how long WeCom waits for a callback's answer.
const passiveWait = 5 * time.Second

// Answer is a callback's answer handed to POST /passive by whoever
// delivered the callback (the chaos driver plays WeCom's delivery): the tap
// it answered and what came back.
type Answer struct {
	// ToUser is the member who tapped; CardType the tapped card's type.
	ToUser   string `json:"touser"`
	CardType string `json:"card_type"`
	// Status is the answer's HTTP status; TookMS how long after the
	// callback was sent it was read.
	Status int   `json:"status"`
	TookMS int64 `json:"took_ms"`
	// Body is the answer's body: empty, or a passive reply.
	Body string `json:"body"`
}

// takePassive reads a callback's answer as WeCom does and, when it is a
// passive card update, applies (counts) it. It answers
// {"updated":bool,"error":"…"}; a refused answer is counted as a rejection
// "passive_refused".
func (f *Fake) takePassive(w http.ResponseWriter, r *http.Request) {
	var a Answer
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&a); err != nil {
		http.Error(w, "body must be a JSON Answer", http.StatusBadRequest)
		return
	}
	if f.cfg.Token == "" || f.cfg.EncodingAESKey == "" {
		http.Error(w, "the fake was started without -token and -aes-key", http.StatusNotImplemented)
		return
	}
	updated, err := f.answer(a)
	out := map[string]any{"updated": updated}
	if err != nil {
		f.reject("passive_refused")
		out["error"] = err.Error()
	}
	if updated {
		f.mu.Lock()
		f.passive++
		f.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// answer checks a as WeCom does. An answer later than 5 s, or other than
// 200, is not read (WeCom retries the callback); an empty body changes
// nothing. A body is a passive reply: msg_signature over the token,
// timestamp, nonce and ciphertext, AES with the EncodingAESKey for receive
// id = CorpID, addressed to the tapper from the corp, and update_button
// (a replace_name, on a card with buttons) or update_template_card (a card
// that passes the send's checks).
func (f *Fake) answer(a Answer) (bool, error) {
	if took := time.Duration(a.TookMS) * time.Millisecond; took > passiveWait {
		return false, fmt.Errorf("answered after %s: WeCom stopped waiting at %s", took, passiveWait)
	}
	if a.Status != http.StatusOK || a.Body == "" {
		return false, nil
	}
	var env struct {
		XMLName      xml.Name `xml:"xml"`
		Encrypt      string   `xml:"Encrypt"`
		MsgSignature string   `xml:"MsgSignature"`
		TimeStamp    string   `xml:"TimeStamp"`
		Nonce        string   `xml:"Nonce"`
	}
	if err := xml.Unmarshal([]byte(a.Body), &env); err != nil || env.Encrypt == "" || env.Nonce == "" || env.TimeStamp == "" {
		return false, errors.New("passive reply is not <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>")
	}
	if util.Signature(f.cfg.Token, env.TimeStamp, env.Nonce, env.Encrypt) != env.MsgSignature {
		return false, errors.New("passive reply: msg_signature does not match")
	}
	_, plain, err := util.DecryptMsg(f.cfg.CorpID, env.Encrypt, f.cfg.EncodingAESKey) // checks receive id = CorpID
	if err != nil {
		return false, fmt.Errorf("passive reply: %w", err)
	}
	var msg struct {
		ToUserName   string `xml:"ToUserName"`
		FromUserName string `xml:"FromUserName"`
		CreateTime   int64  `xml:"CreateTime"`
		MsgType      string `xml:"MsgType"`
		Button       *struct {
			ReplaceName string `xml:"ReplaceName"`
		} `xml:"Button"`
		TemplateCard *xmlCard `xml:"TemplateCard"`
	}
	if err := xml.Unmarshal(plain, &msg); err != nil {
		return false, fmt.Errorf("passive reply: plain text is not XML: %w", err)
	}
	switch {
	case msg.ToUserName != a.ToUser:
		return false, fmt.Errorf("passive reply to %q, the tap came from %q", msg.ToUserName, a.ToUser)
	case msg.FromUserName != f.cfg.CorpID:
		return false, fmt.Errorf("passive reply from %q, not the corp", msg.FromUserName)
	case msg.CreateTime <= 0:
		return false, errors.New("passive reply has no CreateTime")
	}
	switch msg.MsgType {
	case "update_button":
		if msg.Button == nil || msg.Button.ReplaceName == "" || msg.TemplateCard != nil {
			return false, errors.New("update_button needs Button.ReplaceName and nothing else")
		}
		if a.CardType != "button_interaction" && a.CardType != "vote_interaction" {
			return false, fmt.Errorf("update_button on a %q card: only cards with buttons", a.CardType)
		}
	case "update_template_card":
		if msg.TemplateCard == nil || msg.Button != nil {
			return false, errors.New("update_template_card needs TemplateCard and nothing else")
		}
		if _, code, m := msg.TemplateCard.card().check(); code != 0 {
			return false, fmt.Errorf("update_template_card: errcode %d %s", code, m)
		}
	default:
		return false, fmt.Errorf("passive reply to a card tap is %q, not update_button or update_template_card", msg.MsgType)
	}
	return true, nil
}

// xmlCard is the part of a passive update_template_card's TemplateCard the
// fake checks: the API's fields in CamelCase (xml tags), with the API's
// JSON names (json tags) to read it as a card.
type xmlCard struct {
	CardType  string `xml:"CardType" json:"card_type"`
	TaskID    string `xml:"TaskId" json:"task_id"`
	MainTitle *struct {
		Title string `xml:"Title" json:"title"`
	} `xml:"MainTitle" json:"main_title,omitempty"`
	ButtonList []struct {
		Type int    `xml:"Type" json:"type"`
		Text string `xml:"Text" json:"text"`
		Key  string `xml:"Key" json:"key"`
		URL  string `xml:"Url" json:"url"`
	} `xml:"ButtonList" json:"button_list,omitempty"`
	CheckBox *struct {
		QuestionKey string `xml:"QuestionKey" json:"question_key"`
		OptionList  []struct {
			ID   string `xml:"Id" json:"id"`
			Text string `xml:"Text" json:"text"`
		} `xml:"OptionList" json:"option_list"`
	} `xml:"CheckBox" json:"checkbox,omitempty"`
	SubmitButton *struct {
		Text string `xml:"Text" json:"text"`
		Key  string `xml:"Key" json:"key"`
	} `xml:"SubmitButton" json:"submit_button,omitempty"`
	CardAction *struct {
		Type int    `xml:"Type" json:"type"`
		URL  string `xml:"Url" json:"url"`
	} `xml:"CardAction" json:"card_action,omitempty"`
}

// card is x as the API's template_card.
func (x xmlCard) card() card {
	var c card
	raw, _ := json.Marshal(x)
	_ = json.Unmarshal(raw, &c)
	return c
}
