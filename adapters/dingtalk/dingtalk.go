// Package dingtalk is learnloop's DingTalk (钉钉) adapter.
//
// By default it delivers DingTalk's built-in StandardCard to each
// recipient's robot chat (im 1.0 robot interactiveCards/send, cardBizId =
// the delivery key), a card JSON it builds itself, so no card template has
// to be built by hand; with a custom card template configured it uses
// card/instances/createAndDeliver (outTrackId = the delivery key) instead.
// Button taps arrive through Stream mode (Run). With cards set to
// work_notification it sends work notifications (asyncsend_v2) whose
// buttons open the signed /c/ check-in page and tracked links. HTTP event
// subscriptions (/callbacks/dingtalk) are verified and decrypted with
// DingTalk's callback crypto (CallbackHandler).
package dingtalk

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	calsdk "github.com/alibabacloud-go/dingtalk/calendar_1_0"
	card "github.com/alibabacloud-go/dingtalk/card_1_0"
	im "github.com/alibabacloud-go/dingtalk/im_1_0"
	oauth2 "github.com/alibabacloud-go/dingtalk/oauth2_1_0"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/directory/contact"
)

// Callback modes.
const (
	ModeStream = "stream"
	ModeHTTP   = "http"
)

// Card kinds (Config.Cards).
const (
	CardsStandard = "standard"
	CardsTemplate = "template"
	CardsNotice   = "work_notification"
)

// Defaults used when a Config field is zero.
const (
	DefaultAPIBase    = "https://api.dingtalk.com"
	DefaultOAPIBase   = "https://oapi.dingtalk.com"
	DefaultTimeout    = 10 * time.Second
	DefaultMaxSkew    = 5 * time.Minute
	DefaultRate       = 20 // sends (card calls or notified people) per second
	DefaultResultWait = 3 * time.Second
)

// Config is everything the adapter needs. FromConfig builds it from the
// application's config.DingTalkConfig.
type Config struct {
	AppKey    string
	AppSecret string
	// AgentID is the app's agent id; work notifications need it.
	AgentID int64
	// RobotCode is the app robot's code; empty means AppKey (an internal
	// app's robot code equals its app key).
	RobotCode string
	// Cards selects how deliveries go out: CardsStandard (DingTalk's
	// built-in StandardCard robot card, built by learnloop; the default
	// without a template id), CardsTemplate (a custom card template,
	// CardTemplateID; the default when CardTemplateID is set) or
	// CardsNotice (work notifications whose buttons open web pages).
	Cards string
	// CardTemplateID is the custom card template (CardsTemplate).
	CardTemplateID string
	// CallbackToken and CallbackAESKey verify and decrypt HTTP events.
	CallbackToken  string
	CallbackAESKey string
	// CallbackMode is "stream" (default) or "http".
	CallbackMode string
	// CallbackRouteKey is the route key registered with
	// /v1.0/card/callbacks/register; only used when CallbackMode is http.
	CallbackRouteKey string
	// APIBase is the new OpenAPI host (api.dingtalk.com), also the Stream
	// gateway host; OAPIBase the legacy host (oapi.dingtalk.com).
	APIBase  string
	OAPIBase string
	// PublicURL is learnloop's public URL; fallback check-in links must
	// start with it.
	PublicURL string
	// Timeout bounds every call to DingTalk.
	Timeout time.Duration
	// CallbackMaxSkew is how far an HTTP callback's timestamp may be from now.
	CallbackMaxSkew time.Duration
	// CalendarOrganizer is the userid of the member whose primary calendar
	// holds the calendar invites' events (calendar.go).
	CalendarOrganizer string
}

// FromConfig builds a Client from the application's DingTalk section.
func FromConfig(c config.DingTalkConfig, publicURL string, opts ...Option) (*Client, error) {
	return New(Config{
		AppKey: c.AppKey, AppSecret: c.AppSecret.Value(), AgentID: c.AgentID, RobotCode: c.RobotCode,
		Cards: c.Cards, CardTemplateID: c.CardTemplateID, CallbackToken: c.CallbackToken.Value(), CallbackAESKey: c.CallbackAESKey.Value(),
		CallbackMode: c.CallbackMode, APIBase: c.APIBase, OAPIBase: c.OAPIBase, PublicURL: publicURL,
		Timeout: c.Timeout.D(), CallbackMaxSkew: c.CallbackMaxSkew.D(), CalendarOrganizer: c.CalendarOrganizer,
	}, opts...)
}

// Option configures a Client.
type Option func(*Client)

// WithNow sets the clock used for callback timestamps and token expiry.
func WithNow(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithHTTPClient sets the HTTP client for legacy oapi calls (gettoken,
// asyncsend_v2, getsendresult). The new-API calls go through the
// alibabacloud SDK, which keeps its own client (bounded by Config.Timeout).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithRateLimit paces sends to perSecond units (one card, or one notified
// person) with the given burst.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *Client) { c.limit = newLimiter(perSecond, burst) }
}

// WithLimiter keeps the send rate (WithRateLimit) and the pause after a
// quota error in the database, shared by every replica (the app always
// sets it). Without it each Client paces on its own.
func WithLimiter(l Limiter) Option { return func(c *Client) { c.shared = l } }

// WithResultWait sets how long a work-notification send waits for
// getsendresult to classify its recipients before reporting them sent.
// Zero skips the check (use CheckDelivery later).
func WithResultWait(d time.Duration) Option { return func(c *Client) { c.resultWait = d } }

// WithConcurrency sets how many calls one batch makes at once.
func WithConcurrency(n int) Option { return func(c *Client) { c.workers = n } }

// WithQuotaPause sets how long sending pauses after a per-minute quota error.
func WithQuotaPause(d time.Duration) Option { return func(c *Client) { c.quotaPause = d } }

// Client is a DingTalk messenger, card updater and callback receiver.
type Client struct {
	cfg   Config
	now   func() time.Time
	log   *slog.Logger
	http  *http.Client
	limit *limiter
	// shared, when set, holds limit's bucket in the database.
	shared Limiter
	// resultLimit paces getsendresult polling apart from sends.
	resultLimit *limiter
	resultWait  time.Duration
	workers     int
	quotaPause  time.Duration

	aesKey []byte // decoded CallbackAESKey, nil when HTTP callbacks are off

	// The alibabacloud SDK clients are not safe for concurrent use (Execute
	// writes the client's Headers field): card calls take a client from a
	// pool, oauth calls hold oauthMu.
	cardPool chan *card.Client
	imPool   chan *im.Client
	oauthMu  sync.Mutex
	oauth    *oauth2.Client
	apiTok   *kit.TokenCache // new API (x-acs-dingtalk-access-token)
	oapTok   *kit.TokenCache // legacy API (?access_token=)
	secrets  *kit.Redactor

	pauseMu    sync.Mutex
	pauseUntil time.Time

	seen *kit.Dedup[tapResult]
	// textSeen remembers robot messages handled here (chat.go).
	textSeen *kit.Dedup[struct{}]
	// contact takes 通讯录 change events (WithContactHandler); contactSeen
	// de-duplicates them.
	contact     contact.Handler
	contactSeen *kit.Dedup[struct{}]

	// Calendar invites (calendar.go): the calendar SDK client, one call at
	// a time, and the unionIds read so far by userid.
	calMu   sync.Mutex
	cal     *calsdk.Client
	unionMu sync.Mutex
	unions  map[string]string
}

var (
	_ bot.Messenger      = (*Client)(nil)
	_ bot.BatchMessenger = (*Client)(nil)
	_ bot.CardUpdater    = (*Client)(nil)
	_ bot.Pacer          = (*Client)(nil)
)

// New returns a Client for cfg.
func New(cfg Config, opts ...Option) (*Client, error) {
	if cfg.AppKey == "" || cfg.AppSecret == "" {
		return nil, errors.New("dingtalk: app_key and app_secret are required")
	}
	if cfg.CallbackMode == "" {
		cfg.CallbackMode = ModeStream
	}
	if cfg.CallbackMode != ModeStream && cfg.CallbackMode != ModeHTTP {
		return nil, fmt.Errorf("dingtalk: callback mode %q is not stream or http", cfg.CallbackMode)
	}
	if cfg.RobotCode == "" {
		cfg.RobotCode = cfg.AppKey
	}
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	if cfg.OAPIBase == "" {
		cfg.OAPIBase = DefaultOAPIBase
	}
	cfg.APIBase = strings.TrimRight(cfg.APIBase, "/")
	cfg.OAPIBase = strings.TrimRight(cfg.OAPIBase, "/")
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.CallbackMaxSkew <= 0 {
		cfg.CallbackMaxSkew = DefaultMaxSkew
	}
	if cfg.Cards == "" {
		cfg.Cards = CardsStandard
		if cfg.CardTemplateID != "" {
			cfg.Cards = CardsTemplate
		}
	}
	switch cfg.Cards {
	case CardsStandard:
	case CardsTemplate:
		if cfg.CardTemplateID == "" {
			return nil, errors.New("dingtalk: cards: template needs card_template_id")
		}
	case CardsNotice:
		if cfg.AgentID <= 0 {
			return nil, errors.New("dingtalk: cards: work_notification needs agent_id")
		}
	default:
		return nil, fmt.Errorf("dingtalk: cards %q is not standard, template or work_notification", cfg.Cards)
	}
	c := &Client{cfg: cfg, now: time.Now, resultWait: DefaultResultWait, quotaPause: time.Minute, workers: DefaultConcurrency}
	for _, o := range opts {
		o(c)
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: cfg.Timeout}
	}
	if c.limit == nil {
		c.limit = newLimiter(DefaultRate, DefaultRate)
	}
	if c.shared != nil && c.limit.rate > 0 {
		c.limit.shared = newSharedRate(c.shared, cfg.AppKey, c.limit.rate, int(c.limit.burst))
	}
	c.resultLimit = newLimiter(DefaultRate, DefaultRate)
	if cfg.CallbackToken != "" || cfg.CallbackAESKey != "" {
		key, err := decodeAESKey(cfg.CallbackAESKey)
		if err != nil {
			return nil, fmt.Errorf("dingtalk: callback aes key: %w", err)
		}
		if cfg.CallbackToken == "" {
			return nil, errors.New("dingtalk: callback token is required with a callback aes key")
		}
		c.aesKey = key
	}
	if cfg.CallbackMode == ModeHTTP && c.aesKey == nil {
		return nil, errors.New("dingtalk: callback_token and callback_aes_key are required in http callback mode")
	}
	oc, err := openAPIConfig(cfg.APIBase, cfg.Timeout)
	if err != nil {
		return nil, err
	}
	c.workers = max(c.workers, 1)
	c.cardPool = make(chan *card.Client, c.workers+2)
	c.imPool = make(chan *im.Client, c.workers+2)
	for range cap(c.cardPool) {
		cl, err := card.NewClient(oc)
		if err != nil {
			return nil, fmt.Errorf("dingtalk: card client: %w", err)
		}
		c.cardPool <- cl
		il, err := im.NewClient(oc)
		if err != nil {
			return nil, fmt.Errorf("dingtalk: im client: %w", err)
		}
		c.imPool <- il
	}
	if c.oauth, err = oauth2.NewClient(oc); err != nil {
		return nil, fmt.Errorf("dingtalk: oauth2 client: %w", err)
	}
	if c.cal, err = calsdk.NewClient(oc); err != nil {
		return nil, fmt.Errorf("dingtalk: calendar client: %w", err)
	}
	c.unions = map[string]string{}
	c.apiTok = kit.NewTokenCache(c.fetchAPIToken, tokenMargin, c.now)
	c.oapTok = kit.NewTokenCache(c.fetchOAPIToken, tokenMargin, c.now)
	c.secrets = kit.NewRedactor(cfg.AppSecret, cfg.CallbackToken, cfg.CallbackAESKey).Track(c.apiTok.Recent).Track(c.oapTok.Recent)
	c.seen = kit.NewDedup[tapResult](10*time.Minute, 10000, c.now)
	c.textSeen = kit.NewDedup[struct{}](10*time.Minute, 50_000, c.now)
	c.contactSeen = kit.NewDedup[struct{}](time.Hour, 50_000, c.now)
	return c, nil
}

// openAPIConfig points the alibabacloud SDK at base (scheme and host only:
// the SDK builds paths itself).
func openAPIConfig(base string, timeout time.Duration) (*openapi.Config, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("dingtalk: api base %q is not an http(s) URL", base)
	}
	ms := int(timeout / time.Millisecond)
	return &openapi.Config{
		Protocol: tea.String(u.Scheme), Endpoint: tea.String(u.Host),
		ReadTimeout: tea.Int(ms), ConnectTimeout: tea.Int(ms),
	}, nil
}

func decodeAESKey(k string) ([]byte, error) {
	if len(k) != 43 {
		return nil, fmt.Errorf("must be 43 characters long, got %d", len(k))
	}
	key, err := base64.StdEncoding.DecodeString(k + "=")
	if err != nil {
		return nil, errors.New("is not base64")
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("decodes to %d bytes, want 32", len(key))
	}
	return key, nil
}

// Platform implements bot.Messenger.
func (c *Client) Platform() bot.Platform { return bot.PlatformDingTalk }

// CardMode reports whether the client sends interactive cards (the
// built-in StandardCard or a custom template) rather than work
// notifications.
func (c *Client) CardMode() bool { return c.cfg.Cards != CardsNotice }

// Cards is the card kind in use: CardsStandard, CardsTemplate or CardsNotice.
func (c *Client) Cards() string { return c.cfg.Cards }

// standard reports whether cards are DingTalk's built-in StandardCard.
func (c *Client) standard() bool { return c.cfg.Cards == CardsStandard }

// Doctor checks the credentials: it fetches a new-API token (and a legacy
// token when work notifications are used) and, in Stream mode, asks the
// gateway for a connection ticket. Failures carry DingTalk's code and message.
func (c *Client) Doctor(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*c.cfg.Timeout)
	defer cancel()
	var errs []error
	if _, _, err := c.fetchAPIToken(ctx); err != nil {
		errs = append(errs, fmt.Errorf("app_key/app_secret: %w", err))
	}
	if !c.CardMode() {
		if _, _, err := c.fetchOAPIToken(ctx); err != nil {
			errs = append(errs, fmt.Errorf("app_key/app_secret: %w", err))
		}
	}
	if c.streamCallbacks() && len(errs) == 0 {
		if err := c.checkStream(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stream gateway gave no connection ticket (is the robot in stream mode?): %w", err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("dingtalk: %w", errors.Join(errs...))
	}
	return nil
}

// DoctorNotes says which cards the client sends and, honestly, what
// Doctor cannot check: DingTalk has no API that reads a card template's
// variables, and no call proves a robot may reach a user short of sending.
func (c *Client) DoctorNotes() []string {
	const sendTest = "check it by sending a check-in to yourself (learnloop send-now) and tapping it"
	switch c.cfg.Cards {
	case CardsTemplate:
		return []string{
			"cards: template " + c.cfg.CardTemplateID + " (custom card template, createAndDeliver)",
			"not checked: that the template binds learnloop's variables and 回传请求 params (README §4, templates/learnloop-card.vars.json) — DingTalk has no API that reads a template's variables; " + sendTest,
		}
	case CardsNotice:
		return []string{"cards: work_notification (asyncsend_v2; buttons open web pages, cards do not change after a check-in)"}
	}
	return []string{
		"cards: standard (DingTalk's built-in StandardCard, built by learnloop: no card template needed)",
		"not checked: that the robot may message each trainee (the app's visible range) and that taps reach the Stream connection; " + sendTest,
	}
}

func (c *Client) nowUTC() time.Time { return c.now().UTC() }
