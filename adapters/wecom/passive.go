package wecom

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/cut"
)

// Passive replies (被动回复, path/90241). A callback's own answer may carry a
// message for WeCom to act on, encrypted like a callback and signed with a
// fresh timestamp and nonce:
//
//	<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>
//
// around one plain message to the member who wrote or tapped: a text (an
// answer in chat, chat.go), or — for a tap on a template card — the card's
// update in place: update_button (the tapped card's buttons turn into grey,
// untappable text) or update_template_card (a whole new card). It needs no
// access token, no API call and no response_code, and WeCom applies it as it
// reads the answer. The XML is written here without encoding/xml (no
// reflection on the tap path).

// Passive message types.
const (
	passiveText         = "text"
	passiveUpdateButton = "update_button"
	passiveUpdateCard   = "update_template_card"
)

// cardUpdate is what a card becomes after a tap, the same for the
// update_template_card API (JSON) and a passive reply (XML): with a status
// line the buttons are replaced by that text, otherwise the whole card is
// replaced.
type cardUpdate struct {
	replaceName string
	card        *templateCard
}

// cardUpdateOf is m as an update of the card it replaces.
func cardUpdateOf(m bot.Message) (cardUpdate, error) {
	if m.Status != "" {
		return cardUpdate{replaceName: m.Status}, nil
	}
	r, err := render(m)
	if err != nil {
		return cardUpdate{}, fmt.Errorf("wecom: update card: %w", err)
	}
	if r.TemplateCard == nil {
		return cardUpdate{}, errors.New("wecom: update card: the new message is not a card")
	}
	return cardUpdate{card: r.TemplateCard}, nil
}

// passiveCard is the plain passive reply that applies up to user's tapped
// card.
func (c *Client) passiveCard(user string, up cardUpdate) []byte {
	var w xmlWriter
	if up.card == nil {
		w.head(user, c.cfg.CorpID, c.now().Unix(), passiveUpdateButton)
		w.open("Button")
		w.cdata("ReplaceName", up.replaceName)
		w.close("Button")
	} else {
		w.head(user, c.cfg.CorpID, c.now().Unix(), passiveUpdateCard)
		w.card(up.card)
	}
	w.close("xml")
	return w.b
}

// passiveText is the plain passive reply carrying a text to user, cut to
// maxReplyBytes.
func (c *Client) passiveText(user, content string) []byte {
	var w xmlWriter
	w.head(user, c.cfg.CorpID, c.now().Unix(), passiveText)
	w.cdata("Content", cut.Bytes(content, maxReplyBytes))
	w.close("xml")
	return w.b
}

// sealPassive encrypts a plain passive reply for the corp and wraps it in
// the signed envelope WeCom reads.
func (c *Client) sealPassive(plain []byte) ([]byte, error) {
	var nb [8]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return nil, fmt.Errorf("wecom: reply nonce: %w", err)
	}
	ts := strconv.FormatInt(c.now().Unix(), 10)
	nonce := hex.EncodeToString(nb[:])
	// The ciphertext is encoded straight into the envelope (base64 has no
	// character CDATA would need to split) and signed there.
	w := xmlWriter{b: make([]byte, 0, c.crypto.sealedLen(len(plain))+2*sha1.Size+len(ts)+len(nonce)+len(envelopeTags))}
	w.open("xml")
	w.open("Encrypt")
	w.b = append(w.b, "<![CDATA["...)
	start := len(w.b)
	var err error
	if w.b, err = c.crypto.appendEncrypt(w.b, plain); err != nil {
		return nil, err
	}
	sig := signature(c.crypto.token, ts, nonce, w.b[start:])
	w.b = append(w.b, "]]>"...)
	w.close("Encrypt")
	w.cdata("MsgSignature", sig)
	w.text("TimeStamp", ts)
	w.cdata("Nonce", nonce)
	w.close("xml")
	return w.b, nil
}

// envelopeTags is the markup of sealPassive's envelope around its four
// values, so that its buffer is allocated once at its final size.
const envelopeTags = "<xml><Encrypt><![CDATA[]]></Encrypt><MsgSignature><![CDATA[]]></MsgSignature><TimeStamp></TimeStamp><Nonce><![CDATA[]]></Nonce></xml>"

// xmlWriter writes the flat-and-nested XML of passive replies: every text
// value as CDATA, numbers as text.
type xmlWriter struct{ b []byte }

// head opens <xml> with the fields every passive reply starts with.
func (w *xmlWriter) head(to, from string, at int64, msgType string) {
	if w.b == nil {
		w.b = make([]byte, 0, 512)
	}
	w.open("xml")
	w.cdata("ToUserName", to)
	w.cdata("FromUserName", from)
	w.text("CreateTime", strconv.FormatInt(at, 10))
	w.cdata("MsgType", msgType)
}

func (w *xmlWriter) open(name string) {
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
}

func (w *xmlWriter) close(name string) {
	w.b = append(w.b, "</"...)
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
}

// text writes <name>v</name>; v must need no escaping (digits).
func (w *xmlWriter) text(name, v string) {
	w.open(name)
	w.b = append(w.b, v...)
	w.close(name)
}

func (w *xmlWriter) int(name string, n int) { w.text(name, strconv.Itoa(n)) }

// cdata writes <name><![CDATA[v]]></name>: a "]]>" in v is split across two
// sections, and characters XML cannot carry become U+FFFD.
func (w *xmlWriter) cdata(name, v string) {
	w.open(name)
	w.b = append(w.b, "<![CDATA["...)
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c == ']' && i+2 < len(v) && v[i+1] == ']' && v[i+2] == '>':
			w.b = append(w.b, "]]]]><![CDATA[>"...)
			i += 3
			continue
		case c >= 0x20 && c < utf8.RuneSelf, c == '\t', c == '\n', c == '\r':
			w.b = append(w.b, c)
			i++
			continue
		case c < utf8.RuneSelf:
			w.b = utf8.AppendRune(w.b, utf8.RuneError) // a control character
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError || r == 0xFFFE || r == 0xFFFF {
			r = utf8.RuneError
		}
		w.b = utf8.AppendRune(w.b, r)
		i += size
	}
	w.b = append(w.b, "]]>"...)
	w.close(name)
}

// optional writes a CDATA element only when v is not empty.
func (w *xmlWriter) optional(name, v string) {
	if v != "" {
		w.cdata(name, v)
	}
}

// card writes a template card as the passive update_template_card carries
// it: the update_template_card API's fields, CamelCase (path/90241).
func (w *xmlWriter) card(c *templateCard) {
	w.open("TemplateCard")
	w.cdata("CardType", c.CardType)
	if c.MainTitle != nil {
		w.open("MainTitle")
		w.optional("Title", c.MainTitle.Title)
		w.optional("Desc", c.MainTitle.Desc)
		w.close("MainTitle")
	}
	w.optional("SubTitleText", c.SubTitleText)
	for _, h := range c.HorizontalContentList {
		w.open("HorizontalContentList")
		w.cdata("KeyName", h.KeyName)
		w.cdata("Value", h.Value)
		w.close("HorizontalContentList")
	}
	for _, j := range c.JumpList {
		w.open("JumpList")
		w.int("Type", j.Type)
		w.cdata("Title", j.Title)
		w.cdata("Url", j.URL)
		w.close("JumpList")
	}
	if a := c.CardAction; a != nil {
		w.open("CardAction")
		w.int("Type", a.Type)
		w.cdata("Url", a.URL)
		w.close("CardAction")
	}
	w.cdata("TaskId", c.TaskID)
	for _, b := range c.ButtonList {
		w.open("ButtonList")
		w.int("Type", b.Type)
		w.cdata("Text", b.Text)
		if b.Style != 0 {
			w.int("Style", b.Style)
		}
		w.optional("Key", b.Key)
		w.optional("Url", b.URL)
		w.close("ButtonList")
	}
	if cb := c.Checkbox; cb != nil {
		w.open("CheckBox")
		w.cdata("QuestionKey", cb.QuestionKey)
		for _, o := range cb.OptionList {
			w.open("OptionList")
			w.cdata("Id", o.ID)
			w.cdata("Text", o.Text)
			w.close("OptionList")
		}
		w.int("Mode", cb.Mode)
		w.close("CheckBox")
	}
	if s := c.SubmitButton; s != nil {
		w.open("SubmitButton")
		w.cdata("Text", s.Text)
		w.cdata("Key", s.Key)
		w.close("SubmitButton")
	}
	w.close("TemplateCard")
}
