package console_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// chromiumPath is Debian's Chromium (.ci/run installs it).
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts headless Chromium with a fresh profile. Without
// Chromium the test is skipped, except with CI=true where it fails.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is required with CI=true: %v (apt-get install chromium)", err)
		}
		t.Skipf("Chromium not found at %s (apt-get install chromium); skipping the browser test", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	require.NoError(t, chromedp.Do(ctx), "start Chromium")
	return ctx
}

// shooter writes screenshots to docs/screenshots when
// LEARNLOOP_SCREENSHOTS=1 (taken once and committed).
type shooter struct {
	t   *testing.T
	dir string
}

func newShooter(t *testing.T) shooter {
	if os.Getenv("LEARNLOOP_SCREENSHOTS") != "1" {
		return shooter{t: t}
	}
	dir := filepath.Join("..", "docs", "screenshots")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return shooter{t: t, dir: dir}
}

func (s shooter) shot(ctx context.Context, name string) {
	s.t.Helper()
	if s.dir == "" {
		return
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(s.t, err)
	require.NoError(s.t, os.WriteFile(filepath.Join(s.dir, name+".png"), buf, 0o644))
}

// within runs steps with a deadline, so a missing element fails fast with
// a message instead of hanging the test.
func within(t *testing.T, ctx context.Context, d time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
		t.Fatalf("%s: %v\npage:\n%s", what, err, html)
	}
}

// downloadXLSX clicks the export link sel into dir and returns the
// downloaded workbook (closed when the test ends) and its first sheet's
// rows.
func downloadXLSX(t *testing.T, ctx context.Context, dir, sel, what string) (*excelize.File, [][]string) {
	t.Helper()
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	within(t, ctx, 20*time.Second, what,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true),
			})
			return err
		}),
		chromedp.Click(chromedp.CSS(sel)),
	)
	var file string
	deadline := time.AfterFunc(20*time.Second, func() { t.Error("download did not finish") })
	for ev, err := range progress {
		require.NoError(t, err)
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
		require.NotEqual(t, browser.DownloadProgressStateCanceled, ev.State)
	}
	deadline.Stop()
	f, err := excelize.OpenFile(file)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	rows, err := f.GetRows(f.GetSheetList()[0])
	require.NoError(t, err)
	return f, rows
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		t.Fatalf("read %s: %v\npage:\n%s", sel, err, html)
	}
	return s
}

// confirm answers the confirmation dialog of the console's JavaScript.
func confirm(t *testing.T, ctx context.Context) {
	t.Helper()
	within(t, ctx, 10*time.Second, "confirmation dialog",
		chromedp.WaitVisible(chromedp.CSS("#confirm-dialog[open] #confirm-ok")),
		chromedp.Click(chromedp.CSS("#confirm-dialog[open] #confirm-ok")),
	)
}

// TestBrowserCoordinatorJourney drives the console in headless Chromium the
// way a coordinator uses it on class day.
func TestBrowserCoordinatorJourney(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	e := newEnv(t, db)
	ctx := newBrowser(t) // after newEnv: the browser closes before the server
	e.account(t, "zhang", store.RoleCoordinator, "")
	shots := newShooter(t)
	base := e.srv.URL + "/console"
	dir := t.TempDir()

	// Log in.
	within(t, ctx, 20*time.Second, "login page",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
	)
	shots.shot(ctx, "login")
	within(t, ctx, 20*time.Second, "log in",
		chromedp.SendKeys(chromedp.ID("username"), "zhang"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`nav.main a[href="/console/courses"]`)),
	)

	// Create a course and a session.
	within(t, ctx, 20*time.Second, "create a course",
		chromedp.Navigate(base+"/courses/new"),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), "COMM-101"),
		chromedp.SendKeys(chromedp.ID("title"), "高效沟通"),
		chromedp.Click(chromedp.ID("save-course")),
		chromedp.WaitVisible(chromedp.ID("new-session")),
	)
	within(t, ctx, 20*time.Second, "create a session",
		chromedp.Click(chromedp.ID("new-session")),
		chromedp.WaitVisible(chromedp.ID("starts_at")),
		chromedp.SetValue(chromedp.ID("starts_at"), "2026-03-02T10:00"),
		chromedp.SetValue(chromedp.ID("ends_at"), "2026-03-02T12:00"),
		chromedp.SendKeys(chromedp.ID("location"), "总部 3 楼 A 室"),
		chromedp.SendKeys(chromedp.ID("teacher"), "赵老师"),
		chromedp.Click(chromedp.ID("save-session")),
		chromedp.WaitVisible(chromedp.CSS(".session-head .tabs")),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	sessURL := strings.Split(loc, "?")[0]
	require.Contains(t, sessURL, "/console/sessions/")
	var sess store.Session
	require.NoError(t, db.Order("id DESC").First(&sess).Error)
	require.Equal(t, time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC), sess.StartsAt.UTC(), "10:00 Shanghai")

	// A roster with one bad row: every problem shown, nothing saved.
	bad := filepath.Join(dir, "roster-bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("工号,姓名,部门,平台\nE001,张伟,销售,simulator\nE002,,销售,simulator\nE003,李娜,市场,simulator\nE004,刘洋,市场,simulator\n"), 0o600))
	within(t, ctx, 20*time.Second, "upload a bad roster",
		chromedp.Navigate(sessURL+"/roster"),
		chromedp.WaitVisible(chromedp.ID("roster-file")),
		chromedp.SetUploadFiles(chromedp.ID("roster-file"), []string{bad}),
		chromedp.Click(chromedp.ID("upload-roster")),
		chromedp.WaitVisible(chromedp.ID("roster-errors")),
	)
	errs := text(t, ctx, "#roster-errors")
	require.Contains(t, errs, "3")
	require.Contains(t, errs, "name")
	require.Contains(t, errs, "必填")
	var n int64
	require.NoError(t, db.Model(&store.Enrollment{}).Count(&n).Error)
	require.Zero(t, n, "a roster with a bad row saves nothing")
	require.NoError(t, db.Model(&store.Employee{}).Count(&n).Error)
	require.Zero(t, n)
	shots.shot(ctx, "roster-errors")

	good := filepath.Join(dir, "roster.csv")
	require.NoError(t, os.WriteFile(good, []byte("工号,姓名,部门,平台,企业微信id\nE001,张伟,销售,simulator,\nE002,王芳,销售,simulator,\nE003,李娜,市场,simulator,\nE004,刘洋,市场,simulator,\nE005,赵磊,市场,wecom,gone-zhaolei\n"), 0o600))
	within(t, ctx, 20*time.Second, "upload the fixed roster",
		chromedp.SetUploadFiles(chromedp.ID("roster-file"), []string{good}),
		chromedp.Click(chromedp.ID("upload-roster")),
		chromedp.WaitVisible(chromedp.ID("roster-imported")),
	)
	require.Contains(t, text(t, ctx, "#roster-imported"), "5")
	require.NoError(t, db.Model(&store.Enrollment{}).Where("session_id = ?", sess.ID).Count(&n).Error)
	require.EqualValues(t, 5, n)

	// The timeline: add a custom message at 22:00 (end + 10 h); quiet hours
	// move it to 08:00 the next morning, and the timeline says so.
	within(t, ctx, 20*time.Second, "add a touchpoint",
		chromedp.Navigate(sessURL+"/timeline"),
		chromedp.WaitVisible(chromedp.ID("tp-kind")),
		chromedp.SetValue(chromedp.ID("tp-kind"), "custom"),
		chromedp.SetValue(chromedp.ID("tp-anchor"), "end"),
		chromedp.SetValue(chromedp.ID("tp-offset"), "10"),
		chromedp.SetValue(chromedp.ID("tp-offset-unit"), "hours"),
		chromedp.SetValue(chromedp.ID("tp-offset-dir"), "after"),
		chromedp.SendKeys(chromedp.ID("tp-note"), "请填写课后反馈"),
		chromedp.Click(chromedp.ID("save-tp")),
		chromedp.WaitVisible(chromedp.CSS(`li[data-kind="custom"] .moved`)),
	)
	require.Contains(t, text(t, ctx, `li[data-kind="custom"] .fire`), "2026-03-03 08:00")
	shots.shot(ctx, "timeline")

	// Send the check-in prompt now.
	within(t, ctx, 20*time.Second, "send now",
		chromedp.Click(chromedp.CSS(`li[data-kind="checkin_prompt"] button.send-now`)),
	)
	confirm(t, ctx)
	within(t, ctx, 20*time.Second, "sent", chromedp.WaitVisible(chromedp.CSS(`.flash.ok[data-flash="tp_sent"]`)))
	var jobs int64
	require.NoError(t, db.Model(&store.Job{}).Where("unique_key LIKE ?", "%:now").Count(&jobs).Error)
	require.EqualValues(t, 1, jobs, "send now queued a job")
	e.clk.Set(t0.Add(50 * time.Minute)) // 09:50, check-in is open
	e.runDue(t)
	require.Len(t, e.a.Sim().Inbox("E001"), 1)

	// The live board is open before anyone taps.
	within(t, ctx, 20*time.Second, "open the board",
		chromedp.Navigate(sessURL+"/board"),
		chromedp.WaitVisible(chromedp.CSS("#live-status.on")),
	)
	require.Contains(t, text(t, ctx, "#list-missing"), "张伟")

	// Two employees tap 签到 in the simulator, in another tab.
	simCtx, simCancel := chromedp.NewContext(ctx)
	defer simCancel()
	require.NoError(t, chromedp.Do(simCtx), "open a tab") // no deadline: it would close the tab
	for _, user := range []string{"E001", "E002"} {
		within(t, simCtx, 20*time.Second, "tap in /sim as "+user,
			chromedp.Navigate(e.srv.URL+"/sim?user="+user),
			chromedp.WaitVisible(chromedp.CSS(".card .btns button.primary")),
			chromedp.Click(chromedp.CSS(".card .btns button.primary")),
			chromedp.WaitVisible(chromedp.CSS(".toast")),
		)
		require.Contains(t, text(t, simCtx, ".toast"), "签到成功")
	}
	simCancel()

	// The board shows them within a few seconds, without a reload.
	within(t, ctx, 5*time.Second, "board updates live",
		chromedp.WaitVisible(chromedp.CSS(`#list-checked li[data-person="E001"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#list-checked li[data-person="E002"]`)),
	)
	require.Equal(t, "2", text(t, ctx, "#n-checked"))

	// Mark a missing person excused.
	within(t, ctx, 10*time.Second, "excuse", chromedp.Click(chromedp.CSS(`#list-missing li[data-person="E003"] button.excuse-btn`)))
	confirm(t, ctx)
	within(t, ctx, 10*time.Second, "excused",
		chromedp.WaitVisible(chromedp.CSS(`#list-excused li[data-person="E003"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash.ok[data-flash="excused"]`)),
	)
	shots.shot(ctx, "board")
	var enr store.Enrollment
	require.NoError(t, db.Joins("JOIN employees ON employees.id = enrollments.employee_id").Where("employees.external_id = ?", "E003").First(&enr).Error)
	require.Equal(t, store.EnrollExcused, enr.Status)

	// Results: 2 of 4 eligible (E005's WeCom id is unknown), with the
	// definition; then the XLSX.
	within(t, ctx, 20*time.Second, "results",
		chromedp.Navigate(sessURL+"/results"),
		chromedp.WaitVisible(chromedp.ID("checkin-rate")),
	)
	require.Contains(t, text(t, ctx, "#checkin-rate"), "50.0%")
	require.Contains(t, text(t, ctx, "#rate-definition"), "签到率")
	shots.shot(ctx, "results")

	f, rows := downloadXLSX(t, ctx, dir, `#table-attendees a[data-export="xlsx"]`, "download the attendees XLSX")
	require.Len(t, rows, 6, "header and five people")
	require.Equal(t, []string{"工号", "姓名", "部门", "报名状态", "签到类型", "签到时间", "签到方式", "未签到"}, rows[0])
	byID := map[string][]string{}
	for _, r := range rows[1:] {
		byID[r[0]] = r
	}
	require.Equal(t, "张伟", byID["E001"][1])
	require.Equal(t, "on_time", byID["E001"][4])
	require.Equal(t, "card", byID["E001"][6])
	require.Equal(t, "FALSE", strings.ToUpper(byID["E001"][7]))
	at, err := f.GetCellValue(f.GetSheetList()[0], fmt.Sprintf("F%d", rowOf(rows, "E001")))
	require.NoError(t, err)
	require.Contains(t, at, "09:50", "times are local to the session")
	require.Equal(t, "excused", byID["E003"][3])
	require.Equal(t, "TRUE", strings.ToUpper(byID["E004"][7]), "E004 is missing")
	require.Equal(t, "TRUE", strings.ToUpper(byID["E005"][7]))

	// The remaining main pages render; screenshots for the guide.
	// Delivery health tells WeCom's refusal from "not sent yet".
	within(t, ctx, 20*time.Second, "health", chromedp.Navigate(sessURL+"/health"), chromedp.WaitVisible(chromedp.CSS("table.health")))
	health := text(t, ctx, "table.health")
	require.Contains(t, health, "60111")
	require.Contains(t, health, "user not found")
	require.Contains(t, health, "尚未发送")
	require.Contains(t, text(t, ctx, "#table-failures"), "赵磊")
	shots.shot(ctx, "health")
	within(t, ctx, 20*time.Second, "course", chromedp.Navigate(base+"/courses"), chromedp.WaitVisible(chromedp.CSS("#table-courses tbody a")),
		chromedp.Click(chromedp.CSS("#table-courses tbody a")), chromedp.WaitVisible(chromedp.CSS("svg.chart")))
	shots.shot(ctx, "course")
	within(t, ctx, 20*time.Second, "home", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#table-sessions")))
	shots.shot(ctx, "home")

	// On a phone.
	within(t, ctx, 20*time.Second, "phone board",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(sessURL+"/board"),
		chromedp.WaitVisible(chromedp.CSS("#list-checked")),
	)
	shots.shot(ctx, "board-phone")

	// Every change was audited with the account as the actor.
	var actions []string
	require.NoError(t, db.Model(&store.AuditLog{}).Where("actor = ?", "zhang").Order("id").Pluck("action", &actions).Error)
	for _, want := range []string{"account.login", "course.create", "session.create", "roster.import", "touchpoint.create", "touchpoint.send_now", "enrollment.excuse"} {
		require.Contains(t, actions, want)
	}
}

func rowOf(rows [][]string, id string) int {
	for i, r := range rows {
		if len(r) > 0 && r[0] == id {
			return i + 1
		}
	}
	return 0
}

// TestBrowserSurveyTriage opens a session's survey results in headless
// Chromium after the feedback came in, tags a comment through the
// confirmation dialog and downloads the comments as XLSX.
func TestBrowserSurveyTriage(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	w, sv := feedbackWorld(t, db)
	ctx := newBrowser(t) // after the environment: the browser closes before the server
	shots := newShooter(t)
	dir := t.TempDir()
	rid := responseOf(t, db, sv, "S01")
	section := fmt.Sprintf("#survey-%d", sv.ID)
	comments := fmt.Sprintf("#table-survey-%d-comments", sv.ID)

	within(t, ctx, 20*time.Second, "log in",
		chromedp.Navigate(w.e.srv.URL+"/console/login"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		chromedp.SendKeys(chromedp.ID("username"), "li"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`nav.main a[href="/console/courses"]`)),
	)
	within(t, ctx, 20*time.Second, "survey results",
		chromedp.Navigate(w.e.srv.URL+w.sessA+"/results"),
		chromedp.Click(chromedp.CSS(`#result-tabs a[href="#tab-surveys"]`)), // the 问卷 tab
		chromedp.WaitVisible(chromedp.CSS(section+" svg.chart")),
	)
	figures := text(t, ctx, section+" dl.figures")
	require.Contains(t, figures, "+25.0 ±57.5")
	require.Contains(t, figures, "88.9% (8/9)")
	require.Contains(t, text(t, ctx, comments), "多一些案例")
	shots.shot(ctx, "survey-results")

	// Tag S01's suggestion as a short-term fix.
	button := fmt.Sprintf(`%s form:has(input[name="response_id"][value="%d"]) button.tag-short_term`, comments, rid)
	within(t, ctx, 10*time.Second, "tag a comment", chromedp.Click(chromedp.CSS(button)))
	confirm(t, ctx)
	within(t, ctx, 20*time.Second, "tagged",
		chromedp.WaitVisible(chromedp.CSS(`.flash.ok[data-flash="comment_tagged"]`)),
		chromedp.WaitVisible(chromedp.CSS(button+".pressed")),
	)
	var tag store.CommentTag
	require.NoError(t, db.Where("response_id = ? AND question_key = ?", rid, "suggestions").First(&tag).Error)
	require.Equal(t, store.TagShortTerm, tag.Tag)
	require.Equal(t, "li", tag.By)

	// The comments XLSX carries the tag.
	_, rows := downloadXLSX(t, ctx, dir, comments+` a[data-export="xlsx"]`, "download the comments XLSX")
	require.Equal(t, []string{"题目", "意见", "姓名", "工号", "分类", "需回访", "分类人"}, rows[0])
	var row []string
	for _, r := range rows[1:] {
		if len(r) > 1 && r[1] == "多一些案例" {
			row = r
		}
	}
	require.NotNil(t, row, rows)
	require.Equal(t, "销售员1", row[2])
	require.Equal(t, "short_term", row[4])
	require.Equal(t, "FALSE", strings.ToUpper(row[5]))
	require.Equal(t, "li", row[6])
}
