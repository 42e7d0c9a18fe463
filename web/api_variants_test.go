package web_test

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/simulator"
	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/experiment"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

const variantSecret = "variant-link-secret-0123456789"

// TestTouchpointVariantsEndToEnd: a reminder with three variants — A at the
// touchpoint's fixed time, B at its own fixed offset, C at the learned best
// time of a window (no past pushes: it falls back to the fixed time) — made
// through the API, fired by its jobs and reported, on both databases. Every
// person is assigned once (recorded, as plan.Pick gives it), gets exactly
// one card with their variant's copy at their variant's time; a person
// enrolled later is assigned too; the variants are fixed once sent (409);
// the report's figures match hand-computed values, and say 数据不足 below
// the minimum sample.
func TestTouchpointVariantsEndToEnd(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		clk := apptest.NewClock(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)) // Monday 10:00 Shanghai
		a, srv := apptest.Start(t, db.DB, clk, variantSecret)
		api := apptest.APIPrefix
		call := func(status int, method, path string, body, out any) {
			t.Helper()
			require.Equal(t, status, apptest.Call(t, srv.URL, method, path, "", body, out), "%s %s", method, path)
		}

		var course idOnly
		call(201, "POST", api+"/courses", map[string]any{"code": "AB-1", "title": "实验课"}, &course)
		var created struct {
			Session idOnly `json:"session"`
		}
		call(201, "POST", api+"/sessions", map[string]any{"course_id": course.ID, "starts_at": "2026-03-04T10:00:00+08:00",
			"ends_at": "2026-03-04T12:00:00+08:00", "time_zone": "Asia/Shanghai", "plan": "none"}, &created)
		sid := created.Session.ID
		var people []store.Employee
		for i := range 60 {
			people = append(people, store.Employee{ExternalID: fmt.Sprintf("V%02d", i), Name: fmt.Sprintf("学员%d", i), Department: "销售", Platform: "simulator", Active: true})
		}
		require.NoError(t, db.Create(&people).Error)
		for _, p := range people {
			require.NoError(t, db.Create(&store.Enrollment{SessionID: sid, EmployeeID: p.ID, Status: store.EnrollInvited}).Error)
		}

		// Bad variants: typed field errors.
		var problem struct {
			Errors []struct{ Field, Code string } `json:"errors"`
		}
		path := fmt.Sprintf("%s/sessions/%d/touchpoints", api, sid)
		call(422, "POST", path, map[string]any{"kind": "reminder", "offset_minutes": -1440, "variants": []any{map[string]any{"title": "只有一个"}}}, &problem)
		require.Equal(t, "variants", problem.Errors[0].Field)
		require.Equal(t, plan.ProblemVariantCount, problem.Errors[0].Code)
		call(422, "POST", path, map[string]any{"kind": "reminder", "offset_minutes": -1440, "variants": []any{
			map[string]any{"title": "A"}, map[string]any{"timing": "best", "best_from_minutes": -600, "best_to_minutes": -300}}}, &problem)
		require.Equal(t, "variants[1].offset_minutes", problem.Errors[0].Field, "the fallback lies outside B's window")
		require.Equal(t, plan.ProblemOutsideWindow, problem.Errors[0].Code)

		type variant struct {
			ID       uint64     `json:"id"`
			Name     string     `json:"name"`
			Timing   string     `json:"timing"`
			RunAt    *time.Time `json:"run_at"`
			Assigned int        `json:"assigned"`
		}
		var tp struct {
			ID       uint64    `json:"id"`
			RunAt    time.Time `json:"run_at"`
			Variants []variant `json:"variants"`
		}
		call(201, "POST", path, map[string]any{"kind": "reminder", "offset_minutes": -1440, "variants": []any{
			map[string]any{"title": "A：明天上课"},
			map[string]any{"title": "B：别忘了明天的课", "timing": "offset", "offset_minutes": -1200},
			map[string]any{"body": "C：学习时间最佳", "timing": "best", "best_from_minutes": -1800, "best_to_minutes": -1080},
		}}, &tp)
		fixed := time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC) // a day before the start
		own := time.Date(2026, 3, 3, 6, 0, 0, 0, time.UTC)   // 20 hours before
		require.Len(t, tp.Variants, 3)
		require.Equal(t, []string{"A", "B", "C"}, []string{tp.Variants[0].Name, tp.Variants[1].Name, tp.Variants[2].Name})
		require.True(t, tp.Variants[0].RunAt.Equal(fixed))
		require.True(t, tp.Variants[1].RunAt.Equal(own))
		require.True(t, tp.Variants[2].RunAt.Equal(fixed), "no past pushes: the learned time falls back to the fixed one")
		var pv struct {
			Variants []struct {
				Name  string    `json:"name"`
				At    time.Time `json:"at"`
				Basis string    `json:"send_time_basis"`
			} `json:"variants"`
		}
		call(200, "GET", fmt.Sprintf("%s/touchpoints/%d/preview", api, tp.ID), nil, &pv)
		require.Len(t, pv.Variants, 3)
		require.True(t, pv.Variants[1].At.Equal(own))
		require.Contains(t, pv.Variants[2].Basis, "数据不足，使用设定时间", "the learned variant says why it keeps the fixed time")
		var jobs []store.Job
		require.NoError(t, db.Where("kind = ? AND state <> ?", plan.JobFire, store.JobCancelled).Find(&jobs).Error)
		require.Len(t, jobs, 3, "one fire job per variant, none for the touchpoint itself")

		cards := func(user string) []string {
			var out []string
			for _, c := range a.Sim().Inbox(user) {
				if strings.HasPrefix(c.Key, fmt.Sprintf("ll-%d-", tp.ID)) {
					out = append(out, c.Message.Title+"|"+c.Message.Body)
				}
			}
			return out
		}
		// A and C's time: only their people get a card; everybody is assigned.
		clk.Set(fixed)
		apptest.RunDue(t, a)
		var as []store.TouchpointAssignment
		require.NoError(t, db.Where("touchpoint_id = ?", tp.ID).Find(&as).Error)
		require.Len(t, as, 60)
		key := plan.AssignmentKey([]byte(variantSecret))
		vs, err := plan.LoadVariants(ctx, db.DB, tp.ID)
		require.NoError(t, err)
		name := map[uint64]string{}
		for _, v := range vs {
			name[v.ID] = v.Name
		}
		of := map[uint64]string{}
		split := map[string]int{}
		for _, x := range as {
			want, ok := plan.Pick(key, tp.ID, x.EmployeeID, vs)
			require.True(t, ok)
			require.Equal(t, want.ID, x.VariantID, "the recorded variant is the keyed pick")
			of[x.EmployeeID] = name[x.VariantID]
			split[name[x.VariantID]]++
		}
		for _, n := range []string{"A", "B", "C"} {
			require.GreaterOrEqual(t, split[n], 12, "a roughly even split: %v", split)
		}
		for _, p := range people {
			switch of[p.ID] {
			case "B":
				require.Empty(t, cards(p.ExternalID), "B waits for its own time")
			case "A":
				require.Equal(t, []string{"A：明天上课|" + "您报名的《实验课》将于 03-04 10:00 开课，请准时参加。"}, cards(p.ExternalID))
			case "C":
				got := cards(p.ExternalID)
				require.Len(t, got, 1)
				require.True(t, strings.HasSuffix(got[0], "|C：学习时间最佳"), got[0])
			}
		}
		// The variants are fixed once anything was sent.
		call(409, "PATCH", fmt.Sprintf("%s/touchpoints/%d", api, tp.ID), map[string]any{"variants": []any{}}, nil)

		// B's own time: B's people, exactly once each.
		clk.Set(own)
		apptest.RunDue(t, a)
		for _, p := range people {
			got := cards(p.ExternalID)
			require.Len(t, got, 1, "exactly one card for %s", p.ExternalID)
			if of[p.ID] == "B" {
				require.True(t, strings.HasPrefix(got[0], "B：别忘了明天的课|"), got[0])
			}
		}
		var n int64
		require.NoError(t, db.Model(&store.Delivery{}).Where("touchpoint_id = ?", tp.ID).Count(&n).Error)
		require.EqualValues(t, 60, n, "one delivery per person and occurrence")

		// Someone enrolled later is assigned when a send reaches them.
		late := store.Employee{ExternalID: "V99", Name: "后来者", Department: "销售", Platform: "simulator", Active: true}
		require.NoError(t, db.Create(&late).Error)
		require.NoError(t, db.Create(&store.Enrollment{SessionID: sid, EmployeeID: late.ID, Status: store.EnrollInvited}).Error)
		call(202, "POST", fmt.Sprintf("%s/touchpoints/%d/send-now", api, tp.ID), nil, nil)
		apptest.RunDue(t, a)
		var la store.TouchpointAssignment
		require.NoError(t, db.Where("touchpoint_id = ? AND employee_id = ?", tp.ID, late.ID).Take(&la).Error)
		of[late.ID] = name[la.VariantID]
		split[of[late.ID]]++
		require.Len(t, cards("V99"), 1)
		for _, p := range people {
			require.Len(t, cards(p.ExternalID), 1, "send-now reaches only the newcomer")
		}

		// Outcomes: every B person checks in, one A person clicks, nobody of C.
		var clicked uint64
		for _, p := range append(people, late) {
			switch of[p.ID] {
			case "B":
				require.NoError(t, db.Create(&store.Checkin{SessionID: sid, EmployeeID: p.ID, Kind: store.CheckinOnTime, Source: store.SourceManual, CheckedInAt: own}).Error)
			case "A":
				if clicked == 0 {
					clicked = p.ID
					require.NoError(t, db.Create(&store.Click{DeliveryID: 1, TouchpointID: tp.ID, EmployeeID: p.ID, Target: "https://x.example.com", ClickedAt: own}).Error)
				}
			}
		}
		var rep struct {
			Experiments []struct {
				TouchpointID uint64 `json:"touchpoint_id"`
				Outcome      string `json:"outcome"`
				Variants     []struct {
					Name      string `json:"name"`
					Timing    string `json:"timing"`
					Assigned  int    `json:"assigned"`
					Delivered int    `json:"delivered"`
					Outcomes  *int   `json:"outcomes"`
				} `json:"variants"`
				Result struct {
					Enough      bool   `json:"enough"`
					Status      string `json:"status"`
					Warning     string `json:"warning"`
					Comparisons []any  `json:"comparisons"`
				} `json:"result"`
			} `json:"experiments"`
			Definitions map[string]string `json:"definitions"`
		}
		call(200, "GET", fmt.Sprintf("%s/sessions/%d/report", api, sid), nil, &rep)
		require.Len(t, rep.Experiments, 1)
		e := rep.Experiments[0]
		require.Equal(t, reports.OutcomeClickedOrCheckedIn, e.Outcome)
		require.False(t, e.Result.Enough)
		require.Contains(t, e.Result.Status, "数据不足：每个版本至少需要 100 人")
		require.Contains(t, e.Result.Warning, "提前停止")
		require.Empty(t, e.Result.Comparisons)
		require.Contains(t, rep.Definitions["experiment_clicked_or_checked_in"], "点击了本推送任一追踪链接或已签到")
		wantOutcomes := map[string]int{"A": 1, "B": split["B"], "C": 0}
		for _, v := range e.Variants {
			require.Equal(t, split[v.Name], v.Assigned, v.Name)
			require.Equal(t, split[v.Name], v.Delivered, v.Name)
			require.NotNil(t, v.Outcomes, v.Name)
			require.Equal(t, wantOutcomes[v.Name], *v.Outcomes, v.Name)
		}

		// With a minimum sample of 10 the comparisons are shown, against the
		// hand formulas: B − A = (1 − 1/nA) in points; A has 1 outcome (a
		// cell under 5), so the interval is Newcombe's from the Wilson
		// intervals, p Fisher's exact; z from the pooled SE.
		full, err := reports.SessionWith(ctx, db.DB, sid, clk.Now(), reports.Options{ExperimentMinSample: 10})
		require.NoError(t, err)
		res := full.Experiments[0].Result
		require.True(t, res.Enough)
		require.Equal(t, "样本量已达到 | Minimum sample reached", res.Status)
		require.Len(t, res.Comparisons, 2)
		nA, nB, nC := float64(split["A"]), float64(split["B"]), float64(split["C"])
		pA := 1 / nA
		b := res.Comparisons[0]
		require.Equal(t, "B", b.Variant)
		require.InDelta(t, 100*(1-pA), b.Diff, 0.01)
		require.Equal(t, experiment.MethodExact, b.Method)
		wilson := func(p, n float64) (float64, float64) {
			z2 := 1.959964 * 1.959964
			c, h := (p+z2/(2*n))/(1+z2/n), 1.959964*math.Sqrt(p*(1-p)/n+z2/(4*n*n))/(1+z2/n)
			return max(0, c-h), min(1, c+h)
		}
		lA, uA := wilson(pA, nA)
		lB, uB := wilson(1, nB)
		require.InDelta(t, 100*(1-pA-math.Sqrt((1-lB)*(1-lB)+(uA-pA)*(uA-pA))), b.CILow, 0.01)
		require.InDelta(t, 100*(1-pA+math.Sqrt((uB-1)*(uB-1)+(pA-lA)*(pA-lA))), b.CIHigh, 0.01)
		pool := (1 + nB) / (nA + nB)
		z := (1 - pA) / math.Sqrt(pool*(1-pool)*(1/nA+1/nB))
		require.InDelta(t, z, *b.Z, 0.001)
		require.True(t, b.Significant)
		c := res.Comparisons[1]
		require.Equal(t, "C", c.Variant)
		require.InDelta(t, -100*pA, c.Diff, 0.01)
		pool = 1 / (nA + nC)
		require.InDelta(t, -pA/math.Sqrt(pool*(1-pool)*(1/nA+1/nC)), *c.Z, 0.001)
		require.False(t, c.Significant)
		// The CLI's table (learnloop report session) prints the same.
		var out strings.Builder
		require.NoError(t, full.WriteTable(&out, "en"))
		require.Contains(t, out.String(), fmt.Sprintf("A/B experiment of push #%d (outcome: clicked or checked in)", tp.ID))
		require.Contains(t, out.String(), "Compared with A (the control)")
		require.Contains(t, out.String(), "the learned best time")
	})
}

// pausingSim is the simulator messenger, except that its first send runs
// pause: a coordinator's pause arriving while a fire is under way.
type pausingSim struct {
	bot.Messenger
	once  sync.Once
	pause func()
}

func (p *pausingSim) Send(ctx context.Context, to bot.Recipient, m bot.Message) (bot.Receipt, error) {
	p.once.Do(p.pause)
	return p.Messenger.Send(ctx, to, m)
}

// TestPauseWhileAVariantFiresHoldsTheOthers: the coordinator pauses a
// reminder with two variants while A's fire is sending. A's fire finishing
// must not mark the touchpoint fired over the pause — that stranded B,
// cancelled and no longer resumable. The touchpoint stays paused, a resume
// plans B at its own time, and everybody then has exactly one card (A's
// people none more). On both databases.
func TestPauseWhileAVariantFiresHoldsTheOthers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		clk := apptest.NewClock(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC))
		var srv *httptest.Server // the app's, from Start below
		api := apptest.APIPrefix
		call := func(status int, method, path string, body, out any) {
			t.Helper()
			require.Equal(t, status, apptest.Call(t, srv.URL, method, path, "", body, out), "%s %s", method, path)
		}
		var tp idOnly
		var paused atomic.Bool
		sim := &pausingSim{Messenger: simulator.New(simulator.Options{Now: clk.Now}), pause: func() {
			call(200, "POST", fmt.Sprintf("%s/touchpoints/%d/pause", api, tp.ID), nil, nil)
			paused.Store(true)
		}}
		a, srv := apptest.Start(t, db.DB, clk, variantSecret, func(_ *config.Config, o *app.Options) {
			o.Messengers = map[bot.Platform]bot.Messenger{bot.PlatformSimulator: sim}
		})

		var course idOnly
		call(201, "POST", api+"/courses", map[string]any{"code": "AB-P", "title": "暂停实验"}, &course)
		var created struct {
			Session idOnly `json:"session"`
		}
		call(201, "POST", api+"/sessions", map[string]any{"course_id": course.ID, "starts_at": "2026-03-04T10:00:00+08:00",
			"ends_at": "2026-03-04T12:00:00+08:00", "time_zone": "Asia/Shanghai", "plan": "none"}, &created)
		var people []store.Employee
		for i := range 20 {
			people = append(people, store.Employee{ExternalID: fmt.Sprintf("P%02d", i), Name: fmt.Sprintf("学员%d", i), Platform: "simulator", Active: true})
		}
		require.NoError(t, db.Create(&people).Error)
		for _, p := range people {
			require.NoError(t, db.Create(&store.Enrollment{SessionID: created.Session.ID, EmployeeID: p.ID, Status: store.EnrollInvited}).Error)
		}
		call(201, "POST", fmt.Sprintf("%s/sessions/%d/touchpoints", api, created.Session.ID), map[string]any{"kind": "reminder", "offset_minutes": -1440,
			"variants": []any{map[string]any{"title": "A：明天上课"}, map[string]any{"title": "B：别忘了", "timing": "offset", "offset_minutes": -1200}}}, &tp)
		vs, err := plan.LoadVariants(ctx, db.DB, tp.ID)
		require.NoError(t, err)
		require.Len(t, vs, 2)
		jobState := func(v store.TouchpointVariant) string {
			var j store.Job
			require.NoError(t, db.Where("unique_key = ?", fmt.Sprintf("tp:%d:0:v%d", tp.ID, v.ID)).Take(&j).Error)
			return j.State
		}
		status := func() string {
			var got store.Touchpoint
			require.NoError(t, db.First(&got, tp.ID).Error)
			return got.Status
		}

		// A's time: the pause comes while A's fire is sending.
		clk.Set(time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC))
		apptest.RunDue(t, a)
		require.True(t, paused.Load(), "the pause came during A's fire")
		require.Equal(t, store.TouchpointPaused, status(), "A's fire does not undo the pause")
		require.Equal(t, store.JobCancelled, jobState(vs[1]), "the pause holds B")
		require.Equal(t, store.JobCompleted, jobState(vs[0]))

		call(200, "POST", fmt.Sprintf("%s/touchpoints/%d/resume", api, tp.ID), nil, nil)
		require.Equal(t, store.TouchpointFired, status(), "what was sent stays sent")
		require.Equal(t, store.JobAvailable, jobState(vs[1]), "the resume plans B again")

		clk.Set(time.Date(2026, 3, 3, 6, 0, 0, 0, time.UTC))
		apptest.RunDue(t, a)
		var n int64
		require.NoError(t, db.Model(&store.Delivery{}).Where("touchpoint_id = ?", tp.ID).Count(&n).Error)
		require.EqualValues(t, len(people), n, "everybody reached once, by A or B")
		inbox := sim.Messenger.(*simulator.Client)
		for _, p := range people {
			got := 0
			for _, c := range inbox.Inbox(p.ExternalID) {
				if strings.HasPrefix(c.Key, fmt.Sprintf("ll-%d-", tp.ID)) {
					got++
				}
			}
			require.Equal(t, 1, got, "exactly one card for %s", p.ExternalID)
		}
	})
}
