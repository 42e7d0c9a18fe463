package text

// experimentTexts are an A/B experiment's state, for campaigns and class
// touchpoints alike (package experiment).
var experimentTexts = Texts{
	"experiment:not_enough": {
		"数据不足：每个版本至少需要 %d 人才显示比较结果（目前最少的版本为 %d 人）",
		"Not enough data yet: every variant needs %d people before the comparison is shown (the smallest has %d)",
	},
	"experiment:enough": {"样本量已达到", "Minimum sample reached"},
	"experiment:anonymous": {
		"匿名问卷：不记录谁完成了问卷，无法按版本计算结果率，不作比较",
		"Anonymous survey: who completed it is not recorded, so no rate per variant can be computed and nothing is compared",
	},
	"experiment:method_exact": {
		"标为“精确”的比较有少于 5 人的格：区间为 Newcombe–Wilson 区间，p 值为 Fisher 精确检验",
		"Comparisons marked exact have a cell under 5: the interval is Newcombe–Wilson's and p is Fisher's exact test",
	},
	"experiment:warning": {
		"请在实验开始前确定样本量，达到后再下结论；不要因为中途看到显著结果就提前停止——反复查看并提前停止会大大增加误判的概率。",
		"Decide the sample size before the experiment starts and judge only once it is reached; do not stop early because an interim look seems significant — peeking and stopping early greatly inflates false positives.",
	},
	// A class touchpoint experiment's definitions (reports.Experiment).
	"experiment:definition": {
		"课程推送实验：每人按推送与员工编号的 HMAC 稳定分配到一个版本（A–D，按权重），分配在写入其投递记录时记录，之后每次发送、每个副本和报表都读取这条记录。每个版本与 A（对照组）比较结果率：差值（百分点）及其 95%% 置信区间（正态近似，非合并标准误），双侧两比例 z 检验的 p 值（合并标准误）；任一格（某版本的成功或未成功人数）少于 5 时改用 Newcombe–Wilson 区间和 Fisher 精确检验（方法标为“精确”）；每个版本送达不少于 %d 人前显示“数据不足”",
		"Class push experiment: each person is assigned to one variant (A–D, by weight) from an HMAC of touchpoint and employee id; the assignment is recorded when their delivery row is written, and every later send, replica and report reads that record. Each variant is compared with A (the control) on its outcome rate: the difference in percentage points with its 95%% confidence interval (normal approximation, unpooled standard error) and the two-sided p-value of the two-proportion z-test (pooled standard error); when a cell (a variant's successes or failures) is under 5, Newcombe's interval from the Wilson intervals and Fisher's exact test instead (method \"exact\"); \"not enough data yet\" until every variant has %d people delivered",
	},
	"experiment:outcome.checked_in": {
		"结果率（签到提醒、补签提醒）：100 × 已签到（本期课程任一签到记录）的送达人数 ÷ 送达人数（本推送至少一条“已发送”投递的不同员工），保留 1 位小数；每个版本至少 %d 人才比较",
		"Outcome rate (check-in prompts, make-up reminders): 100 × delivered people who checked in to the session (any check-in row) ÷ delivered people (distinct employees with a sent delivery of this push), one decimal; compared once every variant has %d",
	},
	"experiment:outcome.clicked_or_checked_in": {
		"结果率（课前提醒、自定义通知）：100 × 点击了本推送任一追踪链接或已签到本期课程的送达人数 ÷ 送达人数，保留 1 位小数；每个版本至少 %d 人才比较",
		"Outcome rate (reminders, custom notices): 100 × delivered people who clicked a tracked link of this push or checked in to the session ÷ delivered people, one decimal; compared once every variant has %d",
	},
	"experiment:outcome.responded": {
		"结果率（问卷推送）：100 × 完成了该问卷的送达人数 ÷ 送达人数，保留 1 位小数；每个版本至少 %d 人才比较。匿名问卷不记录谁完成了问卷，结果率显示为“不适用（匿名）”，不作比较",
		"Outcome rate (survey cards): 100 × delivered people who completed the survey ÷ delivered people, one decimal; compared once every variant has %d. An anonymous survey does not record who completed it: the rate shows \"n/a (anonymous)\" and is not compared",
	},
	// The experiment's tables (reports.Experiment.Tables).
	"experiment:label.title":                        {"推送 #%d 的 A/B 实验（结果：%s）", "A/B experiment of push #%d (outcome: %s)"},
	"experiment:label.variant":                      {"版本", "Variant"},
	"experiment:label.copy":                         {"文案", "Copy"},
	"experiment:label.timing":                       {"发送时间", "Send time"},
	"experiment:label.run_at":                       {"计划发送", "Planned at"},
	"experiment:label.assigned":                     {"已分配", "Assigned"},
	"experiment:label.delivered":                    {"送达 n", "Delivered n"},
	"experiment:label.outcomes":                     {"结果人数", "Outcomes"},
	"experiment:label.rate":                         {"结果率 %", "Rate %"},
	"experiment:label.comparisons":                  {"与 %s（对照组）比较", "Compared with %s (the control)"},
	"experiment:label.diff":                         {"差值（百分点）", "Difference (points)"},
	"experiment:label.ci":                           {"95% 置信区间", "95% CI"},
	"experiment:label.significant":                  {"显著（p < 0.05）", "Significant (p < 0.05)"},
	"experiment:label.method":                       {"方法", "Method"},
	"experiment:label.na_anonymous":                 {"不适用（匿名）", "n/a (anonymous)"},
	"experiment:method.normal":                      {"正态近似", "normal"},
	"experiment:method.exact":                       {"精确", "exact"},
	"experiment:label.yes":                          {"是", "yes"},
	"experiment:label.no":                           {"否", "no"},
	"experiment:timing.same":                        {"推送设定时间", "the push's time"},
	"experiment:timing.offset":                      {"自己的固定时间", "its own fixed time"},
	"experiment:timing.best":                        {"学习得出的最佳时间", "the learned best time"},
	"experiment:outcome_name.checked_in":            {"已签到", "checked in"},
	"experiment:outcome_name.clicked_or_checked_in": {"点击或签到", "clicked or checked in"},
	"experiment:outcome_name.responded":             {"已答问卷", "responded"},
}
