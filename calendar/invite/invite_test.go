package invite_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/calendar/invite"
)

func TestChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		had, want   []string
		add, remove []string
	}{
		{name: "nothing before", want: []string{"a", "b"}, add: []string{"a", "b"}},
		{name: "everyone gone", had: []string{"a"}, remove: []string{"a"}},
		{name: "one in, one out", had: []string{"a", "b"}, want: []string{"b", "c"}, add: []string{"c"}, remove: []string{"a"}},
		{name: "the same", had: []string{"a"}, want: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			add, remove := invite.Changes(tt.had, tt.want)
			require.Equal(t, tt.add, add)
			require.Equal(t, tt.remove, remove)
		})
	}
}
