package text

// campaignTexts are the words a campaign card adds to what its author
// wrote (package campaigns).
var campaignTexts = Texts{
	"campaigns:picture":         {"图片", "Picture"},
	"campaigns:button.course":   {"去学习", "Start the course"},
	"campaigns:button.live":     {"进入直播", "Join the live stream"},
	"campaigns:button.exam":     {"去考试", "Take the exam"},
	"campaigns:button.document": {"查看资料", "Open the document"},
}
