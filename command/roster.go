package command

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/store"
)

// RosterActor is who a is to roster.Import: an admin may change every
// employee, a coordinator only the ones on their own sessions alone.
// Department heads cannot import.
func (a Actor) RosterActor() roster.Actor {
	switch a.Role {
	case store.RoleAdmin:
		return roster.AsAdmin()
	case store.RoleCoordinator:
		return roster.AsCoordinator(a.Name)
	}
	return roster.Actor{}
}

// ImportRoster adds rows to session id's roster (roster.Import: all or
// nothing; its *roster.ValidationError, ErrNoSession and ErrNotManaged pass
// through) and audits it; detail (the file's name) joins the audit row.
func (s *Service) ImportRoster(ctx context.Context, a Actor, sessionID uint64, rows []roster.Row, detail map[string]any) (roster.Result, error) {
	if len(s.RosterLookups) > 0 {
		// The platforms' lookup APIs first (roster.Import resolves from the
		// directory only); rows they resolve come back complete.
		var err error
		if rows, err = roster.Resolve(ctx, s.DB, rows, s.RosterLookups); err != nil {
			return roster.Result{}, err
		}
	}
	res, err := roster.ImportThen(ctx, s.DB, a.RosterActor(), sessionID, rows, func(tx *gorm.DB) error {
		if err := s.calendarChanged(ctx, tx, sessionID); err != nil {
			return err
		}
		// A best-time touchpoint learns from its roster's past pushes:
		// choose again with the new roster, in the import's transaction.
		return s.Planner.Rechoose(ctx, tx, sessionID)
	})
	if err != nil {
		return res, err
	}
	d := map[string]any{"employees": res.Employees, "enrolled": res.Enrolled}
	for k, v := range detail {
		d[k] = v
	}
	return res, s.auditDetached(ctx, a, "roster.import", fmt.Sprintf("session:%d", sessionID), d)
}
