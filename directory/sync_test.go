package directory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/directory"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// fakeSource is an in-memory directory; failDept makes People report that
// department as unreadable.
type fakeSource struct {
	platform string
	depts    []directory.Department
	people   []directory.Person
	failDept string
	deptErr  error
}

func (f *fakeSource) Platform() string { return f.platform }
func (f *fakeSource) Departments(context.Context) ([]directory.Department, error) {
	return f.depts, f.deptErr
}
func (f *fakeSource) People(_ context.Context, _ []directory.Department, fail func(string, error)) ([]directory.Person, error) {
	var out []directory.Person
	for _, p := range f.people {
		if f.failDept != "" && len(p.DeptIDs) > 0 && p.DeptIDs[0] == f.failDept {
			continue
		}
		out = append(out, p)
	}
	if f.failDept != "" {
		fail("department "+f.failDept, errors.New("errcode 60011: no privilege"))
	}
	return out, nil
}

func orgChart() *fakeSource {
	return &fakeSource{platform: "wecom",
		depts: []directory.Department{{ID: "1", Name: "公司"}, {ID: "2", ParentID: "1", Name: "销售部"}, {ID: "3", ParentID: "2", Name: "华东区"}, {ID: "4", ParentID: "1", Name: "研发部"}},
		people: []directory.Person{
			{UserID: "boss", EmployeeNo: "E001", Name: "老板", DeptIDs: []string{"1"}, Active: true},
			{UserID: "li", EmployeeNo: "E002", Name: "李经理", Title: "销售总监", DeptIDs: []string{"2"}, ManagerID: "boss", Active: true, Mobile: "+86 138-0000-0002"},
			{UserID: "wang", EmployeeNo: "E003", Name: "王五", Title: "销售", City: "上海", DeptIDs: []string{"3", "2"}, ManagerID: "li", Active: true, Email: "Wang@Example.com"},
			{UserID: "zhao", EmployeeNo: "", Name: "赵六", DeptIDs: []string{"4"}, ManagerID: "boss", Active: true, Mobile: "13900000004"},
		}}
}

func TestSyncCreatesThenChangesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		s := directory.NewSyncer(db.DB, directory.Options{})
		src := orgChart()
		rep, err := s.Sync(ctx, src, directory.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, store.DirectorySyncOK, rep.Status)
		require.Equal(t, 4, rep.Created)
		es := db.Employees(t)
		require.Len(t, es, 4)
		require.Equal(t, "王五", es["E003"].Name)
		require.Equal(t, "华东区", es["E003"].Department, "the main department (first) names the employee's department")
		require.Equal(t, "wang@example.com", es["E003"].Email)
		require.Equal(t, "E002", es["E003"].ManagerID)
		require.Equal(t, "E001", es["E002"].ManagerID)
		require.Equal(t, "13800000002", es["E002"].Mobile)
		require.Equal(t, "wecom-zhao", es["wecom-zhao"].ExternalID, "no 工号: platform-userid")
		require.Equal(t, "zhao", es["wecom-zhao"].WecomID)
		var dep store.DirectoryDepartment
		require.NoError(t, db.Where("dept_id = ?", "3").Take(&dep).Error)
		require.Equal(t, "公司 / 销售部 / 华东区", dep.Path)

		before := es
		rep, err = s.Sync(ctx, src, directory.RunOptions{})
		require.NoError(t, err)
		require.False(t, rep.Changed(), "%+v", rep)
		require.Empty(t, rep.Changes)
		after := db.Employees(t)
		for k, e := range before {
			require.True(t, e.UpdatedAt.Equal(after[k].UpdatedAt), "%s was written again", k)
		}
		var runs int64
		require.NoError(t, db.Model(&store.DirectorySync{}).Count(&runs).Error)
		require.EqualValues(t, 2, runs)
	})
}

func TestSyncMatchesExistingEmployees(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		// From a CSV roster: one by 工号, one only by mobile, one by e-mail,
		// and two sharing a mobile (a conflict).
		for _, e := range []store.Employee{
			{ExternalID: "E002", Name: "李", Active: true},
			{ExternalID: "csv-zhao", Name: "赵", Mobile: "139 0000 0004", Active: true},
			{ExternalID: "csv-wang", Name: "王", Email: "wang@example.com", Active: true},
			{ExternalID: "twin-a", Name: "甲", Mobile: "13700000007", Active: true},
			{ExternalID: "twin-b", Name: "乙", Mobile: "+8613700000007", Active: true},
		} {
			require.NoError(t, db.Create(&e).Error)
		}
		src := orgChart()
		src.people[2].EmployeeNo = "" // 王五 matched by e-mail only
		src.people = append(src.people, directory.Person{UserID: "twin", Name: "双", Mobile: "13700000007", DeptIDs: []string{"4"}, Active: true})
		s := directory.NewSyncer(db.DB, directory.Options{})
		rep, err := s.Sync(ctx, src, directory.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, 3, rep.Linked)
		require.Equal(t, 1, rep.Created, "only the boss is new")
		require.Equal(t, 1, rep.Conflicts)
		es := db.Employees(t)
		require.Len(t, es, 6)
		require.Equal(t, "li", es["E002"].WecomID)
		require.Equal(t, "zhao", es["csv-zhao"].WecomID)
		require.Equal(t, "wang", es["csv-wang"].WecomID)
		require.Empty(t, es["twin-a"].WecomID, "never guessed")
		require.Empty(t, es["twin-b"].WecomID)
		var c store.DirectoryConflict
		require.NoError(t, db.Take(&c).Error)
		require.Equal(t, "mobile", c.Rule)
		require.Equal(t, "twin-a,twin-b", c.Candidates)

		// A person resolves it; the next sync links, and then stays quiet.
		require.NoError(t, directory.ResolveConflict(ctx, db.DB, "wecom", "twin", "twin-b", "admin", time.Now))
		rep, err = s.Sync(ctx, src, directory.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, 1, rep.Linked)
		require.Zero(t, rep.Conflicts)
		require.Equal(t, "twin", db.Employees(t)["twin-b"].WecomID)
		rep, err = s.Sync(ctx, src, directory.RunOptions{})
		require.NoError(t, err)
		require.False(t, rep.Changed())

		err = directory.ResolveConflict(ctx, db.DB, "wecom", "nobody", "twin-b", "admin", time.Now)
		require.ErrorIs(t, err, directory.ErrNoConflict)
	})
}

func TestSyncResignationMovesAndGuards(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		s := directory.NewSyncer(db.DB, directory.Options{MaxDeactivatePercent: 30})
		src := orgChart()
		_, err := s.Sync(ctx, src, directory.RunOptions{})
		require.NoError(t, err)
		id := db.Employees(t)["E003"].ID

		// 王五 moves to 研发部; 李经理 resigns (WeCom stops listing him).
		src.people[2].DeptIDs = []string{"4"}
		li := src.people[1]
		src.people = append(src.people[:1], src.people[2:]...)

		// A partial read deactivates nobody.
		src.failDept = "1"
		rep, err := s.Sync(ctx, src, directory.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, store.DirectorySyncPartial, rep.Status)
		require.Zero(t, rep.Deactivated)
		require.True(t, db.Employees(t)["E002"].Active)
		kinds := map[string]int{}
		for _, c := range rep.Changes {
			kinds[c.Kind]++
		}
		require.Equal(t, 1, kinds[store.DirectoryMoved], "what was read is stored")

		src.failDept = ""
		rep, err = s.Sync(ctx, src, directory.RunOptions{DryRun: true})
		require.NoError(t, err)
		require.Equal(t, 1, rep.Deactivated)
		require.True(t, db.Employees(t)["E002"].Active, "a dry run writes nothing")

		rep, err = s.Sync(ctx, src, directory.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, 1, rep.Deactivated)
		es := db.Employees(t)
		require.False(t, es["E002"].Active, "resigned: inactive, not deleted")
		require.Equal(t, id, es["E003"].ID, "history follows the person")
		require.Equal(t, "研发部", es["E003"].Department)
		kinds = map[string]int{}
		for _, c := range rep.Changes {
			kinds[c.Kind]++
		}
		require.Equal(t, 1, kinds[store.DirectoryDeactivated])

		// The follow-up for 王五 goes past the resigned manager to the boss.
		steps, err := store.EffectiveManagers(ctx, db.DB, []string{"E002"})
		require.NoError(t, err)
		require.Equal(t, "E001", steps["E002"].Manager.ExternalID)
		require.Equal(t, []string{"E002"}, steps["E002"].Skipped)

		// He comes back: reactivated.
		src.people = append(src.people, li)
		rep, err = s.Sync(ctx, src, directory.RunOptions{})
		require.NoError(t, err)
		require.True(t, db.Employees(t)["E002"].Active)

		// Everyone but the boss vanishes: over the guard, nobody goes.
		src.people = src.people[:1]
		rep, err = s.Sync(ctx, src, directory.RunOptions{})
		require.NoError(t, err)
		require.Zero(t, rep.Deactivated)
		require.Positive(t, rep.Failures)
		require.True(t, db.Employees(t)["E003"].Active)
	})
}

func TestSyncFailsCleanly(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		src := orgChart()
		src.deptErr = errors.New("errcode 45009: api freq out of limit")
		s := directory.NewSyncer(db.DB, directory.Options{})
		rep, err := s.Sync(context.Background(), src, directory.RunOptions{})
		require.Error(t, err)
		require.Equal(t, store.DirectorySyncFailed, rep.Status)
		var run store.DirectorySync
		require.NoError(t, db.Take(&run).Error)
		require.Equal(t, store.DirectorySyncFailed, run.Status)
		require.Contains(t, run.Error, "45009")
		require.Empty(t, db.Employees(t))

		_, err = s.Sync(context.Background(), &fakeSource{platform: "teams"}, directory.RunOptions{})
		require.Error(t, err)
	})
}

func TestSecondPlatformLinksTheSamePeople(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		s := directory.NewSyncer(db.DB, directory.Options{})
		_, err := s.Sync(ctx, orgChart(), directory.RunOptions{})
		require.NoError(t, err)
		fs := &fakeSource{platform: "feishu", depts: []directory.Department{{ID: "0"}, {ID: "od-x", ParentID: "0", Name: "Sales"}},
			people: []directory.Person{
				{UserID: "ou_li", EmployeeNo: "E002", Name: "Li", DeptIDs: []string{"od-x"}, Active: true},
				{UserID: "ou_zhao", Name: "Zhao", Mobile: "+8613900000004", DeptIDs: []string{"od-x"}, ManagerID: "ou_li", Active: true},
			}}
		rep, err := s.Sync(ctx, fs, directory.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, 2, rep.Linked)
		es := db.Employees(t)
		require.Equal(t, "ou_li", es["E002"].FeishuID)
		require.Equal(t, "ou_zhao", es["wecom-zhao"].FeishuID)
		require.Equal(t, "李经理", es["E002"].Name, "WeCom comes first: it keeps the profile")
		require.Equal(t, "E001", es["wecom-zhao"].ManagerID)

		// Leaving Feishu does not deactivate someone WeCom still lists.
		fs.people = fs.people[:1]
		rep, err = s.Sync(ctx, fs, directory.RunOptions{AllowMassDeactivation: true})
		require.NoError(t, err)
		require.True(t, db.Employees(t)["wecom-zhao"].Active)
	})
}
