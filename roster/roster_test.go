package roster_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

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
		res, err := roster.Import(ctx, db.DB, s.ID, rows)
		require.NoError(t, err)
		require.Equal(t, roster.Result{Employees: 2, Enrolled: 2}, res)

		// Re-import updates the department and enrolls nobody twice.
		rows, err = roster.ParseCSV(strings.NewReader("external_id,name,department\nE1,A,Z\nE3,C,Y\n"))
		require.NoError(t, err)
		res, err = roster.Import(ctx, db.DB, s.ID, rows)
		require.NoError(t, err)
		require.Equal(t, 1, res.Enrolled)
		var e store.Employee
		require.NoError(t, db.Where("external_id = ?", "E1").First(&e).Error)
		require.Equal(t, "Z", e.Department)

		_, err = roster.Import(ctx, db.DB, 999999, rows)
		require.ErrorIs(t, err, roster.ErrNoSession)
		var n int64
		require.NoError(t, db.Model(&store.Enrollment{}).Count(&n).Error)
		require.EqualValues(t, 3, n)
	})
}
