package console

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/text"
)

// commonZones are the time zones the session form offers, those of most
// users first. The configured default and a session's own zone join them
// when they are not among them.
var commonZones = []string{
	"Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Asia/Seoul",
	"Asia/Kuala_Lumpur", "Asia/Bangkok", "Asia/Jakarta", "Asia/Kolkata", "Asia/Dubai", "Australia/Sydney",
	"Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York", "America/Chicago",
	"America/Los_Angeles", "America/Sao_Paulo", "UTC",
}

// zoneChoice is one option of the time-zone select.
type zoneChoice struct {
	Name  string // the IANA name the form posts
	Label string // the place and its UTC offset now
}

// zoneChoices lists the time-zone select's options: the configured
// default first, then commonZones, then each of extra (a session's zone, a
// posted value) not among them. The command validates what is posted
// (plan.Zone); an option it would refuse is shown as it is.
func (c *Console) zoneChoices(lang text.Locale, extra ...string) []zoneChoice {
	names := []string{c.d.Location.String()}
	for _, z := range append(append([]string{}, commonZones...), extra...) {
		if z = strings.TrimSpace(z); z != "" && !slices.Contains(names, z) {
			names = append(names, z)
		}
	}
	now := c.now()
	out := make([]zoneChoice, 0, len(names))
	for _, n := range names {
		out = append(out, zoneChoice{Name: n, Label: zoneLabel(lang, n, now)})
	}
	return out
}

// zoneLabel names zone name for people: "中国（上海） UTC+08:00 · Asia/Shanghai".
func zoneLabel(lang text.Locale, name string, now time.Time) string {
	loc, err := plan.Zone(name)
	if err != nil {
		return name
	}
	_, off := now.In(loc).Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	utc := fmt.Sprintf("UTC%s%02d:%02d", sign, off/3600, off%3600/60)
	if key := zoneKey(name); text.Has(key) {
		return text.T(lang, key) + " " + utc + " · " + name
	}
	return utc + " · " + name
}

// zoneKey is the text key of a zone's place name: "zone.asia.shanghai".
func zoneKey(name string) string {
	return "zone." + strings.ToLower(strings.ReplaceAll(name, "/", "."))
}
