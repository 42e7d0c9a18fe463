package console_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/directory"
	"github.com/learnloop/learnloop/directory/contact"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

type pageSource struct{ people []directory.Person }

func (pageSource) Platform() string { return "wecom" }
func (pageSource) Departments(context.Context) ([]directory.Department, error) {
	return []directory.Department{{ID: "1", Name: "公司"}, {ID: "2", ParentID: "1", Name: "销售部"}}, nil
}
func (s pageSource) People(_ context.Context, _ []directory.Department, fail func(string, error)) ([]directory.Person, error) {
	fail("broken", errors.New("errcode 60011: no privilege"))
	return s.people, nil
}

func TestDirectoryPageShowsRunsChangesConflictsAndEscalations(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	w := newWorld(t, db)
	ctx := context.Background()
	for _, e := range []store.Employee{{ExternalID: "twin-a", Name: "甲", Mobile: "13700000007", Active: true}, {ExternalID: "twin-b", Name: "乙", Mobile: "13700000007", Active: true}} {
		require.NoError(t, db.Create(&e).Error)
	}
	src := pageSource{people: []directory.Person{
		{UserID: "boss", EmployeeNo: "B001", Name: "老板", DeptIDs: []string{"1"}, Active: true},
		{UserID: "li", EmployeeNo: "B002", Name: "李经理", DeptIDs: []string{"2"}, ManagerID: "boss", Active: true},
		{UserID: "twin", Name: "双", Mobile: "13700000007", DeptIDs: []string{"2"}, Active: true},
	}}
	_, err := directory.NewSyncer(db.DB, directory.Options{}).Sync(ctx, src, directory.RunOptions{})
	require.NoError(t, err)
	require.NoError(t, db.Model(&store.Employee{}).Where("external_id = ?", "B001").Update("active", false).Error)

	r := w.admin.get("/console/directory")
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	for _, want := range []string{"部分成功", "新员工", "60011", "twin-a,twin-b", "B002", "已离职"} {
		require.Contains(t, r.Body, want)
	}
	r = w.admin.get("/console/directory?export=csv&table=conflicts")
	require.Equal(t, http.StatusOK, r.Code)
	require.Contains(t, r.Body, "twin-a,twin-b")

	// A change event applied since: listed beside the full run's changes.
	li := contact.Person{UserID: "li", EmployeeNo: "B002", Name: "李经理", Title: "销售总监", DeptIDs: []string{"2"}, ManagerID: "boss", Active: true}
	rep, err := directory.NewSyncer(db.DB, directory.Options{}).ApplyChange(ctx, src, contact.Change{Platform: "wecom", EventID: "ev-1",
		Type: "change_contact/update_user", Kind: contact.UserUpsert, UserID: "li", Person: &li, At: time.Now()})
	require.NoError(t, err)
	require.NotZero(t, rep.SyncID)
	r = w.admin.get("/console/directory")
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	for _, want := range []string{"新员工", "B002: title (change_contact/update_user)", ">event<"} {
		require.Contains(t, r.Body, want)
	}

	r = w.li.get("/console/directory")
	require.Equal(t, http.StatusForbidden, r.Code, "coordinators do not see the directory page")
}
