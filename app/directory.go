package app

import (
	"slices"

	"github.com/learnloop/learnloop/directory"
)

// DirectorySources are the enabled platforms' company directories and the
// order (directory.platforms, else directory.Platforms) in which they are
// read and supply a person's profile.
func (a *App) DirectorySources() (map[string]directory.Source, []string) {
	all := directory.Sources(a.messengers, a.cfg.Directory.Concurrency)
	order := a.cfg.Directory.Platforms
	if len(order) == 0 {
		order = directory.Platforms
	}
	var names []string
	for _, p := range order {
		if all[p] != nil {
			names = append(names, p)
		}
	}
	return all, names
}

// DirectorySyncer is the one directory syncer of the CLI and the scheduled
// sync, with order first in its platform priority.
func (a *App) DirectorySyncer(order []string) *directory.Syncer {
	prio := slices.Clone(order)
	for _, p := range directory.Platforms {
		if !slices.Contains(prio, p) {
			prio = append(prio, p)
		}
	}
	return directory.NewSyncer(a.db, directory.Options{Now: a.now, Logger: a.log.With("component", "directory"), Priority: prio, MaxDeactivatePercent: a.cfg.Directory.MaxDeactivatePercent})
}

// directorySchedule is the scheduled sync (directory.sync_cron) of the
// enabled platforms' directories, registered with the scheduler, beside the
// handler that applies the platforms' change events (directory.change).
func (a *App) directorySchedule() *directory.Schedule {
	srcs, order := a.DirectorySources()
	enabled := map[string]directory.Source{}
	for _, p := range order {
		enabled[p] = srcs[p]
	}
	syncer := a.DirectorySyncer(order)
	ds := &directory.Schedule{Syncer: syncer, Sched: a.sched, Sources: enabled,
		Cron: a.cfg.Directory.SyncCron, Loc: a.cfg.Location(), Now: a.now}
	ds.Register()
	// Change events apply to every enabled platform's directory, with the
	// same syncer (its platform lock and priority).
	(&directory.Changes{Syncer: syncer, Sources: srcs}).Register(a.sched)
	return ds
}
