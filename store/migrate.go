package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
)

// migrationFiles holds each version's frozen SQL, one directory per dialect
// (mysql for MySQL/MariaDB, sqlite), plus the bookkeeping table.
//
//go:embed migrations/mysql/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// Migration is one versioned schema change: its frozen SQL file, then an
// optional Go data step. Versions only ever grow; an applied migration is
// never edited, a new one is added instead.
type Migration struct {
	Version int
	Name    string
	// File is the SQL file's name in migrations/<dialect>/; both dialects
	// have a file of this name.
	File string
	// Up is the data step run after File's statements, nil when there is
	// none. It must be safe to run again.
	Up func(tx *gorm.DB) error
}

// Migrations lists every schema change in order.
var Migrations = []Migration{
	{Version: 1, Name: "core loop: roster, sessions, touchpoints, jobs, deliveries, check-ins, clicks", File: "0001_core.sql"},
	{Version: 2, Name: "surveys: templates, surveys, responses, answers", File: "0002_surveys.sql"},
	{Version: 3, Name: "console: accounts, login sessions, comment triage", File: "0003_console.sql"},
	{Version: 4, Name: "survey_answers.survey_id for join-free report aggregates", File: "0004_answer_survey_id.sql", Up: backfillAnswerSurveyIDs},
	{Version: 5, Name: "rate_limits: platform rate limits shared by all replicas", File: "0005_rate_limits.sql"},
	{Version: 6, Name: "survey anonymity: participation kept apart from answers; anonymous responses lose the person-derived key", File: "0006_survey_anonymity.sql", Up: migrateSurveyAnonymity},
	{Version: 7, Name: "presence: per-session presence rules, venue scan evidence, survey identity requirement", File: "0007_presence.sql"},
	{Version: 8, Name: "directory: departments, people, syncs, changes and conflicts from the platforms' directories", File: "0008_directory.sql"},
	{Version: 9, Name: "campaigns: campaigns, variants, assignments, conversions; clicks by employee and time", File: "0009_campaigns.sql"},
	{Version: 10, Name: "chat: inbound message de-duplication, comment prompts after a score tap, excuse requests", File: "0010_chat.sql"},
	{Version: 11, Name: "webhooks: endpoints, the event outbox, deliveries and their attempts", File: "0011_webhooks.sql"},
	{Version: 12, Name: "campaign_send_times: learned send times of campaign variants; a \"best\" campaign schedule's window", File: "0012_campaign_send_times.sql"},
	{Version: 13, Name: "calendar: sessions' events in the platforms' calendars; per course and session invite flags", File: "0013_calendar.sql"},
	{Version: 14, Name: "digests: digest subscriptions; a console account's own employee", File: "0014_digests.sql"},
	{Version: 15, Name: "touchpoint best-time windows: the learned send time of a class touchpoint, its window and basis", File: "0015_touchpoint_send_times.sql"},
	{Version: 16, Name: "touchpoint variants: a class touchpoint's A/B variants and each person's recorded assignment", File: "0016_touchpoint_variants.sql"},
	{Version: 17, Name: "clicks: one (touchpoint_id, delivery_id) index instead of one on each column", File: "0017_click_indexes.sql"},
}

// backfillAnswerSurveyIDs copies each answer's survey from its response
// (migration 4's data step); an answer without a response keeps 0.
func backfillAnswerSurveyIDs(tx *gorm.DB) error {
	return tx.Exec(`UPDATE survey_answers SET survey_id = COALESCE((SELECT survey_responses.survey_id FROM survey_responses
		WHERE survey_responses.id = survey_answers.response_id), 0) WHERE survey_id = 0`).Error
}

// LatestVersion is the schema version this binary expects.
func LatestVersion() int { return Migrations[len(Migrations)-1].Version }

// MigrationSQL returns the statements of file for the dialect of db, in order.
func MigrationSQL(db *gorm.DB, file string) ([]string, error) {
	dir, err := migrationDir(db)
	if err != nil {
		return nil, err
	}
	b, err := migrationFiles.ReadFile(path.Join("migrations", dir, file))
	if err != nil {
		return nil, fmt.Errorf("read migration %s: %w", file, err)
	}
	return splitStatements(string(b))
}

func migrationDir(db *gorm.DB) (string, error) {
	switch name := db.Dialector.Name(); name {
	case DriverMySQL, DriverSQLite:
		return name, nil
	default:
		return "", fmt.Errorf("no migrations for dialect %q", name)
	}
}

// splitStatements cuts a migration file into statements: lines starting with
// "--" are comments, and a statement ends with ";" at the end of a line.
func splitStatements(src string) ([]string, error) {
	var (
		out []string
		cur []string
	)
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimRight(line, " \t\r")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		if s, ok := strings.CutSuffix(line, ";"); ok {
			out = append(out, strings.Join(append(cur, s), "\n"))
			cur = nil
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		return nil, fmt.Errorf("statement without a closing semicolon: %q", strings.Join(cur, "\n"))
	}
	return out, nil
}

// Migrate applies every pending migration and returns the versions it
// applied. Versions already recorded in schema_migrations (also by the
// AutoMigrate-based code before the SQL was frozen) are skipped.
func Migrate(ctx context.Context, db *gorm.DB) ([]int, error) {
	return MigrateTo(ctx, db, LatestVersion())
}

// MigrateTo applies the pending migrations up to and including version
// target and returns the versions it applied.
func MigrateTo(ctx context.Context, db *gorm.DB, target int) ([]int, error) {
	if target < 0 || target > LatestVersion() {
		return nil, fmt.Errorf("migrate to version %d: versions are 0 to %d", target, LatestVersion())
	}
	db = db.WithContext(ctx)
	if err := runFile(db, "schema_migrations.sql"); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	done, err := appliedVersions(db)
	if err != nil {
		return nil, err
	}
	var applied []int
	for _, m := range Migrations {
		// A version below the highest applied one can still be missing:
		// versions are handed out in parallel and land out of order (11
		// after 12), so each one is checked by itself.
		if done[m.Version] || m.Version > target {
			continue
		}
		if err := applyMigration(db, m); err != nil {
			return applied, fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// Models lists the GORM model of every migrated table (schema_migrations
// aside) in migration order; the schema tests compare them with the tables
// the frozen SQL creates.
func Models() []any {
	m := []any{
		&Employee{}, &Course{}, &Teacher{}, &Session{}, &Enrollment{},
		&Touchpoint{}, &Job{}, &Delivery{}, &Checkin{}, &Click{},
		&CallbackEvent{}, &AuditLog{},
	}
	m = append(m, surveyModels()...)
	m = append(m, consoleModels()...)
	m = append(m, rateLimitModels()...)
	m = append(m, &SurveyParticipation{})
	m = append(m, presenceModels()...)
	m = append(m, directoryModels()...)
	m = append(m, CampaignModels()...)
	m = append(m, chatModels()...)
	m = append(m, webhookModels()...)
	m = append(m, &CalendarEvent{})
	m = append(m, digestModels()...)
	return append(m, variantModels()...)
}

// applyMigration runs m's SQL and data step and records its version. SQLite
// does all of it in one transaction; MySQL commits each DDL statement on its
// own, so there a statement whose table, column or index already exists (a
// run that stopped half way) is skipped, and the version row is written only
// after everything succeeded.
func applyMigration(db *gorm.DB, m Migration) error {
	run := func(tx *gorm.DB) error {
		if err := runFile(tx, m.File); err != nil {
			return err
		}
		if m.Up != nil {
			if err := m.Up(tx); err != nil {
				return err
			}
		}
		rec := SchemaMigration{Version: m.Version, Name: m.Name, AppliedAt: time.Now().UTC()}
		if err := tx.Create(&rec).Error; err != nil && !IsDuplicate(err) {
			return fmt.Errorf("record migration %d: %w", m.Version, err)
		}
		return nil
	}
	if db.Dialector.Name() == DriverSQLite {
		return db.Transaction(run)
	}
	return run(db)
}

func runFile(db *gorm.DB, file string) error {
	stmts, err := MigrationSQL(db, file)
	if err != nil {
		return err
	}
	for i, s := range stmts {
		if err := db.Exec(s).Error; err != nil && !alreadyApplied(err) {
			return fmt.Errorf("%s statement %d: %w", file, i+1, err)
		}
	}
	return nil
}

// alreadyApplied reports a MySQL error saying the table (1050), column
// (1060) or index (1061) a statement creates is already there.
func alreadyApplied(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1050 || me.Number == 1060 || me.Number == 1061)
}

// appliedVersions reads the versions recorded in schema_migrations.
func appliedVersions(db *gorm.DB) (map[int]bool, error) {
	var vs []int
	if err := db.Model(&SchemaMigration{}).Pluck("version", &vs).Error; err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	done := make(map[int]bool, len(vs))
	for _, v := range vs {
		done[v] = true
	}
	return done, nil
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
	done, err := appliedVersions(db.WithContext(ctx))
	if err != nil {
		return err
	}
	for _, m := range Migrations {
		if !done[m.Version] {
			return fmt.Errorf("schema version %d is missing migration %d: %w", v, m.Version, ErrSchemaBehind)
		}
	}
	return nil
}
