package feishu

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkCallbackTap is one signed, encrypted card.action.trigger
// callback through CallbackHandler (verify, decrypt, parse, dedup, the
// answer with the updated card), with a router that answers at once: the
// adapter's own cost a tap.
func BenchmarkCallbackTap(b *testing.B) {
	f := newFakeFeishu(b, IDTypeUserID)
	fresh := func() http.Handler {
		c, _ := testClient(b, f, nil)
		return c.CallbackHandler(&recorder{})
	}
	h := fresh()
	const n = 4096
	reqs := make([]*http.Request, n)
	bodies := make([][]byte, n)
	for i := range reqs {
		r := newCallbackReq(b, fmt.Sprintf("evt-bench-%d", i)).request(b)
		var buf bytes.Buffer
		_, err := buf.ReadFrom(r.Body)
		require.NoError(b, err)
		reqs[i], bodies[i] = r, buf.Bytes()
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i > 0 && i%n == 0 {
			// Every event once: a new client forgets the ones seen.
			b.StopTimer()
			h = fresh()
			b.StartTimer()
		}
		r := reqs[i%n].Clone(reqs[i%n].Context())
		r.Body = io.NopCloser(bytes.NewReader(bodies[i%n]))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		i++
	}
}
