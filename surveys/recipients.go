package surveys

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
)

// RemindNowNote marks a reminder touchpoint created by RemindNow: it counts
// against the cap from the moment it exists, whatever its status says.
const RemindNowNote = "remind now"

// ErrNoneMissing is returned by RemindNow when every eligible recipient has
// answered (or the survey has not reached anyone yet): nothing is sent and
// no reminder is used up.
var ErrNoneMissing = errors.New("nobody to remind")

// EligibleQuery selects the eligible recipients of the given surveys as
// DISTINCT (survey_id, employee_id, subject_id) rows: every recipient of a
// sent delivery of any push of a survey — the first push or a reminder; the
// coordinator's escalation asks nothing — who is still an active employee
// (domain.md). The response rate counts over it (reports), and
// NonRespondents (the console's "not answered" list, the reminders' audience
// and "remind now") subtracts those who have completed. Add conditions on
// "employees" to narrow it (a department).
func EligibleQuery(db *gorm.DB, surveyIDs ...uint64) *gorm.DB {
	return db.Table("deliveries").Select("DISTINCT touchpoints.survey_id, deliveries.employee_id, deliveries.subject_id").
		Joins("JOIN touchpoints ON touchpoints.id = deliveries.touchpoint_id").
		Joins("JOIN employees ON employees.id = deliveries.employee_id").
		Where("touchpoints.survey_id IN ? AND deliveries.status = ? AND employees.active = ?", surveyIDs, store.DeliverySent, true).
		Where("touchpoints.kind <> ?", KindEscalation)
}

// NonRespondents returns the eligible recipients of sv (EligibleQuery)
// without a complete response — for an anonymous survey, without any
// response, since who finished is not recorded. For a manager follow-up each
// target is a (manager, attendee) pair. Targets are ordered by the
// recipient's and then the subject's external id.
func (s *Service) NonRespondents(ctx context.Context, db *gorm.DB, sv store.Survey) ([]bot.Target, error) {
	var pairs []struct {
		EmployeeID uint64
		SubjectID  uint64
	}
	if err := EligibleQuery(db.WithContext(ctx), sv.ID).Scan(&pairs).Error; err != nil {
		return nil, fmt.Errorf("survey %d: eligible recipients: %w", sv.ID, err)
	}
	done, err := s.responded(ctx, db, sv)
	if err != nil {
		return nil, err
	}
	ids := map[uint64]bool{}
	var todo [][2]uint64
	for _, p := range pairs {
		k := [2]uint64{p.EmployeeID, p.SubjectID}
		if done[k] {
			continue
		}
		todo = append(todo, k)
		ids[p.EmployeeID] = true
		if p.SubjectID != 0 {
			ids[p.SubjectID] = true
		}
	}
	if len(todo) == 0 {
		return nil, nil
	}
	list := make([]uint64, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	people := map[uint64]store.Employee{}
	for start := 0; start < len(list); start += 1000 {
		var es []store.Employee
		if err := db.WithContext(ctx).Where("id IN ?", list[start:min(start+1000, len(list))]).Find(&es).Error; err != nil {
			return nil, fmt.Errorf("survey %d: load recipients: %w", sv.ID, err)
		}
		for _, e := range es {
			people[e.ID] = e
		}
	}
	out := make([]bot.Target, 0, len(todo))
	for _, k := range todo {
		e, ok := people[k[0]]
		if !ok {
			continue
		}
		t := bot.Target{Employee: e}
		if k[1] != 0 {
			subj, ok := people[k[1]]
			if !ok {
				continue
			}
			t.Subject = &subj
		}
		out = append(out, t)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Employee.ExternalID != b.Employee.ExternalID {
			return a.Employee.ExternalID < b.Employee.ExternalID
		}
		return subjectExt(a) < subjectExt(b)
	})
	return out, nil
}

func subjectExt(t bot.Target) string {
	if t.Subject == nil {
		return ""
	}
	return t.Subject.ExternalID
}

// audienceNotResponded resolves the reminders' audiences (attendees' and
// managers'): the survey's NonRespondents while it is open.
func (s *Service) audienceNotResponded(ctx context.Context, db *gorm.DB, tp store.Touchpoint, _ store.Session) ([]bot.Target, error) {
	sv, err := s.surveyOf(ctx, db, tp)
	if err != nil {
		return nil, err
	}
	if !Open(sv, s.now()) {
		return nil, nil
	}
	return s.NonRespondents(ctx, db, sv)
}

// Missing lists who has not completed a survey (NonRespondents): recipient
// and, for a follow-up, subject names.
func (s *Service) Missing(ctx context.Context, sv store.Survey) ([]MissingRow, error) {
	targets, err := s.NonRespondents(ctx, s.DB, sv)
	if err != nil {
		return nil, err
	}
	out := make([]MissingRow, 0, len(targets))
	for _, t := range targets {
		row := MissingRow{ExternalID: t.Employee.ExternalID, Name: t.Employee.Name, Department: t.Employee.Department}
		if t.Subject != nil {
			row.SubjectExternalID, row.SubjectName = t.Subject.ExternalID, t.Subject.Name
		}
		out = append(out, row)
	}
	return out, nil
}

// MissingRow is one recipient who has not completed a survey.
type MissingRow struct {
	ExternalID        string `json:"external_id"`
	Name              string `json:"name"`
	Department        string `json:"department"`
	SubjectExternalID string `json:"subject_external_id,omitempty"`
	SubjectName       string `json:"subject_name,omitempty"`
}

// ReminderUse is how a survey's reminders stand against MaxReminders.
type ReminderUse struct {
	// Used are the reminders sent, going out now (due, or made by "remind
	// now"), none of which can be taken back.
	Used int
	// Planned are scheduled (or paused) reminders still in the future; a
	// "remind now" past the cap replaces the earliest.
	Planned []store.Touchpoint
}

// reminderKind is the reminder touchpoint kind and audience of sv.
func reminderKind(sv store.Survey) (kind, audience string) {
	if sv.Kind == store.SurveyManagerFollowup {
		return KindManagerReminder, AudienceManagersNotResponded
	}
	return KindFeedbackReminder, AudienceNotResponded
}

// Reminders reports how sv's reminders stand at now.
func Reminders(ctx context.Context, db *gorm.DB, sv store.Survey, now time.Time) (ReminderUse, error) {
	kind, _ := reminderKind(sv)
	var tps []store.Touchpoint
	err := db.WithContext(ctx).Where("survey_id = ? AND kind = ? AND status IN ?", sv.ID, kind,
		[]string{store.TouchpointFired, store.TouchpointScheduled, store.TouchpointPaused, store.TouchpointSkipped}).Order("run_at, id").Find(&tps).Error
	if err != nil {
		return ReminderUse{}, fmt.Errorf("survey %d: load reminders: %w", sv.ID, err)
	}
	var u ReminderUse
	for _, tp := range tps {
		due := tp.Status == store.TouchpointScheduled && !tp.RunAt.After(now)
		switch {
		case tp.Status == store.TouchpointFired || tp.Note == RemindNowNote || due:
			// A "remind now" is sent whatever its planned status (one made
			// long after the class is planned as skipped, then sent now).
			u.Used++
		case tp.Status == store.TouchpointSkipped:
			// Its time had passed when it was planned: never sent.
		default:
			u.Planned = append(u.Planned, tp)
		}
	}
	return u, nil
}

// Reminders reports how sv's reminders stand now (Reminders on the
// service's database and clock).
func (s *Service) Reminders(ctx context.Context, sv store.Survey) (ReminderUse, error) {
	return Reminders(ctx, s.DB, sv, s.now())
}

// RemindNow sends a reminder to the non-respondents of a survey now, within
// the cap of MaxReminders per survey (scheduled reminders included: past the
// cap this one replaces the next scheduled one). The check and the queueing
// happen in one transaction that first writes the survey's row, so calls at
// the same moment (two coordinators) run one after the other: the one past
// the cap gets ErrTooMany. With nobody to remind it returns ErrNoneMissing.
func (s *Service) RemindNow(ctx context.Context, surveyID uint64) (store.Touchpoint, error) {
	var tp store.Touchpoint
	err := store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		tp = store.Touchpoint{}
		now := s.now()
		// The lock, held until commit: the survey's row on MySQL; on SQLite
		// a write takes the database's single write lock.
		q := tx
		if store.IsMySQL(tx) {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		} else if err := tx.Exec("UPDATE surveys SET updated_at = updated_at WHERE id = ?", surveyID).Error; err != nil {
			return fmt.Errorf("lock survey: %w", err)
		}
		var sv store.Survey
		if err := q.Limit(1).Find(&sv, surveyID).Error; err != nil {
			return fmt.Errorf("load survey: %w", err)
		}
		if sv.ID == 0 {
			return fmt.Errorf("survey %d: %w", surveyID, ErrNotFound)
		}
		if !Open(sv, now) {
			return ErrClosed
		}
		use, err := Reminders(ctx, tx, sv, now)
		if err != nil {
			return err
		}
		if use.Used >= MaxReminders {
			return fmt.Errorf("%d reminders already sent: %w", use.Used, ErrTooMany)
		}
		missing, err := s.NonRespondents(ctx, tx, sv)
		if err != nil {
			return err
		}
		if len(missing) == 0 {
			return ErrNoneMissing
		}
		var sess store.Session
		if err := tx.First(&sess, sv.SessionID).Error; err != nil {
			return fmt.Errorf("load session: %w", err)
		}
		if use.Used+len(use.Planned) >= MaxReminders && len(use.Planned) > 0 {
			// The next scheduled reminder is replaced by this one.
			if err := s.Planner.Delete(ctx, tx, use.Planned[0].ID); err != nil {
				return err
			}
		}
		kind, audience := reminderKind(sv)
		at := now
		tp = store.Touchpoint{Kind: kind, Anchor: store.AnchorAbsolute, At: &at, Audience: audience, SurveyID: sv.ID, Note: RemindNowNote}
		return s.Planner.Create(ctx, tx, &tp, sess)
	})
	if err != nil {
		return store.Touchpoint{}, err
	}
	_, err = s.Planner.SendNow(ctx, tp.ID)
	return tp, err
}
