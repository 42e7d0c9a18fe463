package directory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/internal/defaults"
	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/store"
)

// Defaults of Options.
const (
	// DefaultMaxDeactivatePercent: a sync that would deactivate more than
	// this share of a platform's active members deactivates nobody (an app
	// whose visible range was narrowed by mistake must not retire the
	// company) unless AllowMassDeactivation is set.
	DefaultMaxDeactivatePercent = 20
	// writeBatch is how many rows one statement or transaction writes.
	writeBatch = 500
)

// Options configure a Syncer. Zero values take the defaults.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives progress and failures; nil means slog.Default().
	Logger *slog.Logger
	// Priority orders platforms for an employee on several: the first
	// one they are on supplies their profile. nil means Platforms.
	Priority []string
	// MaxDeactivatePercent: see DefaultMaxDeactivatePercent; 0 takes it.
	MaxDeactivatePercent int
}

// Syncer syncs platform directories into the employees table.
type Syncer struct {
	db   *gorm.DB
	opts Options
	// running makes runs of one platform in this process take turns; runs
	// in several replicas are kept apart by the scheduler's unique keys,
	// and each run's writes are compare-free upserts of the same result.
	running sync.Map // platform → *sync.Mutex
}

// NewSyncer returns a Syncer on db.
func NewSyncer(db *gorm.DB, opts Options) *Syncer {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Logger = defaults.Logger(opts.Logger)
	if len(opts.Priority) == 0 {
		opts.Priority = Platforms
	}
	if opts.MaxDeactivatePercent <= 0 {
		opts.MaxDeactivatePercent = DefaultMaxDeactivatePercent
	}
	return &Syncer{db: db, opts: opts}
}

// RunOptions tune one sync.
type RunOptions struct {
	// DryRun computes and reports every change and writes nothing.
	DryRun bool
	// Trigger says who started the run: cli, schedule, console.
	Trigger string
	// AllowMassDeactivation lifts the MaxDeactivatePercent guard.
	AllowMassDeactivation bool
}

// Report is what one sync did (or, for a dry run, would do).
type Report struct {
	SyncID      uint64 `json:"sync_id,omitempty"`
	Platform    string `json:"platform"`
	Status      string `json:"status"`
	DryRun      bool   `json:"dry_run"`
	Departments int    `json:"departments"`
	People      int    `json:"people"`
	Created     int    `json:"created"`
	Linked      int    `json:"linked"`
	Updated     int    `json:"updated"`
	Deactivated int    `json:"deactivated"`
	Conflicts   int    `json:"conflicts"`
	Failures    int    `json:"failures"`
	// Changes lists every change, conflict and failure of the run.
	Changes []store.DirectoryChange `json:"changes"`
	Elapsed time.Duration           `json:"elapsed"`
}

// Changed reports whether the run changed (or would change) anything.
func (r Report) Changed() bool {
	return r.Created+r.Linked+r.Updated+r.Deactivated > 0
}

// Sync reads src's whole directory and brings the stored departments,
// members and employees in line with it. The run and its changes are
// recorded unless DryRun. A read that failed for some departments or
// members stores what was read and deactivates nobody (status partial).
func (s *Syncer) Sync(ctx context.Context, src Source, ro RunOptions) (Report, error) {
	p := src.Platform()
	if !slices.Contains(Platforms, p) {
		return Report{}, fmt.Errorf("directory: unknown platform %q", p)
	}
	mu, _ := s.running.LoadOrStore(p, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()

	start := s.opts.Now()
	rep := Report{Platform: p, DryRun: ro.DryRun, Status: store.DirectorySyncRunning}
	if ro.Trigger == "" {
		ro.Trigger = "cli"
	}
	var row store.DirectorySync
	if !ro.DryRun {
		row = store.DirectorySync{Platform: p, StartedAt: start.UTC(), Status: store.DirectorySyncRunning, Trigger: ro.Trigger}
		if err := store.Retry(ctx, func() error { return s.db.WithContext(ctx).Create(&row).Error }); err != nil {
			return rep, fmt.Errorf("record directory sync: %w", err)
		}
		rep.SyncID = row.ID
	}
	finish := func(status string, runErr error) (Report, error) {
		rep.Status = status
		rep.Elapsed = s.opts.Now().Sub(start)
		if ro.DryRun {
			return rep, runErr
		}
		end := s.opts.Now().UTC()
		row.FinishedAt = &end
		row.Status = status
		row.Departments, row.People, row.Created, row.Linked = rep.Departments, rep.People, rep.Created, rep.Linked
		row.Updated, row.Deactivated, row.Conflicts, row.Failures = rep.Updated, rep.Deactivated, rep.Conflicts, rep.Failures
		if runErr != nil {
			row.Error = clip(runErr.Error(), 1000)
		}
		// The run happened: record it even when ctx was cancelled.
		dctx, cancel := store.Detached(ctx, 10*time.Second)
		defer cancel()
		if err := store.Retry(dctx, func() error { return s.db.WithContext(dctx).Save(&row).Error }); err != nil {
			return rep, errors.Join(runErr, fmt.Errorf("record directory sync: %w", err))
		}
		if runErr == nil && len(rep.Changes) > 0 {
			for i := range rep.Changes {
				rep.Changes[i].SyncID = row.ID
			}
			err := store.Retry(dctx, func() error {
				return s.db.WithContext(dctx).CreateInBatches(rep.Changes, 1000).Error
			})
			if err != nil {
				return rep, fmt.Errorf("record directory changes: %w", err)
			}
		}
		return rep, runErr
	}

	depts, err := src.Departments(ctx)
	if err != nil {
		rep.Failures++
		return finish(store.DirectorySyncFailed, fmt.Errorf("read %s departments: %w", p, err))
	}
	var fmu sync.Mutex
	var failed []store.DirectoryChange
	people, err := src.People(ctx, depts, func(subject string, err error) {
		fmu.Lock()
		defer fmu.Unlock()
		failed = append(failed, store.DirectoryChange{Platform: p, Kind: store.DirectoryFailed, Subject: clip(subject, 128), Detail: clip(err.Error(), 1000)})
	})
	if err != nil {
		rep.Failures += 1 + len(failed)
		return finish(store.DirectorySyncFailed, fmt.Errorf("read %s members: %w", p, err))
	}
	if ctx.Err() != nil {
		return finish(store.DirectorySyncFailed, ctx.Err())
	}
	st, err := s.load(ctx, p)
	if err != nil {
		return finish(store.DirectorySyncFailed, err)
	}
	pl, err := s.plan(p, st, depts, people, planMode{complete: len(failed) == 0, allowMass: ro.AllowMassDeactivation})
	if err != nil {
		return finish(store.DirectorySyncFailed, err)
	}
	rep.Departments, rep.People = len(depts), len(people)
	rep.Created, rep.Linked, rep.Updated, rep.Deactivated, rep.Conflicts = pl.created, pl.linked, pl.updated, pl.deactivated, pl.conflicts
	rep.Changes = append(failed, pl.changes...)
	rep.Failures += len(failed) + pl.failures
	now := s.opts.Now().UTC()
	for i := range rep.Changes {
		rep.Changes[i].CreatedAt = now
	}
	if !ro.DryRun {
		if err := s.apply(ctx, p, pl); err != nil {
			rep.Changes = nil
			return finish(store.DirectorySyncFailed, err)
		}
	}
	status := store.DirectorySyncOK
	if len(failed) > 0 {
		status = store.DirectorySyncPartial
	}
	s.opts.Logger.Info("directory sync", "platform", p, "dry_run", ro.DryRun, "status", status, "departments", rep.Departments,
		"people", rep.People, "created", rep.Created, "linked", rep.Linked, "updated", rep.Updated,
		"deactivated", rep.Deactivated, "conflicts", rep.Conflicts, "failures", rep.Failures)
	return finish(status, nil)
}

// idColumn is the employees column holding platform p's user id.
func idColumn(p string) string { return p + "_id" }

func platformID(e *store.Employee, p string) string {
	switch p {
	case "wecom":
		return e.WecomID
	case "feishu":
		return e.FeishuID
	case "dingtalk":
		return e.DingtalkID
	}
	return ""
}

func setPlatformID(e *store.Employee, p, v string) {
	switch p {
	case "wecom":
		e.WecomID = v
	case "feishu":
		e.FeishuID = v
	case "dingtalk":
		e.DingtalkID = v
	}
}

// plan is everything one sync will write.
type plan struct {
	deptCreate []store.DirectoryDepartment
	deptUpdate []store.DirectoryDepartment
	// empCreate are new employees; personOf maps their ExternalID to the
	// member rows that must point at them once they have an id.
	empCreate []store.Employee
	empUpdate map[uint64]map[string]any
	// personCreate / personUpdate carry EmployeeID, or newEmp (an
	// ExternalID of empCreate) when the employee is new.
	personCreate []personWrite
	personUpdate []personWrite
	conflictPut  []store.DirectoryConflict
	conflictDone []uint64
	changes      []store.DirectoryChange

	created, linked, updated, deactivated, conflicts, failures int
}

type personWrite struct {
	row    store.DirectoryPerson
	newEmp string
}

// personHash fingerprints a member's directory fields.
func personHash(x Person) string {
	h := sha256.New()
	for _, f := range []string{x.UserID, x.EmployeeNo, x.Name, x.Title, x.City, roster.NormalizeMobile(x.Mobile), roster.NormalizeEmail(x.Email), strings.Join(x.DeptIDs, ","), x.ManagerID, fmt.Sprint(x.Active)} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

var extIDUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.@-]`)

// newExternalID picks the external id of an employee created from the
// directory: their 工号 when it is free, else platform-userid.
func newExternalID(p string, x Person, taken func(string) bool) string {
	if no := strings.TrimSpace(x.EmployeeNo); no != "" && len(no) <= 64 && !taken(no) {
		return no
	}
	base := clip(p+"-"+extIDUnsafe.ReplaceAllString(x.UserID, "_"), 60)
	id := base
	for i := 2; taken(id); i++ {
		id = fmt.Sprintf("%s~%d", base, i)
	}
	return id
}

// state is what plan reads from the database.
type state struct {
	emps      map[uint64]*store.Employee
	byExt     map[string]*store.Employee
	byPID     map[string]*store.Employee // this platform's id → employee
	byMobile  map[string][]*store.Employee
	byEmail   map[string][]*store.Employee
	persons   map[string]*store.DirectoryPerson
	depts     map[string]*store.DirectoryDepartment
	conflicts map[string]*store.DirectoryConflict
	// elsewhere: employees active in another platform's directory.
	elsewhere map[uint64]bool
}

func (s *Syncer) load(ctx context.Context, p string) (*state, error) {
	db := s.db.WithContext(ctx)
	st := newState()
	var emps []store.Employee
	if err := db.FindInBatches(&emps, 5000, func(_ *gorm.DB, _ int) error {
		for i := range emps {
			e := emps[i]
			st.add(&e, p)
		}
		return nil
	}).Error; err != nil {
		return nil, fmt.Errorf("load employees: %w", err)
	}
	var persons []store.DirectoryPerson
	if err := db.Where("platform = ?", p).FindInBatches(&persons, 5000, func(_ *gorm.DB, _ int) error {
		for i := range persons {
			x := persons[i]
			st.persons[x.UserID] = &x
		}
		return nil
	}).Error; err != nil {
		return nil, fmt.Errorf("load directory members: %w", err)
	}
	var depts []store.DirectoryDepartment
	if err := db.Where("platform = ?", p).Find(&depts).Error; err != nil {
		return nil, fmt.Errorf("load directory departments: %w", err)
	}
	for i := range depts {
		st.depts[depts[i].DeptID] = &depts[i]
	}
	var conflicts []store.DirectoryConflict
	if err := db.Where("platform = ?", p).Find(&conflicts).Error; err != nil {
		return nil, fmt.Errorf("load directory conflicts: %w", err)
	}
	for i := range conflicts {
		st.conflicts[conflicts[i].UserID] = &conflicts[i]
	}
	var other []uint64
	if err := db.Model(&store.DirectoryPerson{}).Where("platform <> ? AND active = ? AND employee_id <> 0", p, true).
		Distinct().Pluck("employee_id", &other).Error; err != nil {
		return nil, fmt.Errorf("load other directories: %w", err)
	}
	for _, id := range other {
		st.elsewhere[id] = true
	}
	return st, nil
}

func newState() *state {
	return &state{emps: map[uint64]*store.Employee{}, byExt: map[string]*store.Employee{}, byPID: map[string]*store.Employee{},
		byMobile: map[string][]*store.Employee{}, byEmail: map[string][]*store.Employee{}, persons: map[string]*store.DirectoryPerson{},
		depts: map[string]*store.DirectoryDepartment{}, conflicts: map[string]*store.DirectoryConflict{}, elsewhere: map[uint64]bool{}}
}

func (st *state) add(e *store.Employee, p string) {
	if e.ID != 0 {
		st.emps[e.ID] = e
	}
	st.byExt[e.ExternalID] = e
	if id := platformID(e, p); id != "" {
		st.byPID[id] = e
	}
	if m := roster.NormalizeMobile(e.Mobile); m != "" {
		st.byMobile[m] = append(st.byMobile[m], e)
	}
	if m := roster.NormalizeEmail(e.Email); m != "" {
		st.byEmail[m] = append(st.byEmail[m], e)
	}
}

// storedEmployee is the employee the stored member userID is linked to,
// or nil.
func (st *state) storedEmployee(userID string) *store.Employee {
	if x := st.persons[userID]; x != nil && x.EmployeeID != 0 {
		return st.emps[x.EmployeeID]
	}
	return nil
}

// match finds the employee of member x: by this platform's id, then a
// person's resolution of an earlier conflict, then 工号, mobile, e-mail. It
// returns the employee (nil: create one), or a conflict.
func (st *state) match(p string, x Person) (*store.Employee, *store.DirectoryConflict) {
	if e := st.byPID[x.UserID]; e != nil {
		return e, nil
	}
	if c := st.conflicts[x.UserID]; c != nil && c.Status == store.ConflictResolved {
		if c.ResolvedEmployeeID == 0 {
			return nil, nil
		}
		if e := st.emps[c.ResolvedEmployeeID]; e != nil {
			return e, nil
		}
	}
	free := func(e *store.Employee) bool { return platformID(e, p) == "" }
	conflict := func(rule string, es []*store.Employee) *store.DirectoryConflict {
		ids := make([]string, len(es))
		for i, e := range es {
			ids[i] = e.ExternalID
		}
		sort.Strings(ids)
		return &store.DirectoryConflict{Platform: p, UserID: x.UserID, Name: clip(x.Name, 128), Rule: rule, Candidates: clip(strings.Join(ids, ","), 1024), Status: store.ConflictOpen}
	}
	if no := strings.TrimSpace(x.EmployeeNo); no != "" {
		if e := st.byExt[no]; e != nil {
			if free(e) {
				return e, nil
			}
			return nil, conflict("employee_no", []*store.Employee{e})
		}
	}
	for _, r := range []struct {
		rule string
		es   []*store.Employee
	}{{"mobile", st.byMobile[roster.NormalizeMobile(x.Mobile)]}, {"email", st.byEmail[roster.NormalizeEmail(x.Email)]}} {
		switch {
		case len(r.es) == 0 || (r.rule == "mobile" && roster.NormalizeMobile(x.Mobile) == "") || (r.rule == "email" && roster.NormalizeEmail(x.Email) == ""):
			continue
		case len(r.es) == 1 && free(r.es[0]):
			return r.es[0], nil
		default:
			return nil, conflict(r.rule, r.es)
		}
	}
	return nil, nil
}

// home reports whether platform p supplies e's profile.
func (s *Syncer) home(e *store.Employee, p string) bool {
	if e.Platform != "" && e.Platform != "simulator" && platformID(e, e.Platform) != "" {
		return e.Platform == p
	}
	for _, q := range s.opts.Priority {
		if platformID(e, q) != "" {
			return q == p
		}
	}
	return true
}

// departmentPaths names each department from its root down.
func departmentPaths(depts []Department) map[string]string {
	byID := make(map[string]Department, len(depts))
	for _, d := range depts {
		byID[d.ID] = d
	}
	out := make(map[string]string, len(depts))
	var path func(id string, depth int) string
	path = func(id string, depth int) string {
		if v, ok := out[id]; ok {
			return v
		}
		d, ok := byID[id]
		if !ok {
			return ""
		}
		v := d.Name
		if parent := path(d.ParentID, depth+1); parent != "" && depth < 64 && d.ParentID != id {
			v = parent + " / " + d.Name
		}
		out[id] = v
		return v
	}
	for _, d := range depts {
		path(d.ID, 0)
	}
	return out
}

// planMode says what a plan's input covers.
type planMode struct {
	// complete: the read saw the whole directory (a full sync that read
	// every department and member): what it did not see is gone.
	complete, allowMass bool
	// incremental: people are the members one change event names, depts
	// the whole stored tree with the event's change made. Nobody else is
	// gone; a manager not among people is found in what is stored;
	// removed departments are deactivated.
	incremental bool
	removed     map[string]bool
	// at is when the state written was true (the event's time); zero
	// means now.
	at time.Time
}

func (s *Syncer) plan(p string, st *state, depts []Department, people []Person, mode planMode) (*plan, error) {
	complete, allowMass := mode.complete, mode.allowMass
	pl := &plan{empUpdate: map[uint64]map[string]any{}}
	now := s.opts.Now().UTC()
	if !mode.at.IsZero() {
		now = mode.at.UTC()
	}
	change := func(kind, subject string, emp uint64, format string, args ...any) {
		pl.changes = append(pl.changes, store.DirectoryChange{Platform: p, Kind: kind, Subject: clip(subject, 128), EmployeeID: emp, Detail: clip(fmt.Sprintf(format, args...), 1000)})
	}

	// Departments.
	paths := departmentPaths(depts)
	deptName := map[string]string{}
	seenDept := map[string]bool{}
	for _, d := range depts {
		if d.ID == "" || seenDept[d.ID] {
			continue
		}
		seenDept[d.ID] = true
		deptName[d.ID] = d.Name
		want := store.DirectoryDepartment{Platform: p, DeptID: clip(d.ID, 64), ParentID: clip(d.ParentID, 64), Name: clip(d.Name, 128), Path: clip(paths[d.ID], 1024), Active: true, SyncedAt: now}
		old := st.depts[d.ID]
		switch {
		case old == nil:
			pl.deptCreate = append(pl.deptCreate, want)
			change(store.DirectoryDeptChanged, d.ID, 0, "new department %s", want.Path)
		case old.ParentID != want.ParentID || old.Name != want.Name || old.Path != want.Path || !old.Active:
			want.ID = old.ID
			pl.deptUpdate = append(pl.deptUpdate, want)
			change(store.DirectoryDeptChanged, d.ID, 0, "department %s (was %s)", want.Path, old.Path)
		}
	}
	if complete || mode.incremental {
		for id, old := range st.depts {
			if !seenDept[id] && old.Active && (complete || mode.removed[id]) {
				o := *old
				o.Active, o.SyncedAt = false, now
				pl.deptUpdate = append(pl.deptUpdate, o)
				change(store.DirectoryDeptChanged, id, 0, "department %s is gone", old.Path)
			}
		}
	}

	// Members: match each to an employee.
	type member struct {
		x   Person
		emp *store.Employee // nil for a conflict
		new bool
	}
	var members []member
	seen := map[string]bool{}
	byUser := map[string]*store.Employee{} // user id → employee, for managers
	taken := func(ext string) bool { return st.byExt[ext] != nil }
	for _, x := range people {
		if x.UserID == "" || seen[x.UserID] {
			continue
		}
		seen[x.UserID] = true
		emp, c := st.match(p, x)
		old := st.conflicts[x.UserID]
		if c != nil {
			pl.conflicts++
			if old == nil || old.Status != store.ConflictOpen || old.Candidates != c.Candidates || old.Rule != c.Rule {
				if old != nil {
					c.ID, c.CreatedAt = old.ID, old.CreatedAt
				}
				pl.conflictPut = append(pl.conflictPut, *c)
				change(store.DirectoryConflicted, x.UserID, 0, "%s matches %s by %s: a person must choose (learnloop directory resolve)", x.Name, c.Candidates, c.Rule)
			}
			members = append(members, member{x: x})
			continue
		}
		if old != nil && old.Status == store.ConflictOpen {
			pl.conflictDone = append(pl.conflictDone, old.ID)
		}
		m := member{x: x, emp: emp}
		if emp == nil {
			e := &store.Employee{ExternalID: newExternalID(p, x, taken), Active: x.Active}
			st.add(e, p) // reserves the external id
			m.emp, m.new = e, true
		}
		byUser[x.UserID] = m.emp
		members = append(members, m)
	}

	// Profiles, ids and activity.
	for _, m := range members {
		x := m.x
		var want store.Employee
		if m.emp != nil {
			want = *m.emp
		}
		hadID := m.emp != nil && platformID(m.emp, p) == x.UserID
		if m.emp != nil {
			setPlatformID(&want, p, x.UserID)
		}
		if m.emp != nil && (m.new || s.home(&want, p)) {
			want.Name = clip(x.Name, 128)
			if len(x.DeptIDs) > 0 {
				if n, ok := deptName[x.DeptIDs[0]]; ok {
					want.Department = clip(n, 128)
				}
			}
			want.Title, want.City = clip(x.Title, 128), clip(x.City, 64)
			if mob := roster.NormalizeMobile(x.Mobile); mob != "" {
				want.Mobile = clip(mob, 32)
			}
			if em := roster.NormalizeEmail(x.Email); em != "" {
				want.Email = clip(em, 191)
			}
			if x.ManagerID != "" {
				mgr := byUser[x.ManagerID]
				if mgr == nil && mode.incremental {
					mgr = st.storedEmployee(x.ManagerID)
				}
				if mgr != nil && mgr != m.emp {
					want.ManagerID = mgr.ExternalID
				} else if mgr == nil {
					pl.failures++
					change(store.DirectoryFailed, x.UserID, m.emp.ID, "manager %s of %s is not in the directory the app can see (or not linked to an employee); the manager stays %q", x.ManagerID, x.Name, m.emp.ManagerID)
				}
			}
		}
		if m.emp != nil {
			want.Active = x.Active || (st.elsewhere[m.emp.ID] && !m.new)
		}
		switch {
		case m.emp == nil:
		case m.new:
			pl.empCreate = append(pl.empCreate, want)
			pl.created++
			change(store.DirectoryCreated, x.UserID, 0, "new employee %s %s (%s)", want.ExternalID, want.Name, want.Department)
		default:
			// want starts as the stored employee, so only what the sync
			// set can differ.
			cols := store.EmployeeChanges(m.emp, &want, nil)
			if len(cols) == 0 {
				break
			}
			pl.empUpdate[m.emp.ID] = cols
			switch {
			case !hadID:
				pl.linked++
				change(store.DirectoryLinked, x.UserID, m.emp.ID, "%s %s linked to %s user %s", m.emp.ExternalID, want.Name, p, x.UserID)
			default:
				pl.updated++
			}
			for _, k := range slices.Sorted(maps.Keys(cols)) {
				switch k {
				case "department":
					change(store.DirectoryMoved, x.UserID, m.emp.ID, "%s moved from %q to %q", m.emp.ExternalID, m.emp.Department, want.Department)
				case "manager_id":
					change(store.DirectoryManager, x.UserID, m.emp.ID, "%s's manager %q → %q", m.emp.ExternalID, m.emp.ManagerID, want.ManagerID)
				case "active":
					kind := store.DirectoryDeactivated
					if want.Active {
						kind = store.DirectoryReactivated
					} else {
						pl.deactivated++
					}
					change(kind, x.UserID, m.emp.ID, "%s %s", m.emp.ExternalID, want.Name)
				}
			}
			if hadID {
				var other []string
				for _, k := range slices.Sorted(maps.Keys(cols)) {
					if k != "department" && k != "manager_id" && k != "active" {
						other = append(other, k)
					}
				}
				if len(other) > 0 {
					change(store.DirectoryUpdated, x.UserID, m.emp.ID, "%s: %s", m.emp.ExternalID, strings.Join(other, ", "))
				}
			}
		}
		// The member row.
		row := store.DirectoryPerson{Platform: p, UserID: clip(x.UserID, 128), EmployeeNo: clip(x.EmployeeNo, 64), Name: clip(x.Name, 128),
			Title: clip(x.Title, 128), City: clip(x.City, 64), Mobile: clip(roster.NormalizeMobile(x.Mobile), 32), Email: clip(roster.NormalizeEmail(x.Email), 191),
			ManagerID: clip(x.ManagerID, 128), Active: x.Active, Hash: personHash(x), SyncedAt: now}
		if len(x.DeptIDs) > 0 {
			row.DeptID = clip(x.DeptIDs[0], 64)
			row.DeptIDs = clip(strings.Join(x.DeptIDs, ","), 1024)
		}
		w := personWrite{row: row}
		if m.emp != nil {
			w.row.EmployeeID = m.emp.ID
			if m.new {
				w.newEmp = m.emp.ExternalID
			}
		}
		old := st.persons[x.UserID]
		switch {
		case old == nil:
			pl.personCreate = append(pl.personCreate, w)
		case old.Hash != w.row.Hash || old.EmployeeID != w.row.EmployeeID || m.new:
			w.row.ID, w.row.CreatedAt = old.ID, old.CreatedAt
			pl.personUpdate = append(pl.personUpdate, w)
		}
	}

	if mode.incremental {
		return pl, nil
	}
	// Members who are gone: resigned, or out of the app's range.
	var gone []*store.DirectoryPerson
	active := 0
	for id, old := range st.persons {
		if old.Active {
			active++
			if !seen[id] {
				gone = append(gone, old)
			}
		}
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i].UserID < gone[j].UserID })
	switch {
	case len(gone) == 0:
	case !complete:
		change(store.DirectoryFailed, p, 0, "%d member(s) not seen, nobody deactivated: the read was incomplete", len(gone))
		pl.failures++
	case !allowMass && len(gone)*100 > active*s.opts.MaxDeactivatePercent:
		change(store.DirectoryFailed, p, 0, "%d of %d active member(s) are gone, over the %d%% guard: nobody deactivated (check the app's visible range, or run with --allow-mass-deactivation)",
			len(gone), active, s.opts.MaxDeactivatePercent)
		pl.failures++
	default:
		for _, old := range gone {
			o := *old
			o.Active, o.SyncedAt = false, now
			pl.personUpdate = append(pl.personUpdate, personWrite{row: o})
			e := st.emps[old.EmployeeID]
			if e == nil || !e.Active || st.elsewhere[e.ID] {
				continue
			}
			if cols, ok := pl.empUpdate[e.ID]; ok {
				cols["active"] = false
			} else {
				pl.empUpdate[e.ID] = map[string]any{"active": false}
			}
			pl.deactivated++
			change(store.DirectoryDeactivated, old.UserID, e.ID, "%s %s left the %s directory", e.ExternalID, e.Name, p)
		}
	}
	return pl, nil
}

// apply writes a plan in batches, each its own transaction: a crash midway
// leaves a consistent prefix that the next run completes.
func (s *Syncer) apply(ctx context.Context, p string, pl *plan) error {
	db := s.db
	batches := func(n int, fn func(tx *gorm.DB, lo, hi int) error) error {
		for lo := 0; lo < n; lo += writeBatch {
			hi := min(lo+writeBatch, n)
			if err := store.Tx(ctx, db, func(tx *gorm.DB) error { return fn(tx, lo, hi) }); err != nil {
				return err
			}
		}
		return nil
	}
	if err := batches(len(pl.deptCreate), func(tx *gorm.DB, lo, hi int) error {
		part := pl.deptCreate[lo:hi]
		return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "platform"}, {Name: "dept_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"parent_id", "name", "path", "active", "synced_at", "updated_at"})}).Create(&part).Error
	}); err != nil {
		return fmt.Errorf("write departments: %w", err)
	}
	if err := batches(len(pl.deptUpdate), func(tx *gorm.DB, lo, hi int) error {
		for _, d := range pl.deptUpdate[lo:hi] {
			if err := tx.Model(&store.DirectoryDepartment{ID: d.ID}).Updates(map[string]any{"parent_id": d.ParentID, "name": d.Name, "path": d.Path, "active": d.Active, "synced_at": d.SyncedAt}).Error; err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("update departments: %w", err)
	}
	// New employees: a roster import may create the same external id
	// meanwhile; theirs stays and is linked on the next run.
	newIDs := map[string]uint64{}
	if err := batches(len(pl.empCreate), func(tx *gorm.DB, lo, hi int) error {
		part := slices.Clone(pl.empCreate[lo:hi])
		// GORM leaves a false bool out of an INSERT when the column has
		// a default (active defaults to true), and reads the default back.
		inactive := map[string]bool{}
		for _, e := range part {
			if !e.Active {
				inactive[e.ExternalID] = true
			}
		}
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "external_id"}}, DoNothing: true}).Create(&part).Error; err != nil {
			return err
		}
		ext := make([]string, len(part))
		for i := range part {
			ext[i] = part[i].ExternalID
		}
		var got []struct {
			ID         uint64
			ExternalID string
		}
		if err := tx.Model(&store.Employee{}).Select("id, external_id").Where("external_id IN ? AND "+idColumn(p)+" <> ''", ext).Scan(&got).Error; err != nil {
			return err
		}
		for _, g := range got {
			newIDs[g.ExternalID] = g.ID
		}
		var off []uint64
		for _, e := range part {
			if inactive[e.ExternalID] && newIDs[e.ExternalID] != 0 {
				off = append(off, newIDs[e.ExternalID])
			}
		}
		if len(off) > 0 {
			return tx.Model(&store.Employee{}).Where("id IN ?", off).Update("active", false).Error
		}
		return nil
	}); err != nil {
		return fmt.Errorf("create employees: %w", err)
	}
	ids := make([]uint64, 0, len(pl.empUpdate))
	for id := range pl.empUpdate {
		ids = append(ids, id)
	}
	slices.Sort(ids) // a fixed lock order: two runs cannot deadlock each other
	if err := batches(len(ids), func(tx *gorm.DB, lo, hi int) error {
		for _, id := range ids[lo:hi] {
			if err := tx.Model(&store.Employee{ID: id}).Updates(pl.empUpdate[id]).Error; err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("update employees: %w", err)
	}
	resolve := func(w *personWrite) {
		if w.newEmp != "" {
			w.row.EmployeeID = newIDs[w.newEmp] // 0 when someone else's row won the id
		}
	}
	if err := batches(len(pl.personCreate), func(tx *gorm.DB, lo, hi int) error {
		part := make([]store.DirectoryPerson, 0, hi-lo)
		var off []string
		for i := lo; i < hi; i++ {
			resolve(&pl.personCreate[i])
			part = append(part, pl.personCreate[i].row)
			if !pl.personCreate[i].row.Active {
				off = append(off, pl.personCreate[i].row.UserID)
			}
		}
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "platform"}, {Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"employee_id", "employee_no", "name", "title", "city", "mobile", "email", "dept_id", "dept_ids", "manager_id", "active", "hash", "synced_at", "updated_at"})}).
			Create(&part).Error; err != nil {
			return err
		}
		if len(off) > 0 {
			return tx.Model(&store.DirectoryPerson{}).Where("platform = ? AND user_id IN ?", p, off).Update("active", false).Error
		}
		return nil
	}); err != nil {
		return fmt.Errorf("write directory members: %w", err)
	}
	if err := batches(len(pl.personUpdate), func(tx *gorm.DB, lo, hi int) error {
		for i := lo; i < hi; i++ {
			w := &pl.personUpdate[i]
			resolve(w)
			r := w.row
			if err := tx.Model(&store.DirectoryPerson{ID: r.ID}).Updates(map[string]any{"employee_id": r.EmployeeID, "employee_no": r.EmployeeNo, "name": r.Name,
				"title": r.Title, "city": r.City, "mobile": r.Mobile, "email": r.Email, "dept_id": r.DeptID, "dept_ids": r.DeptIDs, "manager_id": r.ManagerID,
				"active": r.Active, "hash": r.Hash, "synced_at": r.SyncedAt}).Error; err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("update directory members: %w", err)
	}
	err := store.Tx(ctx, db, func(tx *gorm.DB) error {
		for _, c := range pl.conflictPut {
			if c.ID != 0 {
				if err := tx.Model(&store.DirectoryConflict{ID: c.ID}).Updates(map[string]any{"name": c.Name, "rule": c.Rule, "candidates": c.Candidates, "status": c.Status}).Error; err != nil {
					return err
				}
				continue
			}
			if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "platform"}, {Name: "user_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"name", "rule", "candidates", "status", "updated_at"})}).Create(&c).Error; err != nil {
				return err
			}
		}
		if len(pl.conflictDone) > 0 {
			now := s.opts.Now().UTC()
			return tx.Model(&store.DirectoryConflict{}).Where("id IN ? AND status = ?", pl.conflictDone, store.ConflictOpen).
				Updates(map[string]any{"status": store.ConflictResolved, "resolved_by": "sync: matches one employee now", "resolved_at": now}).Error
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write conflicts: %w", err)
	}
	return nil
}
