package reports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store/storetest"
)

func fixtureReport(t *testing.T, db *storetest.DB) (*reports.SessionReport, fixture) {
	t.Helper()
	f := seedFixture(t, db.DB)
	r, err := reports.Session(context.Background(), db.DB, f.sessionID, genAt)
	require.NoError(t, err)
	return r, f
}

func TestWriteCSV(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		r, _ := fixtureReport(t, db)
		var buf bytes.Buffer
		require.NoError(t, r.WriteCSV(&buf))
		require.True(t, bytes.HasPrefix(buf.Bytes(), []byte("\xEF\xBB\xBF")), "UTF-8 BOM first")

		cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\xEF\xBB\xBF"))))
		cr.FieldsPerRecord = -1
		recs, err := cr.ReadAll()
		require.NoError(t, err)
		require.Equal(t, []string{"metric", "value", "n", "definition"}, recs[0])

		byMetric := map[string][]string{}
		for _, rec := range recs {
			if len(rec) == 4 {
				byMetric[rec[0]] = rec
			}
		}
		rate := byMetric["checkin_rate"]
		require.NotNil(t, rate, "rate row present")
		require.Equal(t, "75.0", rate[1])
		require.Equal(t, "4", rate[2])
		require.Contains(t, rate[3], "签到率")
		require.Equal(t, "3", byMetric["checked_in"][1])
		require.Equal(t, "false", byMetric["low_checkin"][1])
		require.Equal(t, "领导力基础", byMetric["course_title"][1])
		require.Equal(t, "Asia/Shanghai", byMetric["time_zone"][1])
		// 09:00 in Shanghai is the start; the window opens 30 minutes earlier.
		require.Equal(t, "2026-03-02 09:00:00", byMetric["starts_at"][1])
		require.Equal(t, "2026-03-02 08:30:00", byMetric["window_opens"][1])
		// What counted as present, and check-ins by source.
		require.Equal(t, "false", byMetric["require_onsite"][1])
		require.Equal(t, "0", byMetric["remote"][1])
		sources := 0
		for _, src := range r.BySource {
			row := byMetric["source_"+src.Source]
			require.NotNil(t, row, src.Source)
			require.Equal(t, strconv.Itoa(src.Count), row[1], src.Source)
			sources += src.Count
		}
		require.Equal(t, strconv.Itoa(r.CheckedIn), strconv.Itoa(sources), "the sources add up to the check-ins")

		// Sections: find each header and the rows under it.
		section := func(first string) [][]string {
			for i, rec := range recs {
				if rec[0] == first && i > 0 {
					var out [][]string
					for _, row := range recs[i+1:] {
						if len(row) != len(rec) {
							break
						}
						out = append(out, row)
					}
					return append([][]string{rec}, out...)
				}
			}
			t.Fatalf("no section starting with %q", first)
			return nil
		}
		tps := section("touchpoint_id")
		require.Len(t, tps, 3) // header + 2 touchpoints
		require.Equal(t, "reminder", tps[1][1])
		require.Equal(t, "100.0", tps[1][13]) // click_through
		require.Equal(t, "33.3", tps[1][16])  // conversion_rate
		require.Equal(t, "66.7", tps[2][13])

		att := section("external_id")
		require.Len(t, att, 6) // header + 5 roster people
		require.Equal(t, []string{"emp-04", "赵六", "研发部", "invited", "", "", "", "true"}, att[4])
		require.Equal(t, "2026-03-02 08:55:00", att[1][5])

		require.Contains(t, buf.String(), "81013", "platform section carries the top error")
		require.Contains(t, buf.String(), "user not found")
	})
}

func TestWriteXLSX(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		r, _ := fixtureReport(t, db)
		var buf bytes.Buffer
		require.NoError(t, r.WriteXLSX(&buf))

		x, err := excelize.OpenReader(&buf)
		require.NoError(t, err)
		defer x.Close()
		require.Equal(t, []string{reports.SheetSummary, reports.SheetTouchpoints, reports.SheetAttendees}, x.GetSheetList())

		rows, err := x.GetRows(reports.SheetSummary)
		require.NoError(t, err)
		var rateRow int
		for i, row := range rows {
			if len(row) > 0 && row[0] == "checkin_rate" {
				rateRow = i + 1
			}
		}
		require.NotZero(t, rateRow, "summary has the rate row")
		cell, err := excelize.CoordinatesToCellName(3, rateRow)
		require.NoError(t, err)
		v, err := x.GetCellValue(reports.SheetSummary, cell)
		require.NoError(t, err)
		require.Equal(t, "75.0", v)
		raw, err := x.GetCellValue(reports.SheetSummary, cell, excelize.Options{RawCellValue: true})
		require.NoError(t, err)
		require.Equal(t, "75", raw, "stored as a number")
		n, err := x.GetCellValue(reports.SheetSummary, "D"+strconv.Itoa(rateRow))
		require.NoError(t, err)
		require.Equal(t, "4", n)

		// Attendees: header, then emp-01 张三 checked in at 08:55 Shanghai time.
		a1, _ := x.GetCellValue(reports.SheetAttendees, "A2")
		b1, _ := x.GetCellValue(reports.SheetAttendees, "B2")
		f1, _ := x.GetCellValue(reports.SheetAttendees, "F2")
		require.Equal(t, "emp-01", a1)
		require.Equal(t, "张三", b1)
		require.Equal(t, "2026-03-02 08:55:00", f1)
		h4, _ := x.GetCellValue(reports.SheetAttendees, "H5")
		require.Equal(t, "TRUE", h4, "emp-04 is missing")

		// Touchpoints: first data row is the reminder with CTR 100.0.
		k, _ := x.GetCellValue(reports.SheetTouchpoints, "B2")
		ctr, _ := x.GetCellValue(reports.SheetTouchpoints, "N2")
		require.Equal(t, "reminder", k)
		require.Equal(t, "100.0", ctr)
	})
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		r, _ := fixtureReport(t, db)
		var zh, en strings.Builder
		require.NoError(t, r.WriteTable(&zh, ""))
		require.NoError(t, r.WriteTable(&en, "en"))
		require.NotContains(t, zh.String(), "警告", "75% is not low")
		require.NotContains(t, en.String(), "WARNING")
		require.Contains(t, zh.String(), "75.0%")
		require.Contains(t, zh.String(), "未签到名单（1 人）")
		require.Contains(t, zh.String(), "赵六")
		require.Contains(t, zh.String(), "2026-03-02 08:30", "windows in the session's zone")
		require.Contains(t, zh.String(), "81013 user not found ×2")
		require.Contains(t, en.String(), "Not checked in (1)")
		require.Contains(t, en.String(), "Check-in rate")
		require.Contains(t, en.String(), "100.0% (3/3)")

		// A low session: 1 of 3 eligible.
		id := seedRoster(t, db.DB, 3, 1, 0)
		low, err := reports.Session(context.Background(), db.DB, id, genAt)
		require.NoError(t, err)
		require.True(t, low.LowCheckin)
		zh.Reset()
		en.Reset()
		require.NoError(t, low.WriteTable(&zh, "zh-CN"))
		require.NoError(t, low.WriteTable(&en, "en"))
		require.Contains(t, zh.String(), "⚠ 警告：签到率 33.3%（已签到 1 / 应到 3）低于 50%")
		require.Contains(t, en.String(), "WARNING: check-in rate 33.3% (1 of 3 eligible) is below 50%")

		var xl bytes.Buffer
		require.NoError(t, low.WriteXLSX(&xl))
		x, err := excelize.OpenReader(&xl)
		require.NoError(t, err)
		defer x.Close()
		rows, err := x.GetRows(reports.SheetSummary)
		require.NoError(t, err)
		last := rows[len(rows)-1]
		require.Equal(t, "warning", last[0])
	})
}
