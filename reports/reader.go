package reports

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
)

// Reader computes reports from one database: the handle the API and the
// console hold, so that neither holds the database itself. Each method is
// the package function of the same name.
type Reader struct {
	DB *gorm.DB
	// Options tunes the session reports (the experiments' minimum
	// sample); the zero value means the defaults.
	Options Options
}

// NewScope is NewScope on r's database.
func (r Reader) NewScope(ctx context.Context, actor Actor, department string, minGroup int) (Scope, error) {
	return NewScope(ctx, r.DB, actor, department, minGroup)
}

// SessionCounts is SessionCounts on r's database.
func (r Reader) SessionCounts(ctx context.Context, ids []uint64, scope Scope) (map[uint64]Counts, error) {
	return SessionCounts(ctx, r.DB, ids, scope)
}

// Session is Session on r's database.
func (r Reader) Session(ctx context.Context, sessionID uint64, now time.Time) (*SessionReport, error) {
	return SessionWith(ctx, r.DB, sessionID, now, r.Options)
}

// SessionSurveys is SessionSurveys on r's database.
func (r Reader) SessionSurveys(ctx context.Context, sessionID uint64) ([]store.Survey, error) {
	return SessionSurveys(ctx, r.DB, sessionID)
}

// Survey is Survey on r's database.
func (r Reader) Survey(ctx context.Context, surveyID uint64, now time.Time) (*SurveyReport, error) {
	return Survey(ctx, r.DB, surveyID, now)
}

// SurveyFor is SurveyFor on r's database.
func (r Reader) SurveyFor(ctx context.Context, surveyID uint64, now time.Time, scope Scope) (*SurveyReport, error) {
	return SurveyFor(ctx, r.DB, surveyID, now, scope)
}

// Course is Course on r's database.
func (r Reader) Course(ctx context.Context, courseID uint64, now time.Time) (*CourseReport, error) {
	return Course(ctx, r.DB, courseID, now)
}

// CourseFor is CourseFor on r's database.
func (r Reader) CourseFor(ctx context.Context, courseID uint64, now time.Time, scope Scope) (*CourseReport, error) {
	return CourseFor(ctx, r.DB, courseID, now, scope)
}

// Teachers is Teachers on r's database.
func (r Reader) Teachers(ctx context.Context, year int, loc *time.Location, now time.Time) (*TeacherReport, error) {
	return Teachers(ctx, r.DB, year, loc, now)
}
