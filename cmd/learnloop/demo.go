package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
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
			cfg := config.Default()
			cfg.Security.DevMode = true
			cfg.Security.AdminTokens = []config.Secret{demoToken}
			cfg.QuietHours.Enabled = false
			cfg.HTTP.Addr = addr
			cfg.HTTP.PublicURL = "http://" + addr
			cfg.Scheduler.PollInterval = config.Duration(500 * time.Millisecond)
			cfg.Scheduler.BackoffBase = config.Duration(2 * time.Second)
			if dbPath == "" {
				dir, err := os.MkdirTemp("", "learnloop-demo-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				dbPath = filepath.Join(dir, "demo.db")
			}
			cfg.Database.Driver, cfg.Database.DSN = config.DriverSQLite, dbPath
			if err := cfg.Validate(); err != nil {
				return err
			}
			log := g.logger(cfg)
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
			printDemoIntro(g, a, sess, tps, tl)

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
				return runDemoScript(ectx, g, a, sess, tl, autoTap)
			})
			return eg.Wait()
		},
	}
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
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

func seedDemo(ctx context.Context, a *app.App, tl timeline) (store.Session, []store.Touchpoint, error) {
	var sess store.Session
	var tps []store.Touchpoint
	err := a.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		course := store.Course{Code: "COMM-101", Title: "高效沟通", Category: "通用软技能", TargetLevel: 3, Behaviours: `["会前明确目标","倾听并复述对方观点","会后 24 小时内发出纪要"]`}
		if err := tx.Create(&course).Error; err != nil {
			return err
		}
		teacher := store.Teacher{Name: "赵老师", Internal: true}
		if err := tx.Create(&teacher).Error; err != nil {
			return err
		}
		sess = store.Session{
			CourseID: course.ID, Title: "高效沟通 · 第 1 期", StartsAt: tl.classStart, EndsAt: tl.classEnd,
			Location: "总部 3F 培训室 A", OnlineURL: "https://meeting.example.com/j/123456", TeacherID: &teacher.ID,
			TimeZone: a.Cfg.Timezone, Locale: "zh-CN", Status: store.SessionPlanned,
			CheckinOpensBefore: int64(tl.classStart.Sub(tl.start)/time.Second) + 5, CheckinGrace: int64(tl.grace / time.Second),
			MakeupAfter: int64(tl.makeupWindow / time.Second),
		}
		if err := tx.Create(&sess).Error; err != nil {
			return err
		}
		at := func(t time.Time) *time.Time { return &t }
		for _, tp := range []store.Touchpoint{
			{Kind: bot.KindReminder, Anchor: store.AnchorAbsolute, At: at(tl.reminder), Audience: store.AudienceAll},
			{Kind: bot.KindCheckinPrompt, Anchor: store.AnchorAbsolute, At: at(tl.prompt), Audience: store.AudienceAll},
			{Kind: bot.KindMakeupReminder, Anchor: store.AnchorAbsolute, At: at(tl.makeup), Audience: store.AudienceNotCheckedIn},
		} {
			tp := tp
			if err := a.Planner.Create(ctx, tx, &tp, sess); err != nil {
				return err
			}
			tps = append(tps, tp)
		}
		// Post-course feedback at the end, to those who checked in.
		def, err := surveys.BuiltinByKey("post_course_feedback")
		if err != nil {
			return err
		}
		sv, err := a.Surveys.NewSurvey(ctx, tx, def, sess.ID, course.ID, false, tl.classStart, tl.classEnd.Add(24*time.Hour))
		if err != nil {
			return err
		}
		fb := store.Touchpoint{Kind: surveys.KindFeedback, Anchor: store.AnchorAbsolute, At: at(tl.classEnd), Audience: store.AudienceCheckedIn, SurveyID: sv.ID}
		if err := a.Planner.Create(ctx, tx, &fb, sess); err != nil {
			return err
		}
		tps = append(tps, fb)
		return nil
	})
	if err != nil {
		return sess, nil, fmt.Errorf("seed demo: %w", err)
	}
	if _, err := roster.Import(ctx, a.DB, roster.AsAdmin(), sess.ID, demoRoster); err != nil {
		return sess, nil, fmt.Errorf("seed demo roster: %w", err)
	}
	return sess, tps, nil
}

func printDemoIntro(g *globals, a *app.App, sess store.Session, tps []store.Touchpoint, tl timeline) {
	loc := a.Cfg.Location()
	w := g.stdout
	fmt.Fprintf(w, "\nlearnloop demo — %s\n\n", sess.Title)
	fmt.Fprintf(w, "  模拟器 Simulator (open this):  %s\n", a.URL("/sim"))
	fmt.Fprintf(w, "  Session report (JSON):        %s   (Authorization: Bearer %s)\n", a.URL(fmt.Sprintf("/api/v1/sessions/%d/report", sess.ID)), demoToken)
	fmt.Fprintf(w, "  curl -H 'Authorization: Bearer %s' %s\n", demoToken, a.URL(fmt.Sprintf("/api/v1/sessions/%d/report?format=csv", sess.ID)))
	fmt.Fprintf(w, "  Metrics: %s   Health: %s\n\n", a.URL("/metrics"), a.URL("/readyz"))
	fmt.Fprintf(w, "  Timeline (%s):\n", loc)
	sort.Slice(tps, func(i, j int) bool { return tps[i].RunAt.Before(tps[j].RunAt) })
	for _, tp := range tps {
		fmt.Fprintf(w, "    %s  %-16s → %s\n", tp.RunAt.In(loc).Format("15:04:05"), tp.Kind, tp.Audience)
	}
	fmt.Fprintf(w, "    %s  class starts (on time until %s), ends %s\n", tl.classStart.In(loc).Format("15:04:05"), tl.classStart.Add(tl.grace).In(loc).Format("15:04:05"), tl.classEnd.In(loc).Format("15:04:05"))
	fmt.Fprintf(w, "    %s  report printed here\n\n", tl.report.In(loc).Format("15:04:05"))
	fmt.Fprintln(w, "  Tip: in /sim pick 刘洋 or 陈静 and tap 签到 on the check-in card; Ctrl-C stops the demo.")
}

// runDemoScript makes a few simulated employees tap the check-in card, then
// prints the report.
func runDemoScript(ctx context.Context, g *globals, a *app.App, sess store.Session, tl timeline, autoTap int) error {
	tappers := demoRoster[:min(max(autoTap, 0), len(demoRoster))]
	tapped := map[string]bool{}
	scored := false
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
			for _, card := range a.Sim.Inbox(p.ExternalID) {
				for _, b := range card.Message.Buttons {
					if b.Action != bot.ActionCheckin {
						continue
					}
					reply, err := a.Router.HandleInteraction(ctx, bot.Interaction{Platform: bot.PlatformSimulator, UserID: p.ExternalID, Action: b.Action, Token: b.Token, Source: store.SourceCard})
					if err == nil && reply.OK {
						tapped[p.ExternalID] = true
						fmt.Fprintf(g.stdout, "  [%s] %s tapped 签到: %s\n", now.In(a.Cfg.Location()).Format("15:04:05"), p.Name, reply.Toast)
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
			for _, card := range a.Sim.Inbox(p.ExternalID) {
				for _, b := range card.Message.Buttons {
					if b.Action == bot.ActionNPS && b.Value == "9" && !scored {
						reply, err := a.Router.HandleInteraction(ctx, bot.Interaction{Platform: bot.PlatformSimulator, UserID: p.ExternalID, Action: b.Action, Value: b.Value, Token: b.Token, Source: store.SourceCard})
						if err == nil && reply.OK {
							scored = true
							fmt.Fprintf(g.stdout, "  [%s] %s scored the class 9 in the feedback card: %s\n", now.In(a.Cfg.Location()).Format("15:04:05"), p.Name, reply.Toast)
						}
					}
				}
			}
		}
		if now.After(tl.report) {
			rep, err := reports.Session(ctx, a.DB, sess.ID, now)
			if err != nil {
				return err
			}
			fmt.Fprintln(g.stdout)
			if err := rep.WriteTable(g.stdout, "zh-CN"); err != nil {
				return err
			}
			if svs, err := reports.SessionSurveys(ctx, a.DB, sess.ID); err == nil && len(svs) > 0 {
				if sr, err := reports.Survey(ctx, a.DB, svs[0].ID, now); err == nil {
					fmt.Fprintln(g.stdout)
					if err := reports.WriteTablesText(g.stdout, sr.Tables()[:1]); err != nil {
						return err
					}
				}
			}
			fmt.Fprintf(g.stdout, "\n  The service keeps running: explore %s and the API; Ctrl-C to stop.\n", a.URL("/sim"))
			return nil
		}
	}
}
