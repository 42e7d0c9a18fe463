package bench

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/directory"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// benchDirectory is an in-memory company of people and depts departments:
// a tree ten wide, everyone with a 工号, mobile, e-mail and a manager (the
// first member of their department, whose own manager is the first member
// of the parent department).
type benchDirectory struct {
	depts  []directory.Department
	people []directory.Person
}

func newBenchDirectory(people, depts int) *benchDirectory {
	d := &benchDirectory{}
	for i := range depts {
		dep := directory.Department{ID: fmt.Sprint(i + 1), Name: fmt.Sprintf("部门%04d", i)}
		if i > 0 {
			dep.ParentID = fmt.Sprint((i-1)/10 + 1)
		}
		d.depts = append(d.depts, dep)
	}
	head := func(dept int) string { return fmt.Sprintf("u%06d", dept) } // person i < depts heads department i
	for i := range people {
		dept := i % depts
		p := directory.Person{UserID: fmt.Sprintf("u%06d", i), EmployeeNo: fmt.Sprintf("E%06d", i), Name: fmt.Sprintf("员工%06d", i),
			Title: "工程师", City: "上海", Mobile: fmt.Sprintf("139%08d", i), Email: fmt.Sprintf("e%06d@corp.example", i),
			DeptIDs: []string{d.depts[dept].ID}, Active: true}
		switch {
		case i >= depts:
			p.ManagerID = head(dept)
		case dept > 0:
			p.ManagerID = head((dept - 1) / 10)
		}
		d.people = append(d.people, p)
	}
	return d
}

func (d *benchDirectory) Platform() string { return "wecom" }
func (d *benchDirectory) Departments(context.Context) ([]directory.Department, error) {
	return d.depts, nil
}
func (d *benchDirectory) People(context.Context, []directory.Department, func(string, error)) ([]directory.Person, error) {
	return d.people, nil
}

// BenchmarkDirectorySync: a first sync of a LEARNLOOP_BENCH_DIRECTORY
// (default 20,000) person, 1,000-department directory into an empty
// database, against a bare bulk upsert of the same employee rows; then a
// re-sync that must change nothing (timed and reported on its own). Each
// round uses fresh databases. Peak RSS is per round where the kernel allows
// resetting it.
func BenchmarkDirectorySync(b *testing.B) {
	n := envInt("LEARNLOOP_BENCH_DIRECTORY", 20000)
	src := newBenchDirectory(n, 1000)
	quiet := slog.New(slog.DiscardHandler)
	for range b.N {
		var rss, resync []float64
		perRound := true
		interleave(b, comparison{
			Title: fmt.Sprintf("directory sync: %d people, %d departments, empty database (%s)", n, len(src.depts), driver()),
			Unit:  "s", Base: "bare bulk upsert of the employees", Prod: "first directory sync",
			BaseMetric: "bulk_upsert_s", ProdMetric: "sync_s", Target: "completes; a re-sync changes nothing",
		}, func(int) float64 {
			db := storetest.Open(b, driver())
			rows := make([]store.Employee, n)
			for i, p := range src.people {
				rows[i] = store.Employee{ExternalID: p.EmployeeNo, Name: p.Name, Department: "部门", Title: p.Title, City: p.City,
					Mobile: p.Mobile, Email: p.Email, WecomID: p.UserID, ManagerID: p.ManagerID, Active: true}
			}
			t0 := time.Now()
			require.NoError(b, db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "external_id"}}, UpdateAll: true}).CreateInBatches(&rows, 500).Error)
			return time.Since(t0).Seconds()
		}, func(int) float64 {
			db := storetest.Open(b, driver())
			s := directory.NewSyncer(db.DB, directory.Options{Logger: quiet})
			runtime.GC()
			perRound = resetPeakRSS() && perRound
			t0 := time.Now()
			rep, err := s.Sync(context.Background(), src, directory.RunOptions{})
			el := time.Since(t0)
			require.NoError(b, err)
			require.Equal(b, n, rep.Created)
			require.Zero(b, rep.Failures)
			rss = append(rss, peakRSS())
			var linked int64
			require.NoError(b, db.Model(&store.Employee{}).Where("wecom_id <> '' AND manager_id <> ''").Count(&linked).Error)
			require.EqualValues(b, n-1, linked, "everyone but the root head has a manager")

			t1 := time.Now()
			rep, err = s.Sync(context.Background(), src, directory.RunOptions{})
			resync = append(resync, time.Since(t1).Seconds())
			require.NoError(b, err)
			require.False(b, rep.Changed(), "a re-sync changes nothing")
			require.Empty(b, rep.Changes)
			return el.Seconds()
		})
		summary(b, "re-sync, nothing changed (s)", "resync_s", resync)
		label := "peak RSS during the first sync (MB)"
		if !perRound {
			label = "peak RSS of the process (MB, no per-round reset)"
		}
		summary(b, label, "peak_rss_MB", rss)
	}
}
