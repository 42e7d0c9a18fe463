// Package console is the coordinator console: a server-rendered web UI (Go
// html/template, progressive enhancement, no external assets) where class
// coordinators plan courses and sessions, upload rosters, edit the touchpoint
// timeline, watch check-ins live, chase the missing, read check-in results and
// delivery health, and export every table as CSV or XLSX. It speaks zh-CN by
// default and English.
//
// Accounts have one of three roles (store.RoleAdmin, store.RoleCoordinator,
// store.RoleDepartmentHead); every change a person makes is written to the
// audit log with the account's username as the actor.
package console

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/campaigns"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/console/accounts"
	"github.com/learnloop/learnloop/internal/defaults"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/presence"
	"github.com/learnloop/learnloop/text"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// DefaultPrefix is where the console is mounted.
const DefaultPrefix = "/console"

// DefaultMinGroupSize is the smallest group whose figures a department head
// may see.
const DefaultMinGroupSize = 5

// CheckinDefaults are the check-in windows given to new sessions.
type CheckinDefaults struct {
	OpensBefore time.Duration
	Grace       time.Duration
	MakeupAfter time.Duration
}

// Deps are what the console needs from the rest of learnloop.
type Deps struct {
	// Planner creates, edits, pauses and sends touchpoints.
	Planner *plan.Planner
	// Location is the default time zone of new sessions and of times that
	// belong to no session (audit log).
	Location *time.Location
	// Locale is the default language: "zh-CN" (default) or "en".
	Locale string
	// Checkin holds the default windows of new sessions.
	Checkin CheckinDefaults
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives errors and security events; nil means slog.Default().
	Logger *slog.Logger
	// CookieSecure marks cookies Secure (set it when the console is served
	// over HTTPS).
	CookieSecure bool
	// Prefix is the mount path; empty means DefaultPrefix.
	Prefix string
	// MinGroupSize hides department figures of smaller groups; 0 means
	// DefaultMinGroupSize.
	MinGroupSize int
	// Surveys supplies survey results (CSAT, NPS, comments, manager
	// follow-up) for the Results pages; nil hides that section.
	Surveys SurveyResults
	// SurveyAdmin adds surveys to a session and closes them from its
	// Results page, as the REST API does (*surveys.Service implements it);
	// nil hides the survey list and both actions.
	SurveyAdmin SurveyAdmin
	// LivePoll is how often the live board looks for new check-ins; 0 means
	// 2 seconds.
	LivePoll time.Duration
	// Presence runs the venue QR code and the session's presence rules;
	// nil hides the projector and presence pages.
	Presence *presence.Service
	// Webhooks manages outbound webhooks (admins); nil hides the page.
	Webhooks WebhookAdmin
	// Digests manages digest subscriptions (every account its own, admins
	// all); nil hides the page.
	Digests DigestAdmin
	// Commands is the one door for writes and reads, shared with the API
	// and the CLI (app.New builds it); required.
	Commands *command.Service
	// Campaigns creates, previews, pauses and reports campaigns (the API's
	// and the CLI's door); nil hides the campaign pages.
	Campaigns *campaigns.Service
	// Renderer renders campaign cards for previews, as the send does.
	Renderer *bot.Renderer
	// Previews give each platform's exact card payload for a message
	// (app.CardPreviews); a platform without one is not previewed.
	Previews map[bot.Platform]CardPreview
	// Accounts signs people in and keeps the console's accounts; required.
	Accounts *accounts.Service
}

// Console serves the coordinator console.
type Console struct {
	d       Deps
	pages   map[text.Locale]map[string]pageTemplate // locale → page → template
	handler http.Handler
}

// New builds the console handler. Mount it at Deps.Prefix ("/console"); it
// expects the full request path (it strips the prefix itself).
func New(d Deps) (http.Handler, error) {
	c, err := newConsole(d)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func newConsole(d Deps) (*Console, error) {
	if d.Planner == nil {
		return nil, errors.New("console: Deps.Planner is required")
	}
	if d.Commands == nil {
		return nil, errors.New("console: Deps.Commands is required")
	}
	if d.Accounts == nil {
		return nil, errors.New("console: Deps.Accounts is required")
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	d.Locale = string(text.Parse(d.Locale))
	if d.Prefix == "" {
		d.Prefix = DefaultPrefix
	}
	d.Prefix = "/" + strings.Trim(d.Prefix, "/")
	if d.MinGroupSize <= 0 {
		d.MinGroupSize = DefaultMinGroupSize
	}
	if d.LivePoll <= 0 {
		d.LivePoll = 2 * time.Second
	}
	d.Logger = defaults.Logger(d.Logger)
	c := &Console{d: d}
	if err := c.parseTemplates(); err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	c.handler = c.routes()
	return c, nil
}

func (c *Console) now() time.Time { return defaults.Now(c.d.Now) }

func (c *Console) log() *slog.Logger { return c.d.Logger }

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

// path joins the mount prefix and p ("/sessions/1").
func (c *Console) path(p string) string {
	if p == "" || p == "/" {
		return c.d.Prefix + "/"
	}
	return c.d.Prefix + p
}

func (c *Console) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	mux.HandleFunc("GET /login", c.loginPage)
	mux.HandleFunc("POST /login", c.loginSubmit)
	mux.HandleFunc("GET /lang", c.setLang)

	auth := func(pattern string, h func(http.ResponseWriter, *http.Request, *viewer)) {
		mux.Handle(pattern, c.authed(h))
	}
	auth("GET /{$}", c.home)
	auth("POST /logout", c.logout)
	auth("GET /password", c.passwordPage)
	auth("POST /password", c.passwordSubmit)

	auth("GET /courses", c.coursesPage)
	auth("GET /courses/new", c.courseNewPage)
	auth("POST /courses", c.courseCreate)
	auth("GET /courses/{id}", c.coursePage)
	auth("GET /courses/{id}/edit", c.courseEditPage)
	auth("POST /courses/{id}", c.courseUpdate)

	auth("GET /sessions/new", c.sessionNewPage)
	auth("POST /sessions", c.sessionCreate)
	auth("GET /sessions/{id}", c.sessionPage)
	auth("GET /sessions/{id}/edit", c.sessionEditPage)
	auth("POST /sessions/{id}", c.sessionUpdate)
	auth("POST /sessions/{id}/cancel", c.sessionCancel)
	auth("GET /sessions/{id}/copy", c.sessionCopyPage)
	auth("POST /sessions/{id}/copy", c.sessionCopy)
	auth("GET /roster-template", c.rosterTemplate)
	auth("GET /sessions/{id}/roster", c.rosterPage)
	auth("POST /sessions/{id}/roster", c.rosterUpload)
	auth("GET /sessions/{id}/timeline", c.timelinePage)
	auth("POST /sessions/{id}/touchpoints", c.touchpointCreate)
	auth("GET /touchpoints/{id}/edit", c.touchpointEditPage)
	auth("POST /touchpoints/{id}", c.touchpointUpdate)
	auth("POST /touchpoints/{id}/send-now", c.touchpointSendNow)
	auth("POST /touchpoints/{id}/pause", c.touchpointPause(true))
	auth("POST /touchpoints/{id}/resume", c.touchpointPause(false))
	auth("POST /touchpoints/{id}/delete", c.touchpointDelete)
	auth("GET /sessions/{id}/board", c.boardPage)
	auth("GET /sessions/{id}/board/live", c.boardLive)
	auth("GET /sessions/{id}/board/events", c.boardEvents)
	auth("POST /sessions/{id}/remind", c.remindMissing)
	auth("POST /sessions/{id}/excuse", c.excuse)
	auth("POST /sessions/{id}/unexcuse", c.unexcuse)
	auth("POST /sessions/{id}/excuse-requests/{rid}/{decision}", c.decideExcuseRequest)
	auth("POST /sessions/{id}/checkin", c.manualCheckin)
	auth("GET /sessions/{id}/results", c.resultsPage)
	auth("GET /sessions/{id}/health", c.healthPage)
	auth("POST /surveys/{id}/comments/tag", c.commentTag)
	auth("POST /surveys/{id}/comments/follow-up", c.commentFollowUp)
	auth("POST /surveys/{id}/remind", c.surveyRemind)
	auth("POST /sessions/{id}/surveys", c.surveyCreate)
	auth("POST /surveys/{id}/close", c.surveyClose)
	auth("GET /teachers", c.teachersPage)
	auth("GET /sessions/{id}/qr", c.qrPage)
	auth("GET /sessions/{id}/qr/code", c.qrCode)
	auth("GET /sessions/{id}/presence", c.presencePage)
	auth("POST /sessions/{id}/presence", c.presenceSave)

	auth("GET /campaigns", c.campaignsPage)
	auth("GET /campaigns/new", c.campaignNewPage)
	auth("POST /campaigns", c.campaignCreate)
	auth("POST /campaigns/count", c.campaignCount)
	auth("GET /campaigns/send-time", c.campaignSendTimePage)
	auth("GET /campaigns/{id}", c.campaignPage)
	auth("GET /campaigns/{id}/report", c.campaignReportPage)
	auth("GET /campaigns/{id}/edit", c.campaignEditPage)
	auth("POST /campaigns/{id}", c.campaignUpdate)
	auth("POST /campaigns/{id}/pause", c.campaignState("pause"))
	auth("POST /campaigns/{id}/resume", c.campaignState("resume"))
	auth("POST /campaigns/{id}/cancel", c.campaignState("cancel"))

	auth("GET /audit", c.auditPage)
	auth("GET /directory", c.directoryPage)
	auth("GET /webhooks", c.webhooksPage)
	auth("POST /webhooks", c.webhookCreate)
	auth("POST /webhooks/{id}/enabled", c.webhookToggle)
	auth("POST /webhooks/{id}/delete", c.webhookDelete)
	auth("POST /webhooks/{id}/deliveries/{delivery}/redeliver", c.webhookRedeliver)
	auth("GET /digests", c.digestsPage)
	auth("POST /digests", c.digestCreate)
	auth("POST /digests/{id}/send-test", c.digestSendTest)
	auth("POST /digests/{id}/delete", c.digestDelete)
	auth("GET /accounts", c.accountsPage)
	auth("POST /accounts", c.accountCreate)
	auth("GET /accounts/{id}/edit", c.accountEditPage)
	auth("POST /accounts/{id}", c.accountUpdate)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.notFound(w, r, c.viewerFromRequest(r))
	})

	var h http.Handler = mux
	h = c.withLocale(h)
	h = http.NewCrossOriginProtection().Handler(h)
	h = securityHeaders(h)
	prefix := c.d.Prefix
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == prefix {
			http.Redirect(w, r, prefix+"/", http.StatusMovedPermanently)
			return
		}
		if !strings.HasPrefix(r.URL.Path, prefix+"/") {
			http.NotFound(w, r)
			return
		}
		http.StripPrefix(prefix, h).ServeHTTP(w, r)
	})
}

// securityHeaders forbids framing, inline scripts and third-party content
// (the console's Content-Security-Policy); web's securityHeaders, around
// every page of the service and so around the console's mount, adds
// X-Frame-Options, X-Content-Type-Options and Referrer-Policy.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		next.ServeHTTP(w, r)
	})
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}
