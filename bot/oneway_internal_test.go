package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// updatingMessenger records sends and card updates.
type updatingMessenger struct {
	captureMessenger
	umu     sync.Mutex
	updates []string // handles
}

func (m *updatingMessenger) UpdateCard(_ context.Context, _ Recipient, handle string, _ Message) error {
	m.umu.Lock()
	defer m.umu.Unlock()
	m.updates = append(m.updates, handle)
	return nil
}

func (m *updatingMessenger) updated() []string {
	m.umu.Lock()
	defer m.umu.Unlock()
	return append([]string(nil), m.updates...)
}

// TestTapsFlowOneWay: a tap's Reply carries the checked-in card and the
// router calls no messenger for it (the adapter applies the card); a
// check-in through the /c/ page, which has no callback to answer, is the
// only path on which the router updates the card itself.
func TestTapsFlowOneWay(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		m := &updatingMessenger{captureMessenger: captureMessenger{got: map[string]Message{}}}
		f := newTapFixture(t, db, 2, m, &m.captureMessenger)
		r, tp := f.r, f.tp
		reply, err := r.HandleInteraction(context.Background(), Interaction{Platform: PlatformSimulator, UserID: "E00", Token: m.got["E00"].Buttons[0].Token, Action: ActionCheckin})
		require.NoError(t, err)
		require.True(t, reply.OK)
		require.NotNil(t, reply.Card, "the reply carries the new card")
		require.Contains(t, reply.Card.Status, "已签到")
		require.Equal(t, m.got["E00"].Key, reply.Card.Key, "for the card that was tapped")
		require.Empty(t, m.updated(), "the router calls no adapter for a tap")

		var other store.Delivery
		require.NoError(t, db.Where("touchpoint_id = ? AND user_id = ?", tp.ID, "E01").First(&other).Error)
		reply, err = r.CheckinDelivery(context.Background(), other.ID, store.SourceLink)
		require.NoError(t, err)
		require.True(t, reply.OK)
		require.Equal(t, []string{other.Handle}, m.updated(), "an out-of-band check-in updates the card with the send's handle")
	})
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	kr := func(context.Context, *Renderer, CardContext) (Message, error) { return Message{}, nil }
	af := func(context.Context, *gorm.DB, store.Touchpoint, store.Session) ([]Target, error) { return nil, nil }
	ah := func(context.Context, DeliveryContext, Interaction) (Reply, error) { return Reply{OK: true}, nil }
	g := NewRegistry()
	require.NoError(t, g.Kind("feedback", kr))
	require.NoError(t, g.Audience("not_responded", af))
	require.NoError(t, g.Action(ActionNPS, ah))
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"duplicate kind", g.Kind("feedback", kr), ErrRegistered},
		{"built-in kind", g.Kind(KindCheckinPrompt, kr), ErrBuiltIn},
		{"built-in audience", g.Audience(store.AudienceAll, af), ErrBuiltIn},
		{"duplicate audience", g.Audience("not_responded", af), ErrRegistered},
		{"built-in action", g.Action(ActionCheckin, ah), ErrBuiltIn},
		{"duplicate action", g.Action(ActionNPS, ah), ErrRegistered},
		{"empty name", g.Kind("", kr), nil},
		{"nil renderer", g.Kind("x", nil), nil},
	}
	for _, tc := range cases {
		require.Error(t, tc.err, tc.name)
		if tc.want != nil {
			require.True(t, errors.Is(tc.err, tc.want), "%s: %v", tc.name, tc.err)
		}
	}
	require.Equal(t, []string{"feedback"}, g.Kinds(), "a refused registration changes nothing")
	require.Equal(t, map[string]bool{"not_responded": true}, g.AudienceSet())
	_, ok := g.ActionHandler(ActionNPS)
	require.True(t, ok)
	_, ok = g.KindRenderer("x")
	require.False(t, ok)
	var none *Registry
	_, ok = none.ActionHandler(ActionNPS)
	require.False(t, ok, "a nil registry knows nothing")
	require.Empty(t, none.AudienceFuncs())
}

func TestErrNotFoundIsOne(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("delivery 9: %w", ErrNotFound)
	require.ErrorIs(t, err, store.ErrNotFound)
}
