package wecom_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/wecom"
	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/directory"
	"github.com/learnloop/learnloop/directory/contact"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// changeContact renders a change_contact event as WeCom sends it (成员变更
// / 部门变更通知): member events carry the UserID and, for apps created
// since 2022, little else.
func changeContact(corpID string, at time.Time, changeType string, fields map[string]string) string {
	var b strings.Builder
	b.WriteString("<xml><ToUserName><![CDATA[" + corpID + "]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>")
	b.WriteString("<CreateTime>" + strconv.FormatInt(at.Unix(), 10) + "</CreateTime><MsgType><![CDATA[event]]></MsgType>")
	b.WriteString("<Event><![CDATA[change_contact]]></Event><ChangeType><![CDATA[" + changeType + "]]></ChangeType>")
	for k, v := range fields {
		b.WriteString("<" + k + "><![CDATA[" + v + "]]></" + k + ">")
	}
	b.WriteString("</xml>")
	return b.String()
}

func TestContactEventsThroughTheApp(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		f := newFakeDirectory(t)
		clk := apptest.NewClock(time.Now().UTC().Truncate(time.Second))
		var inbox atomic.Pointer[directory.Inbox]
		var failNext atomic.Bool
		handed := atomic.Int32{}
		fwd := contact.HandlerFunc(func(ctx context.Context, c contact.Change) error {
			handed.Add(1)
			if failNext.Swap(false) {
				return context.DeadlineExceeded
			}
			return inbox.Load().HandleContactChange(ctx, c)
		})
		wcfg := wecom.Config{CorpID: "wx5823bf96d3bd56c7", AgentID: 1000002, Secret: "secret-123456", Token: "QDG6eK",
			EncodingAESKey: "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", APIBase: f.URL}
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		client, err := wecom.New(wcfg, wecom.WithNow(clk.Now), wecom.WithLogger(logger), wecom.WithContactHandler(fwd))
		require.NoError(t, err)
		taps := bot.InteractionHandlerFunc(func(context.Context, bot.Interaction) (bot.Reply, error) { return bot.Reply{}, nil })
		a, srv := apptest.Start(t, db.DB, clk, "wecom-e2e-link-secret-0123456789", func(_ *config.Config, o *app.Options) {
			o.Logger = logger
			o.Messengers = map[bot.Platform]bot.Messenger{bot.PlatformWeCom: client}
			o.Mounts = map[string]http.Handler{wecom.CallbackPath: client.CallbackHandler(taps)}
		})
		inbox.Store(&directory.Inbox{Sched: a.Sched(), Now: clk.Now})

		srcs, order := a.DirectorySources()
		_, err = a.DirectorySyncer(order).Sync(ctx, srcs["wecom"], directory.RunOptions{})
		require.NoError(t, err)
		clk.Set(clk.Now().Add(time.Minute))

		post := func(plain string) int {
			t.Helper()
			q, body := wecom.SignedCallback(wcfg, wcfg.CorpID, clk.Now(), plain)
			resp, err := http.Post(srv.URL+wecom.CallbackPath+"?"+q, "text/xml", strings.NewReader(body))
			require.NoError(t, err)
			defer resp.Body.Close()
			return resp.StatusCode
		}
		emp := func(wecomID string) store.Employee {
			t.Helper()
			var e store.Employee
			require.NoError(t, db.Where("wecom_id = ?", wecomID).Take(&e).Error)
			return e
		}

		// 王五 is promoted: WeCom says so (three times: it retries), the
		// directory reads them with user/get once the job runs.
		f.mu.Lock()
		f.users[2]["position"] = "销售经理"
		f.users[2]["main_department"] = 2
		f.mu.Unlock()
		ev := changeContact(wcfg.CorpID, clk.Now(), "update_user", map[string]string{"UserID": "wang"})
		for range 3 {
			require.Equal(t, http.StatusOK, post(ev))
		}
		var jobs int64
		require.NoError(t, db.Model(&store.Job{}).Where("kind = ?", directory.JobChange).Count(&jobs).Error)
		require.EqualValues(t, 1, jobs, "one event, one job")
		calls := func() int { f.mu.Lock(); defer f.mu.Unlock(); return f.getCalls }
		gets := calls()
		apptest.RunDue(t, a)
		require.Equal(t, gets+1, calls(), "one user/get for three deliveries")
		wang := emp("wang")
		require.Equal(t, "销售经理", wang.Title)
		require.Equal(t, "销售部", wang.Department)
		var run store.DirectorySync
		require.NoError(t, db.Where("`trigger` = ?", directory.TriggerEvent).Take(&run).Error)
		require.Equal(t, 1, run.Updated)
		var changes []store.DirectoryChange
		require.NoError(t, db.Where("sync_id = ?", run.ID).Find(&changes).Error)
		require.NotEmpty(t, changes)
		require.Contains(t, changes[0].Detail, "change_contact/update_user")

		// 李经理 leaves: inactive, kept.
		clk.Set(clk.Now().Add(time.Minute))
		require.Equal(t, http.StatusOK, post(changeContact(wcfg.CorpID, clk.Now(), "delete_user", map[string]string{"UserID": "li"})))
		apptest.RunDue(t, a)
		require.False(t, emp("li").Active)

		// A new department under 销售部.
		clk.Set(clk.Now().Add(time.Minute))
		require.Equal(t, http.StatusOK, post(changeContact(wcfg.CorpID, clk.Now(), "create_party", map[string]string{"Id": "9", "Name": "华南区", "ParentId": "2"})))
		apptest.RunDue(t, a)
		var d store.DirectoryDepartment
		require.NoError(t, db.Where("platform = ? AND dept_id = ?", "wecom", "9").Take(&d).Error)
		require.Equal(t, "公司 / 销售部 / 华南区", d.Path)

		// A handler that cannot keep the event: WeCom is answered with an
		// error after its 5 s wait (so it sends the event again), and the
		// retry is taken.
		clk.Set(clk.Now().Add(time.Minute))
		failNext.Store(true)
		del := changeContact(wcfg.CorpID, clk.Now(), "delete_party", map[string]string{"Id": "9"})
		require.Equal(t, http.StatusInternalServerError, post(del))
		require.Equal(t, http.StatusOK, post(del))
		apptest.RunDue(t, a)
		var gone store.DirectoryDepartment
		require.NoError(t, db.Where("platform = ? AND dept_id = ?", "wecom", "9").Take(&gone).Error)
		require.False(t, gone.Active)

		// A forged event reaches nobody.
		n := handed.Load()
		q, body := wecom.SignedCallback(wcfg, wcfg.CorpID, clk.Now(), changeContact(wcfg.CorpID, clk.Now(), "delete_user", map[string]string{"UserID": "wang"}))
		q = strings.Replace(q, "msg_signature=", "msg_signature=0", 1)
		resp, err := http.Post(srv.URL+wecom.CallbackPath+"?"+q, "text/xml", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Equal(t, n, handed.Load())
		require.True(t, emp("wang").Active)
	})
}
