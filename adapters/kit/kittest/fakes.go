package kittest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/calendar/invite"
)

// LogBuffer is what the adapters' tests log into: a buffer that takes the
// writes of a logger used by several goroutines, read back with String to
// check that no secret was logged.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ErrTextsDown is the error Texts answers with while it is failing.
var ErrTextsDown = errors.New("database is down")

// Texts is a bot.TextHandler standing in for the chat service: it counts
// every text it is given, keeps those it answers, and answers with Answer
// (nil: Echo). While failing (Fail) it keeps nothing and answers
// ErrTextsDown, as the chat service does when its database is down.
type Texts struct {
	// Answer answers a text; nil answers Echo's reply.
	Answer func(bot.InboundText) (bot.ChatReply, error)

	mu    sync.Mutex
	texts []bot.InboundText
	n     atomic.Int32
	fail  atomic.Bool
}

// HandleText implements bot.TextHandler.
func (x *Texts) HandleText(_ context.Context, in bot.InboundText) (bot.ChatReply, error) {
	x.n.Add(1)
	if x.fail.Load() {
		return bot.ChatReply{}, ErrTextsDown
	}
	x.mu.Lock()
	x.texts = append(x.texts, in)
	x.mu.Unlock()
	if x.Answer != nil {
		return x.Answer(in)
	}
	return Echo(in), nil
}

// Echo is Texts' default answer: "你说：" and the text, with one link.
func Echo(in bot.InboundText) bot.ChatReply {
	return bot.ChatReply{Text: "你说：" + in.Text, Links: []bot.ChatLink{{Text: "签到", URL: "https://learn.example.com/c/x"}}}
}

// Calls is how many texts HandleText was given, failed ones included.
func (x *Texts) Calls() int { return int(x.n.Load()) }

// Got returns the texts kept, in order.
func (x *Texts) Got() []bot.InboundText {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]bot.InboundText(nil), x.texts...)
}

// Fail makes HandleText fail (true) or answer again (false).
func (x *Texts) Fail(on bool) { x.fail.Store(on) }

// Event is the adapters' tests' usual class as a calendar invite:
// 高效沟通, taught by 赵老师 in 3F A, Monday 9 March 2026 10:00–12:00
// Shanghai, for attendees.
func Event(attendees ...string) invite.Event {
	start := time.Date(2026, 3, 9, 2, 0, 0, 0, time.UTC) // 10:00 Shanghai
	return invite.Event{Title: "高效沟通", Description: "讲师：赵老师", Location: "3F A", Start: start, End: start.Add(2 * time.Hour),
		TimeZone: "Asia/Shanghai", Attendees: attendees}
}

// Pool is the delivery job's workers as the adapters' shared-pacing tests
// play them: Workers goroutines take jobs from one queue, and a job held
// back by the platform's rate limit (RetryAt) waits until the time the
// error names and is tried again, as the job's retry would.
type Pool struct {
	// Workers is how many goroutines send.
	Workers int
	// RetryAt reports when a job that failed with err is tried again, and
	// whether it is (Until builds it from an adapter's RateLimitError);
	// nil: never, every error fails the test.
	RetryAt func(err error) (time.Time, bool)
	// Retries bounds how often one job is tried again.
	Retries int
	// Sleep and Now are the clock a retry waits on (the replica tests'
	// virtual one); nil: kit.Sleep and time.Now.
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time
	// Done, when set, is called as each worker ends (a virtual clock's
	// Done, so that it stops waiting for that worker).
	Done func()
}

// Until is a Pool's RetryAt for an adapter's rate-limit error type E: a
// job whose error is an E is tried again at until of it.
func Until[E error](until func(E) time.Time) func(err error) (time.Time, bool) {
	return func(err error) (time.Time, bool) {
		var e E
		if errors.As(err, &e) {
			return until(e), true
		}
		return time.Time{}, false
	}
}

// Run sends jobs 0 to n-1 with send (worker is the goroutine's number, for
// picking its replica) and fails t with every job's error left after the
// retries.
func (p Pool) Run(t testing.TB, n int, send func(ctx context.Context, worker, job int) error) {
	t.Helper()
	sleep, now := p.Sleep, p.Now
	if sleep == nil {
		sleep = kit.Sleep
	}
	if now == nil {
		now = time.Now
	}
	queue := make(chan int, n)
	for i := range n {
		queue <- i
	}
	close(queue)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for w := range p.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p.Done != nil {
				defer p.Done()
			}
			ctx := context.Background()
			for i := range queue {
				for attempt := 0; ; attempt++ {
					err := send(ctx, w, i)
					if err == nil {
						break
					}
					if p.RetryAt != nil && attempt < p.Retries {
						if at, ok := p.RetryAt(err); ok {
							_ = sleep(ctx, at.Sub(now()))
							continue
						}
					}
					mu.Lock()
					errs = append(errs, fmt.Errorf("job %d: %w", i, err))
					mu.Unlock()
					break
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
}
