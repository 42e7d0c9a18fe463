package bot_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/store"
)

func TestCardTitleNamesTheCourseOnce(t *testing.T) {
	t.Parallel()
	cases := []struct{ course, session, want string }{
		{"高效沟通", "", "高效沟通"},
		{"高效沟通", "高效沟通", "高效沟通"},
		{"高效沟通", "高效沟通 · 第 1 期", "高效沟通 · 第 1 期"},
		{"高效沟通", "第 1 期", "高效沟通 · 第 1 期"},
		{"高效沟通", "  第 2 期 ", "高效沟通 · 第 2 期"},
		{"", "第 1 期", "第 1 期"},
	}
	for _, c := range cases {
		t.Run(c.course+"|"+c.session, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, bot.CardTitle(store.Course{Title: c.course}, store.Session{Title: c.session}))
		})
	}
}
