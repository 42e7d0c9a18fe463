package fielderr_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/fielderr"
)

func TestInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fields  []fielderr.Error
		message string
		has     map[string]bool
	}{
		{
			name:    "one field",
			fields:  []fielderr.Error{{Field: "url", Code: "required", Message: "is required"}},
			message: "invalid input: url is required",
			has:     map[string]bool{"url": true, "events": false},
		},
		{
			name: "two fields in their order",
			fields: []fielderr.Error{
				{Field: "title", Code: "too_long", Args: []any{200}, Message: "is longer than 200 characters"},
				{Field: "ends_at", Code: "end_before_start", Message: "must be after starts_at"},
			},
			message: "invalid input: title is longer than 200 characters; ends_at must be after starts_at",
			has:     map[string]bool{"title": true, "ends_at": true, "starts_at": false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var err error = fmt.Errorf("create: %w", &fielderr.Invalid{Fields: tt.fields})
			require.ErrorIs(t, err, fielderr.ErrInvalid)
			var inv *fielderr.Invalid
			require.True(t, errors.As(err, &inv))
			require.Equal(t, tt.message, inv.Error())
			require.Equal(t, tt.fields, inv.Fields)
			for field, want := range tt.has {
				require.Equal(t, want, inv.Has(field), field)
			}
		})
	}
	require.NotErrorIs(t, errors.New("invalid input"), fielderr.ErrInvalid)
}
