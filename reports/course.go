package reports

import (
	"context"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
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
}

// attendance counts eligible (roster − excused − cancelled) and checked-in
// people per session.
func attendance(ctx context.Context, db *gorm.DB, sessionIDs []uint64) (map[uint64][2]int, error) {
	out := map[uint64][2]int{}
	if len(sessionIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		SessionID uint64
		Eligible  int
		CheckedIn int
	}
	err := db.WithContext(ctx).Table("enrollments").
		Select("enrollments.session_id, COUNT(*) AS eligible, SUM(CASE WHEN checkins.id IS NULL THEN 0 ELSE 1 END) AS checked_in").
		Joins("LEFT JOIN checkins ON checkins.session_id = enrollments.session_id AND checkins.employee_id = enrollments.employee_id").
		Where("enrollments.session_id IN ? AND enrollments.status = ?", sessionIDs, store.EnrollInvited).
		Group("enrollments.session_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("reports: attendance: %w", err)
	}
	for _, r := range rows {
		out[r.SessionID] = [2]int{r.Eligible, r.CheckedIn}
	}
	return out, nil
}

// Course builds the report of a course across its sessions.
func Course(ctx context.Context, db *gorm.DB, courseID uint64, now time.Time) (*CourseReport, error) {
	db = db.WithContext(ctx)
	var c store.Course
	if err := db.Limit(1).Find(&c, courseID).Error; err != nil {
		return nil, fmt.Errorf("reports: load course: %w", err)
	}
	if c.ID == 0 {
		return nil, fmt.Errorf("reports: course %d: %w", courseID, ErrNotFound)
	}
	var sessions []store.Session
	if err := db.Where("course_id = ?", courseID).Order("starts_at").Find(&sessions).Error; err != nil {
		return nil, fmt.Errorf("reports: load sessions: %w", err)
	}
	ids := make([]uint64, len(sessions))
	for i, s := range sessions {
		ids[i] = s.ID
	}
	att, err := attendance(ctx, db, ids)
	if err != nil {
		return nil, err
	}
	teachers := map[uint64]string{}
	var ts []store.Teacher
	db.Find(&ts)
	for _, t := range ts {
		teachers[t.ID] = t.Name
	}
	r := &CourseReport{GeneratedAt: now.UTC(), CourseID: c.ID, Code: c.Code, Title: c.Title, Sessions: []CourseSessionRow{}, Definitions: map[string]string{}}
	fb, err := feedbackSurveys(ctx, db, ids)
	if err != nil {
		return nil, err
	}
	svIDs := make([]uint64, 0, len(fb))
	for _, sv := range fb {
		svIDs = append(svIDs, sv.ID)
	}
	aggs, err := aggregateSurveys(ctx, db, svIDs)
	if err != nil {
		return nil, err
	}
	pooled := &surveyAgg{values: map[string][]float64{}}
	var poolDef *surveys.Definition
	for _, s := range sessions {
		a := att[s.ID]
		row := CourseSessionRow{SessionID: s.ID, Title: s.Title, Status: s.Status, StartsAt: s.StartsAt, Eligible: a[0], CheckedIn: a[1]}
		if s.TeacherID != nil {
			row.Teacher = teachers[*s.TeacherID]
		}
		if s.Status == store.SessionCancelled {
			row.Cancelled = true
			row.CheckinRate = Figure{N: 0, Definition: r.cancelledDefinition()}
			r.Sessions = append(r.Sessions, row)
			continue
		}
		row.CheckinRate, row.LowCheckin = checkinFigure(a[1], a[0])
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
	}
	r.Definitions["checkin_rate"] = figureDefinition("checkin_rate", 0)
	r.Definitions["low_checkin"] = "签到率低于 50% 的场次标记为需立即复盘"
	r.Definitions["pooled"] = "课程汇总：把各场次（已取消的除外）课后反馈中每题的全部回答合并后计算（不是各场次结果的平均），n 为合并后的回答数"
	r.Definitions["cancelled"] = r.cancelledDefinition()
	return r, nil
}

func (r *CourseReport) cancelledDefinition() string {
	return "已取消的场次列出并标为“已取消”，不计算签到率、不标记低签到率，其反馈不计入课程汇总 | A cancelled session is listed as cancelled: no check-in rate, never flagged as low, and its feedback is left out of the pooled figures"
}

// TeacherRow is one teacher's year under the certification rule.
type TeacherRow struct {
	TeacherID uint64              `json:"teacher_id"`
	Name      string              `json:"name"`
	Sessions  []TeacherSessionRow `json:"sessions"`
	Keeps     bool                `json:"keeps_certification"`
	Reasons   []string            `json:"reasons"`
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
	ids := make([]uint64, len(sessions))
	for i, s := range sessions {
		ids[i] = s.ID
	}
	att, err := attendance(ctx, db, ids)
	if err != nil {
		return nil, err
	}
	var ts []store.Teacher
	if err := db.Find(&ts).Error; err != nil {
		return nil, err
	}
	courses := map[uint64]string{}
	var cs []store.Course
	db.Find(&cs)
	for _, c := range cs {
		courses[c.ID] = c.Title
	}
	byTeacher := map[uint64]*TeacherRow{}
	for _, t := range ts {
		byTeacher[t.ID] = &TeacherRow{TeacherID: t.ID, Name: t.Name, Sessions: []TeacherSessionRow{}}
	}
	fb, err := feedbackSurveys(ctx, db, ids)
	if err != nil {
		return nil, err
	}
	svIDs := make([]uint64, 0, len(fb))
	for _, sv := range fb {
		svIDs = append(svIDs, sv.ID)
	}
	aggs, err := aggregateSurveys(ctx, db, svIDs)
	if err != nil {
		return nil, err
	}
	for _, s := range sessions {
		row := TeacherSessionRow{SessionID: s.ID, Course: courses[s.CourseID], StartsAt: s.StartsAt, Learners: att[s.ID][1]}
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
		Rule: fmt.Sprintf("保留认证：%d 年内授课至少 %d 次，每次签到学员不少于 %d 人，且每次讲师满意度均分不低于 %.1f（满分 5）", year, CertMinSessions, CertMinLearners, CertMinRating)}
	for _, t := range byTeacher {
		t.Keeps = true
		if len(t.Sessions) < CertMinSessions {
			t.Keeps = false
			t.Reasons = append(t.Reasons, fmt.Sprintf("授课 %d 次，少于 %d 次", len(t.Sessions), CertMinSessions))
		}
		for _, s := range t.Sessions {
			day := s.StartsAt.In(loc).Format("01-02")
			if s.Learners < CertMinLearners {
				t.Keeps = false
				t.Reasons = append(t.Reasons, fmt.Sprintf("%s 场次 #%d 学员 %d 人，少于 %d 人", day, s.SessionID, s.Learners, CertMinLearners))
			}
			switch {
			case s.Rating == nil:
				t.Keeps = false
				t.Reasons = append(t.Reasons, fmt.Sprintf("%s 场次 #%d 没有讲师评分", day, s.SessionID))
			case *s.Rating < CertMinRating:
				// The exact mean is compared; it is printed with as many
				// decimals as it takes not to read as 4.5 (4.495, not 4.50).
				t.Keeps = false
				t.Reasons = append(t.Reasons, fmt.Sprintf("%s 场次 #%d 讲师评分 %s（n = %d），低于 %.1f", day, s.SessionID,
					surveys.FormatFixed(*s.Rating, RatingDigits(*s.Rating, CertMinRating)), s.RatingN, CertMinRating))
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
