package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Migration is one versioned schema change. Versions only ever grow; an applied
// migration is never edited, a new one is added instead.
type Migration struct {
	Version int
	Name    string
	Up      func(tx *gorm.DB) error
}

// Migrations lists every schema change in order.
var Migrations = []Migration{
	{Version: 1, Name: "core loop: roster, sessions, touchpoints, jobs, deliveries, check-ins, clicks", Up: func(tx *gorm.DB) error {
		return tx.Migrator().AutoMigrate(
			&Employee{}, &Course{}, &Teacher{}, &Session{}, &Enrollment{},
			&Touchpoint{}, &Job{}, &Delivery{}, &Checkin{}, &Click{},
			&CallbackEvent{}, &AuditLog{},
		)
	}},
	{Version: 2, Name: "surveys: templates, surveys, responses, answers", Up: func(tx *gorm.DB) error {
		return tx.Migrator().AutoMigrate(surveyModels()...)
	}},
	{Version: 3, Name: "console: accounts, login sessions, comment triage", Up: func(tx *gorm.DB) error {
		return tx.Migrator().AutoMigrate(consoleModels()...)
	}},
	{Version: 4, Name: "survey_answers.survey_id for join-free report aggregates", Up: func(tx *gorm.DB) error {
		if err := tx.Migrator().AutoMigrate(&SurveyAnswer{}); err != nil {
			return err
		}
		return tx.Exec(`UPDATE survey_answers SET survey_id = (SELECT survey_responses.survey_id FROM survey_responses
			WHERE survey_responses.id = survey_answers.response_id) WHERE survey_id = 0`).Error
	}},
	{Version: 5, Name: "rate_limits: platform rate limits shared by all replicas", Up: func(tx *gorm.DB) error {
		return tx.Migrator().AutoMigrate(rateLimitModels()...)
	}},
	{Version: 6, Name: "survey anonymity: participation kept apart from answers; anonymous responses lose the person-derived key", Up: migrateSurveyAnonymity},
	{Version: 7, Name: "presence: per-session presence rules, venue scan evidence, survey identity requirement", Up: func(tx *gorm.DB) error {
		return tx.Migrator().AutoMigrate(presenceModels()...)
	}},
	{Version: 8, Name: "directory: departments, people, syncs, changes and conflicts from the platforms' directories", Up: func(tx *gorm.DB) error {
		return tx.Migrator().AutoMigrate(directoryModels()...)
	}},
	{Version: 9, Name: "campaigns: campaigns, variants, assignments, conversions; clicks by employee and time", Up: migrateCampaigns},
}

// LatestVersion is the schema version this binary expects.
func LatestVersion() int { return Migrations[len(Migrations)-1].Version }

// Migrate applies every pending migration and returns the versions it applied.
func Migrate(ctx context.Context, db *gorm.DB) ([]int, error) {
	db = db.WithContext(ctx)
	if err := db.Migrator().AutoMigrate(&SchemaMigration{}); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	current, err := CurrentVersion(ctx, db)
	if err != nil {
		return nil, err
	}
	var applied []int
	for _, m := range Migrations {
		if m.Version <= current {
			continue
		}
		// DDL is not transactional on MySQL; each migration is written to be
		// re-runnable, and the version row is written only after it succeeds.
		if err := m.Up(db); err != nil {
			return applied, fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
		}
		rec := SchemaMigration{Version: m.Version, Name: m.Name, AppliedAt: time.Now().UTC()}
		if err := db.Create(&rec).Error; err != nil && !IsDuplicate(err) {
			return applied, fmt.Errorf("record migration %d: %w", m.Version, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// CurrentVersion returns the highest applied migration, 0 for an empty database.
func CurrentVersion(ctx context.Context, db *gorm.DB) (int, error) {
	db = db.WithContext(ctx)
	if !db.Migrator().HasTable(&SchemaMigration{}) {
		return 0, nil
	}
	var v *int
	if err := db.Model(&SchemaMigration{}).Select("MAX(version)").Scan(&v).Error; err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// ErrSchemaBehind is returned by CheckCurrent when migrations are pending.
var ErrSchemaBehind = errors.New("database schema is behind: run learnloop migrate")

// CheckCurrent returns ErrSchemaBehind unless every migration is applied.
func CheckCurrent(ctx context.Context, db *gorm.DB) error {
	v, err := CurrentVersion(ctx, db)
	if err != nil {
		return err
	}
	if v < LatestVersion() {
		return fmt.Errorf("schema version %d, want %d: %w", v, LatestVersion(), ErrSchemaBehind)
	}
	return nil
}
