package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Directory sync states.
const (
	DirectorySyncRunning = "running"
	DirectorySyncOK      = "ok"
	// DirectorySyncPartial: some departments or people could not be read;
	// what was read is stored, nobody was deactivated.
	DirectorySyncPartial = "partial"
	DirectorySyncFailed  = "failed"
)

// DirectoryTriggerEvent is the DirectorySync.Trigger of a run that applied
// one platform change event (an incremental sync).
const DirectoryTriggerEvent = "event"

// Directory change kinds.
const (
	DirectoryCreated     = "created"     // a new employee from the directory
	DirectoryLinked      = "linked"      // an existing employee got this platform's id
	DirectoryUpdated     = "updated"     // profile fields changed
	DirectoryMoved       = "moved"       // department changed
	DirectoryDeactivated = "deactivated" // resigned or left the app's visible range
	DirectoryReactivated = "reactivated"
	DirectoryConflicted  = "conflict"   // several employees match: left for a person
	DirectoryFailed      = "failed"     // a department or person could not be read
	DirectoryManager     = "manager"    // direct manager changed
	DirectoryDeptChanged = "department" // a department was added, renamed, moved or removed
)

// Directory conflict states.
const (
	ConflictOpen     = "open"
	ConflictResolved = "resolved"
)

// DirectoryDepartment is one department of a platform's directory (通讯录),
// as last synced. Path is the names from the root down, joined by " / ".
type DirectoryDepartment struct {
	ID        uint64    `gorm:"primaryKey"`
	Platform  string    `gorm:"size:16;not null;uniqueIndex:ux_dir_dept,priority:1"`
	DeptID    string    `gorm:"size:64;not null;uniqueIndex:ux_dir_dept,priority:2"`
	ParentID  string    `gorm:"size:64;not null;index"`
	Name      string    `gorm:"size:128;not null"`
	Path      string    `gorm:"size:1024;not null"`
	Active    bool      `gorm:"not null;default:true"`
	SyncedAt  time.Time `gorm:"not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName is directory_departments.
func (DirectoryDepartment) TableName() string { return "directory_departments" }

// DirectoryPerson is one member of a platform's directory as last synced,
// and the employee it is linked to (0: not linked, e.g. in conflict).
type DirectoryPerson struct {
	ID         uint64 `gorm:"primaryKey"`
	Platform   string `gorm:"size:16;not null;uniqueIndex:ux_dir_person,priority:1"`
	UserID     string `gorm:"size:128;not null;uniqueIndex:ux_dir_person,priority:2"`
	EmployeeID uint64 `gorm:"not null;default:0;index"`
	EmployeeNo string `gorm:"size:64;index"`
	Name       string `gorm:"size:128;not null"`
	Title      string `gorm:"size:128"`
	City       string `gorm:"size:64"`
	Mobile     string `gorm:"size:32;index"`
	Email      string `gorm:"size:191;index"`
	// DeptID is the main department; DeptIDs every department, comma
	// separated.
	DeptID    string `gorm:"size:64;index"`
	DeptIDs   string `gorm:"size:1024"`
	ManagerID string `gorm:"size:128"` // the direct manager's platform user id
	Active    bool   `gorm:"not null;default:true"`
	// Hash fingerprints the fields above, so a re-sync that changes
	// nothing writes nothing.
	Hash      string    `gorm:"size:64;not null"`
	SyncedAt  time.Time `gorm:"not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName is directory_people.
func (DirectoryPerson) TableName() string { return "directory_people" }

// DirectorySync is one run of a directory sync.
type DirectorySync struct {
	ID          uint64    `gorm:"primaryKey"`
	Platform    string    `gorm:"size:16;not null;index:ix_dir_sync,priority:1"`
	StartedAt   time.Time `gorm:"not null;index:ix_dir_sync,priority:2"`
	FinishedAt  *time.Time
	Status      string `gorm:"size:16;not null"`
	Trigger     string `gorm:"size:32;not null"` // cli, schedule, console
	DryRun      bool   `gorm:"not null;default:false"`
	Departments int    `gorm:"not null;default:0"`
	People      int    `gorm:"not null;default:0"`
	Created     int    `gorm:"not null;default:0"`
	Linked      int    `gorm:"not null;default:0"`
	Updated     int    `gorm:"not null;default:0"`
	Deactivated int    `gorm:"not null;default:0"`
	Conflicts   int    `gorm:"not null;default:0"`
	Failures    int    `gorm:"not null;default:0"`
	Error       string `gorm:"size:1024"`
}

// TableName is directory_syncs.
func (DirectorySync) TableName() string { return "directory_syncs" }

// DirectoryChange is one thing a sync changed, or could not do.
type DirectoryChange struct {
	ID         uint64    `gorm:"primaryKey"`
	SyncID     uint64    `gorm:"not null;index"`
	Platform   string    `gorm:"size:16;not null"`
	Kind       string    `gorm:"size:16;not null"`
	Subject    string    `gorm:"size:128;not null"` // platform user or department id
	EmployeeID uint64    `gorm:"not null;default:0;index"`
	Detail     string    `gorm:"size:1024"`
	CreatedAt  time.Time `gorm:"not null"`
}

// TableName is directory_changes.
func (DirectoryChange) TableName() string { return "directory_changes" }

// DirectoryConflict is a directory member that matches more than one
// employee (or one already linked to someone else): it is not linked until
// a person resolves it.
type DirectoryConflict struct {
	ID       uint64 `gorm:"primaryKey"`
	Platform string `gorm:"size:16;not null;uniqueIndex:ux_dir_conflict,priority:1"`
	UserID   string `gorm:"size:128;not null;uniqueIndex:ux_dir_conflict,priority:2"`
	Name     string `gorm:"size:128;not null"`
	// Rule is the matching rule that found the candidates: employee_no,
	// mobile, email or platform_id.
	Rule string `gorm:"size:16;not null"`
	// Candidates are the matching employees' external ids, comma separated.
	Candidates string `gorm:"size:1024;not null"`
	Status     string `gorm:"size:16;not null;index"`
	// ResolvedEmployeeID is the employee a person chose (0: a new one).
	ResolvedEmployeeID uint64 `gorm:"not null;default:0"`
	ResolvedBy         string `gorm:"size:128"`
	ResolvedAt         *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// TableName is directory_conflicts.
func (DirectoryConflict) TableName() string { return "directory_conflicts" }

// directoryModels lists the directory tables (migration 8).
func directoryModels() []any {
	return []any{&DirectoryDepartment{}, &DirectoryPerson{}, &DirectorySync{}, &DirectoryChange{}, &DirectoryConflict{}}
}

// DirectoryModels lists the directory tables' models (for schema tests).
func DirectoryModels() []any { return directoryModels() }

// maxChainHops bounds a manager chain walk (and breaks cycles).
const maxChainHops = 16

// ManagerStep is the manager a follow-up or escalation goes to, and the
// managers passed over on the way because they resigned or are unknown.
type ManagerStep struct {
	// Manager is the active manager found; zero ID when there is none.
	Manager Employee
	// Skipped are the external ids passed over, nearest first.
	Skipped []string
}

// EffectiveManagers walks up employees.manager_id from each of the given
// manager external ids: a manager who is inactive or not an employee is
// passed over for their own manager, up to maxChainHops. The result is
// keyed by the starting id; a chain that ends without an active manager
// gives a zero Manager.
func EffectiveManagers(ctx context.Context, db *gorm.DB, start []string) (map[string]ManagerStep, error) {
	db = db.WithContext(ctx)
	known := map[string]*Employee{}
	missing := map[string]bool{}
	load := func(ids []string) error {
		var want []string
		for _, id := range ids {
			if _, ok := known[id]; !ok && !missing[id] && id != "" {
				want = append(want, id)
			}
		}
		for i := 0; i < len(want); i += 1000 {
			part := want[i:min(i+1000, len(want))]
			var got []Employee
			if err := db.Where("external_id IN ?", part).Find(&got).Error; err != nil {
				return fmt.Errorf("load managers: %w", err)
			}
			for k := range got {
				known[got[k].ExternalID] = &got[k]
			}
			for _, id := range part {
				if known[id] == nil {
					missing[id] = true
				}
			}
		}
		return nil
	}
	out := make(map[string]ManagerStep, len(start))
	cur := map[string]string{} // start → current position
	for _, s := range start {
		if s != "" {
			cur[s] = s
		}
	}
	for hop := 0; hop < maxChainHops && len(cur) > 0; hop++ {
		ids := make([]string, 0, len(cur))
		for _, c := range cur {
			ids = append(ids, c)
		}
		if err := load(ids); err != nil {
			return nil, err
		}
		for s, c := range cur {
			e := known[c]
			step := out[s]
			if e != nil && e.Active {
				step.Manager = *e
				out[s] = step
				delete(cur, s)
				continue
			}
			step.Skipped = append(step.Skipped, c)
			out[s] = step
			if e == nil || e.ManagerID == "" || e.ManagerID == s || contains(step.Skipped, e.ManagerID) {
				delete(cur, s)
				continue
			}
			cur[s] = e.ManagerID
		}
	}
	return out, nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// DepartmentSubtree returns the names of the directory departments at or
// below the departments named name (on any platform), for scoping a
// department head to their whole subtree. A name no directory knows gives
// just itself.
func DepartmentSubtree(ctx context.Context, db *gorm.DB, name string) ([]string, error) {
	db = db.WithContext(ctx)
	var all []DirectoryDepartment
	if err := db.Select("platform", "dept_id", "parent_id", "name").Where("active = ?", true).Find(&all).Error; err != nil {
		return nil, fmt.Errorf("load departments: %w", err)
	}
	children := map[[2]string][]DirectoryDepartment{}
	for _, d := range all {
		children[[2]string{d.Platform, d.ParentID}] = append(children[[2]string{d.Platform, d.ParentID}], d)
	}
	seen := map[string]bool{name: true}
	out := []string{name}
	var walk func(d DirectoryDepartment, depth int)
	walk = func(d DirectoryDepartment, depth int) {
		if depth > 64 {
			return
		}
		for _, c := range children[[2]string{d.Platform, d.DeptID}] {
			if !seen[c.Name] {
				seen[c.Name] = true
				out = append(out, c.Name)
			}
			walk(c, depth+1)
		}
	}
	for _, d := range all {
		if d.Name == name {
			walk(d, 0)
		}
	}
	return out, nil
}
