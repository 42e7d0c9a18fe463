package command_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestReadsKeepTheRights lists and loads li's course and session as each
// kind of actor: the admin and the token see everything and may write, the
// owner writes, another coordinator sees nothing, a department head sees
// the figures of a session their department attends and nothing else.
func TestReadsKeepTheRights(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		ctx := context.Background()
		e := store.Employee{ExternalID: "E1", Name: "张三", Department: "销售部", Platform: "simulator", Active: true}
		require.NoError(t, db.Create(&e).Error)
		require.NoError(t, db.Create(&store.Enrollment{SessionID: b.sess.ID, EmployeeID: e.ID, Status: store.EnrollInvited}).Error)
		sales := command.Actor{Name: "zhao", Role: store.RoleDepartmentHead, Department: "销售部"}
		hr := command.Actor{Name: "qian", Role: store.RoleDepartmentHead, Department: "人事部"}

		for _, tc := range []struct {
			name   string
			actor  command.Actor
			access command.Access
		}{
			{"admin", admin, command.AccessWrite},
			{"token", token, command.AccessWrite},
			{"owner", li, command.AccessWrite},
			{"other coordinator", wang, command.AccessNone},
			{"head of an attending department", sales, command.AccessAggregate},
			{"head of another department", hr, command.AccessNone},
		} {
			t.Run(tc.name, func(t *testing.T) {
				visible := tc.access != command.AccessNone
				cs, err := b.s.ListCourses(ctx, tc.actor, command.CoursesByCode, command.Page{})
				require.NoError(t, err)
				ss, err := b.s.ListSessions(ctx, tc.actor, command.SessionQuery{CourseID: b.course.ID}, command.Page{})
				require.NoError(t, err)
				n, err := b.s.CountCourses(ctx, tc.actor)
				require.NoError(t, err)
				sv, sessErr := b.s.Session(ctx, tc.actor, b.sess.ID)
				_, acc, courseErr := b.s.Course(ctx, tc.actor, b.course.ID)
				_, rosterErr := b.s.ListRoster(ctx, tc.actor, b.sess.ID, command.Page{})
				if !visible {
					require.Empty(t, cs)
					require.Empty(t, ss)
					require.Zero(t, n)
					for _, err := range []error{sessErr, courseErr, rosterErr} {
						require.ErrorIs(t, err, command.ErrNotFound)
					}
					return
				}
				require.Len(t, cs, 1)
				require.Len(t, ss, 1)
				require.EqualValues(t, 1, n)
				require.NoError(t, sessErr)
				require.NoError(t, courseErr)
				require.NoError(t, rosterErr)
				require.Equal(t, tc.access, sv.Access)
				require.Equal(t, tc.access, acc)
				require.Equal(t, b.course.ID, sv.Course.ID)
			})
		}
	})
}

// TestListsArePagedWithOneRowMore checks the Page contract: up to Limit+1
// rows after Offset, in the list's fixed order.
func TestListsArePagedWithOneRowMore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		ctx := context.Background()
		for _, code := range []string{"C2", "C3", "C4"} {
			_, err := b.s.CreateCourse(ctx, admin, command.CourseInput{Code: ptr(code), Title: ptr("课程")})
			require.NoError(t, err)
		}
		for _, tc := range []struct {
			page  command.Page
			codes []string
		}{
			{command.Page{}, []string{"C1", "C2", "C3", "C4"}},
			{command.Page{Limit: 2}, []string{"C1", "C2", "C3"}},
			{command.Page{Limit: 2, Offset: 2}, []string{"C3", "C4"}},
			{command.Page{Limit: 2, Offset: 4}, nil},
		} {
			cs, err := b.s.ListCourses(ctx, admin, command.CoursesByCode, tc.page)
			require.NoError(t, err)
			var codes []string
			for _, c := range cs {
				codes = append(codes, c.Code)
			}
			require.Equal(t, tc.codes, codes, "%+v", tc.page)
		}
		_, err := b.s.ListEmployees(ctx, li, "", command.Page{})
		require.ErrorIs(t, err, command.ErrForbidden)
	})
}
