package text

// adapterTexts are the few lines the platform adapters say themselves, when
// a tap cannot reach the core or its answer cannot be shown.
var adapterTexts = Texts{
	"adapters:busy":         {"系统繁忙，请稍后再试", "The service is busy, please try again shortly"},
	"adapters:retry":        {"请稍后再点一次", "Please tap again in a moment"},
	"adapters:chat_retry":   {"没有收到，请稍后再发一次", "Not received; please send it again in a moment"},
	"adapters:who_failed":   {"无法确认您的身份，请稍后再试", "We could not confirm who you are, please try again shortly"},
	"adapters:checkin_link": {"按钮无反应？打开链接签到", "Button not working? Open the link to check in"},
	"adapters:submit":       {"提交", "Submit"},
	"adapters:too_old":      {"（该卡片发送已超过 14 天，飞书不再允许更新卡片，结果以最新消息为准）", "(this card is more than 14 days old, so Feishu no longer lets us update it)"},
}
