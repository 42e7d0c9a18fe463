package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/directory/contact"
	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/scheduler"
	"github.com/learnloop/learnloop/store"
)

// JobChange is the scheduler job that applies one directory change event.
const JobChange = "directory.change"

// TriggerEvent is the DirectorySync.Trigger of a run that applied one
// change event.
const TriggerEvent = store.DirectoryTriggerEvent

// changeAttempts caps the attempts of one change job (a member read that
// keeps failing is left to the next full sync).
const changeAttempts = 8

// Run statuses of ApplyChange beyond the sync's: the event was older than
// what is stored (stale), or named nothing the directory knows (ignored).
const (
	ChangeStale   = "stale"
	ChangeIgnored = "ignored"
)

// MemberReader is a Source that can read one member (for events that name
// a member without describing them). A member the platform no longer has
// is ErrNotFound.
type MemberReader interface {
	Member(ctx context.Context, userID string) (Person, error)
}

// DepartmentReader is a Source that can read one department; one the
// platform no longer has is ErrNotFound.
type DepartmentReader interface {
	Department(ctx context.Context, id string) (Department, error)
}

// ChangeKey is the scheduler unique key of a change event: the platform's
// redeliveries, and the same event reaching several replicas, make one job.
func ChangeKey(c contact.Change) string {
	return clip("dirchange:"+c.Platform+":"+c.EventID, 191)
}

// Inbox takes change events from the adapters (it is their
// contact.Handler) and keeps each as a durable job, so that the callback is
// answered at once and the change is applied, and retried, by the
// scheduler.
type Inbox struct {
	Sched *scheduler.Scheduler
	Now   func() time.Time
}

// HandleContactChange implements contact.Handler: it enqueues the change
// once per event id.
func (in *Inbox) HandleContactChange(ctx context.Context, c contact.Change) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.At.IsZero() {
		c.At = in.Now().UTC()
	}
	_, _, err := in.Sched.Enqueue(ctx, nil, scheduler.JobSpec{Kind: JobChange, UniqueKey: ChangeKey(c), Payload: c, MaxAttempts: changeAttempts})
	if err != nil {
		return fmt.Errorf("keep %s directory event %s: %w", c.Platform, c.EventID, err)
	}
	return nil
}

// Changes is the JobChange handler: it applies each change with Syncer to
// the platform's Source.
type Changes struct {
	Syncer  *Syncer
	Sources map[string]Source
}

// Register adds the job handler to sched.
func (ch *Changes) Register(sched *scheduler.Scheduler) { sched.Register(JobChange, ch.run) }

func (ch *Changes) run(ctx context.Context, job store.Job) error {
	var c contact.Change
	if err := json.Unmarshal([]byte(job.Payload), &c); err != nil {
		return scheduler.Cancel(fmt.Errorf("directory change job %d: bad payload: %w", job.ID, err))
	}
	src := ch.Sources[c.Platform]
	if src == nil {
		return scheduler.Cancel(fmt.Errorf("directory change job %d: platform %q is not configured", job.ID, c.Platform))
	}
	_, err := ch.Syncer.ApplyChange(ctx, src, c)
	var perm *permanentError
	if errors.As(err, &perm) {
		return scheduler.Cancel(err)
	}
	return err
}

// permanentError is a change that can never apply (retrying cannot help).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// ApplyChange applies one change event to src's platform with the full
// sync's matching rules and records (a directory_syncs run with trigger
// "event" and its directory_changes, when it changed or could not do
// something). It is idempotent: the same event again finds nothing to
// change. An event older than the stored state of its member or
// department, or than the platform's last full sync, changes nothing
// (status stale). A deleted member is made inactive, never deleted.
func (s *Syncer) ApplyChange(ctx context.Context, src Source, c contact.Change) (Report, error) {
	p := src.Platform()
	rep := Report{Platform: p, Status: store.DirectorySyncOK}
	if err := c.Validate(); err != nil {
		return rep, &permanentError{err}
	}
	if c.Platform != p {
		return rep, &permanentError{fmt.Errorf("directory: a %s change given to the %s directory", c.Platform, p)}
	}
	mu, _ := s.running.LoadOrStore(p, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	start := s.opts.Now()
	at := c.At.UTC()
	if at.IsZero() {
		at = start.UTC()
	}
	log := s.opts.Logger.With("platform", p, "event", c.EventID, "type", c.Type, "kind", c.Kind)
	done := func(status, why string) (Report, error) {
		rep.Status = status
		log.Info("directory event not applied", "status", status, "why", why)
		return rep, nil
	}

	// A member who got a new user id keeps their rows.
	renamed := false
	if c.PreviousUserID != "" {
		var err error
		if renamed, err = s.renameMember(ctx, p, c.PreviousUserID, c.UserID); err != nil {
			return rep, err
		}
	}

	// What the event says, read from the platform when it only names it.
	var people []Person
	var dept *Department
	removed := map[string]bool{}
	switch c.Kind {
	case contact.UserUpsert:
		if c.Person != nil {
			people = []Person{*c.Person}
			break
		}
		mr, ok := src.(MemberReader)
		if !ok {
			return rep, &permanentError{fmt.Errorf("directory: the %s source cannot read one member", p)}
		}
		x, err := mr.Member(ctx, c.UserID)
		switch {
		case errors.Is(err, ErrNotFound):
			c.Kind = contact.UserDelete // gone since: the event's time stands
		case err != nil:
			return rep, fmt.Errorf("read %s member %s: %w", p, c.UserID, err)
		default:
			// Read now: the state is as of now, whatever the event's time.
			people, at = []Person{x}, s.opts.Now().UTC()
		}
	case contact.DeptUpsert:
		if c.Dept != nil {
			d := *c.Dept
			dept = &d
			break
		}
		dr, ok := src.(DepartmentReader)
		if !ok {
			return rep, &permanentError{fmt.Errorf("directory: the %s source cannot read one department", p)}
		}
		d, err := dr.Department(ctx, c.DeptID)
		switch {
		case errors.Is(err, ErrNotFound):
			c.Kind = contact.DeptDelete
		case err != nil:
			return rep, fmt.Errorf("read %s department %s: %w", p, c.DeptID, err)
		default:
			dept, at = &d, s.opts.Now().UTC()
		}
	}
	if c.Kind == contact.DeptDelete {
		removed[c.DeptID] = true
	}

	var lastFull store.DirectorySync
	if err := s.db.WithContext(ctx).Where("platform = ? AND `trigger` <> ? AND dry_run = ? AND status IN ?", p, TriggerEvent, false,
		[]string{store.DirectorySyncOK, store.DirectorySyncPartial}).Order("started_at DESC").Limit(1).Find(&lastFull).Error; err != nil {
		return rep, fmt.Errorf("read last %s sync: %w", p, err)
	}
	if lastFull.ID != 0 && at.Before(lastFull.StartedAt) {
		return done(ChangeStale, "older than the last full sync")
	}

	// A deleted member: what is stored, inactive.
	if c.Kind == contact.UserDelete {
		var old store.DirectoryPerson
		if err := s.db.WithContext(ctx).Where("platform = ? AND user_id = ?", p, c.UserID).Limit(1).Find(&old).Error; err != nil {
			return rep, fmt.Errorf("read %s member %s: %w", p, c.UserID, err)
		}
		if old.ID == 0 {
			return done(ChangeIgnored, "a member the directory never had")
		}
		x := storedPerson(old)
		x.Active = false
		people = []Person{x}
	}

	// A renamed department renames its members' department.
	if dept != nil {
		var members []store.DirectoryPerson
		if err := s.db.WithContext(ctx).Where("platform = ? AND dept_id = ? AND active = ?", p, dept.ID, true).Find(&members).Error; err != nil {
			return rep, fmt.Errorf("read %s department %s members: %w", p, dept.ID, err)
		}
		for _, m := range members {
			people = append(people, storedPerson(m))
		}
	}

	st, err := s.loadFor(ctx, p, people)
	if err != nil {
		return rep, err
	}
	for _, x := range people {
		if old := st.persons[x.UserID]; dept == nil && old != nil && old.SyncedAt.After(at) {
			return done(ChangeStale, "older than the stored member")
		}
	}
	depts := make([]Department, 0, len(st.depts)+1)
	for _, d := range st.depts {
		if !d.Active || removed[d.DeptID] || (dept != nil && d.DeptID == dept.ID) {
			continue
		}
		depts = append(depts, Department{ID: d.DeptID, ParentID: d.ParentID, Name: d.Name})
	}
	if dept != nil {
		old := st.depts[dept.ID]
		if old != nil && old.SyncedAt.After(at) {
			return done(ChangeStale, "older than the stored department")
		}
		d := *dept
		if c.Partial && old != nil {
			if d.Name == "" {
				d.Name = old.Name
			}
			if d.ParentID == "" {
				d.ParentID = old.ParentID
			}
		}
		depts = append(depts, d)
	}
	for id := range removed {
		if old := st.depts[id]; old != nil && old.SyncedAt.After(at) {
			return done(ChangeStale, "older than the stored department")
		}
	}

	pl, err := s.plan(p, st, depts, people, planMode{incremental: true, removed: removed, at: at})
	if err != nil {
		return rep, err
	}
	rep.Departments, rep.People = len(removed), len(people)
	if dept != nil {
		rep.People = 0 // its members are re-read from what is stored
	}
	if dept != nil {
		rep.Departments++
	}
	rep.Created, rep.Linked, rep.Updated, rep.Deactivated, rep.Conflicts, rep.Failures = pl.created, pl.linked, pl.updated, pl.deactivated, pl.conflicts, pl.failures
	if renamed {
		e := st.byPID[c.UserID]
		var id uint64
		if e != nil {
			id = e.ID
		}
		pl.changes = append([]store.DirectoryChange{{Platform: p, Kind: store.DirectoryUpdated, Subject: clip(c.UserID, 128), EmployeeID: id,
			Detail: clip(fmt.Sprintf("user id %s → %s", c.PreviousUserID, c.UserID), 1000)}}, pl.changes...)
	}
	if !renamed && len(pl.deptCreate)+len(pl.deptUpdate)+len(pl.empCreate)+len(pl.empUpdate)+len(pl.personCreate)+len(pl.personUpdate)+len(pl.conflictPut)+len(pl.conflictDone) == 0 {
		rep.Status = store.DirectorySyncOK
		log.Debug("directory event changes nothing")
		return rep, nil
	}
	if err := s.apply(ctx, p, pl); err != nil {
		return rep, err
	}
	now := s.opts.Now().UTC()
	for i := range pl.changes {
		pl.changes[i].CreatedAt = now
		pl.changes[i].Detail = clip(pl.changes[i].Detail+" ("+c.Type+")", 1000)
	}
	rep.Changes = pl.changes
	// The change happened: record it even when ctx ends now.
	dctx, cancel := store.Detached(ctx, 10*time.Second)
	defer cancel()
	run := store.DirectorySync{Platform: p, StartedAt: start.UTC(), FinishedAt: &now, Status: store.DirectorySyncOK, Trigger: TriggerEvent,
		Departments: rep.Departments, People: rep.People, Created: rep.Created, Linked: rep.Linked, Updated: rep.Updated,
		Deactivated: rep.Deactivated, Conflicts: rep.Conflicts, Failures: rep.Failures}
	err = store.Tx(dctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Create(&run).Error; err != nil {
			return err
		}
		for i := range rep.Changes {
			rep.Changes[i].ID, rep.Changes[i].SyncID = 0, run.ID
		}
		if len(rep.Changes) == 0 {
			return nil
		}
		return tx.CreateInBatches(rep.Changes, 500).Error
	})
	if err != nil {
		// Applied, not recorded: retrying would find nothing to change.
		log.Error("directory event applied but not recorded", "err", err)
		return rep, nil
	}
	rep.SyncID = run.ID
	rep.Elapsed = s.opts.Now().Sub(start)
	log.Info("directory event applied", "created", rep.Created, "linked", rep.Linked, "updated", rep.Updated,
		"deactivated", rep.Deactivated, "conflicts", rep.Conflicts, "changes", len(rep.Changes))
	return rep, nil
}

// storedPerson is a stored member as a Person.
func storedPerson(r store.DirectoryPerson) Person {
	x := Person{UserID: r.UserID, EmployeeNo: r.EmployeeNo, Name: r.Name, Title: r.Title, City: r.City, Mobile: r.Mobile,
		Email: r.Email, ManagerID: r.ManagerID, Active: r.Active}
	if r.DeptIDs != "" {
		x.DeptIDs = strings.Split(r.DeptIDs, ",")
	} else if r.DeptID != "" {
		x.DeptIDs = []string{r.DeptID}
	}
	return x
}

var digits = regexp.MustCompile(`[0-9]+`)

// loadFor reads what plan needs for people only: their member rows and
// their managers', their conflicts, every employee any matching rule could
// pick for them (by platform id, 工号, the external ids a new employee
// could take, mobile, e-mail) and the platform's department tree.
func (s *Syncer) loadFor(ctx context.Context, p string, people []Person) (*state, error) {
	db := s.db.WithContext(ctx)
	st := newState()
	var users, ids []string
	for _, x := range people {
		users = append(users, x.UserID)
		ids = append(ids, x.UserID)
		if x.ManagerID != "" {
			ids = append(ids, x.ManagerID)
		}
	}
	var persons []store.DirectoryPerson
	if len(ids) > 0 {
		if err := db.Where("platform = ? AND user_id IN ?", p, ids).Find(&persons).Error; err != nil {
			return nil, fmt.Errorf("load directory members: %w", err)
		}
	}
	empIDs := []uint64{0}
	for i := range persons {
		st.persons[persons[i].UserID] = &persons[i]
		empIDs = append(empIDs, persons[i].EmployeeID)
	}
	if len(users) > 0 {
		var conflicts []store.DirectoryConflict
		if err := db.Where("platform = ? AND user_id IN ?", p, users).Find(&conflicts).Error; err != nil {
			return nil, fmt.Errorf("load directory conflicts: %w", err)
		}
		for i := range conflicts {
			st.conflicts[conflicts[i].UserID] = &conflicts[i]
			empIDs = append(empIDs, conflicts[i].ResolvedEmployeeID)
		}
	}
	if len(ids) > 0 {
		q := db.Where(idColumn(p)+" IN ?", ids).Or("id IN ?", empIDs)
		for _, x := range people {
			if no := strings.TrimSpace(x.EmployeeNo); no != "" {
				q = q.Or("external_id = ?", no)
			}
			q = q.Or("external_id LIKE ?", clip(p+"-"+extIDUnsafe.ReplaceAllString(x.UserID, "_"), 60)+"%")
			if m := strings.Join(digits.FindAllString(roster.NormalizeMobile(x.Mobile), -1), ""); len(m) >= 4 {
				// A superset: stored mobiles may carry spaces or +86;
				// match compares them normalized.
				q = q.Or("mobile LIKE ?", "%"+m[len(m)-4:]+"%")
			}
			if e := roster.NormalizeEmail(x.Email); e != "" {
				q = q.Or("LOWER(TRIM(email)) = ?", e)
			}
		}
		var emps []store.Employee
		if err := q.Find(&emps).Error; err != nil {
			return nil, fmt.Errorf("load employees: %w", err)
		}
		var loaded []uint64
		for i := range emps {
			st.add(&emps[i], p)
			loaded = append(loaded, emps[i].ID)
		}
		if len(loaded) > 0 {
			var other []uint64
			if err := db.Model(&store.DirectoryPerson{}).Where("platform <> ? AND active = ? AND employee_id IN ?", p, true, loaded).
				Distinct().Pluck("employee_id", &other).Error; err != nil {
				return nil, fmt.Errorf("load other directories: %w", err)
			}
			for _, id := range other {
				st.elsewhere[id] = true
			}
		}
	}
	var depts []store.DirectoryDepartment
	if err := db.Where("platform = ?", p).Find(&depts).Error; err != nil {
		return nil, fmt.Errorf("load directory departments: %w", err)
	}
	for i := range depts {
		st.depts[depts[i].DeptID] = &depts[i]
	}
	return st, nil
}

// renameMember moves platform p's member from user id old to new: their
// member row, their employee's platform id and an open conflict. It does
// nothing (false) when old is unknown or new is already taken.
func (s *Syncer) renameMember(ctx context.Context, p, old, new string) (bool, error) {
	renamed := false
	err := store.Tx(ctx, s.db, func(tx *gorm.DB) error {
		renamed = false
		var n int64
		if err := tx.Model(&store.DirectoryPerson{}).Where("platform = ? AND user_id = ?", p, new).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		res := tx.Model(&store.DirectoryPerson{}).Where("platform = ? AND user_id = ?", p, old).Update("user_id", new)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil
		}
		renamed = true
		if err := tx.Model(&store.Employee{}).Where(idColumn(p)+" = ?", old).Update(idColumn(p), new).Error; err != nil {
			return err
		}
		return tx.Model(&store.DirectoryConflict{}).Where("platform = ? AND user_id = ?", p, old).Update("user_id", new).Error
	})
	if err != nil {
		return false, fmt.Errorf("rename %s member %s: %w", p, old, err)
	}
	return renamed, nil
}
