package text

// webTexts are the words of the pages web serves itself: a tracked link
// that is not valid, and the start page (package web).
var webTexts = Texts{
	"web:not_found.heading": {"链接无效或已过期", "This link is invalid or has expired"},
	"web:not_found.text":    {"请回到聊天应用中打开最新的消息。如有疑问，请联系班主任。", "Open the latest message in your chat app, or ask your class coordinator."},
	"web:home.text": {
		"培训触达、签到与反馈服务正在运行。模拟器：/sim · 接口：/api/v1 · 健康检查：/healthz",
		"The training reminders, check-in and feedback service is running. Simulator: /sim · API: /api/v1 · health: /healthz",
	},
}
