// Package app wires learnloop together from a Config: database, scheduler,
// adapters, the bot core and the HTTP server. cmd/learnloop and the end-to-end
// tests build the service through it, so both run the same wiring.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/adapters/dingtalk"
	"github.com/learnloop/learnloop/adapters/feishu"
	"github.com/learnloop/learnloop/adapters/simulator"
	"github.com/learnloop/learnloop/adapters/wecom"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/campaigns"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/console"
	"github.com/learnloop/learnloop/console/accounts"
	"github.com/learnloop/learnloop/directory"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/presence"
	"github.com/learnloop/learnloop/ratelimit"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/web"
	"github.com/learnloop/learnloop/webhooks"
)

// Options are test and demo hooks; the zero value is production.
type Options struct {
	Now    func() time.Time
	Logger *slog.Logger
	// DB is an already opened and migrated database (tests).
	DB *gorm.DB
	// Messengers adds or replaces platform messengers (tests).
	Messengers map[bot.Platform]bot.Messenger
	// Mounts adds HTTP handlers by path prefix (adapter callbacks in tests).
	Mounts map[string]http.Handler
}

// App is a wired learnloop service.
type App struct {
	Cfg        *config.Config
	DB         *gorm.DB
	Sched      *scheduler.Scheduler
	Planner    *plan.Planner
	Deliverer  *bot.Deliverer
	Router     *bot.Router
	Renderer   *bot.Renderer
	Extensions *bot.Registry // card kinds, audiences and in-card answers added to the core loop (surveys)
	Signer     *bot.Signer
	Sim        *simulator.Client
	Server     *web.Server
	Registry   *prometheus.Registry
	Clicks     *web.ClickRecorder
	Messengers map[bot.Platform]bot.Messenger
	Surveys    *surveys.Service
	Presence   *presence.Service
	Campaigns  *campaigns.Service // targeted pushes, conversions, experiments
	Webhooks   *webhooks.Service  // outbound webhooks: endpoints, the dispatch job, the delivery log
	// Commands is the one door for writes (API, console, CLI, demo).
	Commands *command.Service
	Log      *slog.Logger
	Now      func() time.Time

	ownDB     bool
	runners   []runner
	directory *directory.Schedule
}

// runner is a long-lived connection to a platform (DingTalk Stream, Feishu
// long connection) that delivers taps to the router until ctx is done.
type runner struct {
	name string
	run  func(ctx context.Context, h bot.InteractionHandler) error
}

// New builds the service. It opens (and, when configured, migrates) the
// database unless opts.DB is given.
func New(ctx context.Context, cfg *config.Config, opts Options) (*App, error) {
	a := &App{Cfg: cfg, Log: opts.Logger, Now: opts.Now}
	if a.Log == nil {
		a.Log = slog.Default()
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	now := func() time.Time { return a.Now().UTC() }
	loc := cfg.Location()

	a.DB = opts.DB
	if a.DB == nil {
		db, err := store.Open(ctx, cfg.Database.Driver, cfg.Database.DSN, store.Options{MaxOpenConns: cfg.Database.MaxOpenConns, MaxIdleConns: cfg.Database.MaxIdleConns})
		if err != nil {
			return nil, err
		}
		a.DB, a.ownDB = db, true
		if cfg.Database.MigrateOnStart {
			if applied, err := store.Migrate(ctx, db); err != nil {
				_ = store.Close(db)
				return nil, err
			} else if len(applied) > 0 {
				a.Log.Info("applied migrations", "versions", applied)
			}
		}
	}

	secret := []byte(cfg.Security.LinkSecret.Value())
	if len(secret) == 0 {
		if !cfg.Security.DevMode {
			return nil, errors.New("security.link_secret is required outside dev mode")
		}
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
		a.Log.Warn("security.link_secret is empty: using a random secret; links stop working after a restart (dev mode only)")
	}
	signer, err := bot.NewSigner(secret, now)
	if err != nil {
		return nil, fmt.Errorf("security.link_secret: %w", err)
	}
	a.Signer = signer

	a.Registry = prometheus.NewRegistry()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := bot.NewMetrics(a.Registry)

	quiet, err := QuietHours(cfg)
	if err != nil {
		return nil, err
	}
	a.Sched = scheduler.New(a.DB, scheduler.Options{
		Lease: cfg.Scheduler.Lease.D(), PollInterval: cfg.Scheduler.PollInterval.D(), Concurrency: cfg.Scheduler.Concurrency,
		BatchSize: cfg.Scheduler.BatchSize, MaxAttempts: cfg.Scheduler.MaxAttempts, BackoffBase: cfg.Scheduler.BackoffBase.D(),
		BackoffMax: cfg.Scheduler.BackoffMax.D(), Now: now, Logger: a.Log.With("component", "scheduler"), Metrics: a.Registry,
		ShutdownTimeout: JobDrain(cfg.HTTP.ShutdownTimeout.D()),
	})
	a.Extensions = bot.NewRegistry()
	a.Renderer = &bot.Renderer{Signer: signer, PublicURL: cfg.HTTP.PublicURL, LinkTTL: cfg.Security.LinkTTL.D(), Now: now, Registry: a.Extensions}

	a.Messengers = map[bot.Platform]bot.Messenger{}
	mounts := map[string]http.Handler{}
	// The simulator shows every employee and checks anyone in: it runs only
	// in dev mode or when enabled, and next to a real platform only with
	// platforms.simulator.allow_with_real_platforms (config.Validate says so
	// too; this guards configurations built in code).
	if cfg.SimulatorEnabled() {
		if real := cfg.RealPlatforms(); len(real) > 0 && !cfg.Platforms.Simulator.AllowWithRealPlatforms {
			return nil, fmt.Errorf("platforms.simulator.enabled: refused next to platforms.%s.enabled unless platforms.simulator.allow_with_real_platforms is true", real[0])
		}
		a.Sim = simulator.New(simulator.Options{Now: now, Directory: a.simDirectory})
		a.Messengers[bot.PlatformSimulator] = a.Sim
	}
	// Each platform adapter adds one block here (see docs/architecture.md);
	// its callback handler is mounted once the router exists, below.
	callbacks := map[string]func(bot.InteractionHandler) http.Handler{}
	identity := map[bot.Platform]presence.IdentityProvider{} // in-app web identity for /q/, /c/ and /s/
	// Platform rate limits are shared by every replica through the
	// database, on the wall clock (the platforms count in real time).
	limits := ratelimit.New(a.DB, ratelimit.WithLogger(a.Log.With("component", "ratelimit")))
	if cfg.Platforms.WeCom.Enabled {
		wc, err := wecom.FromConfig(cfg.Platforms.WeCom, cfg.HTTP.PublicURL, wecom.WithNow(now), wecom.WithLogger(a.Log.With("component", "wecom")), wecom.WithLimiter(limits))
		if err != nil {
			return nil, fmt.Errorf("platforms.wecom: %w", err)
		}
		a.Messengers[bot.PlatformWeCom] = wc
		identity[bot.PlatformWeCom] = wc
		callbacks[wecom.CallbackPath] = wc.CallbackHandler
	}
	if cfg.Platforms.Feishu.Enabled {
		fc, err := feishu.FromConfig(cfg.Platforms.Feishu, cfg.HTTP.PublicURL, feishu.WithNow(now), feishu.WithLogger(a.Log.With("component", "feishu")), feishu.WithLimiter(limits))
		if err != nil {
			return nil, fmt.Errorf("platforms.feishu: %w", err)
		}
		a.Messengers[bot.PlatformFeishu] = fc
		identity[bot.PlatformFeishu] = fc
		callbacks["/callbacks/feishu"] = fc.CallbackHandler
		if fc.Mode() == feishu.ModeWS {
			a.runners = append(a.runners, runner{"feishu long connection", fc.Run})
		}
	}
	if cfg.Platforms.DingTalk.Enabled {
		dc, err := dingtalk.FromConfig(cfg.Platforms.DingTalk, cfg.HTTP.PublicURL, dingtalk.WithNow(now), dingtalk.WithLogger(a.Log.With("component", "dingtalk")), dingtalk.WithLimiter(limits))
		if err != nil {
			return nil, fmt.Errorf("platforms.dingtalk: %w", err)
		}
		a.Messengers[bot.PlatformDingTalk] = dc
		identity[bot.PlatformDingTalk] = dc
		callbacks["/callbacks/dingtalk"] = dc.CallbackHandler
		// Card taps arrive over Stream whatever callback_mode says.
		a.runners = append(a.runners, runner{"dingtalk stream", dc.Run})
	}
	for p, m := range opts.Messengers {
		a.Messengers[p] = m
	}

	a.Deliverer = &bot.Deliverer{
		DB: a.DB, Messengers: a.Messengers, Renderer: a.Renderer, DefaultPlatform: bot.Platform(cfg.DefaultPlatform()),
		BatchSize: cfg.Delivery.BatchSize, Workers: cfg.Delivery.Workers, StaleSending: cfg.Scheduler.Lease.D() * 2,
		SendTimeout: SendTimeout(cfg.HTTP.ShutdownTimeout.D()),
		Logger:      a.Log.With("component", "delivery"), Metrics: metrics, Now: now,
	}
	a.Router = &bot.Router{
		DB: a.DB, Signer: signer, Renderer: a.Renderer, Checkins: &bot.Checkins{DB: a.DB, Now: now}, Registry: a.Extensions,
		Messengers: a.Messengers, Logger: a.Log.With("component", "router"), Metrics: metrics, Now: now,
	}
	a.Planner = &plan.Planner{DB: a.DB, Sched: a.Sched, Quiet: quiet, Now: now}
	a.Sched.Register(plan.JobFire, a.Planner.FireHandler(a.Deliverer))
	a.Sched.Register(JobReconcile, a.reconcile)
	a.directory = a.directorySchedule()

	settings, err := SurveySettings(cfg)
	if err != nil {
		return nil, err
	}
	a.Surveys = &surveys.Service{
		DB: a.DB, Planner: a.Planner, Renderer: a.Renderer, Signer: signer, Secret: secret, Settings: settings,
		Logger: a.Log.With("component", "surveys"), Now: now,
	}
	if err := a.Surveys.Register(a.Extensions); err != nil {
		return nil, err
	}
	a.Campaigns = &campaigns.Service{DB: a.DB, Planner: a.Planner, Secret: secret, Location: loc, Locale: cfg.Locale, Logger: a.Log.With("component", "campaigns"), Now: now}
	if err := a.Campaigns.Register(a.Extensions); err != nil {
		return nil, err
	}
	mounts["/webhooks/conversions"] = a.Campaigns.WebhookHandler()
	wc := cfg.Webhooks
	a.Webhooks, err = webhooks.New(webhooks.Deps{
		DB: a.DB, Sched: a.Sched, Key: secret, Logger: a.Log.With("component", "webhooks"), Now: now,
		Opts: webhooks.Options{
			AllowPrivate: wc.AllowPrivateTargets, Timeout: wc.Timeout.D(), MaxAttempts: wc.MaxAttempts, BackoffBase: wc.BackoffBase.D(),
			BackoffMax: wc.BackoffMax.D(), PollInterval: wc.PollInterval.D(), Concurrency: wc.Concurrency,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	a.Sched.Register(webhooks.JobDispatch, a.Webhooks.Handler())
	a.Deliverer.Audiences = a.Extensions.AudienceFuncs()
	a.Planner.Kinds, a.Planner.Audiences = a.Extensions.KindSet(), a.Extensions.AudienceSet()
	mounts["/s/"] = a.Surveys.FormHandler()
	a.Presence, err = presence.New(presence.Deps{
		DB: a.DB, Checkins: a.Router.Checkins, Signer: signer, Secret: secret, PublicURL: cfg.HTTP.PublicURL,
		Providers: identity, Locale: cfg.Locale, Logger: a.Log.With("component", "presence"), Now: now,
	})
	if err != nil {
		return nil, err
	}
	a.Surveys.RequireIdentity = a.Presence.SurveyGate
	a.Router.OnsiteRequired = a.Presence.OnsiteRequired
	mounts["/q/"] = a.Presence.Handler()

	for path, h := range callbacks {
		mounts[path] = h(a.Router)
	}
	a.Commands = &command.Service{DB: a.DB, Planner: a.Planner, Surveys: a.Surveys, Admin: a.Surveys, Checkins: a.Router.Checkins,
		RosterLookups: directory.RosterLookups(a.Messengers), Now: now, Defaults: command.Defaults{
			Location: loc, Locale: cfg.Locale, OpensBefore: cfg.Checkin.OpensBefore.D(), Grace: cfg.Checkin.Grace.D(), MakeupAfter: cfg.Checkin.MakeupAfter.D()}}
	ch, err := console.New(console.Deps{
		Commands: a.Commands, Accounts: &accounts.Service{DB: a.DB, Now: now},
		DB: a.DB, Planner: a.Planner, Location: loc, Locale: cfg.Locale,
		Checkin: console.CheckinDefaults{OpensBefore: cfg.Checkin.OpensBefore.D(), Grace: cfg.Checkin.Grace.D(), MakeupAfter: cfg.Checkin.MakeupAfter.D()},
		Now:     now, Logger: a.Log.With("component", "console"),
		CookieSecure: strings.HasPrefix(cfg.HTTP.PublicURL, "https://"),
		SurveyAdmin:  a.Surveys, MinGroupSize: cfg.Surveys.MinGroupSize,
		Surveys:   console.NewSurveyReports(a.DB, a.Surveys, now, loc),
		Presence:  a.Presence,
		Campaigns: a.Campaigns, Renderer: a.Renderer, Previews: CardPreviews(),
		Webhooks: a.Webhooks,
	})
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	mounts["/console"] = ch
	if a.Sim != nil {
		mounts["/sim"] = a.Sim.Handler("/sim", a.Router, loc, a.Log.With("component", "simulator"))
	}
	for p, h := range opts.Mounts {
		mounts[p] = h
	}
	a.Clicks = web.NewClickRecorder(a.Commands, a.Log.With("component", "clicks"))
	tokens := make([]string, 0, len(cfg.Security.AdminTokens))
	for _, t := range cfg.Security.AdminTokens {
		tokens = append(tokens, t.Value())
	}
	a.Server = &web.Server{
		Commands: a.Commands,
		Planner:  a.Planner, Router: a.Router, Renderer: a.Renderer, Signer: signer, Clicks: a.Clicks, Surveys: a.Surveys,
		Mounts: mounts, AdminTokens: tokens, Location: loc, Locale: cfg.Locale,
		Gatherer: a.Registry, Logger: a.Log.With("component", "http"), Now: now,
		PresenceAPI: a.Presence.APIHandler,
		Campaigns:   a.Campaigns,
		Webhooks:    a.Webhooks,
	}
	return a, nil
}

// CardPreviews are the platforms' exact card payloads for the console's
// previews, from the adapters' own renderers.
func CardPreviews() map[bot.Platform]console.CardPreview {
	return map[bot.Platform]console.CardPreview{
		bot.PlatformWeCom: wecom.PreviewCard, bot.PlatformFeishu: feishu.PreviewCard, bot.PlatformDingTalk: dingtalk.PreviewCard,
	}
}

// JobDrain is the part of the shutdown budget (http.shutdown_timeout) that
// running jobs get to record their work and hand themselves back; the rest
// is kept for releasing stragglers and closing connections.
func JobDrain(budget time.Duration) time.Duration {
	return max(budget-min(2*time.Second, budget/4), 100*time.Millisecond)
}

// SendTimeout bounds one started platform call so that it ends, and is
// recorded, within the jobs' share of the shutdown budget.
func SendTimeout(budget time.Duration) time.Duration {
	return max(min(15*time.Second, JobDrain(budget)/2), 100*time.Millisecond)
}

// SurveySettings converts the config's surveys section.
func SurveySettings(cfg *config.Config) (surveys.Settings, error) {
	sc := cfg.Surveys
	st := surveys.Settings{
		Feedback: sc.Feedback, FeedbackCloseAfter: sc.FeedbackCloseAfter.D(), Followup: sc.Followup,
		FollowupCloseAfter: sc.FollowupCloseAfter.D(), EscalateAfter: sc.EscalateAfter.D(), MinGroupSize: sc.MinGroupSize,
	}
	for _, v := range sc.FeedbackReminders {
		d, err := config.ParseDuration(v)
		if err != nil {
			return st, fmt.Errorf("surveys.feedback_reminders: %w", err)
		}
		st.FeedbackReminders = append(st.FeedbackReminders, d.D())
	}
	for _, v := range sc.FollowupReminders {
		d, err := config.ParseDuration(v)
		if err != nil {
			return st, fmt.Errorf("surveys.followup_reminders: %w", err)
		}
		st.FollowupReminders = append(st.FollowupReminders, d.D())
	}
	for _, v := range sc.FollowupDays {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return st, fmt.Errorf("surveys.followup_days: %w", err)
		}
		st.FollowupDays = append(st.FollowupDays, n)
	}
	return st, nil
}

// JobReconcile is the recurring job that asks platforms which accepted
// messages they dropped afterwards (DingTalk work notifications).
const JobReconcile = "deliveries.reconcile"

// reconcileEvery is how often it runs; each run looks at the deliveries
// sent between 25 and 5 minutes before it, so each is checked twice.
const reconcileEvery = 10 * time.Minute

// ScheduleReconcile enqueues the next reconcile run when a platform can
// report late drops. Every replica may call it: the slot's unique key keeps
// one job.
func (a *App) ScheduleReconcile(ctx context.Context) error {
	needed := false
	for _, m := range a.Messengers {
		_, ok := m.(bot.DeliveryChecker)
		needed = needed || ok
	}
	if !needed {
		return nil
	}
	return a.enqueueReconcile(ctx, a.Now().UTC().Truncate(reconcileEvery).Add(reconcileEvery))
}

func (a *App) enqueueReconcile(ctx context.Context, at time.Time) error {
	_, _, err := a.Sched.Enqueue(ctx, nil, scheduler.JobSpec{Kind: JobReconcile, UniqueKey: JobReconcile + ":" + at.Format("20060102T1504Z"), RunAt: at})
	if err != nil {
		return fmt.Errorf("schedule reconcile: %w", err)
	}
	return nil
}

func (a *App) reconcile(ctx context.Context, job store.Job) error {
	at := job.RunAt.UTC()
	n, err := a.Deliverer.Reconcile(ctx, at.Add(-reconcileEvery*2-5*time.Minute), at.Add(-5*time.Minute))
	if err != nil {
		return err
	}
	if n > 0 {
		a.Log.Info("deliveries dropped or refused after sending", "count", n)
	}
	return a.enqueueReconcile(ctx, at.Add(reconcileEvery))
}

// QuietHours converts the config's quiet hours and holidays.
func QuietHours(cfg *config.Config) (scheduler.QuietHours, error) {
	q := scheduler.QuietHours{Enabled: cfg.QuietHours.Enabled, Location: cfg.Location(), Holidays: map[string]bool{}, Workdays: map[string]bool{}}
	if q.Enabled {
		var err error
		if q.Start, err = scheduler.ParseClock(cfg.QuietHours.Start); err != nil {
			return q, fmt.Errorf("quiet_hours.start: %w", err)
		}
		if q.End, err = scheduler.ParseClock(cfg.QuietHours.End); err != nil {
			return q, fmt.Errorf("quiet_hours.end: %w", err)
		}
	}
	for _, d := range cfg.Holidays.Dates {
		q.Holidays[d] = true
	}
	for _, d := range cfg.Holidays.Workdays {
		q.Workdays[d] = true
	}
	return q, nil
}

func (a *App) simDirectory(ctx context.Context) ([]simulator.User, error) {
	var es []store.Employee
	if err := a.DB.WithContext(ctx).Where("active = ?", true).Order("external_id").Limit(500).Find(&es).Error; err != nil {
		return nil, err
	}
	out := make([]simulator.User, len(es))
	for i, e := range es {
		out[i] = simulator.User{ID: e.ExternalID, Name: e.Name, Department: e.Department}
	}
	return out, nil
}

// Handler is the service's root HTTP handler.
func (a *App) Handler() http.Handler { return a.Presence.GuardCheckinPage(a.Server.Handler()) }

// Serve runs the HTTP server and, when enabled, the scheduler until ctx is
// done, then shuts both down within one budget, http.shutdown_timeout: stop
// accepting and claiming, let requests in flight finish, stop starting
// sends, record what was sent, hand unfinished jobs back for immediate
// takeover, close connections.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: a.Cfg.HTTP.ReadTimeout.D(), WriteTimeout: a.Cfg.HTTP.WriteTimeout.D(),
		ErrorLog: slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	if a.Cfg.Scheduler.Enabled {
		g.Go(func() error { return a.Sched.Run(gctx) })
	}
	if err := a.ScheduleReconcile(ctx); err != nil {
		// Late-drop checks are a safety net; serving goes on without them.
		a.Log.Error("schedule delivery reconcile", "err", err)
	}
	if err := a.Webhooks.EnsureJob(ctx); err != nil {
		// Events wait in the outbox; the job is armed again by the next
		// start or endpoint change.
		a.Log.Error("arm webhook dispatch", "err", err)
	}
	if err := a.directory.EnsureNext(ctx); err != nil {
		// The directory is synced again at its next slot or from the CLI.
		a.Log.Error("schedule directory sync", "err", err)
	}
	for _, r := range a.runners {
		g.Go(func() error {
			// A platform connection that gives up is logged, not fatal:
			// HTTP callbacks, sending and the other platforms go on.
			if err := r.run(gctx, a.Router); err != nil && gctx.Err() == nil {
				a.Log.Error("platform connection stopped", "name", r.name, "err", err)
			}
			return nil
		})
	}
	budget := a.Cfg.HTTP.ShutdownTimeout.D()
	g.Go(func() error {
		<-gctx.Done()
		// Requests in flight (taps, answers) finish and are stored; new
		// connections are refused. What is still open when the jobs' share
		// of the budget is spent is closed.
		sctx, cancel := context.WithTimeout(context.Background(), JobDrain(budget))
		defer cancel()
		a.Log.Info("shutting down", "budget", budget)
		if err := srv.Shutdown(sctx); err != nil {
			a.Log.Warn("http shutdown: closing open connections", "err", err)
			_ = srv.Close()
		}
		return nil
	})
	waited := make(chan error, 1)
	go func() { waited <- g.Wait() }()
	select {
	case err := <-waited:
		return err
	case <-ctx.Done():
	}
	// One budget for everything: whatever has not stopped by then (a platform
	// connection that ignores its context) is left behind; the process exits.
	t := time.NewTimer(budget - min(time.Second, budget/8)) // the rest: flush clicks, close the database
	defer t.Stop()
	select {
	case err := <-waited:
		return err
	case <-t.C:
		a.Log.Warn("shutdown budget spent; exiting with work still running", "budget", budget)
		return nil
	}
}

// Close releases the app's resources.
func (a *App) Close() error {
	a.Clicks.Close()
	if a.ownDB {
		return store.Close(a.DB)
	}
	return nil
}

// URL joins the public URL and a path.
func (a *App) URL(path string) string {
	return strings.TrimRight(a.Cfg.HTTP.PublicURL, "/") + path
}
