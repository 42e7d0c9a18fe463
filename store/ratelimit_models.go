package store

// RateLimit is one key of the shared rate limiter (package ratelimit): a
// GCRA band's theoretical arrival time, a counter (a daily quota) or both,
// plus a hold (the cooldown after a platform's frequency error) and its
// strike count. Times are Unix nanoseconds so every driver keeps them
// exact. ExpiresAt is when the row says nothing any more (a band whose
// arrival time has passed behaves exactly like a missing row); rows past it
// are pruned.
type RateLimit struct {
	Key       string `gorm:"column:rate_key;primaryKey;size:191"`
	TAT       int64  `gorm:"column:tat;not null;default:0"`
	Used      int64  `gorm:"column:used;not null;default:0"`
	HoldUntil int64  `gorm:"column:hold_until;not null;default:0"`
	Strikes   int    `gorm:"column:strikes;not null;default:0"`
	ExpiresAt int64  `gorm:"column:expires_at;not null;default:0;index"`
}

// TableName is rate_limits.
func (RateLimit) TableName() string { return "rate_limits" }

// rateLimitModels lists the tables of the shared rate limiter (migration 5).
func rateLimitModels() []any { return []any{&RateLimit{}} }
