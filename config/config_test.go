package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// env is a fake environment for Load's lookup argument.
type env map[string]string

func (e env) lookup(k string) (string, bool) {
	v, ok := e[k]
	return v, ok
}

// devEnv returns an environment with dev mode on plus kv pairs.
func devEnv(kv ...string) env {
	e := env{"LEARNLOOP_SECURITY_DEV_MODE": "true"}
	for i := 0; i+1 < len(kv); i += 2 {
		e[kv[i]] = kv[i+1]
	}
	return e
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "learnloop.yaml")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// testLeaf is one key found by the test's own walk over the yaml tags,
// independent of the package's walker.
type testLeaf struct {
	path string
	env  string
	idx  []int // reflect field index path from Config
	typ  reflect.Type
}

func walkKeys(t reflect.Type, prefix string, idx []int) []testLeaf {
	var out []testLeaf
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			panic("field " + f.Name + " needs an explicit yaml tag")
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		fidx := append(append([]int(nil), idx...), i)
		if f.Type.Kind() == reflect.Struct {
			out = append(out, walkKeys(f.Type, path, fidx)...)
			continue
		}
		out = append(out, testLeaf{
			path: path,
			env:  "LEARNLOOP_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_")),
			idx:  fidx,
			typ:  f.Type,
		})
	}
	return out
}

func allKeys() []testLeaf { return walkKeys(reflect.TypeFor[Config](), "", nil) }

func field(c *Config, l testLeaf) reflect.Value { return reflect.ValueOf(c).Elem().FieldByIndex(l.idx) }

func TestDefaults(t *testing.T) {
	t.Parallel()

	c, err := Load("", devEnv().lookup)
	require.NoError(t, err)

	want := Default()
	want.Security.DevMode = true
	require.Equal(t, want, c)

	for _, tc := range []struct {
		got, want any
	}{
		{c.Database.Driver, "sqlite"},
		{c.Database.DSN, "learnloop.db"},
		{c.Database.MaxOpenConns, 20},
		{c.Database.MaxIdleConns, 10},
		{c.Database.MigrateOnStart, true},
		{c.HTTP.Addr, "127.0.0.1:8080"},
		{c.HTTP.PublicURL, "http://127.0.0.1:8080"},
		{c.HTTP.ReadTimeout.D(), 15 * time.Second},
		{c.HTTP.WriteTimeout.D(), 30 * time.Second},
		{c.HTTP.ShutdownTimeout.D(), 20 * time.Second},
		{c.Security.LinkTTL.D(), 720 * time.Hour},
		{c.Timezone, "Asia/Shanghai"},
		{c.Locale, "zh-CN"},
		{c.QuietHours, QuietHoursConfig{Enabled: true, Start: "21:00", End: "08:00"}},
		{c.Checkin.OpensBefore.D(), 30 * time.Minute},
		{c.Checkin.Grace.D(), 10 * time.Minute},
		{c.Checkin.MakeupAfter.D(), 24 * time.Hour},
		{c.Scheduler, SchedulerConfig{Enabled: true, Lease: Duration(2 * time.Minute), PollInterval: Duration(time.Second), Concurrency: 4, MaxAttempts: 8, BackoffBase: Duration(10 * time.Second), BackoffMax: Duration(30 * time.Minute), BatchSize: 50}},
		{c.Delivery, DeliveryConfig{BatchSize: 500, Workers: 8}},
		{c.DefaultPlatform(), "simulator"}, // dev mode alone runs the simulator
		{c.SimulatorEnabled(), true},
		{c.Log, LogConfig{Level: "info", Format: "text"}},
		{c.Platforms.Simulator.Enabled, false},
		{c.Platforms.WeCom.Enabled, false},
		{c.Platforms.WeCom.APIBase, "https://qyapi.weixin.qq.com"},
		{c.Platforms.WeCom.Timeout.D(), 10 * time.Second},
		{c.Platforms.WeCom.CallbackMaxSkew.D(), 5 * time.Minute},
		{c.Platforms.Feishu.APIBase, "https://open.feishu.cn"},
		{c.Platforms.Feishu.CallbackMode, "http"},
		{c.Platforms.Feishu.ReceiveIDType, "user_id"},
		{c.Platforms.DingTalk.CallbackMode, "stream"},
		{c.Platforms.DingTalk.APIBase, "https://api.dingtalk.com"},
		{c.Platforms.DingTalk.OAPIBase, "https://oapi.dingtalk.com"},
		{c.Location().String(), "Asia/Shanghai"},
	} {
		require.Equal(t, tc.want, tc.got)
	}
}

func TestDefaultsNeedLinkSecretOutsideDevMode(t *testing.T) {
	t.Parallel()

	for _, lookup := range []func(string) (string, bool){nil, env{}.lookup} {
		c, err := Load("", lookup)
		require.Error(t, err)
		require.NotNil(t, c, "a validation failure still returns the config")
		var fe *FieldError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, "security.link_secret", fe.Key)
		require.Len(t, err.(interface{ Unwrap() []error }).Unwrap(), 1, "only the link secret is missing: %v", err)
	}

	_, err := Load("", env{"LEARNLOOP_SECURITY_LINK_SECRET": "0123456789abcdef0123456789abcdef"}.lookup)
	require.NoError(t, err)
}

func TestFileAndEnvPrecedence(t *testing.T) {
	t.Parallel()

	path := writeFile(t, `
http:
  addr: 0.0.0.0:9090
  read_timeout: 90s
log:
  level: debug
  format: json
scheduler:
  concurrency: 2
holidays:
  dates: ["2026-10-01", "2026-10-02"]
security:
  link_secret: from-file-0123456789abcdef
  dev_mode: false
`)

	tests := []struct {
		name  string
		env   env
		check func(t *testing.T, c *Config)
	}{
		{
			name: "file only",
			env:  env{},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, "0.0.0.0:9090", c.HTTP.Addr)
				require.Equal(t, "http://localhost:9090", c.HTTP.PublicURL, "wildcard listen host becomes localhost")
				require.Equal(t, 90*time.Second, c.HTTP.ReadTimeout.D())
				require.Equal(t, 30*time.Second, c.HTTP.WriteTimeout.D(), "keys absent from the file keep defaults")
				require.Equal(t, "debug", c.Log.Level)
				require.Equal(t, 2, c.Scheduler.Concurrency)
				require.Equal(t, []string{"2026-10-01", "2026-10-02"}, c.Holidays.Dates)
				require.Equal(t, "from-file-0123456789abcdef", c.Security.LinkSecret.Value())
			},
		},
		{
			name: "env wins over file",
			env: env{
				"LEARNLOOP_HTTP_ADDR":             "127.0.0.1:7000",
				"LEARNLOOP_HTTP_READ_TIMEOUT":     "2m",
				"LEARNLOOP_LOG_LEVEL":             "warn",
				"LEARNLOOP_SCHEDULER_CONCURRENCY": "16",
				"LEARNLOOP_HOLIDAYS_DATES":        "2027-01-01, 2027-01-02,,",
				"LEARNLOOP_SECURITY_LINK_SECRET":  "from-env-0123456789abcdef",
				"LEARNLOOP_LOG_FORMAT":            "", // empty counts as unset
			},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, "127.0.0.1:7000", c.HTTP.Addr)
				require.Equal(t, "http://127.0.0.1:7000", c.HTTP.PublicURL, "public_url derives from the effective addr")
				require.Equal(t, 2*time.Minute, c.HTTP.ReadTimeout.D())
				require.Equal(t, "warn", c.Log.Level)
				require.Equal(t, "json", c.Log.Format)
				require.Equal(t, 16, c.Scheduler.Concurrency)
				require.Equal(t, []string{"2027-01-01", "2027-01-02"}, c.Holidays.Dates)
				require.Equal(t, "from-env-0123456789abcdef", c.Security.LinkSecret.Value())
			},
		},
		{
			name: "explicit public url kept, trailing slash trimmed",
			env:  env{"LEARNLOOP_HTTP_PUBLIC_URL": "https://learn.example.edu/"},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, "https://learn.example.edu", c.HTTP.PublicURL)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(path, tc.env.lookup)
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

// sampleEnv returns an env value for key l that differs from cur, and the
// value the field must then hold.
func sampleEnv(t *testing.T, l testLeaf, cur reflect.Value) (string, any) {
	t.Helper()
	switch {
	case l.typ == reflect.TypeFor[Duration]():
		d := Duration(cur.Int()) + Duration(3*time.Second)
		return d.String(), d
	case l.typ == reflect.TypeFor[Secret]():
		return "s-" + l.path, Secret("s-" + l.path)
	case l.typ.Kind() == reflect.String:
		return "v-" + l.path, "v-" + l.path
	case l.typ.Kind() == reflect.Bool:
		return fmt.Sprint(!cur.Bool()), !cur.Bool()
	case l.typ.Kind() == reflect.Int:
		return fmt.Sprint(cur.Int() + 7), int(cur.Int() + 7)
	case l.typ.Kind() == reflect.Int64:
		return fmt.Sprint(cur.Int() + 7), cur.Int() + 7
	case l.typ == reflect.TypeFor[[]string]():
		return "a-" + l.path + ", b", []string{"a-" + l.path, "b"}
	case l.typ == reflect.TypeFor[[]Secret]():
		return "a-" + l.path + ",b", []Secret{Secret("a-" + l.path), "b"}
	}
	t.Fatalf("%s: no sample for type %s; teach the test (and check setFromString) about it", l.path, l.typ)
	return "", nil
}

func TestEveryKeyHasEnvOverride(t *testing.T) {
	t.Parallel()

	keys := allKeys()
	require.Len(t, leaves(Default()), len(keys), "package walker and test walker must see the same keys")

	// The naming rule, spelled out for a few keys.
	names := map[string]string{}
	for _, l := range keys {
		require.NotContains(t, names, l.env, "env name collision between %s and %s", names[l.env], l.path)
		names[l.env] = l.path
		require.Equal(t, l.env, EnvName(l.path))
	}
	for env, path := range map[string]string{
		"LEARNLOOP_HTTP_ADDR":                "http.addr",
		"LEARNLOOP_DATABASE_DSN":             "database.dsn",
		"LEARNLOOP_PLATFORMS_WECOM_API_BASE": "platforms.wecom.api_base",
		"LEARNLOOP_QUIET_HOURS_START":        "quiet_hours.start",
		"LEARNLOOP_SECURITY_ADMIN_TOKENS":    "security.admin_tokens",
		"LEARNLOOP_TIMEZONE":                 "timezone",
	} {
		require.Equal(t, path, names[env], env)
	}

	for _, l := range keys {
		t.Run(l.path, func(t *testing.T) {
			t.Parallel()
			raw, want := sampleEnv(t, l, field(Default(), l))
			c, err := Load("", devEnv(l.env, raw).lookup)
			// The sample may well fail validation (e.g. "v-locale"); what
			// matters is that the env value parsed and landed in the field.
			require.NotNil(t, c, "%v", err)
			for _, e := range flatten(err) {
				var fe *FieldError
				if errors.As(e, &fe) {
					require.Empty(t, fe.Env, "env value rejected: %v", e)
				}
			}
			require.Equal(t, want, field(c, l).Interface(), "%s=%q did not set %s", l.env, raw, l.path)
		})
	}
}

func TestSecretFiles(t *testing.T) {
	t.Parallel()

	// Every secret key has a <key>_file companion.
	paths := map[string]reflect.Type{}
	for _, l := range allKeys() {
		paths[l.path] = l.typ
	}
	for _, l := range allKeys() {
		if l.typ == reflect.TypeFor[Secret]() || l.typ == reflect.TypeFor[[]Secret]() {
			require.Equal(t, reflect.TypeFor[string](), paths[l.path+"_file"], "%s needs a %s_file key", l.path, l.path)
		}
	}

	dir := t.TempDir()
	secretFile := filepath.Join(dir, "wecom_secret")
	require.NoError(t, os.WriteFile(secretFile, []byte("from-file-secret\n"), 0o600))
	tokensFile := filepath.Join(dir, "admin_tokens")
	require.NoError(t, os.WriteFile(tokensFile, []byte("tok-1\n\ntok-2\n"), 0o600))

	c, err := Load("", devEnv(
		"LEARNLOOP_PLATFORMS_WECOM_SECRET_FILE", secretFile,
		"LEARNLOOP_SECURITY_ADMIN_TOKENS_FILE", tokensFile,
		"LEARNLOOP_PLATFORMS_FEISHU_APP_SECRET", "direct",
		"LEARNLOOP_PLATFORMS_FEISHU_APP_SECRET_FILE", secretFile,
	).lookup)
	require.NoError(t, err)
	require.Equal(t, "from-file-secret", c.Platforms.WeCom.Secret.Value())
	require.Equal(t, []Secret{"tok-1", "tok-2"}, c.Security.AdminTokens)
	require.Equal(t, "direct", c.Platforms.Feishu.AppSecret.Value(), "the key itself wins over its _file")
	require.NotContains(t, c.Masked(), "from-file-secret")

	_, err = Load("", devEnv("LEARNLOOP_PLATFORMS_WECOM_TOKEN_FILE", filepath.Join(dir, "missing")).lookup)
	require.ErrorContains(t, err, "platforms.wecom.token_file: read secret:")
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestUnknownYAMLKeyRejected(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct{ yaml, key string }{
		{"databse:\n  driver: sqlite\n", "databse"},
		{"http:\n  adr: 127.0.0.1:1\n", "http.adr"},
		{"platforms:\n  wecom:\n    corpid: x\n", "platforms.wecom.corpid"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			t.Parallel()
			c, err := Load(writeFile(t, tc.yaml), devEnv().lookup)
			require.Nil(t, c)
			require.ErrorContains(t, err, tc.key+": line ")
			require.ErrorContains(t, err, "unknown key")
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.key, fe.Key)
		})
	}
}

func TestBadFiles(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct{ name, yaml, want string }{
		{"wrong type", "scheduler:\n  concurrency: many\n", "scheduler.concurrency: line 2: cannot unmarshal"},
		{"bad duration", "http:\n  read_timeout: 15\n", "http.read_timeout: line 2: not a duration"},
		{"duplicate", "log:\n  level: info\nlog:\n  level: debug\n", "log: line 3: duplicate key"},
		{"section not a map", "http: 8080\n", "http: line 1: must be a mapping"},
		{"two documents", "log:\n  level: info\n---\nlog:\n  level: debug\n", "more than one YAML document"},
		{"syntax", "http: [\n", "config file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(writeFile(t, tc.yaml), devEnv().lookup)
			require.Nil(t, c)
			require.ErrorContains(t, err, tc.want)
		})
	}

	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	require.ErrorIs(t, err, os.ErrNotExist)

	c, err := Load(writeFile(t, "# nothing here\n"), devEnv().lookup)
	require.NoError(t, err)
	require.Equal(t, Default().HTTP, c.HTTP)

	c, err = Load(writeFile(t, "http:\n  addr:\nplatforms:\n  wecom:\n"), devEnv().lookup)
	require.NoError(t, err, "null values keep defaults")
	require.Equal(t, Default().HTTP, c.HTTP)
	require.Equal(t, Default().Platforms, c.Platforms)
}

const aes43 = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

func TestRejectsBadValues(t *testing.T) {
	t.Parallel()

	wecomOK := []string{
		"LEARNLOOP_PLATFORMS_WECOM_ENABLED", "true",
		"LEARNLOOP_PLATFORMS_WECOM_CORP_ID", "ww123",
		"LEARNLOOP_PLATFORMS_WECOM_AGENT_ID", "1000002",
		"LEARNLOOP_PLATFORMS_WECOM_SECRET", "sec",
		"LEARNLOOP_PLATFORMS_WECOM_TOKEN", "tok",
		"LEARNLOOP_PLATFORMS_WECOM_ENCODING_AES_KEY", aes43,
	}
	without := func(kv []string, key string) []string {
		var out []string
		for i := 0; i < len(kv); i += 2 {
			if kv[i] != key {
				out = append(out, kv[i], kv[i+1])
			}
		}
		return out
	}

	tests := []struct {
		name string
		yaml string
		env  env
		key  string // FieldError.Key expected among the errors
		msg  string // substring of the whole error
	}{
		{"bad time zone env", "", devEnv("LEARNLOOP_TIMEZONE", "Mars/Olympus"), "timezone", `timezone: "Mars/Olympus" is not a known time zone`},
		{"bad time zone file", "timezone: Asia/Shanghia\n", devEnv(), "timezone", `"Asia/Shanghia" is not a known time zone`},
		{"empty time zone", "timezone: \"\"\n", devEnv(), "timezone", "timezone: must be set"},
		{"bad HH:MM", "", devEnv("LEARNLOOP_QUIET_HOURS_START", "25:00"), "quiet_hours.start", `quiet_hours.start: "25:00" is not a HH:MM time`},
		{"bad HH:MM short", "quiet_hours:\n  end: \"8:00\"\n", devEnv(), "quiet_hours.end", `quiet_hours.end: "8:00" is not a HH:MM time`},
		{"quiet start equals end", "quiet_hours:\n  start: \"08:00\"\n", devEnv(), "quiet_hours.end", "must differ from quiet_hours.start"},
		{"wecom without secret", "", devEnv(without(wecomOK, "LEARNLOOP_PLATFORMS_WECOM_SECRET")...), "platforms.wecom.secret", "platforms.wecom.secret: must be set when platforms.wecom.enabled is true"},
		{"wecom without agent", "", devEnv(without(wecomOK, "LEARNLOOP_PLATFORMS_WECOM_AGENT_ID")...), "platforms.wecom.agent_id", "must be a positive agent id"},
		{"wecom short aes key", "", devEnv(append(without(wecomOK, "LEARNLOOP_PLATFORMS_WECOM_ENCODING_AES_KEY"), "LEARNLOOP_PLATFORMS_WECOM_ENCODING_AES_KEY", "short")...), "platforms.wecom.encoding_aes_key", "must be 43 characters long, got 5"},
		{"bad env int", "", devEnv("LEARNLOOP_SCHEDULER_CONCURRENCY", "four"), "scheduler.concurrency", `scheduler.concurrency (from LEARNLOOP_SCHEDULER_CONCURRENCY): "four" is not an integer: invalid syntax`},
		{"env int out of range", "", devEnv("LEARNLOOP_PLATFORMS_WECOM_AGENT_ID", "99999999999999999999"), "platforms.wecom.agent_id", "value out of range"},
		{"bad env bool", "", devEnv("LEARNLOOP_SCHEDULER_ENABLED", "yes please"), "scheduler.enabled", `(from LEARNLOOP_SCHEDULER_ENABLED): "yes please" is not a boolean`},
		{"bad env duration", "", devEnv("LEARNLOOP_CHECKIN_GRACE", "10"), "checkin.grace", "(from LEARNLOOP_CHECKIN_GRACE): not a duration"},
		{"zero duration", "", devEnv("LEARNLOOP_SCHEDULER_LEASE", "0s"), "scheduler.lease", "scheduler.lease: must be a positive duration, got 0s"},
		{"negative duration", "checkin:\n  opens_before: -5m\n", devEnv(), "checkin.opens_before", "must be a positive duration"},
		{"mysql without dsn", "database:\n  driver: mysql\n", devEnv(), "database.dsn", "database.dsn: must be set when database.driver is mysql"},
		{"unknown driver", "", devEnv("LEARNLOOP_DATABASE_DRIVER", "postgres"), "database.driver", `"postgres" is not one of sqlite, mysql`},
		{"no link secret", "", env{}, "security.link_secret", "security.link_secret: must be set"},
		{"short link secret", "", env{"LEARNLOOP_SECURITY_LINK_SECRET": "short"}, "security.link_secret", "at least 16"},
		{"empty admin token", "security:\n  admin_tokens: [\"good\", \"\"]\n", devEnv(), "security.admin_tokens[1]", "must not be empty"},
		{"masked placeholder pasted back", "", devEnv("LEARNLOOP_SECURITY_LINK_SECRET", "******"), "security.link_secret", "masked placeholder"},
		{"api_base not a URL", "", devEnv("LEARNLOOP_PLATFORMS_FEISHU_API_BASE", "open.feishu.cn"), "platforms.feishu.api_base", "is not an absolute http(s) URL"},
		{"oapi_base wrong scheme", "", devEnv("LEARNLOOP_PLATFORMS_DINGTALK_OAPI_BASE", "ftp://oapi.dingtalk.com"), "platforms.dingtalk.oapi_base", "is not an absolute http(s) URL"},
		{"public_url relative", "", devEnv("LEARNLOOP_HTTP_PUBLIC_URL", "/learn"), "http.public_url", "is not an absolute http(s) URL"},
		{"bad addr", "", devEnv("LEARNLOOP_HTTP_ADDR", "localhost"), "http.addr", `"localhost" is not host:port`},
		{"locale", "", devEnv("LEARNLOOP_LOCALE", "fr"), "locale", `"fr" is not one of zh-CN, en`},
		{"log level", "", devEnv("LEARNLOOP_LOG_LEVEL", "verbose"), "log.level", "is not one of debug, info, warn, error"},
		{"log format", "", devEnv("LEARNLOOP_LOG_FORMAT", "xml"), "log.format", "is not one of text, json"},
		{"concurrency zero", "", devEnv("LEARNLOOP_SCHEDULER_CONCURRENCY", "0"), "scheduler.concurrency", "must be at least 1, got 0"},
		{"delivery batch zero", "", devEnv("LEARNLOOP_DELIVERY_BATCH_SIZE", "0"), "delivery.batch_size", "must be at least 1"},
		{"backoff max below base", "", devEnv("LEARNLOOP_SCHEDULER_BACKOFF_MAX", "5s"), "scheduler.backoff_max", "is less than scheduler.backoff_base"},
		{"default platform disabled", "", devEnv("LEARNLOOP_DELIVERY_DEFAULT_PLATFORM", "wecom"), "delivery.default_platform", `"wecom" is not enabled`},
		{"default platform unknown", "", devEnv("LEARNLOOP_DELIVERY_DEFAULT_PLATFORM", "slack"), "delivery.default_platform", "is not one of simulator, wecom, feishu, dingtalk"},
		{"simulator off but default", "", env{"LEARNLOOP_SECURITY_LINK_SECRET": "0123456789abcdef0123456789abcdef", "LEARNLOOP_DELIVERY_DEFAULT_PLATFORM": "simulator"}, "delivery.default_platform", `is "simulator" but the simulator is off`},
		{"simulator next to a real platform", "", env(pairs(append([]string{"LEARNLOOP_SECURITY_LINK_SECRET", "0123456789abcdef0123456789abcdef", "LEARNLOOP_PLATFORMS_SIMULATOR_ENABLED", "true"}, wecomOK...))), "platforms.simulator.enabled", "platforms.simulator.allow_with_real_platforms: true"},
		{"several platforms, no default", "", env(pairs(append([]string{"LEARNLOOP_SECURITY_LINK_SECRET", "0123456789abcdef0123456789abcdef", "LEARNLOOP_PLATFORMS_FEISHU_ENABLED", "true", "LEARNLOOP_PLATFORMS_FEISHU_APP_ID", "cli_1", "LEARNLOOP_PLATFORMS_FEISHU_APP_SECRET", "x", "LEARNLOOP_PLATFORMS_FEISHU_VERIFICATION_TOKEN", "v"}, wecomOK...))), "delivery.default_platform", "must be set to one of wecom, feishu"},
		{"feishu missing token", "", devEnv("LEARNLOOP_PLATFORMS_FEISHU_ENABLED", "true", "LEARNLOOP_PLATFORMS_FEISHU_APP_ID", "cli_1", "LEARNLOOP_PLATFORMS_FEISHU_APP_SECRET", "x"), "platforms.feishu.verification_token", "must be set when platforms.feishu.enabled is true"},
		{"feishu receive id", "", devEnv("LEARNLOOP_PLATFORMS_FEISHU_RECEIVE_ID_TYPE", "phone"), "platforms.feishu.receive_id_type", "is not one of open_id, user_id, union_id, email"},
		{"feishu callback mode", "", devEnv("LEARNLOOP_PLATFORMS_FEISHU_CALLBACK_MODE", "stream"), "platforms.feishu.callback_mode", "is not one of http, ws"},
		{"dingtalk http without aes", "", devEnv("LEARNLOOP_PLATFORMS_DINGTALK_ENABLED", "true", "LEARNLOOP_PLATFORMS_DINGTALK_APP_KEY", "k", "LEARNLOOP_PLATFORMS_DINGTALK_APP_SECRET", "s", "LEARNLOOP_PLATFORMS_DINGTALK_CALLBACK_MODE", "http", "LEARNLOOP_PLATFORMS_DINGTALK_CALLBACK_TOKEN", "t"), "platforms.dingtalk.callback_aes_key", "must be set when platforms.dingtalk.callback_mode is http"},
		{"dingtalk without key", "", devEnv("LEARNLOOP_PLATFORMS_DINGTALK_ENABLED", "true", "LEARNLOOP_PLATFORMS_DINGTALK_APP_SECRET", "s"), "platforms.dingtalk.app_key", "must be set when platforms.dingtalk.enabled is true"},
		{"holiday date", "holidays:\n  dates: [\"2026-10-01\", \"2026/10/02\"]\n", devEnv(), "holidays.dates[1]", `"2026/10/02" is not a YYYY-MM-DD date`},
		{"workday date", "", devEnv("LEARNLOOP_HOLIDAYS_WORKDAYS", "2026-02-30"), "holidays.workdays[0]", "is not a YYYY-MM-DD date"},
		{"day both off and on", "holidays:\n  dates: [\"2026-10-01\"]\n  workdays: [\"2026-10-01\"]\n", devEnv(), "holidays.workdays[0]", "also listed in holidays.dates"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := ""
			if tc.yaml != "" {
				path = writeFile(t, tc.yaml)
			}
			_, err := Load(path, tc.env.lookup)
			require.Error(t, err)
			require.ErrorContains(t, err, tc.msg)
			var keys []string
			for _, e := range flatten(err) {
				var fe *FieldError
				require.ErrorAs(t, e, &fe, "every problem names its key: %v", e)
				keys = append(keys, fe.Key)
			}
			require.Contains(t, keys, tc.key)
		})
	}
}

// flatten unpacks errors.Join trees into their leaves.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

func TestAcceptsFullPlatformConfig(t *testing.T) {
	t.Parallel()

	path := writeFile(t, `
database:
  driver: mysql
  dsn: learn:pw@tcp(127.0.0.1:3306)/learnloop
security:
  link_secret: 0123456789abcdef0123456789abcdef
  admin_tokens: [admin-1]
quiet_hours:
  start: "22:30"
  end: "07:00"
holidays:
  dates: ["2026-10-01"]
  workdays: ["2026-10-11"]
delivery:
  default_platform: dingtalk
platforms:
  simulator:
    enabled: false
  wecom:
    enabled: true
    corp_id: ww1
    agent_id: 1000002
    secret: s
    token: t
    encoding_aes_key: `+aes43+`
    api_base: http://127.0.0.1:18080/
    daily_quota: 10000
  feishu:
    enabled: true
    app_id: cli_1
    app_secret: s
    verification_token: v
    callback_mode: ws
    receive_id_type: open_id
  dingtalk:
    enabled: true
    app_key: k
    app_secret: s
    agent_id: 42
    callback_mode: http
    callback_token: t
    callback_aes_key: `+aes43+`
`)
	c, err := Load(path, env{}.lookup)
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:18080", c.Platforms.WeCom.APIBase)
	require.Equal(t, int64(42), c.Platforms.DingTalk.AgentID)
	require.NoError(t, c.Validate())

	// Validate is usable on its own and sees later edits.
	c.Platforms.DingTalk.AppSecret = ""
	require.ErrorContains(t, c.Validate(), "platforms.dingtalk.app_secret: must be set")
}

func TestMaskedNeverLeaksSecrets(t *testing.T) {
	t.Parallel()

	const secret = "s3cr3t-XYZ"
	c, err := Load("", devEnv("LEARNLOOP_DATABASE_DRIVER", "mysql", "LEARNLOOP_DATABASE_DSN", "learn:"+secret+"@tcp(db:3306)/learnloop").lookup)
	require.NoError(t, err)
	nSecrets := 0
	for _, l := range allKeys() {
		switch l.typ {
		case reflect.TypeFor[Secret]():
			field(c, l).SetString(secret + "-" + l.path)
			nSecrets++
		case reflect.TypeFor[[]Secret]():
			field(c, l).Set(reflect.ValueOf([]Secret{secret + "-1", secret + "-2"}))
			nSecrets++
		}
	}
	require.Greater(t, nSecrets, 10)
	require.Equal(t, secret+"-platforms.wecom.secret", c.Platforms.WeCom.Secret.Value(), "Value returns the real value")

	jsonOut, err := json.Marshal(c)
	require.NoError(t, err)
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("cfg", "wecom_secret", c.Platforms.WeCom.Secret, "tokens", c.Security.AdminTokens)

	outputs := map[string]string{
		"Masked":  c.Masked(),
		"%v":      fmt.Sprintf("%v", c),
		"%+v":     fmt.Sprintf("%+v", c),
		"%#v":     fmt.Sprintf("%#v", *c),
		"%s":      fmt.Sprintf("%s", c.Security.LinkSecret),
		"%q":      fmt.Sprintf("%q", c.Security.LinkSecret),
		"%v list": fmt.Sprintf("%v", c.Security.AdminTokens),
		"String":  c.Platforms.Feishu.EncryptKey.String(),
		"json":    string(jsonOut),
		"slog":    logBuf.String(),
	}
	for name, out := range outputs {
		require.NotContains(t, out, secret, name)
		require.Contains(t, out, "******", name)
	}
	require.Equal(t, fmt.Sprintf("%x", "******"), fmt.Sprintf("%x", c.Security.LinkSecret))
	require.Equal(t, "", fmt.Sprintf("%x", Secret("")))
	masked := outputs["Masked"]
	require.Contains(t, masked, "dsn: learn:******@tcp(db:3306)/learnloop")
	require.Contains(t, masked, "secret: '******'")

	// Validation errors about secrets do not echo them either.
	c.Platforms.WeCom.Enabled = true
	c.Platforms.WeCom.EncodingAESKey = secret
	err = c.Validate()
	require.ErrorContains(t, err, "platforms.wecom.encoding_aes_key: must be 43 characters long")
	require.NotContains(t, err.Error(), secret)

	// Masked output is itself a valid config file; its placeholders are rejected.
	var back Config
	dec := yaml.NewDecoder(strings.NewReader(masked))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&back))
	require.ErrorContains(t, back.Validate(), "platforms.wecom.secret: is the masked placeholder")
}

func TestMaskedShowsEmptySecretsEmpty(t *testing.T) {
	t.Parallel()

	c, err := Load("", devEnv().lookup)
	require.NoError(t, err)
	m := c.Masked()
	require.Contains(t, m, "link_secret: \"\"")
	require.NotContains(t, m, "******")
	require.Contains(t, m, "link_ttl: 720h\n")
	require.Contains(t, m, "poll_interval: 1s\n")
	require.Empty(t, Secret("").String())
	require.Equal(t, "", fmt.Sprint(Secret("")))
	require.Equal(t, "******", fmt.Sprint(Secret("x")))
}

func TestMaskDSN(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct{ in, want string }{
		{"user:pw@tcp(127.0.0.1:3306)/db", "user:******@tcp(127.0.0.1:3306)/db"},
		{"user:p@ss/w:rd@tcp(h:3306)/db?parseTime=true", "user:******@tcp(h:3306)/db?parseTime=true"},
		{"root@tcp(127.0.0.1:3306)/test", "root@tcp(127.0.0.1:3306)/test"},
		{"user:@tcp(h)/db", "user:@tcp(h)/db"},
		{"learnloop.db", "learnloop.db"},
		{"file:data/learn.db?cache=shared", "file:data/learn.db?cache=shared"},
	} {
		require.Equal(t, tc.want, maskDSN(tc.in), tc.in)
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		in   string
		want time.Duration
		str  string
	}{
		{"90s", 90 * time.Second, "1m30s"},
		{"15m", 15 * time.Minute, "15m"},
		{"24h", 24 * time.Hour, "24h"},
		{"1h30m", 90 * time.Minute, "1h30m"},
		{"1500ms", 1500 * time.Millisecond, "1.5s"},
	} {
		var d Duration
		require.NoError(t, yaml.Unmarshal([]byte("v: "+tc.in), &struct {
			V *Duration `yaml:"v"`
		}{&d}))
		require.Equal(t, tc.want, d.D(), tc.in)
		require.Equal(t, tc.str, d.String())

		out, err := yaml.Marshal(struct {
			V Duration `yaml:"v"`
		}{d})
		require.NoError(t, err)
		require.Equal(t, "v: "+tc.str+"\n", string(out))

		var fromText Duration
		require.NoError(t, fromText.UnmarshalText([]byte(tc.in)))
		require.Equal(t, d, fromText)
	}

	var d Duration
	require.ErrorContains(t, yaml.Unmarshal([]byte("v: [1]"), &struct {
		V *Duration `yaml:"v"`
	}{&d}), "must be a string")
	require.Error(t, d.UnmarshalText([]byte("15")))
}

func TestLocation(t *testing.T) {
	t.Parallel()

	c, err := Load("", devEnv("LEARNLOOP_TIMEZONE", "Europe/Berlin").lookup)
	require.NoError(t, err)
	require.Equal(t, "Europe/Berlin", c.Location().String())

	c.Timezone = "UTC"
	require.Equal(t, time.UTC, c.Location(), "follows edits to Timezone")
	c.Timezone = "Nowhere/Special"
	require.Equal(t, time.UTC, c.Location(), "an invalid zone falls back to UTC")

	shanghai := Default().Location()
	require.Equal(t, "Asia/Shanghai", shanghai.String())
	_, off := time.Date(2026, 1, 1, 0, 0, 0, 0, shanghai).Zone()
	require.Equal(t, 8*3600, off)
}

func TestExampleFileIsCompleteAndLoads(t *testing.T) {
	t.Parallel()

	c, err := Load("learnloop.example.yaml", devEnv().lookup)
	require.NoError(t, err)
	want := Default()
	want.Security.DevMode = true
	require.Equal(t, want, c, "the example shows the defaults")

	raw, err := os.ReadFile("learnloop.example.yaml")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	for _, l := range allKeys() {
		if strings.HasSuffix(l.path, "_file") {
			require.Contains(t, string(raw), "_file", l.path)
			continue
		}
		var node any = doc
		for _, part := range strings.Split(l.path, ".") {
			m, ok := node.(map[string]any)
			require.True(t, ok, "%s: parent is not a mapping", l.path)
			node, ok = m[part]
			require.True(t, ok, "learnloop.example.yaml lacks %s", l.path)
		}
	}
}

func pairs(kv []string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// TestSimulatorIsOffInProduction: with only a link secret the simulator
// does not run and no platform is the default; dev mode or the key turns it
// on; next to a real platform it needs the explicit second key.
func TestSimulatorIsOffInProduction(t *testing.T) {
	t.Parallel()
	const secret = "0123456789abcdef0123456789abcdef"
	wecom := []string{"LEARNLOOP_PLATFORMS_WECOM_ENABLED", "true", "LEARNLOOP_PLATFORMS_WECOM_CORP_ID", "ww123",
		"LEARNLOOP_PLATFORMS_WECOM_AGENT_ID", "1000002", "LEARNLOOP_PLATFORMS_WECOM_SECRET", "sec",
		"LEARNLOOP_PLATFORMS_WECOM_TOKEN", "tok", "LEARNLOOP_PLATFORMS_WECOM_ENCODING_AES_KEY", aes43}
	cases := []struct {
		name     string
		kv       []string
		sim      bool
		platform string
	}{
		{"link secret only", nil, false, ""},
		{"dev mode", []string{"LEARNLOOP_SECURITY_DEV_MODE", "true"}, true, "simulator"},
		{"explicitly enabled", []string{"LEARNLOOP_PLATFORMS_SIMULATOR_ENABLED", "true"}, true, "simulator"},
		{"one real platform is the default", wecom, false, "wecom"},
		{"dev mode next to a real platform", append([]string{"LEARNLOOP_SECURITY_DEV_MODE", "true"}, wecom...), false, "wecom"},
		{"both, explicitly", append([]string{"LEARNLOOP_PLATFORMS_SIMULATOR_ENABLED", "true", "LEARNLOOP_PLATFORMS_SIMULATOR_ALLOW_WITH_REAL_PLATFORMS", "true"}, wecom...), true, "wecom"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := env(pairs(append([]string{"LEARNLOOP_SECURITY_LINK_SECRET", secret}, tc.kv...)))
			c, err := Load("", e.lookup)
			require.NoError(t, err)
			require.Equal(t, tc.sim, c.SimulatorEnabled())
			require.Equal(t, tc.platform, c.DefaultPlatform())
			require.Contains(t, c.Masked(), "default_platform: "+map[string]string{"": `""`}[tc.platform]+tc.platform)
		})
	}
}
