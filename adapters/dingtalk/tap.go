package dingtalk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/text"
)

// tapTimeout bounds the router's work on one tap. It is detached from the
// connection that carried the tap: a tap being stored when the Stream
// connection rotates is still stored.
const tapTimeout = 10 * time.Second

// updateTimeout bounds the card update an HTTP tap's answer cannot carry.
const updateTimeout = 3 * time.Second

// maxTokenLen matches bot.Signer's limit.
const maxTokenLen = 4096

// errBadTap marks a card callback that cannot be turned into an interaction.
var errBadTap = errors.New("malformed card callback")

// cardTap is one button tap on a card.
type cardTap struct {
	OutTrackID string
	UserID     string
	Action     string
	Value      string
	Token      string
	// Locale is the recipient's language as carried by the token
	// variable (see markTokens): text.EN or text.ZH.
	Locale text.Locale
}

// enTokenPrefix starts every token variable of a card sent to an English
// recipient. A tap carries nothing else that tells the recipient's
// language, and when storage fails the adapter must still answer in it.
// "." is outside the tokens' base64url alphabet, so the prefix cannot be
// confused with a token; zh-CN cards carry the bare token.
const enTokenPrefix = "en."

// markTokens prefixes the token variables in priv (checkin_token,
// rate_token_n, nps_token_n) with enTokenPrefix for English recipients.
func markTokens(priv map[string]string, locale text.Locale) {
	if text.Parse(string(locale)) != text.EN {
		return
	}
	for k, v := range priv {
		if strings.HasSuffix(k, "_token") && v != "" && !strings.HasPrefix(v, enTokenPrefix) {
			priv[k] = enTokenPrefix + v
		}
	}
}

// splitToken removes the language prefix from a tapped token.
func splitToken(tok string) (locale text.Locale, bare string) {
	if rest, ok := strings.CutPrefix(tok, enTokenPrefix); ok {
		return text.EN, rest
	}
	return text.ZH, tok
}

// retryToast answers a tap that could not be stored on a path DingTalk
// never redelivers: the card stays as it was and the person taps again.
func retryToast(locale text.Locale) string { return text.T(locale, "adapters:retry") }

// cardCallback is the card callback body (Stream frame data, or an HTTP
// event's decrypted JSON).
type cardCallback struct {
	OutTrackID string `json:"outTrackId"`
	UserID     string `json:"userId"`
	UserIDType int    `json:"userIdType"`
	Content    string `json:"content"`
	CorpID     string `json:"corpId"`
	Type       string `json:"type"`
}

type cardContent struct {
	CardPrivateData struct {
		ActionIDs []string    `json:"actionIds"`
		Params    *cardParams `json:"params"`
	} `json:"cardPrivateData"`
}

// cardParams are the 回传请求 params a tap carries: only the three the
// adapter reads are decoded (each a string, number or bool; see
// paramString).
type cardParams struct {
	Action any `json:"action"`
	Value  any `json:"value"`
	Token  any `json:"token"`
}

// parseCardCallback extracts the tap from a card callback body. The token,
// action and value come from the button's 回传请求 params (a custom
// template) or from the tapped button's id in actionIds (a StandardCard,
// see stdButtonID).
func parseCardCallback(data []byte) (cardTap, error) {
	var cb cardCallback
	if err := json.Unmarshal(data, &cb); err != nil {
		return cardTap{}, fmt.Errorf("%w: %v", errBadTap, err)
	}
	if cb.OutTrackID == "" || cb.UserID == "" {
		return cardTap{}, fmt.Errorf("%w: outTrackId or userId missing", errBadTap)
	}
	if cb.UserIDType > 1 {
		// unionId taps cannot be matched to the delivery's user id.
		return cardTap{}, fmt.Errorf("%w: userIdType %d is not a userid", errBadTap, cb.UserIDType)
	}
	var content cardContent
	dec := json.NewDecoder(bytes.NewReader([]byte(cb.Content)))
	dec.UseNumber()
	if err := dec.Decode(&content); err != nil {
		return cardTap{}, fmt.Errorf("%w: content: %v", errBadTap, err)
	}
	p := content.CardPrivateData.Params
	if p == nil {
		p = &cardParams{}
	}
	t := cardTap{
		OutTrackID: cb.OutTrackID, UserID: cb.UserID,
		Action: paramString(p.Action), Value: paramString(p.Value),
	}
	tok := paramString(p.Token)
	if tok == "" {
		// A StandardCard button: everything is in its id.
		for _, id := range content.CardPrivateData.ActionIDs {
			if a, v, tk, ok := parseStdButtonID(id); ok {
				t.Action, t.Value, tok = a, v, tk
				break
			}
		}
	}
	t.Locale, t.Token = splitToken(tok)
	if t.Action == "" {
		for _, id := range content.CardPrivateData.ActionIDs {
			if slices.Contains([]string{bot.ActionCheckin, bot.ActionRate, bot.ActionNPS}, id) {
				t.Action = id
				break
			}
		}
	}
	if t.Token == "" || len(t.Token) > maxTokenLen {
		return cardTap{}, fmt.Errorf("%w: no usable token in params", errBadTap)
	}
	if len(t.Action) > 64 || len(t.Value) > 64 {
		return cardTap{}, fmt.Errorf("%w: action or value too long", errBadTap)
	}
	return t, nil
}

// tapResult is what a tap changes on the card.
type tapResult struct {
	Public  map[string]string // nil: no change
	Private map[string]string // the tapper's private data (always has "toast")
}

// handleTap hands a tap to h and applies the reply's card itself. With
// inline (Stream), the new card's variables are returned to ride on the
// callback's answer; without (HTTP answers cannot carry a card), the card
// is updated through the API before returning.
func (c *Client) handleTap(ctx context.Context, h bot.InteractionHandler, t cardTap, dedupKey string, at time.Time, inline bool) (tapResult, error) {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tapTimeout)
	defer cancel()
	reply, err := h.HandleInteraction(pctx, bot.Interaction{
		Platform: bot.PlatformDingTalk, UserID: t.UserID, Action: t.Action, Value: t.Value, Token: t.Token,
		DedupKey: dedupKey, At: at, Source: "card",
	})
	if err != nil {
		return tapResult{}, err
	}
	res := tapResult{Private: map[string]string{"toast": reply.Toast}}
	if reply.Card == nil {
		return res, nil
	}
	to := bot.Recipient{UserID: t.UserID, Locale: t.Locale}
	var uerr error
	if inline {
		pub, priv := c.cardVars(*reply.Card)
		markTokens(priv, recipientLocale(to, *reply.Card))
		priv["toast"] = reply.Toast
		res.Public, res.Private = pub, priv
	} else {
		uctx, ucancel := context.WithTimeout(pctx, updateTimeout)
		uerr = c.UpdateCard(uctx, to, t.OutTrackID, *reply.Card)
		ucancel()
		if uerr != nil {
			c.log.Warn("dingtalk card update after a tap failed", "out_track_id", t.OutTrackID, "err", uerr)
		}
	}
	kit.CountUpdate(h, bot.PlatformDingTalk, uerr)
	return res, nil
}
