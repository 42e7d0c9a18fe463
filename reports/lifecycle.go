package reports

import (
	"time"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// Stages of a session's life, derived from its times and its cancelled
// status by Stage (never stored: the stored status is planned or cancelled).
const (
	StageUpcoming   = "upcoming"    // 即将开始: before the start
	StageInProgress = "in_progress" // 进行中: from the start until the end
	StageFinished   = "finished"    // 已结束: from the end on
	StageCancelled  = "cancelled"   // 已取消
)

// Stage is where session s is at now: cancelled, upcoming (before its
// start), in progress (start ≤ now < end) or finished (from its end). The
// console, the API's course report and the demo show it; nothing stores it.
func Stage(s store.Session, now time.Time) string {
	switch {
	case s.Status == store.SessionCancelled:
		return StageCancelled
	case now.Before(s.StartsAt):
		return StageUpcoming
	case now.Before(s.EndsAt):
		return StageInProgress
	default:
		return StageFinished
	}
}

// StageLabel names a stage in loc (the stage.* texts the console shows).
func StageLabel(loc text.Locale, stage string) string { return text.Enum(loc, "stage", stage) }
