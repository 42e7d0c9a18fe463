// Package roster reads class rosters (CSV or XLSX), validates every row and
// imports them all or nothing.
package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// Columns are the roster columns in their canonical order. A row names a
// person by external_id (工号), or by mobile or email looked up in the
// company directory, or names a whole department_tree (a directory
// department and everything below it); see Resolve. name is required for
// people the directory does not know.
var Columns = []string{"external_id", "name", "department", "title", "city", "manager_id", "email", "mobile", "platform", "wecom_id", "feishu_id", "dingtalk_id", "locale", "department_tree", "tags"}

// aliases maps accepted header spellings (incl. Chinese) to columns.
var aliases = map[string]string{
	"工号": "external_id", "员工编号": "external_id", "id": "external_id", "employee_id": "external_id",
	"姓名": "name", "部门": "department", "职位": "title", "岗位": "title", "城市": "city",
	"经理工号": "manager_id", "上级工号": "manager_id", "邮箱": "email", "手机": "mobile", "手机号": "mobile",
	"平台": "platform", "企业微信id": "wecom_id", "飞书id": "feishu_id", "钉钉id": "dingtalk_id", "语言": "locale",
	"部门及下级": "department_tree", "部门树": "department_tree", "标签": "tags",
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
	// DepartmentTree names a directory department: the row stands for
	// every active employee in it and its sub-departments (see Resolve).
	DepartmentTree string
	// Tags are the employee's tags (store.NormalizeTags), which campaign
	// audiences match; a file without the column keeps the stored ones.
	Tags string
	// has marks the columns the file had (bit i for Columns[i]); zero
	// means every column, as for rows built in code.
	has uint16
}

// Has reports whether the row's file had column col. An existing employee
// keeps the stored value of a column the file did not have.
func (r Row) Has(col string) bool {
	if r.has == 0 {
		return true
	}
	for i, c := range Columns {
		if c == col {
			return r.has&(1<<i) != 0
		}
	}
	return false
}

// RowError is one problem on one line.
type RowError struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	// Code classifies refusals that are not format errors (CodeNotYours,
	// CodePlatformIDTaken); empty for format errors.
	Code string `json:"code,omitempty"`
	// Message is Text in English (the API's language).
	Message string `json:"message"`
	// Text is why, for the presenter to localize.
	Text text.Message `json:"-"`
}

// rowError is a refusal whose text is the catalogue's key with args.
func rowError(line int, col, code, key string, args ...any) RowError {
	m := text.M(key, args...)
	return RowError{Line: line, Column: col, Code: code, Message: m.In(text.EN), Text: m}
}

// In returns why, in loc.
func (e RowError) In(loc text.Locale) string {
	if e.Text.IsZero() {
		return e.Message
	}
	return e.Text.In(loc)
}

// Row error codes.
const (
	// CodeNotYours: the row would change an employee the importer does
	// not manage alone (see Actor).
	CodeNotYours = "not_yours"
	// CodePlatformIDTaken: the row gives a platform id another employee
	// already has.
	CodePlatformIDTaken = "platform_id_taken"
	// CodeTooLarge: a file, line or cell is over a size limit.
	CodeTooLarge = "too_large"
)

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

// Limits of one roster file. A value longer than a column allows is a row
// error; the limits below stop a file from costing memory before that.
const (
	// MaxRows caps one import.
	MaxRows = 100000
	// MaxFileBytes caps an uploaded CSV or XLSX file.
	MaxFileBytes = 32 << 20
	// MaxCellBytes caps one CSV field or XLSX cell.
	MaxCellBytes = 4096
	// MaxLineBytes caps one physical CSV line.
	MaxLineBytes = 64 << 10
	// MaxUnzipBytes caps what an XLSX file may unpack to ...
	MaxUnzipBytes = 128 << 20
	// MaxUnzipRatio ... and at most this many times its own size: real
	// workbooks compress 5–20×, zip bombs thousands of times.
	MaxUnzipRatio = 100
	// minUnzipBytes lets small workbooks (mostly XML boilerplate) open.
	minUnzipBytes = 4 << 20
	// unzipXMLInMemory: larger sheets are unpacked to a temporary file.
	unzipXMLInMemory = 16 << 20
	// echoRunes caps how much of a bad value a row error repeats.
	echoRunes = 40
)

// Clip shortens s to at most n runes, cutting on a rune boundary and
// ending in "…", so an error never repeats a whole oversized value.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, k := 0, 0
	for i = range s {
		if k == n {
			break
		}
		k++
	}
	return s[:i] + "…"
}

func quote(s string) string { return fmt.Sprintf("%q", Clip(s, echoRunes)) }

func tooLarge(line int, key string, limit int64) *ValidationError {
	return &ValidationError{Rows: []RowError{rowError(line, "", CodeTooLarge, key, limit)}}
}

// readAll reads a whole upload, refusing one over MaxFileBytes.
func readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read roster: %w", err)
	}
	if len(data) > MaxFileBytes {
		return nil, tooLarge(1, "roster:file_too_large", MaxFileBytes>>20)
	}
	return data, nil
}

// lineLimiter fails a read once a physical line is longer than max bytes.
type lineLimiter struct {
	r    io.Reader
	max  int
	cur  int
	line int
}

var errLineTooLong = errors.New("line too long")

func (l *lineLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.cur = 0
			l.line++
			continue
		}
		l.cur++
		if l.cur > l.max {
			return 0, errLineTooLong
		}
	}
	return n, err
}

// ParseCSV reads a CSV roster (UTF-8, optional BOM, header row required)
// of at most MaxFileBytes, MaxLineBytes a line and MaxCellBytes a field.
func ParseCSV(r io.Reader) ([]Row, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, &ValidationError{Rows: []RowError{rowError(1, "", "", "roster:not_utf8")}}
	}
	ll := &lineLimiter{r: bytes.NewReader(data), max: MaxLineBytes, line: 1}
	cr := csv.NewReader(ll)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = false
	var records [][]string
	var lines []int
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errLineTooLong) {
			return nil, tooLarge(ll.line, "roster:line_too_long", MaxLineBytes>>10)
		}
		if err != nil {
			var pe *csv.ParseError
			line := len(records) + 1
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, &ValidationError{Rows: []RowError{rowError(line, "", "", "roster:malformed_csv", Clip(err.Error(), 200))}}
		}
		line, _ := cr.FieldPos(0)
		if err := checkCells(line, rec); err != nil {
			return nil, err
		}
		records = append(records, rec)
		lines = append(lines, line)
		if len(records) > MaxRows+1 {
			return nil, tooManyRows(lines[0])
		}
	}
	return parseRecords(records, lines)
}

func tooManyRows(line int) error {
	return &ValidationError{Rows: []RowError{rowError(line, "", CodeTooLarge, "roster:too_many_rows", MaxRows)}}
}

// checkCells refuses a record with a cell over MaxCellBytes.
func checkCells(line int, rec []string) error {
	for _, v := range rec {
		if len(v) > MaxCellBytes {
			return tooLarge(line, "roster:cell_too_long", MaxCellBytes)
		}
	}
	return nil
}

// ParseXLSX reads the first sheet of an XLSX roster of at most
// MaxFileBytes. The workbook may unpack to at most MaxUnzipRatio times its
// size (and MaxUnzipBytes); every cell is at most MaxCellBytes.
func ParseXLSX(r io.Reader) ([]Row, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	limit := min(MaxUnzipBytes, max(minUnzipBytes, int64(len(data))*MaxUnzipRatio))
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: limit, UnzipXMLSizeLimit: min(limit, unzipXMLInMemory)})
	// excelize has no typed error for it.
	if err != nil && strings.Contains(err.Error(), "unzip size exceeds") {
		return nil, tooLarge(1, "roster:workbook_too_large", limit>>20)
	}
	if err != nil {
		return nil, &ValidationError{Rows: []RowError{rowError(1, "", "", "roster:bad_xlsx", Clip(err.Error(), 200))}}
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, &ValidationError{Rows: []RowError{rowError(1, "", "", "roster:no_sheet")}}
	}
	it, err := f.Rows(sheets[0])
	if err != nil {
		return nil, &ValidationError{Rows: []RowError{rowError(1, "", "", "roster:bad_xlsx", Clip(err.Error(), 200))}}
	}
	defer it.Close()
	var recs [][]string
	var lines []int
	for n := 1; it.Next(); n++ {
		rec, err := it.Columns()
		if err != nil {
			return nil, &ValidationError{Rows: []RowError{rowError(n, "", "", "roster:bad_xlsx", Clip(err.Error(), 200))}}
		}
		if err := checkCells(n, rec); err != nil {
			return nil, err
		}
		recs = append(recs, rec)
		lines = append(lines, n)
		if len(recs) > MaxRows+1 {
			return nil, tooManyRows(1)
		}
	}
	if err := it.Error(); err != nil {
		return nil, &ValidationError{Rows: []RowError{rowError(len(recs)+1, "", "", "roster:bad_xlsx", Clip(err.Error(), 200))}}
	}
	return parseRecords(recs, lines)
}

func parseRecords(records [][]string, lines []int) ([]Row, error) {
	if len(records) == 0 {
		return nil, &ValidationError{Rows: []RowError{rowError(1, "", "", "roster:empty_file")}}
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
				errs = append(errs, rowError(lines[0], Clip(h, echoRunes), "", "roster:unknown_column", strings.Join(Columns, ", ")))
			}
			continue
		}
		if _, dup := idx[key]; dup {
			errs = append(errs, rowError(lines[0], key, "", "roster:column_twice"))
		}
		idx[key] = i
	}
	if !hasAny(idx, "external_id", "mobile", "email", "department_tree") {
		errs = append(errs, rowError(lines[0], "external_id", "", "roster:column_missing"))
	}
	if len(errs) > 0 {
		return nil, &ValidationError{Rows: errs}
	}
	if len(records)-1 > MaxRows {
		return nil, tooManyRows(lines[0])
	}
	var has uint16
	for i, c := range Columns {
		if _, ok := idx[c]; ok {
			has |= 1 << i
		}
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
			FeishuID: get("feishu_id"), DingtalkID: get("dingtalk_id"), Locale: get("locale"), DepartmentTree: get("department_tree"), Tags: get("tags"), has: has,
		}
		errs = append(errs, validate(r)...)
		if r.ExternalID != "" {
			if first, dup := seen[r.ExternalID]; dup {
				errs = append(errs, rowError(line, "external_id", "", "roster:duplicate", quote(r.ExternalID), first))
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
		return nil, &ValidationError{Rows: []RowError{rowError(lines[0], "", "", "roster:no_rows")}}
	}
	return rows, nil
}

func hasAny(idx map[string]int, cols ...string) bool {
	for _, c := range cols {
		if _, ok := idx[c]; ok {
			return true
		}
	}
	return false
}

func validate(r Row) []RowError {
	var errs []RowError
	bad := func(col, key string, args ...any) { errs = append(errs, rowError(r.Line, col, "", key, args...)) }
	switch {
	case r.ExternalID == "" && r.Mobile == "" && r.Email == "" && r.DepartmentTree == "":
		bad("external_id", "roster:required") // or mobile, email, department_tree
	case r.ExternalID == "": // looked up by Resolve
	case !idRe.MatchString(r.ExternalID):
		bad("external_id", "roster:bad_id", quote(r.ExternalID))
	}
	switch {
	case r.Name == "": // Resolve requires it for people the directory does not know
	case utf8.RuneCountInString(r.Name) > 64:
		bad("name", "roster:too_long", 64)
	}
	if r.ManagerID != "" && !idRe.MatchString(r.ManagerID) {
		bad("manager_id", "roster:bad_manager", quote(r.ManagerID))
	}
	if r.ManagerID != "" && r.ManagerID == r.ExternalID {
		bad("manager_id", "roster:own_manager")
	}
	switch a, err := mail.ParseAddress(r.Email); {
	case r.Email == "":
	case len(r.Email) > 191:
		bad("email", "roster:too_long", 191)
	case err != nil || a.Address != r.Email:
		bad("email", "roster:bad_email", quote(r.Email))
	}
	if r.Mobile != "" && !mobileRe.MatchString(r.Mobile) {
		bad("mobile", "roster:bad_mobile", quote(r.Mobile))
	}
	switch r.Platform {
	case "", "simulator", "wecom", "feishu", "dingtalk":
	default:
		bad("platform", "roster:bad_platform", quote(r.Platform))
	}
	switch r.Locale {
	case "", "zh-CN", "zh", "en":
	default:
		bad("locale", "roster:bad_locale", quote(r.Locale))
	}
	if _, err := store.NormalizeTags(r.Tags); err != nil {
		errs = append(errs, RowError{Line: r.Line, Column: "tags", Message: err.Error()}) // store's words, as they are
	}
	// The column sizes of store.Employee.
	for _, f := range []struct {
		col string
		v   string
		max int
	}{{"department", r.Department, 128}, {"title", r.Title, 128}, {"city", r.City, 64}, {"wecom_id", r.WecomID, 128}, {"feishu_id", r.FeishuID, 128}, {"dingtalk_id", r.DingtalkID, 128}} {
		if utf8.RuneCountInString(f.v) > f.max {
			bad(f.col, "roster:too_long", f.max)
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
	tags, _ := store.NormalizeTags(r.Tags) // validated
	return store.Employee{
		ExternalID: r.ExternalID, Name: r.Name, Department: r.Department, Title: r.Title, City: r.City,
		ManagerID: r.ManagerID, Email: r.Email, Mobile: r.Mobile, Platform: r.Platform, WecomID: r.WecomID,
		FeishuID: r.FeishuID, DingtalkID: r.DingtalkID, Locale: loc, Tags: tags, Active: true,
	}
}

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
				return nil, &ValidationError{Rows: []RowError{rowError(i+1, k, "", "roster:unknown_field")}}
			}
		}
		for j, c := range Columns {
			rec[j] = m[c]
		}
		records = append(records, rec)
		lines = append(lines, i+1)
	}
	rows, err := parseRecords(records, lines)
	if err != nil {
		return nil, err
	}
	// A field an object leaves out keeps the stored value.
	for k := range rows {
		m := ms[rows[k].Line-1]
		var has uint16
		for j, c := range Columns {
			if _, ok := m[c]; ok {
				has |= 1 << j
			}
		}
		rows[k].has = has
	}
	return rows, nil
}
