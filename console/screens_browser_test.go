package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// screensWorld is one finished class in New York, the way a coordinator
// and the learners leave it: course NYC-101's session on Sunday 1 March
// 2026 09:00–11:00 New York time (22:00–24:00 in Shanghai, the console's
// zone; 14:00–16:00 UTC), nine learners and one WeCom account that WeCom
// refuses, eight check-ins at 09:05 New York, their feedback answered.
type screensWorld struct {
	e       *env
	course  string // /console/courses/{id}
	sess    string // /console/sessions/{id}
	tp      string // /console/touchpoints/{id} of the make-up reminder
	vtp     string // /console/touchpoints/{id} of the custom notice with A/B variants
	teacher string
}

func newScreensWorld(t *testing.T, db *storetest.DB) *screensWorld {
	t.Helper()
	e := newEnv(t, db)
	e.account(t, "root", store.RoleAdmin, "")
	li := e.signedIn(t, "li", store.RoleCoordinator, "")
	e.clk.Set(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) // 07:00 New York, before the class

	r := li.post("/console/courses", url.Values{"code": {"NYC-101"}, "title": {"跨时区沟通"}, "target_level": {"1"}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	course := strings.Split(r.Location, "?")[0]
	r = li.post("/console/sessions", url.Values{"course_id": {idRe.FindStringSubmatch(course)[1]}, "title": {"纽约第一期"},
		"starts_at": {"2026-03-01T09:00"}, "ends_at": {"2026-03-01T11:00"}, "time_zone": {"America/New_York"}, "locale": {"zh-CN"},
		"location": {"纽约办公室 12 楼"}, "teacher": {"赵老师"}, "plan": {"default"},
		"opens_before": {"30"}, "opens_before_unit": {"minutes"}, "grace": {"10"}, "grace_unit": {"minutes"},
		"makeup_after": {"1"}, "makeup_after_unit": {"days"}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	sess := strings.Split(r.Location, "?")[0]
	var rows strings.Builder
	rows.WriteString("external_id,name,department,platform,wecom_id\n")
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&rows, "S0%d,销售员%d,销售,simulator,\n", i, i)
	}
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&rows, "M0%d,市场员%d,市场,simulator,\n", i, i)
	}
	rows.WriteString("W01,赵磊,市场,wecom,gone-zhaolei\n")
	r = li.upload(sess+"/roster", "file", "roster.csv", []byte(rows.String()))
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)

	// M03 asked in chat to be excused (请假): the roster lists the request.
	var m03 store.Employee
	require.NoError(t, db.Where("external_id = ?", "M03").First(&m03).Error)
	sid, err := strconv.ParseUint(idRe.FindStringSubmatch(sess)[1], 10, 64)
	require.NoError(t, err)
	require.NoError(t, db.Create(&store.ExcuseRequest{SessionID: sid, EmployeeID: m03.ID, Reason: "出差", Status: store.ExcusePending, Platform: "simulator"}).Error)

	// A custom notice after the class with two variants: A at its own
	// time, B two hours later with its own copy (the form's variant rows).
	r = li.post(sess+"/touchpoints", url.Values{"kind": {"custom"}, "audience": {"all"}, "note": {"课后资料已上传"}, "repeat": {"none"},
		"anchor": {"end"}, "offset": {"2"}, "offset_unit": {"hours"}, "offset_dir": {"after"}, "timing": {"fixed"},
		"variants_form": {"1"}, "v0_on": {"1"}, "v0_timing": {"same"},
		"v1_on": {"1"}, "v1_title": {"资料已就绪"}, "v1_button": {"查看资料"}, "v1_timing": {"offset"}, "v1_offset": {"4"}, "v1_offset_unit": {"hours"}, "v1_offset_dir": {"after"}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)

	e.clk.Set(time.Date(2026, 3, 1, 14, 5, 0, 0, time.UTC)) // 09:05 New York
	for _, id := range []string{"S01", "S02", "S03", "S04", "S05", "S06", "M01", "M02"} {
		r := li.post(sess+"/checkin", url.Values{"external_id": {id}, "confirmed": {"1"}})
		require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	}
	// The evening after (20:00 New York, 09:00 Shanghai): the pushes held by
	// quiet hours went out, the feedback came back.
	e.clk.Set(t0)
	e.runDue(t)
	for id, form := range feedbackAnswers {
		answerFeedback(t, e, id, form)
	}
	r = li.get(sess + "/timeline")
	m := regexp.MustCompile(`data-tp="(\d+)" data-kind="makeup_reminder"`).FindStringSubmatch(r.Body)
	require.NotNil(t, m, r.Body)
	vm := regexp.MustCompile(`data-tp="(\d+)" data-kind="custom"`).FindStringSubmatch(r.Body)
	require.NotNil(t, vm, r.Body)
	require.Contains(t, r.Body, `data-variants="2"`, "the timeline shows the A/B split")
	var tc store.Teacher
	require.NoError(t, db.Where("name = ?", "赵老师").First(&tc).Error)
	return &screensWorld{e: e, course: course, sess: sess, tp: "/console/touchpoints/" + m[1], vtp: "/console/touchpoints/" + vm[1], teacher: fmt.Sprint(tc.ID)}
}

// screen is one console page the browser test visits.
type screen struct {
	name string
	path string // under the server; "" stays on the page
	// ready is visible once the page is usable.
	ready string
	// times are what the page must show of the New York session, in New
	// York time; zone pages must show none of its times in another zone.
	times []string
	zone  bool
	// notFound: the page answers 404, which the console logs.
	notFound bool
	// shot names the README screenshot taken of it on the laptop.
	shot string
}

// consoleLog keeps what the page wrote to the browser's console.
type consoleLog struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

func watchConsole(ctx context.Context) *consoleLog {
	l := &consoleLog{}
	msgs := chromedp.Console(ctx) // subscribed now: nothing is lost
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			l.mu.Lock()
			l.msgs = append(l.msgs, m)
			l.mu.Unlock()
		}
	}()
	return l
}

// take returns and forgets the errors and warnings written so far.
func (l *consoleLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, m := range l.msgs {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
			out = append(out, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line))
		}
	}
	l.msgs = nil
	return out
}

// pageText is everything a person reads on the page: the visible text,
// the title, option labels, the times in date and time fields and the
// texts of title, placeholder, aria-label and confirmation attributes.
const pageText = `(() => {
  const parts = [document.title, document.body.innerText];
  const attrs = ["title", "placeholder", "aria-label", "data-confirm", "data-ok", "data-lost"];
  for (const el of document.querySelectorAll(attrs.map(a => "[" + a + "]").join(","))) {
    for (const a of attrs) { const v = el.getAttribute(a); if (v) parts.push(v); }
  }
  for (const o of document.querySelectorAll("option")) parts.push(o.textContent);
  for (const i of document.querySelectorAll("input[type=datetime-local], input[type=time]")) parts.push(i.value);
  return parts.join("\n");
})()`

// overflow lists the elements wider than the window (none when the page
// does not scroll sideways).
const overflow = `(() => {
  const w = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= w) return [];
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right > w + 1 && getComputedStyle(el).position !== "fixed") {
      let inScroll = false;
      for (let p = el.parentElement; p; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === "auto" || o === "scroll" || o === "hidden") { inScroll = true; break; }
      }
      if (!inScroll) out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + String(el.className).split(" ").join(".") : "") + " right=" + Math.round(r.right));
    }
    if (out.length >= 5) break;
  }
  return out.length ? out : ["document " + document.documentElement.scrollWidth + "px wide"];
})()`

// rawKey finds a message key shown instead of its text ("repeat.preview",
// "tp.err_cron"): lowercase words joined by dots, not a file or host name.
var rawKey = regexp.MustCompile(`(?:^|[^A-Za-z0-9_./:@-])([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)`)

var notKeys = []string{"com", "cn", "net", "org", "io", "csv", "xlsx", "yaml", "yml", "json", "png", "html", "js", "css", "go", "md", "txt", "local"}

func rawKeys(text string) []string {
	var out []string
	for _, m := range rawKey.FindAllStringSubmatchIndex(text, -1) {
		i, j := m[2], m[3]
		k := strings.TrimRight(text[i:j], ".")
		if !strings.Contains(k, ".") || strings.Index(k, ".") < 2 || slices.Contains(notKeys, k[strings.LastIndex(k, ".")+1:]) {
			// not a key: "e.g.", a file or a host name
			continue
		}
		if i > 0 && text[i-1] == '(' && j < len(text) && text[j] == ')' {
			continue // a code shown beside its label on purpose: "登录 (account.login)"
		}
		if configKeys[k] {
			continue // a setting named for the admin: "directory.sync_cron"
		}
		out = append(out, k)
	}
	return out
}

// configKeys are the YAML paths of the configuration ("quiet_hours.start").
var configKeys = func() map[string]bool {
	b, err := yaml.Marshal(config.Default())
	if err != nil {
		panic(err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal(b, &tree); err != nil {
		panic(err)
	}
	keys := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		keys[prefix] = true
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				walk(prefix+"."+k, x)
			}
		}
	}
	for k, v := range tree {
		walk(k, v)
	}
	return keys
}()

// The New York session's instants in the wrong zones: its start, end and
// the check-ins in Shanghai time and in UTC.
var wrongZone = []string{
	"2026-03-01 22:00", "2026-03-02 00:00", "2026-03-01 22:05", // Shanghai
	"2026-03-01 14:00", "2026-03-01 16:00", "2026-03-01 14:05", // UTC
	"22:00–00:00", "14:00–16:00", "22:05", "14:05",
}

// TestBrowserEveryScreen opens every console screen in headless Chromium
// on a phone (375 px) and a laptop (1280 px): each loads without console
// errors, shows no message key instead of its text, does not scroll
// sideways on the phone, and shows the New York session's times in New
// York time. On the laptop it also fills in the repeat picker and watches
// the live preview.
func TestBrowserEveryScreen(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	w := newScreensWorld(t, db)
	ctx := newBrowser(t) // after the environment: the browser closes before the server
	logs := watchConsole(ctx)
	shots := newShooter(t)
	base := w.e.srv.URL

	start := []string{"2026-03-01 09:00"}
	screens := []screen{
		{name: "home", path: "/console/", ready: "#table-sessions", times: start, zone: true},
		{name: "courses", path: "/console/courses", ready: "#table-courses"},
		{name: "course", path: w.course, ready: "#table-sessions", times: start, zone: true},
		{name: "course form", path: w.course + "/edit", ready: "#save-course"},
		{name: "session", path: w.sess, ready: ".session-head .tabs", times: []string{"09:00"}, zone: true},
		{name: "session form", path: w.sess + "/edit", ready: "#save-session", times: []string{"2026-03-01T09:00"}, zone: true, shot: "session-form"},
		{name: "new session", path: "/console/sessions/new", ready: "#save-session"},
		{name: "copy session", path: w.sess + "/copy", ready: "main form"},
		{name: "timeline", path: w.sess + "/timeline", ready: ".variants-split [data-variant=B] .card-preview", times: start, zone: true},
		{name: "touchpoint form", path: w.tp + "/edit", ready: "#save-tp", zone: true},
		{name: "touchpoint variants", path: w.vtp + "/edit", ready: "#tp-variants [data-variant=B]", zone: true},
		{name: "roster", path: w.sess + "/roster", ready: "#excuse-requests [data-approve]"},
		{name: "board", path: w.sess + "/board", ready: "#list-checked", times: []string{"09:05"}, zone: true},
		{name: "results: check-in", path: w.sess + "/results", ready: "#checkin-rate", times: []string{"09:05"}, zone: true},
		{name: "results: pushes", path: w.sess + "/results#tab-push", ready: "#tab-push section.experiment", zone: true},
		{name: "results: surveys", path: w.sess + "/results#tab-surveys", ready: "#tab-surveys svg.chart", zone: true},
		{name: "delivery health", path: w.sess + "/health", ready: "table.health", zone: true},
		{name: "presence", path: w.sess + "/presence", ready: "main form", zone: true},
		{name: "qr", path: w.sess + "/qr", ready: "img", times: []string{"09:00"}, zone: true},
		{name: "campaigns", path: "/console/campaigns", ready: "main"},
		{name: "new campaign", path: "/console/campaigns/new", ready: "main form"},
		{name: "campaign send time", path: "/console/campaigns/send-time", ready: "main"},
		{name: "teachers", path: "/console/teachers?year=2026", ready: "main", times: start, zone: true},
		{name: "audit", path: "/console/audit", ready: "main table"},
		{name: "accounts", path: "/console/accounts", ready: "main table"},
		{name: "directory", path: "/console/directory", ready: "main"},
		{name: "webhooks", path: "/console/webhooks", ready: "#new-webhook form"},
		{name: "digests", path: "/console/digests", ready: "#new-digest form"},
		{name: "password", path: "/console/password", ready: "main form"},
		{name: "not found", path: "/console/sessions/999999", ready: "main", notFound: true},
	}
	var check checker = func(t *testing.T, name string, phone bool, sc screen) {
		t.Helper()
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string](pageText))
		require.NoError(t, err)
		require.Empty(t, rawKeys(text), "%s: message keys shown instead of their text", name)
		errs := logs.take()
		if sc.notFound {
			errs = slices.DeleteFunc(errs, func(m string) bool { return strings.Contains(m, "status of 404") && strings.Contains(m, sc.path) })
		}
		require.Empty(t, errs, "%s: console errors", name)
		if phone {
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](overflow))
			require.NoError(t, err)
			require.Empty(t, wide, "%s: wider than the phone", name)
		}
		for _, want := range sc.times {
			require.Contains(t, text, want, "%s: the session's time in its zone", name)
		}
		if sc.zone {
			for _, bad := range wrongZone {
				require.NotContains(t, text, bad, "%s: a time of the New York session outside its zone", name)
			}
		}
	}
	for _, size := range []struct {
		name   string
		width  int64
		height int64
		phone  bool
	}{{"phone", 375, 812, true}, {"laptop", 1280, 900, false}} {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if size.phone {
			opts = append(opts, chromedp.EmulateMobile)
		}
		within(t, ctx, 20*time.Second, "log in on the "+size.name,
			chromedp.EmulateViewport(size.width, size.height, opts...),
			chromedp.Navigate(base+"/console/login"),
			chromedp.WaitVisible(chromedp.ID("login-submit")),
		)
		check(t, size.name+" login", size.phone, screen{})
		within(t, ctx, 20*time.Second, "log in",
			chromedp.SendKeys(chromedp.ID("username"), "root"),
			chromedp.SendKeys(chromedp.ID("password"), testPassword),
			chromedp.Click(chromedp.ID("login-submit")),
			chromedp.WaitVisible(chromedp.CSS(`nav.main a[href="/console/courses"]`)),
		)
		for _, sc := range screens {
			name := size.name + " " + sc.name
			within(t, ctx, 20*time.Second, name, chromedp.Navigate(base+sc.path), chromedp.WaitVisible(chromedp.CSS(sc.ready)))
			check(t, name, size.phone, sc)
			if sc.shot != "" && !size.phone {
				shots.shot(ctx, sc.shot)
			}
		}
		if !size.phone {
			livePreview(t, ctx, w, logs, shots)
			english(t, ctx, w, logs, screens, check)
		}
		within(t, ctx, 20*time.Second, "log out",
			chromedp.Navigate(base+"/console/"),
			chromedp.Click(chromedp.CSS(`header form[action="/console/logout"] button`)),
			chromedp.WaitVisible(chromedp.ID("login-submit")),
		)
	}
}

// livePreview fills in the repeat picker on the timeline: every Monday
// at 20:00 New York time. The preview follows as it is filled in, with
// the scheduler's times in New York time, and nothing is saved until
// 保存.
func livePreview(t *testing.T, ctx context.Context, w *screensWorld, logs *consoleLog, shots shooter) {
	t.Helper()
	choose := func(sel, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); })()`, sel, value))
	}
	within(t, ctx, 20*time.Second, "the picker",
		chromedp.Navigate(w.e.srv.URL+w.sess+"/timeline"),
		chromedp.WaitVisible(chromedp.ID("tp-repeat")),
		chromedp.WaitVisible(chromedp.CSS("#tp-preview ol.fires")), // previewed on load: once, an hour before the start
		chromedp.WaitNotVisible(chromedp.ID("tp-repeat-time")),     // the picker's rule fields wait for a rule
		chromedp.SendKeys(chromedp.ID("tp-note"), "本周复盘"),
		choose("#tp-repeat", "weekly"),
		chromedp.WaitVisible(chromedp.ID("tp-day-1")),
		chromedp.WaitNotVisible(chromedp.ID("tp-offset")), // a rule has no offset
		// Half filled in (weekly, no day yet): the preview lists the
		// refusal, and the browser logs no failed request for it.
		chromedp.Poll[chromedp.Void](`document.querySelector("#tp-preview").textContent.includes("请至少勾选一天")`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Click(chromedp.ID("tp-day-1")),
		choose("#tp-repeat-time", "20:00"),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#tp-preview ol.fires li").length === 5 && document.querySelector("#tp-preview").textContent.includes("20:00")`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	got := text(t, ctx, "#tp-preview")
	for _, want := range []string{"接下来 5 次发送时间", "America/New_York", "2026-03-02 20:00 周一", "2026-03-09 20:00 周一", "2026-03-30 20:00 周一"} {
		require.Contains(t, got, want)
	}
	require.NotContains(t, got, "09:00 周二", "not Shanghai's 09:00 Tuesday")
	require.Empty(t, logs.take(), "the live preview writes no console errors")
	shots.shot(ctx, "timeline-picker")
	var before int64
	require.NoError(t, w.e.db.Model(&store.Touchpoint{}).Count(&before).Error)
	within(t, ctx, 20*time.Second, "save the rule",
		chromedp.Click(chromedp.ID("save-tp")),
		chromedp.WaitVisible(chromedp.CSS(`.flash.ok[data-flash="tp_created"]`)),
	)
	require.Contains(t, text(t, ctx, "#timeline"), "每周周一 20:00")
	var tp store.Touchpoint
	require.NoError(t, w.e.db.Order("id DESC").First(&tp).Error)
	require.Equal(t, "0 20 * * 1", tp.CronSpec)
	require.Equal(t, "2026-03-02 20:00", tp.RunAt.In(mustZone(t, "America/New_York")).Format("2006-01-02 15:04"))
	var after int64
	require.NoError(t, w.e.db.Model(&store.Touchpoint{}).Count(&after).Error)
	require.Equal(t, before+1, after, "the previews saved nothing, 保存 one touchpoint")
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// checker runs the checks every screen passes.
type checker func(t *testing.T, name string, phone bool, sc screen)

// chinese lists the console's own words still in Chinese on a page shown
// in English: headings, labels, buttons, table heads, hints and messages,
// without the data in them (names, titles, places, form values) and the
// language switch, which says 中文.
const chinese = `(() => {
  const out = [];
  const own = "header.top, nav, th, legend, button, label, h2, .tabs a, .field-error, .flash, p.muted, .empty, .preview p";
  for (const el of document.querySelectorAll(own)) {
    const c = el.cloneNode(true);
    c.querySelectorAll("select, input, textarea, td, a[href*='/courses/'], strong, .who, a.lang").forEach(n => n.remove());
    const t = c.textContent.replace(/“[^”]*”|"[^"]*"/g, "“…”").replace(/\s+/g, " ").trim(); // a quoted name is data
    const m = t.match(/.{0,30}[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+.{0,30}/);
    if (m) out.push(el.tagName.toLowerCase() + ": " + m[0]);
  }
  return [...new Set(out)];
})()`

// english switches the console to English and opens every screen again:
// the same checks, and none of the console's own words left in Chinese.
func english(t *testing.T, ctx context.Context, w *screensWorld, logs *consoleLog, screens []screen, check checker) {
	t.Helper()
	within(t, ctx, 20*time.Second, "switch to English",
		chromedp.Navigate(w.e.srv.URL+"/console/"),
		chromedp.Click(chromedp.CSS("header a.lang")),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #table-sessions`)),
	)
	for _, sc := range screens {
		name := "english " + sc.name
		within(t, ctx, 20*time.Second, name, chromedp.Navigate(w.e.srv.URL+sc.path), chromedp.WaitVisible(chromedp.CSS(sc.ready)))
		sc.times = nil // the Chinese pages' words around them
		check(t, name, false, sc)
		left, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](chinese))
		require.NoError(t, err)
		require.Empty(t, left, "%s: the console's own words untranslated", name)
	}
	within(t, ctx, 20*time.Second, "back to Chinese",
		chromedp.Click(chromedp.CSS("header a.lang")),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="zh-CN"] main`)),
	)
}
