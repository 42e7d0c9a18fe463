// Package roster reads class rosters (CSV or XLSX), validates every row and
// imports them all or nothing.
package roster

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/store"
)

// Columns are the roster columns in their canonical order. external_id and
// name are required; the others are optional.
var Columns = []string{"external_id", "name", "department", "title", "city", "manager_id", "email", "mobile", "platform", "wecom_id", "feishu_id", "dingtalk_id", "locale"}

// aliases maps accepted header spellings (incl. Chinese) to columns.
var aliases = map[string]string{
	"工号": "external_id", "员工编号": "external_id", "id": "external_id", "employee_id": "external_id",
	"姓名": "name", "部门": "department", "职位": "title", "岗位": "title", "城市": "city",
	"经理工号": "manager_id", "上级工号": "manager_id", "邮箱": "email", "手机": "mobile", "手机号": "mobile",
	"平台": "platform", "企业微信id": "wecom_id", "飞书id": "feishu_id", "钉钉id": "dingtalk_id", "语言": "locale",
}

// Row is one valid roster line.
type Row struct {
	Line       int
	ExternalID string
	Name       string
	Department string
	Title      string
	City       string
	ManagerID  string
	Email      string
	Mobile     string
	Platform   string
	WecomID    string
	FeishuID   string
	DingtalkID string
	Locale     string
}

// RowError is one problem on one line.
type RowError struct {
	Line    int    `json:"line"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

// Error implements error.
func (e RowError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Column, e.Message)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Message)
}

// ValidationError lists every bad row of a roster; nothing was imported.
type ValidationError struct{ Rows []RowError }

// Error implements error.
func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Rows))
	for i, r := range e.Rows {
		if i == 20 {
			parts = append(parts, fmt.Sprintf("… and %d more", len(e.Rows)-20))
			break
		}
		parts = append(parts, r.Error())
	}
	return fmt.Sprintf("roster has %d bad row(s): %s", len(e.Rows), strings.Join(parts, "; "))
}

var (
	idRe     = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)
	mobileRe = regexp.MustCompile(`^\+?[0-9 -]{5,20}$`)
)

// MaxRows caps one import.
const MaxRows = 100000

// ParseCSV reads a CSV roster (UTF-8, optional BOM, header row required).
func ParseCSV(r io.Reader) ([]Row, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read roster: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, &ValidationError{Rows: []RowError{{Line: 1, Message: "file is not UTF-8 text (save the CSV as UTF-8)"}}}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	var records [][]string
	var lines []int
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			line := len(records) + 1
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, &ValidationError{Rows: []RowError{{Line: line, Message: "malformed CSV: " + err.Error()}}}
		}
		line, _ := cr.FieldPos(0)
		records = append(records, rec)
		lines = append(lines, line)
	}
	return parseRecords(records, lines)
}

// ParseXLSX reads the first sheet of an XLSX roster.
func ParseXLSX(r io.Reader) ([]Row, error) {
	f, err := excelize.OpenReader(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, &ValidationError{Rows: []RowError{{Line: 1, Message: "not a readable XLSX file: " + err.Error()}}}
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, &ValidationError{Rows: []RowError{{Line: 1, Message: "workbook has no sheet"}}}
	}
	recs, err := f.GetRows(sheets[0])
	if err != nil {
		return nil, fmt.Errorf("read sheet: %w", err)
	}
	lines := make([]int, len(recs))
	for i := range recs {
		lines[i] = i + 1
	}
	return parseRecords(recs, lines)
}

func parseRecords(records [][]string, lines []int) ([]Row, error) {
	if len(records) == 0 {
		return nil, &ValidationError{Rows: []RowError{{Line: 1, Message: "file is empty: a header row is required"}}}
	}
	idx := map[string]int{}
	var errs []RowError
	for i, h := range records[0] {
		key := strings.ToLower(strings.TrimSpace(h))
		if a, ok := aliases[key]; ok {
			key = a
		}
		known := false
		for _, c := range Columns {
			known = known || c == key
		}
		if !known {
			if key != "" {
				errs = append(errs, RowError{Line: lines[0], Column: h, Message: fmt.Sprintf("unknown column (known: %s)", strings.Join(Columns, ", "))})
			}
			continue
		}
		if _, dup := idx[key]; dup {
			errs = append(errs, RowError{Line: lines[0], Column: key, Message: "column appears twice"})
		}
		idx[key] = i
	}
	for _, req := range []string{"external_id", "name"} {
		if _, ok := idx[req]; !ok {
			errs = append(errs, RowError{Line: lines[0], Column: req, Message: "required column is missing"})
		}
	}
	if len(errs) > 0 {
		return nil, &ValidationError{Rows: errs}
	}
	if len(records)-1 > MaxRows {
		return nil, &ValidationError{Rows: []RowError{{Line: lines[0], Message: fmt.Sprintf("too many rows (%d, at most %d)", len(records)-1, MaxRows)}}}
	}
	seen := map[string]int{}
	var rows []Row
	for n, rec := range records[1:] {
		line := lines[n+1]
		get := func(col string) string {
			i, ok := idx[col]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		blank := true
		for _, v := range rec {
			blank = blank && strings.TrimSpace(v) == ""
		}
		if blank {
			continue
		}
		r := Row{
			Line: line, ExternalID: get("external_id"), Name: get("name"), Department: get("department"),
			Title: get("title"), City: get("city"), ManagerID: get("manager_id"), Email: get("email"),
			Mobile: get("mobile"), Platform: strings.ToLower(get("platform")), WecomID: get("wecom_id"),
			FeishuID: get("feishu_id"), DingtalkID: get("dingtalk_id"), Locale: get("locale"),
		}
		errs = append(errs, validate(r)...)
		if r.ExternalID != "" {
			if first, dup := seen[r.ExternalID]; dup {
				errs = append(errs, RowError{Line: line, Column: "external_id", Message: fmt.Sprintf("%q already on line %d", r.ExternalID, first)})
			} else {
				seen[r.ExternalID] = line
			}
		}
		rows = append(rows, r)
	}
	if len(errs) > 0 {
		return nil, &ValidationError{Rows: errs}
	}
	if len(rows) == 0 {
		return nil, &ValidationError{Rows: []RowError{{Line: lines[0], Message: "no data rows below the header"}}}
	}
	return rows, nil
}

func validate(r Row) []RowError {
	var errs []RowError
	bad := func(col, msg string) { errs = append(errs, RowError{Line: r.Line, Column: col, Message: msg}) }
	switch {
	case r.ExternalID == "":
		bad("external_id", "is required")
	case !idRe.MatchString(r.ExternalID):
		bad("external_id", fmt.Sprintf("%q may only use letters, digits and _.@- (at most 64)", r.ExternalID))
	}
	switch {
	case r.Name == "":
		bad("name", "is required")
	case utf8.RuneCountInString(r.Name) > 64:
		bad("name", "is longer than 64 characters")
	}
	if r.ManagerID != "" && !idRe.MatchString(r.ManagerID) {
		bad("manager_id", fmt.Sprintf("%q is not a valid employee id", r.ManagerID))
	}
	if r.ManagerID != "" && r.ManagerID == r.ExternalID {
		bad("manager_id", "an employee cannot be their own manager")
	}
	if r.Email != "" {
		if a, err := mail.ParseAddress(r.Email); err != nil || a.Address != r.Email {
			bad("email", fmt.Sprintf("%q is not an e-mail address", r.Email))
		}
	}
	if r.Mobile != "" && !mobileRe.MatchString(r.Mobile) {
		bad("mobile", fmt.Sprintf("%q is not a phone number", r.Mobile))
	}
	switch r.Platform {
	case "", "simulator", "wecom", "feishu", "dingtalk":
	default:
		bad("platform", fmt.Sprintf("%q is not one of simulator, wecom, feishu, dingtalk", r.Platform))
	}
	switch r.Locale {
	case "", "zh-CN", "zh", "en":
	default:
		bad("locale", fmt.Sprintf("%q is not zh-CN or en", r.Locale))
	}
	for col, v := range map[string]string{"department": r.Department, "title": r.Title, "wecom_id": r.WecomID, "feishu_id": r.FeishuID, "dingtalk_id": r.DingtalkID} {
		if utf8.RuneCountInString(v) > 128 {
			bad(col, "is longer than 128 characters")
		}
	}
	return errs
}

// Employee converts a row to the stored employee.
func (r Row) Employee() store.Employee {
	loc := r.Locale
	if loc == "zh" {
		loc = "zh-CN"
	}
	return store.Employee{
		ExternalID: r.ExternalID, Name: r.Name, Department: r.Department, Title: r.Title, City: r.City,
		ManagerID: r.ManagerID, Email: r.Email, Mobile: r.Mobile, Platform: r.Platform, WecomID: r.WecomID,
		FeishuID: r.FeishuID, DingtalkID: r.DingtalkID, Locale: loc, Active: true,
	}
}

// Result counts what an import changed.
type Result struct {
	Employees int `json:"employees"` // created or updated
	Enrolled  int `json:"enrolled"`  // newly on the session's roster
}

// Import upserts the employees and, when sessionID is non-zero, enrolls them,
// in one transaction: every row or none.
func Import(ctx context.Context, db *gorm.DB, sessionID uint64, rows []Row) (Result, error) {
	var res Result
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if sessionID != 0 {
			var n int64
			if err := tx.Model(&store.Session{}).Where("id = ?", sessionID).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("session %d: %w", sessionID, ErrNoSession)
			}
		}
		emps := make([]store.Employee, len(rows))
		ids := make([]string, len(rows))
		for i, r := range rows {
			emps[i] = r.Employee()
			ids[i] = r.ExternalID
		}
		cols := []string{"name", "department", "title", "city", "manager_id", "email", "mobile", "platform", "wecom_id", "feishu_id", "dingtalk_id", "locale", "active", "updated_at"}
		for i := 0; i < len(emps); i += 500 {
			part := emps[i:min(i+500, len(emps))]
			if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "external_id"}}, DoUpdates: clause.AssignmentColumns(cols)}).Create(&part).Error; err != nil {
				return fmt.Errorf("upsert employees: %w", err)
			}
		}
		res.Employees = len(emps)
		if sessionID == 0 {
			return nil
		}
		// RowsAffected of an upsert differs between MySQL and SQLite: count.
		var before, after int64
		if err := tx.Model(&store.Enrollment{}).Where("session_id = ?", sessionID).Count(&before).Error; err != nil {
			return err
		}
		for i := 0; i < len(ids); i += 1000 {
			var got []store.Employee
			if err := tx.Select("id").Where("external_id IN ?", ids[i:min(i+1000, len(ids))]).Find(&got).Error; err != nil {
				return err
			}
			enr := make([]store.Enrollment, len(got))
			for k, e := range got {
				enr[k] = store.Enrollment{SessionID: sessionID, EmployeeID: e.ID, Status: store.EnrollInvited}
			}
			if len(enr) == 0 {
				continue
			}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&enr).Error; err != nil {
				return fmt.Errorf("enroll: %w", err)
			}
		}
		if err := tx.Model(&store.Enrollment{}).Where("session_id = ?", sessionID).Count(&after).Error; err != nil {
			return err
		}
		res.Enrolled = int(after - before)
		return nil
	})
	return res, err
}

// ErrNoSession is returned by Import for an unknown session.
var ErrNoSession = errors.New("no such session")

// FromMaps validates roster entries given as JSON objects keyed by column.
func FromMaps(ms []map[string]string) ([]Row, error) {
	records := [][]string{Columns}
	lines := []int{0}
	for i, m := range ms {
		rec := make([]string, len(Columns))
		for k := range m {
			known := false
			for _, c := range Columns {
				known = known || c == k
			}
			if !known {
				return nil, &ValidationError{Rows: []RowError{{Line: i + 1, Column: k, Message: "unknown field"}}}
			}
		}
		for j, c := range Columns {
			rec[j] = m[c]
		}
		records = append(records, rec)
		lines = append(lines, i+1)
	}
	return parseRecords(records, lines)
}
