package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestBrowserCampaign drives the campaign pages in headless Chromium on a
// laptop (1280 px) and a phone (375 px): the audience's live count while
// typing, the per-platform previews side by side on the laptop and stacked
// on the phone with nothing wider than the screen, creating the campaign,
// its page and report, the learned send time's page, and pausing it through
// the confirmation dialog; no raw text key and no console error anywhere.
func TestBrowserCampaign(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	e := newEnv(t, db)
	campaignPeople(t, e)
	e.account(t, "zhang", store.RoleCoordinator, "")
	ctx := newBrowser(t) // after newEnv: the browser closes before the server
	logs := watchConsole(ctx)
	shots := newShooter(t)
	base := e.srv.URL + "/console"

	clean := func(name string, phone bool) {
		t.Helper()
		txt, err := chromedp.Run(ctx, chromedp.Evaluate[string](pageText))
		require.NoError(t, err)
		require.Empty(t, rawKeys(txt), "%s: message keys shown instead of their text", name)
		require.Empty(t, logs.take(), "%s: console errors", name)
		if phone {
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](overflow))
			require.NoError(t, err)
			require.Empty(t, wide, "%s: wider than the phone", name)
		}
	}
	// tops are the previews' top edges: equal when side by side.
	tops := func() []int {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`Array.from(document.querySelectorAll("#previews .variant-preview:first-of-type .phone")).map(f => Math.round(f.getBoundingClientRect().top))`))
		require.NoError(t, err)
		require.Len(t, v, 3, "WeCom, Feishu and DingTalk")
		return v
	}

	var page string
	for _, size := range []struct {
		name   string
		width  int64
		height int64
		phone  bool
	}{{"laptop", 1280, 900, false}, {"phone", 375, 812, true}} {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if size.phone {
			opts = append(opts, chromedp.EmulateMobile)
		}
		within(t, ctx, 20*time.Second, "log in on the "+size.name,
			chromedp.EmulateViewport(size.width, size.height, opts...),
			chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible(chromedp.ID("login-submit")),
			chromedp.SendKeys(chromedp.ID("username"), "zhang"),
			chromedp.SendKeys(chromedp.ID("password"), testPassword),
			chromedp.Click(chromedp.ID("login-submit")),
			chromedp.WaitVisible(chromedp.CSS(`nav.main a[href="/console/campaigns"]`)),
		)
		within(t, ctx, 20*time.Second, size.name+": the campaigns", chromedp.Click(chromedp.CSS(`nav.main a[href="/console/campaigns"]`)),
			chromedp.WaitVisible(chromedp.ID("table-campaigns")))
		clean(size.name+" campaigns", size.phone)

		// The form: the live count follows the rules as they are typed.
		within(t, ctx, 20*time.Second, size.name+": new campaign", chromedp.Navigate(base+"/campaigns/new"), chromedp.WaitVisible(chromedp.ID("create-campaign")),
			chromedp.WaitVisible(chromedp.CSS(`#audience-count[data-count="5"]`)))
		require.Contains(t, text(t, ctx, "#audience-count"), "当前符合条件的在职人数：5", "no rule: every active employee")
		name := "直播推广 " + size.name
		within(t, ctx, 20*time.Second, size.name+": fill in",
			chromedp.SendKeys(chromedp.ID("c-name"), name),
			chromedp.SendKeys(chromedp.ID("c-title"), "今晚 8 点直播：高效沟通"),
			chromedp.SendKeys(chromedp.ID("c-body"), "点击进入直播间"),
			chromedp.SendKeys(chromedp.ID("btn0_url"), "https://live.example.com/r/1"),
			chromedp.SendKeys(chromedp.ID("btn1_url"), "https://doc.example.com/1"),
			chromedp.SendKeys(chromedp.ID("c-event"), "live_join"),
			chromedp.SendKeys(chromedp.ID("inc0_department"), "销售"),
			chromedp.WaitVisible(chromedp.CSS(`#audience-count[data-count="3"]`)),
			chromedp.SendKeys(chromedp.ID("exc0_tag"), "新员工"),
			chromedp.WaitVisible(chromedp.CSS(`#audience-count[data-count="2"]`)),
			chromedp.SendKeys(chromedp.ID("v1_name"), "B"),
			chromedp.SendKeys(chromedp.ID("v1_title"), "别错过：高效沟通直播"),
		)
		clean(size.name+" campaign form", size.phone)

		// Preview: each variant on each platform, nothing stored yet.
		within(t, ctx, 20*time.Second, size.name+": preview", chromedp.Click(chromedp.ID("preview-campaign")),
			chromedp.WaitVisible(chromedp.CSS("#previews .phone-dingtalk")))
		previews := text(t, ctx, "#previews")
		require.Contains(t, previews, "别错过：高效沟通直播")
		require.Contains(t, previews, "进入直播")
		require.Contains(t, text(t, ctx, "#audience-count"), "当前符合条件的在职人数：2")
		at := tops()
		if size.phone {
			require.Less(t, at[0], at[1], "stacked on a phone")
			require.Less(t, at[1], at[2])
		} else {
			require.Equal(t, at[0], at[1], "side by side on a laptop")
			require.Equal(t, at[1], at[2])
			shots.shot(ctx, "campaign-preview")
		}
		clean(size.name+" campaign preview", size.phone)
		var n int64
		require.NoError(t, db.Model(&store.Campaign{}).Where("name = ?", name).Count(&n).Error)
		require.Zero(t, n, "a preview stores nothing")

		// Create: the campaign's page with the same previews.
		within(t, ctx, 20*time.Second, size.name+": create", chromedp.Click(chromedp.ID("create-campaign")),
			chromedp.WaitVisible(chromedp.CSS(`.flash.ok[data-flash="campaign_created"]`)),
			chromedp.WaitVisible(chromedp.CSS("#previews .phone-feishu")))
		require.Contains(t, text(t, ctx, "#campaign-count"), "2")
		require.Contains(t, text(t, ctx, "#campaign-audience"), "销售")
		page, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
		require.True(t, strings.HasPrefix(page, "/console/campaigns/"), page)
		clean(size.name+" campaign", size.phone)
		if !size.phone {
			shots.shot(ctx, "campaign")
		}

		// It goes out now; the report counts it.
		e.runDue(t)
		within(t, ctx, 20*time.Second, size.name+": report", chromedp.Click(chromedp.ID("open-report")), chromedp.WaitVisible(chromedp.ID("funnel")))
		funnel := text(t, ctx, "#funnel")
		require.Contains(t, funnel, "送达人数")
		require.Contains(t, text(t, ctx, "#experiment-status"), "数据不足")
		clean(size.name+" campaign report", size.phone)
		if !size.phone {
			shots.shot(ctx, "campaign-report")
		}

		within(t, ctx, 20*time.Second, size.name+": send time", chromedp.Navigate(base+"/campaigns/send-time"), chromedp.WaitVisible(chromedp.ID("estimate-verdict")))
		require.Regexp(t, "数据不足|没有已发送", text(t, ctx, "#estimate-verdict"), "a couple of pushes are no evidence")
		clean(size.name+" send time", size.phone)

		// Pause through the dialog.
		within(t, ctx, 20*time.Second, size.name+": pause", chromedp.Navigate(e.srv.URL+page), chromedp.WaitVisible(chromedp.CSS("button.pause-campaign")),
			chromedp.Click(chromedp.CSS("button.pause-campaign")))
		confirm(t, ctx)
		within(t, ctx, 20*time.Second, size.name+": paused", chromedp.WaitVisible(chromedp.CSS(`.flash.ok[data-flash="campaign_pause"]`)),
			chromedp.WaitVisible(chromedp.CSS("button.resume-campaign")))
		require.Equal(t, "已暂停", text(t, ctx, "#campaign-status"))
		clean(size.name+" paused", size.phone)
		within(t, ctx, 20*time.Second, "sign out", chromedp.Click(chromedp.CSS(`header form button.link`)), chromedp.WaitVisible(chromedp.ID("login-submit")))
	}
	var paused int64
	require.NoError(t, db.Model(&store.Campaign{}).Where("status = ?", store.CampaignPaused).Count(&paused).Error)
	require.EqualValues(t, 2, paused, "one campaign per screen size, each paused")
}
