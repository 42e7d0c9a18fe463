package dingtalk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	card "github.com/alibabacloud-go/dingtalk/card_1_0"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/text"
)

// MaxNoticeUsers is the most users one asyncsend_v2 call may address.
const MaxNoticeUsers = 100

// handle prefixes stored in bot.Receipt.Handle.
const noticeHandlePrefix = "wn:" // a work notification: "wn:<task_id>"

// DefaultConcurrency is how many calls one batch makes at once: the rate
// limit, not the round trip, should bound the send rate.
const DefaultConcurrency = 8

// parallel runs fn(0..n-1) on up to workers goroutines.
func parallel(workers, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(max(workers, 1), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// MaxBatch implements bot.BatchMessenger.
func (c *Client) MaxBatch() int { return MaxNoticeUsers }

// Send implements bot.Messenger.
func (c *Client) Send(ctx context.Context, to bot.Recipient, m bot.Message) (bot.Receipt, error) {
	res := c.SendBatch(ctx, []bot.Recipient{to}, func(bot.Recipient) bot.Message { return m })
	return res[0].Receipt, res[0].Err
}

// SendBatch implements bot.BatchMessenger. Cards go out one call per
// recipient; work notifications with identical content share a call of at
// most MaxNoticeUsers users. Calls run a few at a time under the rate
// limit; after a quota error the rest of the batch is left for the job's
// next attempt.
func (c *Client) SendBatch(ctx context.Context, to []bot.Recipient, mf func(bot.Recipient) bot.Message) []bot.Result {
	out := make([]bot.Result, len(to))
	msgs := make([]bot.Message, len(to))
	ok := make([]bool, len(to))
	for i, r := range to {
		msgs[i] = mf(r)
		if err := c.check(r, msgs[i]); err != nil {
			out[i].Err = err
			continue
		}
		ok[i] = true
	}
	if c.CardMode() {
		parallel(c.workers, len(to), func(i int) {
			if !ok[i] {
				return
			}
			if left := c.paused(); left > 0 {
				out[i].Err = &pausedError{left: left}
				return
			}
			if err := c.limit.wait(ctx, 1); err != nil {
				out[i].Err = err
				return
			}
			if c.standard() {
				out[i].Receipt, out[i].Err = c.sendStandard(ctx, to[i], msgs[i])
				return
			}
			out[i].Receipt, out[i].Err = c.sendCard(ctx, to[i], msgs[i])
		})
		return out
	}
	c.sendNotices(ctx, to, msgs, ok, out)
	return out
}

// check refuses what DingTalk would refuse, before any call.
func (c *Client) check(r bot.Recipient, m bot.Message) error {
	if err := m.Validate(); err != nil {
		return bot.Permanent("invalid_message", err.Error(), nil)
	}
	if r.UserID == "" {
		return bot.Permanent("no_user_id", "recipient has no DingTalk user id", nil)
	}
	if strings.ContainsAny(r.UserID, ";,| \t\r\n") {
		return bot.Permanent("bad_user_id", fmt.Sprintf("DingTalk user id %q contains a separator", r.UserID), nil)
	}
	return nil
}

// recipientLocale is the language of m's recipient: the message's, else
// the recipient's.
func recipientLocale(to bot.Recipient, m bot.Message) text.Locale {
	if m.Locale != "" {
		return m.Locale
	}
	return to.Locale
}

func ptrMap(m map[string]string) map[string]*string {
	out := make(map[string]*string, len(m))
	for k, v := range m {
		out[k] = tea.String(v)
	}
	return out
}

// sendCard creates and delivers one interactive card to the user's robot
// chat; outTrackId is the delivery key, which is also the receipt handle.
func (c *Client) sendCard(ctx context.Context, to bot.Recipient, m bot.Message) (bot.Receipt, error) {
	pub, priv := c.cardVars(m)
	markTokens(priv, recipientLocale(to, m))
	title := m.Title
	req := &card.CreateAndDeliverRequest{
		CardTemplateId: tea.String(c.cfg.CardTemplateID),
		OutTrackId:     tea.String(m.Key),
		CallbackType:   tea.String("STREAM"),
		CardData:       &card.CreateAndDeliverRequestCardData{CardParamMap: ptrMap(pub)},
		PrivateData:    map[string]*card.PrivateDataValue{to.UserID: {CardParamMap: ptrMap(priv)}},
		OpenSpaceId:    tea.String("dtv1.card//IM_ROBOT." + to.UserID),
		ImRobotOpenSpaceModel: &card.CreateAndDeliverRequestImRobotOpenSpaceModel{
			SupportForward:  tea.Bool(false),
			LastMessageI18n: map[string]*string{"ZH_CN": tea.String(title), "EN_US": tea.String(title)},
			Notification:    &card.CreateAndDeliverRequestImRobotOpenSpaceModelNotification{AlertContent: tea.String(title)},
		},
		ImRobotOpenDeliverModel: &card.CreateAndDeliverRequestImRobotOpenDeliverModel{
			SpaceType: tea.String("IM_ROBOT"), RobotCode: tea.String(c.cfg.RobotCode),
		},
		UserIdType: tea.Int32(1),
	}
	if c.cfg.CallbackMode == ModeHTTP && c.cfg.CallbackRouteKey != "" {
		req.CallbackType, req.CallbackRouteKey = tea.String("HTTP"), tea.String(c.cfg.CallbackRouteKey)
	}
	var res *card.CreateAndDeliverResponse
	err := c.withAPIToken(ctx, func(tok string) error {
		err := c.cardCall(ctx, func(cl *card.Client, rt *util.RuntimeOptions) error {
			var err error
			res, err = cl.CreateAndDeliverWithOptions(req, &card.CreateAndDeliverHeaders{XAcsDingtalkAccessToken: tea.String(tok)}, rt)
			return err
		})
		if err != nil {
			return c.classifySDK("card/instances/createAndDeliver", err)
		}
		return nil
	})
	if err != nil {
		c.noteQuota(err)
		return bot.Receipt{}, toBot(err)
	}
	if res == nil || res.Body == nil || !tea.BoolValue(res.Body.Success) {
		return bot.Receipt{}, fmt.Errorf("card/instances/createAndDeliver: success=false: %w", errTransient)
	}
	if r := res.Body.Result; r != nil {
		for _, d := range r.DeliverResults {
			if d != nil && !tea.BoolValue(d.Success) {
				msg := tea.StringValue(d.ErrorMsg)
				return bot.Receipt{}, bot.Permanent("deliver_failed", fmt.Sprintf("card not delivered to %s: %s", to.UserID, msg), nil)
			}
		}
	}
	return bot.Receipt{Handle: m.Key, SentAt: c.nowUTC()}, nil
}

// UpdateCard implements bot.CardUpdater; handle is the card's outTrackId
// (a StandardCard's cardBizId).
// A Stream tap's card rides on the callback's answer instead (handleTap).
// Work notifications cannot be edited: for them it does nothing (the /c/
// page already confirmed).
func (c *Client) UpdateCard(ctx context.Context, to bot.Recipient, handle string, m bot.Message) error {
	switch {
	case handle == "":
		return errors.New("dingtalk: update card: no handle")
	case strings.HasPrefix(handle, noticeHandlePrefix):
		c.log.Debug("dingtalk work notifications cannot be updated", "handle", handle)
		return nil
	case c.standard():
		return c.updateStandard(ctx, to, handle, m)
	}
	pub, priv := c.cardVars(m)
	markTokens(priv, recipientLocale(to, m))
	req := &card.UpdateCardRequest{
		OutTrackId: tea.String(handle),
		CardData:   &card.UpdateCardRequestCardData{CardParamMap: ptrMap(pub)},
		CardUpdateOptions: &card.UpdateCardRequestCardUpdateOptions{
			UpdateCardDataByKey: tea.Bool(true), UpdatePrivateDataByKey: tea.Bool(true),
		},
		UserIdType: tea.Int32(1),
	}
	if to.UserID != "" {
		req.PrivateData = map[string]*card.PrivateDataValue{to.UserID: {CardParamMap: ptrMap(priv)}}
	}
	var res *card.UpdateCardResponse
	err := c.withAPIToken(ctx, func(tok string) error {
		err := c.cardCall(ctx, func(cl *card.Client, rt *util.RuntimeOptions) error {
			var err error
			res, err = cl.UpdateCardWithOptions(req, &card.UpdateCardHeaders{XAcsDingtalkAccessToken: tea.String(tok)}, rt)
			return err
		})
		if err != nil {
			return c.classifySDK("card/instances update", err)
		}
		return nil
	})
	if err != nil {
		c.noteQuota(err)
		return fmt.Errorf("dingtalk: update card %s: %w", handle, err)
	}
	if res == nil || res.Body == nil || !tea.BoolValue(res.Body.Success) {
		return fmt.Errorf("dingtalk: update card %s: success=false: %w", handle, errTransient)
	}
	return nil
}
