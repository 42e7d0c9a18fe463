package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// DeliveryContext is a delivery with everything needed to act on it.
type DeliveryContext struct {
	Delivery   store.Delivery
	Touchpoint store.Touchpoint
	Session    store.Session
	Course     store.Course
	Employee   store.Employee
	// Teacher is the session's teacher's name, "" when none.
	Teacher string
}

// ActionHandler handles one verified interaction on a delivery.
type ActionHandler func(ctx context.Context, dc DeliveryContext, in Interaction) (Reply, error)

// Router verifies interactions and dispatches them by action. It implements
// InteractionHandler for every adapter. A tap flows one way: the Router
// answers with a Reply that carries the new card, and the adapter applies
// it; the Router never calls an adapter for a tap.
type Router struct {
	DB       *gorm.DB
	Signer   *Signer
	Renderer *Renderer
	Checkins *Checkins
	// Registry holds the handlers of actions other than check-in (surveys
	// register ActionRate and ActionNPS).
	Registry *Registry
	// Messengers are used only for updates that do not answer a tap (a
	// check-in through the /c/ page, see CheckinDelivery): those that
	// implement CardUpdater edit the delivered card.
	Messengers map[Platform]Messenger
	Logger     *slog.Logger
	Metrics    *Metrics
	Now        func() time.Time
	// OnsiteRequired, when set, tells whether a session requires on-site
	// check-in (现场签到): a card tap there is stored and answered as a
	// remote check-in that does not count as present.
	OnsiteRequired func(ctx context.Context, sessionID uint64) (bool, error)

	cacheOnce sync.Once
	cache     *deliveryCache // check-in taps on MySQL; nil elsewhere
}

var (
	_ InteractionHandler = (*Router)(nil)
	_ CardUpdateCounter  = (*Router)(nil)
)

// CardUpdated implements CardUpdateCounter: it counts an update an adapter
// applied for a Reply in learnloop_card_updates_total.
func (r *Router) CardUpdated(platform Platform, err error) {
	if err != nil {
		r.Metrics.cardUpdate(string(platform), "error")
		return
	}
	r.Metrics.cardUpdate(string(platform), "ok")
}

func (r *Router) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

func (r *Router) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// HandleInteraction implements InteractionHandler. Refusals (bad token,
// window closed) are a Reply with OK false and a nil error; errors are
// reserved for failures the platform should retry.
func (r *Router) HandleInteraction(ctx context.Context, in Interaction) (Reply, error) {
	locale := text.ZH
	claims, err := r.Signer.Verify(in.Token, TokenInteraction)
	if err != nil {
		r.Metrics.interaction(string(in.Platform), in.Action, "invalid_token")
		return Reply{Toast: text.T(locale, "bot:reply.invalid")}, nil
	}
	action := claims.Extra
	if in.Action != "" && in.Action != action {
		r.Metrics.interaction(string(in.Platform), in.Action, "action_mismatch")
		return Reply{Toast: text.T(locale, "bot:reply.invalid")}, nil
	}
	dc, err := r.loadFor(ctx, action, claims.DeliveryID)
	if errors.Is(err, ErrNotFound) {
		r.Metrics.interaction(string(in.Platform), action, "unknown_delivery")
		return Reply{Toast: text.T(locale, "bot:reply.invalid")}, nil
	}
	if err != nil {
		return Reply{}, err
	}
	locale = r.locale(dc)
	// The tap must come from the person the card was sent to, on the
	// platform it was sent on: a forwarded card checks nobody else in.
	if in.Platform != Platform(dc.Delivery.Platform) || in.UserID != dc.Delivery.UserID {
		r.logger().Warn("interaction from another user refused", "delivery", dc.Delivery.ID, "platform", in.Platform)
		r.Metrics.interaction(string(in.Platform), action, "wrong_user")
		return Reply{Toast: text.T(locale, "bot:reply.invalid")}, nil
	}
	in.Action = action
	var reply Reply
	switch action {
	case ActionCheckin:
		reply, err = r.checkin(ctx, dc, in)
	default:
		h, ok := r.Registry.ActionHandler(action)
		if !ok {
			r.Metrics.interaction(string(in.Platform), action, "unknown_action")
			return Reply{Toast: text.T(locale, "bot:reply.invalid")}, nil
		}
		reply, err = h(ctx, dc, in)
	}
	if err != nil {
		r.Metrics.interaction(string(in.Platform), action, "error")
		return Reply{}, err
	}
	outcome := "ok"
	switch {
	case reply.Duplicate:
		outcome = "duplicate"
	case !reply.OK:
		outcome = "refused"
	}
	r.Metrics.interaction(string(in.Platform), action, outcome)
	return reply, nil
}

// CheckinDelivery checks in the recipient of a delivery that reached them
// through a trusted path (the signed /c/ page), with the same rules as a tap.
func (r *Router) CheckinDelivery(ctx context.Context, deliveryID uint64, source string) (Reply, error) {
	dc, err := r.Load(ctx, deliveryID)
	if errors.Is(err, ErrNotFound) {
		return Reply{Toast: text.T(text.ZH, "bot:reply.invalid")}, nil
	}
	if err != nil {
		return Reply{}, err
	}
	reply, err := r.checkin(ctx, dc, Interaction{Platform: Platform(dc.Delivery.Platform), UserID: dc.Delivery.UserID, Action: ActionCheckin, Source: source})
	if err != nil {
		return reply, err
	}
	r.Metrics.interaction(dc.Delivery.Platform, ActionCheckin, source)
	if reply.Card != nil {
		r.updateCard(ctx, dc, *reply.Card)
	}
	return reply, nil
}

func (r *Router) locale(dc DeliveryContext) text.Locale {
	if dc.Employee.Locale != "" {
		return text.Parse(dc.Employee.Locale)
	}
	return text.Parse(dc.Session.Locale)
}

func (r *Router) checkin(ctx context.Context, dc DeliveryContext, in Interaction) (Reply, error) {
	locale := r.locale(dc)
	source := in.Source
	if source == "" {
		source = store.SourceCard
	}
	did := dc.Delivery.ID
	at := in.At
	if at.IsZero() || at.After(r.now()) {
		at = r.now()
	}
	// The request gets its own copy of the session: a pointer into dc
	// would move the whole context (1.2 kB) to the heap on every tap.
	sess := dc.Session
	res, err := r.Checkins.Record(ctx, CheckinRequest{
		SessionID: dc.Session.ID, EmployeeID: dc.Employee.ID, Source: source,
		Platform: dc.Delivery.Platform, DeliveryID: &did, At: at, Session: &sess,
	})
	if res.staleSession && r.cache != nil {
		r.cache.invalidate(dc.Touchpoint.ID)
	}
	loc := SessionLocation(dc.Session)
	switch {
	case errors.Is(err, ErrCheckinNotOpen):
		return Reply{Toast: text.T(locale, "bot:reply.not_open", SessionWindows(dc.Session).Opens.In(loc).Format("01-02 15:04"))}, nil
	case errors.Is(err, ErrCheckinClosed):
		return Reply{Toast: text.T(locale, "bot:reply.closed")}, nil
	case errors.Is(err, ErrNotEnrolled):
		return Reply{Toast: text.T(locale, "bot:reply.not_enrolled")}, nil
	case errors.Is(err, ErrSessionCanceled):
		return Reply{Toast: text.T(locale, "bot:reply.cancelled")}, nil
	case err != nil:
		return Reply{}, err
	}
	at = res.Checkin.CheckedInAt.In(loc)
	reply := Reply{OK: true, Duplicate: res.Duplicate}
	remote := false
	if r.OnsiteRequired != nil && (res.Checkin.Source == store.SourceCard || res.Checkin.Source == store.SourceLink) {
		if remote, err = r.OnsiteRequired(ctx, dc.Session.ID); err != nil {
			return Reply{}, err
		}
	}
	switch {
	case remote:
		reply.Toast = text.T(locale, "bot:reply.remote", at.Format("15:04"))
	case res.Duplicate:
		reply.Toast = text.T(locale, "bot:reply.already", at.Format("15:04"))
	default:
		reply.Toast = text.T(locale, "bot:reply.done_"+res.Checkin.Kind, at.Format("15:04"))
	}
	card, err := r.Renderer.Render(ctx, CardContext{
		Kind: dc.Touchpoint.Kind, Note: dc.Touchpoint.Note, Session: dc.Session, Course: dc.Course, Teacher: dc.Teacher,
		DeliveryID: dc.Delivery.ID, Key: dc.Delivery.Key, Locale: locale, Checkin: &res.Checkin, Remote: remote,
		Touchpoint: dc.Touchpoint, Recipient: dc.Employee,
	})
	if err != nil {
		return reply, fmt.Errorf("render updated card: %w", err)
	}
	reply.Card = &card
	return reply, nil
}

// updateCard edits a delivered card in place, outside any tap (a tap's card
// travels in its Reply), where the adapter can: with the handle the send
// returned. Failures are logged and counted: the check-in is already stored.
func (r *Router) updateCard(ctx context.Context, dc DeliveryContext, m Message) {
	msgr, ok := r.Messengers[Platform(dc.Delivery.Platform)]
	if !ok {
		return
	}
	up, ok := msgr.(CardUpdater)
	if !ok {
		return
	}
	handle := dc.Delivery.Handle
	uctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	to := Recipient{EmployeeID: dc.Employee.ID, UserID: dc.Delivery.UserID, Name: dc.Employee.Name, Locale: r.locale(dc)}
	if err := up.UpdateCard(uctx, to, handle, m); err != nil {
		r.logger().Warn("card update failed", "delivery", dc.Delivery.ID, "platform", dc.Delivery.Platform, "err", err)
		r.Metrics.cardUpdate(dc.Delivery.Platform, "error")
		return
	}
	r.Metrics.cardUpdate(dc.Delivery.Platform, "ok")
}

// loadFor reads what action needs about a delivery. Check-in taps on MySQL
// are served from the delivery cache (see deliveryCache): a storm of taps on
// one touchpoint costs one full read and one bulk read, plus one small read
// per tap that comes before the bulk read is in memory.
func (r *Router) loadFor(ctx context.Context, action string, deliveryID uint64) (DeliveryContext, error) {
	if action != ActionCheckin {
		return r.Load(ctx, deliveryID)
	}
	r.cacheOnce.Do(func() {
		if store.IsMySQL(r.DB) {
			r.cache = newDeliveryCache(r.DB, r.now)
		}
	})
	if r.cache == nil {
		return r.Load(ctx, deliveryID)
	}
	if dc, ok := r.cache.get(deliveryID); ok {
		return dc, nil
	}
	if dc, ok, err := r.cache.lookup(ctx, deliveryID); ok || err != nil {
		return dc, err
	}
	dc, err := r.Load(ctx, deliveryID)
	if err == nil && dc.Delivery.Status == store.DeliverySent {
		r.cache.warm(dc)
	}
	return dc, err
}

// Load reads a delivery and its touchpoint, session, course and employee.
func (r *Router) Load(ctx context.Context, deliveryID uint64) (DeliveryContext, error) {
	return LoadDelivery(ctx, r.DB, deliveryID)
}

// deliveryRow reads a delivery with its touchpoint, session, course and
// employee in one joined query (the hot path of every tap).
type deliveryRow struct {
	store.Delivery
	Touchpoint store.Touchpoint `gorm:"foreignKey:TouchpointID"`
	Session    sessionRow       `gorm:"foreignKey:SessionID"`
	Employee   store.Employee   `gorm:"foreignKey:EmployeeID"`
}

func (deliveryRow) TableName() string { return "deliveries" }

type sessionRow struct {
	store.Session
	Course store.Course `gorm:"foreignKey:CourseID"`
}

func (sessionRow) TableName() string { return "sessions" }

// LoadDelivery reads a delivery and its touchpoint, session, course and employee.
func LoadDelivery(ctx context.Context, db *gorm.DB, deliveryID uint64) (DeliveryContext, error) {
	var row deliveryRow
	err := db.WithContext(ctx).Joins("Touchpoint").Joins("Session").Joins("Session.Course").Joins("Employee").
		Where("deliveries.id = ?", deliveryID).Limit(1).Find(&row).Error
	if err != nil {
		return DeliveryContext{}, fmt.Errorf("load delivery: %w", err)
	}
	if row.Delivery.ID == 0 {
		return DeliveryContext{}, fmt.Errorf("delivery %d: %w", deliveryID, ErrNotFound)
	}
	if row.Touchpoint.ID == 0 || row.Session.ID == 0 || row.Employee.ID == 0 || row.Session.Course.ID == 0 {
		return DeliveryContext{}, fmt.Errorf("delivery %d references a missing row: %w", deliveryID, ErrNotFound)
	}
	dc := DeliveryContext{Delivery: row.Delivery, Touchpoint: row.Touchpoint, Session: row.Session.Session, Course: row.Session.Course, Employee: row.Employee}
	if dc.Teacher, err = teacherName(ctx, db, dc.Session); err != nil {
		return DeliveryContext{}, err
	}
	return dc, nil
}

// teacherName reads the name of s's teacher ("" when none).
func teacherName(ctx context.Context, db *gorm.DB, s store.Session) (string, error) {
	if s.TeacherID == nil {
		return "", nil
	}
	var t store.Teacher
	if err := db.WithContext(ctx).Select("id", "name").Limit(1).Find(&t, *s.TeacherID).Error; err != nil {
		return "", fmt.Errorf("load teacher: %w", err)
	}
	return t.Name, nil
}
