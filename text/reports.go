package text

// reportTexts are the words of the reports: figure definitions, column
// names and the plain-text session report (package reports).
var reportTexts = Texts{
	// Column and figure names of the report tables and exports.
	"reports:label.roster":                     {"名单人数", "Roster"},
	"reports:label.excused":                    {"请假", "Excused"},
	"reports:label.eligible":                   {"应到人数", "Eligible"},
	"reports:label.checked_in":                 {"已签到", "Checked in"},
	"reports:label.on_time":                    {"准时", "On time"},
	"reports:label.late":                       {"迟到", "Late"},
	"reports:label.makeup":                     {"补签", "Make-up"},
	"reports:label.checkin_rate":               {"签到率", "Check-in rate"},
	"reports:label.low_checkin":                {"签到率偏低", "Low check-in"},
	"reports:label.deliveries":                 {"推送", "Deliveries"},
	"reports:label.sent":                       {"成功", "Sent"},
	"reports:label.failed":                     {"失败", "Failed"},
	"reports:label.dropped":                    {"丢弃", "Dropped"},
	"reports:label.pending":                    {"待发", "Pending"},
	"reports:label.clicks":                     {"点击", "Clicks"},
	"reports:label.clickers":                   {"点击人数", "Clickers"},
	"reports:label.click_through":              {"点击率", "CTR"},
	"reports:label.conversions":                {"转化", "Conv."},
	"reports:label.conversion_rate":            {"转化率", "Conv. rate"},
	"reports:label.top_error":                  {"最常见错误", "Top error"},
	"reports:label.top_error_code":             {"错误码", "Error code"},
	"reports:label.top_error_message":          {"错误信息", "Error message"},
	"reports:label.top_error_count":            {"次数", "Count"},
	"reports:label.label":                      {"名称", "Label"},
	"reports:label.session_id":                 {"场次编号", "Session"},
	"reports:label.course_code":                {"课程代码", "Course code"},
	"reports:label.course_title":               {"课程名称", "Course"},
	"reports:label.session_title":              {"场次名称", "Session title"},
	"reports:label.starts_at":                  {"开课时间", "Starts at"},
	"reports:label.ends_at":                    {"下课时间", "Ends at"},
	"reports:label.time_zone":                  {"时区", "Time zone"},
	"reports:label.location":                   {"地点", "Place"},
	"reports:label.teacher":                    {"讲师", "Teacher"},
	"reports:label.window_opens":               {"签到开放", "Check-in opens"},
	"reports:label.window_on_time_until":       {"准时截止", "On time until"},
	"reports:label.window_late_until":          {"迟到截止", "Late until"},
	"reports:label.window_makeup_until":        {"补签截止", "Make-up until"},
	"reports:label.attribution_window_seconds": {"归因窗口（秒）", "Attribution window (s)"},
	"reports:label.generated_at":               {"生成时间", "Generated at"},
	"reports:label.id":                         {"ID", "ID"},
	"reports:label.touchpoint_id":              {"推送ID", "Touchpoint"},
	"reports:label.kind":                       {"类型", "Kind"},
	"reports:label.audience":                   {"受众", "Audience"},
	"reports:label.status":                     {"状态", "Status"},
	"reports:label.run_at":                     {"计划时间", "Run at"},
	"reports:label.fired_at":                   {"触发时间", "Fired at"},
	"reports:label.platform":                   {"平台", "Platform"},
	"reports:label.external_id":                {"工号", "Employee ID"},
	"reports:label.name":                       {"姓名", "Name"},
	"reports:label.department":                 {"部门", "Department"},
	"reports:label.enrollment":                 {"报名状态", "Enrollment"},
	"reports:label.checkin_kind":               {"签到类型", "Check-in"},
	"reports:label.checked_in_at":              {"签到时间", "Checked in at"},
	"reports:label.checkin_source":             {"签到方式", "Source"},
	"reports:label.missing":                    {"未签到", "Missing"},
	"reports:label.metric":                     {"指标", "Metric"},
	"reports:label.value":                      {"数值", "Value"},
	"reports:label.n":                          {"n", "n"},
	"reports:label.definition":                 {"定义", "Definition"},
	"reports:definition.roster": {
		"名单人数：本场次报名记录中状态不是“已取消”的人数。公式：count(报名, 状态 ≠ 已取消)",
		"Roster: enrollments of this session that are not cancelled. Formula: count(enrollments, status ≠ cancelled)",
	},
	"reports:definition.excused": {
		"请假人数：名单中状态为“请假”的人数。公式：count(报名, 状态 = 请假)",
		"Excused: roster entries with status excused. Formula: count(enrollments, status = excused)",
	},
	"reports:definition.eligible": {
		"应到人数：名单人数减去请假人数。公式：应到 = 名单 − 请假",
		"Eligible: roster minus excused. Formula: eligible = roster − excused",
	},
	"reports:definition.checked_in": {
		"已签到人数：应到人员中有签到记录的不同人数；请假、已取消和不在名单上的人的签到不计入。公式：count(distinct 应到人员 with 签到)",
		"Checked in: distinct eligible people with a check-in; check-ins of excused, cancelled or unenrolled people are not counted. Formula: count(distinct eligible with check-in)",
	},
	"reports:definition.on_time": {
		"准时签到：已签到人数中签到类型为“准时”的人数（签到开放时间至开课时间+宽限期之间签到）。分母 n = 应到人数",
		"On time: checked-in people whose check-in kind is on_time (between check-in opening and start + grace). n = eligible",
	},
	"reports:definition.late": {
		"迟到签到：已签到人数中签到类型为“迟到”的人数（开课宽限期后至下课之间签到）。分母 n = 应到人数",
		"Late: checked-in people whose check-in kind is late (after start + grace, up to the end). n = eligible",
	},
	"reports:definition.makeup": {
		"补签：已签到人数中签到类型为“补签”的人数（下课后至补签截止之间签到）。分母 n = 应到人数",
		"Make-up: checked-in people whose check-in kind is makeup (after the end, up to end + make-up window). n = eligible",
	},
	"reports:definition.checkin_rate": {
		"签到率：已签到人数占应到人数的百分比，保留 1 位小数；应到人数为 0 时不计算。公式：签到率 = 100 × 已签到人数 ÷ (名单人数 − 请假人数)，n = 应到人数",
		"Check-in rate: checked-in people as a percentage of eligible people, one decimal; not computed when eligible is 0. Formula: 100 × checked in ÷ (roster − excused), n = eligible",
	},
	"reports:definition.low_checkin": {
		"签到率偏低：签到率低于 50% 时标记，需立即复盘（精确比较：已签到人数 × 2 < 应到人数；应到人数为 0 时不标记）",
		"Low check-in: flagged for immediate review when the check-in rate is below 50% (exactly: 2 × checked in < eligible; never when eligible is 0)",
	},
	"reports:definition.windows": {
		"签到窗口：开放 = 开课 − 提前开放秒数；准时截止 = 开课 + 宽限秒数；迟到截止 = 下课；补签截止 = 下课 + 补签秒数",
		"Check-in windows: opens = start − opens-before seconds; on time until = start + grace seconds; late until = end; make-up until = end + make-up seconds",
	},
	"reports:definition.deliveries": {
		"推送总数：该推送生成的投递记录数（每位收件人每次触发一条）",
		"Deliveries: delivery rows of the push (one per recipient and occurrence)",
	},
	"reports:definition.sent": {
		"发送成功：状态为“已发送”的投递数，即点击率和转化率的分母",
		"Sent: deliveries with status sent; the denominator of click-through and conversion",
	},
	"reports:definition.failed": {
		"发送失败：平台返回错误、状态为“失败”的投递数",
		"Failed: deliveries with status failed (the platform returned an error)",
	},
	"reports:definition.dropped": {
		"已丢弃：未发送即放弃、状态为“丢弃”的投递数",
		"Dropped: deliveries given up without sending (status dropped)",
	},
	"reports:definition.pending": {
		"待发送：状态为“待发送”或“发送中”的投递数",
		"Pending: deliveries with status pending or sending",
	},
	"reports:definition.top_error": {
		"最常见错误：某平台失败或丢弃的投递中出现次数最多的错误码与错误信息（次数相同取错误码较小者）",
		"Top error: the most frequent error code and message among a platform's failed or dropped deliveries (ties go to the smaller code)",
	},
	"reports:definition.clicks": {
		"点击次数：该推送的追踪链接被打开的总次数，同一人多次点击都计入",
		"Clicks: every open of the push's tracked links, repeated clicks included",
	},
	"reports:definition.clickers": {
		"点击人数：点击过该推送链接的不同员工数（匿名问卷链接的点击不记录是谁，只计入点击次数）",
		"Clickers: distinct employees who clicked the push's links (clicks on anonymous survey links record no person and count as clicks only)",
	},
	"reports:definition.click_through": {
		"点击率：点击人数占发送成功数的百分比。公式：点击率 = 100 × 点击人数 ÷ 发送成功数，n = 发送成功数",
		"Click-through rate: distinct clickers as a percentage of sent deliveries. Formula: 100 × clickers ÷ sent, n = sent",
	},
	"reports:definition.conversions": {
		"转化人数：点击该推送链接后 %s内签到的不同应到人员数；签到前点击过多条推送时，只归功于签到前最后点击的那条（最后一次点击须在 %s内）",
		"Conversions: distinct eligible recipients who checked in within %s after clicking the push; when several pushes were clicked, only the last one clicked before the check-in gets the credit (and only if that click is within %s)",
	},
	"reports:definition.conversion_rate": {
		"转化率：转化人数占发送成功数的百分比（归因窗口 %s，归功于签到前最后点击的推送）。公式：转化率 = 100 × 转化人数 ÷ 发送成功数，n = 发送成功数",
		"Conversion rate: conversions as a percentage of sent deliveries (attribution window %s, credit to the last push clicked before the check-in). Formula: 100 × conversions ÷ sent, n = sent",
	},
	// An attribution window in words.
	"reports:window.hour":  {"%d 小时", "%d hour"},
	"reports:window.hours": {"%d 小时", "%d hours"},
	"reports:window.other": {"%s", "%s"},
	// The plain-text session report (SessionReport.WriteTable).
	"reports:table.title":          {"场次报告", "Session report"},
	"reports:table.course":         {"课程：", "Course: "},
	"reports:table.time":           {"时间：", "Time: "},
	"reports:table.place":          {"地点：", "Place: "},
	"reports:table.teacher":        {"讲师：", "Teacher: "},
	"reports:table.status":         {"状态：", "Status: "},
	"reports:table.windows":        {"签到窗口：", "Check-in windows: "},
	"reports:table.opens":          {"开放", "opens"},
	"reports:table.on_time_until":  {"准时截止", "on time until"},
	"reports:table.late_until":     {"迟到截止", "late until"},
	"reports:table.makeup_until":   {"补签截止", "make-up until"},
	"reports:table.generated":      {"生成时间：", "Generated: "},
	"reports:table.no_touchpoints": {"（无推送）", "(no touchpoints)"},
	"reports:table.by_platform":    {"按平台", "By platform"},
	"reports:table.touchpoints":    {"推送（点击率、转化率的 n = 发送成功数；归因窗口 %s，归功于签到前最后点击的推送）", "Touchpoints (n of CTR and conversion = sent; attribution window %s, credit to the last push clicked before check-in)"},
	"reports:table.missing":        {"未签到名单（%d 人）", "Not checked in (%d)"},
	"reports:table.excused":        {"请假（%d 人）", "Excused (%d)"},
	"reports:table.warning":        {"⚠ 警告：签到率 %s%%（已签到 %d / 应到 %d）低于 50%%，需立即复盘。", "⚠ WARNING: check-in rate %s%% (%d of %d eligible) is below 50%% — review this session now."},
	// What counted as present and where the check-ins came from (a session
	// report's definitions).
	"reports:definition.checkin_rate_present": {"%s；%s", "%s %s"},
	"reports:present.any": {
		"到场口径：本场未要求现场签到，任一来源的签到均计为到场。",
		"Counted as present: this session does not require on-site check-in, so a check-in from any source counts.",
	},
	"reports:present.onsite": {
		"到场口径：本场要求现场签到，仅扫码（qr）、房间码（room_code）和代签（manual）计为到场并计入签到率；卡片、链接签到记为远程（remote），不计入已签到人数和签到率。",
		"Counted as present: this session requires on-site check-in, so only qr, room_code and manual check-ins count as present and in the check-in rate; card and link check-ins are reported as remote and not counted.",
	},
	"reports:definition.checkin_sources": {
		"签到来源：卡片（card，推送卡片上点击签到）、链接（link，/c/ 签到页）、扫码（qr，会场投影的轮换二维码，在企业微信/飞书/钉钉内扫码并由应用确认身份）、房间码（room_code，扫码失败时输入投影上的 4 位码）、代签（manual，班主任在运营台代签）、远程（remote）。每人只计一条签到。",
		"Check-in sources: card (a tap on the pushed card), link (the /c/ check-in page), qr (the venue's rotating QR code, scanned inside WeCom/Feishu/DingTalk with the app confirming who scans), room_code (the 4-digit code on the projector when scanning fails), manual (a coordinator in the console), remote. One check-in per person.",
	},
	"reports:definition.remote": {
		"远程签到：要求现场签到的场次中，以卡片、链接或远程方式签到、未到场扫码的应到人数。未要求现场签到时为 0。",
		"Remote: eligible people of a session that requires on-site check-in who checked in by card, link or remotely without proof of presence; 0 when on-site check-in is not required.",
	},
	// A course report's definitions.
	"reports:definition.course_low_checkin": {"签到率低于 50% 的场次标记为需立即复盘", "Sessions with a check-in rate below 50% are flagged for an immediate review"},
	"reports:definition.pooled": {
		"课程汇总：把各场次（已取消的除外）课后反馈中每题的全部回答合并后计算（不是各场次结果的平均），n 为合并后的回答数",
		"Course pool: every answer to each question of the sessions' feedback (cancelled sessions left out) pooled and computed once (not an average of the sessions' results); n is the number of pooled answers",
	},
	"reports:definition.cancelled": {
		"已取消的场次列出并标为“已取消”，不计算签到率、不标记低签到率，其反馈不计入课程汇总",
		"A cancelled session is listed as cancelled: no check-in rate, never flagged as low, and its feedback is left out of the pooled figures",
	},
	// A survey report's definitions and notes.
	"reports:note.more_responses": {"应答人数 %d 多于送达人数 %d：以应答人数为分母", "%d responses but %d deliveries: the responses are the denominator"},
	"reports:definition.departments": {
		"按部门细分：仅显示回答人数不少于 %d 人的部门，人数更少的部门只标注“已隐藏”，不显示任何数字；部门中的每个数字按它自己的 n 判断，n 不足 %d 的数字同样隐藏；部门取回答时的部门",
		"By department: only departments with at least %d respondents are shown, smaller ones are marked hidden without any figure; each figure of a department is judged on its own n and hidden below %d too; the department is the one at the time of answering",
	},
	"reports:definition.departments_anonymous": {
		"。匿名问卷只在部门的应答人数（问卷送达的在职员工）不少于 %d 人时记录部门，其余回答合并为“其他”",
		". An anonymous survey records the department only where at least %d active employees received it; the other answers are pooled as “other”",
	},
	"reports:definition.csat_mean": {
		"部门满意度均值：该部门回答者对所有 1–5 分满意度题的全部回答的平均值；n = 该部门至少回答了一道满意度题的人数，n < %d 时不显示",
		"Department CSAT mean: the mean of every 1–5 rating answer given by the department's respondents, over all rating questions; n = respondents of the department who answered at least one rating question; not shown when n < %d",
	},
	"reports:definition.answers": {
		"每题的 n 为回答了该题的人数（含未完成问卷中已作答的题）；跳过的题不计入分母",
		"Each question's n is the people who answered it (answers of unfinished responses included); a skipped question is not in its denominator",
	},
	"reports:department.none":  {"（未填部门）", "(no department)"},
	"reports:department.other": {"（其他：未填或应答人数少于 %d 的部门）", "(other: no department, or departments with fewer than %d respondents)"},
	// The teachers' certification rule and why a teacher loses it.
	"reports:teacher.rule": {
		"保留认证：%d 年内授课至少 %d 次，每次签到学员不少于 %d 人，且每次讲师满意度均分不低于 %.1f（满分 5）",
		"Keeping the certification: in %d, at least %d sessions taught, each with at least %d learners checked in and a teacher-satisfaction mean of at least %.1f (of 5)",
	},
	"reports:teacher.too_few_sessions": {"授课 %d 次，少于 %d 次", "%d sessions taught, fewer than %d"},
	"reports:teacher.too_few_learners": {"%s 场次 #%d 学员 %d 人，少于 %d 人", "%s session #%d: %d learners, fewer than %d"},
	"reports:teacher.no_rating":        {"%s 场次 #%d 没有讲师评分", "%s session #%d: no teacher rating"},
	"reports:teacher.low_rating":       {"%s 场次 #%d 讲师评分 %s（n = %d），低于 %.1f", "%s session #%d: teacher rating %s (n = %d), below %.1f"},
}
