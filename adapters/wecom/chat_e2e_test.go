package wecom_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/wecom"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// say posts a signed, encrypted text message from user as WeCom does and
// returns the passive reply's text ("" for an empty answer).
func (e *env) say(t *testing.T, user, text, msgID string) string {
	t.Helper()
	ev := wecom.TextEvent{To: e.wcfg.CorpID, From: user, Content: text, MsgID: msgID, CreateTime: e.clk.Now().Unix(), AgentID: e.wcfg.AgentID}
	q, body := wecom.SignedCallback(e.wcfg, e.wcfg.CorpID, e.clk.Now(), ev.XML())
	resp, err := http.Post(e.srv.URL+wecom.CallbackPath+"?"+q, "text/xml", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if len(b) == 0 {
		return ""
	}
	p := wecom.OpenPassiveReply(t, e.wcfg, b)
	require.Equal(t, user, p.ToUserName)
	return p.Content
}

// TestEndToEndWeComChat sends text messages through WeCom's callback into
// the app: the check-in is stored (source chat), the courses list carries
// the signed check-in link, a redelivery is handled once, and unknown
// text gets the help.
func TestEndToEndWeComChat(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		e := setupApp(t, db)
		class := apptest.Morning()
		delete(class, "teacher")
		apptest.NewSession(t, e.srv.URL, apptest.SessionSpec{
			Course:  map[string]any{"code": "COMM-102", "title": "高效沟通"},
			Session: class,
			Roster:  "external_id,name,department,platform,wecom_id\nE001,张伟,销售,wecom,zhangwei\nE002,王芳,销售,wecom,wangfang\n",
		})

		require.Contains(t, e.say(t, "zhangwei", "你好", "1001"), "签到 —", "unknown text gets the help")
		require.Contains(t, e.say(t, "zhangwei", "签到", "1002"), "不在签到时间")
		e.clk.Set(time.Date(2026, 3, 2, 1, 50, 0, 0, time.UTC))
		e.runDue(t) // the check-in prompt (start−15m)
		list := e.say(t, "zhangwei", "我的课程", "1003")
		require.Contains(t, list, "2026-03-02 10:00–12:00（Asia/Shanghai） · 3F A")
		require.Contains(t, list, e.srv.URL+"/c/", "the signed check-in page")
		e.clk.Set(time.Date(2026, 3, 2, 2, 3, 0, 0, time.UTC))
		first := e.say(t, "zhangwei", "签到", "1004")
		require.Contains(t, first, "已签到 10:03")
		e.clk.Set(e.clk.Now().Add(5 * time.Second))
		require.Equal(t, first, e.say(t, "zhangwei", "签到", "1004"), "WeCom's redelivery to this replica gets the same answer, handled once")
		require.Equal(t, int32(0), e.taps.calls.Load(), "text is not a tap")

		var cis []store.Checkin
		require.NoError(t, db.Find(&cis).Error)
		require.Len(t, cis, 1)
		require.Equal(t, store.SourceChat, cis[0].Source)
		require.Equal(t, "wecom", cis[0].Platform)
		var msgs int64
		require.NoError(t, db.Model(&store.ChatMessage{}).Where("platform = ?", "wecom").Count(&msgs).Error)
		require.EqualValues(t, 4, msgs)
	})
}
