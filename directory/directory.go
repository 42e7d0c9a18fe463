// Package directory makes the platforms' company directories (通讯录) the
// source of truth for employees: it reads each platform's department tree
// and members (WeCom, Feishu, DingTalk, through their adapters), matches each
// member to one employee (by 工号, then mobile, then e-mail; ambiguities are
// left as conflicts for a person, never guessed), keeps names, departments,
// titles, cities, contact details, platform ids and direct managers current,
// and marks people who left inactive (never deleted: their answers stay).
//
// A sync is a full read of one platform's directory followed by a diff
// against what is stored: a re-run that finds nothing new writes nothing but
// its own run record. Each run, what it changed and what it could not read
// are kept (directory_syncs, directory_changes) for the console's page.
package directory

import (
	"context"
	"errors"
	"strings"

	"github.com/learnloop/learnloop/directory/contact"
	"github.com/learnloop/learnloop/internal/cut"
)

// Platforms a directory can be synced from, in their default priority: an
// employee on several platforms takes their profile (name, department,
// title, manager) from the first of them, unless their preferred platform
// (employees.platform) says otherwise.
var Platforms = []string{"wecom", "feishu", "dingtalk"}

// Department is one department as a platform reports it.
type Department = contact.Department

// Person is one directory member as a platform reports it. Fields a
// platform does not give (or the app has no scope for) are empty.
type Person = contact.Person

// Source reads one platform's directory.
type Source interface {
	// Platform is the platform's name (wecom, feishu, dingtalk).
	Platform() string
	// Departments returns the whole department tree the app can see.
	Departments(ctx context.Context) ([]Department, error)
	// People returns every member of depts. A department or member that
	// cannot be read is reported to fail and skipped; an error return
	// means nothing usable was read.
	People(ctx context.Context, depts []Department, fail func(subject string, err error)) ([]Person, error)
}

// ErrNotFound is returned by a Lookup that knows no such person.
var ErrNotFound = errors.New("no such person in the directory")

// clip is s without its surrounding spaces, cut to at most n runes (the
// column sizes of store.Employee).
func clip(s string, n int) string { return cut.Runes(strings.TrimSpace(s), n) }
