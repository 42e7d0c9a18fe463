package text

import (
	"fmt"
	"html/template"
	"strings"
)

// Entry is one text in both locales, side by side.
type Entry struct {
	// ZH is the Simplified Chinese text.
	ZH string
	// EN is the English text.
	EN string
}

// In returns the entry's text in loc.
func (e Entry) In(loc Locale) string {
	if loc == EN {
		return e.EN
	}
	return e.ZH
}

// Texts is one area's catalogue: key → its text in both locales. Texts
// may contain fmt verbs, filled by T's arguments.
type Texts map[string]Entry

// area is one part of the product and its catalogue. Every key of an area
// with a prefix starts with it (the area's name and ':', "bot:button.checkin"),
// and no other area's key does, so a string literal starting with it
// anywhere in the code is one of its keys; the console's keys predate the
// areas and have none.
type area struct {
	name, prefix string
	texts        Texts
}

// areas lists every catalogue, one file of this package each.
var areas = []area{
	{"adapters", "adapters:", adapterTexts},
	{"bot", "bot:", botTexts},
	{"calendar", "calendar:", calendarTexts},
	{"campaigns", "campaigns:", campaignTexts},
	{"chat", "chat:", chatTexts},
	{"command", "command:", commandTexts},
	{"console", "", consoleTexts},
	{"console campaigns", "", consoleCampaignTexts},
	{"console webhooks", "", consoleWebhookTexts},
	{"console calendar", "", consoleCalendarTexts},
	{"console digests", "", consoleDigestTexts},
	{"console variants", "", consoleVariantTexts},
	{"demo", "demo:", demoTexts},
	{"digests", "digests:", digestTexts},
	{"experiment", "experiment:", experimentTexts},
	{"presence", "presence:", presenceTexts},
	{"reports", "reports:", reportTexts},
	{"roster", "roster:", rosterTexts},
	{"sendtime", "sendtime:", sendTimeTexts},
	{"surveys", "surveys:", surveyTexts},
	{"web", "web:", webTexts},
}

// catalogue is every area's texts in one map; a key defined by two areas
// stops the program at start-up (and fails TestCatalogue).
var catalogue = merge(areas)

func merge(areas []area) map[string]Entry {
	out := map[string]Entry{}
	owner := map[string]string{}
	for _, a := range areas {
		for k, e := range a.texts {
			if prev, dup := owner[k]; dup {
				panic(fmt.Sprintf("text: key %q is defined by both %s and %s", k, prev, a.name))
			}
			owner[k] = a.name
			out[k] = e
		}
	}
	return out
}

// T returns the text of key in loc, formatted with args when the text has
// fmt verbs; an argument that is a Message is put in loc first. An unknown key is returned as it is (TestEveryKeyExists makes
// sure no code asks for one).
func T(loc Locale, key string, args ...any) string {
	e, ok := catalogue[key]
	if !ok {
		return key
	}
	if loc != EN && loc != ZH {
		loc = Parse(string(loc))
	}
	s := e.In(loc)
	if len(args) > 0 && strings.Contains(s, "%") {
		copied := false
		for i, a := range args {
			if m, ok := a.(Message); ok {
				if !copied {
					args, copied = append([]any(nil), args...), true // the caller's slice stays as it was
				}
				args[i] = m.In(loc)
			}
		}
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Has reports whether key has a text.
func Has(key string) bool {
	_, ok := catalogue[key]
	return ok
}

// Enum returns the text of an enumerated value, the key group+"."+v
// (Enum(loc, "kind", "reminder") is the text of "kind.reminder"), or v
// itself when it has none; "" for "".
func Enum(loc Locale, group, v string) string {
	if v == "" {
		return ""
	}
	if k := group + "." + v; Has(k) {
		return T(loc, k)
	}
	return v
}

// Message is a text not yet localized: a key and its arguments. Domain
// results carry one, and the presenter picks the locale.
type Message struct {
	// Key is the text's key.
	Key string
	// Args fill the text's fmt verbs.
	Args []any
}

// M returns the message of key with args.
func M(key string, args ...any) Message { return Message{Key: key, Args: args} }

// In returns the message's text in loc.
func (m Message) In(loc Locale) string { return T(loc, m.Key, m.Args...) }

// Bilingual returns the message in both languages as one string,
// "zh-CN text | English text", the form report exports and some API fields
// carry; "" for the zero message.
func (m Message) Bilingual() string {
	if m.IsZero() {
		return ""
	}
	return m.In(ZH) + " | " + m.In(EN)
}

// IsZero reports whether m has no key.
func (m Message) IsZero() bool { return m.Key == "" }

// FuncMap returns the template functions of the lookup: "t" (key,
// args…) and "tl" (group, value: Enum) in loc, for templates parsed per
// locale, and "T" (locale, key, args…), for templates that are given
// their locale as data.
func FuncMap(loc Locale) template.FuncMap {
	return template.FuncMap{
		"t":  func(key string, args ...any) string { return T(loc, key, args...) },
		"tl": func(group, v string) string { return Enum(loc, group, v) },
		"T":  T,
	}
}
