package simulator_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/simulator"
	"github.com/learnloop/learnloop/bot"
)

func card(key string) bot.Message {
	return bot.Message{Key: key, Kind: bot.KindCheckinPrompt, Title: "签到提醒：高效沟通", Body: "请签到",
		Buttons: []bot.Button{{Text: "签到", Action: bot.ActionCheckin, Token: "tok-" + key, Primary: true}, {Text: "进入课堂", Action: bot.ActionLink, URL: "https://x.example/l/abc"}}}
}

func TestSendIsIdempotentAndUpdatable(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	c := simulator.New(simulator.Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	to := bot.Recipient{EmployeeID: 1, UserID: "E1"}
	r1, err := c.Send(ctx, to, card("k1"))
	require.NoError(t, err)
	r2, err := c.Send(ctx, to, card("k1"))
	require.NoError(t, err)
	require.Equal(t, r1, r2, "same key, same card")
	require.Equal(t, 1, c.Sends())
	require.Len(t, c.Inbox("E1"), 1)

	_, err = c.Send(ctx, to, bot.Message{Key: "bad"})
	var perm *bot.PermanentError
	require.ErrorAs(t, err, &perm, "an invalid card is a permanent failure")

	upd := card("k1")
	upd.Status, upd.Buttons = "已签到 09:02 ✓", nil
	require.NoError(t, c.UpdateCard(ctx, to, r1.Handle, upd))
	got := c.Inbox("E1")[0]
	require.Equal(t, "已签到 09:02 ✓", got.Message.Status)
	require.Equal(t, 1, got.Updates)
	require.ErrorIs(t, c.UpdateCard(ctx, bot.Recipient{UserID: "E2"}, r1.Handle, upd), simulator.ErrUnknownCard, "only the recipient's own card")
	require.ErrorIs(t, c.UpdateCard(ctx, to, "nope", upd), simulator.ErrUnknownCard)
}

func TestPageAndTapForm(t *testing.T) {
	t.Parallel()
	c := simulator.New(simulator.Options{Directory: func(context.Context) ([]simulator.User, error) {
		return []simulator.User{{ID: "E1", Name: "张伟", Department: "销售"}, {ID: "E2", Name: "王芳"}}, nil
	}})
	_, err := c.Send(context.Background(), bot.Recipient{UserID: "E1"}, card("k1"))
	require.NoError(t, err)
	var got bot.Interaction
	done := card("k1")
	done.Status, done.Buttons = "已签到 09:02 ✓", nil
	h := bot.InteractionHandlerFunc(func(_ context.Context, in bot.Interaction) (bot.Reply, error) {
		got = in
		return bot.Reply{OK: true, Toast: "签到成功 09:02", Card: &done}, nil
	})
	srv := httptest.NewServer(c.Handler("/sim", h, time.UTC, nil))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/sim?user=E1")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	require.Contains(t, page, "签到提醒：高效沟通")
	require.Contains(t, page, "张伟")
	require.Contains(t, page, `value="tok-k1"`)
	require.Contains(t, page, `href="https://x.example/l/abc"`)

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.PostForm(srv.URL+"/sim/tap", url.Values{"user": {"E1"}, "token": {"tok-k1"}, "action": {"checkin"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.True(t, strings.Contains(resp.Header.Get("Location"), "toast="), resp.Header.Get("Location"))
	require.Equal(t, bot.Interaction{Platform: bot.PlatformSimulator, UserID: "E1", Action: "checkin", Token: "tok-k1", Source: "card", At: got.At}, got)
	// The simulator applied the reply's card itself.
	box := c.Inbox("E1")
	require.Len(t, box, 1)
	require.Equal(t, "已签到 09:02 ✓", box[0].Message.Status)
	require.Equal(t, 1, box[0].Updates)

	resp, err = http.Post(srv.URL+"/sim/api/tap", "application/json", strings.NewReader(`{"user":"E1"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestInboxesStayWithinTheirCaps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		perUser, total int
		sends          []string // user of each send, in order
		want           map[string][]string
		dropped        int
	}{
		{"total cap drops the oldest card anywhere", 10, 3, []string{"A", "B", "A", "B", "A"},
			map[string][]string{"A": {"k4", "k2"}, "B": {"k3"}}, 2},
		{"an inbox emptied by the total cap is gone", 10, 2, []string{"A", "B", "B"},
			map[string][]string{"B": {"k2", "k1"}}, 1},
		{"per-user and total caps together", 1, 2, []string{"A", "A", "B", "C"},
			map[string][]string{"B": {"k2"}, "C": {"k3"}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := simulator.New(simulator.Options{MaxPerUser: tc.perUser, MaxCards: tc.total})
			ctx := context.Background()
			for i, u := range tc.sends {
				_, err := c.Send(ctx, bot.Recipient{UserID: u}, card("k"+string(rune('0'+i))))
				require.NoError(t, err)
			}
			for _, u := range []string{"A", "B", "C"} {
				var keys []string
				for _, cd := range c.Inbox(u) {
					keys = append(keys, cd.Key)
				}
				require.Equal(t, tc.want[u], keys, "inbox of %s, newest first", u)
			}
			require.Equal(t, tc.dropped, c.Dropped())
			require.Equal(t, len(tc.sends), c.Sends())
			require.ErrorIs(t, c.UpdateCard(ctx, bot.Recipient{UserID: tc.sends[0]}, "k0", card("k0")), simulator.ErrUnknownCard, "a dropped card is gone")
		})
	}
}
