package store

import "time"

// Variant timings: when a touchpoint variant's cards go out.
const (
	// TimingSame sends at the touchpoint's own time (its offset, or its
	// best-time window when it has one).
	TimingSame = "same"
	// TimingOffset sends at the variant's own fixed offset from the
	// touchpoint's anchor.
	TimingOffset = "offset"
	// TimingBest sends at the learned best hour of the variant's own
	// window relative to the anchor (sendtime), the touchpoint's time as
	// the fallback.
	TimingBest = "best"
)

// TouchpointVariant is one arm of a class touchpoint's experiment (A–D):
// its copy and button text override the card's where set, and its timing
// gives it a fire time (and a touchpoint.fire job) of its own. A person's
// variant is recorded in TouchpointAssignment when their delivery row is
// written and never changes; variants cannot change once anything was sent.
type TouchpointVariant struct {
	ID           uint64 `gorm:"primaryKey"`
	TouchpointID uint64 `gorm:"not null;uniqueIndex:ux_touchpoint_variant,priority:1"`
	// Name is the variant's letter: A (the control), B, C, D.
	Name   string `gorm:"size:8;not null;uniqueIndex:ux_touchpoint_variant,priority:2"`
	Weight int    `gorm:"not null;default:1"`
	// Title, Body and Button replace the card's title, body and main
	// (primary) button's text when not empty.
	Title  string `gorm:"size:255"`
	Body   string `gorm:"type:text"`
	Button string `gorm:"size:64"`
	// Timing is TimingSame, TimingOffset (Offset seconds from the anchor)
	// or TimingBest (the window [anchor+BestFrom, anchor+BestTo)).
	Timing   string `gorm:"size:8;not null;default:same"`
	Offset   *int64
	BestFrom *int64
	BestTo   *int64
	// RunAt is the variant's planned fire time after quiet hours; SendBasis
	// the learned choice's basis (sendtime.Choice JSON) of a TimingBest
	// variant.
	RunAt     *time.Time
	SendBasis string `gorm:"type:text"`
	CreatedAt time.Time
}

// TableName names the touchpoint variants' table.
func (TouchpointVariant) TableName() string { return "touchpoint_variants" }

// TouchpointAssignment records the variant a person gets for a touchpoint:
// written when their first delivery row of it is, the first written wins,
// and every later occurrence, replica and report reads it.
type TouchpointAssignment struct {
	TouchpointID uint64    `gorm:"primaryKey;autoIncrement:false"`
	EmployeeID   uint64    `gorm:"primaryKey;autoIncrement:false"`
	VariantID    uint64    `gorm:"not null;index"`
	AssignedAt   time.Time `gorm:"not null"`
}

// TableName names the touchpoint assignments' table.
func (TouchpointAssignment) TableName() string { return "touchpoint_assignments" }

func variantModels() []any { return []any{&TouchpointVariant{}, &TouchpointAssignment{}} }
