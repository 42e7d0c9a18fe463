package store_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// emptyDB is a test database of driver with every table dropped.
func emptyDB(t *testing.T, driver string) *storetest.DB {
	t.Helper()
	db := storetest.Open(t, driver)
	tables, err := db.Migrator().GetTables()
	require.NoError(t, err)
	for _, tb := range tables {
		if !strings.HasPrefix(tb, "sqlite_") {
			require.NoError(t, db.Migrator().DropTable(tb))
		}
	}
	return db
}

// legacyMigrate builds the schema the way the code before the frozen SQL
// did, GORM AutoMigrate on today's structs (with migration 6's WITHOUT ROWID
// and migration 9's raw index), and records every version as applied.
func legacyMigrate(t *testing.T, db *gorm.DB) {
	t.Helper()
	m := db.Migrator()
	require.NoError(t, m.AutoMigrate(&store.SchemaMigration{}))
	for _, model := range store.Models() {
		tx := db
		if _, ok := model.(*store.SurveyParticipation); ok && db.Dialector.Name() == store.DriverSQLite {
			tx = db.Set("gorm:table_options", " WITHOUT ROWID")
		}
		require.NoError(t, tx.Migrator().AutoMigrate(model), "%T", model)
	}
	require.NoError(t, db.Exec("CREATE INDEX ix_clicks_employee_time ON clicks (employee_id, clicked_at)").Error)
	for _, mg := range store.Migrations {
		require.NoError(t, db.Create(&store.SchemaMigration{Version: mg.Version, Name: mg.Name, AppliedAt: time.Now().UTC()}).Error)
	}
}

// describe returns every table's columns (type, nullability, default, key
// and collation), indexes (uniqueness and column order) and table options,
// as comparable strings.
func describe(t *testing.T, db *gorm.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	add := func(table, s string) { out[table] = append(out[table], s) }
	rows := func(q string, args ...any) [][]any {
		r, err := db.Raw(q, args...).Rows()
		require.NoError(t, err)
		defer r.Close()
		cols, err := r.Columns()
		require.NoError(t, err)
		var res [][]any
		for r.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, r.Scan(ptrs...))
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					vals[i] = string(b)
				}
			}
			res = append(res, vals)
		}
		require.NoError(t, r.Err())
		return res
	}
	if db.Dialector.Name() == store.DriverMySQL {
		for _, r := range rows(`SELECT TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()`) {
			add(fmt.Sprint(r[0]), fmt.Sprintf("table %v %v", r[1], r[2]))
		}
		for _, r := range rows(`SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, COLUMN_KEY, COLLATION_NAME
			FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()`) {
			add(fmt.Sprint(r[0]), fmt.Sprintf("column %v %v null=%v default=%v extra=%v key=%v collation=%v", r[1:]...))
		}
		for _, r := range rows(`SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX)
			FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE`) {
			add(fmt.Sprint(r[0]), fmt.Sprintf("index %v non_unique=%v (%v)", r[1:]...))
		}
	} else {
		for _, tr := range rows(`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`) {
			table, sql := fmt.Sprint(tr[0]), fmt.Sprint(tr[1])
			add(table, fmt.Sprintf("table without_rowid=%v autoincrement=%v", strings.Contains(sql, "WITHOUT ROWID"), strings.Contains(sql, "AUTOINCREMENT")))
			for _, r := range rows(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)`, table) {
				add(table, fmt.Sprintf("column %v %v notnull=%v default=%v pk=%v", r...))
			}
			for _, r := range rows(`SELECT name, "unique", origin FROM pragma_index_list(?)`, table) {
				var cols []string
				for _, c := range rows(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`, r[0]) {
					cols = append(cols, fmt.Sprint(c[0]))
				}
				add(table, fmt.Sprintf("index %v unique=%v origin=%v (%s)", r[0], r[1], r[2], strings.Join(cols, ",")))
			}
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

// requireSameSchema compares two describe results table by table, so that a
// difference names its table and line.
func requireSameSchema(t *testing.T, want, got map[string][]string) {
	t.Helper()
	tables := func(m map[string][]string) []string {
		var k []string
		for name := range m {
			k = append(k, name)
		}
		sort.Strings(k)
		return k
	}
	require.Equal(t, tables(want), tables(got), "tables")
	for name, w := range want {
		require.Equal(t, w, got[name], "table %s", name)
	}
}

// TestFrozenMigrationsEqualAutoMigrate: a fresh migrate builds exactly the
// schema GORM AutoMigrate builds from today's structs (columns, types,
// defaults, indexes, unique keys), so a struct changed without a migration,
// or a migration without its struct change, fails here.
func TestFrozenMigrationsEqualAutoMigrate(t *testing.T) {
	t.Parallel()
	storetest.EachDriver(t, func(t *testing.T, driver string) {
		frozen := storetest.Open(t, driver)
		legacy := emptyDB(t, driver)
		legacyMigrate(t, legacy.DB)
		want, got := describe(t, legacy.DB), describe(t, frozen.DB)
		require.Len(t, got, len(store.Models())+1, "one table per model and schema_migrations")
		requireSameSchema(t, want, got)
	})
}

// TestEveryModelMatchesItsTable: each model's fields are exactly the columns
// of its migrated table.
func TestEveryModelMatchesItsTable(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		requireMatchesTables(t, db, append(store.Models(), &store.SchemaMigration{})...)
	})
}

// requireMatchesTables checks that each model has its table and that the
// model's fields are exactly that table's columns: none missing, none the
// struct does not name.
func requireMatchesTables(t *testing.T, db *storetest.DB, models ...any) {
	t.Helper()
	for _, model := range models {
		s, err := schema.Parse(model, &sync.Map{}, db.NamingStrategy)
		require.NoError(t, err)
		require.True(t, db.Migrator().HasTable(model), s.Table)
		var want []string
		for _, f := range s.Fields {
			if f.DBName != "" {
				want = append(want, f.DBName)
			}
		}
		cols, err := db.Migrator().ColumnTypes(model)
		require.NoError(t, err, s.Table)
		var got []string
		for _, c := range cols {
			got = append(got, c.Name())
		}
		require.ElementsMatch(t, want, got, s.Table)
	}
}

// TestMigrateOverLegacyDatabaseIsANoop: a database the AutoMigrate-based code
// brought to the latest version is recognized and left alone.
func TestMigrateOverLegacyDatabaseIsANoop(t *testing.T) {
	t.Parallel()
	storetest.EachDriver(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		db := emptyDB(t, driver)
		legacyMigrate(t, db.DB)
		before := describe(t, db.DB)
		applied, err := store.Migrate(ctx, db.DB)
		require.NoError(t, err)
		require.Empty(t, applied)
		require.NoError(t, store.CheckCurrent(ctx, db.DB))
		requireSameSchema(t, before, describe(t, db.DB))
	})
}

// TestUpgradeFromVersion1KeepsData writes rows at versions 1 and 3 with the
// SQL of those versions, migrates to the latest and reads them back.
func TestUpgradeFromVersion1KeepsData(t *testing.T) {
	t.Parallel()
	storetest.EachDriver(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		db := emptyDB(t, driver)
		applied, err := store.MigrateTo(ctx, db.DB, 1)
		require.NoError(t, err)
		require.Equal(t, []int{1}, applied)
		require.ErrorIs(t, store.CheckCurrent(ctx, db.DB), store.ErrSchemaBehind)
		require.False(t, db.Migrator().HasTable("surveys"), "version 1 has no surveys")

		at := time.Date(2026, 3, 2, 4, 17, 23, 0, time.UTC)
		emp := store.Employee{ExternalID: "E1", Name: "张三", Department: "销售", Active: true}
		require.NoError(t, db.Create(&emp).Error)
		sess := store.Session{CourseID: 1, Title: "s", StartsAt: at, EndsAt: at.Add(time.Hour), TimeZone: "Asia/Shanghai", Status: store.SessionPlanned}
		// Version 1 has no calendar_invite (migration 13).
		require.NoError(t, db.Omit("CalendarInvite").Create(&sess).Error)
		click := store.Click{DeliveryID: 3, TouchpointID: 4, EmployeeID: emp.ID, Target: "https://example.com", ClickedAt: at}
		require.NoError(t, db.Create(&click).Error)
		chk := store.Checkin{SessionID: sess.ID, EmployeeID: emp.ID, Kind: store.CheckinOnTime, Source: store.SourceCard, CheckedInAt: at}
		require.NoError(t, db.Create(&chk).Error)

		applied, err = store.MigrateTo(ctx, db.DB, 3)
		require.NoError(t, err)
		require.Equal(t, []int{2, 3}, applied)
		require.False(t, db.Migrator().HasColumn(&store.SurveyAnswer{}, "survey_id"), "survey_id comes with version 4")
		// Version 3's answers have no survey_id: plain SQL, as that code wrote them.
		require.NoError(t, db.Exec(`INSERT INTO survey_responses (id, survey_id, respondent_key, subject_id, respondent_id, department, status, source, started_at)
			VALUES (10, 7, ?, 0, ?, '销售', 'complete', 'form', ?)`, fmt.Sprintf("e:%d", emp.ID), emp.ID, at).Error)
		require.NoError(t, db.Exec(`INSERT INTO survey_answers (id, response_id, question_key, number) VALUES (20, 10, 'q', 4), (21, 99, 'q', 5)`).Error)

		applied, err = store.Migrate(ctx, db.DB)
		require.NoError(t, err)
		require.Equal(t, versionsAbove(3), applied, "every version above 3, in order")
		require.NoError(t, store.CheckCurrent(ctx, db.DB))

		var gotEmp store.Employee
		require.NoError(t, db.First(&gotEmp, emp.ID).Error)
		require.Equal(t, "张三", gotEmp.Name)
		require.Equal(t, "销售", gotEmp.Department)
		var gotClick store.Click
		require.NoError(t, db.First(&gotClick, click.ID).Error)
		require.Equal(t, emp.ID, gotClick.EmployeeID)
		require.True(t, gotClick.ClickedAt.Equal(at))
		require.True(t, db.Migrator().HasIndex(&store.Click{}, "ix_clicks_employee_time"))
		require.True(t, db.Migrator().HasIndex(&store.Click{}, "ix_clicks_touchpoint_delivery"), "migration 17")
		for _, gone := range []string{"idx_clicks_delivery_id", "idx_clicks_touchpoint_id"} {
			require.False(t, db.Migrator().HasIndex(&store.Click{}, gone), "migration 17 drops %s", gone)
		}
		var n int64
		require.NoError(t, db.Model(&store.Checkin{}).Where("session_id = ? AND employee_id = ?", sess.ID, emp.ID).Count(&n).Error)
		require.EqualValues(t, 1, n)

		var answers []store.SurveyAnswer
		require.NoError(t, db.Order("id").Find(&answers).Error)
		require.Len(t, answers, 2)
		require.EqualValues(t, 7, answers[0].SurveyID, "backfilled from the response")
		require.EqualValues(t, 0, answers[1].SurveyID, "no response: the column default")
		require.InDelta(t, 4.0, *answers[0].Number, 0)
		var part store.SurveyParticipation
		require.NoError(t, db.Where("survey_id = ? AND employee_id = ?", 7, emp.ID).First(&part).Error, "migration 6 records the named participation")

		// The upgraded schema is the fresh one.
		fresh := storetest.Open(t, driver)
		requireSameSchema(t, describe(t, fresh.DB), describe(t, db.DB))
	})
}

// TestMigrateResumesAfterAPartialMySQLRun: MySQL commits DDL statement by
// statement, so a run that stopped after version 4's ALTER TABLE resumes.
func TestMigrateResumesAfterAPartialMySQLRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := emptyDB(t, store.DriverMySQL)
	_, err := store.MigrateTo(ctx, db.DB, 3)
	require.NoError(t, err)
	stmts, err := store.MigrationSQL(db.DB, "0004_answer_survey_id.sql")
	require.NoError(t, err)
	require.Len(t, stmts, 2)
	require.NoError(t, db.Exec(stmts[0]).Error)
	applied, err := store.Migrate(ctx, db.DB)
	require.NoError(t, err)
	require.Equal(t, versionsAbove(3), applied)
	require.True(t, db.Migrator().HasIndex(&store.SurveyAnswer{}, "ix_answer_agg"))
}

// versionsAbove lists the versions of store.Migrations above v, in order.
func versionsAbove(v int) []int {
	var out []int
	for _, m := range store.Migrations {
		if m.Version > v {
			out = append(out, m.Version)
		}
	}
	return out
}

func TestMigrateToRefusesAnUnknownVersion(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	for _, v := range []int{-1, store.LatestVersion() + 1} {
		_, err := store.MigrateTo(context.Background(), db.DB, v)
		require.Error(t, err, v)
	}
}
