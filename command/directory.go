package command

import (
	"context"
	"fmt"

	"github.com/learnloop/learnloop/store"
)

// DirectoryChangesShown caps the changes DirectoryOverview lists.
const DirectoryChangesShown = 500

// DirectoryOverview is how the company directory sync stands: the recent
// runs of every platform, what the latest full run of each and the change
// events since changed, the open conflicts for a person to resolve, and
// whose manager follow-ups go past a missing manager.
type DirectoryOverview struct {
	// Runs are the 20 latest runs, newest first.
	Runs []store.DirectorySync
	// Changes are the changes of each platform's latest finished full run
	// and of the event runs since, in the order they were made (at most
	// DirectoryChangesShown; MoreChanges says when there were more).
	Changes     []store.DirectoryChange
	MoreChanges bool
	// Conflicts are the open conflicts by platform and user (at most 1000).
	Conflicts []store.DirectoryConflict
	// Escalated are the active people whose direct manager is inactive or
	// unknown, by 工号 (at most 1000).
	Escalated []Escalation
}

// Escalation is an active person whose direct manager is inactive or
// unknown: their follow-ups go to the next active manager up.
type Escalation struct {
	ExternalID, Name, Department, ManagerID string
	// ManagerActive is nil when the manager is unknown (false: inactive).
	ManagerActive *bool
	// GoesTo is who gets the follow-ups instead; zero when nobody does.
	GoesTo store.Employee
}

// DirectoryOverview reads how the directory sync stands. Only admins read
// it.
func (s *Service) DirectoryOverview(ctx context.Context, a Actor) (DirectoryOverview, error) {
	var o DirectoryOverview
	if !a.Admin() {
		return o, fmt.Errorf("read the directory sync: %w", ErrForbidden)
	}
	db := s.DB.WithContext(ctx)
	if err := db.Order("id DESC").Limit(20).Find(&o.Runs).Error; err != nil {
		return o, fmt.Errorf("list directory runs: %w", err)
	}
	// The latest finished full run of each platform, and the change
	// events applied since (runs with trigger "event", listed like a
	// sync's changes).
	var latest []uint64
	seen := map[string]bool{}
	for _, r := range o.Runs {
		switch {
		case r.Trigger == store.DirectoryTriggerEvent && !seen[r.Platform]:
			latest = append(latest, r.ID)
		case !seen[r.Platform] && r.Status != store.DirectorySyncRunning:
			seen[r.Platform] = true
			latest = append(latest, r.ID)
		}
	}
	if len(latest) > 0 {
		if err := db.Where("sync_id IN ?", latest).Order("id").Limit(DirectoryChangesShown + 1).Find(&o.Changes).Error; err != nil {
			return o, fmt.Errorf("list directory changes: %w", err)
		}
	}
	if len(o.Changes) > DirectoryChangesShown {
		o.Changes, o.MoreChanges = o.Changes[:DirectoryChangesShown], true
	}
	if err := db.Where("status = ?", store.ConflictOpen).Order("platform, user_id").Limit(1000).Find(&o.Conflicts).Error; err != nil {
		return o, fmt.Errorf("list directory conflicts: %w", err)
	}
	var rows []struct {
		ExternalID, Name, Department, ManagerID string
		ManagerActive                           *bool
	}
	err := db.Table("employees AS e").Select("e.external_id, e.name, e.department, e.manager_id, m.active AS manager_active").
		Joins("LEFT JOIN employees AS m ON m.external_id = e.manager_id").
		Where("e.active = ? AND e.manager_id <> '' AND (m.id IS NULL OR m.active = ?)", true, false).
		Order("e.external_id").Limit(1000).Scan(&rows).Error
	if err != nil {
		return o, fmt.Errorf("list people past a missing manager: %w", err)
	}
	ext := make([]string, 0, len(rows))
	for _, r := range rows {
		ext = append(ext, r.ManagerID)
	}
	steps, err := store.EffectiveManagers(ctx, s.DB, ext)
	if err != nil {
		return o, err
	}
	for _, r := range rows {
		o.Escalated = append(o.Escalated, Escalation{ExternalID: r.ExternalID, Name: r.Name, Department: r.Department,
			ManagerID: r.ManagerID, ManagerActive: r.ManagerActive, GoesTo: steps[r.ManagerID].Manager})
	}
	return o, nil
}
