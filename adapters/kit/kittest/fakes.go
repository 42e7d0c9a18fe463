package kittest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

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
