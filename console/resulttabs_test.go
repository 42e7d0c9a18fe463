package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestResultsTabsWithoutJavaScript: the Results page's tabs are anchors to
// panels that are all on the page (none hidden by the server), each chart
// inside the panel of its figure.
func TestResultsTabsWithoutJavaScript(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	w, _ := feedbackWorld(t, db)
	r := w.li.get(w.sessA + "/results")
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	nav := between(r.Body, `<nav class="tabs result-tabs"`, "</nav>")
	for _, tab := range []struct{ href, label, inside string }{
		{"#tab-checkin", "签到", `id="checkin-rate"`},
		{"#tab-push", "推送", `data-table="touchpoints"`},
		{"#tab-surveys", "问卷", `id="survey-results"`},
	} {
		require.Contains(t, nav, `href="`+tab.href+`"`)
		require.Contains(t, plain(nav), tab.label)
		require.Contains(t, panelOf(r.Body, tab.href[1:]), tab.inside, tab.href)
		require.NotContains(t, between(r.Body, `id="`+tab.href[1:]+`"`, ">"), "hidden", tab.href)
	}
	require.Contains(t, panelOf(r.Body, "tab-checkin"), `<svg class="chart"`, "the check-in chart is beside the check-in rate")
	require.Contains(t, panelOf(r.Body, "tab-surveys"), `<svg class="chart"`, "the survey charts are beside their figures")
	require.NotContains(t, panelOf(r.Body, "tab-push"), `<svg`)
}

// panelOf is the HTML of tab panel id: up to the next panel or the end of
// the page's main element.
func panelOf(body, id string) string {
	start := `<div class="tab-panel" id="` + id + `"`
	i := strings.Index(body, start)
	if i < 0 {
		return ""
	}
	rest := body[i+len(start):]
	if j := strings.Index(rest, `<div class="tab-panel"`); j >= 0 {
		return rest[:j]
	}
	if j := strings.Index(rest, "</main>"); j >= 0 {
		return rest[:j]
	}
	return rest
}

// TestBrowserResultsTabs: with JavaScript one panel shows at a time; the
// links switch it and the address's #fragment picks it.
func TestBrowserResultsTabs(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	w, _ := feedbackWorld(t, db)
	ctx := newBrowser(t)
	base := w.e.srv.URL
	within(t, ctx, 20*time.Second, "log in",
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		chromedp.SendKeys(chromedp.ID("username"), "li"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`nav.main`)),
		chromedp.Navigate(base+w.sessA+"/results"),
		chromedp.WaitVisible(chromedp.ID("checkin-rate")),
	)
	visible := func() []string {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		ids, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".tab-panel")).filter(p => p.offsetParent !== null).map(p => p.id)`))
		require.NoError(t, err)
		return ids
	}
	current := func() string {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s, err := chromedp.Run(tctx, chromedp.Evaluate[string](`(document.querySelector("#result-tabs a[aria-current]")||{}).textContent||""`))
		require.NoError(t, err)
		return strings.TrimSpace(s)
	}
	require.Equal(t, []string{"tab-checkin"}, visible())
	require.Equal(t, "签到", current())
	within(t, ctx, 10*time.Second, "open 推送", chromedp.Click(chromedp.CSS(`#result-tabs a[href="#tab-push"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#tab-push table[data-table="touchpoints"]`)))
	require.Equal(t, []string{"tab-push"}, visible())
	require.Equal(t, "推送", current())
	within(t, ctx, 10*time.Second, "open 问卷", chromedp.Click(chromedp.CSS(`#result-tabs a[href="#tab-surveys"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#tab-surveys #survey-results svg.chart`)))
	require.Equal(t, []string{"tab-surveys"}, visible())

	// A link into a panel (#survey-results, where actions send one back)
	// opens that panel.
	within(t, ctx, 20*time.Second, "deep link",
		chromedp.Navigate(base+w.sessA+"/results#survey-results"),
		chromedp.WaitVisible(chromedp.ID("survey-results")),
	)
	require.Equal(t, []string{"tab-surveys"}, visible())
	require.Equal(t, "问卷", current())
}
