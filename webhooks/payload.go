package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/learnloop/learnloop/store"
)

// Envelope is the JSON body of every webhook. ID is stable across retries
// and redeliveries: a receiver de-duplicates on it.
type Envelope struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	OccurredAt time.Time       `json:"occurred_at"`
	Data       json.RawMessage `json:"data"`
}

// CheckinData is the data of checkin.created.
type CheckinData struct {
	CheckinID       uint64    `json:"checkin_id"`
	SessionID       uint64    `json:"session_id"`
	SessionTitle    string    `json:"session_title"`
	SessionStartsAt time.Time `json:"session_starts_at"`
	CourseID        uint64    `json:"course_id"`
	EmployeeID      string    `json:"employee_id"` // the roster's external id (工号)
	EmployeeName    string    `json:"employee_name"`
	Department      string    `json:"department"`
	Kind            string    `json:"kind"`   // on_time, late, makeup, …
	Source          string    `json:"source"` // card, page, manual, …
	Platform        string    `json:"platform"`
	CheckedInAt     time.Time `json:"checked_in_at"`
}

// ResponseData is the data of response.submitted (named surveys only: an
// anonymous survey's responses send no webhook).
type ResponseData struct {
	ResponseID  uint64     `json:"response_id"`
	SurveyID    uint64     `json:"survey_id"`
	SurveyKind  string     `json:"survey_kind"`
	SurveyTitle string     `json:"survey_title"`
	SessionID   uint64     `json:"session_id"`
	CourseID    uint64     `json:"course_id"`
	EmployeeID  string     `json:"employee_id"`
	SubjectID   string     `json:"subject_id,omitempty"` // the direct report a manager's follow-up is about
	Status      string     `json:"status"`
	Source      string     `json:"source"`
	SubmittedAt *time.Time `json:"submitted_at"`
	Answers     []Answer   `json:"answers" gorm:"-"`
}

// Answer is one answered question.
type Answer struct {
	Question string   `json:"question"`
	Number   *float64 `json:"number,omitempty"`
	Text     string   `json:"text,omitempty"`
}

// ConversionData is the data of conversion.credited.
type ConversionData struct {
	ConversionID  uint64     `json:"conversion_id"`
	SourceEventID string     `json:"source_event_id"` // the id the conversion was reported with
	Event         string     `json:"event"`
	EmployeeID    string     `json:"employee_id"`
	OccurredAt    time.Time  `json:"occurred_at"`
	CampaignID    uint64     `json:"campaign_id"`
	Variant       string     `json:"variant"`
	TouchpointID  uint64     `json:"touchpoint_id"`
	DeliveryID    uint64     `json:"delivery_id"`
	ClickedAt     *time.Time `json:"clicked_at"`
}

// DeliveryFailedData is the data of delivery.failed.
type DeliveryFailedData struct {
	DeliveryID     uint64    `json:"delivery_id"`
	TouchpointID   uint64    `json:"touchpoint_id"`
	TouchpointKind string    `json:"touchpoint_kind"`
	SessionID      uint64    `json:"session_id"`
	EmployeeID     string    `json:"employee_id"`
	Platform       string    `json:"platform"`
	ErrorCode      string    `json:"error_code"`
	ErrorMessage   string    `json:"error_message"`
	FailedAt       time.Time `json:"failed_at"`
}

// payloads builds the body of each event, by event id. The facts are read
// now, a query per type; an event whose fact is gone gets no body (its
// deliveries fail with "event payload missing").
func (s *Service) payloads(ctx context.Context, evs []store.WebhookEvent) (map[uint64][]byte, error) {
	refs := map[string][]uint64{}
	for _, e := range evs {
		refs[e.Type] = append(refs[e.Type], e.RefID)
	}
	data := map[string]map[uint64]any{}
	db := s.db.WithContext(ctx)
	if ids := refs[store.EventCheckin]; len(ids) > 0 {
		var rows []CheckinData
		err := db.Raw(`SELECT c.id AS checkin_id, c.session_id, s.title AS session_title, s.starts_at AS session_starts_at, s.course_id,
			e.external_id AS employee_id, e.name AS employee_name, e.department, c.kind, c.source, c.platform, c.checked_in_at
			FROM checkins c JOIN sessions s ON s.id = c.session_id JOIN employees e ON e.id = c.employee_id WHERE c.id IN ?`, ids).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("load check-ins for webhooks: %w", err)
		}
		m := map[uint64]any{}
		for _, r := range rows {
			r.SessionStartsAt, r.CheckedInAt = r.SessionStartsAt.UTC(), r.CheckedInAt.UTC()
			m[r.CheckinID] = r
		}
		data[store.EventCheckin] = m
	}
	if ids := refs[store.EventResponse]; len(ids) > 0 {
		var rows []ResponseData
		err := db.Raw(`SELECT r.id AS response_id, r.survey_id, sv.kind AS survey_kind, sv.title AS survey_title, sv.session_id, sv.course_id,
			COALESCE(e.external_id, '') AS employee_id, COALESCE(sub.external_id, '') AS subject_id, r.status, r.source, r.submitted_at
			FROM survey_responses r JOIN surveys sv ON sv.id = r.survey_id AND sv.anonymous = ?
			LEFT JOIN employees e ON e.id = r.respondent_id LEFT JOIN employees sub ON sub.id = r.subject_id WHERE r.id IN ?`, false, ids).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("load survey responses for webhooks: %w", err)
		}
		var answers []store.SurveyAnswer
		if err := db.Where("response_id IN ?", ids).Order("response_id, id").Find(&answers).Error; err != nil {
			return nil, fmt.Errorf("load survey answers for webhooks: %w", err)
		}
		byResp := map[uint64][]Answer{}
		for _, a := range answers {
			byResp[a.ResponseID] = append(byResp[a.ResponseID], Answer{Question: a.QuestionKey, Number: a.Number, Text: a.Text})
		}
		m := map[uint64]any{}
		for _, r := range rows {
			r.SubmittedAt = utcPtr(r.SubmittedAt)
			r.Answers = byResp[r.ResponseID]
			if r.Answers == nil {
				r.Answers = []Answer{}
			}
			m[r.ResponseID] = r
		}
		data[store.EventResponse] = m
	}
	if ids := refs[store.EventConversion]; len(ids) > 0 {
		var rows []ConversionData
		err := db.Raw(`SELECT cv.id AS conversion_id, cv.event_id AS source_event_id, cv.event, e.external_id AS employee_id, cv.occurred_at,
			cv.campaign_id, COALESCE(v.name, '') AS variant, cv.touchpoint_id, cv.delivery_id, cv.clicked_at
			FROM conversions cv JOIN employees e ON e.id = cv.employee_id LEFT JOIN campaign_variants v ON v.id = cv.variant_id WHERE cv.id IN ?`, ids).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("load conversions for webhooks: %w", err)
		}
		m := map[uint64]any{}
		for _, r := range rows {
			r.OccurredAt, r.ClickedAt = r.OccurredAt.UTC(), utcPtr(r.ClickedAt)
			m[r.ConversionID] = r
		}
		data[store.EventConversion] = m
	}
	if ids := refs[store.EventDeliveryFailed]; len(ids) > 0 {
		var rows []DeliveryFailedData
		err := db.Raw(`SELECT d.id AS delivery_id, d.touchpoint_id, COALESCE(t.kind, '') AS touchpoint_kind, d.session_id, e.external_id AS employee_id,
			d.platform, d.error_code, d.error_message, d.updated_at AS failed_at
			FROM deliveries d JOIN employees e ON e.id = d.employee_id LEFT JOIN touchpoints t ON t.id = d.touchpoint_id WHERE d.id IN ?`, ids).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("load deliveries for webhooks: %w", err)
		}
		m := map[uint64]any{}
		for _, r := range rows {
			r.FailedAt = r.FailedAt.UTC()
			m[r.DeliveryID] = r
		}
		data[store.EventDeliveryFailed] = m
	}
	out := make(map[uint64][]byte, len(evs))
	for _, e := range evs {
		d, ok := data[e.Type][e.RefID]
		if !ok {
			continue
		}
		raw, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("encode webhook data: %w", err)
		}
		body, err := json.Marshal(Envelope{ID: EventID(e.ID), Type: e.Type, OccurredAt: e.OccurredAt.UTC(), Data: raw})
		if err != nil {
			return nil, fmt.Errorf("encode webhook: %w", err)
		}
		out[e.ID] = body
	}
	return out, nil
}
