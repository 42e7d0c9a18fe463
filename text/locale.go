// Package text owns every user-facing text of learnloop: the two locales
// (zh-CN, the default, and en), the one normaliser that maps any spelling of
// a language to them, and the per-area catalogues behind the one lookup
// (T) that Go code and templates use.
package text

import (
	"strconv"
	"strings"
)

// Locale is a language learnloop speaks: ZH or EN.
type Locale string

// The locales, with the tags stored in the database and sent to browsers.
const (
	// ZH is Simplified Chinese, the default.
	ZH Locale = "zh-CN"
	// EN is English.
	EN Locale = "en"
)

// Locales lists every locale, the default first.
var Locales = []Locale{ZH, EN}

// String returns the locale's tag.
func (l Locale) String() string { return string(l) }

// Parse maps any spelling of a language to ZH or EN: a tag in any case with
// '-' or '_' ("en", "en-US", "zh_CN"), or an Accept-Language value
// ("en-GB,en;q=0.9,zh;q=0.8", where the highest-weighted language learnloop
// speaks wins). Anything else, the empty string included, is ZH.
func Parse(s string) Locale {
	best, bestQ := ZH, -1.0
	for _, item := range strings.Split(s, ",") {
		tag, params, _ := strings.Cut(item, ";")
		loc, ok := Match(tag)
		if !ok {
			continue
		}
		q := 1.0
		if v, found := strings.CutPrefix(strings.TrimSpace(params), "q="); found {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				continue
			}
			q = f
		}
		if q > bestQ && q > 0 {
			best, bestQ = loc, q
		}
	}
	return best
}

// Match reports which locale a single language tag names: EN for English
// ("en", "en-US", "EN_gb", "english"), ZH for Chinese ("zh", "zh-CN",
// "zh_Hans"), and false for any other language.
func Match(tag string) (Locale, bool) {
	t := strings.ToLower(strings.TrimSpace(tag))
	primary, _, _ := strings.Cut(strings.ReplaceAll(t, "_", "-"), "-")
	switch {
	case primary == "en" || primary == "english":
		return EN, true
	case primary == "zh" || primary == "chinese":
		return ZH, true
	}
	return "", false
}

// Exact returns the locale whose tag is exactly s ("zh-CN" or "en"), for
// input that must name one as it is stored.
func Exact(s string) (Locale, bool) {
	for _, l := range Locales {
		if s == string(l) {
			return l, true
		}
	}
	return "", false
}
