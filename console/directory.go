package console

import (
	"fmt"
	"net/http"
	"time"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// directoryChangesShown caps the changes listed for one run.
const directoryChangesShown = 500

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
	if !v.admin() {
		c.forbidden(w, r, v)
		return
	}
	p := c.newPage(r, v, "directory.title")
	p.Nav = "directory"
	lang := p.Lang
	db := c.d.DB.WithContext(r.Context())

	var runs []store.DirectorySync
	if err := db.Order("id DESC").Limit(20).Find(&runs).Error; err != nil {
		c.internal(w, r, v, err)
		return
	}
	rt := &Table{Key: "runs", Title: text.T(lang, "directory.runs"), Empty: text.T(lang, "directory.no_runs"),
		Columns: []string{text.T(lang, "directory.col.platform"), text.T(lang, "col.at"), text.T(lang, "directory.col.status"), text.T(lang, "directory.col.trigger"),
			text.T(lang, "directory.col.people"), text.T(lang, "directory.col.created"), text.T(lang, "directory.col.linked"), text.T(lang, "directory.col.updated"),
			text.T(lang, "directory.col.deactivated"), text.T(lang, "directory.col.conflicts"), text.T(lang, "directory.col.failures"), text.T(lang, "col.detail")}}
	for _, s := range runs {
		rt.Rows = append(rt.Rows, []Cell{C(s.Platform), C(s.StartedAt), {V: s.Status, Label: text.Enum(lang, "directory.status", s.Status)}, C(s.Trigger),
			C(s.People), C(s.Created), C(s.Linked), C(s.Updated), C(s.Deactivated), C(s.Conflicts), C(s.Failures), C(s.Error)})
	}

	// The latest finished full run of each platform, and the change
	// events applied since (runs with trigger "event", listed like a
	// sync's changes).
	var latest []uint64
	seen := map[string]bool{}
	for _, s := range runs {
		switch {
		case s.Trigger == store.DirectoryTriggerEvent && !seen[s.Platform]:
			latest = append(latest, s.ID)
		case !seen[s.Platform] && s.Status != store.DirectorySyncRunning:
			seen[s.Platform] = true
			latest = append(latest, s.ID)
		}
	}
	var changes []store.DirectoryChange
	if len(latest) > 0 {
		if err := db.Where("sync_id IN ?", latest).Order("id").Limit(directoryChangesShown + 1).Find(&changes).Error; err != nil {
			c.internal(w, r, v, err)
			return
		}
	}
	title := text.T(lang, "directory.changes")
	if len(changes) > directoryChangesShown {
		changes = changes[:directoryChangesShown]
		title += fmt.Sprintf(" (%d+)", directoryChangesShown)
	}
	ct := &Table{Key: "changes", Title: title, Empty: text.T(lang, "directory.no_changes"),
		Columns: []string{text.T(lang, "directory.col.platform"), text.T(lang, "directory.col.kind"), text.T(lang, "directory.col.subject"), text.T(lang, "col.detail")}}
	for _, ch := range changes {
		ct.Rows = append(ct.Rows, []Cell{C(ch.Platform), {V: ch.Kind, Label: text.Enum(lang, "directory.kind", ch.Kind)}, C(ch.Subject), C(ch.Detail)})
	}

	var conflicts []store.DirectoryConflict
	if err := db.Where("status = ?", store.ConflictOpen).Order("platform, user_id").Limit(1000).Find(&conflicts).Error; err != nil {
		c.internal(w, r, v, err)
		return
	}
	kt := &Table{Key: "conflicts", Title: text.T(lang, "directory.conflicts"), Empty: text.T(lang, "directory.no_conflicts"),
		Columns: []string{text.T(lang, "directory.col.platform"), text.T(lang, "directory.col.subject"), text.T(lang, "col.name"), text.T(lang, "directory.col.rule"), text.T(lang, "directory.col.candidates")}}
	for _, k := range conflicts {
		kt.Rows = append(kt.Rows, []Cell{C(k.Platform), C(k.UserID), C(k.Name), C(k.Rule), C(k.Candidates)})
	}

	// Active employees whose direct manager is inactive or unknown: their
	// follow-ups go to the next manager up.
	var orphans []struct {
		ExternalID, Name, Department, ManagerID string
		ManagerActive                           *bool
	}
	err := db.Table("employees AS e").Select("e.external_id, e.name, e.department, e.manager_id, m.active AS manager_active").
		Joins("LEFT JOIN employees AS m ON m.external_id = e.manager_id").
		Where("e.active = ? AND e.manager_id <> '' AND (m.id IS NULL OR m.active = ?)", true, false).
		Order("e.external_id").Limit(1000).Scan(&orphans).Error
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	ext := make([]string, 0, len(orphans))
	for _, o := range orphans {
		ext = append(ext, o.ManagerID)
	}
	steps, err := store.EffectiveManagers(r.Context(), c.d.DB, ext)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	et := &Table{Key: "escalated", Title: text.T(lang, "directory.escalated"), Empty: text.T(lang, "directory.no_escalated"),
		Columns: []string{text.T(lang, "col.external_id"), text.T(lang, "col.name"), text.T(lang, "col.department"), text.T(lang, "directory.col.manager"), text.T(lang, "directory.col.goes_to")}}
	for _, o := range orphans {
		why := text.T(lang, "directory.manager_unknown")
		if o.ManagerActive != nil {
			why = text.T(lang, "directory.manager_inactive")
		}
		to := text.T(lang, "directory.nobody")
		if m := steps[o.ManagerID].Manager; m.ID != 0 {
			to = m.ExternalID + " " + m.Name
		}
		et.Rows = append(et.Rows, []Cell{C(o.ExternalID), C(o.Name), C(o.Department), C(o.ManagerID + " (" + why + ")"), C(to)})
	}
	if c.exportTable(w, r, v, c.d.Location, "directory", rt, ct, kt, et) {
		return
	}
	p.Data = directoryData{Runs: rt, Changes: ct, Conflicts: kt, Escalated: et, Loc: c.d.Location}
	c.render(w, r, http.StatusOK, "directory", p)
}
