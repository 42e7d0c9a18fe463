package console_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestCoordinatorWithoutCoursesIsToldWhy checks that a coordinator who owns
// no course reads why the home and courses pages are empty, and that the
// note goes once they own one (and never shows to an admin).
func TestCoordinatorWithoutCoursesIsToldWhy(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := newEnv(t, db)
		e.account(t, "root", store.RoleAdmin, "")
		e.account(t, "zhao", store.RoleCoordinator, "")
		const note = "您还没有负责的课程：请管理员在课程的负责人中填写您的用户名（zhao）"
		zhao := e.client(t)
		zhao.login("zhao")
		root := e.client(t)
		root.login("root")
		for _, path := range []string{"/console/", "/console/courses"} {
			r := zhao.get(path)
			require.Equal(t, http.StatusOK, r.Code, r.Body)
			require.Contains(t, plain(r.Body), note, path)
			require.NotContains(t, r.Body, "会显示在这里", path)
			require.NotContains(t, plain(root.get(path).Body), "您还没有负责的课程", path)
		}
		zhao.get("/console/lang?to=en")
		require.Contains(t, plain(zhao.get("/console/").Body), "You own no course yet: ask an admin to enter your username (zhao)")
		zhao.get("/console/lang?to=zh-CN")

		// Someone else's course changes nothing; an owned one (still
		// without sessions) ends the note.
		require.NoError(t, db.Create(&store.Course{Code: "X1", Title: "别人的课", Owner: "qian"}).Error)
		require.Contains(t, plain(zhao.get("/console/courses").Body), note)
		require.NoError(t, db.Create(&store.Course{Code: "Z1", Title: "赵的课", Owner: "zhao"}).Error)
		for _, path := range []string{"/console/", "/console/courses"} {
			require.NotContains(t, plain(zhao.get(path).Body), "您还没有负责的课程", path)
		}
		require.Contains(t, plain(zhao.get("/console/").Body), "最近和即将开始的场次会显示在这里")
	})
}
