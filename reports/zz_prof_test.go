package reports

import (
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store/storetest"
)

var SeedHook func(b *testing.B, db *gorm.DB, n int) uint64

var profQueries = map[string]string{
	"deliv": `SELECT d.touchpoint_id, d.platform, d.status, COUNT(*) FROM deliveries d JOIN touchpoints t ON t.id = d.touchpoint_id WHERE t.session_id = ? GROUP BY d.touchpoint_id, d.platform, d.status`,
	"delivmerged": `SELECT d.touchpoint_id, d.platform, d.status, d.error_code, d.error_message, COUNT(*) FROM deliveries d JOIN touchpoints t ON t.id = d.touchpoint_id WHERE t.session_id = ? GROUP BY d.touchpoint_id, d.platform, d.status, d.error_code, d.error_message`,
	"delivraw": `SELECT d.touchpoint_id, d.platform, d.status, d.error_code, d.error_message FROM deliveries d JOIN touchpoints t ON t.id = d.touchpoint_id WHERE t.session_id = ?`,
	"errors": `SELECT d.touchpoint_id, d.platform, COALESCE(d.error_code, ''), COALESCE(d.error_message, ''), COUNT(*) FROM deliveries d JOIN touchpoints t ON t.id = d.touchpoint_id WHERE t.session_id = ? AND d.status IN ('failed','dropped') AND (COALESCE(d.error_code, '') <> '' OR COALESCE(d.error_message, '') <> '') GROUP BY d.touchpoint_id, d.platform, d.error_code, d.error_message`,
	"clicks": `SELECT c.touchpoint_id, COUNT(*), COUNT(DISTINCT c.employee_id) FROM clicks c JOIN touchpoints t ON t.id = c.touchpoint_id WHERE t.session_id = ? GROUP BY c.touchpoint_id`,
	"conv": `SELECT x.touchpoint_id, x.clicked_at, x.checked_in_at FROM (
  SELECT c.touchpoint_id, c.clicked_at, k.checked_in_at,
    ROW_NUMBER() OVER (PARTITION BY c.employee_id ORDER BY c.clicked_at DESC, c.touchpoint_id DESC, c.id DESC) AS rn
  FROM clicks c
  JOIN touchpoints t ON t.id = c.touchpoint_id
  JOIN checkins k ON k.session_id = t.session_id AND k.employee_id = c.employee_id
  JOIN enrollments e ON e.session_id = k.session_id AND e.employee_id = k.employee_id
  WHERE t.session_id = ? AND e.status NOT IN ('excused','cancelled') AND c.clicked_at <= k.checked_in_at
) x WHERE x.rn = 1`,
	"clickpairs": `SELECT c.employee_id, c.touchpoint_id, COUNT(*), MAX(CASE WHEN e.employee_id IS NOT NULL AND c.clicked_at <= k.checked_in_at THEN c.clicked_at END), MAX(k.checked_in_at)
  FROM clicks c
  JOIN touchpoints t ON t.id = c.touchpoint_id
  LEFT JOIN checkins k ON k.session_id = t.session_id AND k.employee_id = c.employee_id
  LEFT JOIN enrollments e ON e.session_id = k.session_id AND e.employee_id = k.employee_id AND e.status NOT IN ('excused','cancelled')
  WHERE t.session_id = ? GROUP BY c.employee_id, c.touchpoint_id`,
	"clicksraw": `SELECT c.employee_id, c.touchpoint_id, c.clicked_at FROM clicks c JOIN touchpoints t ON t.id = c.touchpoint_id WHERE t.session_id = ?`,
	"attendees": `SELECT emp.id, emp.external_id, emp.name, COALESCE(emp.department, ''), e.status, k.kind, k.checked_in_at, k.source FROM enrollments e JOIN employees emp ON emp.id = e.employee_id LEFT JOIN checkins k ON k.session_id = e.session_id AND k.employee_id = e.employee_id WHERE e.session_id = ? AND e.status <> 'cancelled' ORDER BY emp.external_id, emp.id`,
	"attendeesnosort": `SELECT emp.id, emp.external_id, emp.name, COALESCE(emp.department, ''), e.status, k.kind, k.checked_in_at, k.source FROM enrollments e JOIN employees emp ON emp.id = e.employee_id LEFT JOIN checkins k ON k.session_id = e.session_id AND k.employee_id = e.employee_id WHERE e.session_id = ? AND e.status <> 'cancelled'`,
	"delivcode": `SELECT d.touchpoint_id, d.platform, d.status, d.error_code, COUNT(*), MAX(d.error_message) FROM deliveries d JOIN touchpoints t ON t.id = d.touchpoint_id WHERE t.session_id = ? GROUP BY d.touchpoint_id, d.platform, d.status, d.error_code`,
	"delivcode2": `SELECT d.touchpoint_id, d.platform, d.status, d.error_code, COUNT(*), MAX(d.error_message) FROM deliveries d WHERE d.session_id = ? GROUP BY d.touchpoint_id, d.platform, d.status, d.error_code`,
	"convpairs": `SELECT c.employee_id, c.touchpoint_id, MAX(c.clicked_at) FROM clicks c JOIN touchpoints t ON t.id = c.touchpoint_id JOIN checkins k ON k.session_id = t.session_id AND k.employee_id = c.employee_id WHERE t.session_id = ? AND c.clicked_at <= k.checked_in_at GROUP BY c.employee_id, c.touchpoint_id`,
	"clickpairs2": `SELECT c.employee_id, c.touchpoint_id, COUNT(*), MAX(CASE WHEN c.clicked_at <= k.checked_in_at THEN c.clicked_at END) FROM clicks c JOIN touchpoints t ON t.id = c.touchpoint_id LEFT JOIN checkins k ON k.session_id = t.session_id AND k.employee_id = c.employee_id WHERE t.session_id = ? GROUP BY c.employee_id, c.touchpoint_id`,
	"convnoenroll": `SELECT x.touchpoint_id, x.employee_id, x.clicked_at FROM (
  SELECT c.touchpoint_id, c.employee_id, c.clicked_at,
    ROW_NUMBER() OVER (PARTITION BY c.employee_id ORDER BY c.clicked_at DESC, c.touchpoint_id DESC, c.id DESC) AS rn
  FROM clicks c
  JOIN touchpoints t ON t.id = c.touchpoint_id
  JOIN checkins k ON k.session_id = t.session_id AND k.employee_id = c.employee_id
  WHERE t.session_id = ? AND c.clicked_at <= k.checked_in_at
) x WHERE x.rn = 1`,
	"counts": `SELECT COUNT(*) FROM enrollments e LEFT JOIN checkins k ON k.session_id = e.session_id AND k.employee_id = e.employee_id WHERE e.session_id = ? AND e.status <> 'cancelled'`,
}

func BenchmarkPhases(b *testing.B) {
	for _, d := range []string{"mysql"} {
		db := storetest.Open(b, d)
		id := SeedHook(b, db.DB, 10000)
		for _, tb := range []string{"deliveries","clicks","checkins","enrollments","employees","touchpoints"} { db.DB.Exec("ANALYZE TABLE " + tb) }
		for name, q := range profQueries {
			var best time.Duration = time.Hour
			for i := 0; i < 15; i++ {
				t0 := time.Now()
				rows, err := db.DB.Raw(q, id).Rows()
				if err != nil {
					b.Fatal(name, err)
				}
				n := 0
				cols, _ := rows.Columns()
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals { ptrs[i] = &vals[i] }
				for rows.Next() {
					rows.Scan(ptrs...)
					n++
				}
				rows.Close()
				if el := time.Since(t0); el < best {
					best = el
				}
			}
			fmt.Printf("\n"+"%s %s %v", d, name, best)
			var ex []map[string]any
			db.DB.Raw("EXPLAIN "+q, id).Scan(&ex)
			fmt.Printf(" rows")
			for _, r := range ex {
				fmt.Printf("\n"+"   %v %v key=%v rows=%v extra=%v", r["table"], r["type"], r["key"], r["rows"], r["Extra"])
			}
		}
		_ = fmt.Sprint
	}
}
