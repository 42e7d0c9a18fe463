package directory

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/learnloop/learnloop/adapters/dingtalk"
	"github.com/learnloop/learnloop/adapters/feishu"
	"github.com/learnloop/learnloop/adapters/wecom"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/roster"
)

// DefaultConcurrency is how many directory calls a source makes at once.
// It stays well under each platform's per-app rate (WeCom's user/get,
// Feishu's 50/s, DingTalk's 20/s); frequency errors are waited out by the
// adapters.
const DefaultConcurrency = 4

// each runs fn over items with n workers, stopping early when ctx ends.
func each[T any](ctx context.Context, n int, items []T, fn func(T)) {
	ch := make(chan T)
	var wg sync.WaitGroup
	for range max(1, n) {
		wg.Go(func() {
			for it := range ch {
				fn(it)
			}
		})
	}
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		ch <- it
	}
	close(ch)
	wg.Wait()
}

// byDepartment reads the members of each department of depts with n
// workers (read; a department it cannot read is reported to fail as
// "department ID") and returns each person once, in the order first seen.
// person turns a member into its Person, false to leave the member out; it
// is called for one member at a time.
func byDepartment[M any](ctx context.Context, n int, depts []Department, fail func(string, error),
	read func(Department) ([]M, error), person func(M) (Person, bool)) []Person {
	var mu sync.Mutex
	seen := map[string]bool{}
	out := []Person{}
	each(ctx, n, depts, func(d Department) {
		ms, err := read(d)
		if err != nil {
			fail("department "+d.ID, err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, m := range ms {
			if p, ok := person(m); ok && !seen[p.UserID] { // a member of several departments once
				seen[p.UserID] = true
				out = append(out, p)
			}
		}
	})
	return out
}

// numbered is the Departments of a platform that numbers its departments
// (WeCom, DingTalk): ids in decimal, and no parent for a root (parent 0, or
// a department its own parent).
func numbered[D any](ds []D, fields func(D) (id, parent int64, name string)) []Department {
	out := make([]Department, 0, len(ds))
	for _, d := range ds {
		out = append(out, numberedDept(fields(d)))
	}
	return out
}

// numberedDept is one department of numbered.
func numberedDept(id, parent int64, name string) Department {
	dep := Department{ID: strconv.FormatInt(id, 10), Name: name}
	if parent != 0 && parent != id {
		dep.ParentID = strconv.FormatInt(parent, 10)
	}
	return dep
}

// WeCom reads a WeCom corp's directory: department/list, user/list_id, then
// user/get for each member (the only call that gives names, positions and
// direct_leader).
func WeCom(c *wecom.Client, concurrency int) Source { return &wecomSource{c: c, n: concurrency} }

type wecomSource struct {
	c *wecom.Client
	n int
}

func (s *wecomSource) Platform() string { return string(bot.PlatformWeCom) }

func (s *wecomSource) Departments(ctx context.Context) ([]Department, error) {
	ds, err := s.c.DirectoryDepartments(ctx)
	if err != nil {
		return nil, err
	}
	return numbered(ds, func(d wecom.DirectoryDepartment) (int64, int64, string) { return d.ID, d.ParentID, d.Name }), nil
}

func (s *wecomSource) People(ctx context.Context, _ []Department, fail func(string, error)) ([]Person, error) {
	refs, err := s.c.DirectoryUserIDs(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	seen := map[string]bool{}
	for _, r := range refs {
		if !seen[r.UserID] {
			seen[r.UserID] = true
			ids = append(ids, r.UserID)
		}
	}
	var mu sync.Mutex
	out := make([]Person, 0, len(ids))
	each(ctx, s.n, ids, func(id string) {
		p, err := s.Member(ctx, id)
		if err != nil {
			fail(id, err)
			return
		}
		mu.Lock()
		out = append(out, p)
		mu.Unlock()
	})
	return out, ctx.Err()
}

// Member reads one member with user/get (for change events, which name
// the member only).
func (s *wecomSource) Member(ctx context.Context, id string) (Person, error) {
	m, err := s.c.DirectoryMember(ctx, id)
	if err != nil {
		return Person{}, gone(err, wecom.ErrUserNotFound)
	}
	p := Person{UserID: m.UserID, EmployeeNo: m.EmployeeNo, Name: m.Name, Title: m.Position, City: m.City,
		Mobile: m.Mobile, Email: m.Email, Active: m.Active()}
	if len(m.DirectLeaders) > 0 {
		p.ManagerID = m.DirectLeaders[0]
	}
	if m.MainDepartment != 0 {
		p.DeptIDs = append(p.DeptIDs, wecom.FormatDeptID(m.MainDepartment))
	}
	for _, d := range m.Departments {
		if d != m.MainDepartment {
			p.DeptIDs = append(p.DeptIDs, wecom.FormatDeptID(d))
		}
	}
	return p, nil
}

// Feishu reads a Feishu tenant's directory: the department tree, then
// users/find_by_department for each department.
func Feishu(c *feishu.Client, concurrency int) Source { return &feishuSource{c: c, n: concurrency} }

type feishuSource struct {
	c *feishu.Client
	n int
}

func (s *feishuSource) Platform() string { return string(bot.PlatformFeishu) }

func (s *feishuSource) Departments(ctx context.Context) ([]Department, error) {
	ds, err := s.c.DirectoryDepartments(ctx)
	if err != nil {
		return nil, err
	}
	out := []Department{{ID: feishu.RootDepartment, Name: ""}}
	for _, d := range ds {
		if d.Deleted {
			continue
		}
		dep := Department{ID: d.ID, ParentID: d.ParentID, Name: d.Name}
		if dep.ParentID == "" {
			dep.ParentID = feishu.RootDepartment
		}
		out = append(out, dep)
	}
	return out, nil
}

func (s *feishuSource) People(ctx context.Context, depts []Department, fail func(string, error)) ([]Person, error) {
	raw := map[string]string{} // RawID → ID, for managers
	out := byDepartment(ctx, s.n, depts, fail, func(d Department) ([]feishu.DirectoryMember, error) {
		return s.c.DepartmentMembers(ctx, d.ID)
	}, func(m feishu.DirectoryMember) (Person, bool) {
		if m.ID == "" {
			fail(m.RawID, errNoReceiveID)
			return Person{}, false
		}
		raw[m.RawID] = m.ID
		return feishuPerson(m), true
	})
	for i := range out {
		if out[i].ManagerID != "" {
			out[i].ManagerID = raw[out[i].ManagerID]
		}
	}
	return out, ctx.Err()
}

// errNoReceiveID is a Feishu member without an id of the receive id type
// the app is configured with.
var errNoReceiveID = errors.New("member has no id of the configured receive id type (check the app's contact scopes)")

func feishuPerson(m feishu.DirectoryMember) Person {
	return Person{UserID: m.ID, EmployeeNo: m.EmployeeNo, Name: m.Name, Title: m.JobTitle, City: m.City, Mobile: m.Mobile,
		Email: m.Email, DeptIDs: m.Departments, ManagerID: m.ManagerID, Active: !m.Resigned && !m.Frozen}
}

// Member reads one member with users/get (Feishu's member events are not
// complete enough to apply as they are).
func (s *feishuSource) Member(ctx context.Context, id string) (Person, error) {
	m, err := s.c.DirectoryUser(ctx, id)
	if err != nil {
		return Person{}, err
	}
	if m.ID == "" {
		return Person{}, errNoReceiveID
	}
	return feishuPerson(m), nil
}

// DingTalk reads a DingTalk organisation's directory: department/listsub
// from the root, then topapi/v2/user/list for each department.
func DingTalk(c *dingtalk.Client, concurrency int) Source {
	return &dingtalkSource{c: c, n: concurrency}
}

type dingtalkSource struct {
	c *dingtalk.Client
	n int
}

func (s *dingtalkSource) Platform() string { return string(bot.PlatformDingTalk) }

func (s *dingtalkSource) Departments(ctx context.Context) ([]Department, error) {
	ds, err := s.c.DirectoryDepartments(ctx)
	if err != nil {
		return nil, err
	}
	return numbered(ds, func(d dingtalk.DirectoryDepartment) (int64, int64, string) { return d.ID, d.ParentID, d.Name }), nil
}

func (s *dingtalkSource) People(ctx context.Context, depts []Department, fail func(string, error)) ([]Person, error) {
	out := byDepartment(ctx, s.n, depts, fail, func(d Department) ([]dingtalk.DirectoryMember, error) {
		var id int64
		if _, err := fmt.Sscan(d.ID, &id); err != nil {
			return nil, err
		}
		return s.c.DepartmentMembers(ctx, id)
	}, func(m dingtalk.DirectoryMember) (Person, bool) { return dingtalkPerson(m), m.UserID != "" })
	// The list may leave the manager out: ask for those (each worker writes
	// its own people only).
	var need []int
	for i, p := range out {
		if p.ManagerID == "" {
			need = append(need, i)
		}
	}
	each(ctx, s.n, need, func(i int) {
		mgr, err := s.c.UserManager(ctx, out[i].UserID)
		if err != nil {
			fail(out[i].UserID, fmt.Errorf("read manager: %w", err))
			return
		}
		out[i].ManagerID = mgr
	})
	return out, ctx.Err()
}

func dingtalkPerson(m dingtalk.DirectoryMember) Person {
	p := Person{UserID: m.UserID, EmployeeNo: m.JobNumber, Name: m.Name, Title: m.Title, City: m.WorkPlace, Mobile: m.Mobile,
		Email: m.Email, ManagerID: m.ManagerID, Active: true}
	if p.Email == "" {
		p.Email = m.OrgEmail
	}
	for _, dd := range m.DeptIDList {
		p.DeptIDs = append(p.DeptIDs, fmt.Sprint(dd))
	}
	return p
}

// Member reads one member with topapi/v2/user/get (DingTalk's change
// events name members only).
func (s *dingtalkSource) Member(ctx context.Context, id string) (Person, error) {
	m, err := s.c.DirectoryUser(ctx, id)
	if err != nil {
		return Person{}, gone(err, dingtalk.ErrUserNotFound)
	}
	return dingtalkPerson(m), nil
}

// Department reads one department with topapi/v2/department/get.
func (s *dingtalkSource) Department(ctx context.Context, id string) (Department, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return Department{}, fmt.Errorf("dingtalk department id %q: %w", id, err)
	}
	d, err := s.c.DirectoryDepartment(ctx, n)
	if err != nil {
		return Department{}, gone(err, dingtalk.ErrDeptNotFound)
	}
	return numberedDept(d.ID, d.ParentID, d.Name), nil
}

// Sources returns a Source for every directory-capable messenger in ms
// (WeCom, Feishu, DingTalk), keyed by platform.
func Sources(ms map[bot.Platform]bot.Messenger, concurrency int) map[string]Source {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	out := map[string]Source{}
	for _, m := range ms {
		switch c := m.(type) {
		case *wecom.Client:
			out[string(bot.PlatformWeCom)] = WeCom(c, concurrency)
		case *feishu.Client:
			out[string(bot.PlatformFeishu)] = Feishu(c, concurrency)
		case *dingtalk.Client:
			out[string(bot.PlatformDingTalk)] = DingTalk(c, concurrency)
		}
	}
	return out
}

// Lookup finds a platform user id by mobile or e-mail through the
// platform's own lookup API (for roster rows the directory does not know).
type Lookup interface {
	// Platform is the platform's name.
	Platform() string
	// ByMobile and ByEmail return the user id, or ErrNotFound.
	ByMobile(ctx context.Context, mobile string) (string, error)
	ByEmail(ctx context.Context, email string) (string, error)
}

// Lookups returns a Lookup for every directory-capable messenger in ms.
func Lookups(ms map[bot.Platform]bot.Messenger) []Lookup {
	var out []Lookup
	for _, p := range Platforms {
		switch c := ms[bot.Platform(p)].(type) {
		case *wecom.Client:
			out = append(out, wecomLookup{c})
		case *feishu.Client:
			out = append(out, feishuLookup{c})
		case *dingtalk.Client:
			out = append(out, dingtalkLookup{c})
		}
	}
	return out
}

type wecomLookup struct{ c *wecom.Client }

func (l wecomLookup) Platform() string { return string(bot.PlatformWeCom) }
func (l wecomLookup) ByMobile(ctx context.Context, m string) (string, error) {
	return notFound(l.c.UserIDByMobile(ctx, m))
}
func (l wecomLookup) ByEmail(ctx context.Context, e string) (string, error) {
	return notFound(l.c.UserIDByEmail(ctx, e))
}

type feishuLookup struct{ c *feishu.Client }

func (l feishuLookup) Platform() string { return string(bot.PlatformFeishu) }
func (l feishuLookup) ByMobile(ctx context.Context, m string) (string, error) {
	return l.one(ctx, []string{m}, nil, m)
}
func (l feishuLookup) ByEmail(ctx context.Context, e string) (string, error) {
	return l.one(ctx, nil, []string{e}, strings.ToLower(e))
}
func (l feishuLookup) one(ctx context.Context, ms, es []string, key string) (string, error) {
	got, err := l.c.BatchGetIDs(ctx, ms, es)
	if err != nil {
		return "", err
	}
	if id, ok := got[key]; ok {
		return id, nil
	}
	return "", ErrNotFound
}

type dingtalkLookup struct{ c *dingtalk.Client }

func (l dingtalkLookup) Platform() string { return string(bot.PlatformDingTalk) }
func (l dingtalkLookup) ByMobile(ctx context.Context, m string) (string, error) {
	return notFound(l.c.UserIDByMobile(ctx, m))
}

// ByEmail: DingTalk has no lookup by e-mail for internal apps.
func (l dingtalkLookup) ByEmail(context.Context, string) (string, error) { return "", ErrNotFound }

// gone is err, also matching ErrNotFound when it is the platform's own
// not-found error platformErr.
func gone(err, platformErr error) error {
	if errors.Is(err, platformErr) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

func notFound(id string, err error) (string, error) {
	if errors.Is(err, wecom.ErrUserNotFound) || errors.Is(err, dingtalk.ErrUserNotFound) {
		return "", ErrNotFound
	}
	return id, err
}

// RosterLookups adapts Lookups to roster.Resolve's Lookup (not found is
// "", nil there).
func RosterLookups(ms map[bot.Platform]bot.Messenger) []roster.Lookup {
	var out []roster.Lookup
	for _, l := range Lookups(ms) {
		out = append(out, rosterLookup{l})
	}
	return out
}

type rosterLookup struct{ l Lookup }

func (r rosterLookup) Platform() string { return r.l.Platform() }
func (r rosterLookup) ByMobile(ctx context.Context, m string) (string, error) {
	return orEmpty(r.l.ByMobile(ctx, m))
}
func (r rosterLookup) ByEmail(ctx context.Context, e string) (string, error) {
	return orEmpty(r.l.ByEmail(ctx, e))
}

func orEmpty(id string, err error) (string, error) {
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return id, err
}
