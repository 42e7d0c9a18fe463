package store

import "time"

// Survey kinds.
const (
	SurveyFeedback        = "feedback"         // post-course feedback (L1)
	SurveyNPS             = "nps"              // standalone NPS
	SurveyManagerFollowup = "manager_followup" // behaviour change (L3), one per direct report
	SurveyCustom          = "custom"
)

// Survey states.
const (
	SurveyOpen   = "open"
	SurveyClosed = "closed"
)

// Response states.
const (
	ResponsePartial  = "partial"
	ResponseComplete = "complete"
)

// SurveyTemplate is a versioned questionnaire definition (YAML shipped with
// the binary, or defined by a coordinator through the API).
type SurveyTemplate struct {
	ID         uint64 `gorm:"primaryKey"`
	Key        string `gorm:"size:64;not null;uniqueIndex:ux_template,priority:1"`
	Version    int    `gorm:"not null;uniqueIndex:ux_template,priority:2"`
	Kind       string `gorm:"size:32;not null"`
	Title      string `gorm:"size:255;not null"`
	Definition string `gorm:"type:text;not null"` // JSON: the questions
	Builtin    bool   `gorm:"not null;default:false"`
	CreatedAt  time.Time
}

// Survey is one questionnaire instance: a template asked about one session
// (or course), open for a time.
type Survey struct {
	ID           uint64 `gorm:"primaryKey"`
	TemplateID   uint64 `gorm:"not null;index"`
	SessionID    uint64 `gorm:"not null;default:0;index"`
	CourseID     uint64 `gorm:"not null;default:0;index"`
	Kind         string `gorm:"size:32;not null"`
	Title        string `gorm:"size:255;not null"`
	Definition   string `gorm:"type:text;not null"` // frozen copy of the template's questions
	Anonymous    bool   `gorm:"not null;default:false"`
	MinGroupSize int    `gorm:"not null;default:5"`
	OpensAt      time.Time
	ClosesAt     time.Time `gorm:"index"`
	Status       string    `gorm:"size:16;not null;default:open"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// SurveyResponse is one respondent's (partial or complete) answer set. For an
// anonymous survey RespondentID is nil and RespondentKey is a keyed hash that
// only prevents duplicates.
type SurveyResponse struct {
	ID            uint64  `gorm:"primaryKey"`
	SurveyID      uint64  `gorm:"not null;uniqueIndex:ux_response,priority:1;index"`
	RespondentKey string  `gorm:"size:96;not null;uniqueIndex:ux_response,priority:2"`
	SubjectID     uint64  `gorm:"not null;default:0;uniqueIndex:ux_response,priority:3"`
	RespondentID  *uint64 `gorm:"index"`
	Department    string  `gorm:"size:128"` // snapshot for breakdowns (suppressed below the minimum group size)
	DeliveryID    *uint64
	Status        string `gorm:"size:16;not null"`
	Source        string `gorm:"size:16;not null"` // card or form
	StartedAt     time.Time
	SubmittedAt   *time.Time
	UpdatedAt     time.Time
}

// SurveyAnswer is one question's answer in a response.
type SurveyAnswer struct {
	ID         uint64 `gorm:"primaryKey"`
	ResponseID uint64 `gorm:"not null;uniqueIndex:ux_answer,priority:1"`
	// SurveyID repeats the response's survey so reports aggregate answers
	// from one index without a join (migration 4).
	SurveyID    uint64   `gorm:"not null;default:0;index:ix_answer_agg,priority:1"`
	QuestionKey string   `gorm:"size:64;not null;uniqueIndex:ux_answer,priority:2;index:ix_answer_agg,priority:2"`
	Number      *float64 `gorm:"index:ix_answer_agg,priority:3"` // numeric answers (ratings, NPS, scales)
	Text        string   `gorm:"type:text"`                      // text and choice answers (choices as JSON array)
	UpdatedAt   time.Time
}

func surveyModels() []any {
	return []any{&SurveyTemplate{}, &Survey{}, &SurveyResponse{}, &SurveyAnswer{}}
}
