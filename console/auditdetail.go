package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// Limits of the audit detail shown on screen (exports keep the whole JSON).
const (
	auditDetailLines = 8  // fields shown; the rest are counted
	auditDetailValue = 60 // characters of one value
)

// auditDetail is the on-screen form of an audit entry's JSON detail: one
// "field: value" line per field (sorted as stored, labels translated where
// the console has them), each value clipped to auditDetailValue characters
// and at most auditDetailLines lines. Times are shown in loc (the detail's
// own time_zone when it names one). Detail that is not a JSON object is
// shown clipped as it is; no detail is "—". The text is plain: templates
// escape it.
func auditDetail(lang text.Locale, raw string, loc *time.Location) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "null" {
		return "—"
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || dec.More() {
		return clip(raw, auditDetailValue)
	}
	if tz, ok := obj["time_zone"].(string); ok && tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var lines []string
	for i, k := range keys {
		if i == auditDetailLines {
			lines = append(lines, text.T(lang, "audit.detail_more", len(keys)-i))
			break
		}
		lines = append(lines, text.T(lang, "audit.detail_line", fieldLabel(lang, k), clip(detailValue(lang, k, obj[k], loc), auditDetailValue)))
	}
	return strings.Join(lines, "\n")
}

// fieldLabel is the translated name of a detail field: its column heading
// when the console has one, else its audit label, else the key itself.
func fieldLabel(lang text.Locale, key string) string {
	for _, k := range []string{"field." + key, "col." + key} {
		if text.Has(k) {
			return text.T(lang, k)
		}
	}
	return key
}

// detailValue is the value of field key of an audit detail as text; an
// enumerated value the console translates (kind "reminder") is translated.
func detailValue(lang text.Locale, key string, v any, loc *time.Location) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case bool:
		if x {
			return text.T(lang, "yes")
		}
		return text.T(lang, "no")
	case json.Number:
		return x.String()
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil && len(x) >= len("2006-01-02T15:04:05Z") {
			return inLoc(t, loc).Format("2006-01-02 15:04")
		}
		if k := key + "." + x; text.Has(k) {
			return text.T(lang, k)
		}
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = detailValue(lang, key, e, loc)
		}
		return strings.Join(parts, text.T(lang, "audit.detail_sep"))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = text.T(lang, "audit.detail_line", fieldLabel(lang, k), detailValue(lang, k, x[k], loc))
		}
		return strings.Join(parts, text.T(lang, "audit.detail_sep"))
	default:
		var b bytes.Buffer
		_ = json.NewEncoder(&b).Encode(x)
		return strings.TrimSpace(b.String())
	}
}

// clip shortens s to n characters, marking the cut with "…"; line breaks
// inside a value become spaces so that one field stays one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return cut.Runes(s, n) + "…"
}

// auditZones is the zone each entry's detail times are shown in, by object:
// a session's own zone for "session:ID", the console's zone otherwise.
func (c *Console) auditZones(r *http.Request, logs []store.AuditLog) (map[string]*time.Location, error) {
	zones := map[string]*time.Location{}
	var ids []uint64
	for _, l := range logs {
		zones[l.Object] = c.d.Location
		if kind, id, ok := strings.Cut(l.Object, ":"); ok && kind == "session" {
			if n, err := strconv.ParseUint(id, 10, 64); err == nil {
				ids = append(ids, n)
			}
		}
	}
	found, err := c.commands().SessionZones(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	for id, loc := range found {
		zones[fmt.Sprintf("session:%d", id)] = loc
	}
	return zones, nil
}
