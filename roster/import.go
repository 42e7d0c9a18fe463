package roster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// Actor is who imports a roster. It decides which employees the import may
// change:
//
//   - an admin (a console admin, the API's admin token, the CLI) may create
//     and change any employee;
//   - a coordinator (Owner is their console username) imports only into
//     sessions of courses whose owner is Owner. New employees are created as
//     given. An existing employee is changed only when the coordinator
//     manages them alone: they are on at least one of the coordinator's
//     sessions and on no other session, they manage nobody on another
//     session, and no other course names them its owner. Otherwise the row
//     is refused (CodeNotYours) and nothing is imported. A row that changes
//     nothing is always accepted: the employee is only enrolled. A
//     coordinator also cannot give anyone a platform id (wecom_id,
//     feishu_id, dingtalk_id) another employee already has
//     (CodePlatformIDTaken).
type Actor struct {
	// Admin may change every employee.
	Admin bool
	// Owner is the coordinator's username: they manage the sessions of the
	// courses whose owner it is.
	Owner string
}

// AsAdmin is the actor of the API's admin token, the CLI and console admins.
func AsAdmin() Actor { return Actor{Admin: true} }

// AsCoordinator is the actor of a coordinator's console import.
func AsCoordinator(username string) Actor { return Actor{Owner: username} }

// ErrNoSession is returned by Import for an unknown session.
var ErrNoSession = errors.New("no such session")

// ErrNotManaged is returned by Import when the actor may not import into
// the session at all (not their course, or no session for a non-admin).
var ErrNotManaged = errors.New("the session is not one the importer manages")

// Result counts what an import changed.
type Result struct {
	Employees int `json:"employees"` // rows imported
	Created   int `json:"created"`   // new employees
	Updated   int `json:"updated"`   // existing employees changed
	Enrolled  int `json:"enrolled"`  // newly on the session's roster
}

var platformIDCols = map[string]bool{"wecom_id": true, "feishu_id": true, "dingtalk_id": true}

// changes lists the columns (with new values) where row r differs from the
// stored employee; a column the row's file did not have is left alone.
func changes(r Row, stored *store.Employee) map[string]any {
	want := r.Employee()
	return store.EmployeeChanges(stored, &want, func(col string) bool { return col == "active" || r.Has(col) })
}

// Import creates and updates the employees of rows and, when sessionID is
// non-zero, enrolls them, in one transaction: every row or none. What actor
// may change is described at Actor; refused rows come back as a
// *ValidationError.
func Import(ctx context.Context, db *gorm.DB, actor Actor, sessionID uint64, rows []Row) (Result, error) {
	return ImportThen(ctx, db, actor, sessionID, rows, nil)
}

// ImportThen is Import that also runs then (when not nil) in the import's
// transaction once the rows are stored: what must commit with them (the
// session's calendar sync job).
func ImportThen(ctx context.Context, db *gorm.DB, actor Actor, sessionID uint64, rows []Row, then func(tx *gorm.DB) error) (Result, error) {
	if !actor.Admin && (actor.Owner == "" || sessionID == 0) {
		return Result{}, ErrNotManaged
	}
	// Rows naming people by mobile, e-mail or department (resolve.go);
	// callers with platform lookups call Resolve with them first.
	rows, err := Resolve(ctx, db, rows, nil)
	if err != nil {
		return Result{}, err
	}
	var res Result
	err = store.Tx(ctx, db, func(tx *gorm.DB) error {
		var err error
		res, err = importTx(tx, actor, sessionID, rows)
		if err != nil || then == nil {
			return err
		}
		return then(tx)
	})
	return res, err
}

func importTx(tx *gorm.DB, actor Actor, sessionID uint64, rows []Row) (Result, error) {
	res := Result{Employees: len(rows)}
	mysql := store.IsMySQL(tx)
	if sessionID != 0 {
		var sess store.Session
		err := tx.Take(&sess, sessionID).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return res, fmt.Errorf("session %d: %w", sessionID, ErrNoSession)
		}
		if err != nil {
			return res, fmt.Errorf("read session: %w", err)
		}
		if !actor.Admin {
			var course store.Course
			if err := tx.Take(&course, sess.CourseID).Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
				return res, fmt.Errorf("read course: %w", err)
			}
			if course.Owner == "" || course.Owner != actor.Owner {
				return res, fmt.Errorf("session %d: %w", sessionID, ErrNotManaged)
			}
		}
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ExternalID
	}
	// The stored employees, locked so that a concurrent import sees them
	// only once this one has committed.
	load := func(ext []string) (map[string]*store.Employee, error) {
		out := make(map[string]*store.Employee, len(ext))
		for i := 0; i < len(ext); i += 1000 {
			q := tx.Where("external_id IN ?", ext[i:min(i+1000, len(ext))]).Order("external_id")
			if mysql {
				q = q.Clauses(clause.Locking{Strength: "UPDATE"})
			}
			var got []store.Employee
			if err := q.Find(&got).Error; err != nil {
				return nil, fmt.Errorf("read employees: %w", err)
			}
			for k := range got {
				out[got[k].ExternalID] = &got[k]
			}
		}
		return out, nil
	}
	existing, err := load(ids)
	if err != nil {
		return res, err
	}
	var fresh []store.Employee
	var freshIDs []string
	for _, r := range rows {
		if existing[r.ExternalID] == nil {
			fresh = append(fresh, r.Employee())
			freshIDs = append(freshIDs, r.ExternalID)
		}
	}
	for i := 0; i < len(fresh); i += 500 {
		part := fresh[i:min(i+500, len(fresh))]
		// Another import may create the same employee meanwhile: theirs
		// stays and is compared below like any stored employee.
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "external_id"}}, DoNothing: true}).Create(&part).Error; err != nil {
			return res, fmt.Errorf("create employees: %w", err)
		}
	}
	created, err := load(freshIDs)
	if err != nil {
		return res, err
	}
	type change struct {
		row  Row
		emp  *store.Employee
		cols map[string]any
	}
	var changed []change
	for _, r := range rows {
		emp := existing[r.ExternalID]
		if emp == nil {
			emp = created[r.ExternalID]
			res.Created++
		}
		if emp == nil {
			return res, fmt.Errorf("employee %s vanished during the import", r.ExternalID)
		}
		if cols := changes(r, emp); len(cols) > 0 {
			changed = append(changed, change{r, emp, cols})
		}
	}
	if !actor.Admin {
		var refused []RowError
		if len(changed) > 0 {
			emps := make([]*store.Employee, len(changed))
			for i, c := range changed {
				emps[i] = c.emp
			}
			why, err := notYours(tx, actor, emps)
			if err != nil {
				return res, err
			}
			for _, c := range changed {
				if reason, ok := why[c.emp.ID]; ok {
					refused = append(refused, rowError(c.row.Line, "external_id", CodeNotYours, "roster:not_yours",
						quote(c.row.ExternalID), reason, strings.Join(slices.Sorted(maps.Keys(c.cols)), ", ")))
				}
			}
		}
		cols := make(map[string]map[string]any, len(changed))
		for _, c := range changed {
			cols[c.row.ExternalID] = c.cols
		}
		taken, err := takenPlatformIDs(tx, rows, existing, cols)
		if err != nil {
			return res, err
		}
		refused = append(refused, taken...)
		if len(refused) > 0 {
			sort.SliceStable(refused, func(i, j int) bool {
				if refused[i].Line != refused[j].Line {
					return refused[i].Line < refused[j].Line
				}
				return refused[i].Column < refused[j].Column
			})
			return res, &ValidationError{Rows: refused}
		}
	}
	for _, c := range changed {
		if err := tx.Model(&store.Employee{ID: c.emp.ID}).Updates(c.cols).Error; err != nil {
			return res, fmt.Errorf("update employee %s: %w", c.row.ExternalID, err)
		}
	}
	res.Updated = len(changed)
	if sessionID == 0 {
		return res, nil
	}
	// RowsAffected of an insert that ignores conflicts differs between
	// MySQL and SQLite: count.
	var before, after int64
	if err := tx.Model(&store.Enrollment{}).Where("session_id = ?", sessionID).Count(&before).Error; err != nil {
		return res, fmt.Errorf("count enrollments: %w", err)
	}
	enr := make([]store.Enrollment, 0, len(rows))
	for _, r := range rows {
		emp := existing[r.ExternalID]
		if emp == nil {
			emp = created[r.ExternalID]
		}
		enr = append(enr, store.Enrollment{SessionID: sessionID, EmployeeID: emp.ID, Status: store.EnrollInvited})
	}
	for i := 0; i < len(enr); i += 500 {
		part := enr[i:min(i+500, len(enr))]
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&part).Error; err != nil {
			return res, fmt.Errorf("enroll: %w", err)
		}
	}
	if err := tx.Model(&store.Enrollment{}).Where("session_id = ?", sessionID).Count(&after).Error; err != nil {
		return res, fmt.Errorf("count enrollments: %w", err)
	}
	res.Enrolled = int(after - before)
	return res, nil
}

// notYours says, for each employee the coordinator may not change, why.
func notYours(tx *gorm.DB, actor Actor, emps []*store.Employee) (map[uint64]text.Message, error) {
	why := map[uint64]text.Message{}
	for i := 0; i < len(emps); i += 1000 {
		part := emps[i:min(i+1000, len(emps))]
		ids := make([]uint64, len(part))
		ext := make([]string, len(part))
		byExt := make(map[string]uint64, len(part))
		for k, e := range part {
			ids[k], ext[k], byExt[e.ExternalID] = e.ID, e.ExternalID, e.ID
		}
		// Sessions they are on, by whose course.
		var on []struct {
			EmployeeID uint64
			Mine       bool
		}
		err := tx.Table("enrollments").
			Select("enrollments.employee_id, COALESCE(courses.owner, '') = ? AS mine", actor.Owner).
			Joins("JOIN sessions ON sessions.id = enrollments.session_id").
			Joins("LEFT JOIN courses ON courses.id = sessions.course_id").
			Where("enrollments.employee_id IN ?", ids).Scan(&on).Error
		if err != nil {
			return nil, fmt.Errorf("read enrollments: %w", err)
		}
		mine, other := map[uint64]bool{}, map[uint64]bool{}
		for _, o := range on {
			if o.Mine {
				mine[o.EmployeeID] = true
			} else {
				other[o.EmployeeID] = true
			}
		}
		// Managers of people on other sessions get those sessions'
		// follow-ups.
		var managers []string
		err = tx.Table("employees").Distinct("employees.manager_id").
			Joins("JOIN enrollments ON enrollments.employee_id = employees.id").
			Joins("JOIN sessions ON sessions.id = enrollments.session_id").
			Joins("LEFT JOIN courses ON courses.id = sessions.course_id").
			Where("employees.manager_id IN ? AND COALESCE(courses.owner, '') <> ?", ext, actor.Owner).
			Pluck("employees.manager_id", &managers).Error
		if err != nil {
			return nil, fmt.Errorf("read managers: %w", err)
		}
		manages := map[uint64]bool{}
		for _, m := range managers {
			manages[byExt[m]] = true
		}
		// Course owners get their courses' escalations.
		var owners []string
		if err := tx.Model(&store.Course{}).Where("owner IN ? AND owner <> ?", ext, actor.Owner).Pluck("owner", &owners).Error; err != nil {
			return nil, fmt.Errorf("read course owners: %w", err)
		}
		owns := map[uint64]bool{}
		for _, o := range owners {
			owns[byExt[o]] = true
		}
		for _, e := range part {
			switch {
			case other[e.ID]:
				why[e.ID] = text.M("roster:reason.other_sessions")
			case manages[e.ID]:
				why[e.ID] = text.M("roster:reason.manages")
			case owns[e.ID]:
				why[e.ID] = text.M("roster:reason.owns_course")
			case !mine[e.ID]:
				why[e.ID] = text.M("roster:reason.none")
			}
		}
	}
	return why, nil
}

// takenPlatformIDs refuses rows that would give an employee a platform id
// another employee has: new employees and changed platform id columns.
func takenPlatformIDs(tx *gorm.DB, rows []Row, existing map[string]*store.Employee, changed map[string]map[string]any) ([]RowError, error) {
	type claim struct {
		row Row
		col string
		val string
	}
	var claims []claim
	values := map[string][]string{}
	for _, r := range rows {
		e := r.Employee()
		for col, v := range map[string]string{"wecom_id": e.WecomID, "feishu_id": e.FeishuID, "dingtalk_id": e.DingtalkID} {
			if v == "" || !r.Has(col) {
				continue
			}
			if existing[r.ExternalID] != nil {
				if _, ok := changed[r.ExternalID][col]; !ok {
					continue
				}
			}
			claims = append(claims, claim{r, col, v})
			values[col] = append(values[col], v)
		}
	}
	holders := map[string]map[string][]string{} // col → value → external ids
	for col, vs := range values {
		holders[col] = map[string][]string{}
		for i := 0; i < len(vs); i += 1000 {
			var got []struct {
				ExternalID string
				Value      string
			}
			err := tx.Table("employees").Select("external_id, "+col+" AS value").
				Where(col+" IN ?", vs[i:min(i+1000, len(vs))]).Scan(&got).Error
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", col, err)
			}
			for _, g := range got {
				holders[col][g.Value] = append(holders[col][g.Value], g.ExternalID)
			}
		}
	}
	var out []RowError
	for _, c := range claims {
		for _, ext := range holders[c.col][c.val] {
			if ext != c.row.ExternalID {
				out = append(out, rowError(c.row.Line, c.col, CodePlatformIDTaken, "roster:id_taken", quote(c.val)))
				break
			}
		}
	}
	return out, nil
}
