package console

import (
	"fmt"
	"net/http"
	"time"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/text"
)

type directoryData struct {
	Runs      *Table
	Changes   *Table
	Conflicts *Table
	Escalated *Table
	Loc       *time.Location
}

// directoryPage shows the directory sync: each platform's recent runs, what
// the latest full run and the change events since changed and could not do, open conflicts for a person to
// resolve, and whose manager follow-ups go past a missing manager.
func (c *Console) directoryPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	p, ok := c.adminPage(w, r, v, "directory.title", "directory")
	if !ok {
		return
	}
	lang := p.Lang
	o, err := c.commands().DirectoryOverview(r.Context(), v.actor())
	if err != nil {
		c.commandErr(w, r, v, err)
		return
	}
	rt := &Table{Key: "runs", Title: text.T(lang, "directory.runs"), Empty: text.T(lang, "directory.no_runs"),
		Columns: []string{text.T(lang, "directory.col.platform"), text.T(lang, "col.at"), text.T(lang, "directory.col.status"), text.T(lang, "directory.col.trigger"),
			text.T(lang, "directory.col.people"), text.T(lang, "directory.col.created"), text.T(lang, "directory.col.linked"), text.T(lang, "directory.col.updated"),
			text.T(lang, "directory.col.deactivated"), text.T(lang, "directory.col.conflicts"), text.T(lang, "directory.col.failures"), text.T(lang, "col.detail")}}
	for _, s := range o.Runs {
		rt.Rows = append(rt.Rows, []Cell{C(s.Platform), C(s.StartedAt), {V: s.Status, Label: text.Enum(lang, "directory.status", s.Status)}, C(s.Trigger),
			C(s.People), C(s.Created), C(s.Linked), C(s.Updated), C(s.Deactivated), C(s.Conflicts), C(s.Failures), C(s.Error)})
	}

	title := text.T(lang, "directory.changes")
	if o.MoreChanges {
		title += fmt.Sprintf(" (%d+)", command.DirectoryChangesShown)
	}
	ct := &Table{Key: "changes", Title: title, Empty: text.T(lang, "directory.no_changes"),
		Columns: []string{text.T(lang, "directory.col.platform"), text.T(lang, "directory.col.kind"), text.T(lang, "directory.col.subject"), text.T(lang, "col.detail")}}
	for _, ch := range o.Changes {
		ct.Rows = append(ct.Rows, []Cell{C(ch.Platform), {V: ch.Kind, Label: text.Enum(lang, "directory.kind", ch.Kind)}, C(ch.Subject), C(ch.Detail)})
	}

	kt := &Table{Key: "conflicts", Title: text.T(lang, "directory.conflicts"), Empty: text.T(lang, "directory.no_conflicts"),
		Columns: []string{text.T(lang, "directory.col.platform"), text.T(lang, "directory.col.subject"), text.T(lang, "col.name"), text.T(lang, "directory.col.rule"), text.T(lang, "directory.col.candidates")}}
	for _, k := range o.Conflicts {
		kt.Rows = append(kt.Rows, []Cell{C(k.Platform), C(k.UserID), C(k.Name), C(k.Rule), C(k.Candidates)})
	}

	et := &Table{Key: "escalated", Title: text.T(lang, "directory.escalated"), Empty: text.T(lang, "directory.no_escalated"),
		Columns: []string{text.T(lang, "col.external_id"), text.T(lang, "col.name"), text.T(lang, "col.department"), text.T(lang, "directory.col.manager"), text.T(lang, "directory.col.goes_to")}}
	for _, e := range o.Escalated {
		why := text.T(lang, "directory.manager_unknown")
		if e.ManagerActive != nil {
			why = text.T(lang, "directory.manager_inactive")
		}
		to := text.T(lang, "directory.nobody")
		if m := e.GoesTo; m.ID != 0 {
			to = m.ExternalID + " " + m.Name
		}
		et.Rows = append(et.Rows, []Cell{C(e.ExternalID), C(e.Name), C(e.Department), C(e.ManagerID + " (" + why + ")"), C(to)})
	}
	if c.exportTable(w, r, v, c.d.Location, "directory", rt, ct, kt, et) {
		return
	}
	p.Data = directoryData{Runs: rt, Changes: ct, Conflicts: kt, Escalated: et, Loc: c.d.Location}
	c.render(w, r, http.StatusOK, "directory", p)
}
