package console

import (
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/roster"
)

// TestRosterMessagesAreTranslated: every message the roster package writes
// reaches a coordinator in Chinese, not in the package's English.
func TestRosterMessagesAreTranslated(t *testing.T) {
	t.Parallel()
	for _, msg := range []string{
		"is required", `"E 1" may only use letters, digits and _.@- (at most 64)`, "is longer than 64 characters",
		`"x" is not a valid employee id`, "an employee cannot be their own manager", `"a" is not an e-mail address`,
		`"1" is not a phone number`, `"slack" is not one of simulator, wecom, feishu, dingtalk`, `"fr" is not zh-CN or en`,
		`"E1" already on line 2`, "unknown column (known: a, b)", "column appears twice", "required column is missing",
		"too many rows (more than 20000)", "file is larger than 32 MiB", "line is longer than 64 KiB",
		"a cell is longer than 4096 bytes", "workbook unpacks to more than 128 MiB",
		`employee "E1" is also on sessions you do not manage; only an admin may change their name`,
		`"u1" is already another employee's; only an admin may reassign it`, "no data rows below the header",
		`is the same person ("E1") as line 3`, `"研发" has no active employees in the company directory`,
		`"E1" is the 工号 of several employees in the directory`, `"138" is the mobile of several employees: give the 工号`,
		`"a@b" is the e-mail of several employees: give the 工号`, "is required: the company directory does not know this person yet",
		`"138" is in neither the company directory nor any platform's directory`,
	} {
		t.Run(msg, func(t *testing.T) {
			t.Parallel()
			got := rosterErrors("zh-CN", []roster.RowError{{Line: 2, Column: "name", Message: msg}})[0].Message
			han := false
			for _, r := range got {
				han = han || unicode.Is(unicode.Han, r)
			}
			require.True(t, han && got != msg, "untranslated: %q", got)
		})
	}
}
