package text

// demoTexts are the names the demo's terminal script gives push kinds,
// audiences and check-ins (cmd/learnloop, learnloop demo).
var demoTexts = Texts{
	"demo:kind.reminder":          {"课前提醒", "Class reminder"},
	"demo:kind.checkin_prompt":    {"签到提醒", "Check-in prompt"},
	"demo:kind.makeup_reminder":   {"补签提醒", "Make-up reminder"},
	"demo:kind.custom":            {"自定义消息", "Custom message"},
	"demo:kind.feedback":          {"课后反馈问卷", "Feedback survey"},
	"demo:kind.feedback_reminder": {"问卷提醒", "Survey reminder"},
	"demo:kind.nps":               {"推荐度调查", "NPS question"},

	"demo:audience.all":            {"全体学员", "Everyone"},
	"demo:audience.not_checked_in": {"未签到的人", "Not checked in"},
	"demo:audience.checked_in":     {"已签到的人", "Checked in"},
	"demo:audience.not_responded":  {"未完成问卷的人", "Not responded"},

	"demo:checkin.on_time": {"准时", "on time"},
	"demo:checkin.late":    {"迟到", "late"},
	"demo:checkin.makeup":  {"补签", "make-up"},
}
