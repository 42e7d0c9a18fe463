package text

// consoleCalendarTexts are the texts of the calendar invites on the
// console's delivery health page (console/results.go, templates/health.html).
var consoleCalendarTexts = Texts{
	"table.calendar":         {"日程邀请（平台日历）", "Calendar invites (platform calendars)"},
	"health.no_calendar":     {"这节课没有放进任何平台日历。", "This session is in no platform calendar."},
	"col.event_id":           {"平台日程 ID", "Platform event id"},
	"col.attendees":          {"参与人", "Attendees"},
	"col.failures":           {"连续失败", "Failures in a row"},
	"col.synced_at":          {"上次同步", "Last synced"},
	"calstate.pending":       {"待创建", "Not created yet"},
	"calstate.active":        {"已同步", "In sync"},
	"calstate.deleted":       {"已取消", "Cancelled"},
	"calstate.failing":       {"同步失败（重试中）", "Failing (retrying)"},
	"col.calendar_invite":    {"日历邀请", "Calendar invite"},
	"invite.session_inherit": {"跟随课程设置", "As the course says"},
	"invite.course_inherit":  {"跟随系统默认（calendar.invite_default）", "As the default (calendar.invite_default)"},
	"invite.on":              {"放入参与人的平台日历（企业微信日程 / 飞书日历 / 钉钉日程）", "Put in the attendees' platform calendars (WeCom, Feishu, DingTalk)"},
	"invite.off":             {"不放入日历", "No calendar event"},
	"invite.err":             {"请选择“跟随”“放入”或“不放入”。", "Choose inherit, on or off."},
}
