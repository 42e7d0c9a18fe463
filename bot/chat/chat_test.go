package chat_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/bot/chat"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, cmd, arg string
	}{
		{"签到", "checkin", ""},
		{"  签到。 ", "checkin", ""},
		{"/签到", "checkin", ""},
		{"ＣＨＥＣＫ　ＩＮ", "checkin", ""},
		{"Check-in!", "checkin", ""},
		{"打卡", "checkin", ""},
		{"我的课程", "courses", ""},
		{"My   Courses", "courses", ""},
		{"请假", "excuse", ""},
		{"请假 身体不适", "excuse", "身体不适"},
		{"请假：出差", "excuse", "出差"},
		{"请假家里有事", "excuse", "家里有事"},
		{"leave: flight delayed", "excuse", "flight delayed"},
		{"帮助", "help", ""},
		{"？", "help", ""},
		{"HELP", "help", ""},
		{"你好", "", ""},
		{"签到太麻烦了", "", ""},
		{"", "", ""},
		{"leaves are green", "", ""},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			cmd, arg := chat.Parse(c.in)
			require.Equal(t, c.cmd, cmd)
			require.Equal(t, c.arg, arg)
		})
	}
}

// TestCommands plays each command, unknown text and an unknown sender
// against the stored facts, on both databases.
func TestCommands(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newWorld(t, db, "default")
		// The reminder (start−24h) is due at once; the check-in prompt at
		// 01:45 UTC.
		apptest.RunDue(t, w.a)
		steps := []struct {
			name     string
			h, m     int
			user     string
			text     string
			contains []string
			not      []string
		}{
			{"help", 1, 0, "A1", "帮助", []string{"签到 —", "我的课程 —", "请假 [原因]"}, nil},
			{"unknown text gets the help", 1, 0, "A1", "你好呀", []string{"没有看懂", "签到 —"}, nil},
			{"english help", 1, 0, "E1", "help", []string{"check in —", "leave [reason]"}, []string{"签到"}},
			{"unknown sender", 1, 0, "NOBODY", "签到", []string{"没有找到你的学员信息", "签到 —"}, nil},
			{"before the window, with the opening time", 1, 0, "A1", "签到", []string{"不在签到时间", "03-02 09:30"}, nil},
			{"my courses: time in the session's zone, place, link", 1, 50, "A1", "我的课程",
				[]string{"高效沟通 · 第 1 期", "2026-03-02 10:00–12:00", "Asia/Shanghai", "3F 大会议室"}, nil},
			{"check in on time", 2, 5, "A1", "签到", []string{"已签到 10:05", "高效沟通 · 第 1 期"}, nil},
			{"a second check-in is the first one", 2, 20, "A1", "签到", []string{"你已签到 10:05"}, nil},
			{"full-width english alias, late", 2, 30, "E1", "ＣＨＥＣＫ ＩＮ", []string{"Checked in (late) 10:30"}, nil},
			{"after the make-up window", 23, 59, "A2", "签到", nil, nil}, // still in make-up (end+24h)
		}
		for _, st := range steps {
			w.at(st.h, st.m)
			apptest.RunDue(t, w.a)
			r := w.say(t, st.user, st.text)
			for _, c := range st.contains {
				require.Contains(t, r.Text, c, st.name)
			}
			for _, c := range st.not {
				require.NotContains(t, r.Text, c, st.name)
			}
			if st.name == "my courses: time in the session's zone, place, link" {
				require.NotEmpty(t, r.Links, "a check-in link from the delivered reminder")
				require.Contains(t, r.Links[0].URL, w.srv.URL+"/c/")
			}
			if st.name == "after the make-up window" {
				require.Contains(t, r.Text, "已补签", "23:59 UTC is inside end+24h")
			}
		}
		var cis []store.Checkin
		require.NoError(t, db.Order("id").Find(&cis).Error)
		require.Len(t, cis, 3, "A1 once, E1, A2")
		for _, ci := range cis {
			require.Equal(t, store.SourceChat, ci.Source)
			require.Equal(t, string(bot.PlatformSimulator), ci.Platform)
		}
		require.Equal(t, store.CheckinOnTime, cis[0].Kind)
		require.Equal(t, store.CheckinLate, cis[1].Kind)
		require.Equal(t, store.CheckinMakeup, cis[2].Kind)

		// The next day everything is closed.
		w.clk.Set(w.clk.Now().Add(48 * 60 * 60 * 1e9))
		r := w.say(t, "A2", "签到")
		require.Contains(t, r.Text, "签到已结束")
		r = w.say(t, "A2", "我的课程")
		require.Contains(t, r.Text, "未来 14 天没有你的课程")
	})
}

// TestRedeliveredMessageIsHandledOnce sends the same platform message id
// twice: one check-in, one answer, the second a duplicate.
func TestRedeliveredMessageIsHandledOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newWorld(t, db, "none")
		w.at(2, 1)
		first := w.sayID(t, "A1", "签到", "wx-1")
		require.Contains(t, first.Text, "已签到 10:01")
		w.at(2, 2)
		again := w.sayID(t, "A1", "签到", "wx-1")
		require.True(t, again.Duplicate)
		require.Empty(t, again.Text)
		var n int64
		require.NoError(t, db.Model(&store.ChatMessage{}).Count(&n).Error)
		require.EqualValues(t, 1, n)
		var m store.ChatMessage
		require.NoError(t, db.First(&m).Error)
		require.Equal(t, store.ChatCheckin, m.Outcome)
		// The same id on another platform is another message.
		r := w.sayID(t, "A2", "帮助", "wx-2")
		require.False(t, r.Duplicate)
	})
}

// TestExcuseRequest asks to be excused twice (the reason is updated, one
// request), with its audit rows, and refuses when there is no class.
func TestExcuseRequest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newWorld(t, db, "none")
		w.at(1, 0)
		r := w.say(t, "A1", "请假 身体不适")
		require.Contains(t, r.Text, "已将你对《高效沟通 · 第 1 期》（03-02 10:00）的请假申请提交给课程协调人")
		r = w.say(t, "A1", "请假：要去医院")
		require.Contains(t, r.Text, "已更新")
		var reqs []store.ExcuseRequest
		require.NoError(t, db.Find(&reqs).Error)
		require.Len(t, reqs, 1)
		require.Equal(t, "要去医院", reqs[0].Reason)
		require.Equal(t, store.ExcusePending, reqs[0].Status)
		require.Equal(t, w.people["A1"].ID, reqs[0].EmployeeID)
		require.Equal(t, w.session, reqs[0].SessionID)
		var audits []store.AuditLog
		require.NoError(t, db.Where("action LIKE ?", "excuse_request.%").Order("id").Find(&audits).Error)
		require.Len(t, audits, 2)
		require.Equal(t, "employee:A1", audits[0].Actor)
		require.Equal(t, "excuse_request.created", audits[0].Action)
		require.True(t, strings.Contains(audits[1].Detail, "要去医院"))
		// The enrollment is unchanged until a coordinator decides.
		var enr store.Enrollment
		require.NoError(t, db.Where("employee_id = ?", w.people["A1"].ID).First(&enr).Error)
		require.Equal(t, store.EnrollInvited, enr.Status)
		// English, and after the class there is nothing to be excused from.
		r = w.say(t, "E1", "leave")
		require.Contains(t, r.Text, "went to the coordinator")
		w.at(4, 1)
		r = w.say(t, "A2", "请假")
		require.Contains(t, r.Text, "没有可以请假的课程")
	})
}

// TestExcuseDecisionIsTold approves one request and rejects another
// through command (the console's door): the enrollment follows, the audit
// rows are written, and each person is told in chat through the normal
// Messenger by a durable job; a second decision is refused.
func TestExcuseDecisionIsTold(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newWorld(t, db, "none")
		w.at(1, 0)
		w.say(t, "A1", "请假 家里有事")
		w.say(t, "E1", "leave")
		var reqs []store.ExcuseRequest
		require.NoError(t, db.Order("id").Find(&reqs).Error)
		require.Len(t, reqs, 2)
		admin := command.Actor{Name: "admin:lead", Role: store.RoleAdmin}
		ctx := context.Background()

		rows, err := w.a.Commands().ExcuseRequests(ctx, admin, w.session)
		require.NoError(t, err)
		require.Len(t, rows, 2)
		require.Equal(t, "A1", rows[0].Employee.ExternalID)
		require.Equal(t, "家里有事", rows[0].Request.Reason)

		_, err = w.a.Commands().DecideExcuseRequest(ctx, admin, w.session+1, reqs[0].ID, true)
		require.ErrorIs(t, err, command.ErrNotFound, "a request of another session")
		got, err := w.a.Commands().DecideExcuseRequest(ctx, admin, w.session, reqs[0].ID, true)
		require.NoError(t, err)
		require.Equal(t, store.ExcuseApproved, got.Status)
		_, err = w.a.Commands().DecideExcuseRequest(ctx, admin, w.session, reqs[0].ID, false)
		require.ErrorIs(t, err, command.ErrDecided)
		_, err = w.a.Commands().DecideExcuseRequest(ctx, admin, w.session, reqs[1].ID, false)
		require.NoError(t, err)

		var enr store.Enrollment
		require.NoError(t, db.Where("employee_id = ?", w.people["A1"].ID).First(&enr).Error)
		require.Equal(t, store.EnrollExcused, enr.Status)
		require.Equal(t, "请假：家里有事", enr.Note)
		var e1 store.Enrollment
		require.NoError(t, db.Where("employee_id = ?", w.people["E1"].ID).First(&e1).Error)
		require.Equal(t, store.EnrollInvited, e1.Status)
		var n int64
		require.NoError(t, db.Model(&store.AuditLog{}).Where("action IN ?", []string{"excuse_request.approved", "excuse_request.rejected", "enrollment.excuse"}).Count(&n).Error)
		require.EqualValues(t, 3, n)

		apptest.RunDue(t, w.a)
		told := func(user string) bot.Message {
			for _, c := range w.a.Sim().Inbox(user) {
				if c.Message.Kind == "excuse_decision" {
					return c.Message
				}
			}
			t.Fatalf("%s was not told", user)
			return bot.Message{}
		}
		require.Equal(t, "请假已批准", told("A1").Title)
		require.Contains(t, told("A1").Body, "《高效沟通 · 第 1 期》（03-02 10:00）")
		require.Equal(t, "Excuse not approved", told("E1").Title)
		// The jobs ran once: nothing more to send.
		apptest.RunDue(t, w.a)
		require.Len(t, w.a.Sim().Inbox("A1"), 1)

		// After the decision, 请假 again says so.
		require.Contains(t, w.say(t, "A1", "请假").Text, "你已请假")
	})
}
