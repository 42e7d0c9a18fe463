package reports_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// BenchmarkSessionReport10k times the report of a 10,000-person session
// (design target: ≤ 200 ms on MariaDB). It runs on SQLite, and on MariaDB/MySQL
// too when LEARNLOOP_TEST_MYSQL_DSN is set and reachable.
func BenchmarkSessionReport10k(b *testing.B) {
	drivers := []string{store.DriverSQLite}
	if dsn := os.Getenv("LEARNLOOP_TEST_MYSQL_DSN"); dsn != "" {
		db, err := store.Open(context.Background(), store.DriverMySQL, dsn, store.Options{MaxOpenConns: 1})
		if err == nil {
			_ = store.Close(db)
			drivers = append(drivers, store.DriverMySQL)
		} else {
			b.Logf("MySQL unreachable, SQLite only: %v", err)
		}
	} else {
		b.Log("LEARNLOOP_TEST_MYSQL_DSN unset: SQLite only")
	}
	for _, driver := range drivers {
		b.Run(driver, func(b *testing.B) {
			db := storetest.Open(b, driver)
			id := seed10k(b, db.DB, 10_000)
			ctx := context.Background()
			var r *reports.SessionReport
			for b.Loop() {
				var err error
				r, err = reports.Session(ctx, db.DB, id, time.Now())
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if r.Roster != 9_900 || len(r.Attendees) != r.Roster || len(r.Touchpoints) != 3 {
				b.Fatalf("unexpected report: roster %d, attendees %d, touchpoints %d", r.Roster, len(r.Attendees), len(r.Touchpoints))
			}
			reportMS := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
			// Baseline from the same run: the bare read of the roster the
			// report must list (one joined SELECT of the enrolled people).
			var baseline time.Duration
			const reps = 5
			for range reps {
				var rows []struct {
					ExternalID, Name, Department, Status string
				}
				t0 := time.Now()
				require.NoError(b, db.Table("enrollments").Select("employees.external_id, employees.name, employees.department, enrollments.status").
					Joins("JOIN employees ON employees.id = enrollments.employee_id").Where("enrollments.session_id = ?", id).Scan(&rows).Error)
				baseline += time.Since(t0)
			}
			baseMS := float64(baseline.Microseconds()) / 1000 / reps
			b.ReportMetric(reportMS, "report_ms")
			b.ReportMetric(baseMS, "bare_roster_read_ms")
			fmt.Printf("session report, 10,000 people (%s): %.0f ms (target ≤ 200 ms on MariaDB) vs bare roster read %.0f ms → ×%.1f\n",
				driver, reportMS, baseMS, reportMS/baseMS)
		})
	}
}

// seed10k writes a session with n enrollments (1% cancelled, 5% excused), about
// 70% of them checked in, three touchpoints with one delivery per person each
// (mostly sent, some failed, dropped or pending) and clicks on most sent
// deliveries, all with batched inserts.
func seed10k(b *testing.B, db *gorm.DB, n int) uint64 {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	course := store.Course{Code: "BENCH", Title: "基准课程"}
	require.NoError(b, db.Create(&course).Error)
	sess := store.Session{CourseID: course.ID, Title: "万人场", StartsAt: start, EndsAt: end,
		TimeZone: "Asia/Shanghai", Locale: "zh-CN", Status: store.SessionPlanned,
		CheckinOpensBefore: 1800, CheckinGrace: 600, MakeupAfter: 86400}
	require.NoError(b, db.Create(&sess).Error)

	depts := []string{"销售部", "研发部", "财务部", "运营部", "人力资源部"}
	emps := make([]store.Employee, n)
	for i := range emps {
		emps[i] = store.Employee{ExternalID: fmt.Sprintf("E%06d", i), Name: fmt.Sprintf("员工%06d", i),
			Department: depts[i%len(depts)], Platform: "wecom", WecomID: fmt.Sprintf("wx%06d", i), Active: true}
	}
	require.NoError(b, db.CreateInBatches(&emps, 1000).Error)

	ens := make([]store.Enrollment, n)
	var cks []store.Checkin
	checkinAt := map[uint64]time.Time{}
	for i, e := range emps {
		status := store.EnrollInvited
		switch {
		case i%100 == 0:
			status = store.EnrollCancelled
		case i%20 == 1:
			status = store.EnrollExcused
		}
		ens[i] = store.Enrollment{SessionID: sess.ID, EmployeeID: e.ID, Status: status}
		if rng.Float64() < 0.7 {
			var kind string
			var when time.Time
			switch p := rng.Float64(); {
			case p < 0.7:
				kind, when = store.CheckinOnTime, start.Add(-time.Duration(rng.IntN(1800))*time.Second)
			case p < 0.9:
				kind, when = store.CheckinLate, start.Add(time.Duration(600+rng.IntN(3600))*time.Second)
			default:
				kind, when = store.CheckinMakeup, end.Add(time.Duration(rng.IntN(80000))*time.Second)
			}
			cks = append(cks, store.Checkin{SessionID: sess.ID, EmployeeID: e.ID, Kind: kind, Source: store.SourceCard, CheckedInAt: when})
			checkinAt[e.ID] = when
		}
	}
	require.NoError(b, db.CreateInBatches(&ens, 1000).Error)
	require.NoError(b, db.CreateInBatches(&cks, 1000).Error)

	runs := []time.Time{start.Add(-24 * time.Hour), start.Add(-15 * time.Minute), end.Add(time.Hour)}
	for ti, runAt := range runs {
		ra := runAt
		tp := store.Touchpoint{SessionID: sess.ID, Kind: fmt.Sprintf("kind%d", ti), Anchor: store.AnchorStart,
			Audience: store.AudienceAll, Template: "t", Status: store.TouchpointFired, RunAt: ra, FiredAt: &ra}
		require.NoError(b, db.Create(&tp).Error)
		ds := make([]store.Delivery, n)
		for i, e := range emps {
			status, code, msg := store.DeliverySent, "", ""
			switch p := rng.Float64(); {
			case p < 0.03:
				status, code, msg = store.DeliveryFailed, "81013", "user not found"
			case p < 0.05:
				status, code, msg = store.DeliveryFailed, "45009", "api freq out of limit"
			case p < 0.07:
				status = store.DeliveryDropped
			case p < 0.08:
				status = store.DeliveryPending
			}
			ds[i] = store.Delivery{TouchpointID: tp.ID, Occurrence: "0", EmployeeID: e.ID, SessionID: sess.ID,
				Key: fmt.Sprintf("%d-%d", tp.ID, e.ID), Platform: "wecom", UserID: e.WecomID, Status: status,
				ErrorCode: code, ErrorMessage: msg}
		}
		require.NoError(b, db.CreateInBatches(&ds, 1000).Error)
		var cl []store.Click
		for _, d := range ds {
			if d.Status != store.DeliverySent || rng.Float64() > 0.5 {
				continue
			}
			when := runAt.Add(time.Duration(rng.IntN(7200)) * time.Second)
			if ck, ok := checkinAt[d.EmployeeID]; ok && rng.Float64() < 0.8 && ck.After(runAt) {
				when = runAt.Add(time.Duration(rng.Int64N(int64(ck.Sub(runAt)/time.Second)+1)) * time.Second)
			}
			for k := 0; k < 1+rng.IntN(2); k++ {
				cl = append(cl, store.Click{DeliveryID: d.ID, TouchpointID: tp.ID, EmployeeID: d.EmployeeID,
					UAClass: "in-app", Platform: "wecom", ClickedAt: when.Add(time.Duration(k) * time.Minute)})
			}
		}
		require.NoError(b, db.CreateInBatches(&cl, 1000).Error)
	}
	// Fresh tables have no statistics yet; production ones do.
	for _, table := range []string{"employees", "enrollments", "checkins", "touchpoints", "deliveries", "clicks"} {
		if store.IsMySQL(db) {
			require.NoError(b, db.Exec("ANALYZE TABLE "+table).Error)
		} else {
			require.NoError(b, db.Exec("ANALYZE "+table).Error)
		}
	}
	return sess.ID
}
