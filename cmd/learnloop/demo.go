package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"golang.org/x/text/width"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/adapters/simulator"
	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/console/accounts"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
)

// demoToken is the admin API token the demo prints.
const demoToken = "demo-admin-token"

func demoCmd(g *globals) *cobra.Command {
	var (
		addr    string
		dbPath  string
		minutes float64
		exit    bool
		autoTap int
	)
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run a seeded class on a fast timeline with the simulator platform (no credentials needed)",
		Long: `demo starts learnloop on SQLite with the simulator platform and seeds a course, a class
and a roster of six employees on a timeline of about five minutes: reminder → check-in prompt
→ (a few simulated employees tap 签到; you tap for the others in /sim) → make-up reminder to
those still missing → the session report, printed here and available in the API.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var cleanup func()
			if dbPath == "" {
				dir, err := os.MkdirTemp("", "learnloop-demo-")
				if err != nil {
					return err
				}
				cleanup = func() { os.RemoveAll(dir) }
				dbPath = filepath.Join(dir, "demo.db")
			}
			if cleanup != nil {
				defer cleanup()
			}
			flagAddr := ""
			if cmd.Flags().Changed("addr") {
				flagAddr = addr
			}
			cfg, err := demoConfig(g.lookup, flagAddr, dbPath)
			if err != nil {
				return err
			}
			addr = cfg.HTTP.Addr
			log := demoLogger(g, cfg)
			a, err := app.New(cmd.Context(), cfg, app.Options{Logger: log})
			if err != nil {
				return err
			}
			defer a.Close()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s (use --addr): %w", addr, err)
			}
			tl := newTimeline(time.Now().UTC(), minutes)
			sess, tps, err := seedDemo(cmd.Context(), a, tl)
			if err != nil {
				return err
			}
			user, password, err := demoAccount(cmd.Context(), a)
			if err != nil {
				return err
			}
			printDemoIntro(g, a, sess, tps, tl, user, password, dbPath)

			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			eg, ectx := errgroup.WithContext(ctx)
			eg.Go(func() error { return a.Serve(ectx, ln) })
			eg.Go(func() error {
				defer func() {
					if exit {
						cancel()
					}
				}()
				return runDemoScript(ectx, g, a, sess, tl, autoTap, !exit)
			})
			return eg.Wait()
		},
	}
	c.Flags().StringVar(&addr, "addr", demoAddr, "listen address (default: LEARNLOOP_HTTP_ADDR, else "+demoAddr+")")
	c.Flags().StringVar(&dbPath, "db", "", "SQLite file (default: a temporary file removed on exit)")
	c.Flags().Float64Var(&minutes, "minutes", 5, "length of the demo timeline in minutes")
	c.Flags().BoolVar(&exit, "exit", false, "exit after printing the final report")
	c.Flags().IntVar(&autoTap, "auto-tap", 3, "how many simulated employees tap 签到 by themselves")
	return c
}

// timeline places the demo's events within the chosen length.
type timeline struct {
	start, reminder, prompt, classStart, classEnd, makeup, report time.Time
	grace, makeupWindow                                           time.Duration
	// taps are when the simulated employees tap: on time, late, make-up.
	taps [3]time.Time
}

func newTimeline(now time.Time, minutes float64) timeline {
	total := time.Duration(minutes * float64(time.Minute))
	at := func(f float64) time.Time { return now.Add(time.Duration(f * float64(total))).Truncate(time.Second) }
	return timeline{
		start: now, reminder: at(0.03), prompt: at(0.12), classStart: at(0.25), classEnd: at(0.7),
		makeup: at(0.78), report: at(0.95), grace: time.Duration(0.1 * float64(total)).Truncate(time.Second),
		makeupWindow: time.Duration(0.5 * float64(total)).Truncate(time.Second),
		taps:         [3]time.Time{at(0.16), at(0.45), at(0.85)},
	}
}

var demoRoster = []roster.Row{
	{ExternalID: "E001", Name: "张伟", Department: "销售一部", ManagerID: "M001", Platform: "simulator"},
	{ExternalID: "E002", Name: "王芳", Department: "销售一部", ManagerID: "M001", Platform: "simulator"},
	{ExternalID: "E003", Name: "李娜", Department: "市场部", ManagerID: "M002", Platform: "simulator"},
	{ExternalID: "E004", Name: "刘洋", Department: "市场部", ManagerID: "M002", Platform: "simulator"},
	{ExternalID: "E005", Name: "陈静", Department: "客服中心", ManagerID: "M002", Platform: "simulator"},
	{ExternalID: "E006", Name: "Alex Chen", Department: "R&D", ManagerID: "M001", Platform: "simulator", Locale: "en"},
}

// seedDemo plans the demo session through the same commands as the API
// and the console: the course, the session (absolute touchpoints on the
// demo's compressed timeline instead of the default plan; the check-in
// prompt an A/B test of its copy), the feedback survey and the roster.
func seedDemo(ctx context.Context, a *app.App, tl timeline) (store.Session, []store.Touchpoint, error) {
	cmds := commands(a)
	course, err := cmds.CreateCourse(ctx, cliActor, command.CourseInput{Code: ptr("COMM-101"), Title: ptr("高效沟通"), Category: ptr("通用软技能"),
		TargetLevel: ptr(3), Behaviours: &[]string{"会前明确目标", "倾听并复述对方观点", "会后 24 小时内发出纪要"}})
	if err != nil {
		return store.Session{}, nil, fmt.Errorf("seed demo course: %w", err)
	}
	opens, grace, makeup := tl.classStart.Sub(tl.start)+5*time.Second, tl.grace, tl.makeupWindow
	res, err := cmds.CreateSession(ctx, cliActor, command.SessionInput{CourseID: &course.ID, Title: ptr("高效沟通 · 第 1 期"),
		StartsAt: &tl.classStart, EndsAt: &tl.classEnd, Location: ptr("总部 3F 培训室 A"), OnlineURL: ptr("https://meeting.example.com/j/123456"),
		Teacher: ptr("赵老师"), TimeZone: ptr(a.Cfg().Timezone), Locale: ptr(string(text.ZH)), OpensBefore: &opens, Grace: &grace, MakeupAfter: &makeup,
		Plan: ptr(command.PlanNone)})
	if err != nil {
		return store.Session{}, nil, fmt.Errorf("seed demo session: %w", err)
	}
	sess := res.Session
	var tps []store.Touchpoint
	for _, spec := range []struct {
		kind, audience string
		at             time.Time
	}{
		{bot.KindReminder, store.AudienceAll, tl.reminder},
		{bot.KindCheckinPrompt, store.AudienceAll, tl.prompt},
		{bot.KindMakeupReminder, store.AudienceNotCheckedIn, tl.makeup},
	} {
		in := command.TouchpointInput{Kind: ptr(spec.kind), Anchor: ptr(store.AnchorAbsolute), At: ptr(spec.at), Audience: ptr(spec.audience)}
		if spec.kind == bot.KindCheckinPrompt {
			in.Variants = &demoPromptVariants
		}
		tp, err := cmds.CreateTouchpoint(ctx, cliActor, sess.ID, in)
		if err != nil {
			return sess, nil, fmt.Errorf("seed demo touchpoint: %w", err)
		}
		tps = append(tps, tp)
	}
	// Post-course feedback at the end, to those who checked in.
	sv, err := cmds.CreateSurvey(ctx, cliActor, sess.ID, command.SurveyInput{Template: "post_course_feedback", SendAt: ptr(tl.classEnd),
		ClosesAt: ptr(tl.classEnd.Add(24 * time.Hour)), Audience: store.AudienceCheckedIn})
	if err != nil {
		return sess, nil, fmt.Errorf("seed demo survey: %w", err)
	}
	tps = append(tps, sv.Touchpoint)
	if _, err := roster.Import(ctx, a.DB(), roster.AsAdmin(), sess.ID, demoRoster); err != nil {
		return sess, nil, fmt.Errorf("seed demo roster: %w", err)
	}
	return sess, tps, nil
}

// demoPromptVariants are the demo's A/B test: the check-in prompt's own
// copy (A) against a shorter call to action (B); the session report and
// the console's results page show it (with six people, 数据不足).
var demoPromptVariants = []command.VariantInput{
	{Weight: 1, Timing: store.TimingSame},
	{Weight: 1, Timing: store.TimingSame, Title: "到了吗？一键签到", Button: "我到了，签到"},
}

func ptr[T any](v T) *T { return &v }

func printDemoIntro(g *globals, a *app.App, sess store.Session, tps []store.Touchpoint, tl timeline, user, password, dbPath string) {
	loc := a.Cfg().Location()
	w := g.stdout
	fmt.Fprintf(w, "\nlearnloop 演示 — %s\n\n", sess.Title)
	fmt.Fprintf(w, "  培训运营台 Console:   %s\n", shellQuote(a.URL("/console/")))
	if password != "" {
		fmt.Fprintf(w, "    演示账号 account:  用户名 %s  密码 %s（管理员，仅本次演示数据库）\n", user, password)
	} else {
		fmt.Fprintf(w, "    演示账号 account:  用户名 %s（已存在于 %s，密码未改）\n", user, dbPath)
	}
	fmt.Fprintf(w, "  模拟器 Simulator:     %s\n", shellQuote(a.URL("/sim")))
	fmt.Fprintf(w, "  场次报告 Report:      curl -H 'Authorization: Bearer %s' %s\n", demoToken, shellQuote(a.URL(fmt.Sprintf("/api/v1/sessions/%d/report?format=csv", sess.ID))))
	fmt.Fprintf(w, "  指标 Metrics:         %s   健康 Health: %s\n", shellQuote(a.URL("/metrics")), shellQuote(a.URL("/readyz")))
	fmt.Fprintf(w, "  再建账号 More accounts: LEARNLOOP_DATABASE_DSN=%s learnloop account create --username NAME --role coordinator\n\n", shellQuote(dbPath))
	fmt.Fprintf(w, "  时间线 Timeline（%s；演示中免打扰时段已关闭，推送按下列时间发出）:\n", loc)
	type event struct {
		at   time.Time
		text string
	}
	var evs []event
	for _, tp := range tps {
		evs = append(evs, event{tp.RunAt, fmt.Sprintf("%s → %s", demoKind(tp.Kind), demoAudience(tp.Audience))})
	}
	evs = append(evs,
		event{tl.classStart, fmt.Sprintf("开课（%s 前签到算准时）", tl.classStart.Add(tl.grace).In(loc).Format("15:04:05"))},
		event{tl.classEnd, fmt.Sprintf("下课（补签到 %s 截止）", tl.classEnd.Add(tl.makeupWindow).In(loc).Format("15:04:05"))},
		event{tl.report, "在此打印报告"},
	)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at.Before(evs[j].at) })
	for _, e := range evs {
		fmt.Fprintf(w, "    %s  %s\n", e.at.In(loc).Format("15:04:05"), e.text)
	}
	fmt.Fprintln(w, "\n  提示：在 /sim 里选 刘洋 或 陈静，点签到卡片上的“签到”；你在 /sim 的每次点击都会显示在这里。Ctrl-C 结束演示。")
}

// runDemoScript makes a few simulated employees tap the check-in card, then
// prints the report.
func runDemoScript(ctx context.Context, g *globals, a *app.App, sess store.Session, tl timeline, autoTap int, keepRunning bool) error {
	tappers := demoRoster[:min(max(autoTap, 0), len(demoRoster))]
	tapped := map[string]bool{}
	scored := false
	echo := &tapEcho{db: a.DB(), sessionID: sess.ID, loc: a.Cfg().Location(), w: g.stdout, scripted: map[string]bool{}}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		now := time.Now()
		for i, p := range tappers {
			// Staggered: one on time, one late, one at the make-up reminder.
			due := tl.taps[i%3]
			if tapped[p.ExternalID] || now.Before(due) {
				continue
			}
			for _, card := range a.Sim().Inbox(p.ExternalID) {
				for _, b := range card.Message.Buttons {
					if b.Action != bot.ActionCheckin {
						continue
					}
					reply, err := a.Sim().Tap(ctx, a.Router(), simulator.TapRequest{User: p.ExternalID, Action: b.Action, Token: b.Token})
					if err == nil && reply.OK {
						tapped[p.ExternalID] = true
						echo.scripted["checkin:"+p.ExternalID] = true
						fmt.Fprintf(g.stdout, "  [%s] %s（模拟）点了签到：%s\n", now.In(a.Cfg().Location()).Format("15:04:05"), p.Name, reply.Toast)
					}
				}
				if tapped[p.ExternalID] {
					break
				}
			}
		}
		if !scored && now.After(tl.classEnd.Add(3*time.Second)) && len(tappers) > 0 {
			// The on-time attendee scores the class in the feedback card.
			p := tappers[0]
			for _, card := range a.Sim().Inbox(p.ExternalID) {
				for _, b := range card.Message.Buttons {
					if b.Action == bot.ActionNPS && b.Value == "9" && !scored {
						reply, err := a.Sim().Tap(ctx, a.Router(), simulator.TapRequest{User: p.ExternalID, Action: b.Action, Value: b.Value, Token: b.Token})
						if err == nil && reply.OK {
							scored = true
							echo.scripted["answer:"+p.ExternalID] = true
							fmt.Fprintf(g.stdout, "  [%s] %s（模拟）在反馈卡片中打了 9 分：%s\n", now.In(a.Cfg().Location()).Format("15:04:05"), p.Name, reply.Toast)
						}
					}
				}
			}
		}
		echo.poll(ctx)
		if now.After(tl.report) {
			if err := printDemoReport(ctx, g.stdout, a, sess.ID, now); err != nil {
				return err
			}
			if keepRunning {
				fmt.Fprintf(g.stdout, "\n  演示服务继续运行：可以继续在 %s 和 %s 里操作；Ctrl-C 结束。\n", shellQuote(a.URL("/console/")), shellQuote(a.URL("/sim")))
			}
			return nil
		}
	}
}

// demoAddr is where the demo listens unless --addr or LEARNLOOP_HTTP_ADDR
// says otherwise.
const demoAddr = "127.0.0.1:8080"

// demoConfig is the configuration of the defaults and every LEARNLOOP_*
// key like any command, over the demo's own defaults (listen address, fast
// scheduler); --addr wins over LEARNLOOP_HTTP_ADDR. The demo always runs in
// dev mode on its own SQLite file with quiet hours off and its admin token.
func demoConfig(lookup func(string) (string, bool), flagAddr, dbPath string) (*config.Config, error) {
	defaults := map[string]string{
		config.EnvName("http.addr"):               demoAddr,
		config.EnvName("scheduler.poll_interval"): "500ms",
		config.EnvName("scheduler.backoff_base"):  "2s",
		config.EnvName("security.dev_mode"):       "true",
		config.EnvName("database.driver"):         config.DriverSQLite,
		config.EnvName("database.dsn"):            dbPath,
		config.EnvName("quiet_hours.enabled"):     "false",
		config.EnvName("security.admin_tokens"):   demoToken,
	}
	forced := map[string]bool{config.EnvName("security.dev_mode"): true, config.EnvName("database.driver"): true,
		config.EnvName("database.dsn"): true, config.EnvName("quiet_hours.enabled"): true}
	// The demo is played in /sim, whatever else the environment enables.
	for _, k := range []string{"platforms.simulator.enabled", "platforms.simulator.allow_with_real_platforms"} {
		defaults[config.EnvName(k)], forced[config.EnvName(k)] = "true", true
	}
	if flagAddr != "" {
		defaults[config.EnvName("http.addr")] = flagAddr
		forced[config.EnvName("http.addr")] = true
	}
	cfg, err := config.Load("", func(k string) (string, bool) {
		if forced[k] {
			return defaults[k], true
		}
		if lookup != nil {
			if v, ok := lookup(k); ok {
				return v, true
			}
		}
		v, ok := defaults[k]
		return v, ok
	})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if !slices.Contains(cfg.Security.AdminTokens, config.Secret(demoToken)) {
		cfg.Security.AdminTokens = append(cfg.Security.AdminTokens, demoToken)
	}
	return cfg, cfg.Validate()
}

// demoLogger logs like every command, with times in the configured zone
// (the zone of the timeline printed beside the log).
func demoLogger(g *globals, cfg *config.Config) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level))
	loc := cfg.Location()
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
			a.Value = slog.TimeValue(a.Value.Time().In(loc))
		}
		return a
	}}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(g.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(g.stderr, opts))
}

// demoUser is the console account the demo creates.
const demoUser = "demo"

// demoAccount creates the demo's console admin with a fresh password, or
// leaves an existing one (a reused --db) alone and returns no password.
func demoAccount(ctx context.Context, a *app.App) (string, string, error) {
	b := make([]byte, 9)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	password := base64.RawURLEncoding.EncodeToString(b)
	_, err := accounts.Create(ctx, a.DB(), accounts.NewAccount{Username: demoUser, DisplayName: "演示管理员", Role: store.RoleAdmin, Password: password}, "demo", time.Now())
	if errors.Is(err, accounts.ErrAccountExists) {
		return demoUser, "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("create the demo account: %w", err)
	}
	return demoUser, password, nil
}

// shellQuote quotes s for any POSIX shell (and for copying from a
// terminal: '?' and '&' in URLs stay literal).
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// demoKind, demoAudience and demoCheckinKind name a push kind, an
// audience and a check-in kind in the demo's script (Chinese, like the
// demo's data).
func demoKind(k string) string { return text.Enum(text.ZH, "demo:kind", k) }

func demoAudience(a string) string { return text.Enum(text.ZH, "demo:audience", a) }

func demoCheckinKind(k string) string { return text.Enum(text.ZH, "demo:checkin", k) }

// tapEcho prints what people did in /sim (check-ins, survey answers) that
// the demo script did not do itself.
type tapEcho struct {
	db        *gorm.DB
	sessionID uint64
	loc       *time.Location
	w         io.Writer
	scripted  map[string]bool
	lastCheck uint64
	answers   map[uint64]string // response id → last status printed
}

func (e *tapEcho) poll(ctx context.Context) {
	var cks []struct {
		ID          uint64
		ExternalID  string
		Name        string
		Kind        string
		CheckedInAt time.Time
	}
	e.db.WithContext(ctx).Table("checkins").Select("checkins.id, employees.external_id, employees.name, checkins.kind, checkins.checked_in_at").
		Joins("JOIN employees ON employees.id = checkins.employee_id").
		Where("checkins.session_id = ? AND checkins.id > ?", e.sessionID, e.lastCheck).Order("checkins.id").Scan(&cks)
	for _, c := range cks {
		e.lastCheck = c.ID
		if e.scripted["checkin:"+c.ExternalID] {
			continue
		}
		fmt.Fprintf(e.w, "  [%s] %s 签到（%s）\n", c.CheckedInAt.In(e.loc).Format("15:04:05"), c.Name, demoCheckinKind(c.Kind))
	}
	if e.answers == nil {
		e.answers = map[uint64]string{}
	}
	var rs []struct {
		ID         uint64
		ExternalID string
		Name       string
		Status     string
		UpdatedAt  time.Time
	}
	e.db.WithContext(ctx).Table("survey_responses").Select("survey_responses.id, employees.external_id, employees.name, survey_responses.status, survey_responses.updated_at").
		Joins("JOIN surveys ON surveys.id = survey_responses.survey_id").
		Joins("JOIN employees ON employees.id = survey_responses.respondent_id").
		Where("surveys.session_id = ?", e.sessionID).Order("survey_responses.id").Scan(&rs)
	for _, r := range rs {
		if e.answers[r.ID] == r.Status {
			continue
		}
		e.answers[r.ID] = r.Status
		if e.scripted["answer:"+r.ExternalID] && r.Status != store.ResponseComplete {
			continue
		}
		what := "开始填写课后反馈"
		if r.Status == store.ResponseComplete {
			what = "完成了课后反馈"
		}
		fmt.Fprintf(e.w, "  [%s] %s %s\n", r.UpdatedAt.In(e.loc).Format("15:04:05"), r.Name, what)
	}
}

// printDemoReport prints the session's and the feedback's figures in
// Chinese, columns aligned by display width.
func printDemoReport(ctx context.Context, w io.Writer, a *app.App, sessionID uint64, now time.Time) error {
	rep, err := a.Commands().Reports().Session(ctx, sessionID, now)
	if err != nil {
		return err
	}
	loc := a.Cfg().Location()
	var sess store.Session
	if err := a.DB().WithContext(ctx).First(&sess, sessionID).Error; err != nil {
		return err
	}
	fmt.Fprintf(w, "\n  场次报告：%s\n", rep.Session.Title)
	rate := "—"
	if v := rep.CheckinRate.Value; v != nil {
		rate = surveys.FormatFixed(*v, 1) + "%"
	}
	kv := [][]string{
		{"状态", reports.StageLabel(text.ZH, reports.Stage(sess, now))},
		{"时间", rep.Session.StartsAt.In(loc).Format("2006-01-02 15:04") + " – " + rep.Session.EndsAt.In(loc).Format("15:04") + "（" + loc.String() + "）"},
		{"讲师", rep.Session.Teacher},
		{"名单人数", strconv.Itoa(rep.Roster)},
		{"请假", strconv.Itoa(rep.Excused)},
		{"应到人数", strconv.Itoa(rep.Eligible)},
		{"已签到", fmt.Sprintf("%d（准时 %d，迟到 %d，补签 %d）", rep.CheckedIn, rep.OnTime, rep.Late, rep.Makeup)},
		{"签到率", fmt.Sprintf("%s（%d/%d）", rate, rep.CheckedIn, rep.Eligible)},
	}
	if rep.LowCheckin {
		kv = append(kv, []string{"提示", "签到率低于 50%，需立即复盘"})
	}
	writeAligned(w, "    ", nil, kv)

	fmt.Fprintln(w, "\n  推送")
	rows := [][]string{}
	for _, t := range rep.Touchpoints {
		rows = append(rows, []string{t.RunAt.In(loc).Format("15:04:05"), demoKind(t.Kind), demoAudience(t.Audience),
			strconv.Itoa(t.Deliveries.Sent), strconv.Itoa(t.Deliveries.Failed), strconv.Itoa(t.Clicks), strconv.Itoa(t.Conversions)})
	}
	writeAligned(w, "    ", []string{"时间", "推送", "对象", "送达", "失败", "点击", "转化"}, rows)

	for _, e := range rep.Experiments {
		for _, tb := range e.Tables(text.ZH, loc) {
			fmt.Fprintf(w, "\n  %s\n", tb.Name)
			rows = rows[:0]
			for _, r := range tb.Rows {
				cells := make([]string, len(r))
				for i, c := range r {
					cells[i] = c.String()
				}
				rows = append(rows, cells)
			}
			writeAligned(w, "    ", tb.Header, rows)
			for _, n := range tb.Notes {
				fmt.Fprintf(w, "    %s\n", n)
			}
		}
	}

	fmt.Fprintln(w, "\n  学员")
	rows = rows[:0]
	for _, p := range rep.Attendees {
		st, at := "未签到", "—"
		switch {
		case p.Enrollment == store.EnrollExcused:
			st = "请假"
		case p.CheckinKind != "":
			st = demoCheckinKind(p.CheckinKind)
		}
		if p.CheckedInAt != nil {
			at = p.CheckedInAt.In(loc).Format("15:04:05")
		}
		rows = append(rows, []string{p.ExternalID, p.Name, p.Department, st, at})
	}
	writeAligned(w, "    ", []string{"工号", "姓名", "部门", "签到", "时间"}, rows)

	svs, err := reports.SessionSurveys(ctx, a.DB(), sessionID)
	if err != nil || len(svs) == 0 {
		return err
	}
	sr, err := reports.Survey(ctx, a.DB(), svs[0].ID, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n  问卷：%s\n", sr.Survey.Title)
	rr := sr.ResponseRate
	resp := "—"
	if rr.Rate != nil {
		resp = surveys.FormatFixed(*rr.Rate, 1) + "%"
	}
	kv = [][]string{{"回复率", fmt.Sprintf("%s（完整 %d / 已送达 %d，部分 %d）", resp, rr.Complete, rr.Eligible, rr.Partial)}}
	for _, d := range sr.Dimensions {
		v := "—"
		if d.Rating.Mean != nil {
			v = surveys.FormatFixed(*d.Rating.Mean, 2) + " / 5"
		}
		kv = append(kv, []string{d.Question, fmt.Sprintf("%s（n=%d）", v, d.Rating.N)})
	}
	if n := sr.NPS; n != nil {
		v := "—"
		if n.Score != nil {
			v = surveys.FormatFixed(*n.Score, 1)
			if n.MOE != nil {
				v += " ±" + surveys.FormatFixed(*n.MOE, 1)
			}
		}
		line := fmt.Sprintf("%s（n=%d）", v, n.N)
		if !n.Caveat.IsZero() {
			line += " ⚠ " + n.Caveat.In(text.ZH)
		}
		kv = append(kv, []string{"NPS", line})
	}
	writeAligned(w, "    ", nil, kv)
	return nil
}

// writeAligned writes rows (and a header, if any) in columns padded to the
// widest cell's display width: a CJK character takes two columns.
func writeAligned(w io.Writer, indent string, header []string, rows [][]string) {
	all := rows
	if header != nil {
		all = append([][]string{header}, rows...)
	}
	var widths []int
	for _, r := range all {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	for _, r := range all {
		var b strings.Builder
		b.WriteString(indent)
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// displayWidth is how many terminal columns s takes (East Asian wide and
// full-width characters two, others one).
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}
