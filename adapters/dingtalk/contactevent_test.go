package dingtalk_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/dingtalk"
	"github.com/learnloop/learnloop/directory"
	"github.com/learnloop/learnloop/directory/contact"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// eventFrame is a Stream EVENT frame as the gateway sends a 通讯录 event:
// the event's type, id and time in the headers, the ids in the data.
func eventFrame(t *testing.T, msgID, eventID, eventType string, at time.Time, data map[string]any) []byte {
	t.Helper()
	d, err := json.Marshal(data)
	require.NoError(t, err)
	fr, err := json.Marshal(map[string]any{
		"specVersion": "1.0", "type": "EVENT",
		"headers": map[string]string{"topic": "*", "messageId": msgID, "contentType": "application/json",
			"time": strconv.FormatInt(time.Now().UnixMilli(), 10), "eventType": eventType, "eventId": eventID,
			"eventBornTime": strconv.FormatInt(at.UnixMilli(), 10), "eventCorpId": "dingcorp01", "eventUnifiedAppId": "app-1"},
		"data": string(d),
	})
	require.NoError(t, err)
	return fr
}

func ackStatus(t *testing.T, a gwAck) string {
	t.Helper()
	var r struct {
		Status string `json:"status"`
	}
	require.NoError(t, json.Unmarshal([]byte(a.Data), &r), "ack data %s", a.Data)
	return r.Status
}

func TestStreamContactEvents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		org := newFakeOrg(t)
		now := time.Now().UTC().Truncate(time.Millisecond)
		var mu = make(chan struct{}, 1)
		mu <- struct{}{}
		clk := func() time.Time { <-mu; defer func() { mu <- struct{}{} }(); return now }
		advance := func(d time.Duration) { <-mu; now = now.Add(d); mu <- struct{}{} }
		sched := scheduler.New(db.DB, scheduler.Options{Now: clk})
		inbox := &directory.Inbox{Sched: sched, Now: clk}
		var refuse atomic.Bool
		handler := contact.HandlerFunc(func(ctx context.Context, c contact.Change) error {
			if refuse.Load() {
				return context.DeadlineExceeded
			}
			return inbox.HandleContactChange(ctx, c)
		})
		// Work notifications (no card template): Stream carries only the
		// 通讯录 events.
		b := setup(t, false, func(c *dingtalk.Config) { c.OAPIBase = org.URL }, dingtalk.WithContactHandler(handler), dingtalk.WithNow(clk))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := directory.NewSyncer(db.DB, directory.Options{Now: clk})
		src := directory.DingTalk(b.c, 2)
		(&directory.Changes{Syncer: s, Sources: map[string]directory.Source{"dingtalk": src}}).Register(sched)
		_, err := s.Sync(ctx, src, directory.RunOptions{})
		require.NoError(t, err)
		advance(time.Minute)
		runDue := func() {
			for range 3 {
				n, err := sched.RunDue(context.Background())
				require.NoError(t, err)
				if n == 0 {
					return
				}
			}
		}
		emp := func(id string) store.Employee {
			var e store.Employee
			require.NoError(t, db.Where("dingtalk_id = ?", id).Take(&e).Error)
			return e
		}

		runErr := make(chan error, 1)
		go func() { runErr <- b.c.Run(ctx, nil) }()
		gw := b.f.gw
		gw.waitConnected(t, 1)

		// 赵六 changes title and 孙八 joins: one event names both; the
		// directory reads each with user/get.
		org.mu.Lock()
		org.users[3][1]["title"] = "工程师"
		org.users[3] = append(org.users[3], map[string]any{"userid": "sun", "name": "孙八", "job_number": "E008", "dept_id_list": []int64{3}, "manager_userid": "li", "active": true})
		org.mu.Unlock()
		gw.push("f1", eventFrame(t, "f1", "ev-1", "user_modify_org", clk(), map[string]any{"userId": []string{"zhao", "sun"}, "timeStamp": clk().UnixMilli()}))
		require.Equal(t, "SUCCESS", ackStatus(t, gw.waitAck(t, "f1")))
		// Redelivered: taken once.
		gw.pushOnce(eventFrame(t, "f1", "ev-1", "user_modify_org", clk(), map[string]any{"userId": []string{"zhao", "sun"}}))
		require.Equal(t, "SUCCESS", ackStatus(t, gw.waitAck(t, "f1")))
		var jobs int64
		require.NoError(t, db.Model(&store.Job{}).Where("kind = ?", directory.JobChange).Count(&jobs).Error)
		require.EqualValues(t, 2, jobs, "one job per member named")
		runDue()
		require.Equal(t, "工程师", emp("zhao").Title)
		sun := emp("sun")
		require.Equal(t, "E008", sun.ExternalID)
		require.Equal(t, "E002", sun.ManagerID)
		require.Equal(t, "华东区", sun.Department)

		// 钱七 leaves; a department is renamed (read with department/get).
		advance(time.Minute)
		org.mu.Lock()
		org.subs[2][0]["name"] = "华东大区"
		org.mu.Unlock()
		gw.push("f2", eventFrame(t, "f2", "ev-2", "user_leave_org", clk(), map[string]any{"userId": []string{"qian"}}))
		require.Equal(t, "SUCCESS", ackStatus(t, gw.waitAck(t, "f2")))
		gw.push("f3", eventFrame(t, "f3", "ev-3", "org_dept_modify", clk(), map[string]any{"deptId": []int{3}}))
		require.Equal(t, "SUCCESS", ackStatus(t, gw.waitAck(t, "f3")))
		runDue()
		require.False(t, emp("qian").Active)
		require.Equal(t, "华东大区", emp("zhao").Department)

		// The handler cannot keep an event: answered LATER, so DingTalk
		// sends it again; the next delivery is taken.
		advance(time.Minute)
		refuse.Store(true)
		gw.push("f4", eventFrame(t, "f4", "ev-4", "org_dept_remove", clk(), map[string]any{"deptId": []int{3}}))
		require.Equal(t, "LATER", ackStatus(t, gw.waitAck(t, "f4")))
		require.Equal(t, 1, gw.unackedCount())
		refuse.Store(false)
		gw.pushOnce(eventFrame(t, "f4", "ev-4", "org_dept_remove", clk(), map[string]any{"deptId": []int{3}}))
		require.Equal(t, "SUCCESS", ackStatus(t, gw.waitAck(t, "f4")))
		runDue()
		var d store.DirectoryDepartment
		require.NoError(t, db.Where("platform = ? AND dept_id = ?", "dingtalk", "3").Take(&d).Error)
		require.False(t, d.Active)

		// Events the directory does not use are acknowledged and dropped.
		gw.push("f5", eventFrame(t, "f5", "ev-5", "chat_update_title", clk(), map[string]any{"chatId": "c1"}))
		require.Equal(t, "SUCCESS", ackStatus(t, gw.waitAck(t, "f5")))
		cancel()
		require.NoError(t, <-runErr)
	})
}
