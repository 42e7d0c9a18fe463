package reports

import (
	"fmt"
	"strings"
	"time"
)

// definition is one figure's meaning in plain words and its formula.
type definition struct{ zh, en string }

// definitionKeys lists the figures in the order reports show them.
var definitionKeys = []string{
	"roster", "excused", "eligible", "checked_in", "on_time", "late", "makeup",
	"checkin_rate", "low_checkin", "windows",
	"deliveries", "sent", "failed", "dropped", "pending", "top_error",
	"clicks", "clickers", "click_through", "conversions", "conversion_rate",
}

func definitionOf(key string, window time.Duration) definition {
	h := formatWindow(window)
	switch key {
	case "roster":
		return definition{
			"名单人数：本场次报名记录中状态不是“已取消”的人数。公式：count(报名, 状态 ≠ 已取消)",
			"Roster: enrollments of this session that are not cancelled. Formula: count(enrollments, status ≠ cancelled)",
		}
	case "excused":
		return definition{
			"请假人数：名单中状态为“请假”的人数。公式：count(报名, 状态 = 请假)",
			"Excused: roster entries with status excused. Formula: count(enrollments, status = excused)",
		}
	case "eligible":
		return definition{
			"应到人数：名单人数减去请假人数。公式：应到 = 名单 − 请假",
			"Eligible: roster minus excused. Formula: eligible = roster − excused",
		}
	case "checked_in":
		return definition{
			"已签到人数：应到人员中有签到记录的不同人数；请假、已取消和不在名单上的人的签到不计入。公式：count(distinct 应到人员 with 签到)",
			"Checked in: distinct eligible people with a check-in; check-ins of excused, cancelled or unenrolled people are not counted. Formula: count(distinct eligible with check-in)",
		}
	case "on_time":
		return definition{
			"准时签到：已签到人数中签到类型为“准时”的人数（签到开放时间至开课时间+宽限期之间签到）。分母 n = 应到人数",
			"On time: checked-in people whose check-in kind is on_time (between check-in opening and start + grace). n = eligible",
		}
	case "late":
		return definition{
			"迟到签到：已签到人数中签到类型为“迟到”的人数（开课宽限期后至下课之间签到）。分母 n = 应到人数",
			"Late: checked-in people whose check-in kind is late (after start + grace, up to the end). n = eligible",
		}
	case "makeup":
		return definition{
			"补签：已签到人数中签到类型为“补签”的人数（下课后至补签截止之间签到）。分母 n = 应到人数",
			"Make-up: checked-in people whose check-in kind is makeup (after the end, up to end + make-up window). n = eligible",
		}
	case "checkin_rate":
		return definition{
			"签到率：已签到人数占应到人数的百分比，保留 1 位小数；应到人数为 0 时不计算。公式：签到率 = 100 × 已签到人数 ÷ (名单人数 − 请假人数)，n = 应到人数",
			"Check-in rate: checked-in people as a percentage of eligible people, one decimal; not computed when eligible is 0. Formula: 100 × checked in ÷ (roster − excused), n = eligible",
		}
	case "low_checkin":
		return definition{
			"签到率偏低：签到率低于 50% 时标记，需立即复盘（精确比较：已签到人数 × 2 < 应到人数；应到人数为 0 时不标记）",
			"Low check-in: flagged for immediate review when the check-in rate is below 50% (exactly: 2 × checked in < eligible; never when eligible is 0)",
		}
	case "windows":
		return definition{
			"签到窗口：开放 = 开课 − 提前开放秒数；准时截止 = 开课 + 宽限秒数；迟到截止 = 下课；补签截止 = 下课 + 补签秒数",
			"Check-in windows: opens = start − opens-before seconds; on time until = start + grace seconds; late until = end; make-up until = end + make-up seconds",
		}
	case "deliveries":
		return definition{
			"推送总数：该推送生成的投递记录数（每位收件人每次触发一条）",
			"Deliveries: delivery rows of the push (one per recipient and occurrence)",
		}
	case "sent":
		return definition{
			"发送成功：状态为“已发送”的投递数，即点击率和转化率的分母",
			"Sent: deliveries with status sent; the denominator of click-through and conversion",
		}
	case "failed":
		return definition{
			"发送失败：平台返回错误、状态为“失败”的投递数",
			"Failed: deliveries with status failed (the platform returned an error)",
		}
	case "dropped":
		return definition{
			"已丢弃：未发送即放弃、状态为“丢弃”的投递数",
			"Dropped: deliveries given up without sending (status dropped)",
		}
	case "pending":
		return definition{
			"待发送：状态为“待发送”或“发送中”的投递数",
			"Pending: deliveries with status pending or sending",
		}
	case "top_error":
		return definition{
			"最常见错误：某平台失败或丢弃的投递中出现次数最多的错误码与错误信息（次数相同取错误码较小者）",
			"Top error: the most frequent error code and message among a platform's failed or dropped deliveries (ties go to the smaller code)",
		}
	case "clicks":
		return definition{
			"点击次数：该推送的追踪链接被打开的总次数，同一人多次点击都计入",
			"Clicks: every open of the push's tracked links, repeated clicks included",
		}
	case "clickers":
		return definition{
			"点击人数：点击过该推送链接的不同员工数（匿名问卷链接的点击不记录是谁，只计入点击次数）",
			"Clickers: distinct employees who clicked the push's links (clicks on anonymous survey links record no person and count as clicks only)",
		}
	case "click_through":
		return definition{
			"点击率：点击人数占发送成功数的百分比。公式：点击率 = 100 × 点击人数 ÷ 发送成功数，n = 发送成功数",
			"Click-through rate: distinct clickers as a percentage of sent deliveries. Formula: 100 × clickers ÷ sent, n = sent",
		}
	case "conversions":
		return definition{
			fmt.Sprintf("转化人数：点击该推送链接后 %s内签到的不同应到人员数；签到前点击过多条推送时，只归功于签到前最后点击的那条（最后一次点击须在 %s内）", h.zh, h.zh),
			fmt.Sprintf("Conversions: distinct eligible recipients who checked in within %s after clicking the push; when several pushes were clicked, only the last one clicked before the check-in gets the credit (and only if that click is within %s)", h.en, h.en),
		}
	case "conversion_rate":
		return definition{
			fmt.Sprintf("转化率：转化人数占发送成功数的百分比（归因窗口 %s，归功于签到前最后点击的推送）。公式：转化率 = 100 × 转化人数 ÷ 发送成功数，n = 发送成功数", h.zh),
			fmt.Sprintf("Conversion rate: conversions as a percentage of sent deliveries (attribution window %s, credit to the last push clicked before the check-in). Formula: 100 × conversions ÷ sent, n = sent", h.en),
		}
	}
	return definition{}
}

// figureDefinition is the bilingual text carried by a Figure.
func figureDefinition(key string, window time.Duration) string {
	d := definitionOf(key, window)
	return d.zh + " | " + d.en
}

// definitionsZH returns every figure's zh-CN definition by key.
func definitionsZH(window time.Duration) map[string]string {
	m := make(map[string]string, len(definitionKeys))
	for _, k := range definitionKeys {
		m[k] = definitionOf(k, window).zh
	}
	return m
}

type windowText struct{ zh, en string }

func formatWindow(d time.Duration) windowText {
	if d <= 0 {
		d = DefaultAttributionWindow
	}
	if d%time.Hour == 0 {
		h := int64(d / time.Hour)
		unit := "hours"
		if h == 1 {
			unit = "hour"
		}
		return windowText{fmt.Sprintf("%d 小时", h), fmt.Sprintf("%d %s", h, unit)}
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	return windowText{s, s}
}
