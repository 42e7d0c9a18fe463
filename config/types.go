package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maskedValue is what a non-empty Secret prints as.
const maskedValue = "******"

// Secret is a configuration value that must never be printed: String,
// Format (every fmt verb), MarshalYAML, MarshalJSON and LogValue all show
// "******" when it is non-empty and "" when it is empty. Value returns the
// real value for the code that needs it.
type Secret string

// Value returns the real, unmasked value.
func (s Secret) Value() string { return string(s) }

// String returns "******", or "" when the secret is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return maskedValue
}

// Format prints the masked value for every verb, so %v, %s, %q, %x and %#v
// (also inside structs and slices) never reveal the secret.
func (s Secret) Format(f fmt.State, verb rune) {
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), s.String())
}

// MarshalYAML encodes the masked value.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalJSON encodes the masked value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// LogValue makes log/slog print the masked value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Duration is a time.Duration written in configuration as a Go duration
// string such as "90s", "15m" or "24h".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d compactly: "720h" rather than "720h0m0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// ParseDuration parses s ("90s", "15m", "24h", ...) as a Duration.
func ParseDuration(s string) (Duration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("not a duration like \"90s\", \"15m\" or \"24h\": %w", err)
	}
	return Duration(v), nil
}

// MarshalYAML encodes d as a duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML decodes a duration string such as "90s".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a duration must be a string like \"90s\", \"15m\" or \"24h\"", n.Line)
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText encodes d as a duration string (used by encoding/json).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes a duration string such as "90s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
