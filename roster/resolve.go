package roster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
)

// CodeUnresolved: a row's person (or department) could not be found in the
// company directory or through the platforms' lookup APIs.
const CodeUnresolved = "unresolved"

// Lookup finds a platform user id by mobile or e-mail through the
// platform's own API (WeCom user/getuserid, Feishu users/batch_get_id,
// DingTalk user/getbymobile); see directory.RosterLookups. A person the
// platform does not know is ("", nil).
type Lookup interface {
	// Platform is wecom, feishu or dingtalk.
	Platform() string
	ByMobile(ctx context.Context, mobile string) (string, error)
	ByEmail(ctx context.Context, email string) (string, error)
}

// NormalizeMobile reduces a phone number to the form matching compares
// (here and in the directory sync): digits only, a leading +86 or 86
// (mainland China) dropped, other country codes kept with their "+".
func NormalizeMobile(s string) string {
	s = strings.TrimSpace(s)
	plus := strings.HasPrefix(s, "+")
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	switch {
	case d == "":
		return ""
	case plus && strings.HasPrefix(d, "86"):
		return d[2:]
	case plus:
		return "+" + d
	case len(d) == 13 && strings.HasPrefix(d, "86"):
		return d[2:]
	}
	return d
}

// NormalizeEmail lower-cases and trims an e-mail address.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func colBit(col string) uint16 {
	for i, c := range Columns {
		if c == col {
			return 1 << i
		}
	}
	return 0
}

// Resolve fills in the people of rows that name them by mobile or e-mail,
// or by a 工号 alone (no name: the employee, or the directory member with
// that 工号, must exist), and expands
// department_tree rows into every active employee of that directory
// department and its sub-departments. It looks in the stored employees
// (kept current by the directory sync) first, then asks lookups. A person
// found only through a platform's lookup API becomes a new employee with
// that platform's id (their name is then required). Rows that cannot be
// resolved come back as one *ValidationError (CodeUnresolved), naming the
// line and why; nothing is changed.
//
// Columns a resolved row did not give keep the stored values, and a
// mobile or e-mail given in another format than the stored one is not a
// change.
func Resolve(ctx context.Context, db *gorm.DB, rows []Row, lookups []Lookup) ([]Row, error) {
	db = db.WithContext(ctx)
	var errs []RowError
	bad := func(r Row, col, key string, args ...any) {
		errs = append(errs, rowError(r.Line, col, CodeUnresolved, key, args...))
	}
	out := make([]Row, 0, len(rows))
	byExt := map[string]int{} // external id → line, for people named twice
	add := func(r Row) {
		if first, dup := byExt[r.ExternalID]; dup && r.ExternalID != "" {
			if first != r.Line {
				bad(r, "external_id", "roster:same_person", quote(r.ExternalID), first)
			}
			return
		}
		byExt[r.ExternalID] = r.Line
		out = append(out, r)
	}
	// find is the one employee q finds (nil when none); several are the
	// row's ambiguous value of col (key), reported, and ok is false.
	find := func(r Row, q *gorm.DB, col, key, value string) (emp *store.Employee, ok bool, err error) {
		var es []store.Employee
		if err := q.Limit(3).Find(&es).Error; err != nil {
			return nil, false, fmt.Errorf("look up employee: %w", err)
		}
		switch len(es) {
		case 0:
			return nil, true, nil
		case 1:
			return &es[0], true, nil
		}
		bad(r, col, key, quote(value))
		return nil, false, nil
	}
	for _, r := range rows {
		if r.ExternalID != "" && r.Name != "" {
			add(r) // a complete row: nothing to look up
			continue
		}
		if r.ExternalID == "" && r.DepartmentTree != "" {
			expanded, err := expandDepartment(ctx, db, r)
			if err != nil {
				return nil, err
			}
			if len(expanded) == 0 {
				bad(r, "department_tree", "roster:empty_department", quote(r.DepartmentTree))
			}
			for _, x := range expanded {
				add(x)
			}
			continue
		}
		var (
			emp *store.Employee
			ok  bool
			err error
		)
		col, how := "", ""
		switch {
		case r.ExternalID != "": // unique among the employees
			col = "external_id"
			emp, ok, err = find(r, db.Where("external_id = ?", r.ExternalID), col, "roster:ambiguous_id", r.ExternalID)
			if err == nil && emp == nil {
				// A 工号 the directory knows under another external id.
				emp, ok, err = find(r, db.Where("id IN (?)", db.Model(&store.DirectoryPerson{}).Select("employee_id").Where("employee_no = ? AND employee_id <> 0", r.ExternalID)),
					col, "roster:ambiguous_id", r.ExternalID)
			}
		case r.Mobile != "":
			m := NormalizeMobile(r.Mobile)
			col, how = "mobile", "mobile"
			emp, ok, err = find(r, db.Where("mobile IN ?", []string{m, r.Mobile, "+86" + m}), col, "roster:ambiguous_mobile", r.Mobile)
		default:
			col, how = "email", "email"
			emp, ok, err = find(r, db.Where("LOWER(email) = ?", NormalizeEmail(r.Email)), col, "roster:ambiguous_email", r.Email)
		}
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if emp == nil && how != "" {
			emp, err = lookupOnPlatforms(ctx, db, &r, how, lookups)
			if err != nil {
				errs = append(errs, RowError{Line: r.Line, Column: col, Code: CodeUnresolved, Message: err.Error()}) // the lookup's words, as they are
				continue
			}
		}
		switch {
		case emp != nil && emp.ID != 0:
			r.ExternalID = emp.ExternalID
			if r.Name == "" {
				r.Name, r.has = emp.Name, r.has&^colBit("name")
			}
			if r.Mobile != "" && NormalizeMobile(r.Mobile) == NormalizeMobile(emp.Mobile) {
				r.Mobile = emp.Mobile
			}
			if r.Email != "" && NormalizeEmail(r.Email) == NormalizeEmail(emp.Email) {
				r.Email = emp.Email
			}
		case emp != nil: // new, found through a platform's API
			r.ExternalID = emp.ExternalID
			r.WecomID, r.FeishuID, r.DingtalkID = emp.WecomID, emp.FeishuID, emp.DingtalkID
			if r.has != 0 {
				r.has |= colBit("wecom_id") | colBit("feishu_id") | colBit("dingtalk_id")
			}
			if r.Name == "" {
				bad(r, "name", "roster:name_unknown")
				continue
			}
		case r.Name == "":
			if how == "" {
				// A new employee, as before the directory: the same
				// format error.
				errs = append(errs, rowError(r.Line, "name", "", "roster:required"))
			} else {
				bad(r, col, "roster:not_found", quote(r.Mobile+r.Email))
			}
			continue
		case how != "":
			bad(r, col, "roster:not_found", quote(r.Mobile+r.Email))
			continue
		}
		if r.has != 0 {
			r.has |= colBit("external_id")
		}
		add(r)
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, &ValidationError{Rows: errs}
	}
	return out, nil
}

// lookupOnPlatforms asks each platform's lookup API; the first that knows
// the person wins. An employee already holding that platform id is
// returned; otherwise a new, unsaved one (ID 0) carrying it.
func lookupOnPlatforms(ctx context.Context, db *gorm.DB, r *Row, how string, lookups []Lookup) (*store.Employee, error) {
	var failures []string
	for _, l := range lookups {
		var id string
		var err error
		if how == "mobile" {
			id, err = l.ByMobile(ctx, r.Mobile)
		} else {
			id, err = l.ByEmail(ctx, r.Email)
		}
		if err != nil {
			failures = append(failures, l.Platform()+": "+Clip(err.Error(), 120))
			continue
		}
		if id == "" {
			continue
		}
		col := l.Platform() + "_id"
		switch col {
		case "wecom_id", "feishu_id", "dingtalk_id":
		default:
			continue
		}
		var es []store.Employee
		if err := db.Where(col+" = ?", id).Limit(1).Find(&es).Error; err != nil {
			return nil, fmt.Errorf("look up employee: %w", err)
		}
		if len(es) == 1 {
			return &es[0], nil
		}
		e := &store.Employee{ExternalID: Clip(l.Platform()+"-"+id, 60)}
		switch l.Platform() {
		case "wecom":
			e.WecomID = id
		case "feishu":
			e.FeishuID = id
		case "dingtalk":
			e.DingtalkID = id
		}
		if len(e.ExternalID) > 64 || !idRe.MatchString(e.ExternalID) {
			return nil, fmt.Errorf("%s user id %s cannot be an employee id: add the row with its 工号", l.Platform(), quote(id))
		}
		return e, nil
	}
	if len(failures) > 0 {
		return nil, errors.New("could not be looked up: " + strings.Join(failures, "; "))
	}
	return nil, nil
}

// expandDepartment turns a department_tree row into one row per active
// employee of the department and its sub-departments.
func expandDepartment(ctx context.Context, db *gorm.DB, r Row) ([]Row, error) {
	names, err := store.DepartmentSubtree(ctx, db, r.DepartmentTree)
	if err != nil {
		return nil, err
	}
	var es []store.Employee
	if err := db.Select("external_id", "name").Where("department IN ? AND active = ?", names, true).Order("external_id").Find(&es).Error; err != nil {
		return nil, fmt.Errorf("read department %s: %w", r.DepartmentTree, err)
	}
	out := make([]Row, 0, len(es))
	for _, e := range es {
		out = append(out, Row{Line: r.Line, ExternalID: e.ExternalID, Name: e.Name, has: colBit("external_id") | colBit("name")})
	}
	return out, nil
}
