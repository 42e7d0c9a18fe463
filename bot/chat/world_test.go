package chat_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// world is a running app (simulator platform) with one course and one
// session on 2026-03-02 10:00–12:00 Asia/Shanghai (02:00–04:00 UTC) whose
// roster is A1 (zh-CN), A2 and E1 (English).
type world struct {
	a       *app.App
	srv     *httptest.Server
	clk     *apptest.Clock
	db      *storetest.DB
	session uint64
	people  map[string]store.Employee
	seq     int
}

func newWorld(t *testing.T, db *storetest.DB, plan string) *world {
	t.Helper()
	w := &world{db: db, clk: apptest.NewClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))}
	w.a, w.srv = apptest.Start(t, db.DB, w.clk, "chat-test-link-secret-0123456789", apptest.NoFeedback)

	w.session = apptest.NewSession(t, w.srv.URL, apptest.SessionSpec{
		Course: map[string]any{"code": "CHAT-1", "title": "高效沟通"},
		Session: map[string]any{
			"title": "高效沟通 · 第 1 期", "starts_at": "2026-03-02T10:00:00+08:00", "ends_at": "2026-03-02T12:00:00+08:00",
			"location": "3F 大会议室", "time_zone": "Asia/Shanghai", "plan": plan,
		},
		Roster: "external_id,name,department,platform,locale\nA1,张三,销售,simulator,zh-CN\nA2,李四,销售,simulator,\nE1,Emma,Sales,simulator,en\n",
	}).ID
	w.people = db.Employees(t)
	return w
}

func (w *world) call(t *testing.T, method, path, ctype string, body, out any) int {
	t.Helper()
	return apptest.Call(t, w.srv.URL, method, path, ctype, body, out)
}

// at sets the clock to 2026-03-02 h:m UTC.
func (w *world) at(h, m int) { w.clk.Set(time.Date(2026, 3, 2, h, m, 0, 0, time.UTC)) }

// say sends text from user as a fresh message and returns the answer.
func (w *world) say(t *testing.T, user, text string) bot.ChatReply {
	t.Helper()
	w.seq++
	return w.sayID(t, user, text, "m"+strconv.Itoa(w.seq))
}

// sayID sends text from user under a given platform message id.
func (w *world) sayID(t *testing.T, user, text, id string) bot.ChatReply {
	t.Helper()
	r, err := w.a.Chat().HandleText(context.Background(), bot.InboundText{Platform: bot.PlatformSimulator, UserID: user, MessageID: id, Text: text, At: w.clk.Now()})
	require.NoError(t, err)
	return r
}
