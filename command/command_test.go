package command_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/text"
)

// bundle is one test's service on a fresh database: an admin's course with
// one session, and its coordinator "li".
type bundle struct {
	db     *storetest.DB
	s      *command.Service
	course store.Course
	sess   store.Session
	now    time.Time
}

var (
	admin = command.Actor{Name: "admin", Role: store.RoleAdmin}
	li    = command.Actor{Name: "li", Role: store.RoleCoordinator}
	wang  = command.Actor{Name: "wang", Role: store.RoleCoordinator}
	head  = command.Actor{Name: "zhao", Role: store.RoleDepartmentHead}
	token = command.TokenActor("hr-token")
)

func setup(t *testing.T, db *storetest.DB) *bundle {
	t.Helper()
	now := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	p := &plan.Planner{DB: db.DB, Sched: scheduler.New(db.DB, scheduler.Options{Now: clock}), Now: clock}
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	s := &command.Service{DB: db.DB, Planner: p, Checkins: &bot.Checkins{DB: db.DB, Now: clock}, Now: clock,
		Defaults: command.Defaults{Location: shanghai, Locale: string(text.ZH), OpensBefore: 30 * time.Minute, Grace: 10 * time.Minute, MakeupAfter: 24 * time.Hour}}
	require.NoError(t, db.Create(&store.Account{Username: "li", Role: store.RoleCoordinator, PasswordHash: "x"}).Error)
	b := &bundle{db: db, s: s, now: now}
	ctx := context.Background()
	b.course, err = s.CreateCourse(ctx, li, command.CourseInput{Code: ptr("C1"), Title: ptr("沟通")})
	require.NoError(t, err)
	start, end := now.Add(24*time.Hour), now.Add(26*time.Hour)
	res, err := s.CreateSession(ctx, li, command.SessionInput{CourseID: &b.course.ID, StartsAt: &start, EndsAt: &end})
	require.NoError(t, err)
	b.sess = res.Session
	return b
}

func ptr[T any](v T) *T { return &v }

func (b *bundle) count(t *testing.T, model any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, b.db.Model(model).Count(&n).Error)
	return n
}

// fieldCodes are an error's field errors as field → code.
func fieldCodes(t *testing.T, err error) map[string]string {
	t.Helper()
	var ie *command.InvalidError
	require.ErrorAs(t, err, &ie)
	require.ErrorIs(t, err, command.ErrInvalid)
	out := map[string]string{}
	for _, f := range ie.Fields {
		require.NotEmpty(t, f.Message, f.Field)
		out[f.Field] = f.Code
	}
	return out
}

// TestInvalidInputHasTypedFieldErrorsAndChangesNothing: every field error
// has its own code (not one "invalid" for all), with the bound as args, and
// a refused command writes nothing, not even its audit row.
func TestInvalidInputHasTypedFieldErrorsAndChangesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		ctx := context.Background()
		start, end := b.now.Add(48*time.Hour), b.now.Add(50*time.Hour)
		before := []int64{b.count(t, &store.AuditLog{}), b.count(t, &store.Course{}), b.count(t, &store.Session{}), b.count(t, &store.Touchpoint{})}
		cases := []struct {
			name string
			run  func() error
			want map[string]string
		}{
			{"course without code, title too long, level 9", func() error {
				_, err := b.s.CreateCourse(ctx, li, command.CourseInput{Title: ptr(strings.Repeat("课", 256)), TargetLevel: ptr(9)})
				return err
			}, map[string]string{"code": "required", "title": "too_long", "target_level": "out_of_range"}},
			{"five behaviours", func() error {
				_, err := b.s.UpdateCourse(ctx, li, b.course.ID, command.CourseInput{Behaviours: &[]string{"a", "b", "c", "d", "e"}})
				return err
			}, map[string]string{"behaviours": "out_of_range"}},
			{"session: unknown course, bad zone, locale, plan, window", func() error {
				_, err := b.s.CreateSession(ctx, admin, command.SessionInput{CourseID: ptr[uint64](4242), StartsAt: &start, EndsAt: &end,
					TimeZone: ptr("Local"), Locale: ptr("fr"), Plan: ptr("most"), GraceMinutes: ptr[int64](plan.MaxWindowMinutes + 1)})
				return err
			}, map[string]string{"course_id": "unknown", "time_zone": "bad_zone", "locale": "bad_choice", "plan": "bad_choice", command.FieldGrace: "out_of_range"}},
			{"session ends before it starts, URL without host", func() error {
				_, err := b.s.CreateSession(ctx, li, command.SessionInput{CourseID: &b.course.ID, StartsAt: &end, EndsAt: &start, OnlineURL: ptr("https:///x")})
				return err
			}, map[string]string{"ends_at": "end_before_start", "online_url": "bad_url"}},
			{"session without times, in year 9999", func() error {
				far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
				_, err := b.s.CreateSession(ctx, li, command.SessionInput{CourseID: &b.course.ID, StartsAt: &far})
				return err
			}, map[string]string{"starts_at": "bad_date", "ends_at": "required"}},
			{"plan on update", func() error {
				_, err := b.s.UpdateSession(ctx, li, b.sess.ID, command.SessionInput{Plan: ptr("none")})
				return err
			}, map[string]string{"plan": "not_allowed"}},
			{"caller's parse error joins the command's", func() error {
				_, err := b.s.UpdateSession(ctx, li, b.sess.ID, command.SessionInput{Location: ptr(strings.Repeat("x", 256)),
					Invalid: []command.FieldError{{Field: "starts_at", Code: command.CodeBadFormat}}})
				return err
			}, map[string]string{"starts_at": "bad_format", "location": "too_long"}},
			{"touchpoint: survey kind, offset over 90 days, custom without note", func() error {
				_, err := b.s.CreateTouchpoint(ctx, li, b.sess.ID, command.TouchpointInput{Kind: ptr("spam"), OffsetMinutes: ptr[int64](plan.MaxOffsetMinutes + 1)})
				return err
			}, map[string]string{"kind": "bad_choice", "offset": "out_of_range"}},
			{"custom touchpoint without note, bad cron, absolute without at", func() error {
				_, err := b.s.CreateTouchpoint(ctx, li, b.sess.ID, command.TouchpointInput{Kind: ptr(bot.KindCustom), Anchor: ptr(store.AnchorAbsolute), Cron: ptr("99 * * * *"), Audience: ptr("everyone")})
				return err
			}, map[string]string{"note": "required", "cron": "bad_format", "audience": "bad_choice"}},
			{"manual check-in: bad kind", func() error {
				_, err := b.s.ManualCheckin(ctx, li, b.sess.ID, command.CheckinInput{Person: command.Person{ExternalID: "E1"}, Kind: "early"})
				return err
			}, map[string]string{"kind": "bad_choice"}},
			{"excuse: note too long, nobody named", func() error {
				_, err := b.s.Excuse(ctx, li, b.sess.ID, command.Person{}, strings.Repeat("假", 256))
				return err
			}, map[string]string{"note": "too_long"}},
			{"copy: ends_at without starts_at", func() error {
				_, err := b.s.CopySession(ctx, li, b.sess.ID, command.CopyInput{EndsAt: &end})
				return err
			}, nil}, // no Copier: refused before validation
		}
		for _, tc := range cases {
			err := tc.run()
			if tc.want == nil {
				require.ErrorIs(t, err, command.ErrConflict, tc.name)
				continue
			}
			require.Equal(t, tc.want, fieldCodes(t, err), tc.name)
		}
		var ie *command.InvalidError
		_, err := b.s.CreateCourse(ctx, li, command.CourseInput{Code: ptr("C2"), Title: ptr(strings.Repeat("t", 256))})
		require.ErrorAs(t, err, &ie)
		require.Equal(t, []any{int64(plan.MaxCourseTitle)}, ie.Fields[0].Args, "too_long carries the bound")
		after := []int64{b.count(t, &store.AuditLog{}), b.count(t, &store.Course{}), b.count(t, &store.Session{}), b.count(t, &store.Touchpoint{})}
		require.Equal(t, before, after, "refused commands change nothing")
	})
}

// TestActorRights: a coordinator writes their own courses only, a
// department head writes nothing, the API token names any owner while a
// console admin picks a coordinator's account.
func TestActorRights(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		ctx := context.Background()
		require.Equal(t, "li", b.course.Owner, "a coordinator owns the course they create")

		_, err := b.s.UpdateCourse(ctx, wang, b.course.ID, command.CourseInput{Title: ptr("x")})
		require.ErrorIs(t, err, command.ErrForbidden)
		_, err = b.s.CreateCourse(ctx, head, command.CourseInput{Code: ptr("H"), Title: ptr("x")})
		require.ErrorIs(t, err, command.ErrForbidden)
		_, _, err = b.s.CancelSession(ctx, wang, b.sess.ID)
		require.ErrorIs(t, err, command.ErrForbidden)
		_, err = b.s.Excuse(ctx, head, b.sess.ID, command.Person{ExternalID: "E1"}, "")
		require.ErrorIs(t, err, command.ErrForbidden)
		start, end := b.now.Add(48*time.Hour), b.now.Add(50*time.Hour)
		_, err = b.s.CreateSession(ctx, wang, command.SessionInput{CourseID: &b.course.ID, StartsAt: &start, EndsAt: &end})
		require.Equal(t, map[string]string{"course_id": "not_allowed"}, fieldCodes(t, err))

		_, err = b.s.UpdateCourse(ctx, admin, b.course.ID, command.CourseInput{Owner: ptr("C001")})
		require.Equal(t, map[string]string{"owner": "unknown"}, fieldCodes(t, err), "a console admin picks a coordinator")
		c, err := b.s.UpdateCourse(ctx, token, b.course.ID, command.CourseInput{Owner: ptr("C001")})
		require.NoError(t, err, "the API token names the HR system's owner")
		require.Equal(t, "C001", c.Owner)
		_, err = b.s.UpdateCourse(ctx, li, b.course.ID, command.CourseInput{Title: ptr("x")})
		require.ErrorIs(t, err, command.ErrForbidden, "li no longer owns it")

		_, err = b.s.CreateCourse(ctx, li, command.CourseInput{Code: ptr("C1"), Title: ptr("again")})
		require.ErrorIs(t, err, command.ErrDuplicate)
		require.ErrorIs(t, err, command.ErrConflict)
		_, err = b.s.UpdateSession(ctx, admin, 4242, command.SessionInput{})
		require.ErrorIs(t, err, command.ErrNotFound)
	})
}

// TestSessionLifecycle: a new session gets the default plan (or none), each
// command writes one audit row under the actor, and a cancelled session
// refuses edits, excuses and check-ins as a conflict.
func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		ctx := context.Background()
		var tps []store.Touchpoint
		require.NoError(t, db.Where("session_id = ?", b.sess.ID).Find(&tps).Error)
		require.Len(t, tps, len(plan.DefaultPlan()), "the default plan")
		require.Equal(t, "沟通", b.sess.Title, "the course's title by default")
		require.Equal(t, "Asia/Shanghai", b.sess.TimeZone)
		require.EqualValues(t, 600, b.sess.CheckinGrace)

		start, end := b.now.Add(72*time.Hour), b.now.Add(73*time.Hour)
		bare, err := b.s.CreateSession(ctx, li, command.SessionInput{CourseID: &b.course.ID, StartsAt: &start, EndsAt: &end, Plan: ptr(command.PlanNone), Teacher: ptr(" 钱老师 ")})
		require.NoError(t, err)
		require.Empty(t, bare.Touchpoints)
		require.Equal(t, "钱老师", bare.Teacher)

		e := store.Employee{ExternalID: "E1", Name: "张伟", Platform: "simulator", Active: true}
		require.NoError(t, db.Create(&e).Error)
		_, err = b.s.Excuse(ctx, li, b.sess.ID, command.Person{ExternalID: "E1"}, "出差")
		require.ErrorIs(t, err, command.ErrNotEnrolled)
		require.NoError(t, db.Create(&store.Enrollment{SessionID: b.sess.ID, EmployeeID: e.ID, Status: store.EnrollInvited}).Error)
		for i, want := range []bool{true, false} {
			res, err := b.s.Excuse(ctx, li, b.sess.ID, command.Person{ExternalID: "E1"}, "出差")
			require.NoError(t, err)
			require.Equal(t, want, res.Changed, i)
			require.Equal(t, store.EnrollExcused, res.Status)
		}
		res, err := b.s.Unexcuse(ctx, li, b.sess.ID, command.Person{EmployeeID: e.ID})
		require.NoError(t, err)
		require.True(t, res.Changed)
		for i, dup := range []bool{false, true} {
			ck, err := b.s.ManualCheckin(ctx, li, b.sess.ID, command.CheckinInput{Person: command.Person{ExternalID: "E1"}, Note: "补录"})
			require.NoError(t, err)
			require.Equal(t, dup, ck.Duplicate, i)
			require.Equal(t, store.CheckinOnTime, ck.Checkin.Kind, "before the windows open it counts as on time")
			require.Equal(t, "li", ck.Checkin.RecordedBy)
		}
		_, err = b.s.ManualCheckin(ctx, li, b.sess.ID, command.CheckinInput{Person: command.Person{ExternalID: "NOBODY"}})
		require.ErrorIs(t, err, command.ErrNotFound)

		later, moved := b.sess.StartsAt.Add(time.Hour), b.sess.EndsAt.Add(time.Hour)
		up, err := b.s.UpdateSession(ctx, li, b.sess.ID, command.SessionInput{StartsAt: &later, EndsAt: &moved})
		require.NoError(t, err)
		require.Equal(t, later, up.Session.StartsAt)
		var first store.Touchpoint
		require.NoError(t, db.Where("session_id = ?", b.sess.ID).Order("run_at").First(&first).Error)
		require.Equal(t, later.Add(-24*time.Hour), first.RunAt, "the reminder follows the new start")

		_, changed, err := b.s.CancelSession(ctx, li, b.sess.ID)
		require.NoError(t, err)
		require.True(t, changed)
		_, changed, err = b.s.CancelSession(ctx, li, b.sess.ID)
		require.NoError(t, err)
		require.False(t, changed, "cancelling twice changes nothing")
		_, err = b.s.UpdateSession(ctx, li, b.sess.ID, command.SessionInput{Title: ptr("x")})
		require.ErrorIs(t, err, command.ErrCancelled)
		_, err = b.s.CreateTouchpoint(ctx, li, b.sess.ID, command.TouchpointInput{Kind: ptr(bot.KindReminder)})
		require.ErrorIs(t, err, command.ErrCancelled)
		_, err = b.s.ManualCheckin(ctx, li, b.sess.ID, command.CheckinInput{Person: command.Person{ExternalID: "E1"}})
		require.True(t, errors.Is(err, command.ErrCancelled) && errors.Is(err, command.ErrConflict))

		var actions []string
		require.NoError(t, db.Model(&store.AuditLog{}).Where("actor = ?", "li").Order("id").Pluck("action", &actions).Error)
		require.Equal(t, []string{"course.create", "session.create", "session.create", "enrollment.excuse", "enrollment.unexcuse",
			"checkin.manual", "session.update", "session.cancel"}, actions)
	})
}

// TestTouchpointCommands: create, edit, pause, resume, send now and delete,
// each audited; the Planner's refusals come back as conflicts.
func TestTouchpointCommands(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		ctx := context.Background()
		tp, err := b.s.CreateTouchpoint(ctx, li, b.sess.ID, command.TouchpointInput{Kind: ptr(bot.KindCustom), Note: ptr(" 带笔记本 "), OffsetMinutes: ptr[int64](-120)})
		require.NoError(t, err)
		require.Equal(t, "带笔记本", tp.Note)
		require.Equal(t, b.sess.StartsAt.Add(-2*time.Hour), tp.RunAt)
		tp, err = b.s.UpdateTouchpoint(ctx, li, tp.ID, command.TouchpointInput{OffsetMinutes: ptr[int64](-60)})
		require.NoError(t, err)
		require.Equal(t, b.sess.StartsAt.Add(-time.Hour), tp.RunAt)
		tp, err = b.s.SetPaused(ctx, li, tp.ID, true)
		require.NoError(t, err)
		require.Equal(t, store.TouchpointPaused, tp.Status)
		_, err = b.s.SendNow(ctx, li, tp.ID, nil)
		require.ErrorIs(t, err, command.ErrConflict, "a paused touchpoint is not sent")
		_, err = b.s.SetPaused(ctx, li, tp.ID, true)
		require.ErrorIs(t, err, command.ErrConflict)
		_, err = b.s.SetPaused(ctx, li, tp.ID, false)
		require.NoError(t, err)
		job, err := b.s.SendNow(ctx, li, tp.ID, nil)
		require.NoError(t, err)
		require.NotZero(t, job.ID)
		require.NoError(t, b.s.DeleteTouchpoint(ctx, li, tp.ID))
		require.ErrorIs(t, b.s.DeleteTouchpoint(ctx, li, tp.ID), command.ErrNotFound)
		require.ErrorIs(t, b.s.DeleteTouchpoint(ctx, wang, tp.ID), command.ErrNotFound)

		var actions []string
		require.NoError(t, db.Model(&store.AuditLog{}).Where("object LIKE ?", "touchpoint:%").Order("id").Pluck("action", &actions).Error)
		require.Equal(t, []string{"touchpoint.create", "touchpoint.update", "touchpoint.pause", "touchpoint.resume", "touchpoint.send_now", "touchpoint.delete"}, actions)
	})
}

// wecomByMobile is a platform lookup that knows one mobile.
type wecomByMobile map[string]string

func (w wecomByMobile) Platform() string { return "wecom" }
func (w wecomByMobile) ByMobile(_ context.Context, m string) (string, error) {
	if id, ok := w[m]; ok {
		return id, nil
	}
	return "", nil
}
func (w wecomByMobile) ByEmail(context.Context, string) (string, error) { return "", nil }

// TestImportRosterLooksPeopleUpOnThePlatforms: a roster row that names a
// new person by mobile alone is found through the platform's lookup API
// (the directory does not know them yet) and imported with their id; a
// mobile nobody knows is a row error and nothing is imported.
func TestImportRosterLooksPeopleUpOnThePlatforms(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		b := setup(t, db)
		b.s.RosterLookups = []roster.Lookup{wecomByMobile{"13800000001": "zhangwei"}}
		ctx := context.Background()
		rows, err := roster.ParseCSV(strings.NewReader("姓名,手机,平台\n张伟,13800000001,wecom\n"))
		require.NoError(t, err)
		_, err = b.s.ImportRoster(ctx, admin, b.sess.ID, rows, nil)
		require.NoError(t, err)
		var e store.Employee
		require.NoError(t, db.Where("wecom_id = ?", "zhangwei").Take(&e).Error)
		require.Equal(t, "张伟", e.Name)

		before := b.count(t, &store.Employee{})
		rows, err = roster.ParseCSV(strings.NewReader("姓名,手机,平台\n李娜,13900000009,wecom\n"))
		require.NoError(t, err)
		_, err = b.s.ImportRoster(ctx, admin, b.sess.ID, rows, nil)
		var ve *roster.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "mobile", ve.Rows[0].Column)
		require.Equal(t, before, b.count(t, &store.Employee{}), "nothing imported")
	})
}
