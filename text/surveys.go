package text

// surveyTexts are the survey cards, the answers to survey taps and the /s/ form (package surveys).
var surveyTexts = Texts{
	"surveys:feedback.title":           {"课后反馈：%s", "Feedback: %s"},
	"surveys:feedback.body":            {"感谢参加《%s》！请花 1 分钟告诉我们您的感受，%s 前有效。", "Thank you for attending \"%s\"! One minute of feedback helps us improve (open until %s)."},
	"surveys:feedback_reminder.title":  {"反馈提醒：%s", "Feedback reminder: %s"},
	"surveys:feedback_reminder.body":   {"您还没有完成《%s》的课后反馈，%s 前有效，只需 1 分钟。", "You have not finished the feedback on \"%s\" yet; it is open until %s and takes one minute."},
	"surveys:nps.title":                {"推荐度调查：%s", "Would you recommend it? %s"},
	"surveys:manager_followup.title":   {"行为跟进：%s（%s）", "Behaviour follow-up: %s (%s)"},
	"surveys:manager_reminder.title":   {"行为跟进提醒：%s（%s）", "Reminder — behaviour follow-up: %s (%s)"},
	"surveys:manager_followup.body":    {"%s 参加了《%s》。请花 2 分钟评价 TA 在工作中相关行为的变化（%s 前有效）。", "%s attended \"%s\". Please take two minutes to rate the change in their behaviour at work (open until %s)."},
	"surveys:escalation.title":         {"未完成名单：%s", "Not answered: %s"},
	"surveys:escalation.body":          {"「%s」提醒后仍有 %d 人未完成：%s", "\"%s\": %d still have not answered after the reminders: %s"},
	"surveys:escalation.none":          {"「%s」已全部完成。", "\"%s\": everyone has answered."},
	"surveys:escalation.more":          {"等另外 %d 人", "and %d more"},
	"surveys:anonymous":                {"（匿名）", " (anonymous)"},
	"surveys:button.form":              {"填写问卷", "Open the survey"},
	"surveys:button.why":               {"补充原因", "Tell us why"},
	"surveys:button.submit":            {"提交", "Submit"},
	"surveys:status.nps":               {"已评分：%d 分 ✓", "Scored %d ✓"},
	"surveys:status.rating":            {"感谢评分 %s", "Thanks for rating %s"},
	"surveys:rating.title":             {"请为《%s》评分", "Rate \"%s\""},
	"surveys:reply.closed":             {"问卷已关闭", "This survey is closed"},
	"surveys:reply.answered_anonymous": {"您已作答。匿名问卷的回答不与您的身份关联，请在作答后更新的消息或设备上修改", "You have answered. Anonymous answers are not linked to you: change yours from the message updated after you answered, or on the same device"},
	"surveys:form.elsewhere":           {"您已作答", "You have already answered"},
	"surveys:form.elsewhere_text":      {"这是匿名问卷：您的回答不与您的身份关联，只能用作答时的链接（作答后更新的消息）或同一设备打开并修改，%s 前有效。", "This survey is anonymous: your answer is not linked to you, so it opens only from the link you answered with (the message updated after you answered) or on the same device, until %s."},
	"surveys:reply.bad_value":          {"无效的评分，请重新选择", "That score is not valid; please choose again"},
	"surveys:reply.thanks_score":       {"感谢评分：%s 分", "Thanks for your score: %s"},
	"surveys:reply.thanks_why":         {"感谢评分：%s 分。为什么？直接回复即可", "Thanks for your score: %s. Why? Just reply here"},
	"surveys:prompt.why":               {"为什么？直接回复即可", "Why? Just reply here"},
	"surveys:form.required":            {"必答", "required"},
	"surveys:form.required_error":      {"这道题必须回答", "Please answer this question"},
	"surveys:form.submit":              {"提交", "Submit"},
	"surveys:form.save":                {"保存进度", "Save progress"},
	"surveys:form.saved":               {"已保存进度，可稍后继续填写。", "Progress saved; you can continue later."},
	"surveys:form.errors":              {"还有 %d 处需要修改，请查看标红的题目。", "%d answer(s) need attention; see the questions marked in red."},
	"surveys:form.thanks":              {"感谢您的反馈！", "Thank you for your feedback!"},
	"surveys:form.thanks_text":         {"您的回答已保存。问卷关闭前（%s）可随时回来修改。", "Your answers are saved. You can come back and change them until the survey closes (%s)."},
	"surveys:form.edit":                {"修改我的回答", "Change my answers"},
	"surveys:form.closed":              {"问卷已关闭", "This survey is closed"},
	"surveys:form.closed_text":         {"该问卷已于 %s 关闭，感谢关注。", "The survey closed on %s. Thank you."},
	"surveys:form.expired":             {"链接已过期", "This link has expired"},
	"surveys:form.expired_text":        {"请使用聊天应用中最新的消息打开问卷，或联系班主任。", "Open the survey from the latest message in your chat app, or ask your class coordinator."},
	"surveys:form.about":               {"关于：%s", "About: %s"},
	"surveys:form.progress":            {"已答 %d / %d 题", "%d of %d answered"},
	"surveys:form.anonymous":           {"本问卷为匿名问卷：报告中不会显示您的姓名。", "This survey is anonymous: reports never show your name."},
	"surveys:form.editable":            {"提交后，问卷关闭前仍可修改。", "You can change your answers until the survey closes."},
	"surveys:form.low":                 {"完全不可能", "Not at all likely"},
	"surveys:form.high":                {"非常可能", "Extremely likely"},
	"surveys:nps.scale":                {"0 = 完全不可能 · 10 = 非常可能", "0 = not at all likely · 10 = extremely likely"},
	"surveys:freq.1":                   {"从不", "Never"},
	"surveys:freq.2":                   {"很少", "Rarely"},
	"surveys:freq.3":                   {"有时", "Sometimes"},
	"surveys:freq.4":                   {"经常", "Often"},
	"surveys:freq.5":                   {"总是", "Always"},
	"surveys:rating.1":                 {"非常不满意", "Very dissatisfied"},
	"surveys:rating.2":                 {"不满意", "Dissatisfied"},
	"surveys:rating.3":                 {"一般", "Neutral"},
	"surveys:rating.4":                 {"满意", "Satisfied"},
	"surveys:rating.5":                 {"非常满意", "Very satisfied"},
	"surveys:change.-3":                {"明显变差", "Much worse"},
	"surveys:change.-2":                {"变差", "Worse"},
	"surveys:change.-1":                {"略有变差", "Slightly worse"},
	"surveys:change.0":                 {"没有变化", "No change"},
	"surveys:change.1":                 {"略有改善", "Slightly better"},
	"surveys:change.2":                 {"改善", "Better"},
	"surveys:change.3":                 {"明显改善", "Much better"},

	// Why an answer is refused (surveys.ValidationError).
	"surveys:answer.one_only":       {"只能填写一个答案", "only one answer is allowed"},
	"surveys:answer.not_integer":    {"请选择 %d 到 %d 之间的整数", "answer must be a whole number from %d to %d"},
	"surveys:answer.out_of_range":   {"答案超出范围：请选择 %d 到 %d 之间的整数", "answer is out of range: choose a whole number from %d to %d"},
	"surveys:answer.unknown_option": {"所选选项不存在", "unknown option %q"},
	"surveys:answer.chosen_twice":   {"同一选项不能重复选择", "option %q is chosen more than once"},
	"surveys:answer.bad_text":       {"文字包含无效字符", "text contains invalid characters"},
	"surveys:answer.too_long":       {"文字过长：最多 %d 字，当前 %d 字", "text is too long: at most %d characters, got %d"},
	"surveys:answer.bad_type":       {"不支持的题目类型", "unsupported question type %q"},
	// The definitions beside every survey figure (surveys' metric results).
	"surveys:metric.nps": {
		"净推荐值（NPS）：回答为 0–10 的整数，9–10 分为推荐者，7–8 分为中立者，0–6 分为贬损者。" +
			"公式：NPS = 100 × (推荐者 − 贬损者) ÷ n，n = 有效回答数；取值 −100 到 +100，是数值而非百分比。" +
			"误差范围（95%）：se = √((p推荐 + p贬损 − (p推荐 − p贬损)²) ÷ n)，MOE = 1.96 × se × 100（分）",
		"Net Promoter Score (NPS): answers are integers 0–10; promoters 9–10, passives 7–8, detractors 0–6. " +
			"Formula: NPS = 100 × (promoters − detractors) ÷ n, n = valid answers; ranges from −100 to +100 and is a number, not a percentage. " +
			"Margin of error (95%): se = √((p_pro + p_det − (p_pro − p_det)²) ÷ n), MOE = 1.96 × se × 100 (points)",
	},
	"surveys:metric.rating": {
		"满意度（5 分制，1–5 的整数）：均值 = 各回答分数之和 ÷ n；满意率（Top-2-box / CSAT）= 100 × 4 分或 5 分的回答数 ÷ n；" +
			"n = 回答了该题的人数，跳过的不计入分母。满意率误差范围（95%，正态近似）：1.96 × √(p × (1 − p) ÷ n) × 100（百分点）",
		"Satisfaction (5-point scale, integers 1–5): mean = sum of answers ÷ n; top-2-box (CSAT) = 100 × answers of 4 or 5 ÷ n; " +
			"n = people who answered the question, skipped ones are not in the denominator. " +
			"Top-2-box margin of error (95%, normal approximation): 1.96 × √(p × (1 − p) ÷ n) × 100 (percentage points)",
	},
	"surveys:metric.response_rate": {
		"回复率 = 100 × 完整回复数 ÷ 应答人数（问卷已送达的在职员工数）；部分回复单独统计，不计入回复率：" +
			"部分回复率 = 100 × 部分回复数 ÷ 应答人数。应答人数为 0 时不计算",
		"Response rate = 100 × complete responses ÷ eligible (active employees the survey was delivered to); " +
			"partial responses are counted apart, never in the response rate: partial rate = 100 × partial responses ÷ eligible. " +
			"Not computed when eligible is 0",
	},
	"surveys:metric.change": {
		"行为改变（回溯式前后测）：直线经理为每位学员评“培训前”和“现在”的行为频率（1 = 从不，2 = 很少，3 = 有时，4 = 经常，5 = 总是）。" +
			"培训前均值、现在均值 = 评分之和 ÷ n；平均变化 = Σ(现在 − 培训前) ÷ n；改善比例 = 100 × (现在 > 培训前) 的学员数 ÷ n；" +
			"变差比例 = 100 × (现在 < 培训前) 的学员数 ÷ n；n = 两项都已回答的学员数",
		"Behaviour change (retrospective then-test): the direct manager rates how often each attendee showed the behaviour before the training and now " +
			"(1 = never, 2 = rarely, 3 = sometimes, 4 = often, 5 = always). Mean before, mean now = sum of ratings ÷ n; mean change = Σ(now − before) ÷ n; " +
			"share improved = 100 × attendees with now > before ÷ n; share worse = 100 × attendees with now < before ÷ n; n = attendees with both answers",
	},
	"surveys:metric.scale": {
		"总体变化（−3 到 +3 的整数，−3 = 明显变差，0 = 没有变化，+3 = 明显改善）：均值 = 各回答之和 ÷ n，n = 回答了该题的人数；分布为每个分值的回答数",
		"Overall change (integers −3 to +3, −3 = much worse, 0 = no change, +3 = much better): mean = sum of answers ÷ n, " +
			"n = people who answered the question; the distribution counts the answers per value",
	},
	// The caveat beside a margin of error from too few answers.
	"surveys:caveat.small_n": {
		"n < %[1]d：误差范围基于正态近似，样本过小时不可靠，仅供参考",
		"n < %[1]d: the margin of error uses a normal approximation that is unreliable for so few answers; treat it as indicative only",
	},
}
