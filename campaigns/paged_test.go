package campaigns_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/campaigns"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestCampaignPagedAudience: an A/B campaign whose audience is resolved two
// people at a time, across several pages, sends each person one card, of
// the variant Assign picks, or of the variant already recorded for them.
func TestCampaignPagedAudience(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.a.Deliverer().AudiencePage = 2
		es := seed(t, db, 11) // 11 in 销售 (4 new hires), 3 in 市场, one inactive
		aud := campaigns.Audience{Include: []campaigns.Rule{{Department: "销售"}, {Department: "市场"}}, Exclude: []campaigns.Rule{{Title: "实习生"}}}
		n, err := campaigns.Count(ctx, db.DB, aud)
		require.NoError(t, err)
		require.EqualValues(t, 14, n, "seven pages of two")
		c, err := e.a.Campaigns().Create(ctx, campaigns.Input{
			Name: "分页", Title: "分页推送", Body: "正文", Event: "open", MinSample: 3, MinGroupSize: 3,
			Buttons:  []campaigns.Button{{Kind: campaigns.ButtonCourse, URL: "https://learn.example.com/c/1"}},
			Audience: aud, Schedule: campaigns.Schedule{Kind: store.ScheduleNow},
			Variants: []campaigns.VariantInput{{Name: "A"}, {Name: "B", Title: "分页推送 B"}},
		}, "tester")
		require.NoError(t, err)
		require.Len(t, c.Variants, 2)
		var vs []store.CampaignVariant
		require.NoError(t, db.Where("campaign_id = ?", c.ID).Order("id").Find(&vs).Error)
		m := hmac.New(sha256.New, e.a.Campaigns().Secret)
		m.Write([]byte("learnloop campaign assignment"))
		key := m.Sum(nil)

		// Someone in the middle of the audience already has the other
		// variant recorded (an earlier resolution): that record wins.
		pinned := es[6]
		other := vs[0].ID
		if campaigns.Assign(key, c.ID, pinned.ID, vs) == other {
			other = vs[1].ID
		}
		require.NoError(t, db.Create(&store.CampaignAssignment{CampaignID: c.ID, EmployeeID: pinned.ID, VariantID: other, AssignedAt: e.clk.Now()}).Error)

		apptest.RunDue(t, e.a)
		tpOf := map[uint64]uint64{vs[0].TouchpointID: vs[0].ID, vs[1].TouchpointID: vs[1].ID}
		var ds []store.Delivery
		require.NoError(t, db.Where("touchpoint_id IN ?", []uint64{vs[0].TouchpointID, vs[1].TouchpointID}).Find(&ds).Error)
		require.Len(t, ds, 14, "one delivery per person across the pages and variants")
		got := map[uint64]uint64{}
		for _, d := range ds {
			_, dup := got[d.EmployeeID]
			require.False(t, dup, "person %d got two deliveries", d.EmployeeID)
			got[d.EmployeeID] = tpOf[d.TouchpointID]
			require.Equal(t, store.DeliverySent, d.Status)
		}
		perVariant := map[uint64]int{}
		for _, emp := range es {
			want := campaigns.Assign(key, c.ID, emp.ID, vs)
			if emp.ID == pinned.ID {
				want = other
			}
			require.Equal(t, want, got[emp.ID], "employee %d", emp.ID)
			perVariant[want]++
			require.Len(t, inbox(e, emp.ExternalID), 1, emp.ExternalID)
		}
		require.Len(t, perVariant, 2, "both variants were sent")
		var asg []store.CampaignAssignment
		require.NoError(t, db.Where("campaign_id = ?", c.ID).Find(&asg).Error)
		require.Len(t, asg, 14, "every page's assignments are recorded")
		for _, x := range asg {
			require.Equal(t, got[x.EmployeeID], x.VariantID, "the delivery follows the recorded assignment")
		}
		require.Empty(t, inbox(e, "GONE"))
	})
}
