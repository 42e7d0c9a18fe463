package main

import (
	"errors"

	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/fielderr"
	"github.com/learnloop/learnloop/store"
)

// cliActor is who the CLI and the demo are in the audit log: an admin.
var cliActor = command.Actor{Name: "cli", Role: store.RoleAdmin}

// commands is the one door the API and the console use, for the CLI and
// the demo (built once by app.New).
func commands(a *app.App) *command.Service { return a.Commands() }

// invalidText lists the fields of a domain service's *fielderr.Invalid
// (campaigns, digests, webhooks), one per line, under "invalid what";
// any other error is returned as it is.
func invalidText(err error, what string) error {
	var inv *fielderr.Invalid
	if !errors.As(err, &inv) {
		return err
	}
	msg := "invalid " + what + "; nothing was stored:"
	for _, f := range inv.Fields {
		msg += "\n  " + f.Field + ": " + f.Message
	}
	return errors.New(msg)
}
