package feishu

import "testing"

// Exports for the end-to-end test, which lives in package feishu_test so
// that it may import app (which will import this package).

// Credentials the fake server accepts.
const (
	TestAppID      = testAppID
	TestAppSecret  = testAppSecret
	TestVToken     = testVToken
	TestEncryptKey = testEncryptKey
)

// FakeServer is the fake Feishu open platform.
type FakeServer = fakeFeishu

// SentMessage is one message the fake accepted.
type SentMessage = sentMessage

// NewFakeServer starts a fake Feishu expecting receive ids of idType.
func NewFakeServer(t testing.TB, idType string) *FakeServer { return newFakeFeishu(t, idType) }

// Sent returns the messages delivered so far.
func (f *fakeFeishu) Sent() []SentMessage { return f.sent() }

// Patched returns the message updates received so far.
func (f *fakeFeishu) Patched() []SentMessage { return f.patched() }

// Requests returns how many message sends were attempted.
func (f *fakeFeishu) Requests() int { _, n, _ := f.counts(); return n }

// FailCalendarWith scripts the next calendar answer: an HTTP status with
// Feishu's code and message.
func (f *fakeFeishu) FailCalendarWith(status, code int, msg string) {
	f.FailCalendar(failure{status: status, code: code, msg: msg})
}
