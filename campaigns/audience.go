package campaigns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/fielderr"
	"github.com/learnloop/learnloop/store"
)

// Audience chooses a campaign's recipients among active employees: those
// matching any Include rule (everyone when Include is empty) and no Exclude
// rule. It is resolved when each occurrence is sent.
type Audience struct {
	Include []Rule `json:"include"`
	Exclude []Rule `json:"exclude"`
}

// Rule matches employees on every attribute it sets (AND); an empty rule is
// refused.
type Rule struct {
	// Department matches the department and every department below it in
	// the synced directory (store.DepartmentSubtree).
	Department string `json:"department,omitempty"`
	Title      string `json:"title,omitempty"`
	City       string `json:"city,omitempty"`
	// Tag matches one of the employee's tags exactly.
	Tag string `json:"tag,omitempty"`
	// Converted and NotConverted match people who have (have not) a
	// conversion of that event.
	Converted    string `json:"converted,omitempty"`
	NotConverted string `json:"not_converted,omitempty"`
}

// MaxRules bounds an audience's include plus exclude rules.
const MaxRules = 20

func (r Rule) empty() bool {
	return r.Department == "" && r.Title == "" && r.City == "" && r.Tag == "" && r.Converted == "" && r.NotConverted == ""
}

// Validate reports every bad rule.
func (a Audience) Validate() []FieldError {
	var errs []FieldError
	if len(a.Include)+len(a.Exclude) > MaxRules {
		errs = append(errs, FieldError{Field: "audience", Code: CodeTooMany, Message: fmt.Sprintf("at most %d rules", MaxRules)})
	}
	check := func(field string, rules []Rule) {
		for i, r := range rules {
			f := fmt.Sprintf("audience.%s[%d]", field, i)
			if r.empty() {
				errs = append(errs, FieldError{Field: f, Code: CodeEmptyRule, Message: "a rule needs at least one of department, title, city, tag, converted, not_converted"})
			}
			for _, v := range []struct {
				name, val string
				max       int
			}{{"department", r.Department, 128}, {"title", r.Title, 128}, {"city", r.City, 64}, {"tag", r.Tag, store.MaxTagRunes},
				{"converted", r.Converted, 64}, {"not_converted", r.NotConverted, 64}} {
				if utf8.RuneCountInString(v.val) > v.max {
					errs = append(errs, FieldError{Field: f + "." + v.name, Code: CodeTooLong, Message: fmt.Sprintf("is longer than %d characters", v.max)})
				}
			}
			if r.Tag != "" {
				if n, err := store.NormalizeTags(r.Tag); err != nil || n != r.Tag || strings.ContainsAny(r.Tag, ",，;；|") {
					errs = append(errs, FieldError{Field: f + ".tag", Code: CodeBadTag, Message: "must be one tag without , ; | % _ or \\"})
				}
			}
			for _, ev := range []struct{ name, val string }{{"converted", r.Converted}, {"not_converted", r.NotConverted}} {
				if ev.val != "" && !validEvent(ev.val) {
					errs = append(errs, FieldError{Field: f + "." + ev.name, Code: CodeBadEvent, Message: "an event name uses letters, digits and _.:- (at most 64)"})
				}
			}
		}
	}
	check("include", a.Include)
	check("exclude", a.Exclude)
	return errs
}

// FieldError is one bad field of a campaign or conversion: the field, a
// stable code (callers localize it) and the English message.
type FieldError = fielderr.Error

// Field error codes.
const (
	CodeRequired      = "required"
	CodeTooLong       = "too_long"
	CodeTooMany       = "too_many"
	CodeBadURL        = "bad_url"
	CodeBadChoice     = "bad_choice"
	CodeOutOfRange    = "out_of_range"
	CodePast          = "past"
	CodeFuture        = "future"
	CodeTooFar        = "too_far"
	CodeBadZone       = "bad_zone"
	CodeBadValue      = "bad_value" // a cron spec or tag refused; Message says why
	CodeDuplicate     = "duplicate"
	CodeConflict      = "conflict" // two settings that exclude each other
	CodeEmptyRule     = "empty_rule"
	CodeBadTag        = "bad_tag"
	CodeBadEvent      = "bad_event"
	CodeWindowOrder   = "window_order"
	CodeWindowTooLong = "window_too_long"
	CodeOutsideWindow = "outside_window"
	CodeNeedsOneOff   = "needs_one_off"
	CodeBadPerson     = "bad_person"
	CodeUnknown       = "unknown"
)

// InvalidError carries every bad field of an input; nothing was changed.
type InvalidError = fielderr.Invalid

// Errors of the campaign service.
var (
	ErrInvalid  = fielderr.ErrInvalid
	ErrNotFound = store.ErrNotFound
	ErrConflict = errors.New("conflict")
)

func validEvent(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == ':', r == '-':
		default:
			return false
		}
	}
	return true
}

// ruleQuery returns the employee ids matching r, as a sub-query.
func ruleQuery(ctx context.Context, db *gorm.DB, r Rule) (*gorm.DB, error) {
	q := db.WithContext(ctx).Model(&store.Employee{}).Select("employees.id")
	if r.Department != "" {
		names, err := store.DepartmentSubtree(ctx, db, r.Department)
		if err != nil {
			return nil, err
		}
		q = q.Where("employees.department IN ?", names)
	}
	if r.Title != "" {
		q = q.Where("employees.title = ?", r.Title)
	}
	if r.City != "" {
		q = q.Where("employees.city = ?", r.City)
	}
	if r.Tag != "" {
		q = store.HasTag(q, r.Tag)
	}
	if r.Converted != "" {
		q = q.Where("employees.id IN (?)", db.Model(&store.Conversion{}).Select("employee_id").Where("event = ?", r.Converted))
	}
	if r.NotConverted != "" {
		q = q.Where("employees.id NOT IN (?)", db.Model(&store.Conversion{}).Select("employee_id").Where("event = ?", r.NotConverted))
	}
	return q, nil
}

// query returns the active employees the audience chooses.
func (a Audience) query(ctx context.Context, db *gorm.DB) (*gorm.DB, error) {
	q := db.WithContext(ctx).Model(&store.Employee{}).Where("employees.active = ?", true)
	if len(a.Include) > 0 {
		var ors *gorm.DB
		for _, r := range a.Include {
			sub, err := ruleQuery(ctx, db, r)
			if err != nil {
				return nil, err
			}
			if ors == nil {
				ors = db.Where("employees.id IN (?)", sub)
			} else {
				ors = ors.Or("employees.id IN (?)", sub)
			}
		}
		q = q.Where(ors)
	}
	for _, r := range a.Exclude {
		sub, err := ruleQuery(ctx, db, r)
		if err != nil {
			return nil, err
		}
		q = q.Where("employees.id NOT IN (?)", sub)
	}
	return q, nil
}

// Count returns how many active employees the audience chooses right now.
func Count(ctx context.Context, db *gorm.DB, a Audience) (int64, error) {
	if errs := a.Validate(); len(errs) > 0 {
		return 0, &InvalidError{Fields: errs}
	}
	q, err := a.query(ctx, db)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count audience: %w", err)
	}
	return n, nil
}

// Resolve returns the audience's employees (only the columns a delivery
// needs), in id order.
func Resolve(ctx context.Context, db *gorm.DB, a Audience) ([]store.Employee, error) {
	var out []store.Employee
	err := ResolvePages(ctx, db, a, 5000, func(page []store.Employee) error {
		out = append(out, page...)
		return nil
	})
	return out, err
}

// ResolvePages resolves the audience n employees at a time (keyset on the
// employee id, so each person is in one page), calling f with each page in
// id order; it returns f's first error. The page's slice is reused for the
// next one (one array of n for the whole audience), so f must not keep it.
func ResolvePages(ctx context.Context, db *gorm.DB, a Audience, n int, f func([]store.Employee) error) error {
	return store.EmployeePages(n, func() (*gorm.DB, error) { return a.query(ctx, db) }, f)
}
