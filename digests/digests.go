// Package digests sends coordinators and department heads a weekly or
// monthly digest card in chat: the period's classes, check-in and response
// rates, NPS/CSAT with n, open follow-ups and top campaigns, computed by
// reports.Digest for the subscriber's scope.
//
// A subscription is carried by a session of its own (in the digests'
// course) whose one touchpoint of kind "digest" has the subscription's cron
// spec, so it is planned, moved out of quiet hours, fired and delivered by
// the same machinery as a class push: one job and one delivery per
// occurrence (exactly one card per period, whatever the replicas or
// retries), failures in delivery health.
package digests

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/fielderr"
	"github.com/learnloop/learnloop/internal/defaults"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
)

// Kind is the touchpoint kind (and card kind) of a digest.
const Kind = "digest"

// Audience is the audience of a digest's touchpoint: the subscriber.
const Audience = "digest"

// CourseCode is the code of the course that holds the digests' carrier
// sessions.
const CourseCode = "_digests"

// carrierLife is how long a carrier session stays open.
const carrierLife = 20 * 365 * 24 * time.Hour

// Errors returned by Service.
var (
	ErrNotFound  = store.ErrNotFound
	ErrForbidden = errors.New("forbidden")
)

// Field error codes.
const (
	CodeRequired  = "required"
	CodeBadValue  = "bad_value"
	CodeNotFound  = "not_found"
	CodeForbidden = "forbidden"
	CodeNoUserID  = "no_user_id"
	// CodeDuplicate: the account already has a subscription with the same
	// schedule, zone and platform (a second one would send each card twice).
	CodeDuplicate = "duplicate"
)

// FieldError is one invalid field of an Input.
type FieldError = fielderr.Error

// InvalidError lists the invalid fields of a request; nothing was changed.
type InvalidError = fielderr.Invalid

// Actor is who asks: an admin (the API token, the CLI) may manage every
// account's subscriptions, a coordinator or department head only their
// own.
type Actor = reports.Actor

// Service creates, lists, deletes, test-sends and renders digest
// subscriptions; the API, the console and the CLI share it.
type Service struct {
	DB      *gorm.DB
	Planner *plan.Planner
	// PublicURL is where the console is (the card's link).
	PublicURL string
	// Platforms are the enabled platforms a subscription may choose.
	Platforms []bot.Platform
	// DefaultPlatform is where an employee without a preferred platform
	// gets pushes (the Deliverer's).
	DefaultPlatform bot.Platform
	// MinGroupSize is the reports' minimum group size (0: the default).
	MinGroupSize int
	Location     *time.Location
	Locale       string
	Logger       *slog.Logger
	Now          func() time.Time
}

func (s *Service) now() time.Time { return defaults.Now(s.Now) }

func (s *Service) log() *slog.Logger { return defaults.Logger(s.Logger) }

// Register adds the digest card kind and audience to reg (see
// bot.Registry).
func (s *Service) Register(reg *bot.Registry) error {
	return errors.Join(reg.Kind(Kind, s.renderCard), reg.Audience(Audience, s.audience))
}

// Input is a new subscription.
type Input struct {
	// Account is the console account's username; empty means the actor's
	// own.
	Account string `json:"account,omitempty"`
	// Employee is the 工号 (employee id) of the account's own employee:
	// it links the account to the person its cards go to. Needed when the
	// account is not linked yet.
	Employee string `json:"employee,omitempty"`
	// Frequency is weekly (每周一 09:00), monthly (每月1日 09:00) or cron.
	Frequency string `json:"frequency"`
	// Cron is the schedule of frequency cron (5 fields).
	Cron string `json:"cron,omitempty"`
	// TimeZone is the IANA zone of the schedule; empty means the
	// configured one.
	TimeZone string `json:"time_zone,omitempty"`
	// Platform is the chat app; empty means the employee's own.
	Platform string `json:"platform,omitempty"`
	// Locale is the card's language (zh-CN, en); empty means the account's.
	Locale string `json:"locale,omitempty"`
}

// Subscription is a stored subscription as the front doors show it.
type Subscription struct {
	ID           uint64     `json:"id"`
	Account      string     `json:"account"`
	Role         string     `json:"role"`
	Department   string     `json:"department,omitempty"`
	Employee     string     `json:"employee"`
	EmployeeName string     `json:"employee_name"`
	Frequency    string     `json:"frequency"`
	Cron         string     `json:"cron"`
	TimeZone     string     `json:"time_zone"`
	Platform     string     `json:"platform,omitempty"`
	Locale       string     `json:"locale,omitempty"`
	TouchpointID uint64     `json:"touchpoint_id"`
	SessionID    uint64     `json:"session_id"`
	Status       string     `json:"status"`
	NextAt       *time.Time `json:"next_at,omitempty"`
	// Last is the latest card's delivery (nil before the first): a failed
	// one says why, as delivery health does.
	Last      *Delivery `json:"last,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Delivery is one digest card's delivery.
type Delivery struct {
	Occurrence   string     `json:"occurrence"`
	Test         bool       `json:"test"`
	Platform     string     `json:"platform"`
	Status       string     `json:"status"`
	ErrorCode    string     `json:"error_code,omitempty"`
	ErrorMessage string     `json:"error_message,omitempty"`
	SentAt       *time.Time `json:"sent_at,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
}

func isAdmin(a Actor) bool { return a.Role == "" || a.Role == store.RoleAdmin }

// mayManage reports whether a may manage the subscriptions of account.
func mayManage(a Actor, account store.Account) bool {
	return isAdmin(a) || a.Username == account.Username
}

func actorName(a Actor) string {
	if a.Username == "" {
		return "system"
	}
	return a.Username
}

// validated is an Input checked against the database.
type validated struct {
	account  store.Account
	employee store.Employee
	link     bool // store the account's employee
	cron     string
	zone     *time.Location
}

func (s *Service) validate(ctx context.Context, db *gorm.DB, in *Input, a Actor) (validated, error) {
	var v validated
	var errs []FieldError
	bad := func(field, code, msg string) {
		errs = append(errs, FieldError{Field: field, Code: code, Message: msg})
	}
	in.Account, in.Employee, in.Frequency = strings.TrimSpace(in.Account), strings.TrimSpace(in.Employee), strings.TrimSpace(in.Frequency)
	in.TimeZone, in.Platform, in.Locale = strings.TrimSpace(in.TimeZone), strings.TrimSpace(in.Platform), strings.TrimSpace(in.Locale)
	if in.Account == "" {
		in.Account = a.Username
	}
	if in.Account == "" || in.Account == "system" {
		bad("account", CodeRequired, "is required")
	} else if err := lockAccount(db).Where("username = ?", in.Account).Limit(1).Find(&v.account).Error; err != nil {
		return v, fmt.Errorf("load account: %w", err)
	} else if v.account.ID == 0 || v.account.Disabled {
		bad("account", CodeNotFound, "is no active console account")
	} else if !mayManage(a, v.account) {
		bad("account", CodeForbidden, "may only be your own account")
	}
	switch in.Frequency {
	case store.DigestWeekly, store.DigestMonthly:
		in.Cron = ""
	case store.DigestCron:
		if strings.TrimSpace(in.Cron) == "" {
			bad("cron", CodeRequired, "is required for frequency cron")
		}
	case "":
		bad("frequency", CodeRequired, "is required (weekly, monthly or cron)")
	default:
		bad("frequency", CodeBadValue, "is not one of weekly, monthly, cron")
	}
	v.cron = CronOf(in.Frequency, in.Cron)
	v.zone = s.Location
	if v.zone == nil {
		v.zone = time.UTC
	}
	if in.TimeZone != "" {
		l, err := time.LoadLocation(in.TimeZone)
		if err != nil || in.TimeZone == "Local" {
			bad("time_zone", CodeBadValue, "is not an IANA time zone")
		} else {
			v.zone = l
		}
	}
	if in.Frequency == store.DigestCron && v.cron != "" {
		if len(v.cron) > plan.MaxCron {
			bad("cron", CodeBadValue, fmt.Sprintf("is longer than %d characters", plan.MaxCron))
		} else if strings.HasPrefix(v.cron, "TZ=") || strings.HasPrefix(v.cron, "CRON_TZ=") {
			bad("cron", CodeBadValue, "must not name a zone (use time_zone)")
		} else if _, err := scheduler.NextCron(v.cron, v.zone, s.now()); err != nil {
			bad("cron", CodeBadValue, "is not a cron spec (minute hour day month weekday)")
		} else if _, _, err := Period(v.cron, v.zone, s.now()); err != nil {
			bad("cron", CodeBadValue, "fires too rarely to have a period")
		}
	}
	if in.Platform != "" && !slices.Contains(s.Platforms, bot.Platform(in.Platform)) {
		names := make([]string, len(s.Platforms))
		for i, p := range s.Platforms {
			names[i] = string(p)
		}
		bad("platform", CodeBadValue, "is not an enabled platform ("+strings.Join(names, ", ")+")")
	}
	if in.Locale != "" && in.Locale != "zh-CN" && in.Locale != "en" {
		bad("locale", CodeBadValue, "is not one of zh-CN, en")
	}
	if v.account.ID != 0 {
		switch {
		case in.Employee != "":
			if err := db.Where("external_id = ?", in.Employee).Limit(1).Find(&v.employee).Error; err != nil {
				return v, fmt.Errorf("load employee: %w", err)
			}
			if v.employee.ID == 0 || !v.employee.Active {
				bad("employee", CodeNotFound, "is no active employee")
			}
			v.link = v.employee.ID != 0 && v.employee.ID != v.account.EmployeeID
		case v.account.EmployeeID != 0:
			if err := db.Limit(1).Find(&v.employee, v.account.EmployeeID).Error; err != nil {
				return v, fmt.Errorf("load employee: %w", err)
			}
			if v.employee.ID == 0 || !v.employee.Active {
				bad("employee", CodeNotFound, "the account's employee is no longer active: give the 工号 of its employee")
			}
		default:
			bad("employee", CodeRequired, "is required: the account is not linked to an employee yet (give its 工号)")
		}
	}
	if v.employee.ID != 0 && v.employee.Active {
		p := bot.Platform(in.Platform)
		if p == "" {
			p = bot.Platform(v.employee.Platform)
		}
		if p == "" {
			p = s.DefaultPlatform
		}
		if p != "" && bot.PlatformUserID(v.employee, p) == "" {
			bad("platform", CodeNoUserID, fmt.Sprintf("the employee has no %s user id", p))
		}
	}
	if len(errs) == 0 {
		var n int64
		if err := db.Model(&store.DigestSubscription{}).Where("account_id = ? AND cron_spec = ? AND time_zone = ? AND platform = ?",
			v.account.ID, v.cron, v.zone.String(), in.Platform).Count(&n).Error; err != nil {
			return v, fmt.Errorf("find the same digest: %w", err)
		}
		if n > 0 {
			bad("frequency", CodeDuplicate, "the account already gets this digest (same schedule, zone and platform)")
		}
	}
	if len(errs) > 0 {
		return v, &InvalidError{Fields: errs}
	}
	return v, nil
}

// courseID returns the id of the digests' carrier course, creating it.
func courseID(tx *gorm.DB) (uint64, error) {
	c := store.Course{Code: CourseCode, Title: "学习摘要 Digests", Category: store.CategoryDigest, TargetLevel: 1, Behaviours: "[]"}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&c).Error; err != nil {
		return 0, fmt.Errorf("create digests course: %w", err)
	}
	var got store.Course
	if err := tx.Select("id").Where("code = ?", CourseCode).Take(&got).Error; err != nil {
		return 0, fmt.Errorf("load digests course: %w", err)
	}
	return got.ID, nil
}

// lockAccount reads the subscribing account locked for the transaction on
// MySQL, so that two concurrent subscriptions of one account take turns
// and the second sees the first in its duplicate check (SQLite has one
// writer at a time anyway).
func lockAccount(db *gorm.DB) *gorm.DB {
	if db.Dialector.Name() == "mysql" {
		return db.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return db
}

// Create validates and stores a subscription, links the account to its
// employee when asked, and schedules the digest's touchpoint, in one
// transaction; bad input changes nothing.
func (s *Service) Create(ctx context.Context, in Input, a Actor) (Subscription, error) {
	var id uint64
	err := store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		tx = tx.WithContext(ctx)
		v, err := s.validate(ctx, tx, &in, a)
		if err != nil {
			return err
		}
		now := s.now()
		if v.link {
			if err := tx.Model(&store.Account{}).Where("id = ?", v.account.ID).Updates(map[string]any{"employee_id": v.employee.ID, "updated_at": now}).Error; err != nil {
				return fmt.Errorf("link account to employee: %w", err)
			}
			if err := store.WriteAudit(tx, actorName(a), "account.link_employee", fmt.Sprintf("account:%d", v.account.ID),
				map[string]any{"employee": v.employee.ExternalID}, now); err != nil {
				return err
			}
		}
		cid, err := courseID(tx)
		if err != nil {
			return err
		}
		sess := store.Session{CourseID: cid, Title: fmt.Sprintf("摘要 %s %s", v.account.Username, in.Frequency), StartsAt: now, EndsAt: now.Add(carrierLife),
			TimeZone: v.zone.String(), Locale: cmp.Or(in.Locale, v.account.Locale, s.Locale, "zh-CN"), Status: store.SessionPlanned}
		if err := tx.Create(&sess).Error; err != nil {
			return fmt.Errorf("create carrier session: %w", err)
		}
		tp := store.Touchpoint{Kind: Kind, Anchor: store.AnchorAbsolute, Audience: Audience, Template: Kind, CronSpec: v.cron,
			Note: fmt.Sprintf("digest of %s", v.account.Username)}
		if err := s.Planner.Create(ctx, tx, &tp, sess); err != nil {
			return fmt.Errorf("schedule digest: %w", err)
		}
		sub := store.DigestSubscription{AccountID: v.account.ID, Frequency: in.Frequency, CronSpec: v.cron, TimeZone: v.zone.String(),
			Platform: in.Platform, Locale: in.Locale, SessionID: sess.ID, TouchpointID: tp.ID, CreatedBy: actorName(a), CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&sub).Error; err != nil {
			return fmt.Errorf("create subscription: %w", err)
		}
		id = sub.ID
		return store.WriteAudit(tx, actorName(a), "digest.subscribe", fmt.Sprintf("digest:%d", sub.ID),
			map[string]any{"account": v.account.Username, "frequency": in.Frequency, "cron": v.cron, "time_zone": sub.TimeZone, "platform": sub.Platform}, now)
	})
	if err != nil {
		return Subscription{}, err
	}
	return s.Get(ctx, id, a)
}

// row is a subscription joined with its account, employee and touchpoint.
type row struct {
	store.DigestSubscription
	Username     string
	Role         string
	Department   string
	ExternalID   string
	EmployeeName string
	TpStatus     string
	RunAt        *time.Time
}

func (s *Service) query(ctx context.Context) *gorm.DB {
	return s.DB.WithContext(ctx).Table("digest_subscriptions").
		Select("digest_subscriptions.*, console_accounts.username, console_accounts.role, console_accounts.department, " +
			"employees.external_id, employees.name AS employee_name, touchpoints.status AS tp_status, touchpoints.run_at").
		Joins("JOIN console_accounts ON console_accounts.id = digest_subscriptions.account_id").
		Joins("LEFT JOIN employees ON employees.id = console_accounts.employee_id").
		Joins("LEFT JOIN touchpoints ON touchpoints.id = digest_subscriptions.touchpoint_id")
}

func (r row) view() Subscription {
	out := Subscription{ID: r.ID, Account: r.Username, Role: r.Role, Department: r.Department, Employee: r.ExternalID, EmployeeName: r.EmployeeName,
		Frequency: r.Frequency, Cron: r.CronSpec, TimeZone: r.TimeZone, Platform: r.Platform, Locale: r.Locale, TouchpointID: r.TouchpointID,
		SessionID: r.SessionID, Status: r.TpStatus, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC()}
	if r.RunAt != nil && r.TpStatus == store.TouchpointScheduled {
		t := r.RunAt.UTC()
		out.NextAt = &t
	}
	return out
}

// List returns a page of the subscriptions a may see (an admin all, others
// their own), by id; limit ≤ 0 means 100.
func (s *Service) List(ctx context.Context, a Actor, offset, limit int) ([]Subscription, error) {
	if limit <= 0 {
		limit = 100
	}
	q := s.query(ctx)
	if !isAdmin(a) {
		q = q.Where("console_accounts.username = ?", a.Username)
	}
	var rows []row
	if err := q.Order("digest_subscriptions.id").Offset(offset).Limit(limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list digests: %w", err)
	}
	out := make([]Subscription, len(rows))
	for i, r := range rows {
		out[i] = r.view()
	}
	return out, s.lastDeliveries(ctx, out)
}

// lastDeliveries fills each subscription's latest delivery.
func (s *Service) lastDeliveries(ctx context.Context, subs []Subscription) error {
	if len(subs) == 0 {
		return nil
	}
	tps := make([]uint64, len(subs))
	for i, x := range subs {
		tps[i] = x.TouchpointID
	}
	db := s.DB.WithContext(ctx)
	var ds []store.Delivery
	last := db.Model(&store.Delivery{}).Select("MAX(id)").Where("touchpoint_id IN ?", tps).Group("touchpoint_id")
	if err := db.Where("id IN (?)", last).Find(&ds).Error; err != nil {
		return fmt.Errorf("load digest deliveries: %w", err)
	}
	by := make(map[uint64]*Delivery, len(ds))
	for _, d := range ds {
		_, test := occurrenceTime(d.Occurrence, d.CreatedAt)
		x := &Delivery{Occurrence: d.Occurrence, Test: test, Platform: d.Platform, Status: d.Status, ErrorCode: d.ErrorCode,
			ErrorMessage: d.ErrorMessage, CreatedAt: d.CreatedAt.UTC()}
		if d.SentAt != nil {
			t := d.SentAt.UTC()
			x.SentAt = &t
		}
		by[d.TouchpointID] = x
	}
	for i := range subs {
		subs[i].Last = by[subs[i].TouchpointID]
	}
	return nil
}

// Get returns subscription id, if a may see it.
func (s *Service) Get(ctx context.Context, id uint64, a Actor) (Subscription, error) {
	var rows []row
	if err := s.query(ctx).Where("digest_subscriptions.id = ?", id).Limit(1).Scan(&rows).Error; err != nil {
		return Subscription{}, fmt.Errorf("load digest %d: %w", id, err)
	}
	if len(rows) == 0 || (!isAdmin(a) && rows[0].Username != a.Username) {
		return Subscription{}, fmt.Errorf("digest %d: %w", id, ErrNotFound)
	}
	out := []Subscription{rows[0].view()}
	return out[0], s.lastDeliveries(ctx, out)
}

// Delete ends a subscription: its touchpoint and job are cancelled, its
// carrier session closed and the subscription removed; the cards already
// sent stay as deliveries.
func (s *Service) Delete(ctx context.Context, id uint64, a Actor) error {
	sub, err := s.Get(ctx, id, a)
	if err != nil {
		return err
	}
	return store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		tx = tx.WithContext(ctx)
		var row store.DigestSubscription
		if err := tx.Where("id = ?", id).Limit(1).Find(&row).Error; err != nil {
			return fmt.Errorf("load digest %d: %w", id, err)
		}
		if row.ID == 0 {
			return fmt.Errorf("digest %d: %w", id, ErrNotFound)
		}
		if err := s.Planner.Delete(ctx, tx, row.TouchpointID); err != nil && !errors.Is(err, plan.ErrNotFound) {
			return fmt.Errorf("cancel digest touchpoint: %w", err)
		}
		if err := tx.Model(&store.Session{}).Where("id = ?", row.SessionID).Update("status", store.SessionCancelled).Error; err != nil {
			return fmt.Errorf("close carrier session: %w", err)
		}
		if err := tx.Delete(&store.DigestSubscription{}, row.ID).Error; err != nil {
			return fmt.Errorf("delete digest %d: %w", id, err)
		}
		return store.WriteAudit(tx, actorName(a), "digest.unsubscribe", fmt.Sprintf("digest:%d", id), map[string]any{"account": sub.Account}, s.now())
	})
}

// SendTest sends the subscription's digest once now ("发送一次"), about
// the period of the last scheduled digest, as a test occurrence of its own
// (the scheduled ones are untouched). It returns the job's id.
func (s *Service) SendTest(ctx context.Context, id uint64, a Actor) (uint64, error) {
	sub, err := s.Get(ctx, id, a)
	if err != nil {
		return 0, err
	}
	now := s.now()
	occ := testOccurrence(now)
	var jobID uint64
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		job, _, err := s.Planner.Sched.Enqueue(ctx, tx, scheduler.JobSpec{
			Kind: plan.JobFire, UniqueKey: fmt.Sprintf("tp:%d:%s", sub.TouchpointID, occ), RunAt: now,
			Payload: plan.FirePayload{TouchpointID: sub.TouchpointID, Occurrence: occ},
		})
		if err != nil {
			return fmt.Errorf("enqueue test digest: %w", err)
		}
		jobID = job.ID
		return store.WriteAudit(tx.WithContext(ctx), actorName(a), "digest.send_test", fmt.Sprintf("digest:%d", id), map[string]any{"occurrence": occ}, now)
	})
	return jobID, err
}

// Preview computes the figures a digest of subscription id would show if
// it were sent at now: the period of the last scheduled digest.
func (s *Service) Preview(ctx context.Context, id uint64, a Actor) (*reports.DigestReport, error) {
	sub, err := s.Get(ctx, id, a)
	if err != nil {
		return nil, err
	}
	var row store.DigestSubscription
	if err := s.DB.WithContext(ctx).Where("id = ?", sub.ID).Take(&row).Error; err != nil {
		return nil, fmt.Errorf("load digest %d: %w", id, err)
	}
	return s.figures(ctx, s.DB, row, s.now())
}

// subscriber loads the subscription of touchpoint tpID and its account.
func (s *Service) subscriber(ctx context.Context, db *gorm.DB, tpID uint64) (store.DigestSubscription, store.Account, error) {
	var sub store.DigestSubscription
	var acc store.Account
	if err := db.WithContext(ctx).Where("touchpoint_id = ?", tpID).Limit(1).Find(&sub).Error; err != nil {
		return sub, acc, fmt.Errorf("load digest of touchpoint %d: %w", tpID, err)
	}
	if sub.ID == 0 {
		return sub, acc, fmt.Errorf("touchpoint %d is no digest: %w", tpID, ErrNotFound)
	}
	if err := db.WithContext(ctx).Limit(1).Find(&acc, sub.AccountID).Error; err != nil {
		return sub, acc, fmt.Errorf("load account %d: %w", sub.AccountID, err)
	}
	return sub, acc, nil
}

// audience is the subscriber's employee, on the subscription's platform; a
// disabled account or an inactive employee gets nothing.
func (s *Service) audience(ctx context.Context, db *gorm.DB, tp store.Touchpoint, _ store.Session) ([]bot.Target, error) {
	sub, acc, err := s.subscriber(ctx, db, tp.ID)
	if err != nil {
		return nil, err
	}
	if acc.ID == 0 || acc.Disabled || acc.EmployeeID == 0 {
		s.log().Info("digest not sent: account disabled or not linked", "digest", sub.ID, "account", sub.AccountID)
		return nil, nil
	}
	var e store.Employee
	if err := db.WithContext(ctx).Limit(1).Find(&e, acc.EmployeeID).Error; err != nil {
		return nil, fmt.Errorf("load employee %d: %w", acc.EmployeeID, err)
	}
	if e.ID == 0 || !e.Active {
		s.log().Info("digest not sent: employee inactive", "digest", sub.ID, "employee", acc.EmployeeID)
		return nil, nil
	}
	if sub.Platform != "" {
		e.Platform = sub.Platform
	}
	return []bot.Target{{Employee: e}}, nil
}

// scope is the subscriber's report scope.
func (s *Service) scope(ctx context.Context, db *gorm.DB, acc store.Account) (reports.Scope, error) {
	return reports.NewScope(ctx, db, reports.Actor{Username: acc.Username, Role: acc.Role}, acc.Department, s.MinGroupSize)
}

// figures computes the digest of sub sent at t.
func (s *Service) figures(ctx context.Context, db *gorm.DB, sub store.DigestSubscription, t time.Time) (*reports.DigestReport, error) {
	var acc store.Account
	if err := db.WithContext(ctx).Limit(1).Find(&acc, sub.AccountID).Error; err != nil {
		return nil, fmt.Errorf("load account %d: %w", sub.AccountID, err)
	}
	if acc.ID == 0 {
		return nil, fmt.Errorf("account %d: %w", sub.AccountID, ErrNotFound)
	}
	scope, err := s.scope(ctx, db, acc)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(sub.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("digest %d zone: %w", sub.ID, err)
	}
	from, to, err := Period(sub.CronSpec, loc, t)
	if err != nil {
		return nil, err
	}
	return reports.Digest(ctx, db, scope, from, to, s.now())
}

// EnabledPlatforms are the platforms a subscription may choose.
func (s *Service) EnabledPlatforms() []bot.Platform { return slices.Clone(s.Platforms) }
