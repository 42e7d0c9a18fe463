// Package presence is proof of presence for in-person classes: a venue QR
// code that rotates on the projector (with a 4-digit room code as fallback),
// scanned inside WeCom, Feishu or DingTalk, where the person is identified
// by the app's own web authorisation (no login) and matched to the roster.
// A scan becomes a check-in with source qr or room_code through
// bot.Checkins.Record, under the session's windows; optional per-session
// rules require on-site check-in (card taps then count as remote) and a
// geofence. The same app identity can be required on the /c/ check-in page
// and on named survey forms, so a forwarded link answers for nobody else.
//
// The service owns the /q/ pages (Handler), the codes shown by the console's
// projector page (Display), the settings (Settings, SaveSettings) and their
// API (APIHandler).
package presence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/fielderr"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// IdentityProvider is one chat app's in-app web identity (OAuth 2 style
// authorisation with a one-time code). adapters/wecom, adapters/feishu and
// adapters/dingtalk implement it on their *Client.
type IdentityProvider interface {
	// AuthorizeURL is where the browser goes to be identified; the
	// platform sends it back to redirectURI with ?code=…&state=state.
	AuthorizeURL(redirectURI, state string) string
	// IdentifyUser exchanges the one-time code for the person's id as the
	// roster holds it (store.Employee WecomID, FeishuID or DingtalkID).
	IdentifyUser(ctx context.Context, code, redirectURI string) (string, error)
}

// Deps are what the service needs.
type Deps struct {
	DB *gorm.DB
	// Checkins is the one door for check-ins (the router's).
	Checkins *bot.Checkins
	// Signer verifies /c/ check-in tokens for the identity guard.
	Signer *bot.Signer
	// Secret is the link secret; the codes' and cookies' keys derive from it.
	Secret []byte
	// PublicURL is where phones reach the service (codes and redirect URLs).
	PublicURL string
	// Providers are the configured apps' identity flows.
	Providers map[bot.Platform]IdentityProvider
	// Locale is the default language of the /q/ pages.
	Locale string
	Logger *slog.Logger
	Now    func() time.Time
}

// Service runs venue presence.
type Service struct {
	d      Deps
	codec  codec
	secure bool

	mu       sync.Mutex
	attempts map[uint64][]time.Time // wrong room codes per employee

	onsite onsiteCache
}

// New returns a Service.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Checkins == nil {
		return nil, errors.New("presence: DB and Checkins are required")
	}
	if len(d.Secret) < 16 {
		return nil, errors.New("presence: secret must be at least 16 bytes")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	d.PublicURL = strings.TrimRight(d.PublicURL, "/")
	d.Locale = string(text.Parse(d.Locale))
	if d.Providers == nil {
		d.Providers = map[bot.Platform]IdentityProvider{}
	}
	return &Service{
		d: d, codec: newCodec(d.Secret), secure: strings.HasPrefix(d.PublicURL, "https://"),
		attempts: map[uint64][]time.Time{},
	}, nil
}

func (s *Service) now() time.Time { return s.d.Now().UTC() }

func (s *Service) log() *slog.Logger { return s.d.Logger }

// Limits of the settings.
const (
	minRotateSeconds = 5
	maxRotateSeconds = 300
	minRadius        = 20
	maxRadius        = 5000
)

// FieldError is one invalid setting; Code is one of the API's field codes
// (out_of_range, not_allowed).
type FieldError = fielderr.Error

// ValidationError lists every invalid setting; nothing was saved.
type ValidationError = fielderr.Invalid

// Rules are a session's presence settings as callers set them.
type Rules struct {
	RequireOnsite   bool    `json:"require_onsite"`
	RotateSeconds   int     `json:"rotate_seconds"`
	Geofence        bool    `json:"geofence"`
	Latitude        float64 `json:"latitude"`
	Longitude       float64 `json:"longitude"`
	RadiusMeters    int     `json:"radius_m"`
	RequireIdentity bool    `json:"require_identity"`
}

// DefaultRules are the rules of a session that set none.
func DefaultRules() Rules { return Rules{RotateSeconds: store.DefaultRotateSeconds} }

func rulesOf(p store.PresenceSetting) Rules {
	return Rules{
		RequireOnsite: p.RequireOnsite, RotateSeconds: p.RotateSeconds, Geofence: p.Geofence,
		Latitude: p.Latitude, Longitude: p.Longitude, RadiusMeters: p.RadiusMeters, RequireIdentity: p.RequireIdentity,
	}
}

// Validate returns every invalid field.
func (r Rules) Validate() error {
	var fs []FieldError
	if r.RotateSeconds < minRotateSeconds || r.RotateSeconds > maxRotateSeconds {
		fs = append(fs, FieldError{Field: "rotate_seconds", Code: "out_of_range", Message: text.T(text.EN, "presence:field.rotate_seconds", minRotateSeconds, maxRotateSeconds)})
	}
	if r.Geofence {
		if r.Latitude < -90 || r.Latitude > 90 || (r.Latitude == 0 && r.Longitude == 0) {
			fs = append(fs, FieldError{Field: "latitude", Code: "out_of_range", Message: text.T(text.EN, "presence:field.latitude")})
		}
		if r.Longitude < -180 || r.Longitude > 180 {
			fs = append(fs, FieldError{Field: "longitude", Code: "out_of_range", Message: text.T(text.EN, "presence:field.longitude")})
		}
		if r.RadiusMeters < minRadius || r.RadiusMeters > maxRadius {
			fs = append(fs, FieldError{Field: "radius_m", Code: "out_of_range", Message: text.T(text.EN, "presence:field.radius_m", minRadius, maxRadius)})
		}
	}
	if len(fs) > 0 {
		return &ValidationError{Fields: fs}
	}
	return nil
}

// Settings returns a session's rules (the defaults when it set none).
func (s *Service) Settings(ctx context.Context, sessionID uint64) (Rules, error) {
	return settingsOf(ctx, s.d.DB, sessionID)
}

func settingsOf(ctx context.Context, db *gorm.DB, sessionID uint64) (Rules, error) {
	var p store.PresenceSetting
	if err := db.WithContext(ctx).Limit(1).Find(&p, "session_id = ?", sessionID).Error; err != nil {
		return Rules{}, fmt.Errorf("presence: load settings of session %d: %w", sessionID, err)
	}
	if p.SessionID == 0 {
		return DefaultRules(), nil
	}
	return rulesOf(p), nil
}

// ErrNotFound is returned for an unknown session or survey.
var ErrNotFound = errors.New("presence: not found")

// SaveSettings validates and stores a session's rules and writes the audit
// log, in one transaction. Invalid rules change nothing.
func (s *Service) SaveSettings(ctx context.Context, sessionID uint64, r Rules, actor string) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if !r.Geofence {
		r.Latitude, r.Longitude, r.RadiusMeters = 0, 0, 0
	}
	now := s.now()
	return store.Tx(ctx, s.d.DB, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&store.Session{}).Where("id = ?", sessionID).Count(&n).Error; err != nil {
			return fmt.Errorf("load session: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("session %d: %w", sessionID, ErrNotFound)
		}
		row := store.PresenceSetting{
			SessionID: sessionID, RequireOnsite: r.RequireOnsite, RotateSeconds: r.RotateSeconds, Geofence: r.Geofence,
			Latitude: r.Latitude, Longitude: r.Longitude, RadiusMeters: r.RadiusMeters, RequireIdentity: r.RequireIdentity,
			UpdatedBy: actor, UpdatedAt: now,
		}
		if err := upsert(tx, &store.PresenceSetting{}, "session_id", sessionID, &row); err != nil {
			return fmt.Errorf("save settings: %w", err)
		}
		return audit(tx, actor, "presence.settings", fmt.Sprintf("session:%d", sessionID), r, now)
	})
}

// SurveyIdentityRequired reports whether a survey's form needs the app
// identity of its recipient.
func (s *Service) SurveyIdentityRequired(ctx context.Context, surveyID uint64) (bool, error) {
	var si store.SurveyIdentity
	if err := s.d.DB.WithContext(ctx).Limit(1).Find(&si, "survey_id = ?", surveyID).Error; err != nil {
		return false, fmt.Errorf("presence: load survey identity %d: %w", surveyID, err)
	}
	return si.Required, nil
}

// ErrAnonymousSurvey: an anonymous survey never asks who answers.
var ErrAnonymousSurvey = errors.New("presence: an anonymous survey cannot require the app identity")

// SetSurveyIdentity sets whether a named survey's form needs its
// recipient's app identity, audited. Anonymous surveys are refused.
func (s *Service) SetSurveyIdentity(ctx context.Context, surveyID uint64, required bool, actor string) error {
	now := s.now()
	return store.Tx(ctx, s.d.DB, func(tx *gorm.DB) error {
		var sv store.Survey
		if err := tx.Limit(1).Find(&sv, surveyID).Error; err != nil {
			return fmt.Errorf("load survey: %w", err)
		}
		if sv.ID == 0 {
			return fmt.Errorf("survey %d: %w", surveyID, ErrNotFound)
		}
		if sv.Anonymous && required {
			return ErrAnonymousSurvey
		}
		row := store.SurveyIdentity{SurveyID: surveyID, Required: required, UpdatedBy: actor, UpdatedAt: now}
		if err := upsert(tx, &store.SurveyIdentity{}, "survey_id", surveyID, &row); err != nil {
			return fmt.Errorf("save survey identity: %w", err)
		}
		return audit(tx, actor, "survey.identity", fmt.Sprintf("survey:%d", surveyID), map[string]bool{"required": required}, now)
	})
}

// upsert writes row (keyed by col = id) whether or not it exists, zero
// values included (GORM skips them unless every column is selected).
func upsert(tx *gorm.DB, model any, col string, id uint64, row any) error {
	var n int64
	if err := tx.Model(model).Where(col+" = ?", id).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return tx.Model(model).Where(col+" = ?", id).Select("*").Omit(col).Updates(row).Error
	}
	return tx.Select("*").Create(row).Error
}

func audit(tx *gorm.DB, actor, action, object string, detail any, now time.Time) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("audit detail: %w", err)
	}
	if actor == "" {
		actor = "system"
	}
	if err := tx.Create(&store.AuditLog{Actor: actor, Action: action, Object: object, Detail: string(b), CreatedAt: now}).Error; err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}
