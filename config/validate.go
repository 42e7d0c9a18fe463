package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// aesKeyLen is the length of a WeCom/DingTalk EncodingAESKey (base64 of 32
// bytes without the trailing '=').
const aesKeyLen = 43

// problems collects FieldErrors.
type problems []error

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, &FieldError{Key: key, Err: fmt.Errorf(format, args...)})
}

func (p *problems) oneOf(key, value string, allowed ...string) {
	if !slices.Contains(allowed, value) {
		p.add(key, "%q is not one of %s", value, strings.Join(allowed, ", "))
	}
}

func (p *problems) atLeast(key string, value, min int) {
	if value < min {
		p.add(key, "must be at least %d, got %d", min, value)
	}
}

func (p *problems) required(key, value, why string) {
	if strings.TrimSpace(value) == "" {
		p.add(key, "must be set%s", why)
	}
}

// httpURL checks that value is an absolute http or https URL.
func (p *problems) httpURL(key, value string) {
	if value == "" {
		p.add(key, "must be set to an absolute http(s) URL")
		return
	}
	u, err := url.Parse(value)
	if err != nil {
		p.add(key, "%q is not a URL: %w", value, err)
		return
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		p.add(key, "%q is not an absolute http(s) URL", value)
		return
	}
	if u.RawQuery != "" || u.Fragment != "" {
		p.add(key, "%q must not have a query or fragment", value)
	}
}

// aesKey checks the length of an EncodingAESKey-style secret, never its value.
func (p *problems) aesKey(key string, s Secret, why string) {
	switch n := len(s.Value()); {
	case n == 0:
		p.required(key, "", why)
	case n != aesKeyLen:
		p.add(key, "must be %d characters long, got %d", aesKeyLen, n)
	}
}

// parseClock parses "HH:MM" (00:00–23:59) into minutes after midnight.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || s[0] == '+' || s[3] == '+' || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// Validate checks every key and returns errors.Join of every problem, each
// a *FieldError naming its key, like
// `quiet_hours.start: "25:00" is not a HH:MM time`. It never includes the
// value of a Secret.
func (c *Config) Validate() error {
	var p problems

	// database
	p.oneOf("database.driver", c.Database.Driver, DriverSQLite, DriverMySQL)
	why := ""
	if c.Database.Driver == DriverMySQL {
		why = " when database.driver is mysql"
	}
	p.required("database.dsn", c.Database.DSN, why)
	p.atLeast("database.max_open_conns", c.Database.MaxOpenConns, 1)
	p.atLeast("database.max_idle_conns", c.Database.MaxIdleConns, 0)

	// http
	if c.HTTP.Addr == "" {
		p.add("http.addr", "must be set to host:port")
	} else if _, port, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		p.add("http.addr", "%q is not host:port: %w", c.HTTP.Addr, err)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.add("http.addr", "%q has no valid port", c.HTTP.Addr)
	}
	p.httpURL("http.public_url", c.HTTP.PublicURL)

	// security
	if c.Security.LinkSecret == "" && !c.Security.DevMode {
		p.add("security.link_secret", "must be set (only security.dev_mode allows it empty)")
	} else if n := len(c.Security.LinkSecret.Value()); n > 0 && n < 16 {
		p.add("security.link_secret", "is %d bytes; use at least 16 random bytes (e.g. openssl rand -base64 32)", n)
	}
	for i, t := range c.Security.AdminTokens {
		if strings.TrimSpace(t.Value()) == "" {
			p.add(fmt.Sprintf("security.admin_tokens[%d]", i), "must not be empty")
		}
	}

	// time and place
	if c.Timezone == "" {
		p.add("timezone", "must be set to an IANA time zone such as Asia/Shanghai")
	} else if _, err := time.LoadLocation(c.Timezone); err != nil {
		p.add("timezone", "%q is not a known time zone: %w", c.Timezone, err)
	}
	p.oneOf("locale", c.Locale, "zh-CN", "en")
	start, okStart := parseClock(c.QuietHours.Start)
	if !okStart {
		p.add("quiet_hours.start", "%q is not a HH:MM time", c.QuietHours.Start)
	}
	end, okEnd := parseClock(c.QuietHours.End)
	if !okEnd {
		p.add("quiet_hours.end", "%q is not a HH:MM time", c.QuietHours.End)
	}
	if c.QuietHours.Enabled && okStart && okEnd && start == end {
		p.add("quiet_hours.end", "must differ from quiet_hours.start (%s)", c.QuietHours.Start)
	}
	days := map[string]bool{}
	for i, d := range c.Holidays.Dates {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			p.add(fmt.Sprintf("holidays.dates[%d]", i), "%q is not a YYYY-MM-DD date", d)
		}
		days[d] = true
	}
	for i, d := range c.Holidays.Workdays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			p.add(fmt.Sprintf("holidays.workdays[%d]", i), "%q is not a YYYY-MM-DD date", d)
		} else if days[d] {
			p.add(fmt.Sprintf("holidays.workdays[%d]", i), "%q is also listed in holidays.dates", d)
		}
	}

	// scheduler and delivery
	c.validateDirectory(&p)
	c.validateWebhooks(&p)
	c.validateCalendar(&p)
	p.atLeast("scheduler.concurrency", c.Scheduler.Concurrency, 1)
	p.atLeast("scheduler.max_attempts", c.Scheduler.MaxAttempts, 1)
	p.atLeast("scheduler.batch_size", c.Scheduler.BatchSize, 1)
	if c.Scheduler.BackoffMax < c.Scheduler.BackoffBase {
		p.add("scheduler.backoff_max", "%s is less than scheduler.backoff_base (%s)", c.Scheduler.BackoffMax, c.Scheduler.BackoffBase)
	}
	c.validateDelivery(&p)
	for key, list := range map[string][]string{"surveys.feedback_reminders": c.Surveys.FeedbackReminders, "surveys.followup_reminders": c.Surveys.FollowupReminders} {
		if len(list) > 2 {
			p.add(key, "at most 2 reminders (got %d)", len(list))
		}
		for _, v := range list {
			if d, err := ParseDuration(v); err != nil || d.D() <= 0 {
				p.add(key, "%q is not a positive duration like 24h", v)
			}
		}
	}
	for _, v := range c.Surveys.FollowupDays {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err != nil || n < 1 || n > 366 {
			p.add("surveys.followup_days", "%q is not a number of days 1–366", v)
		}
	}
	if c.Experiments.MinSample < 1 || c.Experiments.MinSample > 1_000_000 {
		p.add("experiments.min_sample", "must be 1–1,000,000")
	}
	if c.Surveys.MinGroupSize < 1 {
		p.add("surveys.min_group_size", "must be at least 1")
	}
	if c.Surveys.FeedbackCloseAfter.D() <= 0 || c.Surveys.FollowupCloseAfter.D() <= 0 || c.Surveys.EscalateAfter.D() <= 0 {
		p.add("surveys", "feedback_close_after, followup_close_after and escalate_after must be positive")
	}
	p.atLeast("delivery.batch_size", c.Delivery.BatchSize, 1)
	p.atLeast("delivery.workers", c.Delivery.Workers, 1)

	// log
	p.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	p.oneOf("log.format", c.Log.Format, "text", "json")

	c.validatePlatforms(&p)

	// Generic rules over every key, so that keys added later are covered.
	for _, l := range leaves(c) {
		switch {
		case l.value.Type() == durationType:
			if d := Duration(l.value.Int()); d <= 0 {
				p.add(l.path, "must be a positive duration, got %s", d)
			}
		case l.value.Type() == secretType:
			if l.value.String() == maskedValue {
				p.add(l.path, "is the masked placeholder %q, not a real secret", maskedValue)
			}
		case l.value.Kind() == reflect.Slice && l.value.Type().Elem() == secretType:
			for i := range l.value.Len() {
				if l.value.Index(i).String() == maskedValue {
					p.add(fmt.Sprintf("%s[%d]", l.path, i), "is the masked placeholder %q, not a real secret", maskedValue)
				}
			}
		}
	}
	return errors.Join(p...)
}

func (c *Config) validatePlatforms(p *problems) {
	w := c.Platforms.WeCom
	const wecomWhy = " when platforms.wecom.enabled is true"
	if w.Enabled {
		p.required("platforms.wecom.corp_id", w.CorpID, wecomWhy)
		if w.AgentID <= 0 {
			p.add("platforms.wecom.agent_id", "must be a positive agent id%s, got %d", wecomWhy, w.AgentID)
		}
		p.required("platforms.wecom.secret", w.Secret.Value(), wecomWhy)
		p.required("platforms.wecom.token", w.Token.Value(), wecomWhy)
	}
	if w.Enabled || w.EncodingAESKey != "" {
		p.aesKey("platforms.wecom.encoding_aes_key", w.EncodingAESKey, wecomWhy)
	}
	p.httpURL("platforms.wecom.api_base", w.APIBase)
	p.atLeast("platforms.wecom.daily_quota", w.DailyQuota, 0)

	f := c.Platforms.Feishu
	const feishuWhy = " when platforms.feishu.enabled is true"
	if f.Enabled {
		p.required("platforms.feishu.app_id", f.AppID, feishuWhy)
		p.required("platforms.feishu.app_secret", f.AppSecret.Value(), feishuWhy)
		p.required("platforms.feishu.verification_token", f.VerificationToken.Value(), feishuWhy)
	}
	p.httpURL("platforms.feishu.api_base", f.APIBase)
	p.oneOf("platforms.feishu.callback_mode", f.CallbackMode, CallbackModeHTTP, CallbackModeWS)
	p.oneOf("platforms.feishu.receive_id_type", f.ReceiveIDType, "open_id", "user_id", "union_id", "email")

	d := c.Platforms.DingTalk
	const dingWhy = " when platforms.dingtalk.enabled is true"
	if d.Enabled {
		p.required("platforms.dingtalk.app_key", d.AppKey, dingWhy)
		p.required("platforms.dingtalk.app_secret", d.AppSecret.Value(), dingWhy)
		switch d.Cards {
		case "template":
			p.required("platforms.dingtalk.card_template_id", d.CardTemplateID, " when platforms.dingtalk.cards is template")
		case "work_notification":
			if d.AgentID == 0 {
				p.add("platforms.dingtalk.agent_id", "is required when platforms.dingtalk.cards is work_notification")
			}
		}
	}
	const dingHTTPWhy = " when platforms.dingtalk.callback_mode is http"
	httpMode := d.Enabled && d.CallbackMode == CallbackModeHTTP
	if httpMode {
		p.required("platforms.dingtalk.callback_token", d.CallbackToken.Value(), dingHTTPWhy)
	}
	if httpMode || d.CallbackAESKey != "" {
		p.aesKey("platforms.dingtalk.callback_aes_key", d.CallbackAESKey, dingHTTPWhy)
	}
	if d.AgentID < 0 {
		p.add("platforms.dingtalk.agent_id", "must not be negative, got %d", d.AgentID)
	}
	if d.Cards != "" {
		p.oneOf("platforms.dingtalk.cards", d.Cards, "standard", "template", "work_notification")
	}
	p.oneOf("platforms.dingtalk.callback_mode", d.CallbackMode, CallbackModeStream, CallbackModeHTTP)
	p.httpURL("platforms.dingtalk.api_base", d.APIBase)
	p.httpURL("platforms.dingtalk.oapi_base", d.OAPIBase)
}

// validateDelivery checks the simulator against the real platforms and
// that delivery.default_platform names a platform that runs.
func (c *Config) validateDelivery(p *problems) {
	real := c.RealPlatforms()
	if c.Platforms.Simulator.Enabled && len(real) > 0 && !c.Platforms.Simulator.AllowWithRealPlatforms {
		p.add("platforms.simulator.enabled", "is true next to platforms.%s.enabled: the simulator lists every employee and "+
			"lets anyone check anyone in; turn it off, or set platforms.simulator.allow_with_real_platforms: true for a trial", real[0])
	}
	enabled := map[string]bool{PlatformSimulator: c.SimulatorEnabled()}
	for _, r := range real {
		enabled[r] = true
	}
	switch dp := c.DefaultPlatform(); {
	case dp == "" && len(real) > 1:
		p.add("delivery.default_platform", "must be set to one of %s: several platforms are enabled", strings.Join(real, ", "))
	case dp == "":
		// No platform at all: the API, console and CLI work, nothing is sent.
	case !slices.Contains([]string{PlatformSimulator, PlatformWeCom, PlatformFeishu, PlatformDingTalk}, dp):
		p.oneOf("delivery.default_platform", dp, PlatformSimulator, PlatformWeCom, PlatformFeishu, PlatformDingTalk)
	case dp == PlatformSimulator && !enabled[dp]:
		p.add("delivery.default_platform", "is %q but the simulator is off (set platforms.simulator.enabled: true, or security.dev_mode for a trial)", dp)
	case !enabled[dp]:
		p.add("delivery.default_platform", "%q is not enabled (set platforms.%s.enabled to true)", dp, dp)
	}
}
