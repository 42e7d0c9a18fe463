package bot

import (
	"fmt"
	"strings"
)

// Locales learnloop speaks.
const (
	LocaleZH = "zh-CN"
	LocaleEN = "en"
)

// NormalizeLocale maps any accepted spelling to LocaleZH or LocaleEN.
func NormalizeLocale(l string) string {
	if strings.HasPrefix(strings.ToLower(l), "en") {
		return LocaleEN
	}
	return LocaleZH
}

// texts holds every user-facing string, keyed by locale then message id.
var texts = map[string]map[string]string{
	LocaleZH: {
		"reminder.title":        "开课提醒：%s",
		"reminder.body":         "您报名的《%s》将于 %s 开课，请准时参加。",
		"checkin_prompt.title":  "签到提醒：%s",
		"checkin_prompt.body":   "《%s》即将开始，请点击下方按钮签到。",
		"makeup_reminder.title": "补签提醒：%s",
		"makeup_reminder.body":  "您尚未签到《%s》。如已参加，请在 %s 前补签。",
		"custom.title":          "课程通知：%s",
		"custom.body":           "%s",
		"field.time":            "时间",
		"field.place":           "地点",
		"field.teacher":         "讲师",
		"button.checkin":        "签到",
		"button.makeup":         "补签",
		"button.join":           "进入课堂",
		"fallback.checkin":      "无法点击按钮？打开链接签到：%s",
		"status.on_time":        "已签到 %s ✓",
		"status.late":           "已签到（迟到）%s ✓",
		"status.makeup":         "已补签 %s ✓",
		"reply.not_open":        "签到尚未开始，%s 开放签到",
		"reply.closed":          "签到已结束",
		"reply.not_enrolled":    "您不在本课程的名单中",
		"reply.cancelled":       "本次课程已取消",
		"reply.invalid":         "该操作已失效，请使用最新消息",
		"reply.done_on_time":    "签到成功 %s",
		"reply.done_late":       "签到成功（迟到）%s",
		"reply.done_makeup":     "补签成功 %s",
		"reply.already":         "您已签到 %s",
		"reply.remote":          "已记录为远程签到 %s。本场要求现场签到：请在教室扫描投影上的二维码",
		"status.remote":         "已记录为远程签到 %s · 请到现场扫码签到",
		"online":                "线上",
	},
	LocaleEN: {
		"reminder.title":        "Class reminder: %s",
		"reminder.body":         "Your class \"%s\" starts at %s. See you there.",
		"checkin_prompt.title":  "Check in: %s",
		"checkin_prompt.body":   "\"%s\" is about to start. Tap the button below to check in.",
		"makeup_reminder.title": "Missed check-in: %s",
		"makeup_reminder.body":  "You have not checked in to \"%s\". If you attended, check in before %s.",
		"custom.title":          "Class notice: %s",
		"custom.body":           "%s",
		"field.time":            "Time",
		"field.place":           "Place",
		"field.teacher":         "Teacher",
		"button.checkin":        "Check in",
		"button.makeup":         "Check in late",
		"button.join":           "Join class",
		"fallback.checkin":      "Can't tap the button? Check in here: %s",
		"status.on_time":        "Checked in %s ✓",
		"status.late":           "Checked in (late) %s ✓",
		"status.makeup":         "Checked in (make-up) %s ✓",
		"reply.not_open":        "Check-in has not started; it opens at %s",
		"reply.closed":          "Check-in has closed",
		"reply.not_enrolled":    "You are not on this class's roster",
		"reply.cancelled":       "This class has been cancelled",
		"reply.invalid":         "This action is no longer valid; use the latest message",
		"reply.done_on_time":    "Checked in at %s",
		"reply.done_late":       "Checked in (late) at %s",
		"reply.done_makeup":     "Make-up check-in recorded at %s",
		"reply.remote":          "Recorded as a remote check-in at %s. This class requires on-site check-in: scan the QR code shown in the room",
		"status.remote":         "Recorded as remote %s · scan the QR code in the room to check in",
		"reply.already":         "You already checked in at %s",
		"online":                "Online",
	},
}

// T returns the localized text for id formatted with args.
func T(locale, id string, args ...any) string {
	s, ok := texts[NormalizeLocale(locale)][id]
	if !ok {
		s = texts[LocaleZH][id]
	}
	if s == "" {
		return id
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}
