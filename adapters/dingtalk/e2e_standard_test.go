package dingtalk_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/dingtalk"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestEndToEndStandardCard: with no card template configured (the
// default) the check-in prompt goes out as DingTalk's built-in
// StandardCard → a tap on its button over Stream (the button's id in
// actionIds, as the official Stream SDK sample shows) checks in once, even
// when redelivered → the card is replaced through the robot card update
// API with the checked-in status and without the used button.
func TestEndToEndStandardCard(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := e2eSetup(t, db, dingtalk.CardsStandard)
		require.Equal(t, dingtalk.CardsStandard, e.c.Cards())
		e.runStream(t)
		gw := e.f.gw

		e.planAndFire(t)
		d1 := deliveryOf(t, db, "dt001")
		require.Equal(t, d1.Key, d1.Handle, "the receipt handle is the cardBizId")
		card := e.f.card(d1.Key)
		require.NotNil(t, card)
		require.NotNil(t, card.Standard, "sent as a StandardCard")
		require.Zero(t, e.f.callCount("/v1.0/card/instances/createAndDeliver"))
		shown := standardText(card.Standard)
		require.Contains(t, shown, "高效沟通")
		require.Contains(t, shown, e.srv.URL+"/c/", "the signed fallback link is on the card")
		id := stdButton(card.Standard, bot.ActionCheckin, "")
		require.NotEmpty(t, id)

		gw.push("s1", stdTapFrame("s1", d1.Key, "dt001", id))
		a := gw.waitAck(t, "s1")
		require.Equal(t, 200, a.Code)
		pub, priv := cardResponse(t, a)
		require.Nil(t, pub, "a StandardCard is not updated through the answer's variables")
		require.Equal(t, "签到成功 09:47", priv["toast"])
		require.EqualValues(t, 1, e.checkins(t))
		card = e.f.card(d1.Key)
		require.Equal(t, 1, card.Updates, "replaced through the update API")
		require.Equal(t, 1, card.Creates)
		require.Contains(t, standardText(card.Standard), "已签到 09:47 ✓")
		require.Empty(t, stdButton(card.Standard, bot.ActionCheckin, ""), "the check-in button is gone")

		// The same frame again, and the same button as a new message:
		// still one check-in.
		gw.pushOnce(stdTapFrame("s1", d1.Key, "dt001", id))
		require.Equal(t, a.Data, gw.waitAck(t, "s1").Data)
		gw.push("s1b", stdTapFrame("s1b", d1.Key, "dt001", id))
		_, priv = cardResponse(t, gw.waitAck(t, "s1b"))
		require.Equal(t, "您已签到 09:47", priv["toast"])
		require.EqualValues(t, 1, e.checkins(t))
		var ci store.Checkin
		require.NoError(t, db.First(&ci).Error)
		require.Equal(t, store.SourceCard, ci.Source)

		// dt002 taps dt001's button (a forwarded id): refused, nothing stored.
		gw.push("s2x", stdTapFrame("s2x", d1.Key, "dt002", id))
		_, priv = cardResponse(t, gw.waitAck(t, "s2x"))
		require.Equal(t, "该操作已失效，请使用最新消息", priv["toast"])
		require.EqualValues(t, 1, e.checkins(t))

		// dt002 taps their own card.
		d2 := deliveryOf(t, db, "dt002")
		id2 := stdButton(e.f.card(d2.Key).Standard, bot.ActionCheckin, "")
		gw.push("s2", stdTapFrame("s2", d2.Key, "dt002", id2))
		require.Equal(t, 200, gw.waitAck(t, "s2").Code)
		require.EqualValues(t, 2, e.checkins(t))
		require.Contains(t, standardText(e.f.card(d2.Key).Standard), "已签到")
	})
}
