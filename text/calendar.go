package text

// calendarTexts are the texts of the calendar events the calendar package
// puts in the attendees' platform calendars (in the session's language).
var calendarTexts = Texts{
	"calendar:desc.course":  {"课程：%s", "Course: %s"},
	"calendar:desc.teacher": {"讲师：%s", "Teacher: %s"},
	"calendar:desc.online":  {"线上参加：%s", "Join online: %s"},
	"calendar:desc.checkin": {"签到：开课前会收到签到卡片；现场也可打开 %s 输入房间码签到。", "Check-in: a check-in card arrives before the class; on site you can also open %s and enter the room code."},
}
