package reports_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestSessionCountsMatchSession checks that the counts the console pages
// show (SessionCounts) are the report's, with and without the on-site rule:
// the fixture's check-ins are card and link taps, remote where on-site
// check-in is required.
func TestSessionCountsMatchSession(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, sdb *storetest.DB) {
		db := sdb.DB
		ctx := context.Background()
		f := seedFixture(t, db)
		for _, onsite := range []bool{false, true} {
			require.NoError(t, db.Save(&store.PresenceSetting{SessionID: f.sessionID, RequireOnsite: onsite, RotateSeconds: 15}).Error)
			rep, err := reports.Session(ctx, db, f.sessionID, start)
			require.NoError(t, err)
			m, err := reports.SessionCounts(ctx, db, []uint64{f.sessionID}, reports.FullScope())
			require.NoError(t, err)
			require.Equal(t, rep.Counts(), m[f.sessionID], "onsite=%v", onsite)
			want := reports.Counts{Roster: 5, Excused: 1, CheckedIn: 3, OnTime: 1, Late: 1, Makeup: 1}
			if onsite {
				want = reports.Counts{Roster: 5, Excused: 1, Remote: 3}
			}
			require.Equal(t, want, m[f.sessionID], "onsite=%v", onsite)
			require.Equal(t, rep.CheckinRate.Value, m[f.sessionID].Rate().Value)
		}
	})
}

// TestCountsAdd is the one attendance rule on its own.
func TestCountsAdd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		a      reports.Attendance
		onsite bool
		state  string
	}{
		{"excused with check-in", reports.Attendance{Enrollment: store.EnrollExcused, CheckedIn: true, Source: store.SourceQR}, false, reports.StateExcused},
		{"no check-in", reports.Attendance{Enrollment: store.EnrollInvited}, true, reports.StateMissing},
		{"card, not on-site", reports.Attendance{Enrollment: store.EnrollInvited, CheckedIn: true, Source: store.SourceCard, Kind: store.CheckinLate}, false, reports.StatePresent},
		{"card, on-site", reports.Attendance{Enrollment: store.EnrollInvited, CheckedIn: true, Source: store.SourceCard}, true, reports.StateRemote},
		{"qr, on-site", reports.Attendance{Enrollment: store.EnrollInvited, CheckedIn: true, Source: store.SourceQR, Kind: store.CheckinOnTime}, true, reports.StatePresent},
		{"manual, on-site", reports.Attendance{Enrollment: store.EnrollInvited, CheckedIn: true, Source: store.SourceManual}, true, reports.StatePresent},
		{"unknown source, on-site", reports.Attendance{Enrollment: store.EnrollInvited, CheckedIn: true, Source: "beacon"}, true, reports.StateRemote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var k reports.Counts
			require.Equal(t, tt.state, k.Add(tt.a, tt.onsite))
			require.Equal(t, 1, k.Roster)
			require.Equal(t, k.Roster, k.Excused+k.CheckedIn+k.Remote+k.Missing())
		})
	}
}

// seedDeptSession writes a course owned by owner with one session whose
// roster has n[dept] invited people per department, the first half of each
// checked in by QR code, and the directory 总部 → 销售部 → 销售一部.
func seedDeptSession(t *testing.T, db *gorm.DB, owner string, n map[string]int) uint64 {
	t.Helper()
	for i, d := range []struct{ id, parent, name string }{{"1", "0", "总部"}, {"2", "1", "销售部"}, {"3", "2", "销售一部"}, {"4", "1", "研发部"}} {
		require.NoError(t, db.Create(&store.DirectoryDepartment{Platform: "wecom", DeptID: d.id, ParentID: d.parent, Name: d.name,
			Path: fmt.Sprint(i), Active: true, SyncedAt: start}).Error)
	}
	course := store.Course{Code: "D-1", Title: "部门课", Owner: owner}
	require.NoError(t, db.Create(&course).Error)
	sess := store.Session{CourseID: course.ID, Title: "一期", StartsAt: start, EndsAt: end, TimeZone: "Asia/Shanghai",
		Locale: "zh-CN", Status: store.SessionPlanned, CheckinOpensBefore: 1800, CheckinGrace: 600, MakeupAfter: 7200}
	require.NoError(t, db.Create(&sess).Error)
	i := 0
	for dept, count := range n {
		for j := range count {
			i++
			e := store.Employee{ExternalID: fmt.Sprintf("d-%03d", i), Name: fmt.Sprint("人", i), Department: dept, Active: true}
			require.NoError(t, db.Create(&e).Error)
			require.NoError(t, db.Create(&store.Enrollment{SessionID: sess.ID, EmployeeID: e.ID, Status: store.EnrollInvited}).Error)
			if j < count/2 {
				require.NoError(t, db.Create(&store.Checkin{SessionID: sess.ID, EmployeeID: e.ID, Kind: store.CheckinOnTime,
					Source: store.SourceQR, CheckedInAt: start}).Error)
			}
		}
	}
	return sess.ID
}

// TestScopeDepartmentSubtree checks that a department head's counts take
// their department and every one below it, are suppressed below the
// minimum group size, and that the actor's rights pick the sessions.
func TestScopeDepartmentSubtree(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, sdb *storetest.DB) {
		db := sdb.DB
		ctx := context.Background()
		id := seedDeptSession(t, db, "alice", map[string]int{"销售部": 4, "销售一部": 2, "研发部": 10})
		head := reports.Actor{Username: "h", Role: store.RoleDepartmentHead}
		tests := []struct {
			name  string
			actor reports.Actor
			dept  string
			min   int
			want  reports.Counts
			sees  bool
		}{
			{"system", reports.Actor{}, "", 5, reports.Counts{Roster: 16, CheckedIn: 8, OnTime: 8}, true},
			{"owner", reports.Actor{Username: "alice", Role: store.RoleCoordinator}, "", 5, reports.Counts{Roster: 16, CheckedIn: 8, OnTime: 8}, true},
			{"other coordinator", reports.Actor{Username: "bob", Role: store.RoleCoordinator}, "", 5, reports.Counts{Roster: 16, CheckedIn: 8, OnTime: 8}, false},
			{"head of the subtree", head, "销售部", 5, reports.Counts{Roster: 6, CheckedIn: 3, OnTime: 3}, true},
			{"head of the subtree, min 7", head, "销售部", 7, reports.Counts{Suppressed: true}, true},
			{"head of a leaf below the minimum", head, "销售一部", 5, reports.Counts{Suppressed: true}, true},
			{"head of the root", head, "总部", 5, reports.Counts{Roster: 16, CheckedIn: 8, OnTime: 8}, true},
			{"head of an unknown department", head, "财务部", 5, reports.Counts{Suppressed: true}, false},
			{"head without a department", head, "", 5, reports.Counts{Suppressed: true}, false},
		}
		for _, tt := range tests {
			scope, err := reports.NewScope(ctx, db, tt.actor, tt.dept, tt.min)
			require.NoError(t, err)
			m, err := reports.SessionCounts(ctx, db, []uint64{id}, scope)
			require.NoError(t, err)
			require.Equal(t, tt.want, m[id], tt.name)
			var n int64
			require.NoError(t, scope.Sessions(db, db.Table("sessions")).Where("sessions.id = ?", id).Count(&n).Error)
			require.Equal(t, tt.sees, n == 1, tt.name)
		}
	})
}
