package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/fielderr"
	"github.com/learnloop/learnloop/internal/defaults"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
)

// Errors returned by Service.
var (
	ErrNotFound = store.ErrNotFound
)

// FieldError is one invalid field of an Input (codes "required" or
// "bad_value").
type FieldError = fielderr.Error

// InvalidError lists the invalid fields of a request; nothing was changed.
type InvalidError = fielderr.Invalid

// Enqueuer puts the dispatch job in the jobs table (scheduler.Scheduler).
type Enqueuer interface {
	Enqueue(ctx context.Context, tx *gorm.DB, spec scheduler.JobSpec) (store.Job, bool, error)
}

// Options tune sending; zero values take the documented defaults.
type Options struct {
	// AllowPrivate lets endpoints point at loopback and private networks
	// (webhooks.allow_private_targets); off, such targets are refused when
	// saved and again on every connection.
	AllowPrivate bool
	// Timeout bounds one POST; default 10s.
	Timeout time.Duration
	// MaxAttempts before a delivery is failed; default 8.
	MaxAttempts int
	// BackoffBase and BackoffMax shape retries (scheduler.Backoff); default
	// 30s and 1h.
	BackoffBase, BackoffMax time.Duration
	// PollInterval is how often the dispatch job looks for work; default 5s.
	PollInterval time.Duration
	// Concurrency is how many POSTs run at once; default 4.
	Concurrency int
	// Retention is how long settled deliveries, their attempts and the
	// events nothing waits for are kept; default 30 days.
	Retention time.Duration
}

// Deps are what New needs.
type Deps struct {
	DB    *gorm.DB
	Sched Enqueuer
	// Key seals endpoint secrets at rest (security.link_secret).
	Key    []byte
	Opts   Options
	Logger *slog.Logger
	Now    func() time.Time
	// Transport replaces the HTTP transport (tests); nil builds one whose
	// dialer refuses internal addresses unless AllowPrivate.
	Transport http.RoundTripper
}

// Service manages webhook endpoints, their delivery log, and sends events.
type Service struct {
	db     *gorm.DB
	sched  Enqueuer
	seal   *sealer
	opts   Options
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
	pruned atomic.Int64 // Unix ms of the last prune
}

// New returns a Service.
func New(d Deps) (*Service, error) {
	seal, err := newSealer(d.Key)
	if err != nil {
		return nil, err
	}
	o := d.Opts
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 30 * time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = time.Hour
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 5 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Retention <= 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	s := &Service{db: d.DB, sched: d.Sched, seal: seal, opts: o, log: defaults.Logger(d.Logger), now: d.Now}
	if s.now == nil {
		s.now = time.Now
	}
	tr := d.Transport
	if tr == nil {
		tr = &http.Transport{
			DialContext: dialer(o.AllowPrivate), ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 4,
			IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: o.Timeout,
		}
	}
	s.client = &http.Client{
		Transport: tr, Timeout: o.Timeout,
		// A redirect could lead anywhere (inside too): the receiver must
		// answer at the URL it gave.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s, nil
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Endpoint is an endpoint as the API, the console and the CLI show it. The
// secret is shown once, when it is made (create, rotate).
type Endpoint struct {
	ID          uint64    `json:"id"`
	URL         string    `json:"url"`
	Events      []string  `json:"events"`
	Enabled     bool      `json:"enabled"`
	Description string    `json:"description"`
	Secret      string    `json:"secret,omitempty"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Input creates or changes an endpoint; a nil field is left as it is (on
// create: url and events are required, enabled defaults to true, a secret
// is generated unless given).
type Input struct {
	URL          *string  `json:"url"`
	Events       []string `json:"events"`
	Enabled      *bool    `json:"enabled"`
	Description  *string  `json:"description"`
	Secret       *string  `json:"secret"`
	RotateSecret bool     `json:"rotate_secret"`
}

func view(e store.WebhookEndpoint) Endpoint {
	return Endpoint{
		ID: e.ID, URL: e.URL, Events: splitEvents(e.Events), Enabled: e.Enabled, Description: e.Description,
		CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC(),
	}
}

func splitEvents(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// follows reports whether an endpoint's event list includes typ.
func follows(events, typ string) bool { return slices.Contains(splitEvents(events), typ) }

// apply validates in onto e; create requires url and events.
func (s *Service) apply(e *store.WebhookEndpoint, in Input, create bool) (secret string, err error) {
	var fs []FieldError
	bad := func(field, code, msg string) {
		fs = append(fs, FieldError{Field: field, Code: code, Message: msg})
	}
	switch {
	case in.URL != nil:
		u, err := checkURL(*in.URL, s.opts.AllowPrivate)
		switch {
		case errors.Is(err, ErrPrivateTarget):
			bad("url", "bad_value", "points at a loopback, private or link-local address (webhooks.allow_private_targets is off)")
		case err != nil:
			bad("url", "bad_value", err.Error())
		default:
			e.URL = u.String()
		}
	case create:
		bad("url", "required", "is required")
	}
	switch {
	case in.Events != nil:
		known := store.EventTypes()
		var evs []string
		for _, ev := range in.Events {
			ev = strings.TrimSpace(ev)
			if !slices.Contains(known, ev) {
				bad("events", "bad_value", fmt.Sprintf("%q is not one of %s", ev, strings.Join(known, ", ")))
				continue
			}
			if !slices.Contains(evs, ev) {
				evs = append(evs, ev)
			}
		}
		if len(in.Events) == 0 {
			bad("events", "required", "needs at least one event type")
		}
		slices.SortFunc(evs, func(a, b string) int { return slices.Index(known, a) - slices.Index(known, b) })
		e.Events = strings.Join(evs, ",")
	case create:
		bad("events", "required", "is required")
	}
	if in.Enabled != nil {
		e.Enabled = *in.Enabled
	} else if create {
		e.Enabled = true
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		if utf8.RuneCountInString(d) > 255 {
			bad("description", "bad_value", "is longer than 255 characters")
		}
		e.Description = d
	}
	switch {
	case in.Secret != nil && in.RotateSecret:
		bad("secret", "bad_value", "give a secret or ask to rotate it, not both")
	case in.Secret != nil:
		secret = *in.Secret
		if len(secret) < 16 || len(secret) > 128 {
			bad("secret", "bad_value", "must be 16 to 128 characters")
		}
	case create || in.RotateSecret:
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("generate webhook secret: %w", err)
		}
		secret = "whsec_" + hex.EncodeToString(b[:])
	}
	if len(fs) > 0 {
		return "", &InvalidError{Fields: fs}
	}
	if secret != "" {
		if e.Secret, err = s.seal.seal(secret); err != nil {
			return "", err
		}
	}
	return secret, nil
}

// Create adds an endpoint and returns it with its secret (shown once).
func (s *Service) Create(ctx context.Context, in Input, actor string) (Endpoint, error) {
	now := s.clock()
	e := store.WebhookEndpoint{CreatedBy: actor, CreatedAt: now, UpdatedAt: now}
	secret, err := s.apply(&e, in, true)
	if err != nil {
		return Endpoint{}, err
	}
	err = store.Tx(ctx, s.db, func(tx *gorm.DB) error {
		e.ID = 0
		if err := tx.Create(&e).Error; err != nil {
			return err
		}
		if err := s.audit(tx, actor, "webhook.create", e, nil); err != nil {
			return err
		}
		return s.ensureJob(ctx, tx)
	})
	if err != nil {
		return Endpoint{}, fmt.Errorf("create webhook: %w", err)
	}
	v := view(e)
	v.Secret = secret
	return v, nil
}

// Update changes an endpoint; a rotated secret is returned once.
func (s *Service) Update(ctx context.Context, id uint64, in Input, actor string) (Endpoint, error) {
	var out Endpoint
	err := store.Tx(ctx, s.db, func(tx *gorm.DB) error {
		e, err := s.load(tx, id)
		if err != nil {
			return err
		}
		secret, err := s.apply(&e, in, false)
		if err != nil {
			return err
		}
		e.UpdatedAt = s.clock()
		if err := tx.Save(&e).Error; err != nil {
			return err
		}
		if !e.Enabled {
			// Nothing more goes to a disabled endpoint: what waits is
			// failed (and can be redelivered once it is enabled again).
			if err := tx.Model(&store.WebhookDelivery{}).Where("endpoint_id = ? AND status = ?", id, store.WebhookPending).
				Updates(map[string]any{"status": store.WebhookFailed, "last_error": "endpoint disabled", "updated_at": e.UpdatedAt}).Error; err != nil {
				return err
			}
		}
		out = view(e)
		out.Secret = secret
		return s.audit(tx, actor, "webhook.update", e, map[string]any{"rotated_secret": secret != ""})
	})
	if err != nil {
		return Endpoint{}, fmt.Errorf("update webhook %d: %w", id, err)
	}
	return out, nil
}

// Delete removes an endpoint with its deliveries and their log.
func (s *Service) Delete(ctx context.Context, id uint64, actor string) error {
	err := store.Tx(ctx, s.db, func(tx *gorm.DB) error {
		e, err := s.load(tx, id)
		if err != nil {
			return err
		}
		for _, m := range []any{&store.WebhookAttempt{}, &store.WebhookDelivery{}} {
			if err := tx.Where("endpoint_id = ?", id).Delete(m).Error; err != nil {
				return err
			}
		}
		if err := tx.Delete(&store.WebhookEndpoint{}, id).Error; err != nil {
			return err
		}
		return s.audit(tx, actor, "webhook.delete", e, nil)
	})
	if err != nil {
		return fmt.Errorf("delete webhook %d: %w", id, err)
	}
	return nil
}

// Get returns one endpoint.
func (s *Service) Get(ctx context.Context, id uint64) (Endpoint, error) {
	e, err := s.load(s.db.WithContext(ctx), id)
	if err != nil {
		return Endpoint{}, err
	}
	return view(e), nil
}

// List returns endpoints by id, limit rows after offset.
func (s *Service) List(ctx context.Context, offset, limit int) ([]Endpoint, error) {
	var es []store.WebhookEndpoint
	if err := s.db.WithContext(ctx).Order("id").Offset(offset).Limit(limit).Find(&es).Error; err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	out := make([]Endpoint, len(es))
	for i, e := range es {
		out[i] = view(e)
	}
	return out, nil
}

func (s *Service) load(db *gorm.DB, id uint64) (store.WebhookEndpoint, error) {
	var e store.WebhookEndpoint
	if err := db.Limit(1).Find(&e, id).Error; err != nil {
		return e, fmt.Errorf("load webhook %d: %w", id, err)
	}
	if e.ID == 0 {
		return e, fmt.Errorf("webhook %d: %w", id, ErrNotFound)
	}
	return e, nil
}

// audit writes the audit row of a change; the secret is never in it.
func (s *Service) audit(tx *gorm.DB, actor, action string, e store.WebhookEndpoint, extra map[string]any) error {
	detail := map[string]any{"url": e.URL, "events": splitEvents(e.Events), "enabled": e.Enabled}
	for k, v := range extra {
		detail[k] = v
	}
	b, _ := json.Marshal(detail)
	return tx.Create(&store.AuditLog{Actor: actor, Action: action, Object: "webhook:" + strconv.FormatUint(e.ID, 10), Detail: string(b), CreatedAt: s.clock()}).Error
}

// Attempt is one line of a delivery's log.
type Attempt struct {
	Attempt    int       `json:"attempt"`
	StartedAt  time.Time `json:"started_at"`
	StatusCode int       `json:"status_code"`
	LatencyMS  int64     `json:"latency_ms"`
	Outcome    string    `json:"outcome"`
	Error      string    `json:"error"`
}

// Delivery is one event for one endpoint with its attempts.
type Delivery struct {
	ID            uint64     `json:"id"`
	EventID       string     `json:"event_id"`
	EventType     string     `json:"event_type"`
	OccurredAt    time.Time  `json:"occurred_at"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	LastStatus    int        `json:"last_status"`
	LastError     string     `json:"last_error"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	DeliveredAt   *time.Time `json:"delivered_at"`
	CreatedAt     time.Time  `json:"created_at"`
	Log           []Attempt  `json:"log"`
}

// EventID is the id a receiver sees for an outbox event (its idempotency key).
func EventID(id uint64) string { return "evt_" + strconv.FormatUint(id, 10) }

// Deliveries returns an endpoint's deliveries, newest first, with their log.
func (s *Service) Deliveries(ctx context.Context, endpointID uint64, offset, limit int) ([]Delivery, error) {
	db := s.db.WithContext(ctx)
	if _, err := s.load(db, endpointID); err != nil {
		return nil, err
	}
	var ds []store.WebhookDelivery
	if err := db.Where("endpoint_id = ?", endpointID).Order("id DESC").Offset(offset).Limit(limit).Find(&ds).Error; err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	return s.deliveryViews(db, ds)
}

func (s *Service) deliveryViews(db *gorm.DB, ds []store.WebhookDelivery) ([]Delivery, error) {
	out := make([]Delivery, len(ds))
	if len(ds) == 0 {
		return out, nil
	}
	ids, evIDs := make([]uint64, len(ds)), make([]uint64, len(ds))
	for i, d := range ds {
		ids[i], evIDs[i] = d.ID, d.EventID
	}
	var evs []store.WebhookEvent
	if err := db.Where("id IN ?", evIDs).Find(&evs).Error; err != nil {
		return nil, fmt.Errorf("load webhook events: %w", err)
	}
	byID := map[uint64]store.WebhookEvent{}
	for _, e := range evs {
		byID[e.ID] = e
	}
	var atts []store.WebhookAttempt
	if err := db.Where("delivery_id IN ?", ids).Order("id").Find(&atts).Error; err != nil {
		return nil, fmt.Errorf("load webhook attempts: %w", err)
	}
	logs := map[uint64][]Attempt{}
	for _, a := range atts {
		logs[a.DeliveryID] = append(logs[a.DeliveryID], Attempt{Attempt: a.Attempt, StartedAt: a.StartedAt.UTC(), StatusCode: a.StatusCode, LatencyMS: a.LatencyMS, Outcome: a.Outcome, Error: a.Error})
	}
	for i, d := range ds {
		ev := byID[d.EventID]
		v := Delivery{
			ID: d.ID, EventID: EventID(d.EventID), EventType: ev.Type, OccurredAt: ev.OccurredAt.UTC(), Status: d.Status,
			Attempts: d.Attempts, LastStatus: d.LastStatus, LastError: d.LastError, DeliveredAt: utcPtr(d.DeliveredAt),
			CreatedAt: d.CreatedAt.UTC(), Log: logs[d.ID],
		}
		if v.Log == nil {
			v.Log = []Attempt{}
		}
		if d.Status == store.WebhookPending {
			t := d.NextAttemptAt.UTC()
			v.NextAttemptAt = &t
		}
		out[i] = v
	}
	return out, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Redeliver sends a delivery again as soon as the dispatch job runs, with a
// fresh budget of attempts; its log is kept.
func (s *Service) Redeliver(ctx context.Context, endpointID, deliveryID uint64, actor string) (Delivery, error) {
	var d store.WebhookDelivery
	err := store.Tx(ctx, s.db, func(tx *gorm.DB) error {
		e, err := s.load(tx, endpointID)
		if err != nil {
			return err
		}
		d = store.WebhookDelivery{}
		if err := tx.Where("id = ? AND endpoint_id = ?", deliveryID, endpointID).Limit(1).Find(&d).Error; err != nil {
			return err
		}
		if d.ID == 0 {
			return fmt.Errorf("delivery %d of webhook %d: %w", deliveryID, endpointID, ErrNotFound)
		}
		if !e.Enabled {
			return &InvalidError{Fields: []FieldError{{Field: "enabled", Code: "bad_value", Message: "the endpoint is disabled: enable it first"}}}
		}
		now := s.clock()
		d.Status, d.Attempts, d.NextAttemptAt, d.UpdatedAt = store.WebhookPending, 0, now, now
		if err := tx.Model(&store.WebhookDelivery{}).Where("id = ?", d.ID).
			Updates(map[string]any{"status": d.Status, "attempts": 0, "next_attempt_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := s.audit(tx, actor, "webhook.redeliver", e, map[string]any{"delivery": d.ID}); err != nil {
			return err
		}
		return s.ensureJob(ctx, tx)
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("redeliver: %w", err)
	}
	vs, err := s.deliveryViews(s.db.WithContext(ctx), []store.WebhookDelivery{d})
	if err != nil {
		return Delivery{}, err
	}
	return vs[0], nil
}
