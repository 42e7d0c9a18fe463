package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

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

// ParticipationAnswered is the only participation status of an anonymous
// survey: the person has a response, complete or not. Recording which
// people finished would pair them with the (few) partial responses.
const ParticipationAnswered = "answered"

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

// SurveyResponse is one respondent's (partial or complete) answer set.
//
// For a named survey RespondentKey is "e:{employee id}" and RespondentID is
// set. For an anonymous survey nothing in the row leads back to a person,
// even for someone holding the database and the configuration:
// RespondentKey is "k:" + hex(SHA-256(edit key)), where the edit key is 32
// random bytes held only by the respondent (in their signed form link or a
// cookie), RespondentID and DeliveryID are nil, the ID is random rather than
// sequential, the times are cut to the UTC day, and Department is kept only
// when the department had at least the survey's minimum group size of
// eligible people (else empty: one pooled bucket). "Has this person
// answered" lives apart, in SurveyParticipation.
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

// SurveyParticipation records that a person has answered a survey (per
// subject for follow-ups): it drives "one response per person" and the
// not-responded reminders. It shares nothing with SurveyResponse — no
// response id, no time, no sequence (the primary key is the person, so rows
// are stored in employee order, not insertion order; SQLite gets the table
// WITHOUT ROWID for the same reason). Status is partial/complete for named
// surveys and ParticipationAnswered for anonymous ones.
type SurveyParticipation struct {
	SurveyID   uint64 `gorm:"primaryKey;autoIncrement:false"`
	EmployeeID uint64 `gorm:"primaryKey;autoIncrement:false"`
	SubjectID  uint64 `gorm:"primaryKey;autoIncrement:false"`
	Status     string `gorm:"size:16;not null"`
}

// SurveyAnswer is one question's answer in a response. Answers of anonymous
// responses get random ids and day-cut times, like their response.
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

// AnonymousDay cuts t to its UTC day: the only time an anonymous response or
// answer stores.
func AnonymousDay(t time.Time) time.Time {
	return t.UTC().Truncate(24 * time.Hour)
}

// RandomRowID returns a random primary key for an anonymous response or
// answer, in [2^40, 2^41): far above sequential ids, below 2^53 (exact in
// JSON), and carrying no insertion order.
func RandomRowID() (uint64, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("random id: %w", err)
	}
	return 1<<40 | binary.BigEndian.Uint64(b[:])&(1<<40-1), nil
}

// migrateSurveyAnonymity is migration 6: the participation table, filled from
// the named responses, and the existing anonymous responses stripped of
// everything that leads back to a person — the respondent key that was an
// HMAC of the employee id under the configured secret (anyone with the config
// could recompute it for every employee) becomes a hash of a fresh random key
// nobody holds, the sequential ids become random (answers and comment tags
// follow), the times are cut to the day, and a department snapshot stays only
// when the department had at least the survey's minimum group size of eligible
// people. Those old anonymous responses can no longer be edited, and their
// respondents are not known to have answered (there is nothing left to know it
// from). Re-running it is harmless.
// The table itself (on SQLite WITHOUT ROWID, so rows are not numbered in
// insertion order) is created by the version's frozen SQL.
func migrateSurveyAnonymity(tx *gorm.DB) error {
	var named []struct {
		SurveyID     uint64
		RespondentID uint64
		SubjectID    uint64
		Status       string
	}
	if err := tx.Model(&SurveyResponse{}).Select("survey_id, respondent_id, subject_id, status").
		Where("respondent_id IS NOT NULL").Scan(&named).Error; err != nil {
		return fmt.Errorf("read named responses: %w", err)
	}
	rows := make([]SurveyParticipation, 0, len(named))
	for _, r := range named {
		rows = append(rows, SurveyParticipation{SurveyID: r.SurveyID, EmployeeID: r.RespondentID, SubjectID: r.SubjectID, Status: r.Status})
	}
	if len(rows) > 0 {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&rows, 500).Error; err != nil {
			return fmt.Errorf("fill survey_participations: %w", err)
		}
	}
	var anon []Survey
	if err := tx.Where("anonymous = ?", true).Find(&anon).Error; err != nil {
		return fmt.Errorf("read anonymous surveys: %w", err)
	}
	tags := tx.Migrator().HasTable(&CommentTag{})
	for _, sv := range anon {
		keep, err := AnonymousDepartments(tx, sv)
		if err != nil {
			return err
		}
		var resps []SurveyResponse
		if err := tx.Where("survey_id = ?", sv.ID).Find(&resps).Error; err != nil {
			return fmt.Errorf("read responses of survey %d: %w", sv.ID, err)
		}
		for _, r := range resps {
			if err := tx.Transaction(func(tx *gorm.DB) error { return anonymizeResponse(tx, r, keep, tags) }); err != nil {
				return fmt.Errorf("anonymize a response of survey %d: %w", sv.ID, err)
			}
		}
	}
	return nil
}

func anonymizeResponse(tx *gorm.DB, r SurveyResponse, keep map[string]bool, tags bool) error {
	id, err := RandomRowID()
	if err != nil {
		return err
	}
	key, err := NewEditKey()
	if err != nil {
		return err
	}
	dept := r.Department
	if !keep[dept] {
		dept = ""
	}
	upd := map[string]any{
		"id": id, "respondent_key": EditKeyHash(key), "respondent_id": nil, "delivery_id": nil, "department": dept,
		"started_at": AnonymousDay(r.StartedAt), "updated_at": AnonymousDay(r.UpdatedAt),
	}
	if r.SubmittedAt != nil {
		upd["submitted_at"] = AnonymousDay(*r.SubmittedAt)
	}
	if err := tx.Model(&SurveyResponse{}).Where("id = ?", r.ID).UpdateColumns(upd).Error; err != nil {
		return err
	}
	var answers []SurveyAnswer
	if err := tx.Where("response_id = ?", r.ID).Find(&answers).Error; err != nil {
		return err
	}
	for _, a := range answers {
		aid, err := RandomRowID()
		if err != nil {
			return err
		}
		if err := tx.Model(&SurveyAnswer{}).Where("id = ?", a.ID).
			UpdateColumns(map[string]any{"id": aid, "response_id": id, "updated_at": AnonymousDay(a.UpdatedAt)}).Error; err != nil {
			return err
		}
	}
	if tags {
		if err := tx.Model(&CommentTag{}).Where("response_id = ?", r.ID).UpdateColumn("response_id", id).Error; err != nil {
			return err
		}
	}
	return nil
}

// AnonymousDepartments returns the departments of an anonymous survey that
// may be named on its responses: those with at least the survey's minimum
// group size of eligible people (distinct active employees a push of the
// survey reached; the coordinator's escalation does not count). A response
// from any other department stores no department.
func AnonymousDepartments(db *gorm.DB, sv Survey) (map[string]bool, error) {
	var rows []struct {
		Department string
		N          int
	}
	err := db.Table("deliveries").
		Select("employees.department, COUNT(DISTINCT deliveries.employee_id) AS n").
		Joins("JOIN touchpoints ON touchpoints.id = deliveries.touchpoint_id").
		Joins("JOIN employees ON employees.id = deliveries.employee_id").
		Where("touchpoints.survey_id = ? AND touchpoints.kind <> ? AND deliveries.status = ? AND employees.active = ?", sv.ID, "escalation", DeliverySent, true).
		Group("employees.department").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count eligible per department of survey %d: %w", sv.ID, err)
	}
	min := sv.MinGroupSize
	if min < 1 {
		min = 5
	}
	out := map[string]bool{}
	for _, r := range rows {
		if r.Department != "" && r.N >= min {
			out[r.Department] = true
		}
	}
	return out, nil
}

// NewEditKey returns a fresh random edit key for an anonymous response: the
// respondent holds it, the database holds only EditKeyHash of it.
func NewEditKey() ([]byte, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("edit key: %w", err)
	}
	return k, nil
}

// EditKeyHash is the RespondentKey of the anonymous response an edit key
// opens: "k:" + hex(SHA-256(key)). The key is random, so the hash cannot be
// recomputed from anything the server keeps.
func EditKeyHash(key []byte) string {
	h := sha256.Sum256(key)
	return "k:" + hex.EncodeToString(h[:])
}
