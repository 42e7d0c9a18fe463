// Package web is learnloop's HTTP layer: platform callbacks, tracked links,
// the check-in fallback page, the admin REST API, the simulator mount point
// and the operational endpoints.
package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/campaigns"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/digests"
	"github.com/learnloop/learnloop/internal/defaults"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/surveys"
	"github.com/learnloop/learnloop/text"
	"github.com/learnloop/learnloop/webhooks"
)

// Server serves every HTTP endpoint.
type Server struct {
	Planner  *plan.Planner
	Router   *bot.Router
	Renderer *bot.Renderer
	Signer   *bot.Signer
	Clicks   *ClickRecorder
	Surveys  *surveys.Service
	// Commands is the one door for writes and reads, shared with the
	// console and the CLI; required.
	Commands *command.Service

	// Campaigns serves /api/v1/campaigns…, /conversions and
	// /employees/{id}/tags (api_campaigns.go).
	Campaigns *campaigns.Service
	// Webhooks serves /api/v1/webhooks… (api_webhooks.go): outbound
	// webhook endpoints and their delivery log.
	Webhooks *webhooks.Service
	// Digests serves /api/v1/digests… (api_digests.go): digest cards in
	// chat for coordinators and department heads.
	Digests *digests.Service

	// Mounts are extra handlers by path prefix: "/sim", "/callbacks/wecom"…
	Mounts map[string]http.Handler
	// PresenceAPI serves /api/v1/sessions/{id}/presence and
	// /api/v1/surveys/{id}/identity (package presence) behind the tokens;
	// its argument names the caller for the audit log.
	PresenceAPI func(actor func(context.Context) string) http.Handler
	// AdminTokens are the bearer tokens accepted by /api/v1.
	AdminTokens []string
	Location    *time.Location
	Locale      string
	Gatherer    prometheus.Gatherer
	Logger      *slog.Logger
	Now         func() time.Time

	links linkCache // the /l/ path's delivery facts and redirect locations
}

func (s *Server) now() time.Time { return defaults.Now(s.Now) }

func (s *Server) log() *slog.Logger { return defaults.Logger(s.Logger) }

// Handler returns the root handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{}))
	}
	mux.HandleFunc("GET /l/{token}", s.link)
	mux.HandleFunc("GET /c/{token}", s.checkinPage)
	mux.HandleFunc("POST /c/{token}", s.checkinSubmit)
	mux.Handle("/api/v1/", http.StripPrefix("/api/v1", s.auth(s.api())))
	if s.PresenceAPI != nil {
		h := http.StripPrefix("/api/v1", s.auth(s.PresenceAPI(actor)))
		mux.Handle("/api/v1/sessions/{id}/presence", h)
		mux.Handle("/api/v1/surveys/{id}/identity", h)
	}
	mux.HandleFunc("GET /{$}", s.home)
	for prefix, h := range s.Mounts {
		mux.Handle(prefix, h)
		if !strings.HasSuffix(prefix, "/") {
			mux.Handle(prefix+"/", h)
		}
	}
	full := securityHeaders(s.recoverer(mux))
	// GET /l/{token}, a click storm's every request, goes straight to the
	// link handler: no pattern matching, no header wrapper. It gets the same
	// security headers (set whole here: no /l/ answer sets a
	// Content-Security-Policy of its own) and the same panic recovery.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := linkPath(r)
		if !ok {
			full.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h["X-Frame-Options"] = hvDeny
		h["X-Content-Type-Options"] = hvNoSniff
		h["Referrer-Policy"] = hvSameOrigin
		h["Content-Security-Policy"] = hvFrameAncestors
		defer s.recoverPanic(w, r)
		s.serveLink(w, r, tok)
	})
}

// linkPath returns the token of a GET or HEAD of /l/{token} whose token is
// made of base64url characters only (what Signer.Sign writes), the requests
// the mux would route to link unchanged; anything else goes through the mux.
func linkPath(r *http.Request) (string, bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return "", false
	}
	tok, ok := strings.CutPrefix(r.URL.Path, "/l/")
	if !ok || tok == "" {
		return "", false
	}
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return "", false
		}
	}
	return tok, true
}

// frameAncestors keeps a page out of every other site's frames.
const frameAncestors = "frame-ancestors 'none'"

// Fixed header values, shared by every response: assigned whole (never
// appended to in place, which net/http does not do either), so each
// response saves an allocation per header; a handler's Set replaces them.
var (
	hvDeny           = []string{"DENY"}
	hvNoSniff        = []string{"nosniff"}
	hvSameOrigin     = []string{"same-origin"}
	hvFrameAncestors = []string{frameAncestors}
)

// securityHeaders keeps every page of the service (the check-in page, the
// survey form, the simulator, the console) out of other sites' frames and
// stops content sniffing: X-Frame-Options DENY, and frame-ancestors 'none'
// added to whatever Content-Security-Policy a handler sets.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Frame-Options"] = hvDeny
		h["X-Content-Type-Options"] = hvNoSniff
		h["Referrer-Policy"] = hvSameOrigin
		next.ServeHTTP(&headerWriter{ResponseWriter: w}, r)
	})
}

// headerWriter completes the Content-Security-Policy when the response
// starts.
type headerWriter struct {
	http.ResponseWriter
	done bool
}

func (hw *headerWriter) finish() {
	if hw.done {
		return
	}
	hw.done = true
	h := hw.ResponseWriter.Header()
	switch csp := h.Get("Content-Security-Policy"); {
	case csp == "":
		h["Content-Security-Policy"] = hvFrameAncestors
	case !strings.Contains(csp, "frame-ancestors"):
		h.Set("Content-Security-Policy", strings.TrimRight(csp, "; ")+"; "+frameAncestors)
	}
}

func (hw *headerWriter) WriteHeader(code int) {
	hw.finish()
	hw.ResponseWriter.WriteHeader(code)
}

func (hw *headerWriter) Write(b []byte) (int, error) {
	hw.finish()
	return hw.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the wrapper.
func (hw *headerWriter) Flush() {
	hw.finish()
	if f, ok := hw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (hw *headerWriter) Unwrap() http.ResponseWriter { return hw.ResponseWriter }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{}
	code := http.StatusOK
	dbErr, migErr := s.commands().Ready(ctx)
	if dbErr != nil {
		checks["database"] = "unreachable"
		code = http.StatusServiceUnavailable
	} else {
		checks["database"] = "ok"
		if migErr != nil {
			checks["migrations"] = migErr.Error()
			code = http.StatusServiceUnavailable
		} else {
			checks["migrations"] = "current"
		}
	}
	status := "ready"
	if code != http.StatusOK {
		status = "not ready"
	}
	writeJSON(w, code, map[string]any{"status": status, "checks": checks})
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverPanic(w, r)
		next.ServeHTTP(w, r)
	})
}

// recoverPanic, deferred, turns a handler's panic into a logged 500
// (http.ErrAbortHandler passes on to net/http).
func (s *Server) recoverPanic(w http.ResponseWriter, r *http.Request) {
	if v := recover(); v != nil {
		if v == http.ErrAbortHandler {
			panic(v)
		}
		s.log().Error("panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// actorKey is the context key of the authenticated API actor.
type actorKey struct{}

// auth requires a valid bearer token on every API request.
func (s *Server) auth(next http.Handler) http.Handler {
	hashes := make([][32]byte, len(s.AdminTokens))
	for i, t := range s.AdminTokens {
		hashes[i] = sha256.Sum256([]byte(t))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="learnloop"`)
			apiError(w, http.StatusUnauthorized, "unauthorized", text.T(text.EN, "web:detail.no_token"), nil)
			return
		}
		sum := sha256.Sum256([]byte(tok))
		actor := ""
		for i, hsh := range hashes {
			if subtle.ConstantTimeCompare(sum[:], hsh[:]) == 1 {
				actor = fmt.Sprintf("api-token-%d", i+1)
			}
		}
		if actor == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="learnloop", error="invalid_token"`)
			apiError(w, http.StatusUnauthorized, "unauthorized", text.T(text.EN, "web:detail.bad_token"), nil)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, actor)))
	})
}

func actor(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok {
		return a
	}
	return "system"
}
