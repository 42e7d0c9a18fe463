package webhooks_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/campaigns"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/webhooks"
)

type sendFunc func(ctx context.Context, to bot.Recipient, m bot.Message) (bot.Receipt, error)

func (f sendFunc) Platform() bot.Platform { return bot.PlatformSimulator }
func (f sendFunc) Send(ctx context.Context, to bot.Recipient, m bot.Message) (bot.Receipt, error) {
	return f(ctx, to, m)
}

// TestFailedDeliveriesAndCreditedConversionsAreEvents: a push whose row
// fails at creation (platform not enabled) and one the platform refuses
// are two delivery.failed events; a conversion credited to the push that
// was clicked is a conversion.credited event, one that no click explains
// is none.
func TestFailedDeliveriesAndCreditedConversionsAreEvents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := newFixture(t, db, webhooks.Options{AllowPrivate: true})
		rcv := newReceiver(t, f.clk.Now, always200)
		ep := f.endpoint(t, rcv.srv.URL, store.EventDeliveryFailed, store.EventConversion)
		rcv.secret = []byte(ep.Secret)
		ctx := context.Background()

		require.NoError(t, db.Model(&store.Employee{}).Where("id = ?", f.emps[0].ID).Update("platform", "wecom").Error)
		tp := store.Touchpoint{SessionID: f.sess.ID, Kind: bot.KindCheckinPrompt, Anchor: store.AnchorStart, Offset: -900, Audience: store.AudienceAll,
			Template: "checkin_prompt", Status: store.TouchpointScheduled, RunAt: f.clk.Now()}
		require.NoError(t, db.Create(&tp).Error)
		signer, err := bot.NewSigner([]byte("events-test-secret-0123456789"), f.clk.Now)
		require.NoError(t, err)
		d := &bot.Deliverer{
			DB: db.DB, DefaultPlatform: bot.PlatformSimulator, Now: f.clk.Now,
			Renderer: &bot.Renderer{Signer: signer, PublicURL: "https://learn.example.com", LinkTTL: time.Hour, Now: f.clk.Now},
			Messengers: map[bot.Platform]bot.Messenger{bot.PlatformSimulator: sendFunc(func(_ context.Context, to bot.Recipient, m bot.Message) (bot.Receipt, error) {
				if to.EmployeeID == f.emps[1].ID {
					return bot.Receipt{}, bot.Permanent("81013", "user not found", nil)
				}
				return bot.Receipt{Handle: "h"}, nil
			})},
		}
		_, err = d.Fire(ctx, tp.ID, "0")
		require.NoError(t, err)

		var sent store.Delivery
		require.NoError(t, db.Where("employee_id = ? AND touchpoint_id = ?", f.emps[2].ID, tp.ID).Take(&sent).Error)
		require.Equal(t, store.DeliverySent, sent.Status)
		require.NoError(t, db.Create(&store.Click{DeliveryID: sent.ID, TouchpointID: tp.ID, EmployeeID: f.emps[2].ID, ClickedAt: f.clk.Now()}).Error)
		cs := &campaigns.Service{DB: db.DB, Secret: testKey, Now: f.clk.Now}
		f.clk.Advance(10 * time.Minute)
		at := f.clk.Now()
		_, err = cs.RecordConversion(ctx, campaigns.ConversionInput{EventID: "lms-1", Event: "course_complete", OccurredAt: &at, ExternalID: "E3"}, campaigns.SourceAPI)
		require.NoError(t, err)
		_, err = cs.RecordConversion(ctx, campaigns.ConversionInput{EventID: "lms-2", Event: "course_complete", OccurredAt: &at, ExternalID: "E2"}, campaigns.SourceAPI)
		require.NoError(t, err)

		_, err = f.svc.RunOnce(ctx)
		require.NoError(t, err)
		got := rcv.accepted()
		require.Len(t, got, 3)
		failed := map[string]webhooks.DeliveryFailedData{}
		var conv []webhooks.ConversionData
		for _, g := range got {
			switch g.env.Type {
			case store.EventDeliveryFailed:
				var x webhooks.DeliveryFailedData
				require.NoError(t, json.Unmarshal(g.env.Data, &x))
				failed[x.EmployeeID] = x
			case store.EventConversion:
				var x webhooks.ConversionData
				require.NoError(t, json.Unmarshal(g.env.Data, &x))
				conv = append(conv, x)
			default:
				require.Fail(t, "unexpected event", g.env.Type)
			}
		}
		require.Equal(t, "no_platform", failed["E1"].ErrorCode)
		require.Equal(t, "81013", failed["E2"].ErrorCode)
		require.Equal(t, tp.ID, failed["E2"].TouchpointID)
		require.Equal(t, bot.KindCheckinPrompt, failed["E2"].TouchpointKind)
		require.Len(t, conv, 1, "only the credited conversion")
		require.Equal(t, "E3", conv[0].EmployeeID)
		require.Equal(t, "lms-1", conv[0].SourceEventID)
		require.Equal(t, sent.ID, conv[0].DeliveryID)
		require.True(t, conv[0].OccurredAt.Equal(at.Truncate(time.Second)))
	})
}
