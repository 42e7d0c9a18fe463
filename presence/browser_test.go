package presence_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/console/accounts"
	"github.com/learnloop/learnloop/internal/browsertest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

func run(t *testing.T, ctx context.Context, d time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		t.Fatalf("%s: %v\npage:\n%s", what, err, html)
	}
}

func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("%v at %s\npage:\n%s", err, loc, html)
	}
	return v
}

// TestBrowserScanAtPhoneWidthAndProjector: a person scans the venue code in
// Feishu's webview at phone width and is checked in; the projector page
// rotates its code by itself, says when the code on screen no longer works
// while the network is down, and recovers.
func TestBrowserScanAtPhoneWidthAndProjector(t *testing.T) {
	db := storetest.Open(t, store.DriverSQLite)
	e := setup(t, db)
	var blocked atomic.Bool
	inner := e.srv.Config.Handler
	e.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if blocked.Load() && strings.HasSuffix(r.URL.Path, "/qr/code") {
			http.Error(w, "venue network down", http.StatusBadGateway)
			return
		}
		inner.ServeHTTP(w, r)
	})
	code, out := e.putRules(t, map[string]any{"rotate_seconds": 5})
	require.Equal(t, http.StatusOK, code, out)
	_, err := accounts.Create(context.Background(), db.DB, accounts.NewAccount{Username: "admin", Role: store.RoleAdmin, Password: "projector-password-1"}, "test", e.clk.Now())
	require.NoError(t, err)

	ctx := browsertest.New(t)

	// The phone: Feishu's webview (User-Agent), signed in to Feishu as lisi.
	phone, closePhone := chromedp.NewContext(ctx)
	defer closePhone()
	// The tab lives as long as the context of its first run: no timeout here.
	require.NoError(t, chromedp.Do(phone, chromedp.Navigate("about:blank")))
	run(t, phone, 30*time.Second, "scan in feishu",
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			if _, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: uaFeishu}); err != nil {
				return err
			}
			// A 375 px phone screen.
			if _, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 375, Height: 740, DeviceScaleFactor: 2, Mobile: true}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"X-Fake-User": "lisi"}})
			return err
		}),
		chromedp.Navigate(e.display(t).URL),
		chromedp.WaitVisible(chromedp.ID("q-heading")),
	)
	heading := get(t, phone, chromedp.Text(chromedp.ID("q-heading")))
	detail := get(t, phone, chromedp.Text(chromedp.ID("q-detail")))
	width := get(t, phone, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	viewport := get(t, phone, chromedp.Evaluate[int](`window.innerWidth`))
	require.Equal(t, "签到成功", heading)
	require.Contains(t, detail, "扫码签到")
	require.Equal(t, 375, viewport)
	require.LessOrEqual(t, width, viewport, "fits a phone screen: no sideways scrolling")
	ci, ok := e.checkin(t, "E002")
	require.True(t, ok)
	require.Equal(t, store.SourceQR, ci.Source)

	// The projector.
	first := e.display(t).URL
	run(t, ctx, 30*time.Second, "log in and open the projector",
		chromedp.Navigate(e.srv.URL+"/console/login"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), "projector-password-1"),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`nav.main`)),
		chromedp.Navigate(e.srv.URL+"/console/sessions/"+itoa(e.session.ID)+"/qr"),
		chromedp.WaitVisible(chromedp.ID("qr-img")),
	)
	room := get(t, ctx, chromedp.Text(chromedp.ID("room-code")))
	require.Len(t, strings.TrimSpace(room), 4)
	shown := get(t, ctx, chromedp.AttributeValue(chromedp.ID("qr-img"), "data-url"))
	require.Equal(t, first, shown.Value)

	// The next slot: the page fetches the new code itself.
	e.clk.Set(e.clk.Now().Add(5 * time.Second))
	next := e.display(t).URL
	require.NotEqual(t, first, next)
	run(t, ctx, 15*time.Second, "rotated", chromedp.WaitVisible(chromedp.CSS(`#qr-img[data-url="`+next+`"]`)))

	// The venue network drops: after the code's grace period the page says
	// the code on screen no longer works.
	blocked.Store(true)
	e.clk.Set(e.clk.Now().Add(5 * time.Second))
	run(t, ctx, 20*time.Second, "stale", chromedp.WaitVisible(chromedp.CSS("#qr-status.stale")))
	status := get(t, ctx, chromedp.Text(chromedp.ID("qr-status")))
	require.Contains(t, status, "已失效")

	// Back online: a fresh code and the live status.
	e.clk.Set(e.clk.Now().Add(10 * time.Second))
	latest := e.display(t).URL
	blocked.Store(false)
	run(t, ctx, 20*time.Second, "recovered",
		chromedp.WaitVisible(chromedp.CSS("#qr-status.ok")),
		chromedp.WaitVisible(chromedp.CSS(`#qr-img[data-url="`+latest+`"]`)),
	)
}

func itoa(n uint64) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{digits[n%10]}, b...)
		n /= 10
	}
	return string(b)
}
