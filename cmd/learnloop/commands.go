package main

import (
	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/store"
)

// cliActor is who the CLI and the demo are in the audit log: an admin.
var cliActor = command.Actor{Name: "cli", Role: store.RoleAdmin}

// commands is the one door the API and the console use, for the CLI and
// the demo.
func commands(a *app.App) *command.Service {
	s := &command.Service{DB: a.DB, Planner: a.Planner, Now: a.Now, Defaults: command.Defaults{
		Location: a.Cfg.Location(), Locale: a.Cfg.Locale, OpensBefore: a.Cfg.Checkin.OpensBefore.D(),
		Grace: a.Cfg.Checkin.Grace.D(), MakeupAfter: a.Cfg.Checkin.MakeupAfter.D()}}
	if a.Surveys != nil {
		s.Surveys, s.Admin = a.Surveys, a.Surveys
	}
	if a.Router != nil {
		s.Checkins = a.Router.Checkins
	}
	return s
}
