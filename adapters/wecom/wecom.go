// Package wecom is learnloop's WeCom (企业微信) adapter: it sends template
// cards from a self-built app (check-in, 1–5 rating, NPS 0–10, tracked links),
// paces sends within WeCom's limits, verifies and decrypts the app's
// encrypted callbacks and updates tapped cards in place.
//
// Tokens and sends go through github.com/silenceper/wechat/v2. That SDK
// routes every HTTP call through two process globals, util.DefaultHTTPClient
// and util.SetURIModifier. This package sets util.DefaultHTTPClient exactly
// once (the first New) to a client whose transport routes each request by a
// value carried in the request's context: the calling Client's api_base and
// *http.Client. So several Clients (and parallel tests) in one process never
// cross, and the globals never change after the first New. The URI modifier
// is left alone. Every call has a timeout; nothing that leaves this package
// carries an access token or secret.
package wecom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/directory/contact"
)

// DefaultAPIBase is WeCom's API host.
const DefaultAPIBase = "https://qyapi.weixin.qq.com"

// Defaults applied by New to zero Config fields.
const (
	DefaultTimeout         = 10 * time.Second
	DefaultCallbackMaxSkew = 5 * time.Minute
)

// Config is what the adapter needs from a WeCom self-built app (自建应用).
type Config struct {
	// CorpID is the organisation's 企业ID; callbacks must carry it as their
	// receive id.
	CorpID string
	// AgentID is the self-built app's AgentId.
	AgentID int64
	// Secret is the app's Secret (used to get access tokens).
	Secret string
	// Token and EncodingAESKey are the app's 接收消息 callback settings.
	Token          string
	EncodingAESKey string
	// APIBase replaces https://qyapi.weixin.qq.com (tests, private proxies).
	APIBase string
	// Timeout bounds every HTTP call (default 10s).
	Timeout time.Duration
	// DailyQuota is the app's daily person-time quota (licensed seats × 200);
	// 0 means no limit is enforced here. With a shared Limiter it is the
	// quota of all replicas together.
	DailyQuota int
	// CallbackMaxSkew is how far a callback's timestamp may be from now
	// (default 5m).
	CallbackMaxSkew time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithNow sets the clock (tests).
func WithNow(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithHTTPClient sets the HTTP client whose Transport carries every call to
// WeCom (nil Transport: http.DefaultTransport). Config.Timeout bounds each
// call; the client's own Timeout, redirect policy and cookie jar are not
// used.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithLimiter paces sends with l, shared by every replica through the
// database (the app always sets it): then the daily quota, the corp-wide
// API rate, each member's windows and the cooldown after a frequency
// errcode hold for all replicas together. Without it each Client paces on
// its own.
func WithLimiter(l Limiter) Option { return func(c *Client) { c.limiter = l } }

// Client is a WeCom self-built app.
type Client struct {
	cfg     Config
	agentID string
	base    *url.URL
	hc      *http.Client
	now     func() time.Time
	log     *slog.Logger

	route    *route
	tokens   *kit.TokenCache
	redactor *kit.Redactor
	crypto   *cryptor
	pace     *pacer
	limiter  Limiter
	dedup    *kit.Dedup[tapAnswer]
	bodies   sync.Pool                 // *bytes.Buffer callback bodies, reused
	textSeen *kit.Dedup[bot.ChatReply] // text messages (chat.go)
	// contact takes 通讯录 change events (WithContactHandler); contactSeen
	// de-duplicates them.
	contact     contact.Handler
	contactSeen *kit.Dedup[struct{}]
	// sleep waits d or until ctx is done (tests advance a fake clock).
	sleep func(ctx context.Context, d time.Duration) error
	// callbackURL is where WeCom must send callbacks, when known.
	callbackURL string
}

var (
	_ bot.Messenger   = (*Client)(nil)
	_ bot.CardUpdater = (*Client)(nil)
	_ bot.Pacer       = (*Client)(nil)
)

// New returns a Client for cfg.
func New(cfg Config, opts ...Option) (*Client, error) {
	var errs []error
	if cfg.CorpID == "" {
		errs = append(errs, errors.New("corp id is empty"))
	}
	if cfg.AgentID <= 0 {
		errs = append(errs, fmt.Errorf("agent id must be positive, got %d", cfg.AgentID))
	}
	if cfg.Secret == "" {
		errs = append(errs, errors.New("secret is empty"))
	}
	if cfg.Token == "" {
		errs = append(errs, errors.New("callback token is empty"))
	}
	if cfg.DailyQuota < 0 {
		errs = append(errs, fmt.Errorf("daily quota must not be negative, got %d", cfg.DailyQuota))
	}
	cr, err := newCryptor(cfg.Token, cfg.EncodingAESKey, cfg.CorpID)
	if err != nil {
		errs = append(errs, err)
	}
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	base, err := url.Parse(strings.TrimRight(cfg.APIBase, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		errs = append(errs, fmt.Errorf("api base %q is not an http(s) URL", cfg.APIBase))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("wecom: %w", err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.CallbackMaxSkew <= 0 {
		cfg.CallbackMaxSkew = DefaultCallbackMaxSkew
	}
	c := &Client{cfg: cfg, agentID: strconv.FormatInt(cfg.AgentID, 10), base: base, crypto: cr, sleep: kit.Sleep}
	for _, o := range opts {
		o(c)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.hc == nil {
		// Keep connections to WeCom open across a check-in storm: the
		// default transport keeps only 2 idle connections per host.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		c.hc = &http.Client{Timeout: cfg.Timeout, Transport: tr}
	}
	installBridge()
	c.route = &route{base: base, client: c.hc}
	c.tokens = kit.NewTokenCache(c.fetchToken, tokenMargin, c.now)
	c.redactor = kit.NewRedactor(cfg.Secret, cfg.EncodingAESKey, cfg.Token).Track(c.tokens.Recent)
	c.pace = newPacer(c.now, cfg.DailyQuota)
	if c.limiter != nil {
		c.pace.shared = newShared(c.limiter, c.log, cfg.CorpID, cfg.AgentID, cfg.DailyQuota)
	}
	c.dedup = kit.NewDedup[tapAnswer](10*time.Minute, 200_000, c.now)
	c.contactSeen = kit.NewDedup[struct{}](10*time.Minute, 50_000, c.now)
	c.textSeen = newTextSeen(c.now)
	return c, nil
}

// FromConfig builds a Client from the app's platforms.wecom section.
// publicURL is the service's public base URL; the callback URL to register
// in WeCom is publicURL + "/callbacks/wecom" (see CallbackURL).
func FromConfig(c config.WeComConfig, publicURL string, opts ...Option) (*Client, error) {
	cl, err := New(Config{
		CorpID: c.CorpID, AgentID: c.AgentID, Secret: c.Secret.Value(), Token: c.Token.Value(),
		EncodingAESKey: c.EncodingAESKey.Value(), APIBase: c.APIBase, Timeout: c.Timeout.D(),
		DailyQuota: c.DailyQuota, CallbackMaxSkew: c.CallbackMaxSkew.D(),
	}, opts...)
	if err != nil {
		return nil, err
	}
	cl.callbackURL = strings.TrimRight(publicURL, "/") + CallbackPath
	return cl, nil
}

// Platform implements bot.Messenger.
func (c *Client) Platform() bot.Platform { return bot.PlatformWeCom }

// CallbackPath is where the service mounts CallbackHandler.
const CallbackPath = "/callbacks/wecom"

// CallbackURL is the URL to enter as the app's 接收消息 URL (empty unless the
// Client was built by FromConfig).
func (c *Client) CallbackURL() string { return c.callbackURL }
