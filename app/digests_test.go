package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/simulator"
	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/console/accounts"
	"github.com/learnloop/learnloop/digests"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// refusing is a platform that refuses every card, as a platform does for a
// user who left.
type refusing struct {
	mu   sync.Mutex
	sent int
}

func (r *refusing) Platform() bot.Platform { return bot.PlatformWeCom }

func (r *refusing) Send(context.Context, bot.Recipient, bot.Message) (bot.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent++
	return bot.Receipt{}, bot.Permanent("81013", "user not found", errors.New("refused"))
}

func digestCards(b *bundle, user string) []simulator.Card {
	var out []simulator.Card
	for _, c := range b.a.Sim().Inbox(user) {
		if c.Message.Kind == digests.Kind {
			out = append(out, c)
		}
	}
	return out
}

func titled(cards []simulator.Card, title string) int {
	n := 0
	for _, c := range cards {
		if c.Message.Title == title {
			n++
		}
	}
	return n
}

func field(t *testing.T, c simulator.Card, label string) string {
	t.Helper()
	for _, f := range c.Message.Fields {
		if f.Label == label {
			return f.Value
		}
	}
	t.Fatalf("card %q has no field %q: %+v", c.Message.Title, label, c.Message.Fields)
	return ""
}

// TestDigestEndToEnd: a coordinator and a department head subscribe; on
// Monday each gets exactly one card about the week before, through the
// simulator, with their own scope's figures (the coordinator never sees
// another's course, the head's small group is suppressed); a second
// replica, a retried job and a second run add nothing; quiet hours move an
// early schedule; the next week brings the next card; a refused card is a
// failed delivery the subscription and delivery health show.
func TestDigestEndToEnd(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		wecom := &refusing{}
		b := setup(t, db, func(cfg *config.Config, o *app.Options) {
			cfg.QuietHours = config.QuietHoursConfig{Enabled: true, Start: "21:00", End: "08:00"}
			o.Messengers = map[bot.Platform]bot.Messenger{bot.PlatformWeCom: wecom}
		})
		ctx := context.Background()
		s := b.plan(t) // COMM-101, Monday 2026-03-02 10:00 Shanghai, E001 E002 销售, E003 市场
		var sess store.Session
		require.NoError(t, b.a.DB().Take(&sess, s.ID).Error)
		require.Equal(t, http.StatusOK, b.call(t, "PATCH", fmt.Sprintf("/api/v1/courses/%d", sess.CourseID), "", map[string]any{"owner": "coach"}, nil))
		// Another coordinator's class the same week, all three checked in.
		os := apptest.NewSession(t, b.srv.URL, apptest.SessionSpec{
			Course:  map[string]any{"code": "OTHER-1", "title": "别人的课", "owner": "rival"},
			Session: map[string]any{"starts_at": "2026-03-04T10:00:00+08:00", "ends_at": "2026-03-04T12:00:00+08:00", "time_zone": "Asia/Shanghai"},
			Roster:  "external_id,name,department,platform\nE001,张伟,销售,simulator\nE002,王芳,销售,simulator\nE003,李娜,市场,simulator\n",
		})
		w := store.Employee{ExternalID: "W001", Name: "吴强", Department: "市场", Platform: "wecom", WecomID: "wq", Active: true}
		require.NoError(t, b.a.DB().Create(&w).Error)
		require.NoError(t, b.a.DB().Create(&store.Enrollment{SessionID: os.ID, EmployeeID: w.ID, Status: store.EnrollInvited}).Error)
		// E001 checks in to the coach's class; everyone to the rival's.
		b.clk.Set(time.Date(2026, 3, 2, 1, 55, 0, 0, time.UTC))
		require.Equal(t, http.StatusCreated, b.call(t, "POST", "/api/v1/sessions/"+u(s.ID)+"/checkins", "", map[string]any{"external_id": "E001"}, nil))
		b.clk.Set(time.Date(2026, 3, 4, 1, 55, 0, 0, time.UTC))
		for _, id := range []string{"E001", "E002", "E003", "W001"} {
			require.Equal(t, http.StatusCreated, b.call(t, "POST", "/api/v1/sessions/"+u(os.ID)+"/checkins", "", map[string]any{"external_id": id}, nil))
		}

		for _, a := range []accounts.NewAccount{
			{Username: "coach", Role: store.RoleCoordinator, Password: "correct horse battery 1"},
			{Username: "head", Role: store.RoleDepartmentHead, Department: "销售", Password: "correct horse battery 2"},
			{Username: "gone", Role: store.RoleCoordinator, Password: "correct horse battery 3"},
		} {
			_, err := accounts.Create(ctx, b.a.DB(), a, "test", b.clk.Now())
			require.NoError(t, err)
		}
		// The coach through the API, the head through the service, as the
		// console does: at 07:00, inside quiet hours.
		var coach digests.Subscription
		require.Equal(t, http.StatusCreated, b.call(t, "POST", "/api/v1/digests", "", map[string]any{"account": "coach", "employee": "E001", "frequency": "weekly", "time_zone": "Asia/Shanghai"}, &coach))
		_, err := b.a.Digests().Create(ctx, digests.Input{Employee: "E003", Frequency: "weekly"}, digests.Actor{Username: "head", Role: store.RoleDepartmentHead})
		require.NoError(t, err, "a department head subscribes itself")
		_, err = b.a.Digests().Create(ctx, digests.Input{Account: "coach", Employee: "E002", Frequency: "weekly"}, digests.Actor{Username: "head", Role: store.RoleDepartmentHead})
		var inv *digests.InvalidError
		require.ErrorAs(t, err, &inv, "nobody subscribes another's account")
		require.Equal(t, "account", inv.Fields[0].Field)
		subs, err := b.a.Digests().List(ctx, digests.Actor{Username: "head", Role: store.RoleDepartmentHead}, 0, 10)
		require.NoError(t, err)
		require.Len(t, subs, 1)
		require.NoError(t, b.a.Digests().Delete(ctx, subs[0].ID, digests.Actor{Username: "head", Role: store.RoleDepartmentHead}))
		head, err := b.a.Digests().Create(ctx, digests.Input{Employee: "E002", Frequency: "cron", Cron: "0 7 * * 1", TimeZone: "Asia/Shanghai"},
			digests.Actor{Username: "head", Role: store.RoleDepartmentHead})
		require.NoError(t, err)
		require.Equal(t, time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), *head.NextAt, "07:00 is moved to 08:00 Shanghai, the end of quiet hours")
		require.Equal(t, time.Date(2026, 3, 9, 1, 0, 0, 0, time.UTC), *coach.NextAt)
		// An account whose employee's platform refuses cards.
		gone, err := b.a.Digests().Create(ctx, digests.Input{Account: "gone", Employee: "W001", Frequency: "weekly"}, digests.Actor{})
		require.NoError(t, err)

		// Monday 09:00:30: every digest fires once; a second replica on the
		// same database finds nothing more to do.
		b.clk.Set(time.Date(2026, 3, 9, 1, 0, 30, 0, time.UTC))
		// (It sends through the same simulator: one inbox to count.)
		replica, err := app.New(ctx, b.a.Cfg(), app.Options{DB: b.a.DB(), Now: b.clk.Now,
			Messengers: map[bot.Platform]bot.Messenger{bot.PlatformSimulator: b.a.Sim(), bot.PlatformWeCom: wecom}})
		require.NoError(t, err)
		t.Cleanup(func() { _ = replica.Close() })
		var wg sync.WaitGroup
		for _, a := range []*app.App{b.a, replica} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 5 {
					if n, err := a.Sched().RunDue(ctx); err != nil || n == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		b.runDue(t)
		cards := digestCards(b, "E001")
		require.Len(t, cards, 1, "exactly one card for the week")
		c := cards[0]
		require.Equal(t, "学习周报", c.Message.Title)
		require.Contains(t, c.Message.Body, "统计周期：2026-03-02 至 2026-03-08")
		require.Contains(t, c.Message.Body, "我负责的课程")
		require.Equal(t, "1 场", field(t, c, "开课场次"), "the rival's class is not the coach's")
		require.Equal(t, "33.3%（n = 3）", field(t, c, "签到率"))
		require.Len(t, c.Message.Buttons, 1)
		require.Contains(t, c.Message.Buttons[0].URL, "/l/", "the console link is tracked")

		hc := digestCards(b, "E002")
		require.Len(t, hc, 1)
		require.Contains(t, hc[0].Message.Body, "销售 及下级部门")
		require.Equal(t, "2 场", field(t, hc[0], "开课场次"))
		require.Equal(t, "人数少于 5，不显示", field(t, hc[0], "签到率"), "two people of 销售: suppressed")
		require.Empty(t, digestCards(b, "E003"), "the unsubscribed digest sends nothing")

		// A retry of the same occurrence (its job reset) sends nothing new.
		occ := time.Date(2026, 3, 9, 1, 0, 0, 0, time.UTC).Format("20060102T1504Z")
		_, _, err = b.a.Sched().Enqueue(ctx, nil, scheduler.JobSpec{Kind: plan.JobFire, UniqueKey: fmt.Sprintf("tp:%d:%s", coach.TouchpointID, occ), Replace: true,
			RunAt: b.clk.Now(), Payload: plan.FirePayload{TouchpointID: coach.TouchpointID, Occurrence: occ}})
		require.NoError(t, err)
		b.runDue(t)
		require.Len(t, digestCards(b, "E001"), 1, "a retry is the same delivery")
		var n int64
		require.NoError(t, b.a.DB().Model(&store.Delivery{}).Where("touchpoint_id = ?", coach.TouchpointID).Count(&n).Error)
		require.EqualValues(t, 1, n)

		// The refused card is a failed delivery: on the subscription and in
		// its session's delivery health.
		g, err := b.a.Digests().Get(ctx, gone.ID, digests.Actor{})
		require.NoError(t, err)
		require.NotNil(t, g.Last)
		require.Equal(t, store.DeliveryFailed, g.Last.Status)
		require.Equal(t, "81013", g.Last.ErrorCode)
		failed, err := b.a.Commands().FailedDeliveries(ctx, command.TokenActor("test"), g.SessionID)
		require.NoError(t, err)
		require.Len(t, failed, 1)

		// A test send is its own occurrence, marked as a test.
		_, err = b.a.Digests().SendTest(ctx, coach.ID, digests.Actor{Username: "coach", Role: store.RoleCoordinator})
		require.NoError(t, err)
		b.runDue(t)
		cards = digestCards(b, "E001")
		require.Len(t, cards, 2)
		require.Equal(t, 1, titled(cards, "学习周报（试发）"))
		require.Equal(t, 1, titled(cards, "学习周报"))

		// The next Monday: the next week's card.
		b.clk.Set(time.Date(2026, 3, 16, 1, 0, 30, 0, time.UTC))
		b.runDue(t)
		cards = digestCards(b, "E001")
		require.Len(t, cards, 3)
		var next []simulator.Card
		for _, c := range cards {
			if strings.Contains(c.Message.Body, "统计周期：2026-03-09 至 2026-03-15") {
				next = append(next, c)
			}
		}
		require.Len(t, next, 1)
		require.Equal(t, "0 场", field(t, next[0], "开课场次"))
		require.Equal(t, "本期无数据", field(t, next[0], "签到率"))
	})
}

// TestConcurrentSubscribesMakeOneDigest: the same subscription sent eight
// times at once (a double-clicked form, a retried API call) stores one
// subscription; the others are refused as duplicates, on both databases.
func TestConcurrentSubscribesMakeOneDigest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		ctx := context.Background()
		b.plan(t) // E001 …
		_, err := accounts.Create(ctx, b.a.DB(), accounts.NewAccount{Username: "coach", Role: store.RoleCoordinator, Password: "correct horse battery 1"}, "test", b.clk.Now())
		require.NoError(t, err)
		in := digests.Input{Account: "coach", Employee: "E001", Frequency: "weekly", TimeZone: "Asia/Shanghai"}
		const tries = 8
		errs := make([]error, tries)
		var wg sync.WaitGroup
		for i := range tries {
			wg.Go(func() { _, errs[i] = b.a.Digests().Create(ctx, in, digests.Actor{}) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			var inv *digests.InvalidError
			require.ErrorAs(t, err, &inv)
			require.Equal(t, digests.CodeDuplicate, inv.Fields[0].Code)
		}
		require.Equal(t, 1, ok, "one subscription is made")
		var n int64
		require.NoError(t, b.a.DB().Model(&store.DigestSubscription{}).Count(&n).Error)
		require.EqualValues(t, 1, n)
	})
}
