package presence

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/fielderr"
)

func TestRulesValidate(t *testing.T) {
	t.Parallel()
	geo := Rules{RotateSeconds: 30, Geofence: true, Latitude: 31.23, Longitude: 121.47, RadiusMeters: 200}
	tests := []struct {
		name   string
		edit   func(r *Rules)
		fields []string // the invalid fields, in order; none: valid
	}{
		{"the defaults", func(r *Rules) { *r = DefaultRules() }, nil},
		{"a geofence", func(*Rules) {}, nil},
		{"rotation too fast", func(r *Rules) { r.RotateSeconds = 1 }, []string{"rotate_seconds"}},
		{"no place and too wide", func(r *Rules) { r.Latitude, r.Longitude, r.RadiusMeters = 0, 0, 9000 }, []string{"latitude", "radius_m"}},
		{"a bad place ignored without a geofence", func(r *Rules) { r.Geofence, r.Longitude = false, 500 }, nil},
		{"longitude out of range", func(r *Rules) { r.Longitude = -181 }, []string{"longitude"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := geo
			tc.edit(&r)
			err := r.Validate()
			if tc.fields == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, fielderr.ErrInvalid)
			var ve *ValidationError
			require.True(t, errors.As(err, &ve))
			var got []string
			for _, f := range ve.Fields {
				require.Equal(t, "out_of_range", f.Code)
				require.NotEmpty(t, f.Message)
				got = append(got, f.Field)
			}
			require.Equal(t, tc.fields, got)
		})
	}
}
