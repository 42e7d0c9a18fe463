package clocktest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/internal/clocktest"
)

func TestClock(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	c := clocktest.New(t0)
	require.Equal(t, t0, c.Now())
	c.Advance(90 * time.Second)
	require.Equal(t, t0.Add(90*time.Second), c.Now())
	c.Set(t0)
	require.Equal(t, t0, c.Now())

	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { c.Advance(time.Second); _ = c.Now() })
	}
	wg.Wait()
	require.Equal(t, t0.Add(10*time.Second), c.Now())
}
