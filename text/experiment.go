package text

// experimentTexts are an A/B experiment's state, for campaigns and class
// touchpoints alike (package experiment).
var experimentTexts = Texts{
	"experiment:not_enough": {
		"数据不足：每个版本至少需要 %d 人才显示比较结果（目前最少的版本为 %d 人）",
		"Not enough data yet: every variant needs %d people before the comparison is shown (the smallest has %d)",
	},
	"experiment:enough": {"样本量已达到", "Minimum sample reached"},
	"experiment:warning": {
		"请在实验开始前确定样本量，达到后再下结论；不要因为中途看到显著结果就提前停止——反复查看并提前停止会大大增加误判的概率。",
		"Decide the sample size before the experiment starts and judge only once it is reached; do not stop early because an interim look seems significant — peeking and stopping early greatly inflates false positives.",
	},
}
