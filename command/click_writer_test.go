package command

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// clicksOf makes n clicks of touchpoint tp on platform.
func clicksOf(tp uint64, platform string, n int) []store.Click {
	at := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	rows := make([]store.Click, n)
	for i := range rows {
		rows[i] = store.Click{DeliveryID: uint64(1000 + i), TouchpointID: tp, EmployeeID: uint64(i + 1), Target: fmt.Sprintf("https://example.com/c?id=%d", i), UAClass: "mobile", Platform: platform, ClickedAt: at.Add(time.Duration(i) * time.Millisecond)}
	}
	return rows
}

// storedClicks is touchpoint tp's stored clicks, in insertion order.
func storedClicks(t *testing.T, db *storetest.DB, tp uint64) []store.Click {
	t.Helper()
	var got []store.Click
	require.NoError(t, db.Where("touchpoint_id = ?", tp).Order("id").Find(&got).Error)
	for i := range got {
		got[i].ID = 0
		got[i].ClickedAt = got[i].ClickedAt.UTC()
	}
	return got
}

// TestClickWriter: on both databases every batch a ClickWriter writes is
// stored whole with its values; on MySQL each size is prepared once on the
// writer's own connection and no more than clickWriterStmts stay prepared;
// a batch the database refuses stores none of its clicks and the next batch
// is written; a connection killed under the writer is replaced and the
// batch stored once; a small pool is shared, not lent.
func TestClickWriter(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		ctx := context.Background()
		mysql := store.IsMySQL(db.DB)
		refuse := "CREATE TRIGGER refuse_clicks BEFORE INSERT ON clicks WHEN NEW.platform = 'refused' BEGIN SELECT RAISE(ABORT, 'refused'); END"
		if mysql {
			refuse = "CREATE TRIGGER refuse_clicks BEFORE INSERT ON clicks FOR EACH ROW BEGIN IF NEW.platform = 'refused' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'; END IF; END"
		}
		require.NoError(t, db.Exec(refuse).Error)
		s := &Service{DB: db.DB}
		w := s.NewClickWriter()
		t.Cleanup(func() { _ = w.Close() })
		require.Equal(t, mysql, w.db != nil, "only MySQL lends the writer a connection")

		t.Run("batches of many sizes", func(t *testing.T) {
			var want []store.Click
			for n := 1; n <= clickWriterStmts+8; n++ {
				rows := clicksOf(1, "wecom", n)
				require.NoError(t, w.InsertClicks(ctx, rows))
				want = append(want, rows...)
				if mysql {
					require.LessOrEqual(t, len(w.stmts), clickWriterStmts)
					require.Contains(t, w.stmts, n, "the size just written stays prepared")
				}
			}
			// A size seen again reuses its statement.
			rows := clicksOf(1, "wecom", clickWriterStmts+8)
			if mysql {
				before := w.stmts[len(rows)].st
				require.NoError(t, w.InsertClicks(ctx, rows))
				require.Same(t, before, w.stmts[len(rows)].st)
			} else {
				require.NoError(t, w.InsertClicks(ctx, rows))
			}
			want = append(want, rows...)
			require.Equal(t, want, storedClicks(t, db, 1))
		})

		t.Run("a refused batch stores nothing, the next one is stored", func(t *testing.T) {
			rows := clicksOf(2, "wecom", 5)
			rows[3].Platform = "refused"
			require.Error(t, w.InsertClicks(ctx, rows))
			require.Empty(t, storedClicks(t, db, 2))
			ok := clicksOf(2, "wecom", 5)
			require.NoError(t, w.InsertClicks(ctx, ok))
			require.Equal(t, ok, storedClicks(t, db, 2))
		})

		if !mysql {
			return
		}
		t.Run("a refusal the server answered keeps the connection", func(t *testing.T) {
			require.NoError(t, w.InsertClicks(ctx, clicksOf(6, "wecom", 1)))
			var id uint64
			require.NoError(t, w.conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id))
			rows := clicksOf(6, "wecom", 1)
			rows[0].Platform = "refused"
			require.Error(t, w.InsertClicks(ctx, rows))
			require.NotNil(t, w.conn)
			var now uint64
			require.NoError(t, w.conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&now))
			require.Equal(t, id, now)
		})
		t.Run("a killed connection is replaced", func(t *testing.T) {
			require.NoError(t, w.InsertClicks(ctx, clicksOf(3, "wecom", 2)))
			var id uint64
			require.NoError(t, w.conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id))
			require.NoError(t, db.Exec(fmt.Sprintf("KILL %d", id)).Error)
			rows := clicksOf(4, "wecom", 7)
			require.NoError(t, w.InsertClicks(ctx, rows))
			require.Equal(t, rows, storedClicks(t, db, 4))
			var now uint64
			require.NoError(t, w.conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&now))
			require.NotEqual(t, id, now)
		})

		t.Run("a small pool is shared", func(t *testing.T) {
			small, err := store.Open(ctx, store.DriverMySQL, db.DSN, store.Options{MaxOpenConns: clickWriterMinPool - 1})
			require.NoError(t, err)
			t.Cleanup(func() { _ = store.Close(small) })
			sw := (&Service{DB: small}).NewClickWriter()
			require.Nil(t, sw.db)
			rows := clicksOf(5, "wecom", 3)
			require.NoError(t, sw.InsertClicks(ctx, rows))
			require.NoError(t, sw.Close())
			require.Equal(t, rows, storedClicks(t, db, 5))
		})
	})
}
