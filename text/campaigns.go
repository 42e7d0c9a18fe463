package text

// campaignTexts are the words a campaign card adds to what its author
// wrote (package campaigns).
var campaignTexts = Texts{
	"campaigns:picture":         {"图片", "Picture"},
	"campaigns:button.course":   {"去学习", "Start the course"},
	"campaigns:button.live":     {"进入直播", "Join the live stream"},
	"campaigns:button.exam":     {"去考试", "Take the exam"},
	"campaigns:button.document": {"查看资料", "Open the document"},
	// The meanings of a campaign report's figures (campaigns.Definition).
	"campaigns:definition.deliveries": {
		"推送总数：本活动各版本生成的投递记录数（每人每次发送一条）；发送成功、失败（含丢弃）、待发送分列",
		"Deliveries: delivery rows of the campaign's variants (one per person and occurrence), split into sent, failed (incl. dropped) and pending",
	},
	"campaigns:definition.delivered": {
		"送达人数：至少有一条“已发送”投递的不同员工数，即点击率和转化率的分母 n",
		"Delivered: distinct employees with at least one sent delivery; the n of click-through and conversion",
	},
	"campaigns:definition.clickers": {
		"点击人数：点击过本活动推送中任一追踪链接的不同员工数（同一人多次点击计 1 人；点击次数另列）",
		"Clickers: distinct employees who opened any tracked link of the campaign's pushes (repeat clicks count once; clicks are listed apart)",
	},
	"campaigns:definition.converted": {
		"转化人数：发生转化事件“%s”、且该转化归功于本活动推送的不同员工数。归因规则：转化前最后一次点击的推送（任何推送，含课程提醒）获得全部功劳，且这次点击须在转化前 %g 小时内；点击时间相同按推送编号较大者",
		"Converted: distinct employees with a conversion of event %q credited to this campaign. Credit goes to the last push (any push, class reminders included) clicked at or before the conversion, if that click is within %g hours before it; ties on the click time go to the higher touchpoint id",
	},
	"campaigns:definition.click_through": {
		"点击率：100 × 点击人数 ÷ 送达人数，保留 1 位小数，n = 送达人数",
		"Click-through: 100 × clickers ÷ delivered, one decimal, n = delivered",
	},
	"campaigns:definition.conversion_rate": {
		"转化率：100 × 转化人数 ÷ 送达人数，n = 送达人数",
		"Conversion rate: 100 × converted ÷ delivered, n = delivered",
	},
	"campaigns:definition.click_to_conversion": {
		"点击后转化率：100 × 转化人数 ÷ 点击人数，n = 点击人数",
		"Click-to-conversion: 100 × converted ÷ clickers, n = clickers",
	},
	"campaigns:definition.departments": {
		"按部门：员工当前所在部门；送达人数少于 %d 人的部门只标注“已隐藏”，不显示任何数字",
		"By department: the employee's current department; departments with fewer than %d delivered are marked suppressed and show no figure",
	},
	"campaigns:definition.platforms": {
		"按平台：投递所用的平台",
		"By platform: the platform of the delivery",
	},
	"campaigns:definition.hours": {
		"按小时、按星期：投递发送时间在活动时区（%s）中的小时（00–23）和星期（1 = 周一 … 7 = 周日）；未发送的投递不计入",
		"By hour and weekday: the hour (00–23) and weekday (1 = Monday … 7 = Sunday) of the delivery's send time in the campaign's zone (%s); unsent deliveries are not counted",
	},
	"campaigns:definition.via_push_share": {
		"经推送转化占比：期间内事件“%s”的全部转化中归功于任一推送的比例。公式：100 × 归功于推送的转化数 ÷ 全部转化数，n = 全部转化数（按事件编号计，不去重人）；本活动占比同理",
		"Share via push: of all conversions of event %q in the period, the share credited to any push. Formula: 100 × conversions credited to a push ÷ all conversions, n = all conversions (by event id, not de-duplicated by person); the campaign's share likewise",
	},
	"campaigns:definition.experiment": {
		"实验：每人按活动与员工编号的 HMAC 稳定分配到一个版本（按权重），分配在首次发送时记录且不再改变。各版本与第一个版本（对照组）比较点击率和转化率：差值（百分点）及其 95%% 置信区间（正态近似，非合并标准误），双侧两比例 z 检验的 p 值（合并标准误）；任一格（某版本的成功或未成功人数）少于 5 时改用 Newcombe–Wilson 区间和 Fisher 精确检验（方法标为“精确”）；每个版本送达不少于 %d 人前显示“数据不足”",
		"Experiment: each person is assigned to one variant, by weight, from an HMAC of campaign and employee id; the assignment is recorded when first sent and never changes. Each variant is compared with the first (the control) on click-through and conversion: the difference in percentage points with its 95%% confidence interval (normal approximation, unpooled standard error) and the two-sided p-value of the two-proportion z-test (pooled standard error); when a cell (a variant's successes or failures) is under 5, Newcombe's interval from the Wilson intervals and Fisher's exact test instead (method \"exact\"); \"not enough data yet\" until every variant has %d people delivered",
	},
	"campaigns:definition.send_time": {
		"学习得出的发送时间：读取过去 %d 天内已发送的定向推送和课程提醒（课前提醒、补签提醒、自定义通知；不含签到提醒——它在开课时被点，与发送时段无关；不含问卷推送），每条投递一次，按发送时间在所选时区中的小时（00–23）分组；“打开”= 收件人首次点击卡片中的跟踪链接，或从该卡片签到（点按钮或卡片里的签到链接），取较早者；“快速打开率”= 100 × 发送后 %d 分钟内首次打开的投递数 ÷ 该小时已发送的投递数，n = 该小时已发送数（另列首次打开的中位分钟数）。平台的“已读”不可得，因此未被点击的卡片不算打开。窗口按小时切分（第一段从窗口开始），去掉免打扰时段和节假日；在已发送数不少于 %d 的小时中选快速打开率最高者（相同取较早者）。窗口内可比较的小时少于 2 个、或窗口全在免打扰时段时，使用设定的时间。要证明它有效，请用“固定时间 vs 学习时间”的 A/B 实验",
		"Learned send time: the sent campaign pushes and class reminders (reminders, make-up reminders, custom notices; not check-in prompts, which are tapped when the class starts whatever hour they were sent, nor survey pushes) of the last %d days, each delivery once, grouped by the hour (00–23) of their send time in the chosen zone; an open = the recipient's first click on a tracked link of the card or a check-in made from the card (its button or its check-in link), whichever is earlier; quick-open rate = 100 × deliveries first opened within %d minutes of sending ÷ the hour's sent deliveries, n = the hour's sent deliveries (the median minutes to the first open listed beside). Platforms do not tell when a card was read, so a card nobody tapped does not count as opened. The window is cut into hour slots (the first starts at the window's start), slots in quiet hours or on holidays are left out, and among the hours with at least %d sent the highest quick-open rate wins (ties: the earlier). With fewer than two comparable hours in the window, or no allowed slot, the configured time is used. To show that it helps, run a fixed-time vs learned-time A/B test",
	},
}
