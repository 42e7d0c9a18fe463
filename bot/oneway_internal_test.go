package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

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
		start := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		now := start.Add(-10 * time.Minute)
		clock := func() time.Time { return now }
		c := store.Course{Code: "C", Title: "课程"}
		require.NoError(t, db.Create(&c).Error)
		sess := store.Session{CourseID: c.ID, Title: "一期", StartsAt: start, EndsAt: start.Add(2 * time.Hour), TimeZone: "Asia/Shanghai", Locale: "zh-CN",
			Status: store.SessionPlanned, CheckinOpensBefore: 1800, CheckinGrace: 600, MakeupAfter: 3600}
		require.NoError(t, db.Create(&sess).Error)
		for i := range 2 {
			e := store.Employee{ExternalID: fmt.Sprintf("E%02d", i), Name: "员工", Active: true}
			require.NoError(t, db.Create(&e).Error)
			require.NoError(t, db.Create(&store.Enrollment{SessionID: sess.ID, EmployeeID: e.ID, Status: store.EnrollInvited}).Error)
		}
		tp := store.Touchpoint{SessionID: sess.ID, Kind: KindCheckinPrompt, Anchor: store.AnchorStart, Audience: store.AudienceAll, Template: "checkin_prompt", Status: store.TouchpointScheduled, RunAt: now}
		require.NoError(t, db.Create(&tp).Error)
		signer, err := NewSigner([]byte("oneway-test-secret-0123456789"), clock)
		require.NoError(t, err)
		rend := &Renderer{Signer: signer, PublicURL: "https://learn.example.com", LinkTTL: time.Hour, Now: clock}
		m := &updatingMessenger{captureMessenger: captureMessenger{got: map[string]Message{}}}
		msgrs := map[Platform]Messenger{PlatformSimulator: m}
		d := &Deliverer{DB: db.DB, Messengers: msgrs, DefaultPlatform: PlatformSimulator, Renderer: rend, Now: clock}
		_, err = d.Fire(context.Background(), tp.ID, "0")
		require.NoError(t, err)
		r := &Router{DB: db.DB, Signer: signer, Renderer: rend, Checkins: &Checkins{DB: db.DB, Now: clock}, Messengers: msgrs, Now: clock}

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
