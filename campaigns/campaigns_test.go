package campaigns_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/campaigns"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

type env struct {
	a   *app.App
	url string
	clk *apptest.Clock
}

func newEnv(t *testing.T, db *storetest.DB) *env {
	t.Helper()
	clk := apptest.NewClock(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)) // 10:00 Shanghai, a Monday
	a, srv := apptest.Start(t, db.DB, clk, "campaign-link-secret-0123456789")
	return &env{a: a, url: srv.URL, clk: clk}
}

// seed creates employees: n in 销售 (every third tagged 新员工), 3 in 市场,
// one inactive in 销售.
func seed(t *testing.T, db *storetest.DB, n int) []store.Employee {
	t.Helper()
	var es []store.Employee
	for i := range n {
		e := store.Employee{ExternalID: fmt.Sprintf("S%03d", i), Name: "销售" + strconv.Itoa(i), Department: "销售", City: "上海", Platform: "simulator", Active: true}
		if i%3 == 0 {
			e.Tags = "新员工"
		}
		es = append(es, e)
	}
	for i := range 3 {
		es = append(es, store.Employee{ExternalID: fmt.Sprintf("M%03d", i), Name: "市场" + strconv.Itoa(i), Department: "市场", City: "北京", Platform: "simulator", Active: true, Tags: "新员工,骨干"})
	}
	require.NoError(t, db.Create(&es).Error)
	gone := store.Employee{ExternalID: "GONE", Name: "离职", Department: "销售", Platform: "simulator", Active: true}
	require.NoError(t, db.Create(&gone).Error)
	require.NoError(t, db.Model(&gone).Update("active", false).Error)
	return es
}

func linkOf(t *testing.T, cards []bot.Message) string {
	t.Helper()
	for _, m := range cards {
		for _, b := range m.Buttons {
			if b.Action == bot.ActionLink {
				return b.URL
			}
		}
	}
	t.Fatal("no link button")
	return ""
}

func inbox(e *env, user string) []bot.Message {
	var out []bot.Message
	for _, c := range e.a.Sim().Inbox(user) {
		if c.Message.Kind == campaigns.KindCampaign {
			out = append(out, c.Message)
		}
	}
	return out
}

func click(t *testing.T, u string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
}

// TestCampaignEndToEnd: an A/B campaign to 销售 minus the new hires, sent
// through the simulator once per person, clicked, converted and reported,
// on both databases.
func TestCampaignEndToEnd(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		seed(t, db, 12)
		svc := e.a.Campaigns()
		aud := campaigns.Audience{Include: []campaigns.Rule{{Department: "销售"}}, Exclude: []campaigns.Rule{{Tag: "新员工"}}}
		n, err := campaigns.Count(ctx, db.DB, aud)
		require.NoError(t, err)
		require.EqualValues(t, 8, n, "12 in 销售, 4 new hires excluded, the inactive one not counted")

		in := campaigns.Input{
			Name: "直播推广", Title: "今晚 8 点直播：高效沟通", Body: "点击进入直播间", Event: "live_join", MinSample: 3, MinGroupSize: 3,
			ImageURL: "https://cdn.example.com/live.png",
			Buttons:  []campaigns.Button{{Kind: campaigns.ButtonLive, URL: "https://live.example.com/r/1"}, {Kind: campaigns.ButtonDocument, Text: "讲义", URL: "https://doc.example.com/1"}},
			Audience: aud, Schedule: campaigns.Schedule{Kind: store.ScheduleNow},
			Variants: []campaigns.VariantInput{{Name: "A"}, {Name: "B", Title: "别错过：高效沟通直播"}},
		}
		c, err := svc.Create(ctx, in, "tester")
		require.NoError(t, err)
		require.Len(t, c.Variants, 2)
		require.Equal(t, "Asia/Shanghai", c.Schedule.TimeZone)

		apptest.RunDue(t, e.a)
		var ds []store.Delivery
		require.NoError(t, db.Where("touchpoint_id IN ?", []uint64{c.Variants[0].TouchpointID, c.Variants[1].TouchpointID}).Order("employee_id").Find(&ds).Error)
		require.Len(t, ds, 8, "one delivery per person across the variants")
		seen := map[uint64]bool{}
		for _, d := range ds {
			require.False(t, seen[d.EmployeeID], "person %d got two variants", d.EmployeeID)
			seen[d.EmployeeID] = true
			require.Equal(t, store.DeliverySent, d.Status)
		}
		var asg []store.CampaignAssignment
		require.NoError(t, db.Where("campaign_id = ?", c.ID).Find(&asg).Error)
		require.Len(t, asg, 8, "every assignment is recorded")
		for _, x := range asg {
			var d store.Delivery
			require.NoError(t, db.Where("employee_id = ? AND touchpoint_id IN ?", x.EmployeeID, []uint64{c.Variants[0].TouchpointID, c.Variants[1].TouchpointID}).Take(&d).Error)
			want := c.Variants[0].TouchpointID
			if x.VariantID == c.Variants[1].ID {
				want = c.Variants[1].TouchpointID
			}
			require.Equal(t, want, d.TouchpointID, "the delivery follows the recorded assignment")
		}

		// Firing again (a retry, a second replica) sends nobody twice.
		for _, v := range c.Variants {
			_, err := e.a.Deliverer().Fire(ctx, v.TouchpointID, "0")
			require.NoError(t, err)
		}
		var count int64
		require.NoError(t, db.Model(&store.Delivery{}).Where("touchpoint_id IN ?", []uint64{c.Variants[0].TouchpointID, c.Variants[1].TouchpointID}).Count(&count).Error)
		require.EqualValues(t, 8, count)

		// The cards: title of the variant, tracked links only.
		var emps []store.Employee
		require.NoError(t, db.Where("id IN ?", keys(seen)).Order("id").Find(&emps).Error)
		for _, emp := range emps {
			cards := inbox(e, emp.ExternalID)
			require.Len(t, cards, 1, emp.ExternalID)
			require.Contains(t, cards[0].Title, "高效沟通")
			require.Len(t, cards[0].Buttons, 2)
			for _, b := range cards[0].Buttons {
				require.True(t, strings.HasPrefix(b.URL, e.url+"/l/"), b.URL)
			}
			require.Equal(t, "进入直播", cards[0].Buttons[0].Text)
		}
		for _, u := range []string{"S000", "M000"} {
			require.Empty(t, inbox(e, u), "%s is not in the audience", u)
		}

		// Clicks: the first three people click; the first two convert
		// within the window, the third two days later; a fourth converts
		// without clicking.
		e.clk.Set(e.clk.Now().Add(time.Hour))
		for _, emp := range emps[:3] {
			click(t, linkOf(t, inbox(e, emp.ExternalID)))
		}
		e.clk.Set(e.clk.Now().Add(30 * time.Minute))
		at := e.clk.Now()
		late := at.Add(48 * time.Hour)
		for i, x := range []struct {
			emp store.Employee
			at  time.Time
		}{{emps[0], at}, {emps[1], at}, {emps[2], late}, {emps[3], at}} {
			occ := x.at
			if x.at.Equal(late) {
				e.clk.Set(late)
			}
			res, err := svc.RecordConversion(ctx, campaigns.ConversionInput{EventID: fmt.Sprintf("ev-%d", i), Event: "live_join", OccurredAt: &occ, ExternalID: x.emp.ExternalID}, campaigns.SourceAPI)
			require.NoError(t, err)
			require.False(t, res.Duplicate)
			if i < 2 {
				require.NotNil(t, res.Credited, "conversion %d is credited", i)
				require.Equal(t, c.ID, res.Credited.CampaignID)
			} else {
				require.Nil(t, res.Credited, "conversion %d is not credited (outside the window or no click)", i)
			}
		}
		// Resend: nothing new; the same id with another person: conflict.
		res, err := svc.RecordConversion(ctx, campaigns.ConversionInput{EventID: "ev-0", Event: "live_join", OccurredAt: &at, EmployeeID: emps[0].ID}, campaigns.SourceAPI)
		require.NoError(t, err)
		require.True(t, res.Duplicate)
		_, err = svc.RecordConversion(ctx, campaigns.ConversionInput{EventID: "ev-0", Event: "live_join", OccurredAt: &at, EmployeeID: emps[1].ID}, campaigns.SourceAPI)
		require.ErrorIs(t, err, campaigns.ErrConflict)
		_, err = svc.RecordConversion(ctx, campaigns.ConversionInput{EventID: "ev-x", Event: "live_join", OccurredAt: &at}, campaigns.SourceAPI)
		require.ErrorIs(t, err, campaigns.ErrInvalid)

		rep, err := svc.Report(ctx, c.ID, campaigns.ReportOptions{})
		require.NoError(t, err)
		require.Equal(t, 8, rep.Funnel.Delivered)
		require.Equal(t, 3, rep.Funnel.Clickers)
		require.Equal(t, 2, rep.Funnel.Converted)
		require.InDelta(t, 37.5, *rep.Funnel.ClickThrough.Value, 1e-9)
		require.Equal(t, 8, rep.Funnel.ClickThrough.N)
		require.InDelta(t, 25.0, *rep.Funnel.ConversionRate.Value, 1e-9)
		require.Equal(t, 4, rep.Share.Conversions)
		require.Equal(t, 2, rep.Share.ViaPush)
		require.Equal(t, 2, rep.Share.ViaCampaign)
		require.InDelta(t, 50.0, *rep.Share.ViaPushShare.Value, 1e-9)
		require.Equal(t, rep.Variants[0].Funnel.Delivered+rep.Variants[1].Funnel.Delivered, 8)
		require.Len(t, rep.Departments, 1)
		require.Equal(t, "销售", rep.Departments[0].Key)
		require.Len(t, rep.Platforms, 1)
		require.Equal(t, []campaigns.GroupRow{{Key: "10", Funnel: rep.Hours[0].Funnel}}, rep.Hours, "sent at 10:00 Shanghai")
		require.Equal(t, "1", rep.Weekdays[0].Key, "a Monday")
		require.NotNil(t, rep.Experiment)
		require.NotEmpty(t, rep.Experiment.Warning)
		if rep.Variants[0].Funnel.Delivered < 3 || rep.Variants[1].Funnel.Delivered < 3 {
			require.False(t, rep.Experiment.Enough)
			require.Contains(t, rep.Experiment.Status, "数据不足")
		} else {
			require.True(t, rep.Experiment.Enough)
			require.Len(t, rep.Experiment.Comparisons, 2)
		}
		require.NotEmpty(t, rep.Definitions)
	})
}

func keys(m map[uint64]bool) []uint64 {
	out := make([]uint64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestCampaignPausedSendsNothing: a campaign paused before its time sends
// nothing; resumed, it sends once; cancelled, it cannot be resumed.
func TestCampaignPausedSendsNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		seed(t, db, 4)
		at := e.clk.Now().Add(time.Hour)
		c, err := e.a.Campaigns().Create(ctx, campaigns.Input{Name: "考试提醒", Title: "月考", Event: "exam_done",
			Buttons:  []campaigns.Button{{Kind: campaigns.ButtonExam, URL: "https://exam.example.com/1"}},
			Audience: campaigns.Audience{Include: []campaigns.Rule{{City: "北京"}}}, Schedule: campaigns.Schedule{Kind: store.ScheduleAt, At: &at}}, "")
		require.NoError(t, err)
		_, err = e.a.Campaigns().SetPaused(ctx, c.ID, true, "")
		require.NoError(t, err)
		e.clk.Set(at.Add(time.Minute))
		apptest.RunDue(t, e.a)
		var n int64
		require.NoError(t, db.Model(&store.Delivery{}).Where("touchpoint_id = ?", c.Variants[0].TouchpointID).Count(&n).Error)
		require.Zero(t, n)
		_, err = e.a.Campaigns().SetPaused(ctx, c.ID, false, "")
		require.NoError(t, err)
		apptest.RunDue(t, e.a)
		require.NoError(t, db.Model(&store.Delivery{}).Where("touchpoint_id = ?", c.Variants[0].TouchpointID).Count(&n).Error)
		require.EqualValues(t, 3, n, "the three in 北京")
		_, err = e.a.Campaigns().Cancel(ctx, c.ID, "")
		require.NoError(t, err)
		_, err = e.a.Campaigns().SetPaused(ctx, c.ID, false, "")
		require.ErrorIs(t, err, campaigns.ErrConflict)
	})
}

// TestCampaignInputRefused: bad input is refused field by field and stores
// nothing.
func TestCampaignInputRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := newEnv(t, db)
		past := e.clk.Now().Add(-time.Hour)
		_, err := e.a.Campaigns().Create(context.Background(), campaigns.Input{
			Buttons:  []campaigns.Button{{Kind: "video", URL: "javascript:alert(1)"}, {Kind: "live", URL: "https://a"}, {Kind: "live", URL: "https://b"}, {Kind: "live", URL: "https://c"}, {Kind: "live", URL: "https://d"}},
			Audience: campaigns.Audience{Include: []campaigns.Rule{{}}, Exclude: []campaigns.Rule{{Tag: "a,b"}}},
			Schedule: campaigns.Schedule{Kind: store.ScheduleAt, At: &past, TimeZone: "Mars/Base"},
			Variants: []campaigns.VariantInput{{Name: "A"}, {Name: "A", Weight: 500}},
		}, "")
		var inv *campaigns.InvalidError
		require.True(t, errors.As(err, &inv), "%v", err)
		fields := map[string]bool{}
		for _, f := range inv.Fields {
			fields[f.Field] = true
		}
		for _, f := range []string{"name", "title", "event", "buttons", "buttons[0].kind", "buttons[0].url", "audience.include[0]", "audience.exclude[0].tag",
			"schedule.at", "schedule.time_zone", "variants[1].name", "variants[1].weight"} {
			require.True(t, fields[f], "%s is reported: %v", f, inv.Fields)
		}
		var n int64
		require.NoError(t, db.Model(&store.Campaign{}).Count(&n).Error)
		require.Zero(t, n)
		require.NoError(t, db.Model(&store.Session{}).Count(&n).Error)
		require.Zero(t, n)
	})
}

// TestConversionWebhook: a signed conversion is stored once; a wrong
// signature, a stale timestamp or a missing one is refused and stores
// nothing; so are, signed, invalid fields (422 with the API's codes), a
// second JSON value after the body, control characters in an id (a NUL
// would match another person's 工号 on MariaDB), the same event id with
// another person (409) and an oversized body (413).
func TestConversionWebhook(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := newEnv(t, db)
		seed(t, db, 1)
		secret := e.a.Campaigns().WebhookSecret()
		body := []byte(`{"event_id":"wh-1","event":"course_done","occurred_at":"2026-03-02T01:30:00Z","platform":"simulator","platform_user_id":"S000"}`)
		post := func(ts int64, sig string, b []byte) int {
			req, err := http.NewRequest("POST", e.url+"/webhooks/conversions", bytes.NewReader(b))
			require.NoError(t, err)
			req.Header.Set(campaigns.HeaderTimestamp, strconv.FormatInt(ts, 10))
			if sig != "" {
				req.Header.Set(campaigns.HeaderSignature, sig)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				var res campaigns.ConversionResult
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&res))
				require.Equal(t, "wh-1", res.EventID)
			}
			return resp.StatusCode
		}
		now := e.clk.Now().Unix()
		stored := func() int64 {
			var n int64
			require.NoError(t, db.Model(&store.Conversion{}).Count(&n).Error)
			return n
		}
		require.Equal(t, 401, post(now, "", body))
		require.Equal(t, 401, post(now, campaigns.SignWebhook("wrong-secret", now, body), body))
		require.Equal(t, 401, post(now-600, campaigns.SignWebhook(secret, now-600, body), body), "stale")
		tampered := bytes.Replace(body, []byte("S000"), []byte("M000"), 1)
		require.Equal(t, 401, post(now, campaigns.SignWebhook(secret, now, body), tampered))
		require.Zero(t, stored())
		require.Equal(t, 201, post(now, campaigns.SignWebhook(secret, now, body), body))
		require.Equal(t, 200, post(now+1, campaigns.SignWebhook(secret, now+1, body), body), "a resend is recorded once")
		require.EqualValues(t, 1, stored())
		for _, tc := range []struct {
			name string
			body string
			code int
		}{
			{"bad event", `{"event_id":"wh-2","event":"bad event","occurred_at":"2026-03-02T01:30:00Z","external_id":"S000"}`, 422},
			{"trailing value", `{"event_id":"wh-2","event":"course_done","occurred_at":"2026-03-02T01:30:00Z","external_id":"S000"} {}`, 400},
			{"NUL in the 工号", `{"event_id":"wh-2","event":"course_done","occurred_at":"2026-03-02T01:30:00Z","external_id":"S000\u0000"}`, 422},
			{"line break in the event id", `{"event_id":"wh\n2","event":"course_done","occurred_at":"2026-03-02T01:30:00Z","external_id":"S000"}`, 422},
			{"NUL in the event id", `{"event_id":"wh\u00002","event":"course_done","occurred_at":"2026-03-02T01:30:00Z","external_id":"S000"}`, 422},
			{"same id, other time", `{"event_id":"wh-1","event":"course_done","occurred_at":"2026-03-02T01:31:00Z","platform":"simulator","platform_user_id":"S000"}`, 409},
			{"oversized", `{"event_id":"` + strings.Repeat("x", 20000) + `"}`, 413},
		} {
			b := []byte(tc.body)
			require.Equal(t, tc.code, post(now, campaigns.SignWebhook(secret, now, b), b), tc.name)
		}
		require.EqualValues(t, 1, stored())
	})
}

// TestConversionCreditToTheMillisecond: a conversion reported at 10.9 s is
// credited to a click at 10.3 s (it is stored at 10 s, but judged on the
// time as sent), not to one at 10.95 s; on both databases.
func TestConversionCreditToTheMillisecond(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := newEnv(t, db)
		es := seed(t, db, 1)
		base := e.clk.Now().Add(-time.Minute).Truncate(time.Second)
		for i, at := range []time.Time{base.Add(300 * time.Millisecond), base.Add(950 * time.Millisecond)} {
			require.NoError(t, db.Create(&store.Click{DeliveryID: uint64(100 + i), TouchpointID: uint64(200 + i), EmployeeID: es[0].ID, Target: "https://x.example.com", ClickedAt: at}).Error)
		}
		at := base.Add(900 * time.Millisecond)
		res, err := e.a.Campaigns().RecordConversion(context.Background(), campaigns.ConversionInput{EventID: "ms-1", Event: "course_done", OccurredAt: &at, EmployeeID: es[0].ID}, campaigns.SourceAPI)
		require.NoError(t, err)
		require.NotNil(t, res.Credited)
		require.EqualValues(t, 100, res.Credited.DeliveryID, "the click before it, not the one after")
		require.Equal(t, base, res.OccurredAt, "stored to the second")
	})
}
