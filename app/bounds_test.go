package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestAPIBoundsAnswer422NamingTheField: text longer than its column, dates
// out of range, windows and offsets that would overflow, URLs that are not
// URLs and non-IANA zones are refused with 422 naming the field, and change
// nothing; a note at the limit is stored whole.
func TestAPIBoundsAnswer422NamingTheField(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		s := b.plan(t)
		sid := u(s.ID)
		sess := "/api/v1/sessions/" + sid
		long := func(n int) string { return strings.Repeat("长", n) }
		newSession := func(kv ...any) map[string]any {
			m := map[string]any{"course_id": 1, "starts_at": "2026-03-02T10:00:00+08:00", "ends_at": "2026-03-02T12:00:00+08:00", "time_zone": "Asia/Shanghai"}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		}
		audits := count(t, db, &store.AuditLog{})
		cases := []struct {
			name, method, path string
			body               any
			field              string
		}{
			{"course category", "POST", "/api/v1/courses", map[string]any{"code": "C2", "title": "T", "category": long(65)}, "category"},
			{"course owner", "POST", "/api/v1/courses", map[string]any{"code": "C2", "title": "T", "owner": strings.Repeat("o", 65)}, "owner"},
			{"course title in characters", "PATCH", "/api/v1/courses/1", map[string]any{"title": long(256)}, "title"},
			{"location", "POST", "/api/v1/sessions", newSession("location", long(256)), "location"},
			{"teacher", "POST", "/api/v1/sessions", newSession("teacher", long(129)), "teacher"},
			{"url without host", "PATCH", sess, map[string]any{"online_url": "https://"}, "online_url"},
			{"url with a space", "PATCH", sess, map[string]any{"online_url": "https://meet.example.com/a b"}, "online_url"},
			{"url with CR LF", "PATCH", sess, map[string]any{"online_url": "https://meet.example.com/\r\nSet-Cookie: x"}, "online_url"},
			{"url scheme", "PATCH", sess, map[string]any{"online_url": "javascript://x.com/%0aalert(1)"}, "online_url"},
			{"year 9999", "POST", "/api/v1/sessions", newSession("starts_at", "9999-03-02T10:00:00+08:00", "ends_at", "9999-03-02T12:00:00+08:00"), "starts_at"},
			{"Local zone", "PATCH", sess, map[string]any{"time_zone": "Local"}, "time_zone"},
			{"window overflow", "PATCH", sess, map[string]any{"checkin": map[string]any{"opens_before_minutes": int64(153722867280912931)}}, "checkin.opens_before_minutes"},
			{"window over 30 days", "PATCH", sess, map[string]any{"checkin": map[string]any{"makeup_after_minutes": 43201}}, "checkin.makeup_after_minutes"},
			{"offset overflow", "POST", sess + "/touchpoints", map[string]any{"kind": "reminder", "offset_minutes": int64(-153722867280912931)}, "offset_minutes"},
			{"offset over 90 days", "POST", sess + "/touchpoints", map[string]any{"kind": "reminder", "offset_minutes": 129601}, "offset_minutes"},
			{"touchpoint at year 9999", "POST", sess + "/touchpoints", map[string]any{"kind": "custom", "note": "x", "anchor": "absolute", "at": "9999-01-01T00:00:00Z"}, "at"},
			{"touchpoint note", "POST", sess + "/touchpoints", map[string]any{"kind": "custom", "note": long(256)}, "note"},
			{"excuse note", "POST", sess + "/excuse", map[string]any{"external_id": "E001", "note": long(256)}, "note"},
			{"manual check-in note", "POST", sess + "/checkins", map[string]any{"external_id": "E001", "note": long(256)}, "note"},
		}
		for _, tc := range cases {
			var e apiErr
			require.Equal(t, http.StatusUnprocessableEntity, b.call(t, tc.method, tc.path, "", tc.body, &e), tc.name)
			var fields []string
			for _, fe := range e.Errors {
				fields = append(fields, fe.Field)
			}
			require.Contains(t, fields, tc.field, tc.name)
		}
		require.EqualValues(t, 1, count(t, db, &store.Course{}))
		require.EqualValues(t, 1, count(t, db, &store.Session{}))
		require.EqualValues(t, 0, count(t, db, &store.Checkin{}))
		require.Equal(t, audits, count(t, db, &store.AuditLog{}))
		var got store.Session
		require.NoError(t, db.First(&got, s.ID).Error)
		require.Equal(t, "Asia/Shanghai", got.TimeZone)
		require.Empty(t, got.OnlineURL)

		// At the limit: stored whole, never cut inside a character.
		note := long(255)
		require.Equal(t, http.StatusOK, b.call(t, "POST", sess+"/excuse", "", map[string]any{"external_id": "E001", "note": note}, nil))
		var enr store.Enrollment
		require.NoError(t, db.Joins("JOIN employees ON employees.id = enrollments.employee_id").Where("employees.external_id = ?", "E001").First(&enr).Error)
		require.Equal(t, note, enr.Note)
		require.Equal(t, http.StatusOK, b.call(t, "PATCH", sess, "", map[string]any{"online_url": "https://meet.example.com/j/123?pwd=a%20b"}, nil))
	})
}
