package campaigns

import (
	"fmt"
	"time"

	"github.com/learnloop/learnloop/store"
)

// definitions are the meanings of a campaign report's figures, zh-CN and
// English, in report order.
func definitions(window time.Duration, c store.Campaign) []Definition {
	h := window.Hours()
	w := fmt.Sprintf("%g 小时", h)
	we := fmt.Sprintf("%g hours", h)
	return []Definition{
		{"deliveries", "推送总数：本活动各版本生成的投递记录数（每人每次发送一条）；发送成功、失败（含丢弃）、待发送分列",
			"Deliveries: delivery rows of the campaign's variants (one per person and occurrence), split into sent, failed (incl. dropped) and pending"},
		{"delivered", "送达人数：至少有一条“已发送”投递的不同员工数，即点击率和转化率的分母 n",
			"Delivered: distinct employees with at least one sent delivery; the n of click-through and conversion"},
		{"clickers", "点击人数：点击过本活动推送中任一追踪链接的不同员工数（同一人多次点击计 1 人；点击次数另列）",
			"Clickers: distinct employees who opened any tracked link of the campaign's pushes (repeat clicks count once; clicks are listed apart)"},
		{"converted", fmt.Sprintf("转化人数：发生转化事件“%s”、且该转化归功于本活动推送的不同员工数。归因规则：转化前最后一次点击的推送（任何推送，含课程提醒）获得全部功劳，且这次点击须在转化前 %s内；点击时间相同按推送编号较大者", c.Event, w),
			fmt.Sprintf("Converted: distinct employees with a conversion of event %q credited to this campaign. Credit goes to the last push (any push, class reminders included) clicked at or before the conversion, if that click is within %s before it; ties on the click time go to the higher touchpoint id", c.Event, we)},
		{"click_through", "点击率：100 × 点击人数 ÷ 送达人数，保留 1 位小数，n = 送达人数",
			"Click-through: 100 × clickers ÷ delivered, one decimal, n = delivered"},
		{"conversion_rate", "转化率：100 × 转化人数 ÷ 送达人数，n = 送达人数",
			"Conversion rate: 100 × converted ÷ delivered, n = delivered"},
		{"click_to_conversion", "点击后转化率：100 × 转化人数 ÷ 点击人数，n = 点击人数",
			"Click-to-conversion: 100 × converted ÷ clickers, n = clickers"},
		{"departments", fmt.Sprintf("按部门：员工当前所在部门；送达人数少于 %d 人的部门只标注“已隐藏”，不显示任何数字", c.MinGroupSize),
			fmt.Sprintf("By department: the employee's current department; departments with fewer than %d delivered are marked suppressed and show no figure", c.MinGroupSize)},
		{"platforms", "按平台：投递所用的平台", "By platform: the platform of the delivery"},
		{"hours", fmt.Sprintf("按小时、按星期：投递发送时间在活动时区（%s）中的小时（00–23）和星期（1 = 周一 … 7 = 周日）；未发送的投递不计入", c.TimeZone),
			fmt.Sprintf("By hour and weekday: the hour (00–23) and weekday (1 = Monday … 7 = Sunday) of the delivery's send time in the campaign's zone (%s); unsent deliveries are not counted", c.TimeZone)},
		{"via_push_share", fmt.Sprintf("经推送转化占比：期间内事件“%s”的全部转化中归功于任一推送的比例。公式：100 × 归功于推送的转化数 ÷ 全部转化数，n = 全部转化数（按事件编号计，不去重人）；本活动占比同理", c.Event),
			fmt.Sprintf("Share via push: of all conversions of event %q in the period, the share credited to any push. Formula: 100 × conversions credited to a push ÷ all conversions, n = all conversions (by event id, not de-duplicated by person); the campaign's share likewise", c.Event)},
		{"experiment", fmt.Sprintf("实验：每人按活动与员工编号的 HMAC 稳定分配到一个版本（按权重），分配在首次发送时记录且不再改变。各版本与第一个版本（对照组）比较点击率和转化率：差值（百分点）及其 95%% 置信区间（正态近似，非合并标准误），双侧两比例 z 检验的 p 值（合并标准误）；每个版本送达不少于 %d 人前显示“数据不足”", c.MinSample),
			fmt.Sprintf("Experiment: each person is assigned to one variant, by weight, from an HMAC of campaign and employee id; the assignment is recorded when first sent and never changes. Each variant is compared with the first (the control) on click-through and conversion: the difference in percentage points with its 95%% confidence interval (normal approximation, unpooled standard error) and the two-sided p-value of the two-proportion z-test (pooled standard error); \"not enough data yet\" until every variant has %d people delivered", c.MinSample)},
		SendTimeDefinition(),
	}
}

// SendTimeDefinition is the meaning of a learned send time (in every
// campaign report and beside an estimate).
func SendTimeDefinition() Definition {
	m := int(OpenWithin / time.Minute)
	return Definition{"send_time",
		fmt.Sprintf("学习得出的发送时间：读取过去 %d 天内已发送的定向推送（每条投递一次），按发送时间在活动时区中的小时（00–23）分组；“快速打开率”= 100 × 发送后 %d 分钟内首次点击的投递数 ÷ 该小时已发送的投递数，n = 该小时已发送数（另列首次点击的中位分钟数）。窗口按小时切分（第一段从窗口开始），去掉免打扰时段和节假日；在已发送数不少于 %d 的小时中选快速打开率最高者（相同取较早者）。窗口内可比较的小时少于 2 个、或窗口全在免打扰时段时，使用设定的时间。要证明它有效，请用“固定时间 vs 学习时间”的 A/B 实验",
			int(SendTimeLookback/(24*time.Hour)), m, DefaultMinPerHour),
		fmt.Sprintf("Learned send time: the sent campaign pushes of the last %d days (each delivery once), grouped by the hour (00–23) of their send time in the campaign's zone; quick-open rate = 100 × deliveries first clicked within %d minutes of sending ÷ the hour's sent deliveries, n = the hour's sent deliveries (the median minutes to the first click listed beside). The window is cut into hour slots (the first starts at the window's start), slots in quiet hours or on holidays are left out, and among the hours with at least %d sent the highest quick-open rate wins (ties: the earlier). With fewer than two comparable hours in the window, or no allowed slot, the configured time is used. To show that it helps, run a fixed-time vs learned-time A/B test",
			int(SendTimeLookback/(24*time.Hour)), m, DefaultMinPerHour)}
}
