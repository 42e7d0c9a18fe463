package roster_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestRosterTagsColumn: the optional tags (标签) column is stored
// normalized; a file without it keeps the stored tags; a bad tag is a row
// error naming the column.
func TestRosterTagsColumn(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		rows, err := roster.ParseCSV(strings.NewReader("工号,姓名,标签\nT1,张三,\"骨干，新员工,骨干\"\n"))
		require.NoError(t, err)
		_, err = roster.Import(ctx, db.DB, roster.AsAdmin(), 0, rows)
		require.NoError(t, err)
		var e store.Employee
		require.NoError(t, db.Where("external_id = ?", "T1").Take(&e).Error)
		require.Equal(t, "新员工,骨干", e.Tags)

		rows, err = roster.ParseCSV(strings.NewReader("external_id,name,city\nT1,张三,上海\n"))
		require.NoError(t, err)
		_, err = roster.Import(ctx, db.DB, roster.AsAdmin(), 0, rows)
		require.NoError(t, err)
		require.NoError(t, db.Where("external_id = ?", "T1").Take(&e).Error)
		require.Equal(t, "新员工,骨干", e.Tags, "a file without the column keeps the tags")

		_, err = roster.ParseCSV(strings.NewReader("external_id,name,tags\nT2,李四,100%\n"))
		var ve *roster.ValidationError
		require.True(t, errors.As(err, &ve), "%v", err)
		require.Equal(t, "tags", ve.Rows[0].Column)
		require.Equal(t, 2, ve.Rows[0].Line, "the header is line 1")
	})
}
