package bot_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestFirePagedAudience: a registered audience, paged or whole, reaches Fire
// in pages of at most AudiencePage people, and each person gets one
// delivery across the pages; an audience's error fails the Fire.
func TestFirePagedAudience(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := seed(t, db, 7)
		var pages []int
		paged := func(_ context.Context, _ *gorm.DB, _ store.Touchpoint, _ store.Session, page int, fn func([]bot.Target) error) error {
			buf := make([]bot.Target, 0, page)
			for i, e := range f.emps {
				buf = append(buf, bot.Target{Employee: e})
				if len(buf) == page || i == len(f.emps)-1 {
					pages = append(pages, len(buf))
					if err := fn(buf); err != nil {
						return err
					}
					buf = buf[:0] // reused: Fire must not keep it
				}
			}
			return nil
		}
		whole := func(context.Context, *gorm.DB, store.Touchpoint, store.Session) ([]bot.Target, error) {
			out := make([]bot.Target, len(f.emps))
			for i, e := range f.emps {
				out[i] = bot.Target{Employee: e}
			}
			return out, nil
		}
		broken := func(context.Context, *gorm.DB, store.Touchpoint, store.Session, int, func([]bot.Target) error) error {
			return errors.New("directory down")
		}
		reg := bot.NewRegistry()
		require.NoError(t, reg.PagedAudience("paged", paged))
		require.NoError(t, reg.Audience("whole", whole))
		require.NoError(t, reg.PagedAudience("broken", broken))
		require.ErrorIs(t, reg.PagedAudience("paged", paged), bot.ErrRegistered)
		require.ErrorIs(t, reg.PagedAudience(store.AudienceAll, paged), bot.ErrBuiltIn)
		require.Error(t, reg.PagedAudience("nil", nil))
		require.Equal(t, []string{"broken", "paged", "whole"}, reg.Audiences())

		var mu sync.Mutex
		got := map[uint64]map[uint64]int{} // touchpoint → employee → sends
		m := messengerFunc(func(_ context.Context, to bot.Recipient, msg bot.Message) (bot.Receipt, error) {
			mu.Lock()
			defer mu.Unlock()
			var d store.Delivery
			require.NoError(t, db.Where("`key` = ?", msg.Key).Take(&d).Error)
			if got[d.TouchpointID] == nil {
				got[d.TouchpointID] = map[uint64]int{}
			}
			got[d.TouchpointID][to.EmployeeID]++
			return bot.Receipt{Handle: "h-" + msg.Key}, nil
		})
		d := deliverer(t, f, m)
		d.Audiences, d.AudiencePage = reg.AudienceFuncs(), 3
		for _, aud := range []string{"paged", "whole"} {
			tp := f.tp
			tp.ID, tp.Audience = 0, aud
			require.NoError(t, db.Create(&tp).Error)
			st, err := d.Fire(context.Background(), tp.ID, "0")
			require.NoError(t, err, aud)
			require.Equal(t, 7, st.Audience, aud)
			require.Equal(t, 7, st.Created, aud)
			require.Equal(t, 7, st.Sent, aud)
			require.Len(t, got[tp.ID], 7, aud)
			for _, e := range f.emps {
				require.Equal(t, 1, got[tp.ID][e.ID], "%s: employee %d", aud, e.ID)
			}
			require.Equal(t, map[string]int{store.DeliverySent: 7}, statuses(t, db, tp.ID), aud)
		}
		require.Equal(t, []int{3, 3, 1}, pages, "the paged audience was asked for pages of AudiencePage")

		tp := f.tp
		tp.ID, tp.Audience = 0, "broken"
		require.NoError(t, db.Create(&tp).Error)
		_, err := d.Fire(context.Background(), tp.ID, "0")
		require.ErrorContains(t, err, "resolve audience broken: directory down")
		require.Empty(t, statuses(t, db, tp.ID), "nothing was created")
	})
}
