// Package calendar puts sessions in their attendees' platform calendars
// (WeCom 日程, Feishu calendar v4, DingTalk calendar v1.0) when the session,
// its course or calendar.invite_default asks for it.
//
// The commands that change what an event shows — a session created,
// changed or cancelled, people enrolled, excused or back — call
// Service.Changed in their own transaction, which enqueues one
// calendar.sync job for that change. The job reads the session as it is
// then and brings each platform's event in line: it creates the event
// (under an idempotency key stored beforehand, so a retry after a lost
// answer or a kill -9 does not make a second one where the platform
// de-duplicates), updates it when its title, times, place, description or
// attendees changed, and deletes it when the session is cancelled, invites
// are turned off or nobody on that platform is left to invite. The platform
// event id is kept per session and platform (calendar_events), with the
// last failure's code and message, which the console's delivery health
// lists. Jobs of one session run one at a time, oldest first; a job that
// finds a newer one for its session leaves the work to it.
package calendar

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/calendar/invite"
	"github.com/learnloop/learnloop/internal/defaults"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// JobSync is the kind of the job that syncs one session's events.
const JobSync = "calendar.sync"

// keyPrefix starts every calendar.sync job's unique key:
// calsync:{session}:{change}.
const keyPrefix = "calsync:"

// busyWait is how long a job waits for an older one of its session.
const busyWait = 5 * time.Second

// Platform is one platform's calendar, implemented by the adapters
// (adapters/<platform>/calendar.go).
type Platform interface {
	// CreateEvent creates ev in the platform's calendar with its attendees,
	// passing key as the platform's idempotency key where it has one.
	CreateEvent(ctx context.Context, key string, ev invite.Event) (invite.Ref, error)
	// UpdateEvent makes the event ref show ev: its fields and its
	// attendees, of which had are the ones invited so far.
	UpdateEvent(ctx context.Context, ref invite.Ref, ev invite.Event, had []string) error
	// DeleteEvent deletes (cancels) the event ref.
	DeleteEvent(ctx context.Context, ref invite.Ref) error
}

// Platforms returns the messengers of ms that have a calendar.
func Platforms(ms map[bot.Platform]bot.Messenger) map[bot.Platform]Platform {
	out := map[bot.Platform]Platform{}
	for p, m := range ms {
		if c, ok := m.(Platform); ok {
			out[p] = c
		}
	}
	return out
}

// Service enqueues and runs the calendar syncs.
type Service struct {
	DB    *gorm.DB
	Sched *scheduler.Scheduler
	// Platforms are the calendars by platform; none makes Changed a no-op.
	Platforms map[bot.Platform]Platform
	// DefaultPlatform is the platform of employees whose own is empty.
	DefaultPlatform bot.Platform
	// InviteDefault is calendar.invite_default: whether a session whose
	// course and session leave it open is put in the calendars.
	InviteDefault bool
	// PublicURL is where the check-in pages are (http.public_url).
	PublicURL string
	// MaxAttempts of one sync job (0: the scheduler's default).
	MaxAttempts int
	Logger      *slog.Logger
	Now         func() time.Time
}

func (s *Service) now() time.Time { return defaults.Now(s.Now) }

func (s *Service) log() *slog.Logger { return defaults.Logger(s.Logger) }

// Register adds the sync job's handler to the scheduler.
func (s *Service) Register() { s.Sched.Register(JobSync, s.Handle) }

// Wanted reports whether sess is to be in the calendars: its own flag, else
// its course's, else inviteDefault.
func Wanted(sess store.Session, course store.Course, inviteDefault bool) bool {
	switch {
	case sess.CalendarInvite != nil:
		return *sess.CalendarInvite
	case course.CalendarInvite != nil:
		return *course.CalendarInvite
	}
	return inviteDefault
}

type payload struct {
	SessionID uint64 `json:"session_id"`
}

// Changed enqueues, in tx, a sync of session sessionID after a change to
// it, its course's flag or its roster. Nothing is enqueued when no
// platform has a calendar, or when the session is not to be in the
// calendars and has no event there.
func (s *Service) Changed(ctx context.Context, tx *gorm.DB, sessionID uint64) error {
	if s == nil || len(s.Platforms) == 0 || sessionID == 0 {
		return nil
	}
	db := tx.WithContext(ctx)
	var sess store.Session
	if err := db.Limit(1).Find(&sess, sessionID).Error; err != nil {
		return fmt.Errorf("calendar: load session %d: %w", sessionID, err)
	}
	if sess.ID == 0 {
		return nil
	}
	var course store.Course
	if err := db.Limit(1).Find(&course, sess.CourseID).Error; err != nil {
		return fmt.Errorf("calendar: load course %d: %w", sess.CourseID, err)
	}
	if !Wanted(sess, course, s.InviteDefault) {
		var n int64
		if err := db.Model(&store.CalendarEvent{}).Where("session_id = ? AND state <> ?", sessionID, store.CalendarDeleted).Count(&n).Error; err != nil {
			return fmt.Errorf("calendar: count events: %w", err)
		}
		if n == 0 {
			return nil
		}
	}
	key := fmt.Sprintf("%s%d:%s", keyPrefix, sessionID, randomHex(8))
	if _, _, err := s.Sched.Enqueue(ctx, tx, scheduler.JobSpec{Kind: JobSync, UniqueKey: key, Payload: payload{SessionID: sessionID}, MaxAttempts: s.MaxAttempts}); err != nil {
		return fmt.Errorf("calendar: %w", err)
	}
	return nil
}

// CourseChanged enqueues a sync of every session of course courseID that
// has not ended, in tx (its calendar_invite flag changed).
func (s *Service) CourseChanged(ctx context.Context, tx *gorm.DB, courseID uint64) error {
	if s == nil || len(s.Platforms) == 0 {
		return nil
	}
	var ids []uint64
	if err := tx.WithContext(ctx).Model(&store.Session{}).Where("course_id = ? AND ends_at > ?", courseID, s.now()).Order("id").Pluck("id", &ids).Error; err != nil {
		return fmt.Errorf("calendar: list sessions of course %d: %w", courseID, err)
	}
	for _, id := range ids {
		if err := s.Changed(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Handle is the calendar.sync job handler.
func (s *Service) Handle(ctx context.Context, job store.Job) error {
	var p payload
	if err := json.Unmarshal([]byte(job.Payload), &p); err != nil || p.SessionID == 0 {
		return scheduler.Cancel(fmt.Errorf("calendar: bad payload %q", job.Payload))
	}
	switch wait, err := s.turn(ctx, job, p.SessionID); {
	case errors.Is(err, errSuperseded):
		return nil
	case err != nil:
		return err
	case wait:
		return scheduler.Snooze(busyWait)
	}
	return s.Sync(ctx, p.SessionID)
}

// errSuperseded ends a job whose session has a newer one waiting.
var errSuperseded = errors.New("superseded")

// turn decides whether job may sync its session now: a newer job of the
// session makes it done (nil error, the newer one syncs), an older one
// still running makes it wait (true); older ones not running are
// cancelled, this job does their work.
func (s *Service) turn(ctx context.Context, job store.Job, sessionID uint64) (bool, error) {
	var others []store.Job
	err := s.DB.WithContext(ctx).Select("id", "unique_key", "state").
		Where("kind = ? AND unique_key LIKE ? AND state IN ? AND id <> ?", JobSync, fmt.Sprintf("%s%d:%%", keyPrefix, sessionID),
			[]string{store.JobAvailable, store.JobRunning}, job.ID).
		Order("id").Find(&others).Error
	if err != nil {
		return false, fmt.Errorf("calendar: list sync jobs: %w", err)
	}
	wait := false
	for _, o := range others {
		switch {
		case o.ID > job.ID:
			return false, errSuperseded
		case o.State == store.JobRunning:
			wait = true
		case o.UniqueKey != nil:
			if err := s.Sched.CancelKey(ctx, nil, *o.UniqueKey); err != nil {
				return false, err
			}
		}
	}
	return wait, nil
}

// SyncResult counts what one sync did, per platform.
type SyncResult struct {
	Created, Updated, Deleted, Unchanged int
}

// Sync brings the events of session sessionID in line with the session on
// every platform with a calendar. It returns the platforms' errors joined;
// when every one of them is permanent, wrapped in scheduler.Cancel.
func (s *Service) Sync(ctx context.Context, sessionID uint64) error {
	_, err := s.SyncResult(ctx, sessionID)
	return err
}

// SyncResult is Sync, also returning what it did.
func (s *Service) SyncResult(ctx context.Context, sessionID uint64) (SyncResult, error) {
	var res SyncResult
	db := s.DB.WithContext(ctx)
	var sess store.Session
	if err := db.Limit(1).Find(&sess, sessionID).Error; err != nil {
		return res, fmt.Errorf("calendar: load session %d: %w", sessionID, err)
	}
	if sess.ID == 0 {
		return res, nil
	}
	var course store.Course
	if err := db.Limit(1).Find(&course, sess.CourseID).Error; err != nil {
		return res, fmt.Errorf("calendar: load course %d: %w", sess.CourseID, err)
	}
	wanted := Wanted(sess, course, s.InviteDefault) && sess.Status != store.SessionCancelled
	attendees, err := s.attendees(ctx, sessionID)
	if err != nil {
		return res, err
	}
	var rows []store.CalendarEvent
	if err := db.Where("session_id = ?", sessionID).Find(&rows).Error; err != nil {
		return res, fmt.Errorf("calendar: load events: %w", err)
	}
	byPlatform := map[string]*store.CalendarEvent{}
	for i := range rows {
		byPlatform[rows[i].Platform] = &rows[i]
	}
	teacher := ""
	if sess.TeacherID != nil {
		var t store.Teacher
		if err := db.Limit(1).Find(&t, *sess.TeacherID).Error; err != nil {
			return res, fmt.Errorf("calendar: load teacher: %w", err)
		}
		teacher = t.Name
	}
	names := make([]string, 0, len(s.Platforms))
	for p := range s.Platforms {
		names = append(names, string(p))
	}
	sort.Strings(names)
	var errs []error
	permanent := true
	for _, name := range names {
		p := bot.Platform(name)
		ev := s.event(sess, course, teacher, attendees[p])
		did, err := s.syncOne(ctx, s.Platforms[p], sess.ID, name, wanted && len(ev.Attendees) > 0, ev, byPlatform[name])
		switch did {
		case didCreate:
			res.Created++
		case didUpdate:
			res.Updated++
		case didDelete:
			res.Deleted++
		case didNothing:
			res.Unchanged++
		}
		if err != nil {
			errs = append(errs, err)
			var pe *invite.Error
			if !errors.As(err, &pe) || !pe.Permanent {
				permanent = false
			}
		}
	}
	if len(errs) == 0 {
		return res, nil
	}
	err = errors.Join(errs...)
	if permanent {
		return res, scheduler.Cancel(err)
	}
	return res, err
}

// attendees are the session's invited (not excused, not removed), active
// people by platform: their user ids there, sorted.
func (s *Service) attendees(ctx context.Context, sessionID uint64) (map[bot.Platform][]string, error) {
	var emps []store.Employee
	err := s.DB.WithContext(ctx).Model(&store.Employee{}).
		Select("employees.id", "employees.external_id", "employees.platform", "employees.wecom_id", "employees.feishu_id", "employees.dingtalk_id").
		Joins("JOIN enrollments ON enrollments.employee_id = employees.id").
		Where("enrollments.session_id = ? AND enrollments.status = ? AND employees.active = ?", sessionID, store.EnrollInvited, true).
		Order("employees.id").Find(&emps).Error
	if err != nil {
		return nil, fmt.Errorf("calendar: load attendees: %w", err)
	}
	out := map[bot.Platform][]string{}
	for _, e := range emps {
		p := bot.Platform(e.Platform)
		if p == "" {
			p = s.DefaultPlatform
		}
		if id := bot.PlatformUserID(e, p); id != "" {
			out[p] = append(out[p], id)
		}
	}
	for p, ids := range out {
		sort.Strings(ids)
		out[p] = slices.Compact(ids)
	}
	return out, nil
}

// event is what the calendars show of sess.
func (s *Service) event(sess store.Session, course store.Course, teacher string, attendees []string) invite.Event {
	loc, _ := text.Exact(sess.Locale)
	var lines []string
	if course.Title != "" && course.Title != sess.Title {
		lines = append(lines, text.T(loc, "calendar:desc.course", course.Title))
	}
	if teacher != "" {
		lines = append(lines, text.T(loc, "calendar:desc.teacher", teacher))
	}
	if sess.OnlineURL != "" {
		lines = append(lines, text.T(loc, "calendar:desc.online", sess.OnlineURL))
	}
	if s.PublicURL != "" {
		lines = append(lines, text.T(loc, "calendar:desc.checkin", strings.TrimRight(s.PublicURL, "/")+"/q/"))
	}
	where := sess.Location
	if where == "" {
		where = sess.OnlineURL
	}
	return invite.Event{
		Title: sess.Title, Description: strings.Join(lines, "\n"), Location: where, OnlineURL: sess.OnlineURL,
		Start: sess.StartsAt.UTC(), End: sess.EndsAt.UTC(), TimeZone: sess.TimeZone, Attendees: attendees,
	}
}

// fingerprint identifies what an event shows, attendees included.
func fingerprint(ev invite.Event) string {
	b, _ := json.Marshal(ev)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

type did int

const (
	didNothing did = iota
	didCreate
	didUpdate
	didDelete
	didFail
)

// syncOne brings one platform's event of a session in line: want says
// whether it should exist, ev what it shows, row what is stored (nil:
// nothing yet).
func (s *Service) syncOne(ctx context.Context, p Platform, sessionID uint64, platform string, want bool, ev invite.Event, row *store.CalendarEvent) (did, error) {
	fp := fingerprint(ev)
	if !want {
		if row == nil || row.State == store.CalendarDeleted {
			return didNothing, nil
		}
		if row.State == store.CalendarPending || row.EventID == "" {
			// Never created (or its answer was lost): nothing to delete
			// that we know of.
			return didDelete, s.settle(ctx, row, map[string]any{"state": store.CalendarDeleted, "attendees": "[]"})
		}
		err := p.DeleteEvent(ctx, invite.Ref{EventID: row.EventID, CalendarID: row.CalendarID})
		if err != nil && !errors.Is(err, invite.ErrNotFound) {
			return didFail, s.failed(ctx, row, err)
		}
		return didDelete, s.settle(ctx, row, map[string]any{"state": store.CalendarDeleted, "attendees": "[]"})
	}
	if row == nil {
		r, err := s.newRow(ctx, sessionID, platform)
		if err != nil {
			return didFail, err
		}
		row = r
	}
	if row.State == store.CalendarDeleted {
		if err := s.restart(ctx, row); err != nil {
			return didFail, err
		}
	}
	if row.State == store.CalendarActive {
		if row.Fingerprint == fp && row.Failures == 0 {
			return didNothing, nil
		}
		var had []string
		_ = json.Unmarshal([]byte(row.Attendees), &had)
		err := p.UpdateEvent(ctx, invite.Ref{EventID: row.EventID, CalendarID: row.CalendarID}, ev, had)
		switch {
		case errors.Is(err, invite.ErrNotFound):
			// Deleted on the platform by hand: create it again.
			if err := s.restart(ctx, row); err != nil {
				return didFail, err
			}
		case err != nil:
			return didFail, s.failed(ctx, row, err)
		default:
			return didUpdate, s.settle(ctx, row, map[string]any{"fingerprint": fp, "attendees": jsonList(ev.Attendees)})
		}
	}
	ref, err := p.CreateEvent(ctx, row.IdemKey, ev)
	if err != nil {
		return didFail, s.failed(ctx, row, err)
	}
	return didCreate, s.settle(ctx, row, map[string]any{
		"state": store.CalendarActive, "event_id": ref.EventID, "calendar_id": ref.CalendarID,
		"fingerprint": fp, "attendees": jsonList(ev.Attendees),
	})
}

func jsonList(ids []string) string {
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

func newKey(sessionID uint64, platform string) string {
	return fmt.Sprintf("ll-cal-%d-%s-%s", sessionID, platform, randomHex(6))
}

// newRow stores the session's pending row for platform (its idempotency key
// is fixed before the platform is called), or loads the one a concurrent
// run stored.
func (s *Service) newRow(ctx context.Context, sessionID uint64, platform string) (*store.CalendarEvent, error) {
	now := s.now()
	row := store.CalendarEvent{SessionID: sessionID, Platform: platform, State: store.CalendarPending, IdemKey: newKey(sessionID, platform),
		Attendees: "[]", CreatedAt: now, UpdatedAt: now}
	err := store.Tx(ctx, s.DB, func(tx *gorm.DB) error { return tx.Create(&row).Error })
	if err == nil {
		return &row, nil
	}
	if !store.IsDuplicate(err) {
		return nil, fmt.Errorf("calendar: store event row: %w", err)
	}
	var got store.CalendarEvent
	if err := s.DB.WithContext(ctx).Where("session_id = ? AND platform = ?", sessionID, platform).Take(&got).Error; err != nil {
		return nil, fmt.Errorf("calendar: load event row: %w", err)
	}
	return &got, nil
}

// restart makes row pending again under a new idempotency key: the next
// create makes a new event.
func (s *Service) restart(ctx context.Context, row *store.CalendarEvent) error {
	set := map[string]any{"state": store.CalendarPending, "event_id": "", "calendar_id": "", "idem_key": newKey(row.SessionID, row.Platform),
		"fingerprint": "", "attendees": "[]", "updated_at": s.now()}
	if err := store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Model(&store.CalendarEvent{}).Where("id = ?", row.ID).Updates(set).Error
	}); err != nil {
		return fmt.Errorf("calendar: reset event row: %w", err)
	}
	row.State, row.EventID, row.CalendarID, row.IdemKey, row.Fingerprint, row.Attendees = store.CalendarPending, "", "", set["idem_key"].(string), "", "[]"
	return nil
}

// settle records a successful call: set, the sync time, no error.
func (s *Service) settle(ctx context.Context, row *store.CalendarEvent, set map[string]any) error {
	now := s.now()
	set["synced_at"], set["updated_at"], set["failures"], set["error_code"], set["last_error"] = now, now, 0, "", ""
	if err := store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Model(&store.CalendarEvent{}).Where("id = ?", row.ID).Updates(set).Error
	}); err != nil {
		return fmt.Errorf("calendar: record sync of session %d on %s: %w", row.SessionID, row.Platform, err)
	}
	return nil
}

// failed records err on row (code and message for delivery health) and
// returns err.
func (s *Service) failed(ctx context.Context, row *store.CalendarEvent, err error) error {
	code, msg := "", err.Error()
	var pe *invite.Error
	if errors.As(err, &pe) {
		code = pe.Code
	}
	code, msg = store.PlatformError(code, msg)
	s.log().Warn("calendar sync failed", "session", row.SessionID, "platform", row.Platform, "code", code, "err", msg)
	// Recorded on a context of its own: a shutdown mid-call still leaves
	// the error visible.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	werr := store.Tx(dctx, s.DB, func(tx *gorm.DB) error {
		return tx.Model(&store.CalendarEvent{}).Where("id = ?", row.ID).Updates(map[string]any{
			"failures": gorm.Expr("failures + 1"), "error_code": code, "last_error": msg, "updated_at": s.now()}).Error
	})
	if werr != nil {
		return errors.Join(err, fmt.Errorf("calendar: record failure: %w", werr))
	}
	return err
}

// Failing lists the calendar events whose last sync failed (at most
// limit, newest first): what `learnloop doctor` reports.
func (s *Service) Failing(ctx context.Context, limit int) ([]store.CalendarEvent, error) {
	var rows []store.CalendarEvent
	if err := s.DB.WithContext(ctx).Where("failures > 0").Order("updated_at DESC, id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("calendar: list failing events: %w", err)
	}
	return rows, nil
}
