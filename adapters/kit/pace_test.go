package kit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit"
)

// TestCooldown: each strike after a pause ran out doubles the next pause up
// to Max; a refusal during a pause is the same strike (it gets what is left);
// Clear starts the doubling over but lets a running pause run out.
func TestCooldown(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	type step struct {
		at    time.Duration
		clear bool          // Clear instead of Strike
		want  time.Duration // Strike's pause
		until time.Duration // Until after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"doubles up to max", []step{
			{at: 0, want: time.Second, until: time.Second},
			{at: time.Second, want: 2 * time.Second, until: 3 * time.Second},
			{at: 3 * time.Second, want: 4 * time.Second, until: 7 * time.Second},
			{at: 7 * time.Second, want: 5 * time.Second, until: 12 * time.Second},
			{at: 12 * time.Second, want: 5 * time.Second, until: 17 * time.Second},
		}},
		{"a refusal during the pause is the same strike", []step{
			{at: 0, want: time.Second, until: time.Second},
			{at: 400 * time.Millisecond, want: 600 * time.Millisecond, until: time.Second},
			{at: time.Second, want: 2 * time.Second, until: 3 * time.Second},
		}},
		{"clear starts over, the running pause runs out", []step{
			{at: 0, want: time.Second, until: time.Second},
			{at: time.Second, want: 2 * time.Second, until: 3 * time.Second},
			{at: 2 * time.Second, clear: true, until: 3 * time.Second},
			{at: 2500 * time.Millisecond, want: 500 * time.Millisecond, until: 3 * time.Second},
			{at: 3 * time.Second, want: time.Second, until: 4 * time.Second},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := kit.Cooldown{Base: time.Second, Max: 5 * time.Second}
			require.True(t, c.Until().IsZero(), "no pause before the first strike")
			for i, s := range tt.steps {
				if s.clear {
					c.Clear()
				} else {
					require.Equal(t, s.want, c.Strike(at(s.at)), "step %d", i)
				}
				require.Equal(t, at(s.until), c.Until(), "step %d", i)
			}
		})
	}
}

// TestMaxWait: the limit, cut to the context's deadline, never negative.
func TestMaxWait(t *testing.T) {
	now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		deadline time.Duration // from now; 0: none
		want     time.Duration
	}{
		{"no deadline", 0, 30 * time.Second},
		{"deadline after the limit", time.Minute, 30 * time.Second},
		{"deadline before the limit", 5 * time.Second, 5 * time.Second},
		{"deadline passed", -time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.deadline != 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, now.Add(tt.deadline))
				defer cancel()
			}
			require.Equal(t, tt.want, kit.MaxWait(ctx, 30*time.Second, now))
		})
	}
}

// holder is a shared limiter's Hold answering d or err, recording its
// bound.
type holder struct {
	d        time.Duration
	err      error
	deadline time.Duration
}

func (h *holder) Hold(ctx context.Context, _ string, _, _ time.Duration) (time.Duration, error) {
	dl, _ := ctx.Deadline()
	h.deadline = time.Until(dl)
	return h.d, h.err
}

// TestHold: the limiter's pause, within HoldTimeout; when the database
// fails, the base pause and a warning.
func TestHold(t *testing.T) {
	tests := []struct {
		name    string
		h       holder
		want    time.Duration
		wantLog string
	}{
		{"recorded", holder{d: 4 * time.Second}, 4 * time.Second, ""},
		{"database down", holder{err: errors.New("connection refused")}, time.Second, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, nil))
			require.Equal(t, tt.want, kit.Hold(&tt.h, log, "wecom:corp:api", time.Second, time.Minute))
			require.Greater(t, tt.h.deadline, time.Duration(0))
			require.LessOrEqual(t, tt.h.deadline, kit.HoldTimeout)
			if tt.wantLog == "" {
				require.Empty(t, buf.String())
				return
			}
			require.Contains(t, buf.String(), tt.wantLog)
			require.Contains(t, buf.String(), "wecom:corp:api")
		})
	}
}
