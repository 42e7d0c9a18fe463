package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// assignedOnly is a bot.Splitter that knows one recorded assignment.
type assignedOnly struct {
	tpID, employeeID uint64
	v                bot.VariantCopy
}

func (a assignedOnly) Split(context.Context, uint64, []bot.Target) (map[uint64]bot.VariantCopy, error) {
	return nil, nil
}

func (a assignedOnly) Assigned(_ context.Context, tpID, employeeID uint64) (bot.VariantCopy, bool, error) {
	return a.v, tpID == a.tpID && employeeID == a.employeeID, nil
}

// TestRenderShowsTheVariantsCopy: a card of a touchpoint with variants
// carries its recipient's variant — title, body, the main button's text
// and the plain-text form — whether the fan-out hands it over or the
// Renderer reads the recorded assignment (a card re-rendered after a tap);
// a variant with no copy of its own keeps the default card.
func TestRenderShowsTheVariantsCopy(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	signer, err := bot.NewSigner([]byte("variant-test-secret-0123456789ab"), func() time.Time { return now })
	require.NoError(t, err)
	b := bot.VariantCopy{ID: 9, Name: "B", Title: "马上签到！", Body: "签到只要一秒", Button: "我到了"}
	r := &bot.Renderer{Signer: signer, PublicURL: "https://learn.example.com", LinkTTL: time.Hour, Now: func() time.Time { return now },
		Variants: assignedOnly{tpID: 5, employeeID: 7, v: b}}
	sess := store.Session{ID: 1, Title: "第 1 期", StartsAt: now.Add(time.Hour), EndsAt: now.Add(3 * time.Hour), TimeZone: "Asia/Shanghai"}
	base := bot.CardContext{Kind: bot.KindCheckinPrompt, Session: sess, Course: store.Course{Title: "高效沟通"}, DeliveryID: 3, Key: "k", Locale: text.ZH,
		Touchpoint: store.Touchpoint{ID: 5, Variants: 2}}
	plain, err := (&bot.Renderer{Signer: signer, PublicURL: "https://learn.example.com", LinkTTL: time.Hour}).Render(context.Background(), base)
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		cc   bot.CardContext
		want bot.VariantCopy
	}{
		{"handed over by the fan-out", base.WithVariant(b), b},
		{"read from the recorded assignment", func() bot.CardContext { c := base; c.Recipient = store.Employee{ID: 7}; return c }(), b},
		{"nobody assigned: the default card", func() bot.CardContext { c := base; c.Recipient = store.Employee{ID: 8}; return c }(), bot.VariantCopy{}},
		{"a variant without copy: the default card", base.WithVariant(bot.VariantCopy{ID: 8, Name: "A"}), bot.VariantCopy{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := r.Render(context.Background(), tc.cc)
			require.NoError(t, err)
			if tc.want.ID == 0 {
				require.Equal(t, plain.Title, m.Title)
				require.Equal(t, plain.Body, m.Body)
				require.Equal(t, plain.Buttons[0].Text, m.Buttons[0].Text)
				return
			}
			require.Equal(t, tc.want.Title, m.Title)
			require.Equal(t, tc.want.Body, m.Body)
			require.Equal(t, tc.want.Button, m.Buttons[0].Text)
			require.Equal(t, bot.ActionCheckin, m.Buttons[0].Action, "the button still checks in")
			require.Contains(t, m.Fallback, tc.want.Title+"\n"+tc.want.Body)
			require.NotContains(t, m.Fallback, plain.Title)
		})
	}
}
