package campaigns_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/campaigns"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestCampaignUpdate: a campaign not yet sent is replaced whole (content,
// audience, schedule, variants) and re-planned — the old touchpoint and its
// job are gone, the new variants fire with the new copy; bad input changes
// nothing; once it has sent, an edit is refused; on both databases.
func TestCampaignUpdate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		seed(t, db, 6)
		svc := e.a.Campaigns()
		at := e.clk.Now().Add(24 * time.Hour)
		in := campaigns.Input{Name: "旧", Title: "旧标题", Event: "live_join",
			Buttons:  []campaigns.Button{{Kind: campaigns.ButtonLive, URL: "https://live.example.com/1"}},
			Audience: campaigns.Audience{Include: []campaigns.Rule{{Department: "市场"}}},
			Schedule: campaigns.Schedule{Kind: store.ScheduleAt, At: &at}}
		c, err := svc.Create(ctx, in, "tester")
		require.NoError(t, err)
		oldTP := c.Variants[0].TouchpointID

		bad := in
		bad.Title = ""
		_, err = svc.Update(ctx, c.ID, bad, "tester")
		require.ErrorIs(t, err, campaigns.ErrInvalid)
		got, err := svc.Get(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, "旧标题", got.Title, "bad input changes nothing")
		require.Equal(t, oldTP, got.Variants[0].TouchpointID)

		later := at.Add(2 * time.Hour)
		in.Name, in.Title = "新", "新标题"
		in.Audience = campaigns.Audience{Include: []campaigns.Rule{{Department: "销售"}}, Exclude: []campaigns.Rule{{Tag: "新员工"}}}
		in.Schedule = campaigns.Schedule{Kind: store.ScheduleAt, At: &later}
		in.Variants = []campaigns.VariantInput{{Name: "A"}, {Name: "B", Title: "别错过"}}
		u, err := svc.Update(ctx, c.ID, in, "tester")
		require.NoError(t, err)
		require.Equal(t, "新", u.Name)
		require.Len(t, u.Variants, 2)
		require.Equal(t, later.UTC(), u.Variants[1].RunAt)
		var n int64
		require.NoError(t, db.Model(&store.Touchpoint{}).Where("id = ?", oldTP).Count(&n).Error)
		require.Zero(t, n, "the old variant's touchpoint is gone")
		require.NoError(t, db.Model(&store.Job{}).Where("state = ? AND unique_key LIKE ?", "available", "tp:"+strconv.FormatUint(oldTP, 10)+":%").Count(&n).Error)
		require.Zero(t, n, "and its job")
		var audit store.AuditLog
		require.NoError(t, db.Where("action = ?", "campaign.update").Take(&audit).Error)

		e.clk.Set(later.Add(time.Minute))
		apptest.RunDue(t, e.a)
		var ds []store.Delivery
		require.NoError(t, db.Where("touchpoint_id IN ?", []uint64{u.Variants[0].TouchpointID, u.Variants[1].TouchpointID}).Find(&ds).Error)
		require.Len(t, ds, 4, "6 in 销售 minus 2 new hires; nobody of 市场")
		titles := map[string]bool{}
		for _, d := range ds {
			for _, m := range inbox(e, d.UserID) {
				titles[m.Title] = true
			}
		}
		require.NotEmpty(t, titles)
		require.Subset(t, []string{"新标题", "别错过"}, keysOf(titles), "the new copy, never the old")

		_, err = svc.Update(ctx, c.ID, in, "tester")
		require.True(t, errors.Is(err, campaigns.ErrConflict), "%v", err)
	})
}

func keysOf(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
