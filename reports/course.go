package reports

import (
	"context"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
)

// CourseReport compares a course's sessions and pools their feedback.
type CourseReport struct {
	GeneratedAt time.Time          `json:"generated_at"`
	CourseID    uint64             `json:"course_id"`
	Code        string             `json:"code"`
	Title       string             `json:"title"`
	Sessions    []CourseSessionRow `json:"sessions"`
	// Pooled figures over every session's feedback answers.
	Dimensions  []DimensionRow     `json:"dimensions"`
	NPS         *surveys.NPSResult `json:"nps,omitempty"`
	Definitions map[string]string  `json:"definitions"`
	// Department, Partial and MinN describe a partial scope (a department
	// head's subtree): every figure is then judged on its own n against
	// MinN and cleared below it; Suppressed is set when the pooled
	// responses are below MinN, NPSSuppressed when the pooled NPS is.
	Department    string `json:"department,omitempty"`
	Partial       bool   `json:"partial,omitempty"`
	MinN          int    `json:"-"`
	Suppressed    bool   `json:"suppressed,omitempty"`
	NPSSuppressed bool   `json:"nps_suppressed,omitempty"`
}

// CourseSessionRow is one session of a course.
//
// A cancelled session is listed with Cancelled set and nothing else: no
// check-in rate, no low-check-in flag, and its answers are left out of the
// pooled figures (Definitions["cancelled"]).
type CourseSessionRow struct {
	SessionID    uint64                      `json:"session_id"`
	Title        string                      `json:"title"`
	Status       string                      `json:"status"`
	Cancelled    bool                        `json:"cancelled"`
	StartsAt     time.Time                   `json:"starts_at"`
	Teacher      string                      `json:"teacher"`
	Eligible     int                         `json:"eligible"`
	CheckedIn    int                         `json:"checked_in"`
	CheckinRate  Figure                      `json:"checkin_rate"`
	LowCheckin   bool                        `json:"low_checkin"`
	SurveyID     uint64                      `json:"survey_id,omitempty"`
	ResponseRate *surveys.ResponseRateResult `json:"response_rate,omitempty"`
	Dimensions   []DimensionRow              `json:"dimensions,omitempty"`
	NPS          *surveys.NPSResult          `json:"nps,omitempty"`
	// Suppressed is set in a partial scope when the session's check-in
	// figures are hidden (n below the minimum); SurveySuppressed when its
	// survey's responses are, NPSSuppressed when its NPS is.
	Suppressed       bool `json:"suppressed,omitempty"`
	SurveySuppressed bool `json:"survey_suppressed,omitempty"`
	NPSSuppressed    bool `json:"nps_suppressed,omitempty"`
}

// Course builds the full report of a course across its sessions.
func Course(ctx context.Context, db *gorm.DB, courseID uint64, now time.Time) (*CourseReport, error) {
	return CourseFor(ctx, db, courseID, now, FullScope())
}

// CourseFor builds the report of a course for scope: an actor who may not
// see the course gets an error wrapping ErrForbidden; a partial scope
// counts only its department subtree (check-ins and answers) and
// suppresses every figure whose own n is below the minimum group size.
// Check-ins are counted as SessionCounts counts them (on-site rule
// included).
func CourseFor(ctx context.Context, db *gorm.DB, courseID uint64, now time.Time, scope Scope) (*CourseReport, error) {
	db = db.WithContext(ctx)
	var c store.Course
	if err := take(db, &c, courseID, "course"); err != nil {
		return nil, err
	}
	if err := scope.checkCourse(db, courseID); err != nil {
		return nil, err
	}
	var sessions []store.Session
	if err := db.Where("course_id = ?", courseID).Order("starts_at").Find(&sessions).Error; err != nil {
		return nil, fmt.Errorf("reports: load sessions: %w", err)
	}
	ids, att, err := countsOf(ctx, db, sessions, scope)
	if err != nil {
		return nil, err
	}
	teachers, err := namesByID(db, func(t store.Teacher) (uint64, string) { return t.ID, t.Name })
	if err != nil {
		return nil, err
	}
	r := &CourseReport{GeneratedAt: now.UTC(), CourseID: c.ID, Code: c.Code, Title: c.Title, Sessions: []CourseSessionRow{}, Definitions: map[string]string{},
		Partial: scope.Partial(), MinN: scope.MinN(0)}
	if r.Partial {
		r.Department = scope.Department
	}
	fb, aggs, err := feedbackAggregates(ctx, db, ids, scope)
	if err != nil {
		return nil, err
	}
	for _, sv := range fb {
		r.MinN = max(r.MinN, scope.MinN(sv.MinGroupSize))
	}
	pooled := &surveyAgg{values: map[string][]float64{}}
	var poolDef *surveys.Definition
	for _, s := range sessions {
		a := att[s.ID]
		row := CourseSessionRow{SessionID: s.ID, Title: s.Title, Status: s.Status, StartsAt: s.StartsAt, Eligible: a.Eligible(), CheckedIn: a.CheckedIn, Suppressed: a.Suppressed}
		if s.TeacherID != nil {
			row.Teacher = teachers[*s.TeacherID]
		}
		if s.Status == store.SessionCancelled {
			row.Cancelled = true
			row.CheckinRate = Figure{N: 0, Definition: text.M("reports:definition.cancelled")}
			r.Sessions = append(r.Sessions, row)
			continue
		}
		row.CheckinRate, row.LowCheckin = checkinFigure(a.CheckedIn, a.Eligible())
		if a.Suppressed {
			row.CheckinRate = Figure{Definition: row.CheckinRate.Definition}
		}
		if sv, ok := fb[s.ID]; ok {
			def, err := surveys.SurveyDefinition(sv)
			if err != nil {
				return nil, fmt.Errorf("reports: %w", err)
			}
			agg := aggs[sv.ID]
			rr, dims, nps, err := agg.figures(def)
			if err != nil {
				return nil, fmt.Errorf("reports: survey %d: %w", sv.ID, err)
			}
			row.SurveyID, row.ResponseRate, row.Dimensions, row.NPS = sv.ID, &rr, dims, nps
			for k, v := range agg.values {
				pooled.values[k] = append(pooled.values[k], v...)
			}
			pooled.complete += agg.complete
			pooled.partial += agg.partial
			pooled.eligible += agg.eligible
			if r.Partial {
				row.SurveySuppressed, row.NPSSuppressed = suppressFigures(r.MinN, agg.complete+agg.partial, row.ResponseRate, row.Dimensions, &row.NPS)
			}
			if poolDef == nil {
				poolDef = &def
			}
		}
		r.Sessions = append(r.Sessions, row)
	}
	if poolDef != nil {
		_, dims, nps, err := pooled.figures(*poolDef)
		if err != nil {
			return nil, fmt.Errorf("reports: pooled figures: %w", err)
		}
		r.Dimensions, r.NPS = dims, nps
		if r.Partial {
			r.Suppressed, r.NPSSuppressed = suppressFigures(r.MinN, pooled.complete+pooled.partial, nil, r.Dimensions, &r.NPS)
		}
	}
	r.Definitions["checkin_rate"] = definitionOf("checkin_rate", 0).Bilingual()
	r.Definitions["low_checkin"] = text.T(text.ZH, "reports:definition.course_low_checkin")
	r.Definitions["pooled"] = text.T(text.ZH, "reports:definition.pooled")
	r.Definitions["cancelled"] = text.M("reports:definition.cancelled").Bilingual()
	return r, nil
}

// TeacherRow is one teacher's year under the certification rule.
type TeacherRow struct {
	TeacherID uint64              `json:"teacher_id"`
	Name      string              `json:"name"`
	Sessions  []TeacherSessionRow `json:"sessions"`
	Keeps     bool                `json:"keeps_certification"`
	// Reasons say why the teacher loses the certification, in zh-CN (the
	// API's and the exports' language); Why are the same reasons for a
	// presenter to localize.
	Reasons []string       `json:"reasons"`
	Why     []text.Message `json:"-"`
}

// TeacherSessionRow is one taught session with its learners and rating.
type TeacherSessionRow struct {
	SessionID uint64    `json:"session_id"`
	Course    string    `json:"course"`
	StartsAt  time.Time `json:"starts_at"`
	Learners  int       `json:"learners"`
	Rating    *float64  `json:"rating"`
	RatingN   int       `json:"rating_n"`
}

// TeacherReport applies the certification rule for a calendar year in loc.
type TeacherReport struct {
	GeneratedAt time.Time    `json:"generated_at"`
	Year        int          `json:"year"`
	Rule        string       `json:"rule"`
	Teachers    []TeacherRow `json:"teachers"`
}

// Certification thresholds (China Telecom's rule, domain.md).
const (
	CertMinSessions = 3
	CertMinLearners = 30
	CertMinRating   = 4.5
)

// RatingDigits is the number of decimals (2 to 6) at which x, rounded with
// surveys.Round, stays on the same side of threshold as x itself: a mean of
// 4.495 below a 4.5 rule is shown as 4.495, never as 4.50.
func RatingDigits(x, threshold float64) int {
	for d := 2; d < 6; d++ {
		if (surveys.Round(x, d) < threshold) == (x < threshold) {
			return d
		}
	}
	return 6
}

// Teachers reports every teacher's sessions in year and whether they keep
// their certification: ≥ 3 sessions, each with ≥ 30 learners (checked in),
// each rated ≥ 4.5 (mean of the feedback's teacher-satisfaction question).
func Teachers(ctx context.Context, db *gorm.DB, year int, loc *time.Location, now time.Time) (*TeacherReport, error) {
	db = db.WithContext(ctx)
	if loc == nil {
		loc = time.UTC
	}
	from := time.Date(year, 1, 1, 0, 0, 0, 0, loc).UTC()
	to := time.Date(year+1, 1, 1, 0, 0, 0, 0, loc).UTC()
	var sessions []store.Session
	if err := db.Where("teacher_id IS NOT NULL AND status <> ? AND starts_at >= ? AND starts_at < ?", store.SessionCancelled, from, to).Order("starts_at").Find(&sessions).Error; err != nil {
		return nil, fmt.Errorf("reports: load sessions: %w", err)
	}
	ids, att, err := countsOf(ctx, db, sessions, FullScope())
	if err != nil {
		return nil, err
	}
	var ts []store.Teacher
	if err := db.Find(&ts).Error; err != nil {
		return nil, err
	}
	courses, err := namesByID(db, func(c store.Course) (uint64, string) { return c.ID, c.Title })
	if err != nil {
		return nil, err
	}
	byTeacher := map[uint64]*TeacherRow{}
	for _, t := range ts {
		byTeacher[t.ID] = &TeacherRow{TeacherID: t.ID, Name: t.Name, Sessions: []TeacherSessionRow{}}
	}
	fb, aggs, err := feedbackAggregates(ctx, db, ids, FullScope())
	if err != nil {
		return nil, err
	}
	for _, s := range sessions {
		row := TeacherSessionRow{SessionID: s.ID, Course: courses[s.CourseID], StartsAt: s.StartsAt, Learners: att[s.ID].CheckedIn}
		if sv, ok := fb[s.ID]; ok {
			def, err := surveys.SurveyDefinition(sv)
			if err != nil {
				return nil, fmt.Errorf("reports: %w", err)
			}
			_, dims, _, err := aggs[sv.ID].figures(def)
			if err != nil {
				return nil, fmt.Errorf("reports: survey %d: %w", sv.ID, err)
			}
			for _, d := range dims {
				if d.Dimension == "teacher" {
					row.Rating, row.RatingN = d.Rating.Mean, d.Rating.N
				}
			}
		}
		if tr := byTeacher[*s.TeacherID]; tr != nil {
			tr.Sessions = append(tr.Sessions, row)
		}
	}
	rep := &TeacherReport{GeneratedAt: now.UTC(), Year: year, Teachers: []TeacherRow{},
		Rule: text.T(text.ZH, "reports:teacher.rule", year, CertMinSessions, CertMinLearners, CertMinRating)}
	for _, t := range byTeacher {
		t.Keeps = true
		lose := func(key string, args ...any) {
			m := text.M(key, args...)
			t.Keeps, t.Why, t.Reasons = false, append(t.Why, m), append(t.Reasons, m.In(text.ZH))
		}
		if len(t.Sessions) < CertMinSessions {
			lose("reports:teacher.too_few_sessions", len(t.Sessions), CertMinSessions)
		}
		for _, s := range t.Sessions {
			day := s.StartsAt.In(loc).Format("01-02")
			if s.Learners < CertMinLearners {
				lose("reports:teacher.too_few_learners", day, s.SessionID, s.Learners, CertMinLearners)
			}
			switch {
			case s.Rating == nil:
				lose("reports:teacher.no_rating", day, s.SessionID)
			case *s.Rating < CertMinRating:
				// The exact mean is compared; it is printed with as many
				// decimals as it takes not to read as 4.5 (4.495, not 4.50).
				lose("reports:teacher.low_rating", day, s.SessionID,
					surveys.FormatFixed(*s.Rating, RatingDigits(*s.Rating, CertMinRating)), s.RatingN, CertMinRating)
			}
		}
		if t.Reasons == nil {
			t.Reasons = []string{}
		}
		rep.Teachers = append(rep.Teachers, *t)
	}
	sort.Slice(rep.Teachers, func(i, j int) bool { return rep.Teachers[i].Name < rep.Teachers[j].Name })
	return rep, nil
}

// suppressFigures clears the survey figures a partial scope may not show:
// all of them when responses are below min (all is then set), otherwise
// each rating and the NPS whose own n is below min.
func suppressFigures(min, responses int, rr *surveys.ResponseRateResult, dims []DimensionRow, nps **surveys.NPSResult) (all, npsHidden bool) {
	all = responses < min
	if all && rr != nil {
		*rr = surveys.ResponseRateResult{Definition: rr.Definition}
	}
	for i := range dims {
		d := &dims[i]
		if all || d.Rating.N < min {
			d.Suppressed = true
			d.Rating = surveys.RatingResult{Definition: d.Rating.Definition}
		}
	}
	if *nps != nil && (all || (*nps).N < min) {
		npsHidden = true
		*nps = &surveys.NPSResult{Definition: (*nps).Definition}
	}
	return all, npsHidden
}

// countsOf returns the sessions' ids and their check-in counts in scope.
func countsOf(ctx context.Context, db *gorm.DB, sessions []store.Session, scope Scope) ([]uint64, map[uint64]Counts, error) {
	ids := make([]uint64, len(sessions))
	for i, s := range sessions {
		ids[i] = s.ID
	}
	att, err := SessionCounts(ctx, db, ids, scope)
	return ids, att, err
}

// namesByID reads every row of T and maps each id to its name (a
// teacher's name, a course's title).
func namesByID[T any](db *gorm.DB, name func(T) (uint64, string)) (map[uint64]string, error) {
	var rows []T
	if err := db.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("reports: load names: %w", err)
	}
	m := make(map[uint64]string, len(rows))
	for _, x := range rows {
		id, n := name(x)
		m[id] = n
	}
	return m, nil
}
