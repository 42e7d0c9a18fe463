package surveys

import (
	"fmt"

	"github.com/learnloop/learnloop/bot"
)

var texts = map[string]map[string]string{
	bot.LocaleZH: {
		"feedback.title":           "课后反馈：%s",
		"feedback.body":            "感谢参加《%s》！请花 1 分钟告诉我们您的感受，%s 前有效。",
		"feedback_reminder.title":  "反馈提醒：%s",
		"feedback_reminder.body":   "您还没有完成《%s》的课后反馈，%s 前有效，只需 1 分钟。",
		"nps.title":                "推荐度调查：%s",
		"manager_followup.title":   "行为跟进：%s（%s）",
		"manager_reminder.title":   "行为跟进提醒：%s（%s）",
		"manager_followup.body":    "%s 参加了《%s》。请花 2 分钟评价 TA 在工作中相关行为的变化（%s 前有效）。",
		"escalation.title":         "未完成名单：%s",
		"escalation.body":          "「%s」提醒后仍有 %d 人未完成：%s",
		"escalation.none":          "「%s」已全部完成。",
		"escalation.more":          "等另外 %d 人",
		"anonymous":                "（匿名）",
		"button.form":              "填写问卷",
		"button.why":               "补充原因",
		"button.submit":            "提交",
		"status.nps":               "已评分：%d 分 ✓",
		"status.rating":            "感谢评分 %s",
		"rating.title":             "请为《%s》评分",
		"reply.closed":             "问卷已关闭",
		"reply.answered_anonymous": "您已作答。匿名问卷的回答不与您的身份关联，请在作答后更新的消息或设备上修改",
		"form.elsewhere":           "您已作答",
		"form.elsewhere_text":      "这是匿名问卷：您的回答不与您的身份关联，只能用作答时的链接（作答后更新的消息）或同一设备打开并修改，%s 前有效。",
		"reply.bad_value":          "无效的评分，请重新选择",
		"reply.thanks_score":       "感谢评分：%s 分",
		"form.required":            "必答",
		"form.submit":              "提交",
		"form.save":                "保存进度",
		"form.saved":               "已保存进度，可稍后继续填写。",
		"form.errors":              "还有 %d 处需要修改，请查看标红的题目。",
		"form.thanks":              "感谢您的反馈！",
		"form.thanks_text":         "您的回答已保存。问卷关闭前（%s）可随时回来修改。",
		"form.edit":                "修改我的回答",
		"form.closed":              "问卷已关闭",
		"form.closed_text":         "该问卷已于 %s 关闭，感谢关注。",
		"form.expired":             "链接已过期",
		"form.expired_text":        "请使用聊天应用中最新的消息打开问卷，或联系班主任。",
		"form.about":               "关于：%s",
		"form.progress":            "已答 %d / %d 题",
		"form.anonymous":           "本问卷为匿名问卷：报告中不会显示您的姓名。",
		"form.editable":            "提交后，问卷关闭前仍可修改。",
		"form.choose":              "请选择",
		"form.low":                 "完全不可能",
		"form.high":                "非常可能",
		"nps.scale":                "0 = 完全不可能 · 10 = 非常可能",
		"freq.1":                   "从不",
		"freq.2":                   "很少",
		"freq.3":                   "有时",
		"freq.4":                   "经常",
		"freq.5":                   "总是",
		"rating.1":                 "非常不满意",
		"rating.5":                 "非常满意",
		"change.-3":                "明显变差",
		"change.0":                 "没有变化",
		"change.3":                 "明显改善",
	},
	bot.LocaleEN: {
		"feedback.title":           "Feedback: %s",
		"feedback.body":            "Thank you for attending \"%s\"! One minute of feedback helps us improve (open until %s).",
		"feedback_reminder.title":  "Feedback reminder: %s",
		"feedback_reminder.body":   "You have not finished the feedback on \"%s\" yet; it is open until %s and takes one minute.",
		"nps.title":                "Would you recommend it? %s",
		"manager_followup.title":   "Behaviour follow-up: %s (%s)",
		"manager_reminder.title":   "Reminder — behaviour follow-up: %s (%s)",
		"manager_followup.body":    "%s attended \"%s\". Please take two minutes to rate the change in their behaviour at work (open until %s).",
		"escalation.title":         "Not answered: %s",
		"escalation.body":          "\"%s\": %d still have not answered after the reminders: %s",
		"escalation.none":          "\"%s\": everyone has answered.",
		"escalation.more":          "and %d more",
		"anonymous":                " (anonymous)",
		"button.form":              "Open the survey",
		"button.why":               "Tell us why",
		"button.submit":            "Submit",
		"status.nps":               "Scored %d ✓",
		"status.rating":            "Thanks for rating %s",
		"rating.title":             "Rate \"%s\"",
		"reply.closed":             "This survey is closed",
		"reply.answered_anonymous": "You have answered. Anonymous answers are not linked to you: change yours from the message updated after you answered, or on the same device",
		"form.elsewhere":           "You have already answered",
		"form.elsewhere_text":      "This survey is anonymous: your answer is not linked to you, so it opens only from the link you answered with (the message updated after you answered) or on the same device, until %s.",
		"reply.bad_value":          "That score is not valid; please choose again",
		"reply.thanks_score":       "Thanks for your score: %s",
		"form.required":            "required",
		"form.submit":              "Submit",
		"form.save":                "Save progress",
		"form.saved":               "Progress saved; you can continue later.",
		"form.errors":              "%d answer(s) need attention; see the questions marked in red.",
		"form.thanks":              "Thank you for your feedback!",
		"form.thanks_text":         "Your answers are saved. You can come back and change them until the survey closes (%s).",
		"form.edit":                "Change my answers",
		"form.closed":              "This survey is closed",
		"form.closed_text":         "The survey closed on %s. Thank you.",
		"form.expired":             "This link has expired",
		"form.expired_text":        "Open the survey from the latest message in your chat app, or ask your class coordinator.",
		"form.about":               "About: %s",
		"form.progress":            "%d of %d answered",
		"form.anonymous":           "This survey is anonymous: reports never show your name.",
		"form.editable":            "You can change your answers until the survey closes.",
		"form.choose":              "Choose",
		"form.low":                 "Not at all likely",
		"form.high":                "Extremely likely",
		"nps.scale":                "0 = not at all likely · 10 = extremely likely",
		"freq.1":                   "Never",
		"freq.2":                   "Rarely",
		"freq.3":                   "Sometimes",
		"freq.4":                   "Often",
		"freq.5":                   "Always",
		"rating.1":                 "Very dissatisfied",
		"rating.5":                 "Very satisfied",
		"change.-3":                "Much worse",
		"change.0":                 "No change",
		"change.3":                 "Much better",
	},
}

// T returns the survey text id in locale, formatted with args.
func T(locale, id string, args ...any) string {
	s, ok := texts[bot.NormalizeLocale(locale)][id]
	if !ok {
		s = texts[bot.LocaleZH][id]
	}
	if s == "" {
		return id
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}
