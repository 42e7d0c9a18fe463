package console

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/text"
)

// TestRosterMessagesAreTranslated: the refusals the roster package writes
// reach a coordinator in Chinese, with the column as they know it, and
// unchanged in English.
func TestRosterMessagesAreTranslated(t *testing.T) {
	t.Parallel()
	for _, csv := range []string{
		"external_id,name\n,Li\n",
		"external_id,name\nE 1,Li\n",
		"external_id,name," + strings.Repeat("x", 3) + "\nE1,Li,1\n",
		"external_id,name,manager_id\nE1,Li,E1\n",
		"external_id,name,email\nE1,Li,nope\n",
		"external_id,name,mobile\nE1,Li,1\n",
		"external_id,name,platform\nE1,Li,slack\n",
		"external_id,name,locale\nE1,Li,fr\n",
		"external_id,name\nE1,Li\nE1,Wang\n",
		"external_id,name,name\nE1,Li,Li\n",
		"name\nLi\n",
		"external_id,name\n",
		"",
	} {
		t.Run(csv, func(t *testing.T) {
			t.Parallel()
			_, err := roster.ParseCSV(strings.NewReader(csv))
			var ve *roster.ValidationError
			require.True(t, errors.As(err, &ve), "%v", err)
			require.NotEmpty(t, ve.Rows)
			zh := rosterErrors(text.ZH, ve.Rows)
			en := rosterErrors(text.EN, ve.Rows)
			for i, r := range ve.Rows {
				han := false
				for _, c := range zh[i].Message {
					han = han || unicode.Is(unicode.Han, c)
				}
				require.True(t, han, "untranslated: %q", zh[i].Message)
				require.Equal(t, r.Message, en[i].Message)
				require.Equal(t, r.Column, en[i].Column)
				if r.Column == "name" || r.Column == "external_id" {
					require.Contains(t, zh[i].Column, "（"+r.Column+"）")
				}
			}
		})
	}
}
