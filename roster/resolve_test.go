package roster_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// fakeLookup is a platform lookup API: mobile/e-mail → user id.
type fakeLookup struct {
	platform string
	ids      map[string]string
	err      error
	calls    int
}

func (f *fakeLookup) Platform() string { return f.platform }
func (f *fakeLookup) ByMobile(_ context.Context, m string) (string, error) {
	f.calls++
	return f.ids[m], f.err
}
func (f *fakeLookup) ByEmail(_ context.Context, e string) (string, error) {
	f.calls++
	return f.ids[e], f.err
}

func seedDirectory(t *testing.T, db *storetest.DB) {
	t.Helper()
	now := time.Now().UTC()
	for _, d := range []store.DirectoryDepartment{
		{Platform: "wecom", DeptID: "2", ParentID: "1", Name: "销售部", Path: "公司 / 销售部", Active: true, SyncedAt: now},
		{Platform: "wecom", DeptID: "3", ParentID: "2", Name: "华东区", Path: "公司 / 销售部 / 华东区", Active: true, SyncedAt: now},
		{Platform: "wecom", DeptID: "4", ParentID: "1", Name: "研发部", Path: "公司 / 研发部", Active: true, SyncedAt: now},
	} {
		require.NoError(t, db.Create(&d).Error)
	}
	for _, e := range []store.Employee{
		{ExternalID: "E002", Name: "李经理", Department: "销售部", Mobile: "13800000002", WecomID: "li", Active: true},
		{ExternalID: "E003", Name: "王五", Department: "华东区", Email: "wang@example.com", WecomID: "wang", Active: true},
		{ExternalID: "E004", Name: "赵六", Department: "研发部", WecomID: "zhao", Active: true},
		{ExternalID: "E005", Name: "离职", Department: "华东区", Active: true},
		{ExternalID: "twin-a", Name: "甲", Mobile: "13700000007", Email: "twin@example.com", Active: true},
		{ExternalID: "twin-b", Name: "乙", Mobile: "13700000007", Email: "twin@example.com", Active: true},
	} {
		require.NoError(t, db.Create(&e).Error)
	}
	// The directory gives both twins the 工号 D100.
	for _, ext := range []string{"twin-a", "twin-b"} {
		var e store.Employee
		require.NoError(t, db.Where("external_id = ?", ext).First(&e).Error)
		p := store.DirectoryPerson{Platform: "wecom", UserID: ext, EmployeeID: e.ID, EmployeeNo: "D100", Name: e.Name, Active: true, Hash: ext, SyncedAt: now}
		require.NoError(t, db.Create(&p).Error)
	}
	require.NoError(t, db.Model(&store.Employee{}).Where("external_id = ?", "E005").Update("active", false).Error)
}

func TestRosterRowsWithoutPlatformIDs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		seedDirectory(t, db)
		csv := "工号,姓名,手机,邮箱,部门及下级\n" +
			",,+86 138-0000-0002,,\n" + // 李经理 by mobile, another format
			",,,WANG@example.com,\n" + // 王五 by e-mail
			"E004,,,,\n" + // 赵六 by 工号 alone
			",,,,销售部\n" // everyone active in 销售部 and below: 李 (again: once) and 王 (again)
		rows, err := roster.ParseCSV(strings.NewReader(csv))
		require.NoError(t, err)
		_, err = roster.Resolve(ctx, db.DB, rows, nil)
		var ve *roster.ValidationError
		require.ErrorAs(t, err, &ve, "people named twice are refused")
		require.Len(t, ve.Rows, 2)
		require.Equal(t, 5, ve.Rows[0].Line)

		rows, err = roster.ParseCSV(strings.NewReader("工号,姓名,手机,邮箱,部门及下级\n,,,,销售部\nE004,,,,\n"))
		require.NoError(t, err)
		got, err := roster.Resolve(ctx, db.DB, rows, nil)
		require.NoError(t, err)
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ExternalID)
		}
		require.Equal(t, []string{"E002", "E003", "E004"}, ids, "the department tree without the inactive one")

		// Imported into a session: enrolled, nothing about them changed.
		sess := store.Session{CourseID: 1, Title: "s", StartsAt: time.Now(), EndsAt: time.Now().Add(time.Hour), TimeZone: "UTC", Locale: "zh-CN"}
		require.NoError(t, db.Create(&sess).Error)
		rows, err = roster.ParseCSV(strings.NewReader("手机,邮箱\n138 0000 0002,\n,wang@example.com\n"))
		require.NoError(t, err)
		res, err := roster.Import(ctx, db.DB, roster.AsAdmin(), sess.ID, rows)
		require.NoError(t, err)
		require.Equal(t, 2, res.Enrolled)
		require.Zero(t, res.Updated, "a mobile in another format is not a change")
		require.Zero(t, res.Created)
	})
}

func TestRosterRowsThatCannotBeResolved(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		seedDirectory(t, db)
		rows, err := roster.ParseCSV(strings.NewReader("工号,姓名,手机,邮箱,部门及下级\n" +
			",,13700000007,,\n" + // two employees share it
			",,13999999999,,\n" + // nobody
			"E999,,,,\n" + // unknown 工号 without a name
			",,,,财务部\n" + // unknown department
			",,,TWIN@example.com,\n" + // two employees share it
			"D100,,,,\n")) // the directory's 工号 of two employees
		require.NoError(t, err)
		_, err = roster.Resolve(ctx, db.DB, rows, nil)
		var ve *roster.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Len(t, ve.Rows, 6)
		for i, want := range []string{"mobile", "mobile", "name", "department_tree", "email", "external_id"} {
			require.Equal(t, i+2, ve.Rows[i].Line)
			require.Equal(t, want, ve.Rows[i].Column)
			code := roster.CodeUnresolved
			if want == "name" {
				code = "" // a new employee without a name: the format error it always was
			}
			require.Equal(t, code, ve.Rows[i].Code)
		}
		var n int64
		require.NoError(t, db.Model(&store.Employee{}).Count(&n).Error)
		_, err = roster.Import(ctx, db.DB, roster.AsAdmin(), 0, rows)
		require.ErrorAs(t, err, &ve, "Import resolves too")
		var after int64
		require.NoError(t, db.Model(&store.Employee{}).Count(&after).Error)
		require.Equal(t, n, after, "nothing changed")

		// No external_id, mobile, email or department column at all.
		_, err = roster.ParseCSV(strings.NewReader("姓名\n张三\n"))
		require.ErrorAs(t, err, &ve)
	})
}

func TestRosterPlatformLookups(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		seedDirectory(t, db)
		broken := &fakeLookup{platform: "dingtalk", err: errors.New("errcode 88: sub_code 60011 no permission")}
		wecom := &fakeLookup{platform: "wecom", ids: map[string]string{"13900000009": "newbie", "13800000002": "li"}}
		rows, err := roster.ParseCSV(strings.NewReader("姓名,手机\n新人,13900000009\n,13800000002\n"))
		require.NoError(t, err)
		got, err := roster.Resolve(ctx, db.DB, rows, []roster.Lookup{broken, wecom})
		require.NoError(t, err)
		require.Equal(t, "wecom-newbie", got[0].ExternalID)
		require.Equal(t, "newbie", got[0].WecomID)
		require.Equal(t, "E002", got[1].ExternalID, "the directory first: no API call for a known mobile")
		require.Equal(t, 2, wecom.calls+broken.calls, "one lookup (two platforms asked) for the unknown mobile only")
		res, err := roster.Import(ctx, db.DB, roster.AsAdmin(), 0, got)
		require.NoError(t, err)
		require.Equal(t, 1, res.Created)
		var e store.Employee
		require.NoError(t, db.Where("wecom_id = ?", "newbie").Take(&e).Error)
		require.Equal(t, "新人", e.Name)

		// The platform's API failing is said, not hidden.
		rows, err = roster.ParseCSV(strings.NewReader("姓名,手机\n某人,13600000000\n"))
		require.NoError(t, err)
		_, err = roster.Resolve(ctx, db.DB, rows, []roster.Lookup{broken})
		var ve *roster.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Contains(t, ve.Rows[0].Message, "60011")
	})
}
