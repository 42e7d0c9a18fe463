package main

import (
	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/store"
)

// cliActor is who the CLI and the demo are in the audit log: an admin.
var cliActor = command.Actor{Name: "cli", Role: store.RoleAdmin}

// commands is the one door the API and the console use, for the CLI and
// the demo (built once by app.New).
func commands(a *app.App) *command.Service { return a.Commands() }
