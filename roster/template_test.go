package roster_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/roster"
)

// TestTemplateParsesAsItIs: the downloadable template, CSV and XLSX, in
// Chinese and English, is a file the upload accepts, with its example row.
func TestTemplateParsesAsItIs(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"zh-CN", "en"} {
		for _, format := range []string{"csv", "xlsx"} {
			t.Run(lang+"/"+format, func(t *testing.T) {
				t.Parallel()
				var buf bytes.Buffer
				var rows []roster.Row
				var err error
				if format == "csv" {
					require.NoError(t, roster.WriteTemplateCSV(&buf, lang))
					rows, err = roster.ParseCSV(&buf)
				} else {
					require.NoError(t, roster.WriteTemplateXLSX(&buf, lang))
					rows, err = roster.ParseXLSX(&buf)
				}
				require.NoError(t, err)
				require.Len(t, rows, 1)
				r := rows[0]
				require.Equal(t, "E001", r.ExternalID)
				require.Equal(t, "张伟", r.Name)
				require.Equal(t, "13800000000", r.Mobile)
				require.Equal(t, "wecom", r.Platform)
				require.Equal(t, "zhangwei", r.WecomID)
			})
		}
	}
	require.Equal(t, "工号", roster.TemplateRows("zh-CN")[0][0])
	require.Equal(t, "external_id", roster.TemplateRows("en")[0][0])
}
