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
	"slices"
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
	"github.com/learnloop/learnloop/bot/chat"
	"github.com/learnloop/learnloop/calendar"
	"github.com/learnloop/learnloop/campaigns"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/console"
	"github.com/learnloop/learnloop/console/accounts"
	"github.com/learnloop/learnloop/digests"
	"github.com/learnloop/learnloop/directory"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/presence"
	"github.com/learnloop/learnloop/ratelimit"
	"github.com/learnloop/learnloop/reports"
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
	cfg        *config.Config
	db         *gorm.DB
	sched      *scheduler.Scheduler
	planner    *plan.Planner
	deliverer  *bot.Deliverer
	router     *bot.Router
	renderer   *bot.Renderer
	extensions *bot.Registry // card kinds, audiences and in-card answers added to the core loop (surveys)
	signer     *bot.Signer
	sim        *simulator.Client
	server     *web.Server
	registry   *prometheus.Registry
	clicks     *web.ClickRecorder
	messengers map[bot.Platform]bot.Messenger
	surveys    *surveys.Service
	presence   *presence.Service
	campaigns  *campaigns.Service // targeted pushes, conversions, experiments
	webhooks   *webhooks.Service  // outbound webhooks: endpoints, the dispatch job, the delivery log
	calendar   *calendar.Service  // sessions in the attendees' platform calendars (calendar.sync)
	digests    *digests.Service   // digest cards in chat: subscriptions, figures, sending
	// Commands is the one door for writes (API, console, CLI, demo).
	commands *command.Service
	log      *slog.Logger
	now      func() time.Time

	ownDB     bool
	runners   []runner
	chat      *chat.Service
	inbound   inbound
	directory *directory.Schedule
}

// Accessors: what cmd, the tests, bench and chaos use of a wired app.

// Cfg is the configuration the app was built from.
func (a *App) Cfg() *config.Config { return a.cfg }

// DB is the database.
func (a *App) DB() *gorm.DB { return a.db }

// Sched is the durable job scheduler.
func (a *App) Sched() *scheduler.Scheduler { return a.sched }

// Planner is turns touchpoints into jobs.
func (a *App) Planner() *plan.Planner { return a.planner }

// Deliverer is fans pushes out.
func (a *App) Deliverer() *bot.Deliverer { return a.deliverer }

// Router is handles taps.
func (a *App) Router() *bot.Router { return a.router }

// Renderer is renders cards.
func (a *App) Renderer() *bot.Renderer { return a.renderer }

// Extensions is the card kinds, audiences and in-card answers added to the core loop (surveys).
func (a *App) Extensions() *bot.Registry { return a.extensions }

// Signer is signs button and link tokens.
func (a *App) Signer() *bot.Signer { return a.signer }

// Sim is the simulator, nil unless enabled.
func (a *App) Sim() *simulator.Client { return a.sim }

// Server is the HTTP server.
func (a *App) Server() *web.Server { return a.server }

// Registry is the Prometheus registry.
func (a *App) Registry() *prometheus.Registry { return a.registry }

// Clicks is the click recorder.
func (a *App) Clicks() *web.ClickRecorder { return a.clicks }

// Messengers is the platform messengers by platform.
func (a *App) Messengers() map[bot.Platform]bot.Messenger { return a.messengers }

// Chat is the service that answers text messages to the bot.
func (a *App) Chat() *chat.Service { return a.chat }

// Surveys is the survey service.
func (a *App) Surveys() *surveys.Service { return a.surveys }

// Presence is the proof-of-presence service.
func (a *App) Presence() *presence.Service { return a.presence }

// Campaigns is the targeted pushes, conversions and experiments.
func (a *App) Campaigns() *campaigns.Service { return a.campaigns }

// Webhooks is the outbound webhooks service.
func (a *App) Webhooks() *webhooks.Service { return a.webhooks }

// Calendar is the calendar invites service (sessions in the platforms'
// calendars).
func (a *App) Calendar() *calendar.Service { return a.calendar }

// Digests is the digest subscriptions and their cards.
func (a *App) Digests() *digests.Service { return a.digests }

// platformList is the enabled platforms, sorted.
func platformList(ms map[bot.Platform]bot.Messenger) []bot.Platform {
	out := make([]bot.Platform, 0, len(ms))
	for p := range ms {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Commands is the one door for writes and reads (API, console, CLI, demo).
func (a *App) Commands() *command.Service { return a.commands }

// Log is the logger.
func (a *App) Log() *slog.Logger { return a.log }

// Now is the app's clock.
func (a *App) Now() time.Time { return a.now() }

// runner is a long-lived connection to a platform (DingTalk Stream, Feishu
// long connection) that delivers taps to the router until ctx is done.
type runner struct {
	name string
	run  func(ctx context.Context, h bot.InteractionHandler) error
}

// New builds the service. It opens (and, when configured, migrates) the
// database unless opts.DB is given.
func New(ctx context.Context, cfg *config.Config, opts Options) (*App, error) {
	a := &App{cfg: cfg, log: opts.Logger, now: opts.Now}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	now := func() time.Time { return a.now().UTC() }
	loc := cfg.Location()

	a.db = opts.DB
	if a.db == nil {
		db, err := store.Open(ctx, cfg.Database.Driver, cfg.Database.DSN, store.Options{MaxOpenConns: cfg.Database.MaxOpenConns, MaxIdleConns: cfg.Database.MaxIdleConns})
		if err != nil {
			return nil, err
		}
		a.db, a.ownDB = db, true
		if cfg.Database.MigrateOnStart {
			if applied, err := store.Migrate(ctx, db); err != nil {
				_ = store.Close(db)
				return nil, err
			} else if len(applied) > 0 {
				a.log.Info("applied migrations", "versions", applied)
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
		a.log.Warn("security.link_secret is empty: using a random secret; links stop working after a restart (dev mode only)")
	}
	signer, err := bot.NewSigner(secret, now)
	if err != nil {
		return nil, fmt.Errorf("security.link_secret: %w", err)
	}
	a.signer = signer

	a.registry = prometheus.NewRegistry()
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := bot.NewMetrics(a.registry)

	quiet, err := QuietHours(cfg)
	if err != nil {
		return nil, err
	}
	a.sched = scheduler.New(a.db, scheduler.Options{
		Lease: cfg.Scheduler.Lease.D(), PollInterval: cfg.Scheduler.PollInterval.D(), Concurrency: cfg.Scheduler.Concurrency,
		BatchSize: cfg.Scheduler.BatchSize, MaxAttempts: cfg.Scheduler.MaxAttempts, BackoffBase: cfg.Scheduler.BackoffBase.D(),
		BackoffMax: cfg.Scheduler.BackoffMax.D(), Now: now, Logger: a.log.With("component", "scheduler"), Metrics: a.registry,
		ShutdownTimeout: JobDrain(cfg.HTTP.ShutdownTimeout.D()),
	})
	a.extensions = bot.NewRegistry()
	a.renderer = &bot.Renderer{Signer: signer, PublicURL: cfg.HTTP.PublicURL, LinkTTL: cfg.Security.LinkTTL.D(), Now: now, Registry: a.extensions,
		Variants: &plan.Splitter{DB: a.db, Key: plan.AssignmentKey(secret), Now: now}}

	a.messengers = map[bot.Platform]bot.Messenger{}
	mounts := map[string]http.Handler{}
	// The simulator shows every employee and checks anyone in: it runs only
	// in dev mode or when enabled, and next to a real platform only with
	// platforms.simulator.allow_with_real_platforms (config.Validate says so
	// too; this guards configurations built in code).
	if cfg.SimulatorEnabled() {
		if real := cfg.RealPlatforms(); len(real) > 0 && !cfg.Platforms.Simulator.AllowWithRealPlatforms {
			return nil, fmt.Errorf("platforms.simulator.enabled: refused next to platforms.%s.enabled unless platforms.simulator.allow_with_real_platforms is true", real[0])
		}
		a.sim = simulator.New(simulator.Options{Now: now, Directory: a.simDirectory})
		a.messengers[bot.PlatformSimulator] = a.sim
	}
	// Each platform adapter adds one block here (see docs/architecture.md);
	// its callback handler is mounted once the router exists, below.
	callbacks := map[string]func(bot.InteractionHandler) http.Handler{}
	identity := map[bot.Platform]presence.IdentityProvider{} // in-app web identity for /q/, /c/ and /s/
	// Platform rate limits are shared by every replica through the
	// database, on the wall clock (the platforms count in real time).
	limits := ratelimit.New(a.db, ratelimit.WithLogger(a.log.With("component", "ratelimit")))
	// 通讯录 change events are kept as scheduler jobs (directory.change).
	inbox := &directory.Inbox{Sched: a.sched, Now: now}
	if cfg.Platforms.WeCom.Enabled {
		wc, err := wecom.FromConfig(cfg.Platforms.WeCom, cfg.HTTP.PublicURL, wecom.WithNow(now), wecom.WithLogger(a.log.With("component", "wecom")), wecom.WithLimiter(limits),
			wecom.WithContactHandler(inbox))
		if err != nil {
			return nil, fmt.Errorf("platforms.wecom: %w", err)
		}
		a.messengers[bot.PlatformWeCom] = wc
		identity[bot.PlatformWeCom] = wc
		callbacks[wecom.CallbackPath] = wc.CallbackHandler
	}
	if cfg.Platforms.Feishu.Enabled {
		fc, err := feishu.FromConfig(cfg.Platforms.Feishu, cfg.HTTP.PublicURL, feishu.WithNow(now), feishu.WithLogger(a.log.With("component", "feishu")), feishu.WithLimiter(limits),
			feishu.WithContactHandler(inbox))
		if err != nil {
			return nil, fmt.Errorf("platforms.feishu: %w", err)
		}
		a.messengers[bot.PlatformFeishu] = fc
		identity[bot.PlatformFeishu] = fc
		callbacks["/callbacks/feishu"] = fc.CallbackHandler
		if fc.Mode() == feishu.ModeWS {
			a.runners = append(a.runners, runner{"feishu long connection", fc.Run})
		}
	}
	if cfg.Platforms.DingTalk.Enabled {
		dc, err := dingtalk.FromConfig(cfg.Platforms.DingTalk, cfg.HTTP.PublicURL, dingtalk.WithNow(now), dingtalk.WithLogger(a.log.With("component", "dingtalk")), dingtalk.WithLimiter(limits),
			dingtalk.WithContactHandler(inbox))
		if err != nil {
			return nil, fmt.Errorf("platforms.dingtalk: %w", err)
		}
		a.messengers[bot.PlatformDingTalk] = dc
		identity[bot.PlatformDingTalk] = dc
		callbacks["/callbacks/dingtalk"] = dc.CallbackHandler
		// Card taps arrive over Stream whatever callback_mode says.
		a.runners = append(a.runners, runner{"dingtalk stream", dc.Run})
	}
	for p, m := range opts.Messengers {
		a.messengers[p] = m
	}

	a.deliverer = &bot.Deliverer{
		DB: a.db, Messengers: a.messengers, Renderer: a.renderer, DefaultPlatform: bot.Platform(cfg.DefaultPlatform()),
		BatchSize: cfg.Delivery.BatchSize, Workers: cfg.Delivery.Workers, StaleSending: cfg.Scheduler.Lease.D() * 2,
		SendTimeout: SendTimeout(cfg.HTTP.ShutdownTimeout.D()),
		Logger:      a.log.With("component", "delivery"), Metrics: metrics, Now: now,
	}
	a.router = &bot.Router{
		DB: a.db, Signer: signer, Renderer: a.renderer, Checkins: &bot.Checkins{DB: a.db, Now: now}, Registry: a.extensions,
		Messengers: a.messengers, Logger: a.log.With("component", "router"), Metrics: metrics, Now: now,
	}
	a.planner = &plan.Planner{DB: a.db, Sched: a.sched, Quiet: quiet, Now: now}
	a.sched.Register(plan.JobFire, a.planner.FireHandler(a.deliverer))
	a.sched.Register(JobReconcile, a.reconcile)
	a.directory = a.directorySchedule()

	settings, err := SurveySettings(cfg)
	if err != nil {
		return nil, err
	}
	a.surveys = &surveys.Service{
		DB: a.db, Planner: a.planner, Renderer: a.renderer, Signer: signer, Secret: secret, Settings: settings,
		Logger: a.log.With("component", "surveys"), Now: now,
	}
	if err := a.surveys.Register(a.extensions); err != nil {
		return nil, err
	}
	a.campaigns = &campaigns.Service{DB: a.db, Planner: a.planner, Secret: secret, MinSample: cfg.Experiments.MinSample, Location: loc, Locale: cfg.Locale, Logger: a.log.With("component", "campaigns"), Now: now}
	if err := a.campaigns.Register(a.extensions); err != nil {
		return nil, err
	}
	mounts["/webhooks/conversions"] = a.campaigns.WebhookHandler()
	wc := cfg.Webhooks
	a.webhooks, err = webhooks.New(webhooks.Deps{
		DB: a.db, Sched: a.sched, Key: secret, Logger: a.log.With("component", "webhooks"), Now: now,
		Opts: webhooks.Options{
			AllowPrivate: wc.AllowPrivateTargets, Timeout: wc.Timeout.D(), MaxAttempts: wc.MaxAttempts, BackoffBase: wc.BackoffBase.D(),
			BackoffMax: wc.BackoffMax.D(), PollInterval: wc.PollInterval.D(), Concurrency: wc.Concurrency, Retention: wc.Retention.D(),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	a.sched.Register(webhooks.JobDispatch, a.webhooks.Handler())
	a.digests = &digests.Service{DB: a.db, Planner: a.planner, PublicURL: cfg.HTTP.PublicURL, Platforms: platformList(a.messengers),
		DefaultPlatform: bot.Platform(cfg.DefaultPlatform()),
		MinGroupSize:    cfg.Surveys.MinGroupSize, Location: loc, Locale: cfg.Locale, Logger: a.log.With("component", "digests"), Now: now}
	if err := a.digests.Register(a.extensions); err != nil {
		return nil, err
	}
	a.deliverer.Audiences = a.extensions.AudienceFuncs()
	a.planner.Kinds, a.planner.Audiences = a.extensions.KindSet(), a.extensions.AudienceSet()
	mounts["/s/"] = a.surveys.FormHandler()
	a.presence, err = presence.New(presence.Deps{
		DB: a.db, Checkins: a.router.Checkins, Signer: signer, Secret: secret, PublicURL: cfg.HTTP.PublicURL,
		Providers: identity, Locale: cfg.Locale, Logger: a.log.With("component", "presence"), Now: now,
	})
	if err != nil {
		return nil, err
	}
	a.surveys.RequireIdentity = a.presence.SurveyGate
	a.router.OnsiteRequired = a.presence.OnsiteRequired
	mounts["/q/"] = a.presence.Handler()
	// Text messages to the bot: commands, and the reason for a score
	// asked after a tap on the platforms whose adapters hand text on.
	a.chat = &chat.Service{DB: a.db, Checkins: a.router.Checkins, Renderer: a.renderer, Comments: a.surveys, Forms: a.surveys,
		OnsiteRequired: a.presence.OnsiteRequired, Logger: a.log.With("component", "chat"), Now: now}
	a.surveys.ChatReplies = map[bot.Platform]bool{}
	for p := range a.messengers {
		a.surveys.ChatReplies[p] = chatPlatforms[p]
	}
	a.inbound = inbound{router: a.router, chat: a.chat}
	// The coordinator's decision on an excuse request is told through the
	// employee's normal Messenger, as a durable job.
	a.sched.Register(surveys.JobPromptExpiry, a.surveys.ExpirePrompt)
	a.sched.Register(command.JobExcuseDecision, (&chat.Decisions{Service: a.chat, Messengers: a.messengers,
		DefaultPlatform: bot.Platform(cfg.DefaultPlatform())}).Handle)

	for path, h := range callbacks {
		mounts[path] = h(a.inbound)
	}
	a.calendar = &calendar.Service{
		DB: a.db, Sched: a.sched, Platforms: calendar.Platforms(a.messengers), DefaultPlatform: bot.Platform(cfg.DefaultPlatform()),
		InviteDefault: cfg.Calendar.InviteDefault, PublicURL: cfg.HTTP.PublicURL, MaxAttempts: cfg.Calendar.MaxAttempts,
		Logger: a.log.With("component", "calendar"), Now: now,
	}
	a.calendar.Register()
	a.commands = &command.Service{DB: a.db, Planner: a.planner, Surveys: a.surveys, Admin: a.surveys, Checkins: a.router.Checkins,
		Calendar:      a.calendar,
		RosterLookups: directory.RosterLookups(a.messengers), Now: now, ReportOptions: reports.Options{ExperimentMinSample: cfg.Experiments.MinSample}, Defaults: command.Defaults{
			Location: loc, Locale: cfg.Locale, OpensBefore: cfg.Checkin.OpensBefore.D(), Grace: cfg.Checkin.Grace.D(), MakeupAfter: cfg.Checkin.MakeupAfter.D()}}
	ch, err := console.New(console.Deps{
		Commands: a.commands, Accounts: &accounts.Service{DB: a.db, Now: now},
		Planner: a.planner, Location: loc, Locale: cfg.Locale,
		Checkin: console.CheckinDefaults{OpensBefore: cfg.Checkin.OpensBefore.D(), Grace: cfg.Checkin.Grace.D(), MakeupAfter: cfg.Checkin.MakeupAfter.D()},
		Now:     now, Logger: a.log.With("component", "console"),
		CookieSecure: strings.HasPrefix(cfg.HTTP.PublicURL, "https://"),
		SurveyAdmin:  a.surveys, MinGroupSize: cfg.Surveys.MinGroupSize,
		Surveys:   console.NewSurveyReports(a.commands, a.surveys, now, loc),
		Presence:  a.presence,
		Campaigns: a.campaigns, Renderer: a.renderer, Previews: CardPreviews(),
		Webhooks: a.webhooks,
		Digests:  a.digests,
	})
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	mounts["/console"] = ch
	if a.sim != nil {
		mounts["/sim"] = a.sim.Handler("/sim", a.inbound, loc, a.log.With("component", "simulator"))
	}
	for p, h := range opts.Mounts {
		mounts[p] = h
	}
	a.clicks = web.NewClickRecorder(a.commands, a.log.With("component", "clicks"))
	tokens := make([]string, 0, len(cfg.Security.AdminTokens))
	for _, t := range cfg.Security.AdminTokens {
		tokens = append(tokens, t.Value())
	}
	a.server = &web.Server{
		Commands: a.commands,
		Planner:  a.planner, Router: a.router, Renderer: a.renderer, Signer: signer, Clicks: a.clicks, Surveys: a.surveys,
		Mounts: mounts, AdminTokens: tokens, Location: loc, Locale: cfg.Locale,
		Gatherer: a.registry, Logger: a.log.With("component", "http"), Now: now,
		PresenceAPI: a.presence.APIHandler,
		Campaigns:   a.campaigns,
		Webhooks:    a.webhooks,
		Digests:     a.digests,
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
	for _, m := range a.messengers {
		_, ok := m.(bot.DeliveryChecker)
		needed = needed || ok
	}
	if !needed {
		return nil
	}
	return a.enqueueReconcile(ctx, a.now().UTC().Truncate(reconcileEvery).Add(reconcileEvery))
}

func (a *App) enqueueReconcile(ctx context.Context, at time.Time) error {
	_, _, err := a.sched.Enqueue(ctx, nil, scheduler.JobSpec{Kind: JobReconcile, UniqueKey: JobReconcile + ":" + at.Format("20060102T1504Z"), RunAt: at})
	if err != nil {
		return fmt.Errorf("schedule reconcile: %w", err)
	}
	return nil
}

func (a *App) reconcile(ctx context.Context, job store.Job) error {
	at := job.RunAt.UTC()
	n, err := a.deliverer.Reconcile(ctx, at.Add(-reconcileEvery*2-5*time.Minute), at.Add(-5*time.Minute))
	if err != nil {
		return err
	}
	if n > 0 {
		a.log.Info("deliveries dropped or refused after sending", "count", n)
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
	if err := a.db.WithContext(ctx).Where("active = ?", true).Order("external_id").Limit(500).Find(&es).Error; err != nil {
		return nil, err
	}
	out := make([]simulator.User, len(es))
	for i, e := range es {
		out[i] = simulator.User{ID: e.ExternalID, Name: e.Name, Department: e.Department}
	}
	return out, nil
}

// Handler is the service's root HTTP handler.
func (a *App) Handler() http.Handler { return a.presence.GuardCheckinPage(a.server.Handler()) }

// Serve runs the HTTP server and, when enabled, the scheduler until ctx is
// done, then shuts both down within one budget, http.shutdown_timeout: stop
// accepting and claiming, let requests in flight finish, stop starting
// sends, record what was sent, hand unfinished jobs back for immediate
// takeover, close connections.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: a.cfg.HTTP.ReadTimeout.D(), WriteTimeout: a.cfg.HTTP.WriteTimeout.D(),
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	if a.cfg.Scheduler.Enabled {
		g.Go(func() error { return a.sched.Run(gctx) })
	}
	if err := a.ScheduleReconcile(ctx); err != nil {
		// Late-drop checks are a safety net; serving goes on without them.
		a.log.Error("schedule delivery reconcile", "err", err)
	}
	if err := a.webhooks.EnsureJob(ctx); err != nil {
		// Events wait in the outbox; the job is armed again by the next
		// start or endpoint change.
		a.log.Error("arm webhook dispatch", "err", err)
	}
	if err := a.directory.EnsureNext(ctx); err != nil {
		// The directory is synced again at its next slot or from the CLI.
		a.log.Error("schedule directory sync", "err", err)
	}
	for _, r := range a.runners {
		g.Go(func() error {
			// A platform connection that gives up is logged, not fatal:
			// HTTP callbacks, sending and the other platforms go on.
			if err := r.run(gctx, a.inbound); err != nil && gctx.Err() == nil {
				a.log.Error("platform connection stopped", "name", r.name, "err", err)
			}
			return nil
		})
	}
	budget := a.cfg.HTTP.ShutdownTimeout.D()
	g.Go(func() error {
		<-gctx.Done()
		// Requests in flight (taps, answers) finish and are stored; new
		// connections are refused. What is still open when the jobs' share
		// of the budget is spent is closed.
		sctx, cancel := context.WithTimeout(context.Background(), JobDrain(budget))
		defer cancel()
		a.log.Info("shutting down", "budget", budget)
		if err := srv.Shutdown(sctx); err != nil {
			a.log.Warn("http shutdown: closing open connections", "err", err)
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
		a.log.Warn("shutdown budget spent; exiting with work still running", "budget", budget)
		return nil
	}
}

// Close releases the app's resources.
func (a *App) Close() error {
	a.clicks.Close()
	if a.ownDB {
		return store.Close(a.db)
	}
	return nil
}

// URL joins the public URL and a path.
func (a *App) URL(path string) string {
	return strings.TrimRight(a.cfg.HTTP.PublicURL, "/") + path
}
