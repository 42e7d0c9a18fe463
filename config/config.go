// Package config holds learnloop's configuration: a YAML file, an environment
// override for every key, defaults that run with nothing set, validation that
// names the bad key and why, and secrets that are masked whenever printed.
//
// Every key has an environment override named EnvPrefix followed by its YAML
// path upper-cased with "." replaced by "_": http.addr is LEARNLOOP_HTTP_ADDR,
// platforms.wecom.api_base is LEARNLOOP_PLATFORMS_WECOM_API_BASE. The
// environment wins over the file. An environment variable set to the empty
// string counts as unset. Lists are comma-separated.
//
// Every secret key also has a "<key>_file" key (and so a LEARNLOOP_..._FILE
// variable) naming a file to read the secret from when the key itself is
// empty, as used with Docker and Kubernetes secrets.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"strings"
	"time"
	_ "time/tzdata" // Timezone must load even on hosts without zoneinfo.

	"go.yaml.in/yaml/v3"
)

// EnvConfigPath is the environment variable naming the configuration file.
// Load does not read it; the command line does.
const EnvConfigPath = "LEARNLOOP_CONFIG"

// EnvPrefix starts the name of every environment override.
const EnvPrefix = "LEARNLOOP_"

// Database drivers accepted by database.driver.
const (
	DriverSQLite = "sqlite"
	DriverMySQL  = "mysql"
)

// Platform names accepted by delivery.default_platform.
const (
	PlatformSimulator = "simulator"
	PlatformWeCom     = "wecom"
	PlatformFeishu    = "feishu"
	PlatformDingTalk  = "dingtalk"
)

// Callback modes accepted by platforms.feishu.callback_mode and
// platforms.dingtalk.callback_mode.
const (
	CallbackModeHTTP   = "http"
	CallbackModeWS     = "ws"
	CallbackModeStream = "stream"
)

// Config is learnloop's whole configuration.
type Config struct {
	Database   DatabaseConfig   `yaml:"database"`
	HTTP       HTTPConfig       `yaml:"http"`
	Security   SecurityConfig   `yaml:"security"`
	Timezone   string           `yaml:"timezone"`
	Locale     string           `yaml:"locale"`
	QuietHours QuietHoursConfig `yaml:"quiet_hours"`
	Holidays   HolidaysConfig   `yaml:"holidays"`
	Checkin    CheckinConfig    `yaml:"checkin"`
	Scheduler  SchedulerConfig  `yaml:"scheduler"`
	Delivery   DeliveryConfig   `yaml:"delivery"`
	Log        LogConfig        `yaml:"log"`
	Surveys    SurveysConfig    `yaml:"surveys"`
	Platforms  PlatformsConfig  `yaml:"platforms"`
	Directory  DirectoryConfig  `yaml:"directory"`
	Webhooks   WebhooksConfig   `yaml:"webhooks"`
	Calendar   CalendarConfig   `yaml:"calendar"`
	// Experiments tunes the A/B tests of campaigns and class touchpoints.
	Experiments ExperimentsConfig `yaml:"experiments"`

	loc *time.Location // cached Location for Timezone; set by Load and Default
}

// DatabaseConfig is the database section.
type DatabaseConfig struct {
	Driver         string `yaml:"driver"`
	DSN            string `yaml:"dsn"`
	MaxOpenConns   int    `yaml:"max_open_conns"`
	MaxIdleConns   int    `yaml:"max_idle_conns"`
	MigrateOnStart bool   `yaml:"migrate_on_start"`
}

// HTTPConfig is the HTTP server section.
type HTTPConfig struct {
	Addr            string   `yaml:"addr"`
	PublicURL       string   `yaml:"public_url"`
	ReadTimeout     Duration `yaml:"read_timeout"`
	WriteTimeout    Duration `yaml:"write_timeout"`
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
}

// SecurityConfig is the security section.
type SecurityConfig struct {
	LinkSecret     Secret   `yaml:"link_secret"`
	LinkSecretFile string   `yaml:"link_secret_file,omitempty"`
	LinkTTL        Duration `yaml:"link_ttl"`
	AdminTokens    []Secret `yaml:"admin_tokens"`
	// AdminTokensFile holds one token per line (or comma-separated).
	AdminTokensFile string `yaml:"admin_tokens_file,omitempty"`
	DevMode         bool   `yaml:"dev_mode"`
}

// QuietHoursConfig is the daily window in which nothing is sent. Start may be
// after End, meaning the window spans midnight.
type QuietHoursConfig struct {
	Enabled bool   `yaml:"enabled"`
	Start   string `yaml:"start"` // HH:MM
	End     string `yaml:"end"`   // HH:MM
}

// HolidaysConfig lists days off and make-up working days (调休), as YYYY-MM-DD.
type HolidaysConfig struct {
	Dates    []string `yaml:"dates"`
	Workdays []string `yaml:"workdays"`
}

// CheckinConfig is the check-in window around a session.
type CheckinConfig struct {
	OpensBefore Duration `yaml:"opens_before"`
	Grace       Duration `yaml:"grace"`
	MakeupAfter Duration `yaml:"makeup_after"` // make-up window after the session end
}

// SchedulerConfig is the job scheduler section.
type SchedulerConfig struct {
	Enabled      bool     `yaml:"enabled"`
	Lease        Duration `yaml:"lease"`
	PollInterval Duration `yaml:"poll_interval"`
	Concurrency  int      `yaml:"concurrency"`
	MaxAttempts  int      `yaml:"max_attempts"`
	BackoffBase  Duration `yaml:"backoff_base"`
	BackoffMax   Duration `yaml:"backoff_max"`
	BatchSize    int      `yaml:"batch_size"`
}

// DeliveryConfig is the message delivery section.
type DeliveryConfig struct {
	// DefaultPlatform is the platform of employees whose roster row names
	// none. Empty means the single enabled real platform, or the simulator
	// when it runs alone (see Config.DefaultPlatform).
	DefaultPlatform string `yaml:"default_platform"`
	BatchSize       int    `yaml:"batch_size"`
	Workers         int    `yaml:"workers"`
}

// LogConfig is the logging section.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn or error
	Format string `yaml:"format"` // text or json
}

// SurveysConfig controls the surveys attached to new sessions.
type SurveysConfig struct {
	// Feedback attaches the post-course feedback survey to new sessions.
	Feedback bool `yaml:"feedback"`
	// FeedbackReminders are durations after the session end at which
	// non-respondents are reminded (at most 2).
	FeedbackReminders []string `yaml:"feedback_reminders"`
	// FeedbackCloseAfter is how long after the end the feedback stays open.
	FeedbackCloseAfter Duration `yaml:"feedback_close_after"`
	// Followup attaches the manager behaviour follow-up to sessions of
	// courses that define 2–4 behaviours.
	Followup bool `yaml:"followup"`
	// FollowupDays are the days after the end at which managers are asked
	// (e.g. 30, 60, 90).
	FollowupDays []string `yaml:"followup_days"`
	// FollowupReminders are durations after each follow-up at which managers
	// who have not answered are reminded (at most 2).
	FollowupReminders []string `yaml:"followup_reminders"`
	// FollowupCloseAfter is how long each follow-up stays open.
	FollowupCloseAfter Duration `yaml:"followup_close_after"`
	// EscalateAfter is when, after the last reminder, the coordinator gets
	// the list of who has not answered.
	EscalateAfter Duration `yaml:"escalate_after"`
	// MinGroupSize suppresses report breakdowns of fewer respondents.
	MinGroupSize int `yaml:"min_group_size"`
}

// ExperimentsConfig is the experiments section.
type ExperimentsConfig struct {
	// MinSample is the people each variant must have been delivered to
	// before the comparison is shown: the default of new campaigns and the
	// rule of class touchpoint experiments.
	MinSample int `yaml:"min_sample"`
}

// PlatformsConfig holds one section per messaging platform.
type PlatformsConfig struct {
	Simulator SimulatorConfig `yaml:"simulator"`
	WeCom     WeComConfig     `yaml:"wecom"`
	Feishu    FeishuConfig    `yaml:"feishu"`
	DingTalk  DingTalkConfig  `yaml:"dingtalk"`
}

// SimulatorConfig is the built-in simulator platform. Its pages list every
// employee and let anyone tap anyone's cards, so it is off unless enabled
// here or by security.dev_mode (see Config.SimulatorEnabled).
type SimulatorConfig struct {
	Enabled bool `yaml:"enabled"`
	// AllowWithRealPlatforms lets an enabled simulator run next to an
	// enabled WeCom, Feishu or DingTalk (trials only); without it that
	// configuration is refused.
	AllowWithRealPlatforms bool `yaml:"allow_with_real_platforms"`
}

// WeComConfig is WeCom (企业微信).
type WeComConfig struct {
	Enabled            bool     `yaml:"enabled"`
	CorpID             string   `yaml:"corp_id"`
	AgentID            int64    `yaml:"agent_id"`
	Secret             Secret   `yaml:"secret"`
	SecretFile         string   `yaml:"secret_file,omitempty"`
	Token              Secret   `yaml:"token"`
	TokenFile          string   `yaml:"token_file,omitempty"`
	EncodingAESKey     Secret   `yaml:"encoding_aes_key"`
	EncodingAESKeyFile string   `yaml:"encoding_aes_key_file,omitempty"`
	APIBase            string   `yaml:"api_base"`
	Timeout            Duration `yaml:"timeout"`
	DailyQuota         int      `yaml:"daily_quota"` // 0 = unlimited
	CallbackMaxSkew    Duration `yaml:"callback_max_skew"`
}

// FeishuConfig is Feishu / Lark (飞书).
type FeishuConfig struct {
	Enabled               bool     `yaml:"enabled"`
	AppID                 string   `yaml:"app_id"`
	AppSecret             Secret   `yaml:"app_secret"`
	AppSecretFile         string   `yaml:"app_secret_file,omitempty"`
	VerificationToken     Secret   `yaml:"verification_token"`
	VerificationTokenFile string   `yaml:"verification_token_file,omitempty"`
	EncryptKey            Secret   `yaml:"encrypt_key"`
	EncryptKeyFile        string   `yaml:"encrypt_key_file,omitempty"`
	APIBase               string   `yaml:"api_base"`
	CallbackMode          string   `yaml:"callback_mode"`   // http or ws
	ReceiveIDType         string   `yaml:"receive_id_type"` // open_id, user_id, union_id or email
	Timeout               Duration `yaml:"timeout"`
	CallbackMaxSkew       Duration `yaml:"callback_max_skew"`
	// CalendarID holds the calendar invites' events; empty: the app's
	// primary calendar.
	CalendarID string `yaml:"calendar_id"`
}

// DingTalkConfig is DingTalk (钉钉).
type DingTalkConfig struct {
	Enabled       bool   `yaml:"enabled"`
	AppKey        string `yaml:"app_key"`
	AppSecret     Secret `yaml:"app_secret"`
	AppSecretFile string `yaml:"app_secret_file,omitempty"`
	AgentID       int64  `yaml:"agent_id"`
	RobotCode     string `yaml:"robot_code"`
	// Cards is standard (DingTalk's built-in StandardCard; the default
	// without a template id), template (card_template_id; the default with
	// one) or work_notification.
	Cards              string   `yaml:"cards"`
	CardTemplateID     string   `yaml:"card_template_id"`
	CallbackToken      Secret   `yaml:"callback_token"`
	CallbackTokenFile  string   `yaml:"callback_token_file,omitempty"`
	CallbackAESKey     Secret   `yaml:"callback_aes_key"`
	CallbackAESKeyFile string   `yaml:"callback_aes_key_file,omitempty"`
	CallbackMode       string   `yaml:"callback_mode"` // stream or http
	APIBase            string   `yaml:"api_base"`
	OAPIBase           string   `yaml:"oapi_base"`
	Timeout            Duration `yaml:"timeout"`
	CallbackMaxSkew    Duration `yaml:"callback_max_skew"`
	// CalendarOrganizer is the userid of the member whose primary calendar
	// holds the calendar invites' events (DingTalk 日程 need an organizer).
	CalendarOrganizer string `yaml:"calendar_organizer"`
}

// baseDefaults returns the defaults before derived values (http.public_url,
// database.dsn) are filled in, which depend on other keys.
func baseDefaults() *Config {
	return &Config{
		Directory: DirectoryConfig{MaxDeactivatePercent: 20, Concurrency: 4},
		Webhooks:  webhookDefaults(),
		Calendar:  calendarDefaults(),
		Database: DatabaseConfig{
			Driver:         DriverSQLite,
			MaxOpenConns:   20,
			MaxIdleConns:   10,
			MigrateOnStart: true,
		},
		HTTP: HTTPConfig{
			Addr:            "127.0.0.1:8080",
			ReadTimeout:     Duration(15 * time.Second),
			WriteTimeout:    Duration(30 * time.Second),
			ShutdownTimeout: Duration(20 * time.Second),
		},
		Security: SecurityConfig{
			LinkTTL: Duration(720 * time.Hour),
		},
		Timezone:   "Asia/Shanghai",
		Locale:     "zh-CN",
		QuietHours: QuietHoursConfig{Enabled: true, Start: "21:00", End: "08:00"},
		Checkin: CheckinConfig{
			OpensBefore: Duration(30 * time.Minute),
			Grace:       Duration(10 * time.Minute),
			MakeupAfter: Duration(24 * time.Hour),
		},
		Scheduler: SchedulerConfig{
			Enabled:      true,
			Lease:        Duration(2 * time.Minute),
			PollInterval: Duration(time.Second),
			Concurrency:  4,
			MaxAttempts:  8,
			BackoffBase:  Duration(10 * time.Second),
			BackoffMax:   Duration(30 * time.Minute),
			BatchSize:    50,
		},
		Delivery: DeliveryConfig{BatchSize: 500, Workers: 8},
		Surveys: SurveysConfig{
			Feedback: true, FeedbackReminders: []string{"24h", "48h"}, FeedbackCloseAfter: Duration(7 * 24 * time.Hour),
			Followup: true, FollowupDays: []string{"30"}, FollowupReminders: []string{"72h", "144h"},
			FollowupCloseAfter: Duration(14 * 24 * time.Hour), EscalateAfter: Duration(72 * time.Hour), MinGroupSize: 5,
		},
		Log:         LogConfig{Level: "info", Format: "text"},
		Experiments: ExperimentsConfig{MinSample: 100},
		Platforms: PlatformsConfig{
			WeCom: WeComConfig{
				APIBase:         "https://qyapi.weixin.qq.com",
				Timeout:         Duration(10 * time.Second),
				CallbackMaxSkew: Duration(5 * time.Minute),
			},
			Feishu: FeishuConfig{
				APIBase:         "https://open.feishu.cn",
				CallbackMode:    CallbackModeHTTP,
				ReceiveIDType:   "user_id",
				Timeout:         Duration(10 * time.Second),
				CallbackMaxSkew: Duration(5 * time.Minute),
			},
			DingTalk: DingTalkConfig{
				CallbackMode:    CallbackModeStream,
				APIBase:         "https://api.dingtalk.com",
				OAPIBase:        "https://oapi.dingtalk.com",
				Timeout:         Duration(10 * time.Second),
				CallbackMaxSkew: Duration(5 * time.Minute),
			},
		},
	}
}

// Default returns the configuration used when nothing is set. It validates
// only with security.dev_mode enabled or security.link_secret set.
func Default() *Config {
	c := baseDefaults()
	c.fillDerived()
	c.loc, _ = time.LoadLocation(c.Timezone)
	return c
}

// fillDerived fills keys whose defaults depend on other keys and trims
// trailing slashes from base URLs.
func (c *Config) fillDerived() {
	if c.Database.DSN == "" && c.Database.Driver == DriverSQLite {
		c.Database.DSN = "learnloop.db"
	}
	if c.HTTP.PublicURL == "" && c.HTTP.Addr != "" {
		c.HTTP.PublicURL = "http://" + publicHostPort(c.HTTP.Addr)
	}
	for _, u := range []*string{
		&c.HTTP.PublicURL,
		&c.Platforms.WeCom.APIBase,
		&c.Platforms.Feishu.APIBase,
		&c.Platforms.DingTalk.APIBase,
		&c.Platforms.DingTalk.OAPIBase,
	} {
		if t := strings.TrimRight(*u, "/"); t != "" {
			*u = t
		}
	}
	// An empty list in YAML ("dates: []") means the same as none at all.
	for _, l := range leaves(c) {
		if l.value.Kind() == reflect.Slice && l.value.Len() == 0 && !l.value.IsNil() {
			l.value.SetZero()
		}
	}
}

// publicHostPort turns a listen address into one a browser can reach: an
// empty or wildcard host becomes localhost.
func publicHostPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// Load reads the YAML file at path (empty path = no file, defaults only),
// applies LEARNLOOP_* environment overrides from lookup (such as
// os.LookupEnv; nil means none), reads secrets from their *_file keys, fills
// defaults and validates.
//
// A file that cannot be read or parsed returns a nil Config. Bad environment
// values and validation problems are all reported together, joined, each
// naming its key; in that case the loaded Config is returned as well, so
// that a caller such as `doctor` can still show it.
func Load(path string, lookup func(string) (string, bool)) (*Config, error) {
	c := baseDefaults()
	if path != "" {
		if err := c.decodeFile(path); err != nil {
			return nil, err
		}
	}
	var errs []error
	if lookup != nil {
		errs = append(errs, applyEnv(c, lookup)...)
	}
	errs = append(errs, readSecretFiles(c)...)
	c.fillDerived()
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	c.loc, _ = time.LoadLocation(c.Timezone)
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	return c, nil
}

// decodeFile decodes the YAML file at path over c, rejecting unknown keys.
func (c *Config) decodeFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty file: defaults only
		}
		if diag := diagnoseYAML(b); diag != nil {
			err = diag
		}
		return fmt.Errorf("config file %s: %w", path, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return fmt.Errorf("config file %s: holds more than one YAML document", path)
	case !errors.Is(err, io.EOF):
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// Masked returns the effective configuration as YAML with every Secret shown
// as "******" (empty secrets as "") and the password of a database DSN
// replaced by "******".
func (c *Config) Masked() string {
	// Show what runs: the derived default platform and the simulator as
	// dev mode turns it on.
	eff := *c
	eff.Delivery.DefaultPlatform = c.DefaultPlatform()
	eff.Platforms.Simulator.Enabled = c.SimulatorEnabled()
	b, err := yaml.Marshal(&eff)
	if err != nil {
		return fmt.Sprintf("# cannot encode configuration: %v\n", err)
	}
	return string(b)
}

// plainDatabase is DatabaseConfig without its masking methods.
type plainDatabase DatabaseConfig

// masked returns d with the DSN password hidden.
func (d DatabaseConfig) masked() plainDatabase {
	d.DSN = maskDSN(d.DSN)
	return plainDatabase(d)
}

// Format prints d with the password of the DSN replaced by "******", so
// printing a Config with fmt does not leak it.
func (d DatabaseConfig) Format(f fmt.State, verb rune) {
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), d.masked())
}

// MarshalYAML encodes d with the DSN password replaced by "******".
func (d DatabaseConfig) MarshalYAML() (any, error) { return d.masked(), nil }

// MarshalJSON encodes d with the DSN password replaced by "******".
func (d DatabaseConfig) MarshalJSON() ([]byte, error) { return json.Marshal(d.masked()) }

// maskDSN hides the password in a MySQL DSN "user:password@net(addr)/db".
// The split follows go-sql-driver/mysql: the last '/' ends the address, the
// last '@' before it ends the credentials, the first ':' in those starts the
// password.
func maskDSN(dsn string) string {
	end := strings.LastIndex(dsn, "/")
	if end < 0 {
		end = len(dsn)
	}
	at := strings.LastIndex(dsn[:end], "@")
	if at < 0 {
		return dsn
	}
	colon := strings.Index(dsn[:at], ":")
	if colon < 0 || colon+1 == at {
		return dsn
	}
	return dsn[:colon+1] + maskedValue + dsn[at:]
}

// RealPlatforms lists the enabled messaging platforms other than the
// simulator, in the order wecom, feishu, dingtalk.
func (c *Config) RealPlatforms() []string {
	var out []string
	for _, p := range []struct {
		name string
		on   bool
	}{{PlatformWeCom, c.Platforms.WeCom.Enabled}, {PlatformFeishu, c.Platforms.Feishu.Enabled}, {PlatformDingTalk, c.Platforms.DingTalk.Enabled}} {
		if p.on {
			out = append(out, p.name)
		}
	}
	return out
}

// SimulatorEnabled reports whether the built-in simulator runs: when
// platforms.simulator.enabled is true, or in security.dev_mode while no real
// platform is enabled. It is never on by default in production.
func (c *Config) SimulatorEnabled() bool {
	return c.Platforms.Simulator.Enabled || (c.Security.DevMode && len(c.RealPlatforms()) == 0)
}

// DefaultPlatform is the platform of employees whose roster row names
// none: delivery.default_platform when set; otherwise the single enabled
// real platform, or the simulator when it runs with no real platform. With
// several real platforms it is "" (Validate asks for the key) except in dev
// mode, where the first of RealPlatforms is used.
func (c *Config) DefaultPlatform() string {
	if c.Delivery.DefaultPlatform != "" {
		return c.Delivery.DefaultPlatform
	}
	switch real := c.RealPlatforms(); {
	case len(real) == 1, len(real) > 1 && c.Security.DevMode:
		return real[0]
	case len(real) == 0 && c.SimulatorEnabled():
		return PlatformSimulator
	}
	return ""
}

// Location returns the time zone named by Timezone. For a validated Config
// this never fails; otherwise an unknown zone yields UTC.
func (c *Config) Location() *time.Location {
	if c.loc != nil && c.loc.String() == c.Timezone {
		return c.loc
	}
	if c.Timezone != "" {
		if loc, err := time.LoadLocation(c.Timezone); err == nil {
			return loc
		}
	}
	return time.UTC
}
