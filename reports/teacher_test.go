package reports_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/reports/reportstest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

func TestTeacherCertification(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		sh, _ := time.LoadLocation("Asia/Shanghai")
		c := store.Course{Code: "TT", Title: "讲师课"}
		require.NoError(t, db.Create(&c).Error)
		mk := func(name string) uint64 {
			tc := store.Teacher{Name: name, Internal: true}
			require.NoError(t, db.Create(&tc).Error)
			return tc.ID
		}
		keeps, few, small, low := mk("A 保持"), mk("B 次数不足"), mk("C 人数不足"), mk("D 评分不足")
		day := func(m int) time.Time { return time.Date(2026, time.Month(m), 10, 9, 0, 0, 0, sh) }
		// A: 3 sessions, 30 learners each, ratings 5,4 (4.5) / 5 / 5,5,4 (4.67) → keeps.
		reportstest.TeachSession(t, db, c.ID, keeps, day(2), 30, 1, []float64{5, 4})
		reportstest.TeachSession(t, db, c.ID, keeps, day(5), 30, 1, []float64{5})
		reportstest.TeachSession(t, db, c.ID, keeps, day(9), 31, 1, []float64{5, 5, 4})
		// A session in another year does not count.
		reportstest.TeachSession(t, db, c.ID, few, time.Date(2025, 12, 31, 23, 0, 0, 0, sh), 40, 1, []float64{5})
		reportstest.TeachSession(t, db, c.ID, few, day(3), 40, 1, []float64{5})
		reportstest.TeachSession(t, db, c.ID, few, day(4), 40, 1, []float64{5})
		// C: one session of 29 learners.
		reportstest.TeachSession(t, db, c.ID, small, day(2), 30, 1, []float64{5})
		reportstest.TeachSession(t, db, c.ID, small, day(3), 29, 1, []float64{5})
		reportstest.TeachSession(t, db, c.ID, small, day(4), 30, 1, []float64{5})
		// D: one session rated 4,5 → 4.5 (ok), one 4,4,5 → 4.33 (not), one unrated.
		reportstest.TeachSession(t, db, c.ID, low, day(2), 30, 1, []float64{4, 5})
		reportstest.TeachSession(t, db, c.ID, low, day(3), 30, 1, []float64{4, 4, 5})
		reportstest.TeachSession(t, db, c.ID, low, day(4), 30, 1, nil)

		rep, err := reports.Teachers(context.Background(), db.DB, 2026, sh, time.Now())
		require.NoError(t, err)
		got := map[string]reports.TeacherRow{}
		for _, tr := range rep.Teachers {
			got[tr.Name] = tr
		}
		require.True(t, got["A 保持"].Keeps, got["A 保持"].Reasons)
		require.Len(t, got["A 保持"].Sessions, 3)
		require.InDelta(t, 4.5, *got["A 保持"].Sessions[0].Rating, 1e-9)
		require.False(t, got["B 次数不足"].Keeps)
		require.Len(t, got["B 次数不足"].Sessions, 2, "the 2025 session is outside the year")
		require.Contains(t, got["B 次数不足"].Reasons[0], "少于 3 次")
		require.False(t, got["C 人数不足"].Keeps)
		require.Len(t, got["C 人数不足"].Reasons, 1)
		require.Contains(t, got["C 人数不足"].Reasons[0], "29 人")
		require.False(t, got["D 评分不足"].Keeps)
		require.Len(t, got["D 评分不足"].Reasons, 2)
		require.Contains(t, got["D 评分不足"].Reasons[0], "4.33")
		require.Contains(t, got["D 评分不足"].Reasons[1], "没有讲师评分")

		// The course report flags low check-in and pools ratings: every
		// session here has 30+ of 31 eligible checked in, none is low.
		cr, err := reports.Course(context.Background(), db.DB, c.ID, time.Now())
		require.NoError(t, err)
		require.Len(t, cr.Sessions, 12)
		for _, s := range cr.Sessions {
			require.False(t, s.LowCheckin)
		}
		var teacherDim reports.DimensionRow
		for _, d := range cr.Dimensions {
			if d.Dimension == "teacher" {
				teacherDim = d
			}
		}
		// Pooled teacher ratings: 2+1+3+1+1+1+1+1+1+2+3 = 17 answers.
		require.Equal(t, 17, teacherDim.Rating.N)
	})
}
