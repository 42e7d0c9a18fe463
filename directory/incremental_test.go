package directory_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/directory"
	"github.com/learnloop/learnloop/directory/contact"
	"github.com/learnloop/learnloop/internal/clocktest"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// liveSource is a fakeSource that also reads one member or department, as
// the platforms' user/get and department/get do, and counts the reads.
type liveSource struct {
	*fakeSource
	mu    sync.Mutex
	reads int
	err   error // every read fails with it
}

func (l *liveSource) Member(_ context.Context, id string) (directory.Person, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads++
	if l.err != nil {
		return directory.Person{}, l.err
	}
	for _, p := range l.people {
		if p.UserID == id {
			return p, nil
		}
	}
	return directory.Person{}, fmt.Errorf("user/get %s: %w", id, directory.ErrNotFound)
}

func (l *liveSource) Department(_ context.Context, id string) (directory.Department, error) {
	for _, d := range l.depts {
		if d.ID == id {
			return d, nil
		}
	}
	return directory.Department{}, directory.ErrNotFound
}

func (l *liveSource) set(p directory.Person) {
	for i := range l.people {
		if l.people[i].UserID == p.UserID {
			l.people[i] = p
			return
		}
	}
	l.people = append(l.people, p)
}

func eventRuns(t *testing.T, db *storetest.DB) []store.DirectorySync {
	t.Helper()
	var runs []store.DirectorySync
	require.NoError(t, db.Where("`trigger` = ?", directory.TriggerEvent).Order("id").Find(&runs).Error)
	return runs
}

// synced returns a syncer on a fake clock (09:00 Shanghai, 2 March 2026)
// that has run its first full sync of orgChart from a live source.
func synced(t *testing.T, db *storetest.DB) (*directory.Syncer, *liveSource, *clocktest.Clock) {
	t.Helper()
	clk := clocktest.New(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
	s := directory.NewSyncer(db.DB, directory.Options{Now: clk.Now})
	src := &liveSource{fakeSource: orgChart()}
	_, err := s.Sync(context.Background(), src, directory.RunOptions{})
	require.NoError(t, err)
	return s, src, clk
}

func TestChangeEventsApplyLikeASync(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		s, src, clk := synced(t, db)
		clk.Advance(time.Hour)

		tests := []struct {
			name   string
			before func()
			change contact.Change
			check  func(t *testing.T, rep directory.Report)
		}{
			{
				name:   "a member's new title and department, read from the platform",
				before: func() { p := src.people[2]; p.Title, p.DeptIDs = "销售经理", []string{"2"}; src.set(p) },
				change: contact.Change{EventID: "e1", Type: "change_contact/update_user", Kind: contact.UserUpsert, UserID: "wang"},
				check: func(t *testing.T, rep directory.Report) {
					require.Equal(t, 1, rep.Updated)
					e := db.Employees(t)["E003"]
					require.Equal(t, "销售经理", e.Title)
					require.Equal(t, "销售部", e.Department)
					var kinds []string
					for _, c := range rep.Changes {
						kinds = append(kinds, c.Kind)
						require.Equal(t, rep.SyncID, c.SyncID)
					}
					require.ElementsMatch(t, []string{store.DirectoryMoved, store.DirectoryUpdated}, kinds)
				},
			},
			{
				name: "a new member, whose manager is found in what is stored",
				before: func() {
					src.set(directory.Person{UserID: "sun", EmployeeNo: "E009", Name: "孙七", DeptIDs: []string{"4"}, ManagerID: "zhao", Active: true})
				},
				change: contact.Change{EventID: "e2", Type: "change_contact/create_user", Kind: contact.UserUpsert, UserID: "sun"},
				check: func(t *testing.T, rep directory.Report) {
					require.Equal(t, 1, rep.Created)
					e := db.Employees(t)["E009"]
					require.Equal(t, "孙七", e.Name)
					require.Equal(t, "研发部", e.Department)
					require.Equal(t, "wecom-zhao", e.ManagerID)
					require.Equal(t, "sun", e.WecomID)
				},
			},
			{
				name: "a member who matches a roster employee by mobile is linked",
				before: func() {
					require.NoError(t, db.Create(&store.Employee{ExternalID: "csv-qian", Name: "钱", Mobile: "+86 137 0000 0008", Active: true}).Error)
					src.set(directory.Person{UserID: "qian", Name: "钱八", Mobile: "13700000008", DeptIDs: []string{"3"}, Active: true})
				},
				change: contact.Change{EventID: "e3", Type: "change_contact/create_user", Kind: contact.UserUpsert, UserID: "qian"},
				check: func(t *testing.T, rep directory.Report) {
					require.Equal(t, 1, rep.Linked)
					require.Zero(t, rep.Created)
					e := db.Employees(t)["csv-qian"]
					require.Equal(t, "qian", e.WecomID)
					require.Equal(t, "华东区", e.Department)
				},
			},
			{
				name:   "a member who left is made inactive, never deleted",
				change: contact.Change{EventID: "e4", Type: "change_contact/delete_user", Kind: contact.UserDelete, UserID: "zhao"},
				check: func(t *testing.T, rep directory.Report) {
					require.Equal(t, 1, rep.Deactivated)
					e, ok := db.Employees(t)["wecom-zhao"]
					require.True(t, ok)
					require.False(t, e.Active)
					var p store.DirectoryPerson
					require.NoError(t, db.Where("platform = ? AND user_id = ?", "wecom", "zhao").Take(&p).Error)
					require.False(t, p.Active)
				},
			},
			{
				name: "a department renamed (WeCom sends only what changed) renames its path and its members' department",
				change: contact.Change{EventID: "e5", Type: "change_contact/update_party", Kind: contact.DeptUpsert, DeptID: "2",
					Dept: &contact.Department{ID: "2", Name: "市场部"}, Partial: true},
				check: func(t *testing.T, rep directory.Report) {
					var d store.DirectoryDepartment
					require.NoError(t, db.Where("platform = ? AND dept_id = ?", "wecom", "3").Take(&d).Error)
					require.Equal(t, "公司 / 市场部 / 华东区", d.Path)
					var sales store.DirectoryDepartment
					require.NoError(t, db.Where("platform = ? AND dept_id = ?", "wecom", "2").Take(&sales).Error)
					require.Equal(t, "1", sales.ParentID, "an absent parent is unchanged")
					es := db.Employees(t)
					require.Equal(t, "市场部", es["E002"].Department)
					require.Equal(t, "市场部", es["E003"].Department)
				},
			},
			{
				name:   "a department removed is inactive",
				change: contact.Change{EventID: "e6", Type: "change_contact/delete_party", Kind: contact.DeptDelete, DeptID: "4"},
				check: func(t *testing.T, rep directory.Report) {
					var d store.DirectoryDepartment
					require.NoError(t, db.Where("platform = ? AND dept_id = ?", "wecom", "4").Take(&d).Error)
					require.False(t, d.Active)
				},
			},
			{
				name: "a member with a new user id keeps their employee",
				before: func() {
					for i := range src.people {
						if src.people[i].UserID == "li" {
							src.people[i].UserID = "li.new"
						}
					}
				},
				change: contact.Change{EventID: "e7", Type: "change_contact/update_user", Kind: contact.UserUpsert, UserID: "li.new", PreviousUserID: "li"},
				check: func(t *testing.T, rep directory.Report) {
					require.Zero(t, rep.Created)
					require.Zero(t, rep.Conflicts)
					es := db.Employees(t)
					require.Equal(t, "li.new", es["E002"].WecomID)
					require.Len(t, es, 6)
					require.Equal(t, store.DirectoryUpdated, rep.Changes[0].Kind)
					require.Contains(t, rep.Changes[0].Detail, "li → li.new")
				},
			},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if tc.before != nil {
					tc.before()
				}
				clk.Advance(time.Minute)
				tc.change.Platform, tc.change.At = "wecom", clk.Now()
				runs := len(eventRuns(t, db))
				rep, err := s.ApplyChange(ctx, src, tc.change)
				require.NoError(t, err)
				require.Equal(t, store.DirectorySyncOK, rep.Status)
				require.NotZero(t, rep.SyncID, "the run is recorded")
				require.Len(t, eventRuns(t, db), runs+1)
				tc.check(t, rep)

				// The same event again (a redelivery) changes nothing.
				before := db.Employees(t)
				clk.Advance(time.Second)
				again, err := s.ApplyChange(ctx, src, tc.change)
				require.NoError(t, err)
				require.False(t, again.Changed(), "%+v", again)
				require.Zero(t, again.SyncID)
				require.Len(t, eventRuns(t, db), runs+1, "nothing new is recorded")
				after := db.Employees(t)
				for k, e := range before {
					require.True(t, e.UpdatedAt.Equal(after[k].UpdatedAt), "%s was written again", k)
				}
			})
		}

		// A full sync after the events finds nothing left to do but what the
		// events could not know (nothing).
		rep, err := s.Sync(ctx, src, directory.RunOptions{})
		require.NoError(t, err)
		require.Zero(t, rep.Created+rep.Linked+rep.Deactivated, "%+v", rep.Changes)
	})
}

func TestChangeEventsNeverRegress(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		s, src, clk := synced(t, db)
		syncedAt := clk.Now()
		clk.Advance(time.Hour)

		// An event from before the last full sync: the sync read later.
		old := contact.Person{UserID: "wang", EmployeeNo: "E003", Name: "王五（旧）", DeptIDs: []string{"3"}, Active: true}
		rep, err := s.ApplyChange(ctx, src, contact.Change{Platform: "wecom", EventID: "old", Type: "t", Kind: contact.UserUpsert,
			UserID: "wang", Person: &old, At: syncedAt.Add(-time.Minute)})
		require.NoError(t, err)
		require.Equal(t, directory.ChangeStale, rep.Status)
		require.Equal(t, "王五", db.Employees(t)["E003"].Name)

		// Two events out of order: the newer one (carried, as a platform
		// that sends the member does) applies, the older one then does not.
		newer := contact.Person{UserID: "wang", EmployeeNo: "E003", Name: "王五五", DeptIDs: []string{"3"}, Active: true}
		rep, err = s.ApplyChange(ctx, src, contact.Change{Platform: "wecom", EventID: "n", Type: "t", Kind: contact.UserUpsert,
			UserID: "wang", Person: &newer, At: clk.Now().Add(-time.Minute)})
		require.NoError(t, err)
		require.Equal(t, 1, rep.Updated)
		rep, err = s.ApplyChange(ctx, src, contact.Change{Platform: "wecom", EventID: "o", Type: "t", Kind: contact.UserUpsert,
			UserID: "wang", Person: &old, At: clk.Now().Add(-2 * time.Minute)})
		require.NoError(t, err)
		require.Equal(t, directory.ChangeStale, rep.Status)
		require.Equal(t, "王五五", db.Employees(t)["E003"].Name)
		// A late deletion from before the member was last seen does not
		// retire them.
		rep, err = s.ApplyChange(ctx, src, contact.Change{Platform: "wecom", EventID: "d", Type: "t", Kind: contact.UserDelete,
			UserID: "wang", At: clk.Now().Add(-3 * time.Minute)})
		require.NoError(t, err)
		require.Equal(t, directory.ChangeStale, rep.Status)
		require.True(t, db.Employees(t)["E003"].Active)

		// A deletion of someone the directory never had creates nobody.
		rep, err = s.ApplyChange(ctx, src, contact.Change{Platform: "wecom", EventID: "x", Type: "t", Kind: contact.UserDelete, UserID: "ghost", At: clk.Now()})
		require.NoError(t, err)
		require.Equal(t, directory.ChangeIgnored, rep.Status)
		require.Len(t, db.Employees(t), 4)

		// An update for a member the platform no longer has (and the
		// directory never had) is a deletion of nobody.
		clk.Advance(time.Minute)
		rep, err = s.ApplyChange(ctx, src, contact.Change{Platform: "wecom", EventID: "u", Type: "t", Kind: contact.UserUpsert, UserID: "missing", At: clk.Now()})
		require.NoError(t, err)
		require.Equal(t, directory.ChangeIgnored, rep.Status)

		// Bad input changes nothing and is refused for good.
		_, err = s.ApplyChange(ctx, src, contact.Change{Platform: "wecom", EventID: "", Kind: contact.UserUpsert, UserID: "wang"})
		require.Error(t, err)
		_, err = s.ApplyChange(ctx, src, contact.Change{Platform: "feishu", EventID: "f", Kind: contact.UserUpsert, UserID: "wang"})
		require.Error(t, err)
		require.Len(t, eventRuns(t, db), 1, "only the newer event was recorded")
	})
}

func TestInboxKeepsEachEventOnceAndRetries(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		s, src, clk := synced(t, db)
		sched := scheduler.New(db.DB, scheduler.Options{Now: clk.Now, BackoffBase: time.Second, BackoffMax: time.Minute})
		(&directory.Changes{Syncer: s, Sources: map[string]directory.Source{"wecom": src}}).Register(sched)
		inbox := &directory.Inbox{Sched: sched, Now: clk.Now}
		clk.Advance(time.Hour)

		p := src.people[1]
		p.Title = "副总裁"
		src.set(p)
		src.err = errors.New("errcode 45033: api concurrent out of limit")
		ch := contact.Change{Platform: "wecom", EventID: "wecom:abc", Type: "change_contact/update_user", Kind: contact.UserUpsert, UserID: "li"}
		// The platform sends it three times, to two replicas.
		for range 3 {
			require.NoError(t, inbox.HandleContactChange(ctx, ch))
		}
		var jobs []store.Job
		require.NoError(t, db.Where("kind = ?", directory.JobChange).Find(&jobs).Error)
		require.Len(t, jobs, 1)
		require.Equal(t, directory.ChangeKey(ch), *jobs[0].UniqueKey)

		// The read fails: the job is retried with backoff, then applies.
		_, err := sched.RunDue(ctx)
		require.NoError(t, err)
		require.NoError(t, db.First(&jobs[0], jobs[0].ID).Error)
		require.Equal(t, store.JobAvailable, jobs[0].State)
		require.Contains(t, jobs[0].LastError, "45033")
		require.Equal(t, "销售总监", db.Employees(t)["E002"].Title)
		src.err = nil
		clk.Advance(time.Minute)
		_, err = sched.RunDue(ctx)
		require.NoError(t, err)
		require.NoError(t, db.First(&jobs[0], jobs[0].ID).Error)
		require.Equal(t, store.JobCompleted, jobs[0].State)
		require.Equal(t, "副总裁", db.Employees(t)["E002"].Title)

		// A change that can never apply is not retried.
		require.Error(t, inbox.HandleContactChange(ctx, contact.Change{Platform: "wecom", EventID: "bad", Kind: "user.rename", UserID: "li"}))
		require.NoError(t, inbox.HandleContactChange(ctx, contact.Change{Platform: "dingtalk", EventID: "dt", Kind: contact.UserUpsert, UserID: "li"}))
		_, err = sched.RunDue(ctx)
		require.NoError(t, err)
		var dt store.Job
		require.NoError(t, db.Where("unique_key = ?", "dirchange:dingtalk:dt").Take(&dt).Error)
		require.Equal(t, store.JobFailed, dt.State, "no dingtalk directory here")
	})
}
