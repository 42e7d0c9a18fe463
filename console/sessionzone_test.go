package console_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/reports/reportstest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestSessionTimesInTheSessionZone checks every page and export that shows a
// session's start: each session at 09:00 in its own zone (Shanghai, the
// console's zone, and New York) reads 09:00, never its UTC or
// console-zone clock.
func TestSessionTimesInTheSessionZone(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := newEnv(t, db)
		e.account(t, "li", store.RoleCoordinator, "")
		c := store.Course{Code: "TZ", Title: "时区课", Owner: "li"}
		require.NoError(t, db.Create(&c).Error)
		tc := store.Teacher{Name: "丙讲师", Internal: true}
		require.NoError(t, db.Create(&tc).Error)
		ny, err := time.LoadLocation("America/New_York")
		require.NoError(t, err)
		ratings := []float64{5, 5, 4, 5, 5}
		// 09:00 Shanghai = 01:00 UTC; 09:00 New York = 13:00 UTC = 21:00 Shanghai.
		shStart, nyStart := time.Date(2026, 3, 10, 9, 0, 0, 0, e.sh), time.Date(2026, 3, 10, 9, 0, 0, 0, ny)
		reportstest.TeachSession(t, db, c.ID, tc.ID, shStart, 1, 0, ratings)
		nyID := reportstest.TeachSession(t, db, c.ID, tc.ID, nyStart, 1, 0, ratings)
		require.NoError(t, db.Model(&store.Session{}).Where("id = ?", nyID).Update("time_zone", "America/New_York").Error)

		li := e.client(t)
		li.login("li")
		const layout = "2006-01-02 15:04"
		wrong := []string{shStart.UTC().Format(layout), nyStart.UTC().Format(layout), nyStart.In(e.sh).Format(layout)}
		require.Equal(t, []string{"2026-03-10 01:00", "2026-03-10 13:00", "2026-03-10 21:00"}, wrong)
		for _, tc := range []struct {
			name, path string
			want       int // times the 09:00 start must appear
		}{
			{"home", "/console/", 2},
			{"home csv", "/console/?export=csv&table=sessions", 2},
			{"course", "/console/courses/" + fmt.Sprint(c.ID), 4}, // sessions table + survey sessions table
			{"course csv", "/console/courses/" + fmt.Sprint(c.ID) + "?export=csv&table=sessions", 2},
			{"course survey csv", "/console/courses/" + fmt.Sprint(c.ID) + "?export=csv&table=course-survey-sessions", 2},
			{"teachers", "/console/teachers?year=2026", 2},
			{"teachers csv", "/console/teachers?year=2026&export=csv&table=teacher-sessions", 2},
		} {
			r := li.get(tc.path)
			require.Equal(t, http.StatusOK, r.Code, "%s: %s", tc.name, r.Body)
			body := plain(r.Body)
			if strings.Contains(tc.name, "csv") {
				body = r.Body
			}
			require.Equal(t, tc.want, strings.Count(body, "2026-03-10 09:00"), "%s: %s", tc.name, body)
			for _, w := range wrong {
				require.NotContains(t, body, w, tc.name)
			}
		}
	})
}
