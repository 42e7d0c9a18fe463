package presence

import (
	"context"
	"sync"
	"time"
)

// onsiteTTL is how long a session's on-site rule is kept in memory for card
// taps: a coordinator's change reaches the cards' answers within it (reports
// always read the stored rule).
const onsiteTTL = 10 * time.Second

type onsiteCache struct {
	mu sync.Mutex
	m  map[uint64]onsiteEntry
}

type onsiteEntry struct {
	required bool
	at       time.Time
}

// OnsiteRequired reports whether session sessionID requires on-site check-in
// (现场签到): a card or link tap there is recorded, but reported as remote.
// The check-in path asks it on every tap, so the answer is kept for a few
// seconds.
func (s *Service) OnsiteRequired(ctx context.Context, sessionID uint64) (bool, error) {
	now := s.now()
	s.onsite.mu.Lock()
	e, ok := s.onsite.m[sessionID]
	s.onsite.mu.Unlock()
	if ok && now.Sub(e.at) < onsiteTTL && !now.Before(e.at) {
		return e.required, nil
	}
	r, err := settingsOf(ctx, s.d.DB, sessionID)
	if err != nil {
		return false, err
	}
	s.onsite.mu.Lock()
	defer s.onsite.mu.Unlock()
	if s.onsite.m == nil || len(s.onsite.m) > 10000 {
		s.onsite.m = map[uint64]onsiteEntry{}
	}
	s.onsite.m[sessionID] = onsiteEntry{required: r.RequireOnsite, at: now}
	return r.RequireOnsite, nil
}
