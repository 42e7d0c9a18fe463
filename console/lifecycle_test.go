package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestSessionStageAndCopy: a session shows 即将开始 / 进行中 / 已结束 from its
// times (计划中 never), the board after check-in has closed offers no
// reminder and no tap-style check-in, and "copy as next session" makes the
// next one a week later (editable) with the plan, surveys and roster.
func TestSessionStageAndCopy(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newWorld(t, db)
		li := w.li
		stage := func(path string) string {
			r := li.get(path)
			require.Equal(t, http.StatusOK, r.Code)
			require.NotContains(t, r.Body, "计划中")
			i := strings.Index(r.Body, `id="session-stage">`)
			require.GreaterOrEqual(t, i, 0, "no stage badge")
			rest := r.Body[i+len(`id="session-stage">`):]
			return rest[:strings.Index(rest, "<")]
		}
		w.e.clk.Set(t0) // 09:00, the class is 10:00–12:00 Shanghai
		require.Equal(t, "即将开始", stage(w.sessA))
		w.e.clk.Set(t0.Add(90 * time.Minute))
		require.Equal(t, "进行中", stage(w.sessA+"/board"))
		w.e.clk.Set(t0.Add(3*time.Hour + time.Minute))
		require.Equal(t, "已结束", stage(w.sessA))
		r := li.get(w.courseA)
		require.Contains(t, r.Body, "已结束")

		// After the make-up window (24 h) nothing on the board asks the impossible.
		w.e.clk.Set(t0.Add(28 * time.Hour))
		li.login("li") // signed out after 12 hours
		w.wng.login("wang")
		r = li.get(w.sessA + "/board")
		require.NotContains(t, r.Body, `id="remind-missing"`)
		require.NotContains(t, r.Body, `class="small checkin-btn"`)
		require.Contains(t, r.Body, "签到已结束")
		require.NotContains(t, r.Body, `<option value="">`, "a manual check-in must name its kind")
		r = li.post(w.sessA+"/remind", url.Values{"confirmed": {"1"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)

		// Copy as the next session: a week later by default.
		r = li.get(w.sessA + "/copy")
		require.Equal(t, http.StatusOK, r.Code)
		require.Contains(t, r.Body, `value="2026-03-09T10:00"`)
		require.Contains(t, r.Body, `value="2026-03-09T12:00"`)
		var src store.Session
		require.NoError(t, db.First(&src, sessID(w.sessA)).Error)
		before := snapshot(t, db)
		r = li.post(w.sessA+"/copy", url.Values{"title": {"ALPHA 第二期"}, "starts_at": {"2026-03-10T14:00"}, "ends_at": {"2026-03-10T13:00"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code, "ends before it starts")
		require.Equal(t, before, snapshot(t, db), "nothing changed")
		r = w.wng.post(w.sessA+"/copy", url.Values{"title": {"x"}, "starts_at": {"2026-03-10T14:00"}, "ends_at": {"2026-03-10T16:00"}})
		require.Equal(t, http.StatusNotFound, r.Code, "another coordinator's session")
		r = li.post(w.sessA+"/copy", url.Values{"title": {"ALPHA 第二期"}, "starts_at": {"2026-03-10T14:00"}, "ends_at": {"2026-03-10T16:00"}})
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
		require.Contains(t, r.Location, "ok=session_copied")
		var dst store.Session
		require.NoError(t, db.First(&dst, sessID(r.Location)).Error)
		require.Equal(t, src.CourseID, dst.CourseID)
		require.Equal(t, "ALPHA 第二期", dst.Title)
		require.Equal(t, time.Date(2026, 3, 10, 6, 0, 0, 0, time.UTC), dst.StartsAt.UTC())
		count := func(model any, sid uint64) int64 {
			var n int64
			require.NoError(t, db.Model(model).Where("session_id = ?", sid).Count(&n).Error)
			return n
		}
		require.Equal(t, count(&store.Enrollment{}, src.ID), count(&store.Enrollment{}, dst.ID))
		require.Equal(t, count(&store.Survey{}, src.ID), count(&store.Survey{}, dst.ID))
		require.Equal(t, count(&store.Touchpoint{}, src.ID), count(&store.Touchpoint{}, dst.ID))
		require.Zero(t, count(&store.Checkin{}, dst.ID))
		var first store.Touchpoint
		require.NoError(t, db.Where("session_id = ? AND status = ?", dst.ID, store.TouchpointScheduled).Order("run_at").First(&first).Error)
		require.True(t, first.RunAt.After(dst.StartsAt.Add(-25*time.Hour)), "the copied plan runs around the new session")
		require.Equal(t, "即将开始", stage(r.Location))
		var n int64
		require.NoError(t, db.Model(&store.AuditLog{}).Where("actor = ? AND action = ?", "li", "session.copy").Count(&n).Error)
		require.EqualValues(t, 1, n)
	})
}
