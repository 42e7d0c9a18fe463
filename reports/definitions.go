package reports

import (
	"strings"
	"time"

	"github.com/learnloop/learnloop/text"
)

// definitionKeys lists the figures in the order reports show them.
var definitionKeys = []string{
	"roster", "excused", "eligible", "checked_in", "on_time", "late", "makeup",
	"checkin_rate", "low_checkin", "windows",
	"deliveries", "sent", "failed", "dropped", "pending", "top_error",
	"clicks", "clickers", "click_through", "conversions", "conversion_rate",
}

// definitionOf is a figure's meaning in plain words and its formula.
func definitionOf(key string, window time.Duration) text.Message {
	switch key {
	case "conversions", "conversion_rate":
		h := formatWindow(window)
		return text.M("reports:definition."+key, h, h)
	}
	return text.M("reports:definition." + key)
}

// definitionsZH returns every figure's zh-CN definition by key.
func definitionsZH(window time.Duration) map[string]string {
	m := make(map[string]string, len(definitionKeys))
	for _, k := range definitionKeys {
		m[k] = definitionOf(k, window).In(text.ZH)
	}
	return m
}

// formatWindow is an attribution window in words ("24 小时", "24 hours").
func formatWindow(d time.Duration) text.Message {
	if d <= 0 {
		d = DefaultAttributionWindow
	}
	if d%time.Hour == 0 {
		h := int64(d / time.Hour)
		if h == 1 {
			return text.M("reports:window.hour", h)
		}
		return text.M("reports:window.hours", h)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	return text.M("reports:window.other", s)
}
