package store

import "time"

// Digest frequencies.
const (
	// DigestWeekly is the weekly preset: every Monday at 09:00, about the
	// week before.
	DigestWeekly = "weekly"
	// DigestMonthly is the monthly preset: the 1st at 09:00, about the
	// month before.
	DigestMonthly = "monthly"
	// DigestCron is an advanced schedule: its own cron spec.
	DigestCron = "cron"
)

// CategoryDigest is the category of the course that carries the digest
// subscriptions' sessions; like the campaigns' course it is no class and
// stays out of the lists and the figures.
const CategoryDigest = "digest"

// CarrierCategories are the course categories that carry pushes rather
// than classes (campaigns, digests).
func CarrierCategories() []string { return []string{CategoryCampaign, CategoryDigest} }

// DigestSubscription is a console account's subscription to a digest card
// in chat: the period's classes, check-in and response rates, NPS/CSAT,
// open follow-ups and top campaigns, computed for the account's scope. It
// is carried by a session of its own (SessionID, in the digests course)
// whose one touchpoint (TouchpointID, kind "digest", the cron spec) is
// planned, fired and delivered like a class push: one delivery per
// occurrence, quiet hours applied, failures in delivery health.
type DigestSubscription struct {
	ID        uint64 `gorm:"primaryKey"`
	AccountID uint64 `gorm:"not null;index"`
	Frequency string `gorm:"size:16;not null"`
	CronSpec  string `gorm:"size:128;not null"`
	TimeZone  string `gorm:"size:64;not null"`
	// Platform is the chat app the card goes to; empty means the
	// employee's preferred platform (or the configured default).
	Platform     string `gorm:"size:16"`
	Locale       string `gorm:"size:8"`
	SessionID    uint64 `gorm:"not null;uniqueIndex"`
	TouchpointID uint64 `gorm:"not null;uniqueIndex"`
	CreatedBy    string `gorm:"size:128"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// TableName names the digest subscriptions' table.
func (DigestSubscription) TableName() string { return "digest_subscriptions" }

func digestModels() []any { return []any{&DigestSubscription{}} }
