package dingtalk_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/learnloop/learnloop/adapters/dingtalk"
)

// The fake's StandardCard API (im 1.0 robot interactive cards, 普通版):
// what DingTalk checks on a send and an update, as far as the SDK, the
// official Stream SDK samples and published requests show it.

const (
	stdSendPath   = "/v1.0/im/v1.0/robot/interactiveCards/send"
	stdUpdatePath = "/v1.0/im/robots/interactiveCards"
	// stdMaxCardData bounds cardData; DingTalk documents no figure, the
	// fake keeps to the message size DingTalk enforces elsewhere.
	stdMaxCardData = 30 << 10
	stdMaxBizID    = 128
)

// checkStandardJSON parses a StandardCard and reports what DingTalk would
// refuse: unknown fields, no title, blocks or buttons without an id,
// duplicate ids, buttons that neither call back nor open a link.
func checkStandardJSON(data string) (*dingtalk.StandardCard, string) {
	if len(data) > stdMaxCardData {
		return nil, "cardData is " + strconv.Itoa(len(data)) + " bytes"
	}
	var c dingtalk.StandardCard
	dec := json.NewDecoder(strings.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, "cardData is not a StandardCard: " + err.Error()
	}
	if c.Header.Title.Type != "text" || c.Header.Title.Text == "" {
		return nil, "header.title must be a non-empty text"
	}
	if c.Config.EnableForward {
		return nil, "learnloop cards must not be forwardable (their buttons carry tokens)"
	}
	if len(c.Contents) == 0 {
		return nil, "contents is empty"
	}
	ids := map[string]bool{}
	unique := func(id string) bool {
		if id == "" || ids[id] {
			return false
		}
		ids[id] = true
		return true
	}
	for _, ct := range c.Contents {
		if !unique(ct.ID) {
			return nil, "content id " + strconv.Quote(ct.ID) + " is empty or repeated"
		}
		switch ct.Type {
		case "markdown", "text":
			if ct.Text == "" || len(ct.Actions) > 0 {
				return nil, ct.Type + " block " + ct.ID + " without text or with actions"
			}
		case "action":
			if len(ct.Actions) == 0 || len(ct.Actions) > 6 {
				return nil, "action block " + ct.ID + " has " + strconv.Itoa(len(ct.Actions)) + " buttons"
			}
			for _, b := range ct.Actions {
				if b.Type != "button" || b.Label.Type != "text" || b.Label.Text == "" || !unique(b.ID) || !unique(b.Label.ID) {
					return nil, "button " + strconv.Quote(b.ID) + " is malformed"
				}
				switch {
				case b.ActionType == "request" && b.URL == nil:
				case b.ActionType == "openLink" && b.URL != nil && b.URL.All != "":
				default:
					return nil, "button " + b.ID + ": actionType " + strconv.Quote(b.ActionType)
				}
				if b.Status != "primary" && b.Status != "normal" && b.Status != "warning" {
					return nil, "button " + b.ID + ": status " + strconv.Quote(b.Status)
				}
			}
		default:
			return nil, "content type " + strconv.Quote(ct.Type)
		}
	}
	return &c, ""
}

func (f *fakeDT) sendStandard(w http.ResponseWriter, body []byte) {
	var req struct {
		CardTemplateID     string `json:"cardTemplateId"`
		CardBizID          string `json:"cardBizId"`
		RobotCode          string `json:"robotCode"`
		CardData           string `json:"cardData"`
		SingleChatReceiver string `json:"singleChatReceiver"`
		OpenConversationID string `json:"openConversationId"`
		PullStrategy       *bool  `json:"pullStrategy"`
		CallbackURL        string `json:"callbackUrl"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		f.badf("interactiveCards/send body: %v: %s", err, body)
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "param.invalid", "message": err.Error()})
		return
	}
	var recv struct {
		UserID string `json:"userId"`
	}
	recvErr := json.Unmarshal([]byte(req.SingleChatReceiver), &recv)
	switch {
	case req.CardTemplateID != dingtalk.StandardTemplateID:
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "param.cardTemplateIdInvalid", "message": "模板不存在"})
		return
	case req.RobotCode != testAppKey:
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "robot.notExist", "message": "机器人不存在"})
		return
	case req.CardBizID == "" || len(req.CardBizID) > stdMaxBizID:
		f.badf("cardBizId %q", req.CardBizID)
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "param.invalid", "message": "cardBizId"})
		return
	case req.OpenConversationID != "" || recvErr != nil || recv.UserID == "" || strings.ContainsAny(recv.UserID, ",;|"):
		f.badf("not one single-chat receiver: %q / %q", req.SingleChatReceiver, req.OpenConversationID)
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "param.invalid", "message": "singleChatReceiver"})
		return
	case req.CallbackURL != "":
		f.badf("callbackUrl %q: taps must come over Stream", req.CallbackURL)
	}
	card, bad := checkStandardJSON(req.CardData)
	if bad != "" {
		f.badf("interactiveCards/send: %s", bad)
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "param.cardDataInvalid", "message": bad})
		return
	}
	if f.unknownUsers[recv.UserID] {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "param.userIdNotExist", "message": "用户不在机器人可见范围"})
		return
	}
	if c := f.cards[req.CardBizID]; c != nil {
		c.Creates++
	} else {
		f.cards[req.CardBizID] = &fakeCard{OutTrackID: req.CardBizID, UserID: recv.UserID, Standard: card, Creates: 1,
			Public: map[string]string{}, Private: map[string]string{}}
	}
	writeJSON(w, http.StatusOK, map[string]any{"processQueryKey": "pqk-" + req.CardBizID})
}

func (f *fakeDT) updateStandard(w http.ResponseWriter, body []byte) {
	var req struct {
		CardBizID     string `json:"cardBizId"`
		CardData      string `json:"cardData"`
		UpdateOptions *struct {
			UpdateCardDataByKey    bool `json:"updateCardDataByKey"`
			UpdatePrivateDataByKey bool `json:"updatePrivateDataByKey"`
		} `json:"updateOptions"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		f.badf("interactiveCards update body: %v: %s", err, body)
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "param.invalid", "message": err.Error()})
		return
	}
	c := f.cards[req.CardBizID]
	if c == nil || c.Standard == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "param.cardNotExist", "message": "卡片不存在"})
		return
	}
	card, bad := checkStandardJSON(req.CardData)
	if bad != "" {
		f.badf("interactiveCards update: %s", bad)
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "param.cardDataInvalid", "message": bad})
		return
	}
	c.Standard = card
	c.Updates++
	writeJSON(w, http.StatusOK, map[string]any{"processQueryKey": "pqk-u-" + req.CardBizID})
}

// standardText is everything a StandardCard shows, as text.
func standardText(c *dingtalk.StandardCard) string {
	var b strings.Builder
	b.WriteString(c.Header.Title.Text)
	for _, ct := range c.Contents {
		b.WriteString("\n" + ct.Text)
		for _, a := range ct.Actions {
			b.WriteString(" [" + a.Label.Text + "]")
		}
	}
	return b.String()
}

// stdButton finds the callback button of action (and value) on a
// StandardCard and returns its id.
func stdButton(c *dingtalk.StandardCard, action, value string) string {
	for _, ct := range c.Contents {
		for _, a := range ct.Actions {
			if a.ActionType == "request" && strings.HasPrefix(a.ID, "ll."+action+"."+value+".") {
				return a.ID
			}
		}
	}
	return ""
}

// stdTapFrame is a Stream card callback of user tapping the StandardCard
// button id, as the official Stream SDK's sample shows it: the button id
// in actionIds, no params.
func stdTapFrame(msgID, bizID, userID, buttonID string) []byte {
	content, _ := json.Marshal(map[string]any{"cardPrivateData": map[string]any{"actionIds": []string{buttonID}, "params": map[string]any{}}})
	data, _ := json.Marshal(map[string]any{
		"content": string(content), "value": string(content), "corpId": "dingcorp01", "outTrackId": bizID, "spaceId": "",
		"spaceType": "", "type": "actionCallback", "userId": userID, "userIdType": 1, "extension": "{}",
	})
	fr, _ := json.Marshal(map[string]any{
		"specVersion": "1.0", "type": "CALLBACK",
		"headers": map[string]string{"topic": dingtalk.CardCallbackTopic, "messageId": msgID, "contentType": "application/json",
			"appId": "app-1", "connectionId": "c-1"},
		"data": string(data),
	})
	return fr
}
