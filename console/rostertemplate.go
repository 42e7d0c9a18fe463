package console

import (
	"net/http"

	"github.com/learnloop/learnloop/roster"
)

// rosterTemplate serves the roster template to fill in (?format=csv or
// xlsx), with the Chinese headers the upload accepts (English with the
// console in English) and one example row.
func (c *Console) rosterTemplate(w http.ResponseWriter, r *http.Request, v *viewer) {
	lang := langOf(r)
	w.Header().Set("Cache-Control", "no-store")
	switch r.URL.Query().Get("format") {
	case "xlsx":
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="roster-template.xlsx"`)
		if err := roster.WriteTemplateXLSX(w, string(lang)); err != nil {
			c.d.Logger.Error("roster template", "err", err)
		}
	default:
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="roster-template.csv"`)
		if err := roster.WriteTemplateCSV(w, string(lang)); err != nil {
			c.d.Logger.Error("roster template", "err", err)
		}
	}
}
