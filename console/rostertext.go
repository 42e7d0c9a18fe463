package console

import (
	"strings"

	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/text"
)

// rosterErrors localizes roster row errors for display: each one's text in
// lang, and in zh-CN the column as coordinators know it ("工号（external_id）").
func rosterErrors(lang text.Locale, rows []roster.RowError) []roster.RowError {
	out := make([]roster.RowError, len(rows))
	for i, r := range rows {
		if k := "roster:column." + strings.ToLower(r.Column); lang != text.EN && text.Has(k) {
			r.Column = text.T(lang, k) + "（" + r.Column + "）"
		}
		r.Message = r.In(lang)
		out[i] = r
	}
	return out
}
