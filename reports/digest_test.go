package reports_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/surveys"
)

// The digest fixture's week: Monday 2026-03-02 to Monday 2026-03-09,
// Asia/Shanghai midnights.
var (
	weekFrom = time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)
	weekTo   = time.Date(2026, 3, 8, 16, 0, 0, 0, time.UTC)
)

// seedDigest writes the digest fixture, computed by hand in
// TestDigestFigures:
//
//	departments: 销售部 ⊃ 华东销售; 研发部
//	people: s1–s4 销售部, h1 h2 华东销售, r1 r2 研发部, managers m1 (销售部), m2 (研发部)
//	S1 course A (alice) 03-03: roster s1–s4 h1 h2 r1 r2 (r2 excused); checked in s1 s2 s3 h1 r1
//	   feedback: sent to s1–s4 h1 r1; answers (teacher, nps) s1 5/10, s2 4/9, s3 3/6, s4 4/7, h1 5/8, r1 2/3
//	   manager follow-up (open): m1 about s1 (answered) and s2, m2 about r1
//	S2 course B (bob) 03-04: roster s1 h2 r1; checked in s1 r1
//	S3 course A 03-05 cancelled (roster s1); S4 course A 03-10 (next week, roster s1, checked in)
//	campaign C1 (alice): sent in the week to s1–s4 h1 r1, clicked by s1 s2 r1 (s3 only after the week);
//	   sent to h2 the week before
//	campaign C2 (carol): sent in the week to s1 h2, clicked by s1
func seedDigest(t *testing.T, db *gorm.DB) {
	t.Helper()
	for _, d := range []store.DirectoryDepartment{
		{Platform: "wecom", DeptID: "1", ParentID: "0", Name: "销售部", Path: "销售部"},
		{Platform: "wecom", DeptID: "2", ParentID: "1", Name: "华东销售", Path: "销售部 / 华东销售"},
		{Platform: "wecom", DeptID: "3", ParentID: "0", Name: "研发部", Path: "研发部"},
	} {
		d.Active, d.SyncedAt = true, weekFrom
		require.NoError(t, db.Create(&d).Error)
	}
	emp := map[string]uint64{}
	for _, p := range []struct{ key, dept string }{
		{"s1", "销售部"}, {"s2", "销售部"}, {"s3", "销售部"}, {"s4", "销售部"}, {"h1", "华东销售"}, {"h2", "华东销售"},
		{"r1", "研发部"}, {"r2", "研发部"}, {"m1", "销售部"}, {"m2", "研发部"},
	} {
		e := store.Employee{ExternalID: p.key, Name: p.key, Department: p.dept, Active: true}
		require.NoError(t, db.Create(&e).Error)
		emp[p.key] = e.ID
	}
	course := func(code, owner, category string) uint64 {
		c := store.Course{Code: code, Title: code, Owner: owner, Category: category, TargetLevel: 1}
		require.NoError(t, db.Create(&c).Error)
		return c.ID
	}
	a, b := course("A", "alice", ""), course("B", "bob", "")
	camp := course("_campaigns", "", store.CategoryCampaign)
	session := func(cid uint64, day int, status string, roster map[string]string, checked ...string) uint64 {
		starts := time.Date(2026, 3, day, 2, 0, 0, 0, time.UTC)
		s := store.Session{CourseID: cid, Title: fmt.Sprint(cid, "-", day), StartsAt: starts, EndsAt: starts.Add(2 * time.Hour),
			TimeZone: "Asia/Shanghai", Locale: "zh-CN", Status: status}
		require.NoError(t, db.Create(&s).Error)
		for k, st := range roster {
			require.NoError(t, db.Create(&store.Enrollment{SessionID: s.ID, EmployeeID: emp[k], Status: st}).Error)
		}
		for _, k := range checked {
			require.NoError(t, db.Create(&store.Checkin{SessionID: s.ID, EmployeeID: emp[k], Kind: store.CheckinOnTime, Source: store.SourceCard, CheckedInAt: starts}).Error)
		}
		return s.ID
	}
	inv := store.EnrollInvited
	s1 := session(a, 3, store.SessionPlanned, map[string]string{"s1": inv, "s2": inv, "s3": inv, "s4": inv, "h1": inv, "h2": inv, "r1": inv, "r2": store.EnrollExcused},
		"s1", "s2", "s3", "h1", "r1")
	session(b, 4, store.SessionPlanned, map[string]string{"s1": inv, "h2": inv, "r1": inv}, "s1", "r1")
	session(a, 5, store.SessionCancelled, map[string]string{"s1": inv})
	session(a, 10, store.SessionPlanned, map[string]string{"s1": inv}, "s1")

	nextKey := 0
	deliver := func(tp, sess uint64, to string, subject string, sent time.Time) uint64 {
		nextKey++
		d := store.Delivery{TouchpointID: tp, Occurrence: "0", EmployeeID: emp[to], SubjectID: emp[subject], SessionID: sess,
			Key: fmt.Sprint("k", nextKey), Platform: "wecom", UserID: to, Status: store.DeliverySent, SentAt: &sent}
		require.NoError(t, db.Create(&d).Error)
		return d.ID
	}
	touchpoint := func(sess uint64, kind string, survey uint64) uint64 {
		tp := store.Touchpoint{SessionID: sess, Kind: kind, Anchor: store.AnchorEnd, Audience: store.AudienceAll, Template: kind,
			SurveyID: survey, Status: store.TouchpointFired, RunAt: weekFrom}
		require.NoError(t, db.Create(&tp).Error)
		return tp.ID
	}
	def := surveys.Definition{Key: "fb", Version: 1, Kind: store.SurveyFeedback, Title: surveys.Localized{"zh-CN": "反馈"}, Questions: []surveys.Question{
		{Key: "teacher", Type: surveys.TypeRating, Dimension: "teacher", Text: surveys.Localized{"zh-CN": "讲师"}},
		{Key: "nps", Type: surveys.TypeNPS, Text: surveys.Localized{"zh-CN": "推荐"}},
	}}
	fb := store.Survey{SessionID: s1, Kind: store.SurveyFeedback, Title: "反馈", Definition: mustJSON(t, def), MinGroupSize: 5,
		OpensAt: weekFrom, ClosesAt: weekTo.Add(24 * time.Hour), Status: store.SurveyOpen}
	require.NoError(t, db.Create(&fb).Error)
	fbTP := touchpoint(s1, "feedback", fb.ID)
	for _, a := range []struct {
		who           string
		teacher, nps  float64
		answered, dep bool
	}{{"s1", 5, 10, true, true}, {"s2", 4, 9, true, true}, {"s3", 3, 6, true, true}, {"s4", 4, 7, true, true}, {"h1", 5, 8, true, true}, {"r1", 2, 3, true, true}} {
		did := deliver(fbTP, s1, a.who, "", weekFrom.Add(48*time.Hour))
		var dept string
		require.NoError(t, db.Model(&store.Employee{}).Where("id = ?", emp[a.who]).Select("department").Scan(&dept).Error)
		id := emp[a.who]
		resp := store.SurveyResponse{SurveyID: fb.ID, RespondentKey: "e:" + a.who, RespondentID: &id, Department: dept, DeliveryID: &did,
			Status: store.ResponseComplete, Source: "card", StartedAt: weekFrom}
		require.NoError(t, db.Create(&resp).Error)
		for k, v := range map[string]float64{"teacher": a.teacher, "nps": a.nps} {
			require.NoError(t, db.Create(&store.SurveyAnswer{ResponseID: resp.ID, SurveyID: fb.ID, QuestionKey: k, Number: &v}).Error)
		}
	}
	fu := store.Survey{SessionID: s1, Kind: store.SurveyManagerFollowup, Title: "跟进", Definition: mustJSON(t, surveys.Definition{Key: "fu", Kind: store.SurveyManagerFollowup}),
		MinGroupSize: 5, OpensAt: weekFrom, ClosesAt: weekTo.Add(30 * 24 * time.Hour), Status: store.SurveyOpen}
	require.NoError(t, db.Create(&fu).Error)
	fuTP := touchpoint(s1, "manager_followup", fu.ID)
	deliver(fuTP, s1, "m1", "s1", weekFrom)
	deliver(fuTP, s1, "m1", "s2", weekFrom)
	deliver(fuTP, s1, "m2", "r1", weekFrom)
	require.NoError(t, db.Create(&store.SurveyParticipation{SurveyID: fu.ID, EmployeeID: emp["m1"], SubjectID: emp["s1"], Status: store.ResponseComplete}).Error)

	var carrier uint64
	campaign := func(name, by string) uint64 {
		carrier = session(camp, 3, store.SessionPlanned, nil)
		c := store.Campaign{Name: name, Title: name, Schedule: store.ScheduleNow, TimeZone: "Asia/Shanghai", Locale: "zh-CN", Event: "x",
			SessionID: carrier, CreatedBy: by, Status: store.CampaignScheduled}
		require.NoError(t, db.Create(&c).Error)
		tp := touchpoint(carrier, "campaign", 0)
		require.NoError(t, db.Create(&store.CampaignVariant{CampaignID: c.ID, Name: "A", Weight: 1, TouchpointID: tp}).Error)
		return tp
	}
	click := func(tp, did uint64, who string, when time.Time) {
		require.NoError(t, db.Create(&store.Click{DeliveryID: did, TouchpointID: tp, EmployeeID: emp[who], ClickedAt: when}).Error)
	}
	c1 := campaign("C1", "alice")
	in := weekFrom.Add(72 * time.Hour)
	for _, who := range []string{"s1", "s2", "s3", "s4", "h1", "r1"} {
		did := deliver(c1, carrier, who, "", in)
		switch who {
		case "s1", "s2", "r1":
			click(c1, did, who, in.Add(time.Hour))
		case "s3":
			click(c1, did, who, weekTo.Add(time.Hour))
		}
	}
	deliver(c1, carrier, "h2", "", weekFrom.Add(-time.Hour))
	c2 := campaign("C2-x", "carol")
	click(c2, deliver(c2, carrier, "s1", "", in), "s1", in.Add(time.Minute))
	deliver(c2, carrier, "h2", "", in)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func f64(v float64) *float64 { return &v }

// TestDigestFigures checks every digest figure against the fixture's
// hand-computed values, for each scope: the system, two coordinators (never
// another's course), department heads with figures on both sides of the
// minimum group size, and an empty period.
func TestDigestFigures(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		seedDigest(t, db.DB)
		scope := func(user, role, dept string, min int) reports.Scope {
			s, err := reports.NewScope(ctx, db.DB, reports.Actor{Username: user, Role: role}, dept, min)
			require.NoError(t, err)
			return s
		}
		type campaign struct {
			name               string
			delivered, clicked int
			ctr                *float64
			suppressed         bool
		}
		tests := []struct {
			name            string
			scope           reports.Scope
			from, to        time.Time
			kind            string
			classes, canc   int
			checkin         *float64
			checkinN        int
			checkinHidden   bool
			response        *float64
			responseN       int
			responseHidden  bool
			mean, top2      *float64
			ratingN         int
			ratingHidden    bool
			nps             *float64
			npsN            int
			npsHidden       bool
			asked, open     int
			followUpsHidden bool
			campaigns       []campaign
		}{
			{name: "system", scope: reports.FullScope(), from: weekFrom, to: weekTo, kind: reports.DigestScopeAll, classes: 2, canc: 1,
				checkin: f64(70), checkinN: 10, response: f64(100), responseN: 6, mean: f64(23.0 / 6), top2: f64(400.0 / 6), ratingN: 6, nps: f64(0), npsN: 6,
				asked: 3, open: 2, campaigns: []campaign{{"C1", 6, 3, f64(50), false}, {"C2-x", 2, 1, f64(50), false}}},
			{name: "coordinator alice: course A only", scope: scope("alice", store.RoleCoordinator, "", 0), from: weekFrom, to: weekTo, kind: reports.DigestScopeOwn,
				classes: 1, canc: 1, checkin: f64(71.4), checkinN: 7, response: f64(100), responseN: 6, mean: f64(23.0 / 6), top2: f64(400.0 / 6), ratingN: 6, nps: f64(0), npsN: 6,
				asked: 3, open: 2, campaigns: []campaign{{"C1", 6, 3, f64(50), false}}},
			{name: "coordinator bob: course B only", scope: scope("bob", store.RoleCoordinator, "", 0), from: weekFrom, to: weekTo, kind: reports.DigestScopeOwn,
				classes: 1, checkin: f64(66.7), checkinN: 3, campaigns: []campaign{}},
			{name: "head of 销售部 (subtree), min 5", scope: scope("sales", store.RoleDepartmentHead, "销售部", 5), from: weekFrom, to: weekTo, kind: reports.DigestScopeDepartment,
				classes: 2, canc: 1, checkin: f64(62.5), checkinN: 8, response: f64(100), responseN: 5, mean: f64(4.2), top2: f64(80), ratingN: 5, nps: f64(20), npsN: 5,
				followUpsHidden: true, campaigns: []campaign{{"C1", 5, 2, f64(40), false}, {"C2-x", 0, 0, nil, true}}},
			{name: "head of 销售部, min 6: only the check-in rate has n ≥ 6", scope: scope("sales", store.RoleDepartmentHead, "销售部", 6), from: weekFrom, to: weekTo, kind: reports.DigestScopeDepartment,
				classes: 2, canc: 1, checkin: f64(62.5), checkinN: 8, responseHidden: true, ratingHidden: true, npsHidden: true,
				followUpsHidden: true, campaigns: []campaign{{"C1", 0, 0, nil, true}, {"C2-x", 0, 0, nil, true}}},
			{name: "head of 销售部, min 2: the follow-ups show", scope: scope("sales", store.RoleDepartmentHead, "销售部", 2), from: weekFrom, to: weekTo, kind: reports.DigestScopeDepartment,
				classes: 2, canc: 1, checkin: f64(62.5), checkinN: 8, response: f64(100), responseN: 5, mean: f64(4.2), top2: f64(80), ratingN: 5, nps: f64(20), npsN: 5,
				asked: 2, open: 1, campaigns: []campaign{{"C1", 5, 2, f64(40), false}, {"C2-x", 2, 1, f64(50), false}}},
			{name: "head of 研发部: every figure below the minimum", scope: scope("rd", store.RoleDepartmentHead, "研发部", 5), from: weekFrom, to: weekTo, kind: reports.DigestScopeDepartment,
				classes: 2, checkinHidden: true, responseHidden: true, ratingHidden: true, npsHidden: true, followUpsHidden: true,
				campaigns: []campaign{{"C1", 0, 0, nil, true}}},
			{name: "empty period", scope: reports.FullScope(), from: weekFrom.AddDate(0, 0, -28), to: weekFrom.AddDate(0, 0, -21), kind: reports.DigestScopeAll,
				asked: 3, open: 2, campaigns: []campaign{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r, err := reports.Digest(ctx, db.DB, tt.scope, tt.from, tt.to, weekTo)
				require.NoError(t, err)
				require.Equal(t, tt.kind, r.Scope)
				require.Equal(t, tt.classes, r.Classes, "classes")
				require.Equal(t, tt.canc, r.Cancelled, "cancelled")
				require.Equal(t, tt.checkinHidden, r.CheckinSuppressed)
				requireValue(t, tt.checkin, r.Checkin.Value, 1, "check-in rate")
				require.Equal(t, tt.checkinN, r.Checkin.N, "check-in n")
				require.Equal(t, tt.responseHidden, r.ResponseSuppressed)
				requireValue(t, tt.response, r.Response.Rate, 1, "response rate")
				require.Equal(t, tt.responseN, r.Response.Eligible, "response n")
				if tt.mean == nil && !tt.ratingHidden {
					for _, d := range r.Dimensions {
						require.Zero(t, d.Rating.N)
					}
				} else {
					require.Len(t, r.Dimensions, 1)
					d := r.Dimensions[0]
					require.Equal(t, "teacher", d.Dimension)
					require.Equal(t, tt.ratingHidden, d.Suppressed)
					requireValue(t, tt.mean, d.Rating.Mean, 9, "mean")
					requireValue(t, tt.top2, d.Rating.Top2Box, 9, "top-2-box")
					require.Equal(t, tt.ratingN, d.Rating.N)
				}
				require.Equal(t, tt.npsHidden, r.NPSSuppressed)
				if tt.nps == nil {
					require.True(t, r.NPS == nil || r.NPS.Score == nil, "no NPS")
				} else {
					requireValue(t, tt.nps, r.NPS.Score, 9, "NPS")
					require.Equal(t, tt.npsN, r.NPS.N)
				}
				require.Equal(t, tt.followUpsHidden, r.FollowUps.Suppressed)
				require.Equal(t, tt.asked, r.FollowUps.Asked, "follow-ups asked")
				require.Equal(t, tt.open, r.FollowUps.Open, "follow-ups open")
				got := make([]campaign, len(r.Campaigns))
				for i, c := range r.Campaigns {
					got[i] = campaign{c.Name, c.Delivered, c.Clicked, c.ClickThrough.Value, c.Suppressed}
				}
				if tt.campaigns == nil {
					tt.campaigns = []campaign{}
				}
				require.Equal(t, tt.campaigns, got)
			})
		}
	})
}

// requireValue compares a figure with its hand-computed value to digits
// decimals (nil: no value).
func requireValue(t *testing.T, want, got *float64, digits int, what string) {
	t.Helper()
	if want == nil {
		require.Nil(t, got, what)
		return
	}
	require.NotNil(t, got, what)
	require.InDelta(t, *want, *got, 0.5*pow10(-digits), what)
}

func pow10(n int) float64 {
	x := 1.0
	for ; n < 0; n++ {
		x /= 10
	}
	return x
}
