// Package feishu is learnloop's Feishu (飞书 / Lark) adapter. It sends one
// interactive card (card JSON 2.0) per recipient through im/v1/messages,
// paced to Feishu's quotas, and turns card.action.trigger callbacks (HTTP or
// the SDK's long connection) into bot.Interaction values, answering each tap
// with a toast and the updated card within Feishu's 3-second limit.
package feishu

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	lark "github.com/larksuite/oapi-sdk-go/v3"
	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher/callback"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/directory/contact"
)

// Receiver id types Feishu accepts for receive_id_type.
const (
	IDTypeOpenID  = "open_id"
	IDTypeUserID  = "user_id"
	IDTypeUnionID = "union_id"
	IDTypeEmail   = "email"
)

// Callback modes.
const (
	ModeHTTP = "http"
	ModeWS   = "ws"
)

// Default limits and timeouts (Feishu's published quotas).
const (
	DefaultAPIBase    = "https://open.feishu.cn"
	DefaultTimeout    = 10 * time.Second
	DefaultMaxSkew    = 5 * time.Minute
	DefaultAppPerSec  = 50   // im/v1/messages: 50 requests/s per app
	DefaultAppPerMin  = 1000 // and 1,000 requests/min per app
	DefaultUserPerSec = 5    // 5 messages/s to one user
	// callbackBudget is how long a tap may take before we answer anyway:
	// Feishu shows error 200340 to the user after 3 s.
	callbackBudget = 2500 * time.Millisecond
	// cardUpdateMaxAge is how old a message Feishu still lets us update.
	cardUpdateMaxAge = 14 * 24 * time.Hour
	// maxCardBytes is Feishu's limit for a card message body.
	maxCardBytes = 30 * 1024
)

// Config configures a Client.
type Config struct {
	AppID     string
	AppSecret string
	// VerificationToken is checked on every callback (header.token).
	VerificationToken string
	// EncryptKey, when set, makes Feishu encrypt and sign callbacks; the
	// handler then requires a valid X-Lark-Signature.
	EncryptKey string
	// APIBase is the open platform host; DefaultAPIBase when empty.
	APIBase string
	// ReceiveIDType says what Recipient.UserID is: open_id, user_id,
	// union_id or email (user_id when empty).
	ReceiveIDType string
	// CallbackMode is "http" (CallbackHandler) or "ws" (Run).
	CallbackMode string
	// Timeout bounds every API call (DefaultTimeout when zero).
	Timeout time.Duration
	// CallbackMaxSkew is how far a callback's timestamp may be from now.
	CallbackMaxSkew time.Duration
	// Limits override the pacing quotas (zero values take the defaults).
	Limits Limits
	// PublicURL is the service's public base URL (for log hints only).
	PublicURL string
	// CalendarID is the calendar that holds the sessions' events (calendar
	// invites); empty: the app's own primary calendar.
	CalendarID string
}

// Limits are the request quotas the client paces itself to. With a shared
// Limiter (WithLimiter) they hold for all replicas together; without one
// each process paces on its own.
type Limits struct {
	AppPerSecond  int
	AppPerMinute  int
	UserPerSecond int
}

// Option configures a Client.
type Option func(*Client)

// WithNow sets the clock used for callback freshness and receipts.
func WithNow(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithLogger sets the logger (also used for the SDK's own log lines).
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithHTTPClient sets the HTTP client for API calls and the long-connection
// bootstrap. A client without a Timeout gets Config.Timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithLimiter paces requests with l, shared by every replica through the
// database (the app always sets it). Without it each Client paces on its
// own.
func WithLimiter(l Limiter) Option { return func(c *Client) { c.limiter = l } }

// Client is the Feishu platform adapter.
type Client struct {
	cfg    Config
	now    func() time.Time
	log    *slog.Logger
	hc     *http.Client
	sdk    *lark.Client
	tokens *kit.TokenCache
	// appTokens caches the app_access_token of web sign-ins (oauth.go).
	appTokens     *kit.TokenCache
	appTokensOnce sync.Once
	secrets       *kit.Redactor
	pace          *pacer
	limiter       Limiter
	seen          *kit.Dedup[*callback.CardActionTriggerResponse]
	// block is the AES-256 cipher of cfg.EncryptKey (nil without one),
	// expanded once for every callback.
	block cipher.Block
	// contact takes 通讯录 change events (WithContactHandler); contactSeen
	// de-duplicates them.
	contact     contact.Handler
	contactSeen *kit.Dedup[struct{}]
	// msgSeen remembers text messages handled here (chat.go).
	msgSeen *kit.Dedup[struct{}]
	ids     *idCache
	// calID is the app's primary calendar once asked (calendar.go).
	calMu sync.Mutex
	calID string
}

var (
	_ bot.Messenger   = (*Client)(nil)
	_ bot.CardUpdater = (*Client)(nil)
)

// New returns a Client for cfg.
func New(cfg Config, opts ...Option) (*Client, error) {
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	cfg.APIBase = strings.TrimRight(cfg.APIBase, "/")
	if cfg.ReceiveIDType == "" {
		cfg.ReceiveIDType = IDTypeUserID
	}
	if cfg.CallbackMode == "" {
		cfg.CallbackMode = ModeHTTP
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.CallbackMaxSkew <= 0 {
		cfg.CallbackMaxSkew = DefaultMaxSkew
	}
	if cfg.Limits.AppPerSecond <= 0 {
		cfg.Limits.AppPerSecond = DefaultAppPerSec
	}
	if cfg.Limits.AppPerMinute <= 0 {
		cfg.Limits.AppPerMinute = DefaultAppPerMin
	}
	if cfg.Limits.UserPerSecond <= 0 {
		cfg.Limits.UserPerSecond = DefaultUserPerSec
	}
	var errs []error
	if cfg.AppID == "" {
		errs = append(errs, errors.New("app id is empty"))
	}
	if cfg.AppSecret == "" {
		errs = append(errs, errors.New("app secret is empty"))
	}
	if cfg.VerificationToken == "" {
		errs = append(errs, errors.New("verification token is empty"))
	}
	switch cfg.ReceiveIDType {
	case IDTypeOpenID, IDTypeUserID, IDTypeUnionID, IDTypeEmail:
	default:
		errs = append(errs, fmt.Errorf("receive id type %q is not one of open_id, user_id, union_id, email", cfg.ReceiveIDType))
	}
	switch cfg.CallbackMode {
	case ModeHTTP, ModeWS:
	default:
		errs = append(errs, fmt.Errorf("callback mode %q is not one of http, ws", cfg.CallbackMode))
	}
	if u, err := url.Parse(cfg.APIBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("api base %q is not an absolute http(s) URL", cfg.APIBase))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("feishu: %w", err)
	}

	c := &Client{cfg: cfg}
	if cfg.EncryptKey != "" {
		block, err := aes.NewCipher(aesKey(cfg.EncryptKey))
		if err != nil {
			return nil, fmt.Errorf("feishu: encrypt key: %w", err)
		}
		c.block = block
	}
	for _, o := range opts {
		o(c)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("platform", "feishu")
	if c.hc == nil {
		c.hc = &http.Client{Timeout: cfg.Timeout}
	} else if c.hc.Timeout == 0 {
		hc := *c.hc
		hc.Timeout = cfg.Timeout
		c.hc = &hc
	}
	// The SDK's own token cache is a package global (larkcore.NewCache swaps
	// it on every NewClient) and retries 99991663/99991664/99991671 with the
	// stale token; so it is switched off and every call carries a tenant
	// token from this client's evicting cache instead.
	c.sdk = lark.NewClient(cfg.AppID, cfg.AppSecret,
		lark.WithOpenBaseUrl(cfg.APIBase),
		lark.WithReqTimeout(cfg.Timeout),
		lark.WithHttpClient(c.hc),
		lark.WithEnableTokenCache(false),
		lark.WithLogger(sdkLogger{c.log}),
		lark.WithLogLevel(larkcore.LogLevelWarn),
	)
	c.tokens = kit.NewTokenCache(c.fetchToken, tokenMargin, time.Now)
	c.secrets = kit.NewRedactor(cfg.AppSecret, cfg.VerificationToken, cfg.EncryptKey).Track(c.tokens.Recent)
	c.pace = newPacer(cfg.Limits)
	if c.limiter != nil {
		c.pace.shared = newShared(c.limiter, c.log, cfg.AppID, cfg.Limits)
	}
	c.seen = kit.NewDedup[*callback.CardActionTriggerResponse](7*time.Hour, 100_000, c.now)
	c.contactSeen = kit.NewDedup[struct{}](7*time.Hour, 50_000, c.now)
	c.msgSeen = kit.NewDedup[struct{}](7*time.Hour, 50_000, c.now)
	c.ids = newIDCache(time.Hour, 50_000)
	return c, nil
}

// FromConfig builds a Client from the app's platforms.feishu section.
func FromConfig(fc config.FeishuConfig, publicURL string, opts ...Option) (*Client, error) {
	return New(Config{
		AppID:             fc.AppID,
		AppSecret:         fc.AppSecret.Value(),
		VerificationToken: fc.VerificationToken.Value(),
		EncryptKey:        fc.EncryptKey.Value(),
		APIBase:           fc.APIBase,
		ReceiveIDType:     fc.ReceiveIDType,
		CallbackMode:      fc.CallbackMode,
		Timeout:           fc.Timeout.D(),
		CallbackMaxSkew:   fc.CallbackMaxSkew.D(),
		PublicURL:         publicURL,
		CalendarID:        fc.CalendarID,
	}, opts...)
}

// Platform implements bot.Messenger.
func (c *Client) Platform() bot.Platform { return bot.PlatformFeishu }

// Mode returns the configured callback mode ("http" or "ws").
func (c *Client) Mode() string { return c.cfg.CallbackMode }

// CallbackURL returns where Feishu must post callbacks in HTTP mode.
func (c *Client) CallbackURL() string {
	return strings.TrimRight(c.cfg.PublicURL, "/") + "/callbacks/feishu"
}

// callCtx bounds one API call by the configured timeout.
func (c *Client) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.cfg.Timeout)
}

// sdkLogger routes the SDK's log lines to slog. The SDK never sees a token
// of ours (they are passed per request) and its request logging is off.
type sdkLogger struct{ l *slog.Logger }

// Debug implements larkcore.Logger.
func (s sdkLogger) Debug(ctx context.Context, args ...any) {
	s.l.DebugContext(ctx, "lark sdk: "+fmt.Sprint(args...))
}

// Info implements larkcore.Logger (at slog debug level: the SDK is chatty).
func (s sdkLogger) Info(ctx context.Context, args ...any) {
	s.l.DebugContext(ctx, "lark sdk: "+fmt.Sprint(args...))
}

// Warn implements larkcore.Logger.
func (s sdkLogger) Warn(ctx context.Context, args ...any) {
	s.l.WarnContext(ctx, "lark sdk: "+fmt.Sprint(args...))
}

// Error implements larkcore.Logger.
func (s sdkLogger) Error(ctx context.Context, args ...any) {
	s.l.ErrorContext(ctx, "lark sdk: "+fmt.Sprint(args...))
}
