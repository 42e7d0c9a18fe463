package reports_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/text"
)

var genAt = time.Date(2026, 3, 5, 8, 0, 0, 0, time.UTC)

func val(t *testing.T, f reports.Figure) float64 {
	t.Helper()
	require.NotNil(t, f.Value, "figure has a value")
	return *f.Value
}

func TestSessionReportFigures(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := seedFixture(t, db.DB)
		r, err := reports.Session(context.Background(), db.DB, f.sessionID, genAt)
		require.NoError(t, err)

		require.Equal(t, genAt, r.GeneratedAt)
		require.Equal(t, f.sessionID, r.Session.ID)
		require.Equal(t, "LEAD-101", r.Session.CourseCode)
		require.Equal(t, "领导力基础", r.Session.CourseTitle)
		require.Equal(t, "第一期", r.Session.Title)
		require.Equal(t, "王老师", r.Session.Teacher)
		require.Equal(t, "Asia/Shanghai", r.Session.TimeZone)
		require.Equal(t, "A座301", r.Session.Location)
		require.Equal(t, store.SessionPlanned, r.Session.Status)
		require.True(t, start.Equal(r.Session.StartsAt))
		require.True(t, end.Equal(r.Session.EndsAt))

		// Windows: opens = 01:00 − 1800s = 00:30; on time until = 01:00 + 600s = 01:10;
		// late until = end 04:00; make-up until = 04:00 + 7200s = 06:00 (UTC).
		require.True(t, at(2, 0, 30).Equal(r.Windows.Opens), r.Windows.Opens)
		require.True(t, at(2, 1, 10).Equal(r.Windows.OnTimeUntil), r.Windows.OnTimeUntil)
		require.True(t, at(2, 4, 0).Equal(r.Windows.LateUntil), r.Windows.LateUntil)
		require.True(t, at(2, 6, 0).Equal(r.Windows.MakeupUntil), r.Windows.MakeupUntil)
		require.EqualValues(t, 86400, r.Windows.AttributionSeconds)

		// Roster = E1..E5 (E6 cancelled) = 5; excused = E5 = 1; eligible = 5 − 1 = 4.
		// Checked in among eligible = E1, E2, E3 = 3 (E6's check-in is not counted):
		// on time 1 (E1), late 1 (E2), make-up 1 (E3).
		// Check-in rate = 100 × 3 / 4 = 75.0, n = 4; 75 ≥ 50 → not low.
		require.Equal(t, 5, r.Roster)
		require.Equal(t, 1, r.Excused)
		require.Equal(t, 4, r.Eligible)
		require.Equal(t, 3, r.CheckedIn)
		require.Equal(t, 1, r.OnTime)
		require.Equal(t, 1, r.Late)
		require.Equal(t, 1, r.Makeup)
		require.Equal(t, 75.0, val(t, r.CheckinRate))
		require.Equal(t, 4, r.CheckinRate.N)
		require.Equal(t, 3, r.CheckinRate.Numerator)
		require.Contains(t, r.CheckinRate.Definition.In(text.ZH), "签到率")
		require.Contains(t, r.CheckinRate.Definition.In(text.EN), "Check-in rate")
		require.False(t, r.LowCheckin)

		require.Len(t, r.Touchpoints, 2)
		tp1, tp2 := r.Touchpoints[0], r.Touchpoints[1]
		require.Equal(t, f.tp1, tp1.ID, "ordered by run_at, not id")
		require.Equal(t, f.tp2, tp2.ID)
		require.Equal(t, "reminder", tp1.Kind)
		require.Equal(t, store.AudienceAll, tp1.Audience)
		require.Equal(t, store.TouchpointFired, tp1.Status)
		require.True(t, start.Add(-24*time.Hour).Equal(tp1.RunAt))
		require.NotNil(t, tp1.FiredAt)

		// TP1 deliveries: E1 E2 sent (wecom), E3 sent (feishu), E4 E6 failed 81013,
		// E5 dropped 45009 → total 6, sent 3, failed 2, dropped 1, pending 0.
		require.Equal(t, reports.DeliveryCounts{Total: 6, Sent: 3, Failed: 2, Dropped: 1, Pending: 0}, tp1.Deliveries)
		// TP1 clicks: E1 ×2, E2, E3 ×2 = 5 clicks by 3 clickers; CTR = 100 × 3 / 3 = 100.0.
		require.Equal(t, 5, tp1.Clicks)
		require.Equal(t, 3, tp1.Clickers)
		require.Equal(t, 100.0, val(t, tp1.ClickThrough))
		require.Equal(t, 3, tp1.ClickThrough.N)
		// TP1 conversions: E2 only (click 01:20 → check-in 01:30). E1's last click before
		// check-in is TP2's; E3's clicks are 25h before (outside 24h) or after check-in.
		// Conversion rate = 100 × 1 / 3 = 33.3.
		require.Equal(t, 1, tp1.Conversions)
		require.Equal(t, 33.3, val(t, tp1.ConversionRate))
		require.Equal(t, 1, tp1.ConversionRate.Numerator)
		require.Equal(t, 3, tp1.ConversionRate.N)
		// TP1 per platform: feishu 1 sent; wecom 5 = 2 sent + 2 failed + 1 dropped, most
		// frequent error 81013 "user not found" (2×) over 45009 (1×).
		require.Equal(t, []reports.PlatformRow{
			{Platform: "feishu", DeliveryCounts: reports.DeliveryCounts{Total: 1, Sent: 1}},
			{Platform: "wecom", DeliveryCounts: reports.DeliveryCounts{Total: 5, Sent: 2, Failed: 2, Dropped: 1},
				TopErrorCode: "81013", TopErrorMessage: "user not found", TopErrorCount: 2},
		}, tp1.Platforms)

		// TP2 deliveries: E1 E2 E4 sent, E3 sending (pending), E5 dropped →
		// total 5, sent 3, failed 0, dropped 1, pending 1.
		require.Equal(t, reports.DeliveryCounts{Total: 5, Sent: 3, Failed: 0, Dropped: 1, Pending: 1}, tp2.Deliveries)
		// TP2 clicks: E1, E4 = 2 clicks by 2 clickers; CTR = 100 × 2 / 3 = 66.7.
		require.Equal(t, 2, tp2.Clicks)
		require.Equal(t, 2, tp2.Clickers)
		require.Equal(t, 66.7, val(t, tp2.ClickThrough))
		// TP2 conversions: E1 (TP1 clicks too, but TP2 at 00:50 is the last before 00:55);
		// E4 never checked in. Rate = 100 × 1 / 3 = 33.3.
		require.Equal(t, 1, tp2.Conversions)
		require.Equal(t, 33.3, val(t, tp2.ConversionRate))
		// TP2 per platform: the dropped delivery has no error, so no top error.
		require.Equal(t, []reports.PlatformRow{
			{Platform: "feishu", DeliveryCounts: reports.DeliveryCounts{Total: 1, Pending: 1}},
			{Platform: "wecom", DeliveryCounts: reports.DeliveryCounts{Total: 4, Sent: 3, Dropped: 1}},
		}, tp2.Platforms)

		// Attendees: the roster E1..E5 by external id; E6 (cancelled) is not listed.
		require.Len(t, r.Attendees, 5)
		want := []struct {
			ext, name, enroll, kind, source string
			missing                         bool
		}{
			{"emp-01", "张三", store.EnrollInvited, store.CheckinOnTime, store.SourceCard, false},
			{"emp-02", "李四", store.EnrollInvited, store.CheckinLate, store.SourceLink, false},
			{"emp-03", "王五", store.EnrollInvited, store.CheckinMakeup, store.SourceCard, false},
			{"emp-04", "赵六", store.EnrollInvited, "", "", true},
			{"emp-05", "钱七", store.EnrollExcused, "", "", false},
		}
		for i, w := range want {
			a := r.Attendees[i]
			require.Equal(t, w.ext, a.ExternalID)
			require.Equal(t, w.name, a.Name)
			require.Equal(t, w.enroll, a.Enrollment)
			require.Equal(t, w.kind, a.CheckinKind)
			require.Equal(t, w.source, a.CheckinSource)
			require.Equal(t, w.missing, a.Missing, w.ext)
			require.Equal(t, w.kind != "", a.CheckedInAt != nil)
		}
		require.True(t, at(2, 0, 55).Equal(*r.Attendees[0].CheckedInAt))
		require.Equal(t, time.UTC, r.Attendees[0].CheckedInAt.Location())
		require.Equal(t, "销售部", r.Attendees[0].Department)

		for _, k := range []string{"roster", "excused", "eligible", "checked_in", "on_time", "late", "makeup",
			"checkin_rate", "low_checkin", "click_through", "conversions", "conversion_rate", "clickers", "clicks"} {
			require.NotEmpty(t, r.Definitions[k], k)
		}
		require.Contains(t, r.Definitions["conversion_rate"], "24 小时")

		// The JSON names are the documented ones.
		b, err := json.Marshal(r)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		for _, k := range []string{"generated_at", "session", "windows", "roster", "excused", "eligible", "checked_in",
			"checkin_rate", "low_checkin", "touchpoints", "attendees", "definitions"} {
			require.Contains(t, m, k)
		}
		require.Equal(t, 75.0, m["checkin_rate"].(map[string]any)["value"])
	})
}

func TestSessionReportAttributionWindow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		f := seedFixture(t, db.DB)
		ctx := context.Background()
		// E3 clicked TP1 exactly 25h before checking in: credited with a 25h window
		// (the bound is inclusive), not with 25h − 1s.
		r, err := reports.SessionWith(ctx, db.DB, f.sessionID, genAt, reports.Options{AttributionWindow: 25 * time.Hour})
		require.NoError(t, err)
		require.Equal(t, f.tp1, r.Touchpoints[0].ID)
		require.Equal(t, 2, r.Touchpoints[0].Conversions) // E2 + E3
		require.Equal(t, 66.7, val(t, r.Touchpoints[0].ConversionRate))
		require.Equal(t, 1, r.Touchpoints[1].Conversions) // still E1 only
		require.EqualValues(t, 25*3600, r.Windows.AttributionSeconds)

		r, err = reports.SessionWith(ctx, db.DB, f.sessionID, genAt, reports.Options{AttributionWindow: 25*time.Hour - time.Second})
		require.NoError(t, err)
		require.Equal(t, 1, r.Touchpoints[0].Conversions)

		// A 4-minute window: E2 (10 min) is out, E1 (5 min after the TP2 click) is out too.
		r, err = reports.SessionWith(ctx, db.DB, f.sessionID, genAt, reports.Options{AttributionWindow: 4 * time.Minute})
		require.NoError(t, err)
		require.Equal(t, 0, r.Touchpoints[0].Conversions)
		require.Equal(t, 0, r.Touchpoints[1].Conversions)
		// A window that would reach E1's earlier TP1 clicks still credits nobody but
		// the last push: E1 stays out of TP1 even with 5 minutes (last click is TP2).
		r, err = reports.SessionWith(ctx, db.DB, f.sessionID, genAt, reports.Options{AttributionWindow: 5 * time.Minute})
		require.NoError(t, err)
		require.Equal(t, 0, r.Touchpoints[0].Conversions)
		require.Equal(t, 1, r.Touchpoints[1].Conversions)
	})
}

func TestSessionReportEligibleZero(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		for _, tc := range []struct {
			name    string
			excused int
		}{{"empty roster", 0}, {"all excused", 2}} {
			id := seedRoster(t, db.DB, 0, 0, tc.excused)
			r, err := reports.Session(ctx, db.DB, id, genAt)
			require.NoError(t, err, tc.name)
			require.Equal(t, tc.excused, r.Roster, tc.name)
			require.Equal(t, 0, r.Eligible, tc.name)
			require.Nil(t, r.CheckinRate.Value, tc.name)
			require.Equal(t, 0, r.CheckinRate.N, tc.name)
			require.False(t, r.LowCheckin, tc.name)
			require.Empty(t, r.Touchpoints, tc.name)
			b, err := json.Marshal(r.CheckinRate)
			require.NoError(t, err)
			require.Contains(t, string(b), `"value":null`)
		}
	})
}

func TestSessionReportLowThreshold(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		// 1 of 2 eligible = 50.0% exactly → not low (the rule is "below 50%").
		id := seedRoster(t, db.DB, 2, 1, 1)
		r, err := reports.Session(ctx, db.DB, id, genAt)
		require.NoError(t, err)
		require.Equal(t, 2, r.Eligible)
		require.Equal(t, 50.0, val(t, r.CheckinRate))
		require.False(t, r.LowCheckin)

		// 499 of 1000 eligible = 49.9% → low.
		id = seedRoster(t, db.DB, 1000, 499, 3)
		r, err = reports.Session(ctx, db.DB, id, genAt)
		require.NoError(t, err)
		require.Equal(t, 1003, r.Roster)
		require.Equal(t, 1000, r.Eligible)
		require.Equal(t, 499, r.CheckedIn)
		require.Equal(t, 49.9, val(t, r.CheckinRate))
		require.True(t, r.LowCheckin)
		require.Len(t, r.Attendees, 1003)
		missing := 0
		for _, a := range r.Attendees {
			if a.Missing {
				missing++
			}
		}
		require.Equal(t, 501, missing, "1000 eligible − 499 checked in")
	})
}

func TestSessionReportNotFound(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		_, err := reports.Session(context.Background(), db.DB, 424242, genAt)
		require.ErrorIs(t, err, reports.ErrNotFound)
		require.Contains(t, err.Error(), "424242")
	})
}
