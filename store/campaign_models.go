package store

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Campaign states.
const (
	CampaignScheduled = "scheduled"
	CampaignPaused    = "paused"
	CampaignCancelled = "cancelled"
)

// Campaign schedules.
const (
	ScheduleNow  = "now"
	ScheduleAt   = "at"
	ScheduleCron = "cron"
)

// Campaign is a targeted push (定向推送) of any learning content to an
// audience chosen by attributes. It is carried by a session of its own
// (SessionID, in the campaigns course) whose touchpoints are its variants, so
// it is planned, fired and delivered by the same machinery as a class push.
type Campaign struct {
	ID    uint64 `gorm:"primaryKey"`
	Name  string `gorm:"size:128;not null"`
	Title string `gorm:"size:255;not null"`
	Body  string `gorm:"type:text"`
	// ImageURL is an optional picture shown above the body.
	ImageURL string `gorm:"size:1024"`
	// Buttons is the JSON array of link buttons (kind, text, url), at most 4.
	Buttons string `gorm:"type:text"`
	// Audience is the JSON audience spec (include/exclude rules).
	Audience string `gorm:"type:text"`
	Schedule string `gorm:"size:8;not null"`
	// At is the send time of an "at" schedule (and of "now": when created).
	At       *time.Time
	CronSpec string `gorm:"size:128"`
	// WindowFrom and WindowTo bound a "best" schedule's learned send time
	// (migration 12); At is then the configured time it falls back to.
	WindowFrom *time.Time
	WindowTo   *time.Time
	TimeZone   string `gorm:"size:64;not null"`
	Locale     string `gorm:"size:8;not null"`
	// Event is the conversion event the campaign is judged on ("live_join").
	Event string `gorm:"size:64;not null;index"`
	// MinSample is the sent deliveries each variant needs before the
	// experiment's comparison is shown (数据不足 until then).
	MinSample int `gorm:"not null;default:100"`
	// MinGroupSize suppresses report groups (departments) with fewer sent.
	MinGroupSize int `gorm:"not null;default:5"`
	// SessionID is the carrier session whose touchpoints are the variants.
	SessionID uint64 `gorm:"not null;uniqueIndex"`
	Status    string `gorm:"size:16;not null;default:scheduled"`
	CreatedBy string `gorm:"size:128"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CampaignVariant is one arm of a campaign: its copy, buttons or send time
// override the campaign's; Weight is its share of the audience. Every
// campaign has at least one variant; each has its own touchpoint.
type CampaignVariant struct {
	ID         uint64 `gorm:"primaryKey"`
	CampaignID uint64 `gorm:"not null;uniqueIndex:ux_campaign_variant,priority:1"`
	Name       string `gorm:"size:32;not null;uniqueIndex:ux_campaign_variant,priority:2"`
	Weight     int    `gorm:"not null;default:1"`
	// Title, Body and Buttons override the campaign's when not empty.
	Title   string `gorm:"size:255"`
	Body    string `gorm:"type:text"`
	Buttons string `gorm:"type:text"`
	// At and CronSpec override the campaign's send time when set.
	At           *time.Time
	CronSpec     string `gorm:"size:128"`
	TouchpointID uint64 `gorm:"not null;uniqueIndex"`
	CreatedAt    time.Time
}

// TableName is campaign_variants.
func (CampaignVariant) TableName() string { return "campaign_variants" }

// CampaignAssignment records which variant a person was given: computed once
// from an HMAC of campaign and employee, stored the first time the audience
// is resolved, and kept.
type CampaignAssignment struct {
	CampaignID uint64    `gorm:"primaryKey;autoIncrement:false"`
	EmployeeID uint64    `gorm:"primaryKey;autoIncrement:false"`
	VariantID  uint64    `gorm:"not null;index"`
	AssignedAt time.Time `gorm:"not null"`
}

// TableName is campaign_assignments.
func (CampaignAssignment) TableName() string { return "campaign_assignments" }

// Conversion is one target action an outside system reported ("joined the
// live stream"), idempotent by EventID. The push it is credited to is
// decided when it is recorded and stored with it: the last push the person
// clicked at or before OccurredAt, if that click lies within WindowSeconds.
type Conversion struct {
	ID         uint64    `gorm:"primaryKey"`
	EventID    string    `gorm:"size:128;not null;uniqueIndex"`
	EmployeeID uint64    `gorm:"not null;index:ix_conversion_employee,priority:1"`
	Event      string    `gorm:"size:64;not null;index:ix_conversion_event,priority:1;index:ix_conversion_employee,priority:2"`
	OccurredAt time.Time `gorm:"not null;index:ix_conversion_event,priority:2"`
	Source     string    `gorm:"size:16;not null"` // api or webhook
	// The credited push (all zero when no click qualifies).
	DeliveryID    uint64 `gorm:"not null;default:0"`
	TouchpointID  uint64 `gorm:"not null;default:0;index"`
	CampaignID    uint64 `gorm:"not null;default:0;index"`
	VariantID     uint64 `gorm:"not null;default:0"`
	ClickedAt     *time.Time
	WindowSeconds int64 `gorm:"not null"`
	CreatedAt     time.Time
}

// ScheduleBest is a campaign schedule whose send time is learned: the best
// hour inside a window (CampaignSendTime), At when data is thin.
const ScheduleBest = "best"

// CampaignSendTime is a variant's learned send time (migration 12): the
// window it was asked to send in, the configured time it falls back to, the
// time chosen when the campaign was created and why (Basis, the estimate's
// JSON: n and the hours compared).
type CampaignSendTime struct {
	VariantID  uint64    `gorm:"primaryKey;autoIncrement:false"`
	CampaignID uint64    `gorm:"not null;index"`
	WindowFrom time.Time `gorm:"not null"`
	WindowTo   time.Time `gorm:"not null"`
	FallbackAt time.Time `gorm:"not null"`
	ChosenAt   time.Time `gorm:"not null"`
	// Learned is false when the estimate was too thin and FallbackAt was
	// used.
	Learned   bool   `gorm:"not null;default:false"`
	Basis     string `gorm:"type:text"`
	CreatedAt time.Time
}

// TableName is campaign_send_times.
func (CampaignSendTime) TableName() string { return "campaign_send_times" }

// CampaignModels lists the tables of campaigns (migrations 9 and 12).
func CampaignModels() []any {
	return []any{&Campaign{}, &CampaignVariant{}, &CampaignAssignment{}, &Conversion{}, &CampaignSendTime{}}
}

// Tag limits: an employee's tags are stored in employees.tags, comma
// separated, sorted and without duplicates.
const (
	MaxTagRunes = 32
	MaxTags     = 20
)

// ErrBadTag is wrapped by NormalizeTags for a tag it refuses.
var ErrBadTag = errors.New("bad tag")

// NormalizeTags splits tags on commas (, or ，), semicolons or '|', trims
// them, drops empties and duplicates and sorts them; it refuses a tag longer
// than MaxTagRunes, one with '%', '_' or '\\' (they would be wildcards in a
// match), more than MaxTags tags or a result longer than the column.
func NormalizeTags(s string) (string, error) {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == ';' || r == '；' || r == '|' })
	seen := map[string]bool{}
	var out []string
	for _, p := range parts {
		p = strings.TrimSpace(p)
		switch {
		case p == "" || seen[p]:
			continue
		case utf8.RuneCountInString(p) > MaxTagRunes:
			return "", fmt.Errorf("tag %q is longer than %d characters: %w", clipRunes(p, MaxTagRunes), MaxTagRunes, ErrBadTag)
		case strings.ContainsAny(p, `%_\`):
			return "", fmt.Errorf("tag %q may not contain %%, _ or \\: %w", p, ErrBadTag)
		}
		seen[p] = true
		out = append(out, p)
	}
	if len(out) > MaxTags {
		return "", fmt.Errorf("%d tags, at most %d: %w", len(out), MaxTags, ErrBadTag)
	}
	sort.Strings(out)
	joined := strings.Join(out, ",")
	if utf8.RuneCountInString(joined) > 512 {
		return "", fmt.Errorf("tags are longer than 512 characters together: %w", ErrBadTag)
	}
	return joined, nil
}

// clipRunes is s cut to its first n runes, with "…" where something was
// cut: an error message names a refused value without repeating all of it.
func clipRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// HasTag narrows q (over employees) to those whose normalized tags include
// tag exactly.
func HasTag(q *gorm.DB, tag string) *gorm.DB {
	return q.Where("(employees.tags = ? OR employees.tags LIKE ? OR employees.tags LIKE ? OR employees.tags LIKE ?)",
		tag, tag+",%", "%,"+tag, "%,"+tag+",%")
}

// CategoryCampaign is the category of the course that carries campaigns'
// sessions and touchpoints: pushes, not classes, so class lists and reports
// leave it out.
const CategoryCampaign = "campaign"
