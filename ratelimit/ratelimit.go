// Package ratelimit keeps platform rate limits that every replica shares
// through the database (MySQL/MariaDB in production, SQLite for the demo):
// no new server, one row per key in rate_limits (store.RateLimit).
//
// A limit is a Band: the generic cell rate algorithm (GCRA) with an
// emission interval T and a burst b, whose only state is the theoretical
// arrival time (TAT) of its key. A reservation locks the rows of all the
// bands and counters it needs in one short transaction (store.Tx, READ
// COMMITTED, SELECT … FOR UPDATE on MySQL; SQLite has one writer), finds
// the earliest time at which every band conforms, books it and returns it;
// the caller waits until then and sends. A reservation that would wait
// longer than it accepts books nothing.
//
// # Guarantee
//
// Let the grant times of a band be the Grant.At of every booked
// reservation naming its key, made by any Limiter on the database. With
// weights at most the band's burst b, every closed interval of length w
// holds at most b + ⌊w/T⌋ granted permits. A band made by Window(key, n,
// per, b) has T = ⌈per/(n−b+1)⌉, so every half-open interval [s, s+per)
// holds at most n: an exact sliding-window limit, not an average. Holds
// (cooldowns) only move grants later and so never break it; nor do
// reservations that are booked and then not used. A weight w above b may
// exceed the bound by w−b (it goes into debt, like an over-sized token
// bucket request).
//
// The bound is on grant times read from each Limiter's clock: replicas'
// clocks are assumed to agree (NTP), and the time from a grant to the
// platform seeing the request varies; adapters widen their windows by a
// small slack to cover both.
//
// Counters (a daily quota) are exact: a booked reservation adds its weight
// only while the total stays at or under the maximum, and Release gives
// weight back for a request the platform refused. A Day counter counts in
// the calendar day of the grant time, so a wait that crosses midnight is
// charged to the day the permit is used in.
//
// Rows expire: a band whose arrival time has passed behaves exactly like a
// missing row, so Prune (run by each Limiter about once a minute) deletes
// rows past their expiry and per-member keys do not pile up.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/learnloop/learnloop/store"
)

// MaxKeyLen is the longest key the table holds.
const MaxKeyLen = 191

// Defaults of a Limiter.
const (
	// DefaultPruneEvery is how often a Limiter deletes expired rows.
	DefaultPruneEvery = time.Minute
	// pruneMargin keeps rows a little past their expiry, so a replica whose
	// clock runs ahead never deletes state another one still needs.
	pruneMargin = time.Minute
	// strikeMemory is how long a key remembers its strikes after its hold.
	strikeMemory = time.Hour
)

// Band is one GCRA limit on Key: permits are spaced Every apart on
// average, with bursts of up to Burst at once.
type Band struct {
	Key   string
	Every time.Duration
	Burst int
}

// Window returns the band on key that admits at most n permits in any
// window of length per, letting up to burst of them go at once; the
// long-run rate is (n−burst+1)/per. burst is clamped to 1…n.
func Window(key string, n int, per time.Duration, burst int) Band {
	burst = max(1, min(burst, n))
	k := int64(n - burst + 1)
	if k < 1 {
		k = 1
	}
	every := time.Duration((int64(per) + k - 1) / k) // rounded up: the bound holds
	return Band{Key: key, Every: every, Burst: burst}
}

// tau is the band's tolerance: how far ahead of its TAT a permit may go.
func (b Band) tau() int64 { return int64(b.Burst-1) * int64(b.Every) }

// Counter is a quota of Max permits on Key; the row is kept until Expires.
type Counter struct {
	Key     string
	Max     int64
	Expires time.Time
	// Day, when set, makes the counter one per calendar day in that
	// location, the day of the grant (not of the request: a wait may cross
	// midnight): its key is Key + ":" + the date as 20060102, and its row
	// expires a day after that day ends (Expires is ignored).
	Day *time.Location
}

// at returns the concrete counter for a grant at t.
func (c Counter) at(t time.Time) Counter {
	if c.Day == nil {
		return c
	}
	y, m, d := t.In(c.Day).Date()
	return Counter{Key: c.Key + ":" + t.In(c.Day).Format("20060102"), Max: c.Max, Expires: time.Date(y, m, d+2, 0, 0, 0, 0, c.Day)}
}

// Request is what one reservation needs.
type Request struct {
	Bands    []Band
	Counters []Counter
	// Weight is how many permits the request takes (0 means 1): a call
	// that reaches several people at once counts each.
	Weight int
	// MaxWait is the longest wait the caller accepts; a longer one books
	// nothing and is reported in Grant.Wait (0: only an immediate grant).
	MaxWait time.Duration
}

// Grant is the outcome of a reservation.
type Grant struct {
	// At is when the permits may be used; Wait is At minus the Limiter's
	// now.
	At   time.Time
	Wait time.Duration
	// Booked says the permits are taken: false when Wait exceeds the
	// request's MaxWait, or for Peek.
	Booked bool
	// Strikes is the highest strike count among the request's bands (see
	// Hold); a caller that sees it above zero clears it with Reset after a
	// successful call.
	Strikes int
	// HoldUntil is the latest hold among the bands (zero without one).
	HoldUntil time.Time
	// Counters are the keys of the counters charged (with a Day counter's
	// date), for Release.
	Counters []string
}

// ExhaustedError is returned when a counter has no room for the request.
type ExhaustedError struct {
	Key  string
	Max  int64
	Used int64
	// At is the grant time the counter was checked for.
	At time.Time
}

// Error implements error.
func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("ratelimit: %s: %d of %d used", e.Key, e.Used, e.Max)
}

// Limiter reserves permits against the rate_limits table. It is safe for
// concurrent use, and any number of Limiters (one per replica) may share a
// database.
type Limiter struct {
	db         *gorm.DB
	mysql      bool
	now        func() time.Time
	log        *slog.Logger
	pruneEvery time.Duration

	mu        sync.Mutex
	lastPrune time.Time
}

// Option configures a Limiter.
type Option func(*Limiter)

// WithNow sets the clock (tests).
func WithNow(now func() time.Time) Option { return func(l *Limiter) { l.now = now } }

// WithLogger sets the logger.
func WithLogger(lg *slog.Logger) Option { return func(l *Limiter) { l.log = lg } }

// WithPruneEvery sets how often expired rows are deleted (≤ 0: never).
func WithPruneEvery(d time.Duration) Option { return func(l *Limiter) { l.pruneEvery = d } }

// New returns a Limiter on db, which must be migrated (store.Migrate).
func New(db *gorm.DB, opts ...Option) *Limiter {
	l := &Limiter{db: db, mysql: store.IsMySQL(db), now: time.Now, log: slog.Default(), pruneEvery: DefaultPruneEvery}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Now returns the Limiter's clock reading.
func (l *Limiter) Now() time.Time { return l.now() }

func validKey(k string) error {
	switch {
	case k == "":
		return errors.New("empty key")
	case len(k) > MaxKeyLen:
		return fmt.Errorf("key %.40q… is longer than %d bytes", k, MaxKeyLen)
	}
	return nil
}

// keys validates req and returns its keys, sorted (the lock order).
func (req Request) keys() ([]string, error) {
	var errs []error
	var keys []string
	for _, b := range req.Bands {
		if err := validKey(b.Key); err != nil {
			errs = append(errs, err)
		}
		if b.Every <= 0 {
			errs = append(errs, fmt.Errorf("band %s: interval must be positive, got %s", b.Key, b.Every))
		}
		if b.Burst < 1 {
			errs = append(errs, fmt.Errorf("band %s: burst must be at least 1, got %d", b.Key, b.Burst))
		}
		keys = append(keys, b.Key)
	}
	named := slices.Clone(keys)
	for _, c := range req.Counters {
		if err := validKey(c.Key); err != nil {
			errs = append(errs, err)
		} else if c.Day != nil && len(c.Key)+9 > MaxKeyLen {
			errs = append(errs, fmt.Errorf("key %.40q… with its date is longer than %d bytes", c.Key, MaxKeyLen))
		}
		if c.Max < 0 {
			errs = append(errs, fmt.Errorf("counter %s: max must not be negative, got %d", c.Key, c.Max))
		}
		named = append(named, c.Key)
		if c.Day == nil {
			keys = append(keys, c.Key)
		}
	}
	if req.Weight < 0 {
		errs = append(errs, fmt.Errorf("weight must not be negative, got %d", req.Weight))
	}
	if len(named) == 0 {
		errs = append(errs, errors.New("no band or counter"))
	}
	slices.Sort(named)
	for i := 1; i < len(named); i++ {
		if named[i] == named[i-1] {
			errs = append(errs, fmt.Errorf("key %s named twice", named[i]))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("ratelimit: %w", err)
	}
	slices.Sort(keys)
	return keys, nil
}

// plan computes the grant time for req's bands against rows (keyed by
// rate_key) at now.
func plan(req Request, rows map[string]*store.RateLimit, now time.Time) Grant {
	w := int64(max(req.Weight, 1))
	at := now.UnixNano()
	g := Grant{}
	var hold int64
	for _, b := range req.Bands {
		r := rows[b.Key]
		if r == nil {
			continue
		}
		first := min(w, int64(b.Burst))
		if e := r.TAT + (first-1)*int64(b.Every) - b.tau(); e > at {
			at = e
		}
		hold = max(hold, r.HoldUntil)
		g.Strikes = max(g.Strikes, r.Strikes)
	}
	at = max(at, hold)
	g.At = time.Unix(0, at)
	g.Wait = g.At.Sub(now)
	if hold > 0 {
		g.HoldUntil = time.Unix(0, hold)
	}
	return g
}

// counters returns req's counters for a grant at t and their keys.
func counters(req Request, t time.Time) ([]Counter, []string) {
	cs := make([]Counter, len(req.Counters))
	keys := make([]string, len(cs))
	for i, c := range req.Counters {
		cs[i] = c.at(t)
		keys[i] = cs[i].Key
	}
	return cs, keys
}

// check returns an *ExhaustedError when a counter has no room for w.
func check(cs []Counter, rows map[string]*store.RateLimit, w int64, at time.Time) error {
	for _, c := range cs {
		used := int64(0)
		if r := rows[c.Key]; r != nil {
			used = r.Used
		}
		if used+w > c.Max {
			return &ExhaustedError{Key: c.Key, Max: c.Max, Used: used, At: at}
		}
	}
	return nil
}

// Reserve books the earliest time at or after now at which every band of
// req conforms and every counter has room, unless that is more than
// req.MaxWait away (then it books nothing and returns the wait). A full
// counter is an *ExhaustedError. Invalid requests are refused before any
// database work.
func (l *Limiter) Reserve(ctx context.Context, req Request) (Grant, error) {
	keys, err := req.keys()
	if err != nil {
		return Grant{}, err
	}
	var g Grant
	err = l.tx(ctx, keys, func(tx *gorm.DB, rows map[string]*store.RateLimit, now time.Time) error {
		g = plan(req, rows, now)
		if g.Wait > req.MaxWait {
			return nil
		}
		w := int64(max(req.Weight, 1))
		cs, ckeys := counters(req, g.At)
		// Day counters are known only now; they are locked after the
		// bands in every transaction, so the lock order stays the same.
		var late []string
		for _, c := range req.Counters {
			if c.Day != nil {
				late = append(late, c.at(g.At).Key)
			}
		}
		if len(late) > 0 {
			slices.Sort(late)
			if err := l.lock(tx, late, rows); err != nil {
				return err
			}
		}
		if err := check(cs, rows, w, g.At); err != nil {
			return err
		}
		g.Counters = ckeys
		at := g.At.UnixNano()
		var ups []update
		for _, b := range req.Bands {
			r := rows[b.Key]
			tat := max(r.TAT, at) + w*int64(b.Every)
			ups = append(ups, update{key: b.Key, tat: tat, used: r.Used, expires: expiry(tat, r.HoldUntil, r.Strikes)})
		}
		for _, c := range cs {
			r := rows[c.Key]
			ups = append(ups, update{key: c.Key, tat: r.TAT, used: r.Used + w, expires: max(c.Expires.UnixNano(), expiry(r.TAT, r.HoldUntil, r.Strikes))})
		}
		if err := l.apply(tx, ups); err != nil {
			return err
		}
		g.Booked = true
		return nil
	})
	if err != nil {
		var ex *ExhaustedError
		if errors.As(err, &ex) {
			return Grant{}, ex
		}
		return Grant{}, fmt.Errorf("ratelimit: reserve %s: %w", strings.Join(keys, ","), err)
	}
	l.maybePrune(ctx)
	return g, nil
}

// Peek returns the grant Reserve would give now, booking nothing (one read,
// no lock): a caller may wait for it and then reserve, which usually needs
// no further wait.
func (l *Limiter) Peek(ctx context.Context, req Request) (Grant, error) {
	keys, err := req.keys()
	if err != nil {
		return Grant{}, err
	}
	rows := map[string]*store.RateLimit{}
	read := func(keys []string) error {
		var list []store.RateLimit
		if err := l.db.WithContext(ctx).Where("rate_key IN ?", keys).Find(&list).Error; err != nil {
			return fmt.Errorf("ratelimit: peek %s: %w", strings.Join(keys, ","), err)
		}
		for i := range list {
			rows[list[i].Key] = &list[i]
		}
		return nil
	}
	if len(keys) > 0 {
		if err := read(keys); err != nil {
			return Grant{}, err
		}
	}
	g := plan(req, rows, l.now())
	cs, ckeys := counters(req, g.At)
	if len(ckeys) > 0 {
		if err := read(ckeys); err != nil {
			return Grant{}, err
		}
	}
	if err := check(cs, rows, int64(max(req.Weight, 1)), g.At); err != nil {
		return Grant{}, err
	}
	return g, nil
}

// expiry is when a row with this state says nothing more than a missing one.
func expiry(tat, hold int64, strikes int) int64 {
	e := max(tat, hold)
	if strikes > 0 {
		e = max(e, hold+int64(strikeMemory))
	}
	return e
}

// Hold records a frequency error on key (a platform's "too many calls"):
// every reservation naming key waits until the hold ends. The hold is
// base doubled per strike since the last Reset, at most maxHold. A Hold while
// a hold is in force is the same burst of refusals (requests sent before it
// began), not a new strike: it leaves the hold as it is and returns what is
// left of it. Otherwise it returns the new hold's length.
func (l *Limiter) Hold(ctx context.Context, key string, base, maxHold time.Duration) (time.Duration, error) {
	if err := validKey(key); err != nil {
		return 0, fmt.Errorf("ratelimit: hold: %w", err)
	}
	if base <= 0 || maxHold < base {
		return 0, fmt.Errorf("ratelimit: hold %s: want 0 < base ≤ max, got %s and %s", key, base, maxHold)
	}
	var d time.Duration
	err := l.tx(ctx, []string{key}, func(tx *gorm.DB, rows map[string]*store.RateLimit, now time.Time) error {
		r := rows[key]
		if r.HoldUntil > now.UnixNano() {
			// A refusal of a request sent before the hold began (several
			// workers refused at once): the same burst, not a new strike.
			d = time.Duration(r.HoldUntil - now.UnixNano())
			return nil
		}
		strikes := r.Strikes + 1
		d = min(base<<min(strikes-1, 30), maxHold)
		hold := max(r.HoldUntil, now.Add(d).UnixNano())
		return l.apply(tx, []update{{key: key, tat: r.TAT, used: r.Used, hold: hold, strikes: strikes, setHold: true, expires: expiry(r.TAT, hold, strikes)}})
	})
	if err != nil {
		return 0, fmt.Errorf("ratelimit: hold %s: %w", key, err)
	}
	return d, nil
}

// Reset clears key's strikes (after a successful call); its current hold
// stays.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := validKey(key); err != nil {
		return fmt.Errorf("ratelimit: reset: %w", err)
	}
	err := store.Retry(ctx, func() error {
		return l.db.WithContext(ctx).Model(&store.RateLimit{}).Where("rate_key = ? AND strikes > 0", key).
			Updates(map[string]any{"strikes": 0, "expires_at": gorm.Expr("CASE WHEN tat > hold_until THEN tat ELSE hold_until END")}).Error
	})
	if err != nil {
		return fmt.Errorf("ratelimit: reset %s: %w", key, err)
	}
	return nil
}

// Release gives n permits back to counter key (a request the platform
// refused did not use its quota). It never takes the count below zero.
func (l *Limiter) Release(ctx context.Context, key string, n int64) error {
	if err := validKey(key); err != nil {
		return fmt.Errorf("ratelimit: release: %w", err)
	}
	if n <= 0 {
		return fmt.Errorf("ratelimit: release %s: n must be positive, got %d", key, n)
	}
	err := store.Retry(ctx, func() error {
		return l.db.WithContext(ctx).Model(&store.RateLimit{}).Where("rate_key = ?", key).
			Update("used", gorm.Expr("CASE WHEN used > ? THEN used - ? ELSE 0 END", n, n)).Error
	})
	if err != nil {
		return fmt.Errorf("ratelimit: release %s: %w", key, err)
	}
	return nil
}

// Used returns counter key's count (0 for a missing row).
func (l *Limiter) Used(ctx context.Context, key string) (int64, error) {
	var r store.RateLimit
	if err := l.db.WithContext(ctx).Where("rate_key = ?", key).Limit(1).Find(&r).Error; err != nil {
		return 0, fmt.Errorf("ratelimit: read %s: %w", key, err)
	}
	return r.Used, nil
}

// Prune deletes rows that expired more than a minute ago and returns how
// many. Deleting is safe at any time: an expired row and a missing one
// give the same grants.
func (l *Limiter) Prune(ctx context.Context) (int64, error) {
	cut := l.now().Add(-pruneMargin).UnixNano()
	var n int64
	err := store.Retry(ctx, func() error {
		res := l.db.WithContext(ctx).Where("expires_at < ?", cut).Delete(&store.RateLimit{})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("ratelimit: prune: %w", err)
	}
	return n, nil
}

func (l *Limiter) maybePrune(ctx context.Context) {
	if l.pruneEvery <= 0 {
		return
	}
	now := l.now()
	l.mu.Lock()
	if l.lastPrune.IsZero() {
		l.lastPrune = now
	}
	due := now.Sub(l.lastPrune) >= l.pruneEvery
	if due {
		l.lastPrune = now
	}
	l.mu.Unlock()
	if !due {
		return
	}
	if n, err := l.Prune(ctx); err != nil {
		l.log.Warn("rate limit prune failed", "err", err)
	} else if n > 0 {
		l.log.Debug("pruned rate limit rows", "rows", n)
	}
}

// update is the new state of one row.
type update struct {
	key                string
	tat, used, expires int64
	hold               int64
	strikes            int
	setHold            bool
}

// tx runs fn in a transaction holding the rows of keys (created when
// missing) locked, and retries it on deadlocks and lock-wait timeouts.
func (l *Limiter) tx(ctx context.Context, keys []string, fn func(tx *gorm.DB, rows map[string]*store.RateLimit, now time.Time) error) error {
	for attempt := 1; ; attempt++ {
		err := l.tx1(ctx, keys, fn)
		if !errors.Is(err, errVanished) || attempt >= 5 {
			return err
		}
	}
}

func (l *Limiter) tx1(ctx context.Context, keys []string, fn func(tx *gorm.DB, rows map[string]*store.RateLimit, now time.Time) error) error {
	return store.Tx(ctx, l.db, func(tx *gorm.DB) error {
		rows := make(map[string]*store.RateLimit, len(keys))
		if len(keys) > 0 {
			if err := l.lock(tx, keys, rows); err != nil {
				return err
			}
		}
		return fn(tx, rows, l.now())
	})
}

// lock creates the rows of keys (sorted) when missing and locks them,
// adding them to rows. On MySQL the upsert itself takes the row locks, in
// key order (the SELECT … FOR UPDATE then holds them whatever the upsert
// did). On SQLite the write takes the database's write lock at once, so
// transactions never deadlock on a lock upgrade.
func (l *Limiter) lock(tx *gorm.DB, keys []string, rows map[string]*store.RateLimit) error {
	fresh := make([]store.RateLimit, len(keys))
	for i, k := range keys {
		fresh[i] = store.RateLimit{Key: k}
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&fresh).Error; err != nil {
		return fmt.Errorf("create rows: %w", err)
	}
	q := tx.Where("rate_key IN ?", keys).Order("rate_key")
	if l.mysql {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var list []store.RateLimit
	if err := q.Find(&list).Error; err != nil {
		return fmt.Errorf("lock rows: %w", err)
	}
	for i := range list {
		rows[list[i].Key] = &list[i]
	}
	for _, k := range keys {
		if rows[k] == nil {
			// Pruned between the upsert and the lock: run again.
			return fmt.Errorf("row %s vanished: %w", k, errVanished)
		}
	}
	return nil
}

// errVanished: a row was pruned between its upsert and its lock (the
// transaction runs again).
var errVanished = errors.New("row pruned concurrently")

// apply writes ups in one statement.
func (l *Limiter) apply(tx *gorm.DB, ups []update) error {
	if len(ups) == 0 {
		return nil
	}
	var b strings.Builder
	var args []any
	col := func(name string, val func(u update) any) {
		b.WriteString(name + " = CASE rate_key")
		for _, u := range ups {
			b.WriteString(" WHEN ? THEN ?")
			args = append(args, u.key, val(u))
		}
		b.WriteString(" ELSE " + name + " END")
	}
	b.WriteString("UPDATE rate_limits SET ")
	col("tat", func(u update) any { return u.tat })
	b.WriteString(", ")
	col("used", func(u update) any { return u.used })
	b.WriteString(", ")
	col("expires_at", func(u update) any { return u.expires })
	for _, u := range ups {
		if u.setHold {
			b.WriteString(", hold_until = CASE WHEN rate_key = ? THEN ? ELSE hold_until END, strikes = CASE WHEN rate_key = ? THEN ? ELSE strikes END")
			args = append(args, u.key, u.hold, u.key, u.strikes)
		}
	}
	b.WriteString(" WHERE rate_key IN ?")
	keys := make([]string, len(ups))
	for i, u := range ups {
		keys[i] = u.key
	}
	args = append(args, keys)
	if err := tx.Exec(b.String(), args...).Error; err != nil {
		return fmt.Errorf("update rows: %w", err)
	}
	return nil
}
