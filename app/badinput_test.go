package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// apiErr is the RFC 9457 problem every API error is, with its code and the
// bad fields (or roster cells, with their line).
type apiErr struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Errors []struct {
		Field   string `json:"field"`
		Line    int    `json:"line"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

func count(t *testing.T, db *storetest.DB, model any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.Model(model).Count(&n).Error)
	return n
}

func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		s := b.plan(t)
		sid := u(s.ID)
		audits := count(t, db, &store.AuditLog{})

		cases := []struct {
			name, method, path, ctype string
			body                      any
			status                    int
			code                      string
		}{
			{"malformed json", "POST", "/api/v1/courses", "application/json", `{"code": "X", "title": `, 400, "malformed_json"},
			{"unknown field", "POST", "/api/v1/courses", "application/json", `{"code":"X","title":"T","colour":"red"}`, 400, "malformed_json"},
			{"wrong type", "POST", "/api/v1/courses", "application/json", `{"code":1,"title":"T"}`, 400, "malformed_json"},
			{"missing title", "POST", "/api/v1/courses", "", map[string]any{"code": "X"}, 422, "invalid"},
			{"duplicate course code", "POST", "/api/v1/courses", "", map[string]any{"code": "COMM-101", "title": "again"}, 409, "conflict"},
			{"unknown course", "GET", "/api/v1/courses/999999", "", nil, 404, "not_found"},
			{"bad id", "GET", "/api/v1/sessions/abc", "", nil, 400, "bad_id"},
			{"unknown session", "GET", "/api/v1/sessions/999999/report", "", nil, 404, "not_found"},
			{"session ends before start", "POST", "/api/v1/sessions", "", map[string]any{"course_id": 1, "starts_at": "2026-03-02T10:00:00+08:00", "ends_at": "2026-03-02T09:00:00+08:00", "time_zone": "Asia/Shanghai"}, 422, "invalid"},
			{"session unknown course", "POST", "/api/v1/sessions", "", map[string]any{"course_id": 424242, "starts_at": "2026-03-02T10:00:00+08:00", "ends_at": "2026-03-02T11:00:00+08:00"}, 422, "invalid"},
			{"bad time zone", "PATCH", "/api/v1/sessions/" + sid, "", map[string]any{"time_zone": "Mars/Olympus"}, 422, "invalid"},
			{"touchpoint bad kind", "POST", "/api/v1/sessions/" + sid + "/touchpoints", "", map[string]any{"kind": "spam", "offset_minutes": -30}, 422, "invalid"},
			{"touchpoint bad cron", "POST", "/api/v1/sessions/" + sid + "/touchpoints", "", map[string]any{"kind": "custom", "note": "x", "anchor": "absolute", "cron": "99 * * * *"}, 422, "invalid"},
			{"unknown touchpoint send-now", "POST", "/api/v1/touchpoints/999999/send-now", "", nil, 404, "not_found"},
			{"manual check-in unknown person", "POST", "/api/v1/sessions/" + sid + "/checkins", "", map[string]any{"external_id": "NOBODY"}, 404, "not_found"},
			{"excuse without person", "POST", "/api/v1/sessions/" + sid + "/excuse", "", map[string]any{}, 422, "invalid"},
			{"unknown endpoint", "GET", "/api/v1/nothing", "", nil, 404, "not_found"},
		}
		for _, tc := range cases {
			var e apiErr
			got := b.call(t, tc.method, tc.path, tc.ctype, tc.body, &e)
			require.Equal(t, tc.status, got, tc.name)
			require.Equal(t, tc.code, e.Code, tc.name)
			require.Equal(t, tc.status, e.Status, tc.name)
			require.Equal(t, "tag:learnloop,2026:problem:"+tc.code, e.Type, tc.name)
			require.NotEmpty(t, e.Title, tc.name)
			require.NotEmpty(t, e.Detail, tc.name)
			if tc.code == "invalid" {
				require.NotEmpty(t, e.Errors, tc.name)
				for _, fe := range e.Errors {
					require.NotEmpty(t, fe.Field, tc.name)
					require.NotEmpty(t, fe.Code, tc.name)
					require.NotEmpty(t, fe.Message, tc.name)
				}
			}
		}
		require.EqualValues(t, 1, count(t, db, &store.Course{}))
		require.EqualValues(t, 1, count(t, db, &store.Session{}))
		require.EqualValues(t, 6, count(t, db, &store.Touchpoint{}))
		require.EqualValues(t, 0, count(t, db, &store.Checkin{}))
		require.Equal(t, audits, count(t, db, &store.AuditLog{}), "failed requests write no audit entries")

		// No token, wrong token.
		req, _ := http.NewRequest("GET", b.srv.URL+"/api/v1/courses", nil)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		req.Header.Set("Authorization", "Bearer wrong")
		resp, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
}

func TestRosterCSVWithBadRowsImportsNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		s := b.plan(t)
		before := count(t, db, &store.Employee{})
		csv := strings.Join([]string{
			"工号,姓名,部门,邮箱,platform",
			"E100,新人一,研发,a@example.com,simulator", // line 2 ok
			",无工号,研发,,simulator",                  // line 3: external_id missing
			"E102,,研发,,simulator",                 // line 4: name missing
			"E103,坏邮箱,研发,not-an-email,simulator",  // line 5: email
			"E100,重复,研发,,simulator",               // line 6: duplicate id
			"E105,平台错,研发,,slack",                  // line 7: platform
		}, "\n")
		var e apiErr
		require.Equal(t, http.StatusUnprocessableEntity, b.call(t, "POST", "/api/v1/sessions/"+u(s.ID)+"/roster", "text/csv", csv, &e))
		require.Equal(t, "invalid_roster", e.Code)
		lines := map[int]string{}
		for _, d := range e.Errors {
			lines[d.Line] = d.Field
		}
		// Line 4 (a 工号 without a name) may be an employee already or one
		// the company directory knows: that is looked up once the file
		// parses, so it is reported on the next upload.
		require.Equal(t, map[int]string{3: "external_id", 5: "email", 6: "external_id", 7: "platform"}, lines)
		require.Equal(t, before, count(t, db, &store.Employee{}), "nothing imported")
		require.EqualValues(t, 3, count(t, db, &store.Enrollment{}))
		fixed := strings.Join([]string{"工号,姓名,部门,邮箱,platform", "E100,新人一,研发,a@example.com,simulator", "E102,,研发,,simulator"}, "\n")
		require.Equal(t, http.StatusUnprocessableEntity, b.call(t, "POST", "/api/v1/sessions/"+u(s.ID)+"/roster", "text/csv", fixed, &e))
		require.Len(t, e.Errors, 1)
		require.Equal(t, 3, e.Errors[0].Line)
		require.Equal(t, "name", e.Errors[0].Field, "an unknown person needs a name")
		require.Equal(t, before, count(t, db, &store.Employee{}), "nothing imported")

		// A file without the required header.
		require.Equal(t, http.StatusUnprocessableEntity, b.call(t, "POST", "/api/v1/sessions/"+u(s.ID)+"/roster", "text/csv", "name\n张三\n", &e))
		require.Equal(t, 1, e.Errors[0].Line)
	})
}

func TestLinksAndCheckinWindows(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		s := b.plan(t)
		var promptID uint64
		for _, tp := range s.Touchpoints {
			if tp.Kind == bot.KindCheckinPrompt {
				promptID = tp.ID
			}
		}
		// Add an online link to the session so cards carry a tracked link.
		require.Equal(t, http.StatusOK, b.call(t, "PATCH", "/api/v1/sessions/"+u(s.ID), "", map[string]any{"online_url": "https://meeting.example.com/j/1"}, nil))
		require.Equal(t, http.StatusAccepted, b.call(t, "POST", "/api/v1/touchpoints/"+u(promptID)+"/send-now", "", nil, nil))
		b.runDue(t)
		cards := b.a.Sim().Inbox("E002")
		require.Len(t, cards, 1)
		var link, checkin string
		for _, btn := range cards[0].Message.Buttons {
			if btn.Action == bot.ActionLink {
				link = btn.URL
			}
		}
		require.True(t, strings.HasPrefix(link, b.srv.URL+"/l/"), link)
		checkin = cards[0].Message.Fallback[strings.Index(cards[0].Message.Fallback, b.srv.URL+"/c/"):]
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

		// Tampered and unknown tokens: 404, never a redirect, nothing stored.
		for _, bad := range []string{link[:len(link)-2] + "xx", b.srv.URL + "/l/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", b.srv.URL + "/l/" + b.a.Signer().Sign(bot.Claims{Kind: bot.TokenLink, DeliveryID: 1, Expires: b.clk.Now().Add(-time.Minute), Extra: "https://evil.example"})} {
			resp, err := noRedirect.Get(bad)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusNotFound, resp.StatusCode, bad)
			require.Empty(t, resp.Header.Get("Location"))
		}
		require.EqualValues(t, 0, count(t, db, &store.Click{}))

		req, _ := http.NewRequest("GET", link, nil)
		req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile wxwork/4.1")
		resp, err := noRedirect.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusFound, resp.StatusCode)
		require.Equal(t, "https://meeting.example.com/j/1", resp.Header.Get("Location"))
		var click store.Click
		require.NoError(t, db.First(&click).Error)
		require.Equal(t, "in_app", click.UAClass)
		require.Equal(t, "simulator", click.Platform)

		// The check-in page: GET changes nothing; POST before the window
		// opens is refused with a clear message; inside it checks in.
		resp, err = http.Get(checkin)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		b.clk.Set(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC).Add(-2 * time.Hour)) // 07:00, opens 09:30
		resp, err = http.Post(checkin, "application/x-www-form-urlencoded", nil)
		require.NoError(t, err)
		body := readAll(t, resp)
		require.Equal(t, http.StatusConflict, resp.StatusCode)
		require.Contains(t, body, "签到尚未开始")
		require.EqualValues(t, 0, count(t, db, &store.Checkin{}))

		// After the make-up window: closed.
		b.clk.Set(time.Date(2026, 3, 3, 5, 0, 0, 0, time.UTC))
		resp, err = http.Post(checkin, "application/x-www-form-urlencoded", nil)
		require.NoError(t, err)
		require.Contains(t, readAll(t, resp), "签到已结束")
		require.EqualValues(t, 0, count(t, db, &store.Checkin{}))

		// During the class after the grace period: a late check-in.
		b.clk.Set(time.Date(2026, 3, 2, 2, 30, 0, 0, time.UTC)) // 10:30
		resp, err = http.Post(checkin, "application/x-www-form-urlencoded", nil)
		require.NoError(t, err)
		require.Contains(t, readAll(t, resp), "已签到（迟到）10:30")
		var ci store.Checkin
		require.NoError(t, db.First(&ci).Error)
		require.Equal(t, store.CheckinLate, ci.Kind)
		require.Equal(t, store.SourceLink, ci.Source)
		// The card in the inbox was updated too.
		require.Contains(t, b.a.Sim().Inbox("E002")[0].Message.Status, "10:30")

		// A tampered check-in token is a 404 and records nothing.
		resp, err = http.Post(checkin+"x", "application/x-www-form-urlencoded", nil)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		require.EqualValues(t, 1, count(t, db, &store.Checkin{}))
	})
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}
