package text

// chatTexts are the bot's answers to text messages (package bot/chat).
var chatTexts = Texts{
	"chat:help": {"可以直接发送：\n签到 — 为正在进行的课程签到\n我的课程 — 未来 14 天的课程、签到和问卷链接\n请假 [原因] — 向课程协调人申请请假\n帮助 — 显示本说明",
		"You can send:\ncheck in — check in to the class under way\nmy courses — your classes of the next 14 days with check-in and survey links\nleave [reason] — ask the coordinator to excuse you\nhelp — show this help"},
	"chat:unknown":                {"没有看懂这条消息。", "Sorry, I did not understand that."},
	"chat:nobody":                 {"没有找到你的学员信息，请联系培训协调人。", "You are not on any class roster yet; please contact the training coordinator."},
	"chat:comment.thanks":         {"谢谢，已记下你的原因。", "Thank you, your reason is recorded."},
	"chat:comment.invalid":        {"没有记录：%s。请重新回复。", "Not recorded: %s. Please reply again."},
	"chat:checkin.on_time":        {"已签到 %s ·《%s》", "Checked in %s · \"%s\""},
	"chat:checkin.late":           {"已签到（迟到）%s ·《%s》", "Checked in (late) %s · \"%s\""},
	"chat:checkin.makeup":         {"已补签 %s ·《%s》", "Checked in (make-up) %s · \"%s\""},
	"chat:checkin.already":        {"你已签到 %s ·《%s》", "You already checked in at %s · \"%s\""},
	"chat:checkin.not_open":       {"不在签到时间：《%s》%s 起可以签到", "Not check-in time: \"%s\" opens for check-in at %s"},
	"chat:checkin.closed":         {"不在签到时间：《%s》的签到已结束", "Not check-in time: check-in for \"%s\" has closed"},
	"chat:checkin.none":           {"不在签到时间：近期没有你的课程", "Not check-in time: you have no class coming up"},
	"chat:courses.title":          {"你未来 %d 天的课程：", "Your classes in the next %d days:"},
	"chat:courses.line":           {"·《%s》%s（%s）", "· \"%s\" %s (%s)"},
	"chat:courses.place":          {" · %s", " · %s"},
	"chat:courses.more":           {"另有 %d 节课未列出", "and %d more"},
	"chat:courses.none":           {"未来 %d 天没有你的课程。", "You have no class in the next %d days."},
	"chat:link.checkin":           {"签到《%s》", "Check in: %s"},
	"chat:link.survey":            {"填写问卷《%s》", "Survey: %s"},
	"chat:excuse.none":            {"没有可以请假的课程。", "You have no upcoming class to be excused from."},
	"chat:excuse.sent":            {"已将你对《%s》（%s）的请假申请提交给课程协调人，审批结果会通知你。", "Your request to be excused from \"%s\" (%s) went to the coordinator; you will be told the decision."},
	"chat:excuse.updated":         {"已更新你对《%s》（%s）的请假申请，课程协调人审批后会通知你。", "Your request to be excused from \"%s\" (%s) is updated; you will be told the decision."},
	"chat:excuse.already_excused": {"你已请假：《%s》（%s）。", "You are already excused from \"%s\" (%s)."},
}
