package roster_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

func TestParseCSV(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		in    string
		rows  int
		lines map[int]string // line → column of each error
	}{
		{"chinese headers and BOM", "\ufeff工号,姓名,部门,经理工号\nE1,张三,销售,M1\nE2,李四,销售,M1\n", 2, nil},
		{"blank lines skipped", "external_id,name\nE1,A\n,\nE2,B\n", 2, nil},
		{"quoted comma", "external_id,name,department\nE1,\"Smith, J\",\"R&D, Beijing\"\n", 1, nil},
		{"missing required column", "name\nA\n", 0, map[int]string{1: "external_id"}},
		{"unknown column", "external_id,name,shoe_size\nE1,A,42\n", 0, map[int]string{1: "shoe_size"}},
		{"every bad row", "external_id,name,email,mobile,platform,locale,manager_id\n" +
			"E1,A,a@b.co,13800000000,wecom,zh-CN,M1\n" + // 2 ok
			"E 2,B,,,,,\n" + // 3 bad id
			"E3,C,bad,,,,\n" + // 4 email
			"E4,D,,phone,,,\n" + // 5 mobile
			"E5,E,,,telegram,,\n" + // 6 platform
			"E6,F,,,,fr,\n" + // 7 locale
			"E7,G,,,,,E7\n" + // 8 own manager
			"E1,H,,,,,\n", // 9 duplicate
			0, map[int]string{3: "external_id", 4: "email", 5: "mobile", 6: "platform", 7: "locale", 8: "manager_id", 9: "external_id"}},
		{"only header", "external_id,name\n", 0, map[int]string{1: ""}},
		{"empty", "", 0, map[int]string{1: ""}},
		{"malformed quotes", "external_id,name\nE1,\"A\n", 0, map[int]string{2: ""}},
		{"not utf-8", "external_id,name\nE1,\xff\xfe\n", 0, map[int]string{1: ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rows, err := roster.ParseCSV(strings.NewReader(tc.in))
			if tc.lines == nil {
				require.NoError(t, err)
				require.Len(t, rows, tc.rows)
				return
			}
			var ve *roster.ValidationError
			require.True(t, errors.As(err, &ve), "want a ValidationError, got %v", err)
			got := map[int]string{}
			for _, r := range ve.Rows {
				got[r.Line] = r.Column
			}
			require.Equal(t, tc.lines, got)
			require.Nil(t, rows)
		})
	}
}

func TestParseXLSX(t *testing.T) {
	t.Parallel()
	f := excelize.NewFile()
	for i, row := range [][]any{{"工号", "姓名", "部门"}, {"E1", "张三", "销售"}, {"", "无工号", "销售"}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		require.NoError(t, f.SetSheetRow("Sheet1", cell, &row))
	}
	var buf bytes.Buffer
	require.NoError(t, f.Write(&buf))
	_, err := roster.ParseXLSX(bytes.NewReader(buf.Bytes()))
	var ve *roster.ValidationError
	require.True(t, errors.As(err, &ve))
	require.Equal(t, 3, ve.Rows[0].Line)

	_, err = roster.ParseXLSX(strings.NewReader("not a zip"))
	require.True(t, errors.As(err, &ve))
}

func TestImportIsAllOrNothingAndUpserts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		c := store.Course{Code: "C", Title: "T"}
		require.NoError(t, db.Create(&c).Error)
		s := store.Session{CourseID: c.ID, Title: "S", TimeZone: "UTC", Locale: "zh-CN", Status: "planned"}
		require.NoError(t, db.Create(&s).Error)

		rows, err := roster.ParseCSV(strings.NewReader("external_id,name,department\nE1,A,X\nE2,B,Y\n"))
		require.NoError(t, err)
		res, err := roster.Import(ctx, db.DB, roster.AsAdmin(), s.ID, rows)
		require.NoError(t, err)
		require.Equal(t, roster.Result{Employees: 2, Created: 2, Enrolled: 2}, res)

		// Re-import updates the department and enrolls nobody twice.
		rows, err = roster.ParseCSV(strings.NewReader("external_id,name,department\nE1,A,Z\nE3,C,Y\n"))
		require.NoError(t, err)
		res, err = roster.Import(ctx, db.DB, roster.AsAdmin(), s.ID, rows)
		require.NoError(t, err)
		require.Equal(t, roster.Result{Employees: 2, Created: 1, Updated: 1, Enrolled: 1}, res)
		var e store.Employee
		require.NoError(t, db.Where("external_id = ?", "E1").First(&e).Error)
		require.Equal(t, "Z", e.Department)

		_, err = roster.Import(ctx, db.DB, roster.AsAdmin(), 999999, rows)
		require.ErrorIs(t, err, roster.ErrNoSession)
		var n int64
		require.NoError(t, db.Model(&store.Enrollment{}).Count(&n).Error)
		require.EqualValues(t, 3, n)
	})
}

func xlsxWith(t *testing.T, cell string) []byte {
	t.Helper()
	f := excelize.NewFile()
	require.NoError(t, f.SetSheetRow("Sheet1", "A1", &[]any{"external_id", "name", "department"}))
	require.NoError(t, f.SetSheetRow("Sheet1", "A2", &[]any{"E1", "A", cell}))
	var buf bytes.Buffer
	require.NoError(t, f.Write(&buf))
	return buf.Bytes()
}

// xlsxBomb is xlsxWith whose cell holds n bytes, which excelize itself
// would not write (it cuts cells at 32,767 characters).
func xlsxBomb(t *testing.T, n int) []byte {
	t.Helper()
	src := xlsxWith(t, "PLACEHOLDER")
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	require.NoError(t, err)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		data, err := io.ReadAll(rc)
		require.NoError(t, err)
		w, err := zw.Create(f.Name)
		require.NoError(t, err)
		_, err = w.Write(bytes.ReplaceAll(data, []byte("PLACEHOLDER"), bytes.Repeat([]byte("x"), n)))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestParseLimits(t *testing.T) {
	t.Parallel()
	random := func(n int) string { // incompressible, so not a zip bomb
		var b strings.Builder
		x := uint32(1)
		for b.Len() < n {
			x = x*1664525 + 1013904223
			b.WriteByte('a' + byte(x>>24)%26)
		}
		return b.String()
	}
	cases := []struct {
		name  string
		parse func() ([]roster.Row, error)
		msg   string
	}{
		{"csv cell", func() ([]roster.Row, error) {
			return roster.ParseCSV(strings.NewReader("external_id,name\nE1,\"" + strings.Repeat("x\n", 3000) + "\"\n"))
		}, "a cell is longer than 4096 bytes"},
		{"csv line", func() ([]roster.Row, error) {
			return roster.ParseCSV(strings.NewReader("external_id,name\nE1,A\nE2," + strings.Repeat("x", 70<<10) + "\n"))
		}, "line is longer than 64 KiB"},
		{"csv file", func() ([]roster.Row, error) {
			return roster.ParseCSV(strings.NewReader("external_id,name\n" + strings.Repeat("E1,A\n", roster.MaxFileBytes/5+1)))
		}, "file is larger than 32 MiB"},
		{"xlsx zip bomb", func() ([]roster.Row, error) {
			bomb := xlsxBomb(t, 64<<20)
			require.Less(t, len(bomb), 128<<10)
			return roster.ParseXLSX(bytes.NewReader(bomb))
		}, "workbook unpacks to more than "},
		{"xlsx cell", func() ([]roster.Row, error) {
			return roster.ParseXLSX(bytes.NewReader(xlsxWith(t, random(20000))))
		}, "a cell is longer than 4096 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rows, err := tc.parse()
			var ve *roster.ValidationError
			require.True(t, errors.As(err, &ve), "want a ValidationError, got %v", err)
			require.Nil(t, rows)
			require.Len(t, ve.Rows, 1)
			require.True(t, strings.HasPrefix(ve.Rows[0].Message, tc.msg), ve.Rows[0].Message)
			require.Equal(t, roster.CodeTooLarge, ve.Rows[0].Code)
		})
	}
}

func TestRowErrorsClipValues(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("工", 300) // 900 bytes, under the cell limit
	_, err := roster.ParseCSV(strings.NewReader("external_id,name,email,city\n" + long + ",A," + long + "," + strings.Repeat("市", 65) + "\n"))
	var ve *roster.ValidationError
	require.True(t, errors.As(err, &ve))
	cols := map[string]string{}
	for _, r := range ve.Rows {
		cols[r.Column] = r.Message
		require.Less(t, len(r.Message), 200, "%s: %s", r.Column, r.Message)
		require.True(t, utf8.ValidString(r.Message))
	}
	require.Contains(t, cols["external_id"], `"`+strings.Repeat("工", 40)+`…"`)
	require.Equal(t, "is longer than 64 characters", cols["city"])
	require.Contains(t, cols, "email")

	require.Equal(t, "ab…", roster.Clip("abc", 2))
	require.Equal(t, "工工…", roster.Clip("工工工", 2))
	require.Equal(t, "工工", roster.Clip("工工", 2))
}
