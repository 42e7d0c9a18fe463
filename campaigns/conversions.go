package campaigns

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/problem"
	"github.com/learnloop/learnloop/store"
)

// Conversion sources.
const (
	SourceAPI     = "api"
	SourceWebhook = "webhook"
)

// ConversionInput is one target action reported by an outside system. The
// person is named by exactly one of EmployeeID, ExternalID (工号) or
// Platform + PlatformUserID.
type ConversionInput struct {
	EventID        string     `json:"event_id"`
	Event          string     `json:"event"`
	OccurredAt     *time.Time `json:"occurred_at"`
	EmployeeID     uint64     `json:"employee_id,omitempty"`
	ExternalID     string     `json:"external_id,omitempty"`
	Platform       string     `json:"platform,omitempty"`
	PlatformUserID string     `json:"platform_user_id,omitempty"`
}

// ConversionResult is a stored conversion and the push it is credited to.
type ConversionResult struct {
	ID         uint64    `json:"id"`
	EventID    string    `json:"event_id"`
	Event      string    `json:"event"`
	EmployeeID uint64    `json:"employee_id"`
	OccurredAt time.Time `json:"occurred_at"`
	Source     string    `json:"source"`
	// Credited is the push the conversion is credited to, nil when no click
	// lies within the attribution window before it.
	Credited *Credit `json:"credited"`
	// Duplicate is set when the event id was already recorded (nothing
	// changed).
	Duplicate bool `json:"duplicate"`
}

// Credit names the credited push.
type Credit struct {
	DeliveryID    uint64    `json:"delivery_id"`
	TouchpointID  uint64    `json:"touchpoint_id"`
	CampaignID    uint64    `json:"campaign_id,omitempty"`
	VariantID     uint64    `json:"variant_id,omitempty"`
	ClickedAt     time.Time `json:"clicked_at"`
	WindowSeconds int64     `json:"window_seconds"`
}

func toResult(c store.Conversion, dup bool) ConversionResult {
	out := ConversionResult{ID: c.ID, EventID: c.EventID, Event: c.Event, EmployeeID: c.EmployeeID, OccurredAt: c.OccurredAt.UTC(), Source: c.Source, Duplicate: dup}
	if c.DeliveryID != 0 && c.ClickedAt != nil {
		out.Credited = &Credit{DeliveryID: c.DeliveryID, TouchpointID: c.TouchpointID, CampaignID: c.CampaignID, VariantID: c.VariantID,
			ClickedAt: c.ClickedAt.UTC(), WindowSeconds: c.WindowSeconds}
	}
	return out
}

func (s *Service) checkConversion(in *ConversionInput) []FieldError {
	var errs []FieldError
	in.EventID, in.Event = strings.TrimSpace(in.EventID), strings.TrimSpace(in.Event)
	switch {
	case in.EventID == "":
		errs = append(errs, FieldError{Field: "event_id", Code: CodeRequired, Message: "is required: the sender's id of the event, which makes a resend harmless"})
	case len(in.EventID) > 128:
		errs = append(errs, FieldError{Field: "event_id", Code: CodeTooLong, Message: "is at most 128 bytes of text on one line"})
	case !oneLine(in.EventID):
		errs = append(errs, FieldError{Field: "event_id", Code: CodeBadValue, Message: "is text on one line, without control characters"})
	}
	if !validEvent(in.Event) {
		errs = append(errs, FieldError{Field: "event", Code: CodeRequired, Message: "is required: letters, digits and _.:- (at most 64)"})
	}
	now := s.now()
	switch {
	case in.OccurredAt == nil:
		errs = append(errs, FieldError{Field: "occurred_at", Code: CodeRequired, Message: "is required (RFC 3339)"})
	case in.OccurredAt.After(now.Add(5 * time.Minute)):
		errs = append(errs, FieldError{Field: "occurred_at", Code: CodeFuture, Message: "is in the future"})
	case in.OccurredAt.Before(now.AddDate(-1, 0, 0)):
		errs = append(errs, FieldError{Field: "occurred_at", Code: CodeTooFar, Message: "is more than a year ago"})
	}
	ways := 0
	if in.EmployeeID != 0 {
		ways++
	}
	if in.ExternalID != "" {
		ways++
	}
	if in.Platform != "" || in.PlatformUserID != "" {
		ways++
		switch bot.Platform(in.Platform) {
		case bot.PlatformWeCom, bot.PlatformFeishu, bot.PlatformDingTalk, bot.PlatformSimulator:
		default:
			errs = append(errs, FieldError{Field: "platform", Code: CodeBadChoice, Message: "must be one of wecom, feishu, dingtalk, simulator"})
		}
		if in.PlatformUserID == "" || len(in.PlatformUserID) > 128 {
			errs = append(errs, FieldError{Field: "platform_user_id", Code: CodeRequired, Message: "is required with platform (at most 128 bytes)"})
		}
	}
	if ways != 1 {
		errs = append(errs, FieldError{Field: "employee_id", Code: CodeBadPerson, Message: "name the person by exactly one of employee_id, external_id, or platform with platform_user_id"})
	}
	if len(in.ExternalID) > 64 {
		errs = append(errs, FieldError{Field: "external_id", Code: CodeTooLong, Message: "is longer than 64 bytes"})
	}
	for _, f := range []struct{ name, v string }{{"external_id", in.ExternalID}, {"platform_user_id", in.PlatformUserID}} {
		if !oneLine(f.v) {
			errs = append(errs, FieldError{Field: f.name, Code: CodeBadValue, Message: "is text on one line, without control characters"})
		}
	}
	return errs
}

// oneLine reports whether s is valid UTF-8 without control characters (a
// NUL or a line break in an id would match or store something else than
// what was sent).
func oneLine(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// employee finds the person a conversion names.
func (s *Service) employee(ctx context.Context, in ConversionInput) (store.Employee, error) {
	q := s.DB.WithContext(ctx).Select("id")
	switch {
	case in.EmployeeID != 0:
		q = q.Where("id = ?", in.EmployeeID)
	case in.ExternalID != "":
		q = q.Where("external_id = ?", in.ExternalID)
	default:
		col := map[bot.Platform]string{bot.PlatformWeCom: "wecom_id", bot.PlatformFeishu: "feishu_id", bot.PlatformDingTalk: "dingtalk_id",
			bot.PlatformSimulator: "external_id"}[bot.Platform(in.Platform)]
		q = q.Where(col+" = ?", in.PlatformUserID).Order("id")
	}
	var e store.Employee
	if err := q.Limit(1).Find(&e).Error; err != nil {
		return e, fmt.Errorf("find employee: %w", err)
	}
	if e.ID == 0 {
		return e, &InvalidError{Fields: []FieldError{{Field: "employee_id", Code: CodeUnknown, Message: "no employee matches"}}}
	}
	return e, nil
}

// RecordConversion stores a conversion once per event id and credits it to
// the last push the person clicked at or before it, if that click lies
// within the attribution window (the session report's rule; ties on the
// click time go to the higher touchpoint id, then the later click). A
// resend of the same event returns the stored row (Duplicate); the same
// event id with a different person, event or time is a conflict.
func (s *Service) RecordConversion(ctx context.Context, in ConversionInput, source string) (ConversionResult, error) {
	if errs := s.checkConversion(&in); len(errs) > 0 {
		return ConversionResult{}, &InvalidError{Fields: errs}
	}
	e, err := s.employee(ctx, in)
	if err != nil {
		return ConversionResult{}, err
	}
	at := in.OccurredAt.UTC().Truncate(time.Second)
	same := func(c store.Conversion) (ConversionResult, error) {
		if c.EmployeeID != e.ID || c.Event != in.Event || !c.OccurredAt.UTC().Equal(at) {
			return ConversionResult{}, fmt.Errorf("event_id %q was recorded with another person, event or time: %w", in.EventID, ErrConflict)
		}
		return toResult(c, true), nil
	}
	var prior store.Conversion
	if err := s.DB.WithContext(ctx).Where("event_id = ?", in.EventID).Limit(1).Find(&prior).Error; err != nil {
		return ConversionResult{}, fmt.Errorf("load conversion: %w", err)
	}
	if prior.ID != 0 {
		return same(prior)
	}
	window := s.window()
	c := store.Conversion{EventID: in.EventID, EmployeeID: e.ID, Event: in.Event, OccurredAt: at, Source: source,
		WindowSeconds: int64(window / time.Second), CreatedAt: s.now()}
	// The credit is judged on the time as sent (clicks are stored to the
	// millisecond): a click 300 ms before a conversion at 10.9 s is before
	// it, though the conversion is stored at 10 s.
	exact := in.OccurredAt.UTC()
	var click store.Click
	if err := s.DB.WithContext(ctx).Select("id", "delivery_id", "touchpoint_id", "clicked_at").
		Where("employee_id = ? AND clicked_at <= ? AND clicked_at >= ?", e.ID, exact, exact.Add(-window)).
		Order("clicked_at DESC, touchpoint_id DESC, id DESC").Limit(1).Find(&click).Error; err != nil {
		return ConversionResult{}, fmt.Errorf("find the credited click: %w", err)
	}
	if click.ID != 0 {
		clicked := click.ClickedAt.UTC()
		c.DeliveryID, c.TouchpointID, c.ClickedAt = click.DeliveryID, click.TouchpointID, &clicked
		var v store.CampaignVariant
		if err := s.DB.WithContext(ctx).Select("id", "campaign_id").Where("touchpoint_id = ?", click.TouchpointID).Limit(1).Find(&v).Error; err != nil {
			return ConversionResult{}, fmt.Errorf("load credited variant: %w", err)
		}
		c.CampaignID, c.VariantID = v.CampaignID, v.ID
	}
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		c.ID = 0
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		if c.DeliveryID == 0 {
			return nil
		}
		// A credited conversion is a webhook event, recorded with it.
		return store.RecordEventsFrom(tx, store.EventConversion, c.CreatedAt, "SELECT ? AS ref_id, ? AS occurred_at", c.ID, c.OccurredAt)
	})
	if store.IsDuplicate(err) {
		// A concurrent resend won: compare with what it stored.
		if err := s.DB.WithContext(ctx).Where("event_id = ?", in.EventID).Take(&prior).Error; err != nil {
			return ConversionResult{}, fmt.Errorf("load conversion: %w", err)
		}
		return same(prior)
	}
	if err != nil {
		return ConversionResult{}, fmt.Errorf("store conversion: %w", err)
	}
	return toResult(c, false), nil
}

// Webhook headers: the Unix time in seconds and the hex HMAC-SHA256, keyed
// with the webhook secret, of that timestamp immediately followed by the raw
// body ("sha256=" prefix optional).
const (
	HeaderTimestamp = "X-Learnloop-Timestamp"
	HeaderSignature = "X-Learnloop-Signature"
)

// WebhookSecret is the key outside systems sign conversion webhooks with:
// derived from the link secret, so it changes when that is rotated.
func (s *Service) WebhookSecret() string { return hex.EncodeToString(s.key("conversions webhook")) }

// SignWebhook returns the signature header value of body sent at ts.
func SignWebhook(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// maxWebhookBody bounds a webhook request.
const maxWebhookBody = 16 << 10

// WebhookHandler serves POST /webhooks/conversions: one conversion as in
// POST /api/v1/conversions, signed instead of carrying a bearer token. A
// missing or wrong signature, or a timestamp outside the window, is refused
// before the body is parsed and changes nothing.
func (s *Service) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			webhookProblem(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST", nil)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			webhookProblem(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is over %d bytes", maxWebhookBody), nil)
			return
		}
		ts, err := strconv.ParseInt(r.Header.Get(HeaderTimestamp), 10, 64)
		win := s.WebhookWindow
		if win <= 0 {
			win = 5 * time.Minute
		}
		if err != nil {
			webhookProblem(w, http.StatusUnauthorized, "unauthorized", HeaderTimestamp+" must be the Unix time in seconds", nil)
			return
		}
		if d := s.now().Sub(time.Unix(ts, 0)); d > win || d < -win {
			webhookProblem(w, http.StatusUnauthorized, "unauthorized", fmt.Sprintf("%s is more than %s from the server's time", HeaderTimestamp, win), nil)
			return
		}
		want := SignWebhook(s.WebhookSecret(), ts, body)
		got := r.Header.Get(HeaderSignature)
		if !strings.HasPrefix(got, "sha256=") {
			got = "sha256=" + got
		}
		if !hmac.Equal([]byte(want), []byte(strings.ToLower(got))) {
			webhookProblem(w, http.StatusUnauthorized, "unauthorized", "bad "+HeaderSignature, nil)
			return
		}
		var in ConversionInput
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			webhookProblem(w, http.StatusBadRequest, "malformed_json", "the body is not a conversion: "+err.Error(), nil)
			return
		}
		if dec.More() {
			webhookProblem(w, http.StatusBadRequest, "malformed_json", "the body has data after the conversion", nil)
			return
		}
		res, err := s.RecordConversion(r.Context(), in, SourceWebhook)
		var inv *InvalidError
		switch {
		case errors.As(err, &inv):
			webhookProblem(w, http.StatusUnprocessableEntity, "invalid", "the conversion has invalid fields; nothing was stored", inv.Fields)
		case errors.Is(err, ErrConflict):
			webhookProblem(w, http.StatusConflict, "conflict", err.Error(), nil)
		case err != nil:
			s.log().Error("webhook conversion", "err", err)
			webhookProblem(w, http.StatusInternalServerError, "internal", "internal error; nothing was stored", nil)
		default:
			code := http.StatusCreated
			if res.Duplicate {
				code = http.StatusOK
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(res)
		}
	})
}

// webhookProblem answers with the API's RFC 9457 problem (package problem),
// each bad field with its code and message as POST /api/v1/conversions
// gives them.
func webhookProblem(w http.ResponseWriter, status int, code, detail string, fields []FieldError) {
	problem.Write(w, status, code, detail, problem.Fields(fields))
}
