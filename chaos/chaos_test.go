package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Sizes and pace. CI runs 2,000 people per scenario; LEARNLOOP_CHAOS_PEOPLE
// sets another size (10000 for the full run). The fake adds latency to
// every WeCom call so a fan-out lasts long enough to be hit in its early,
// middle and late parts.
const (
	defaultPeople  = 2000
	defaultLatency = 15 * time.Millisecond
)

// result is one scenario's outcome, counted at the fake and in the
// database.
type result struct {
	Scenario    string    `json:"scenario"`
	People      int       `json:"people"`
	Sent        int       `json:"sent"`       // cards the fake accepted
	Received    int       `json:"received"`   // roster members with at least one card
	Duplicates  int       `json:"duplicates"` // acceptances beyond the first for a member
	Lost        int       `json:"lost"`       // roster members without a card
	RowsSent    int       `json:"rows_sent"`  // delivery rows in status sent
	Unsettled   int       `json:"unsettled"`  // delivery rows not sent (pending, sending, failed, dropped)
	JobState    string    `json:"job_state"`
	JobAttempts int       `json:"job_attempts"`
	FanoutMS    int64     `json:"fanout_ms"`   // send-now → every row settled and the job completed
	RecoveryMS  int64     `json:"recovery_ms"` // last fault → every row settled (-1: no fault)
	TakeoverMS  int64     `json:"takeover_ms"` // last kill/SIGTERM → the job running on (or completed by) another replica (-1: n/a)
	Refused     int       `json:"refused_42014"`
	Faults      []string  `json:"faults"`
	Taps        *tapStats `json:"taps,omitempty"`
	Notes       []string  `json:"notes,omitempty"`
	Pass        bool      `json:"pass"`
}

// run is what a scenario's fault function works with.
type run struct {
	c      *cluster
	jobID  uint64
	res    *result
	start  time.Time
	faults []time.Time
	mu     sync.Mutex
	bg     sync.WaitGroup
	bgErrs []error
	tapper *tapper
}

func (r *run) fault(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, time.Now())
	r.res.Faults = append(r.res.Faults, fmt.Sprintf("%.1fs: ", time.Since(r.start).Seconds())+fmt.Sprintf(format, args...))
}

func (r *run) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Notes = append(r.res.Notes, fmt.Sprintf(format, args...))
}

func (r *run) background(f func() error) {
	r.bg.Go(func() {
		if err := f(); err != nil {
			r.mu.Lock()
			r.bgErrs = append(r.bgErrs, err)
			r.mu.Unlock()
		}
	})
}

// progress waits until the fake has accepted frac of the roster. It fails
// when the job completes first (the fault point was missed).
func (r *run) progress(ctx context.Context, frac float64) error {
	want := int(math.Ceil(frac * float64(r.c.people)))
	for {
		if n := r.c.accepted(); n >= want {
			return nil
		}
		if j, err := r.c.job(ctx, r.jobID); err == nil && j.State == "completed" {
			return fmt.Errorf("the fan-out completed before %.0f%% (%d cards) were accepted", frac*100, want)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d accepted cards: %w", want, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// holder returns the live replica holding the job (state running).
func (r *run) holder(ctx context.Context) (*replica, string, error) {
	for {
		j, err := r.c.job(ctx, r.jobID)
		if err == nil && j.State == "running" {
			if rep := r.c.replicaByPID(workerPID(j.LockedBy)); rep != nil {
				return rep, j.LockedBy, nil
			}
		}
		if err == nil && j.State != "running" && j.State != "available" {
			return nil, "", fmt.Errorf("job %d is %s: the fault point was missed", r.jobID, j.State)
		}
		select {
		case <-ctx.Done():
			return nil, "", fmt.Errorf("no live replica holds job %d (last: %+v): %w", r.jobID, j, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// killHolder sends sig to the job's holder once frac of the roster has its
// card, restarts it in the background after it exits, and returns it.
func (r *run) killHolder(ctx context.Context, frac float64, sig syscall.Signal) (*replica, string, time.Time, error) {
	if err := r.progress(ctx, frac); err != nil {
		return nil, "", time.Time{}, err
	}
	rep, worker, err := r.holder(ctx)
	if err != nil {
		return nil, "", time.Time{}, err
	}
	at := time.Now()
	n := r.c.accepted()
	rep.signal(sig)
	r.fault("%s replica%d (pid %d, job holder) at %d/%d accepted", sigName(sig), rep.idx, rep.pid(), n, r.c.people)
	r.background(func() error { return r.takeover(ctx, worker, at) })
	return rep, worker, at, nil
}

// takeover records how long after the fault at `at` another worker than
// `from` held (or completed) the job.
func (r *run) takeover(ctx context.Context, from string, at time.Time) error {
	for {
		j, err := r.c.job(ctx, r.jobID)
		if err == nil && j.LockedBy != from && j.LockedBy != "" && (j.State == "running" || j.State == "completed") {
			r.mu.Lock()
			if r.faults[len(r.faults)-1].Equal(at) || r.res.TakeoverMS < 0 {
				r.res.TakeoverMS = time.Since(at).Milliseconds()
			}
			r.mu.Unlock()
			return nil
		}
		if err == nil && j.State == "completed" {
			return fmt.Errorf("job %d completed by the replica that was stopped (%s)", r.jobID, from)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no takeover of job %d from %s: %w", r.jobID, from, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func sigName(s syscall.Signal) string {
	if s == syscall.SIGKILL {
		return "kill -9"
	}
	if s == syscall.SIGTERM {
		return "SIGTERM"
	}
	return s.String()
}

// restartAfterExit restarts rep once it has exited (so three replicas are
// up again, as an orchestrator would do).
func (r *run) restartAfterExit(rep *replica) {
	r.background(func() error {
		if !rep.waitExit(shutdownTimeout + 10*time.Second) {
			return fmt.Errorf("replica%d did not exit", rep.idx)
		}
		return rep.start()
	})
}

type scenario struct {
	name string
	// run injects the faults after send-now; it returns once the last
	// fault is injected (background work goes through r.background).
	run func(ctx context.Context, r *run) error
}

func killAt(frac float64) func(ctx context.Context, r *run) error {
	return func(ctx context.Context, r *run) error {
		rep, _, _, err := r.killHolder(ctx, frac, syscall.SIGKILL)
		if err != nil {
			return err
		}
		r.restartAfterExit(rep)
		return nil
	}
}

// fakeWindow switches the fake to mode for d once frac is accepted.
func fakeWindow(frac float64, mode string, d time.Duration) func(ctx context.Context, r *run) error {
	return func(ctx context.Context, r *run) error {
		if err := r.progress(ctx, frac); err != nil {
			return err
		}
		r.c.control("mode", mode, "for", d.String())
		r.fault("fake %s for %s at %d/%d accepted", mode, d, r.c.accepted(), r.c.people)
		return nil
	}
}

func scenarios() []scenario {
	return []scenario{
		{"baseline", func(context.Context, *run) error { return nil }},
		{"kill9-early", killAt(0.10)},
		{"kill9-middle", killAt(0.50)},
		{"kill9-late", killAt(0.90)},
		{"kill9-twice", func(ctx context.Context, r *run) error {
			rep, first, _, err := r.killHolder(ctx, 0.30, syscall.SIGKILL)
			if err != nil {
				return err
			}
			r.restartAfterExit(rep)
			// Wait for the takeover, then kill the new holder too.
			for {
				_, w, err := r.holder(ctx)
				if err != nil {
					return err
				}
				if w != first {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			rep, _, _, err = r.killHolder(ctx, 0.70, syscall.SIGKILL)
			if err != nil {
				return err
			}
			r.restartAfterExit(rep)
			return nil
		}},
		{"sigterm", func(ctx context.Context, r *run) error {
			rep, worker, at, err := r.killHolder(ctx, 0.20, syscall.SIGTERM)
			if err != nil {
				return err
			}
			budget := shutdownTimeout + time.Second
			exited := rep.waitExit(budget + 10*time.Second)
			took := rep.exitTime().Sub(at)
			if !exited {
				return fmt.Errorf("replica%d did not exit within %s of SIGTERM", rep.idx, budget+10*time.Second)
			}
			r.note("replica%d exited %.2fs after SIGTERM (budget %s)", rep.idx, took.Seconds(), budget)
			if took > budget {
				return fmt.Errorf("replica%d exited %.2fs after SIGTERM, over the %s budget (http.shutdown_timeout + 1s)", rep.idx, took.Seconds(), budget)
			}
			r.background(func() error {
				// Another replica must finish the job.
				deadline := time.Now().Add(settleTimeout(r.c.people))
				for time.Now().Before(deadline) {
					j, err := r.c.job(ctx, r.jobID)
					if err == nil && j.State == "completed" {
						if j.LockedBy == worker {
							return fmt.Errorf("the SIGTERMed replica (%s) completed the job itself: nothing was handed over", worker)
						}
						r.note("completed by %s", j.LockedBy)
						return nil
					}
					time.Sleep(20 * time.Millisecond)
				}
				return errors.New("the job was not completed by another replica")
			})
			r.restartAfterExit(rep)
			return nil
		}},
		{"db-cut", func(ctx context.Context, r *run) error {
			if err := r.progress(ctx, 0.30); err != nil {
				return err
			}
			n := r.c.proxy.Cut()
			r.fault("cut %d database connections at %d/%d accepted", n, r.c.accepted(), r.c.people)
			return nil
		}},
		{"db-stall", func(ctx context.Context, r *run) error {
			if err := r.progress(ctx, 0.40); err != nil {
				return err
			}
			d := lease + time.Second
			r.c.proxy.Stall(d)
			r.fault("stalled the database for %s (lease %s) at %d/%d accepted", d, lease, r.c.accepted(), r.c.people)
			return nil
		}},
		{"fake-503", fakeWindow(0.30, "503", 2*time.Second)},
		{"fake-timeout", fakeWindow(0.30, "timeout", 2*time.Second)},
		{"fake-ratelimit", fakeWindow(0.30, "ratelimit", time.Second)},
		{"taps-kill9", func(ctx context.Context, r *run) error {
			tp := newTapper(r.c)
			r.tapper, r.res.Taps = tp, &tp.stats
			tctx, cancel := context.WithTimeout(ctx, settleTimeout(r.c.people))
			r.background(func() error {
				defer cancel()
				return tp.run(tctx)
			})
			rep, _, _, err := r.killHolder(ctx, 0.50, syscall.SIGKILL)
			if err != nil {
				return err
			}
			r.restartAfterExit(rep)
			return nil
		}},
	}
}

// settleTimeout bounds a scenario's wait for every row to settle: the
// recovery itself takes seconds; the rest allows for the adapter's pacing
// (a burst of 5,000, then about 40 a second).
func settleTimeout(people int) time.Duration {
	return 90*time.Second + time.Duration(float64(people)/40*float64(time.Second))
}

func peopleFromEnv(t *testing.T) int {
	v := os.Getenv("LEARNLOOP_CHAOS_PEOPLE")
	if v == "" {
		return defaultPeople
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, "LEARNLOOP_CHAOS_PEOPLE")
	require.Positive(t, n, "LEARNLOOP_CHAOS_PEOPLE")
	return n
}

// TestChaos runs every scenario against three real replicas and asserts, at
// the fake and per recipient, 0 lost and 0 duplicates, every delivery row
// sent and the job completed within a bound. LEARNLOOP_CHAOS_SCENARIOS
// (comma-separated names) runs a subset.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos suite: skipped with -short")
	}
	people := peopleFromEnv(t)
	only := map[string]bool{}
	for _, s := range strings.Split(os.Getenv("LEARNLOOP_CHAOS_SCENARIOS"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			only[s] = true
		}
	}
	bin := buildBinaries(t, t.TempDir())
	var results []*result
	for _, sc := range scenarios() {
		if len(only) > 0 && !only[sc.name] {
			continue
		}
		res := &result{Scenario: sc.name, People: people, RecoveryMS: -1, TakeoverMS: -1}
		results = append(results, res)
		t.Run(sc.name, func(t *testing.T) { runScenario(t, bin, sc, res) })
	}
	require.NotEmpty(t, results, "no scenario matched LEARNLOOP_CHAOS_SCENARIOS")
	t.Log("\n" + table(results))
	raw, _ := json.Marshal(results)
	t.Logf("CHAOS_RESULTS_JSON %s", raw)
}

func runScenario(t *testing.T, bin binaries, sc scenario, res *result) {
	c := newCluster(t, bin, res.People)
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout(c.people)+30*time.Second)
	defer cancel()
	c.control("mode", "slow", "latency", defaultLatency.String())
	r := &run{c: c, res: res, start: time.Now()}
	// Background work (taps, takeover watch) stops when settling has failed.
	bgCtx, stopBg := context.WithCancel(ctx)
	defer stopBg()
	r.jobID = c.sendNow()
	faultErr := sc.run(bgCtx, r)
	settledAt, settleErr := c.waitSettled(ctx, r.jobID, settleTimeout(c.people)-time.Since(r.start))
	if settleErr != nil {
		stopBg()
	}
	r.bg.Wait()
	// Stop every replica so that the fake's counts are final.
	for _, rep := range c.replicas {
		rep.signal(syscall.SIGTERM)
	}
	for _, rep := range c.replicas {
		if !rep.waitExit(shutdownTimeout + 5*time.Second) {
			rep.signal(syscall.SIGKILL)
			rep.waitExit(5 * time.Second)
			r.note("replica%d ignored SIGTERM when idle", rep.idx)
		}
	}

	st := c.stats(true)
	counts, err := c.deliveryCounts(context.Background())
	require.NoError(t, err)
	j, err := c.job(context.Background(), r.jobID)
	require.NoError(t, err)
	res.Sent, res.Duplicates, res.Refused = st.Accepted, st.Duplicates, st.Rejections["errcode_42014"]
	extra := 0
	for _, u := range c.users {
		if n := st.PerToUser[u]; n > 0 {
			res.Received++
			extra += n - 1
		}
	}
	res.Lost = c.people - res.Received
	res.Duplicates = max(res.Duplicates, extra)
	res.RowsSent = counts["sent"]
	for s, n := range counts {
		if s != "sent" {
			res.Unsettled += n
		}
	}
	res.JobState, res.JobAttempts = j.State, j.Attempts
	if !settledAt.IsZero() {
		res.FanoutMS = settledAt.Sub(r.start).Milliseconds()
		if len(r.faults) > 0 {
			res.RecoveryMS = settledAt.Sub(r.faults[len(r.faults)-1]).Milliseconds()
		}
	}
	var tapErr error
	if r.tapper != nil {
		tapErr = r.tapper.check(context.Background(), st)
	}
	res.Pass = faultErr == nil && settleErr == nil && len(r.bgErrs) == 0 && tapErr == nil && res.Lost == 0 && res.Duplicates == 0 &&
		res.RowsSent == c.people && res.Unsettled == 0 && res.JobState == "completed"
	t.Logf("%s: sent %d received %d duplicates %d lost %d rows %v job %s/%d fanout %dms recovery %dms refused(42014) %d faults %q notes %q",
		sc.name, res.Sent, res.Received, res.Duplicates, res.Lost, counts, j.State, j.Attempts, res.FanoutMS, res.RecoveryMS, res.Refused, res.Faults, res.Notes)
	if !res.Pass {
		if j.LastError != "" {
			t.Logf("job last_error: %s", j.LastError)
		}
		for _, l := range c.grepLogs("level=ERROR", 15) {
			t.Log(l)
		}
		for _, l := range c.grepLogs("level=WARN", 25) {
			t.Log(l)
		}
	}
	require.NoError(t, faultErr, "injecting the fault")
	require.NoError(t, errors.Join(r.bgErrs...), "background work (restarts, hand-over)")
	require.NoError(t, settleErr, "settling")
	require.NoError(t, tapErr, "taps")
	require.Zero(t, res.Lost, "roster members without a card at the fake")
	require.Zero(t, res.Duplicates, "second cards at the fake: %v", st.DuplicateUsers)
	require.Equal(t, c.people, res.RowsSent, "delivery rows sent: %v", counts)
	require.Equal(t, "completed", res.JobState, "job state")
}

// waitSettled polls until every delivery row of the touchpoint is sent and
// the job completed, and returns when that was first seen.
func (c *cluster) waitSettled(ctx context.Context, jobID uint64, d time.Duration) (time.Time, error) {
	deadline := time.Now().Add(d)
	var (
		counts      map[string]int
		j           jobRow
		err         error
		doneWithout time.Time // when the job was first seen completed with rows unsettled
	)
	for time.Now().Before(deadline) {
		counts, err = c.deliveryCounts(ctx)
		if err == nil {
			j, err = c.job(ctx, jobID)
		}
		if err == nil && counts["sent"] == c.people && len(counts) == 1 && j.State == "completed" {
			return time.Now(), nil
		}
		if err == nil && (j.State == "failed" || j.State == "cancelled") {
			return time.Time{}, fmt.Errorf("job %s after %d attempts: %s (rows %v)", j.State, j.Attempts, j.LastError, counts)
		}
		// A completed job sends nothing more: rows it left unsettled stay
		// so (a grace period lets an in-flight record land).
		switch {
		case err != nil || j.State != "completed":
			doneWithout = time.Time{}
		case doneWithout.IsZero():
			doneWithout = time.Now()
		case time.Since(doneWithout) > 10*time.Second:
			return time.Time{}, fmt.Errorf("job completed (attempts %d) with rows unsettled for 10s: %v", j.Attempts, counts)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
	return time.Time{}, fmt.Errorf("not settled within %s: rows %v, job %s (attempts %d, last error %q), err %v", d, counts, j.State, j.Attempts, j.LastError, err)
}

// ---- taps ----

// tapStats counts the WeCom card callbacks sent during a scenario.
type tapStats struct {
	Cards     int `json:"cards"`      // cards tapped
	Attempts  int `json:"attempts"`   // callback requests made (WeCom retries unanswered ones)
	Acked     int `json:"acked"`      // taps answered 2xx by some replica
	Unacked   int `json:"unacked"`    // taps never answered 2xx
	Stored    int `json:"stored"`     // check-ins in the database
	AckedLost int `json:"acked_lost"` // taps answered 2xx without a stored check-in
	// Updates counts the cards updated in place by a tap's answer (a
	// passive reply the fake read as WeCom does); BadAnswers the 2xx
	// answers the fake refused or that updated nothing; APIUpdates the
	// update_template_card calls (none on the tap path).
	Updates    int `json:"updates"`
	BadAnswers int `json:"bad_answers"`
	APIUpdates int `json:"api_updates"`
	badAnswer  error
}

type tapper struct {
	c     *cluster
	rr    atomic.Int64
	mu    sync.Mutex
	stats tapStats
	acked map[string]bool
}

func newTapper(c *cluster) *tapper { return &tapper{c: c, acked: map[string]bool{}} }

// run taps every card the fake accepts, as its recipient, sending the
// callback to the replicas round-robin; a tap not answered 2xx is retried
// on the next replica, as WeCom retries an unanswered callback.
func (tp *tapper) run(ctx context.Context) error {
	cards := make(chan fakeCard)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for card := range cards {
				tp.tap(ctx, card)
			}
		})
	}
	defer func() {
		close(cards)
		wg.Wait()
	}()
	offset := 0
	for offset < tp.c.people {
		var page []fakeCard
		if err := tp.c.fakeGet(fmt.Sprintf("/cards?offset=%d&limit=500", offset), &page); err != nil {
			return fmt.Errorf("read cards: %w", err)
		}
		for _, card := range page {
			select {
			case cards <- card:
			case <-ctx.Done():
				return fmt.Errorf("tapped %d of %d cards: %w", offset, tp.c.people, ctx.Err())
			}
			offset++
		}
		if len(page) == 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("tapped %d of %d cards: %w", offset, tp.c.people, ctx.Err())
			case <-time.After(30 * time.Millisecond):
			}
		}
	}
	return nil
}

func (tp *tapper) tap(ctx context.Context, card fakeCard) {
	tp.mu.Lock()
	tp.stats.Cards++
	tp.mu.Unlock()
	rc, err := tp.c.responseCode()
	if err != nil {
		tp.mu.Lock()
		tp.stats.Unacked++
		tp.mu.Unlock()
		return
	}
	path, body, err := tp.c.tapRequest(card, rc)
	if err != nil {
		tp.mu.Lock()
		tp.stats.Unacked++
		tp.mu.Unlock()
		return
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: tp.c.hc.Transport} // WeCom waits 5 s
	first := int(tp.rr.Add(1))
	for attempt := range 8 {
		rep := tp.c.replicas[(first+attempt)%len(tp.c.replicas)]
		tp.mu.Lock()
		tp.stats.Attempts++
		tp.mu.Unlock()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+rep.addr+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "text/xml")
		sent := time.Now()
		resp, err := hc.Do(req)
		if err == nil {
			answer, rerr := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if rerr == nil && resp.StatusCode/100 == 2 {
				// WeCom reads the answer: it carries the card's update.
				updated, perr := tp.c.passive(card, resp.StatusCode, time.Since(sent), answer)
				tp.mu.Lock()
				tp.stats.Acked++
				tp.acked[card.ToUser] = true
				if updated {
					tp.stats.Updates++
				} else {
					tp.stats.BadAnswers++
					if perr == nil {
						perr = errors.New("the answer updated no card")
					}
					tp.stats.badAnswer = fmt.Errorf("%s: %w", card.ToUser, perr)
				}
				tp.mu.Unlock()
				return
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
			continue
		}
		break
	}
	tp.mu.Lock()
	tp.stats.Unacked++
	tp.mu.Unlock()
}

// check compares the acknowledged taps with the stored check-ins and the
// cards their answers updated (st: the fake's final counts); call it after
// run has returned.
func (tp *tapper) check(ctx context.Context, st fakeStats) error {
	in, err := tp.c.checkedIn(ctx)
	if err != nil {
		return err
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.stats.Stored = len(in)
	var lost []string
	for u := range tp.acked {
		if !in[u] {
			lost = append(lost, u)
		}
	}
	tp.stats.AckedLost = len(lost)
	tp.stats.APIUpdates = st.Updates
	switch {
	case len(lost) > 0:
		return fmt.Errorf("%d taps answered 2xx have no stored check-in, e.g. %v", len(lost), lost[:min(5, len(lost))])
	case tp.stats.Unacked > 0:
		return fmt.Errorf("%d taps were never answered 2xx after 8 attempts on the replicas", tp.stats.Unacked)
	case tp.stats.Cards < tp.c.people:
		return fmt.Errorf("only %d of %d cards were tapped", tp.stats.Cards, tp.c.people)
	case tp.stats.BadAnswers > 0:
		return fmt.Errorf("%d taps answered 2xx did not update their card, e.g. %v", tp.stats.BadAnswers, tp.stats.badAnswer)
	case st.PassiveUpdates != tp.stats.Updates:
		return fmt.Errorf("the fake counted %d passive updates, the taps %d", st.PassiveUpdates, tp.stats.Updates)
	}
	return nil
}

func table(rs []*result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-15s %6s %6s %8s %5s %5s %9s %11s %11s %6s %5s  %s\n", "scenario", "people", "sent", "received", "dups", "lost", "fanout_s", "recovery_s", "takeover_s", "42014", "pass", "faults")
	for _, r := range rs {
		rec := "-"
		if r.RecoveryMS >= 0 {
			rec = fmt.Sprintf("%.1f", float64(r.RecoveryMS)/1000)
		}
		tko := "-"
		if r.TakeoverMS >= 0 {
			tko = fmt.Sprintf("%.1f", float64(r.TakeoverMS)/1000)
		}
		fmt.Fprintf(&b, "%-15s %6d %6d %8d %5d %5d %9.1f %11s %11s %6d %5v  %s\n", r.Scenario, r.People, r.Sent, r.Received, r.Duplicates, r.Lost,
			float64(r.FanoutMS)/1000, rec, tko, r.Refused, r.Pass, strings.Join(r.Faults, "; "))
		if r.Taps != nil {
			fmt.Fprintf(&b, "%-15s taps: cards %d, requests %d, acked %d, unacked %d, check-ins stored %d, acked without check-in %d, cards updated by the answer %d, answers refused %d, update_template_card calls %d\n", "",
				r.Taps.Cards, r.Taps.Attempts, r.Taps.Acked, r.Taps.Unacked, r.Taps.Stored, r.Taps.AckedLost, r.Taps.Updates, r.Taps.BadAnswers, r.Taps.APIUpdates)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "%-15s note: %s\n", "", n)
		}
	}
	return b.String()
}
