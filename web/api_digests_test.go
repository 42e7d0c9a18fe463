package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/console/accounts"
	"github.com/learnloop/learnloop/digests"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
)

// digestContract drives /digests…: bad input changes nothing, a
// coordinator subscribed (linking its employee), listed, previewed, sent
// once as a test to the simulator, deleted.
func digestContract(t *testing.T, r *contractRun) {
	t.Helper()
	api := apptest.APIPrefix
	_, err := accounts.Create(context.Background(), r.a.DB(), accounts.NewAccount{Username: "coach", Role: store.RoleCoordinator, Password: "correct horse battery 1"}, "test", r.clk.Now())
	require.NoError(t, err)
	var bad struct {
		Errors []struct{ Field, Code string } `json:"errors"`
	}
	r.want(422, "POST", api+"/digests", map[string]any{"account": "coach", "frequency": "daily"}, &bad)
	codes := map[string]string{}
	for _, e := range bad.Errors {
		codes[e.Field] = e.Code
	}
	require.Equal(t, map[string]string{"frequency": digests.CodeBadValue, "employee": digests.CodeRequired}, codes)
	var n int64
	require.NoError(t, r.a.DB().Model(&store.DigestSubscription{}).Count(&n).Error)
	require.Zero(t, n, "bad input stores nothing")

	var d digests.Subscription
	r.want(201, "POST", api+"/digests", map[string]any{"account": "coach", "employee": "E001", "frequency": "weekly", "time_zone": "Asia/Shanghai"}, &d)
	require.Equal(t, "E001", d.Employee)
	require.Equal(t, digests.WeeklyCron, d.Cron)
	require.NotNil(t, d.NextAt)
	id := fmt.Sprint(d.ID)
	r.want(200, "GET", api+"/digests", nil, nil)
	r.want(200, "GET", api+"/digests/"+id, nil, nil)
	r.want(200, "GET", api+"/digests/"+id+"/preview", nil, nil)
	r.want(202, "POST", api+"/digests/"+id+"/send-test", nil, nil)
	apptest.RunDue(t, r.a)
	found := false
	for _, c := range r.a.Sim().Inbox("E001") {
		found = found || c.Message.Kind == digests.Kind
	}
	require.True(t, found, "the test digest reached the simulator")
	r.want(204, "DELETE", api+"/digests/"+id, nil, nil)
	r.want(404, "GET", api+"/digests/"+id, nil, nil)
}
