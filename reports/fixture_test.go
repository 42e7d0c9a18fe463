package reports_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
)

// Fixture times, all UTC. The session runs 09:00–12:00 Asia/Shanghai on
// 2026-03-02, i.e. 01:00–04:00 UTC.
var (
	start = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	end   = start.Add(3 * time.Hour)
	at    = func(day, h, m int) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, time.UTC) }
)

// fixture is the hand-built session of the figures test.
type fixture struct {
	sessionID uint64
	emp       map[string]uint64 // E1..E6 → employee id
	tp1, tp2  uint64            // reminder (run_at start−24h), check-in prompt (start−15m)
}

// seedFixture writes the session the figures test computes by hand:
//
//	E1 invited  on_time 00:55  clicked TP1 twice (day before), then TP2 00:50 → credit TP2
//	E2 invited  late    01:30  clicked TP1 01:20                           → credit TP1
//	E3 invited  makeup  05:00  clicked TP1 25h before (outside 24h) and 05:10 (after check-in) → none
//	E4 invited  —              clicked TP2 00:48, never checked in
//	E5 excused  —              (did not check in)
//	E6 cancelled on_time 00:58 (not on the roster: not counted)
func seedFixture(t *testing.T, db *gorm.DB) fixture {
	t.Helper()
	teacher := store.Teacher{Name: "王老师", Internal: true}
	require.NoError(t, db.Create(&teacher).Error)
	course := store.Course{Code: "LEAD-101", Title: "领导力基础", Category: "soft_skills", TargetLevel: 3}
	require.NoError(t, db.Create(&course).Error)
	sess := store.Session{
		CourseID: course.ID, Title: "第一期", StartsAt: start, EndsAt: end, Location: "A座301",
		TeacherID: &teacher.ID, TimeZone: "Asia/Shanghai", Locale: "zh-CN", Status: store.SessionPlanned,
		CheckinOpensBefore: 1800, CheckinGrace: 600, MakeupAfter: 7200,
	}
	require.NoError(t, db.Create(&sess).Error)

	f := fixture{sessionID: sess.ID, emp: map[string]uint64{}}
	people := []struct{ key, name, dept, status string }{
		{"E1", "张三", "销售部", store.EnrollInvited},
		{"E2", "李四", "销售部", store.EnrollInvited},
		{"E3", "王五", "研发部", store.EnrollInvited},
		{"E4", "赵六", "研发部", store.EnrollInvited},
		{"E5", "钱七", "财务部", store.EnrollExcused},
		{"E6", "孙八", "财务部", store.EnrollCancelled},
	}
	for i, p := range people {
		e := store.Employee{ExternalID: fmt.Sprintf("emp-%02d", i+1), Name: p.name, Department: p.dept, Active: true}
		require.NoError(t, db.Create(&e).Error)
		f.emp[p.key] = e.ID
		require.NoError(t, db.Create(&store.Enrollment{SessionID: sess.ID, EmployeeID: e.ID, Status: p.status}).Error)
	}

	checkins := []struct {
		key, kind, source string
		at                time.Time
	}{
		{"E1", store.CheckinOnTime, store.SourceCard, at(2, 0, 55)},
		{"E2", store.CheckinLate, store.SourceLink, at(2, 1, 30)},
		{"E3", store.CheckinMakeup, store.SourceCard, at(2, 5, 0)},
		{"E6", store.CheckinOnTime, store.SourceManual, at(2, 0, 58)},
	}
	for _, c := range checkins {
		require.NoError(t, db.Create(&store.Checkin{SessionID: sess.ID, EmployeeID: f.emp[c.key], Kind: c.kind,
			Source: c.source, CheckedInAt: c.at}).Error)
	}

	// TP2 is inserted first so that id order differs from run_at order.
	fired2, fired1 := start.Add(-15*time.Minute), start.Add(-24*time.Hour)
	tp2 := store.Touchpoint{SessionID: sess.ID, Kind: "checkin_prompt", Anchor: store.AnchorStart, Offset: -900,
		Audience: store.AudienceAll, Template: "checkin", Status: store.TouchpointFired, RunAt: fired2, FiredAt: &fired2}
	require.NoError(t, db.Create(&tp2).Error)
	tp1 := store.Touchpoint{SessionID: sess.ID, Kind: "reminder", Anchor: store.AnchorStart, Offset: -86400,
		Audience: store.AudienceAll, Template: "reminder", Status: store.TouchpointFired, RunAt: fired1, FiredAt: &fired1}
	require.NoError(t, db.Create(&tp1).Error)
	f.tp1, f.tp2 = tp1.ID, tp2.ID

	deliveries := map[string]uint64{} // "TPn/Ek" → delivery id
	deliver := func(tp uint64, name, key, platform, status, code, msg string) {
		d := store.Delivery{TouchpointID: tp, Occurrence: "0", EmployeeID: f.emp[key], SessionID: sess.ID,
			Key: fmt.Sprintf("%d-%s", tp, key), Platform: platform, UserID: "u-" + key, Status: status,
			ErrorCode: code, ErrorMessage: msg}
		require.NoError(t, db.Create(&d).Error)
		deliveries[name+"/"+key] = d.ID
	}
	deliver(tp1.ID, "TP1", "E1", "wecom", store.DeliverySent, "", "")
	deliver(tp1.ID, "TP1", "E2", "wecom", store.DeliverySent, "", "")
	deliver(tp1.ID, "TP1", "E3", "feishu", store.DeliverySent, "", "")
	deliver(tp1.ID, "TP1", "E4", "wecom", store.DeliveryFailed, "81013", "user not found")
	deliver(tp1.ID, "TP1", "E5", "wecom", store.DeliveryDropped, "45009", "api freq out of limit")
	deliver(tp1.ID, "TP1", "E6", "wecom", store.DeliveryFailed, "81013", "user not found")
	deliver(tp2.ID, "TP2", "E1", "wecom", store.DeliverySent, "", "")
	deliver(tp2.ID, "TP2", "E2", "wecom", store.DeliverySent, "", "")
	deliver(tp2.ID, "TP2", "E3", "feishu", store.DeliverySending, "", "")
	deliver(tp2.ID, "TP2", "E4", "wecom", store.DeliverySent, "", "")
	deliver(tp2.ID, "TP2", "E5", "wecom", store.DeliveryDropped, "", "")

	click := func(tp uint64, name, key string, when time.Time) {
		require.NoError(t, db.Create(&store.Click{DeliveryID: deliveries[name+"/"+key], TouchpointID: tp,
			EmployeeID: f.emp[key], UAClass: "in-app", Platform: "wecom", ClickedAt: when}).Error)
	}
	click(tp1.ID, "TP1", "E1", at(1, 2, 0))
	click(tp1.ID, "TP1", "E1", at(1, 3, 0)) // repeated click by the same person
	click(tp1.ID, "TP1", "E2", at(2, 1, 20))
	click(tp1.ID, "TP1", "E3", at(1, 4, 0))  // 25h before E3's check-in: outside the 24h window
	click(tp1.ID, "TP1", "E3", at(2, 5, 10)) // after E3's check-in: no conversion
	click(tp2.ID, "TP2", "E1", at(2, 0, 50)) // E1's last click before check-in
	click(tp2.ID, "TP2", "E4", at(2, 0, 48))
	return f
}

// seedRoster writes a session with eligible invited people (the first
// checked of them checked in on time) and excused excused people.
func seedRoster(t testing.TB, db *gorm.DB, eligible, checked, excused int) uint64 {
	t.Helper()
	course := store.Course{Code: "C-" + fmt.Sprint(eligible, "-", checked, "-", excused), Title: "合规培训"}
	require.NoError(t, db.Create(&course).Error)
	sess := store.Session{CourseID: course.ID, Title: "批量", StartsAt: start, EndsAt: end,
		TimeZone: "Asia/Shanghai", Locale: "zh-CN", Status: store.SessionPlanned,
		CheckinOpensBefore: 1800, CheckinGrace: 600, MakeupAfter: 7200}
	require.NoError(t, db.Create(&sess).Error)
	total := eligible + excused
	if total == 0 {
		return sess.ID
	}
	emps := make([]store.Employee, total)
	for i := range emps {
		emps[i] = store.Employee{ExternalID: fmt.Sprintf("s%d-%05d", sess.ID, i), Name: fmt.Sprintf("学员%05d", i), Department: "运营部", Active: true}
	}
	require.NoError(t, db.CreateInBatches(&emps, 500).Error)
	ens := make([]store.Enrollment, total)
	var cks []store.Checkin
	for i, e := range emps {
		status := store.EnrollInvited
		if i >= eligible {
			status = store.EnrollExcused
		}
		ens[i] = store.Enrollment{SessionID: sess.ID, EmployeeID: e.ID, Status: status}
		if i < checked {
			cks = append(cks, store.Checkin{SessionID: sess.ID, EmployeeID: e.ID, Kind: store.CheckinOnTime,
				Source: store.SourceCard, CheckedInAt: start.Add(-time.Minute)})
		}
	}
	require.NoError(t, db.CreateInBatches(&ens, 500).Error)
	if len(cks) > 0 {
		require.NoError(t, db.CreateInBatches(&cks, 500).Error)
	}
	return sess.ID
}
