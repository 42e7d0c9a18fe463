package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/web"
)

type coursePage struct {
	Courses []struct {
		ID   uint64 `json:"id"`
		Code string `json:"code"`
	} `json:"courses"`
	NextCursor *string `json:"next_cursor"`
	Next       *string `json:"next"`
}

type problemBody struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// TestListsArePaged walks the course list page by page (every answer
// checked against api/openapi.yaml by apptest.Call): each row once, in
// order, next links that work, and bad limits and cursors refused.
func TestListsArePaged(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		s := &web.Server{Commands: &command.Service{DB: db.DB}, AdminTokens: []string{apptest.AdminToken}}
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(srv.Close)
		const n = 7
		for i := range n {
			require.Equal(t, http.StatusCreated, apptest.Call(t, srv.URL, "POST", "/api/v1/courses", "", map[string]any{"code": fmt.Sprintf("C%02d", i), "title": "课程"}, nil))
		}

		var seen []string
		path := "/api/v1/courses?limit=3"
		pages := 0
		for path != "" {
			var p coursePage
			require.Equal(t, http.StatusOK, apptest.Call(t, srv.URL, "GET", path, "", nil, &p))
			pages++
			require.LessOrEqual(t, len(p.Courses), 3)
			for _, c := range p.Courses {
				seen = append(seen, c.Code)
			}
			path = ""
			if p.Next != nil {
				require.NotNil(t, p.NextCursor)
				u, err := url.Parse(*p.Next)
				require.NoError(t, err)
				require.Equal(t, "/api/v1/courses", u.Path)
				require.Equal(t, "3", u.Query().Get("limit"), "the next link keeps the query")
				require.Equal(t, *p.NextCursor, u.Query().Get("cursor"))
				path = *p.Next
			} else {
				require.Nil(t, p.NextCursor)
			}
		}
		require.Equal(t, 3, pages)
		require.Equal(t, []string{"C00", "C01", "C02", "C03", "C04", "C05", "C06"}, seen)

		// Exactly one full page: no next.
		var p coursePage
		require.Equal(t, http.StatusOK, apptest.Call(t, srv.URL, "GET", fmt.Sprintf("/api/v1/courses?limit=%d", n), "", nil, &p))
		require.Len(t, p.Courses, n)
		require.Nil(t, p.Next)
		// The default page holds them all.
		require.Equal(t, http.StatusOK, apptest.Call(t, srv.URL, "GET", "/api/v1/courses", "", nil, &p))
		require.Len(t, p.Courses, n)
		require.Nil(t, p.NextCursor)

		for _, q := range []string{"limit=0", "limit=1001", "limit=x", "cursor=nonsense", "cursor=" + url.QueryEscape("bzE6LTE"), "cursor=MTAw"} {
			var e problemBody
			require.Equal(t, http.StatusBadRequest, apptest.Call(t, srv.URL, "GET", "/api/v1/courses?"+q, "", nil, &e), q)
			require.Equal(t, "bad_query", e.Code, q)
			require.Equal(t, http.StatusBadRequest, e.Status, q)
			require.True(t, strings.Contains(e.Detail, "limit") || strings.Contains(e.Detail, "cursor"), e.Detail)
		}
		// A cursor past the end is an empty last page.
		require.Equal(t, http.StatusOK, apptest.Call(t, srv.URL, "GET", "/api/v1/courses?cursor=bzE6MTAw", "", nil, &p))
		require.Empty(t, p.Courses)
		require.Nil(t, p.Next)
	})
}
