package text

// sendTimeTexts explain a learned send time chosen for a window
// (sendtime.Choice.Explain), wherever a preview shows it.
var sendTimeTexts = Texts{
	"sendtime:learned": {
		"学习得出的时间：%s（该时段快速打开率 %.1f%%；共 n=%d 条推送，比较了窗口内 %d 个已发送不少于 %d 条的小时）",
		"Learned time: %s (quick-open rate %.1f%% in that hour; n=%d pushes in all, %d hours of the window with at least %d sent compared)",
	},
	"sendtime:thin": {
		"数据不足，使用设定时间（窗口内已发送不少于 %d 条的小时少于 2 个；共 n=%d）",
		"Not enough data, the configured time is used (fewer than 2 hours of the window with at least %d sent; n=%d in all)",
	},
	"sendtime:no_slot": {
		"窗口全在免打扰时段或节假日，使用设定时间",
		"The whole window is in quiet hours or on holidays; the configured time is used",
	},
}
