package presence

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/cut"
	"github.com/learnloop/learnloop/store"
)

// Scan outcomes (store.PresenceScan.Outcome).
const (
	OutcomeRecorded  = "recorded"
	OutcomeDuplicate = "duplicate"
	OutcomeUpgraded  = "upgraded"
)

// Scan refusals beyond the check-in windows' (bot.ErrCheckinNotOpen, …).
var (
	// ErrLocationNeeded: the session has a geofence and the browser gave
	// no position.
	ErrLocationNeeded = errors.New("presence: location needed")
	// ErrLocationImprecise: the position is too vague to decide.
	ErrLocationImprecise = errors.New("presence: location too imprecise")
	// ErrOutsideGeofence: the position is farther than the radius.
	ErrOutsideGeofence = errors.New("presence: outside the venue")
	// ErrTicketUsed: a sign-in answer replayed by someone else.
	ErrTicketUsed = errors.New("presence: scan already used")
)

// Location is where the browser says the phone is.
type Location struct {
	Latitude, Longitude float64
	// AccuracyM is the browser's stated accuracy radius in metres.
	AccuracyM float64
}

// ScanRequest is one identified scan.
type ScanRequest struct {
	Nonce      string
	SessionID  uint64
	Slot       int64
	Method     string // store.SourceQR or store.SourceRoomCode
	ScannedAt  time.Time
	EmployeeID uint64
	Platform   bot.Platform
	Location   *Location
}

// ScanResult is what a scan did.
type ScanResult struct {
	Checkin  store.Checkin
	Outcome  string
	Distance *float64
}

// remoteSources are the check-in sources that are not proof of presence.
var remoteSources = []string{store.SourceCard, store.SourceChat, store.SourceLink, store.SourceRemote}

// PresentSources are the sources that count as present where a session
// requires on-site check-in.
var PresentSources = []string{store.SourceQR, store.SourceRoomCode, store.SourceManual}

// maxAccuracy is the vaguest position accepted for a fence of radius r.
func maxAccuracy(r int) float64 { return math.Max(float64(r), 100) }

// Record stores an identified scan: the geofence (if any), then the
// check-in through bot.Checkins.Record with the scan's time, source and
// platform, then the scan's evidence under its single-use nonce. A session
// that requires on-site check-in turns an earlier remote check-in (card or
// link tap) into this on-site one. Every refusal leaves the database
// unchanged.
func (s *Service) Record(ctx context.Context, req ScanRequest) (ScanResult, error) {
	var prev store.PresenceScan
	if err := s.d.DB.WithContext(ctx).Limit(1).Find(&prev, "nonce = ?", req.Nonce).Error; err != nil {
		return ScanResult{}, fmt.Errorf("presence: load scan: %w", err)
	}
	if prev.ID != 0 {
		if prev.EmployeeID != req.EmployeeID {
			return ScanResult{}, ErrTicketUsed
		}
		var ci store.Checkin
		if err := s.d.DB.WithContext(ctx).Limit(1).Find(&ci, prev.CheckinID).Error; err != nil {
			return ScanResult{}, fmt.Errorf("presence: load check-in: %w", err)
		}
		return ScanResult{Checkin: ci, Outcome: prev.Outcome, Distance: prev.DistanceM}, nil
	}
	rules, err := s.Settings(ctx, req.SessionID)
	if err != nil {
		return ScanResult{}, err
	}
	var dist *float64
	if rules.Geofence {
		if req.Location == nil {
			return ScanResult{}, ErrLocationNeeded
		}
		l := *req.Location
		if math.IsNaN(l.Latitude) || math.IsNaN(l.Longitude) || l.Latitude < -90 || l.Latitude > 90 || l.Longitude < -180 || l.Longitude > 180 {
			return ScanResult{}, ErrLocationNeeded
		}
		if l.AccuracyM <= 0 || math.IsNaN(l.AccuracyM) || l.AccuracyM > maxAccuracy(rules.RadiusMeters) {
			return ScanResult{}, fmt.Errorf("±%.0f m: %w", l.AccuracyM, ErrLocationImprecise)
		}
		d := Distance(l.Latitude, l.Longitude, rules.Latitude, rules.Longitude)
		if d > float64(rules.RadiusMeters) {
			return ScanResult{}, fmt.Errorf("%.0f m from the venue: %w", d, ErrOutsideGeofence)
		}
		dist = &d
	}
	res, err := s.d.Checkins.Record(ctx, bot.CheckinRequest{
		SessionID: req.SessionID, EmployeeID: req.EmployeeID, Source: req.Method,
		Platform: string(req.Platform), At: req.ScannedAt,
	})
	if err != nil {
		return ScanResult{}, err
	}
	out := ScanResult{Checkin: res.Checkin, Outcome: OutcomeRecorded, Distance: dist}
	if res.Duplicate {
		out.Outcome = OutcomeDuplicate
		if rules.RequireOnsite && isRemote(res.Checkin.Source) {
			ci, upgraded, err := s.upgrade(ctx, res.Checkin, req)
			if err != nil {
				return ScanResult{}, err
			}
			out.Checkin = ci
			if upgraded {
				out.Outcome = OutcomeUpgraded
			}
		}
	}
	scan := store.PresenceScan{
		Nonce: req.Nonce, SessionID: req.SessionID, EmployeeID: req.EmployeeID, CheckinID: out.Checkin.ID,
		Method: req.Method, Slot: req.Slot, Platform: string(req.Platform), ScannedAt: req.ScannedAt.UTC(),
		Outcome: out.Outcome, DistanceM: dist, CreatedAt: s.now(),
	}
	if req.Location != nil {
		lat, lng, acc := req.Location.Latitude, req.Location.Longitude, req.Location.AccuracyM
		scan.Latitude, scan.Longitude, scan.AccuracyM = &lat, &lng, &acc
	}
	// The check-in is stored; its evidence is written even if the browser
	// goes away now.
	wctx, cancel := store.Detached(ctx, 10*time.Second)
	defer cancel()
	err = store.Retry(wctx, func() error {
		scan.ID = 0
		return s.d.DB.WithContext(wctx).Create(&scan).Error
	})
	if store.IsDuplicate(err) {
		// The same answer arrived twice at once: the first one wrote it.
		return out, nil
	}
	if err != nil {
		return ScanResult{}, fmt.Errorf("presence: store scan: %w", err)
	}
	return out, nil
}

func isRemote(source string) bool {
	for _, r := range remoteSources {
		if source == r {
			return true
		}
	}
	return false
}

// upgrade turns a remote check-in into the on-site one this scan proves,
// classified by the scan's time. The compare-and-set on the source makes a
// concurrent second scan a no-op.
func (s *Service) upgrade(ctx context.Context, ci store.Checkin, req ScanRequest) (store.Checkin, bool, error) {
	var sess store.Session
	if err := s.d.DB.WithContext(ctx).Take(&sess, req.SessionID).Error; err != nil {
		return ci, false, fmt.Errorf("presence: load session: %w", err)
	}
	kind, err := bot.SessionWindows(sess).Classify(req.ScannedAt)
	if err != nil {
		return ci, false, err
	}
	at := req.ScannedAt.UTC()
	note := fmt.Sprintf("%s %s → %s", ci.Source, ci.CheckedInAt.UTC().Format(time.RFC3339), req.Method)
	wctx, cancel := store.Detached(ctx, 10*time.Second)
	defer cancel()
	var n int64
	err = store.Retry(wctx, func() error {
		res := s.d.DB.WithContext(wctx).Model(&store.Checkin{}).
			Where("id = ? AND source IN ?", ci.ID, remoteSources).
			Updates(map[string]any{"source": req.Method, "kind": kind, "checked_in_at": at, "platform": string(req.Platform), "note": cut.Runes(note, 255)})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return ci, false, fmt.Errorf("presence: upgrade check-in: %w", err)
	}
	var fresh store.Checkin
	if err := s.d.DB.WithContext(ctx).Take(&fresh, ci.ID).Error; err != nil {
		return ci, false, fmt.Errorf("presence: reload check-in: %w", err)
	}
	return fresh, n > 0, nil
}

// Distance is the great-circle distance in metres between two points
// (haversine, mean Earth radius).
func Distance(lat1, lng1, lat2, lng2 float64) float64 {
	const r = 6371008.8
	rad := math.Pi / 180
	dLat, dLng := (lat2-lat1)*rad, (lng2-lng1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}

// Display is what the projector shows now.
type Display struct {
	SessionID uint64    `json:"session_id"`
	URL       string    `json:"url"`  // the QR code's content
	Room      string    `json:"room"` // the 4-digit fallback
	RoomURL   string    `json:"room_url"`
	Period    int       `json:"period_seconds"`
	Shown     time.Time `json:"shown_at"`
	Expires   time.Time `json:"expires_at"`  // the next code is due
	ValidTill time.Time `json:"valid_until"` // scans of this code accepted until
	RoomUntil time.Time `json:"room_until"`
	Now       time.Time `json:"now"`
	Rules     Rules     `json:"rules"`
	Counts    Counts    `json:"counts"`
}

// Counts are a session's check-ins by source, for the projector.
type Counts struct {
	Eligible int            `json:"eligible"`
	Present  int            `json:"present"`
	Remote   int            `json:"remote"`
	BySource map[string]int `json:"by_source"`
}

// Display returns the session's current code, room code and counts.
func (s *Service) Display(ctx context.Context, sess store.Session) (Display, error) {
	rules, err := s.Settings(ctx, sess.ID)
	if err != nil {
		return Display{}, err
	}
	now := s.now()
	slot := SlotAt(sess.ID, time.Duration(rules.RotateSeconds)*time.Second, now)
	rs := roomSlot(now)
	d := Display{
		SessionID: sess.ID, URL: s.d.PublicURL + "/q/" + s.codec.qrCode(slot), Room: s.codec.roomCode(sess.ID, rs),
		RoomURL: s.d.PublicURL + "/q/", Period: rules.RotateSeconds, Shown: slot.Start(), Expires: slot.End(),
		ValidTill: slot.ValidUntil(), RoomUntil: time.UnixMilli((rs + 1) * RoomPeriod.Milliseconds()).UTC(), Now: now, Rules: rules,
	}
	d.Counts, err = s.counts(ctx, sess.ID, rules)
	return d, err
}

func (s *Service) counts(ctx context.Context, sessionID uint64, rules Rules) (Counts, error) {
	c := Counts{BySource: map[string]int{}}
	type row struct {
		Source string
		N      int
	}
	var rows []row
	err := s.d.DB.WithContext(ctx).Table("enrollments e").
		Select("k.source AS source, COUNT(*) AS n").
		Joins("JOIN checkins k ON k.session_id = e.session_id AND k.employee_id = e.employee_id").
		Where("e.session_id = ? AND e.status = ?", sessionID, store.EnrollInvited).
		Group("k.source").Scan(&rows).Error
	if err != nil {
		return c, fmt.Errorf("presence: count check-ins: %w", err)
	}
	var eligible int64
	if err := s.d.DB.WithContext(ctx).Model(&store.Enrollment{}).
		Where("session_id = ? AND status = ?", sessionID, store.EnrollInvited).Count(&eligible).Error; err != nil {
		return c, fmt.Errorf("presence: count roster: %w", err)
	}
	c.Eligible = int(eligible)
	for _, r := range rows {
		c.BySource[r.Source] += r.N
		if rules.RequireOnsite && isRemote(r.Source) {
			c.Remote += r.N
		} else {
			c.Present += r.N
		}
	}
	return c, nil
}

// scansOf is for tests and the result page: the scan of a nonce.
func scanOf(ctx context.Context, db *gorm.DB, nonce string) (store.PresenceScan, error) {
	var sc store.PresenceScan
	err := db.WithContext(ctx).Limit(1).Find(&sc, "nonce = ?", nonce).Error
	return sc, err
}
