package simulator

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/learnloop/learnloop/bot"
)

//go:embed sim.html
var pageFS embed.FS

var page = template.Must(template.New("sim.html").Funcs(template.FuncMap{
	"fmtTime": func(t time.Time, loc *time.Location) string { return t.In(loc).Format("01-02 15:04") },
}).ParseFS(pageFS, "sim.html"))

// TapRequest is the JSON body of POST /sim/api/tap.
type TapRequest struct {
	User   string `json:"user"`
	Token  string `json:"token"`
	Action string `json:"action"`
	Value  string `json:"value"`
}

// TapResponse is the JSON answer to a tap.
type TapResponse struct {
	OK        bool         `json:"ok"`
	Duplicate bool         `json:"duplicate"`
	Toast     string       `json:"toast"`
	Card      *bot.Message `json:"card,omitempty"`
}

// Handler serves the simulator under prefix (normally "/sim"): the inbox page,
// taps from it, and a JSON API used by tests. Taps are handed to h exactly as
// a platform callback would be.
func (c *Client) Handler(prefix string, h bot.InteractionHandler, loc *time.Location, log *slog.Logger) http.Handler {
	if loc == nil {
		loc = time.UTC
	}
	if log == nil {
		log = slog.Default()
	}
	mux := http.NewServeMux()
	tap := func(ctx context.Context, r TapRequest) (TapResponse, error) { return c.Tap(ctx, h, r) }
	th := bot.TextHandlerOf(h) // nil: the page has no text box
	mux.HandleFunc("GET "+prefix, func(w http.ResponseWriter, r *http.Request) {
		users, err := c.users(r.Context())
		if err != nil {
			log.Error("sim directory", "err", err)
			http.Error(w, "directory unavailable", http.StatusInternalServerError)
			return
		}
		user := r.URL.Query().Get("user")
		if user == "" && len(users) > 0 {
			user = users[0].ID
		}
		data := map[string]any{
			"Prefix": prefix, "Users": users, "User": user, "Cards": c.Inbox(user),
			"Toast": r.URL.Query().Get("toast"), "Loc": loc, "Chat": c.Chat(user), "CanChat": th != nil,
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := page.Execute(w, data); err != nil {
			log.Error("render sim page", "err", err)
		}
	})
	mux.HandleFunc("POST "+prefix+"/tap", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		req := TapRequest{User: r.PostForm.Get("user"), Token: r.PostForm.Get("token"), Action: r.PostForm.Get("action"), Value: r.PostForm.Get("value")}
		res, err := tap(r.Context(), req)
		if err != nil {
			log.Error("sim tap", "err", err)
			http.Error(w, "tap failed, try again", http.StatusServiceUnavailable)
			return
		}
		q := url.Values{"user": {req.User}, "toast": {res.Toast}}
		http.Redirect(w, r, prefix+"?"+q.Encode(), http.StatusSeeOther)
	})
	mux.HandleFunc("POST "+prefix+"/say", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || th == nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		req := SayRequest{User: r.PostForm.Get("user"), Text: r.PostForm.Get("text")}
		q := url.Values{"user": {req.User}}
		if strings.TrimSpace(req.Text) != "" {
			if _, err := c.Say(r.Context(), th, req); err != nil {
				log.Error("sim say", "err", err)
				http.Error(w, "message not handled, try again", http.StatusServiceUnavailable)
				return
			}
		}
		http.Redirect(w, r, prefix+"?"+q.Encode()+"#chat", http.StatusSeeOther)
	})
	mux.HandleFunc("POST "+prefix+"/api/say", func(w http.ResponseWriter, r *http.Request) {
		var req SayRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || req.User == "" || strings.TrimSpace(req.Text) == "" || th == nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be JSON {user, text, message_id?}"})
			return
		}
		reply, err := c.Say(r.Context(), th, req)
		if err != nil {
			log.Error("sim say", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "message not handled, try again"})
			return
		}
		writeJSON(w, http.StatusOK, reply)
	})
	mux.HandleFunc("GET "+prefix+"/api/chat", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"user": r.URL.Query().Get("user"), "lines": c.Chat(r.URL.Query().Get("user"))})
	})
	mux.HandleFunc("GET "+prefix+"/api/inbox", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"user": r.URL.Query().Get("user"), "cards": c.Inbox(r.URL.Query().Get("user"))})
	})
	mux.HandleFunc("POST "+prefix+"/api/tap", func(w http.ResponseWriter, r *http.Request) {
		var req TapRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxTapBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || req.User == "" || req.Token == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be JSON {user, token, action?, value?}"})
			return
		}
		res, err := tap(r.Context(), req)
		if err != nil {
			log.Error("sim tap", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "tap failed, try again"})
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
	return mux
}

// Tap hands a tap on one of user's cards to h, as a platform callback
// would, and applies the reply itself: the reply's card replaces the tapped
// one (the card sent under the same delivery key).
func (c *Client) Tap(ctx context.Context, h bot.InteractionHandler, r TapRequest) (TapResponse, error) {
	reply, err := h.HandleInteraction(ctx, bot.Interaction{
		Platform: bot.PlatformSimulator, UserID: r.User, Action: r.Action, Value: r.Value,
		Token: r.Token, Source: "card", At: c.opts.Now().UTC(),
	})
	if err != nil {
		return TapResponse{}, err
	}
	if reply.Card != nil {
		err := c.replace(r.User, *reply.Card)
		if uc, ok := h.(bot.CardUpdateCounter); ok {
			uc.CardUpdated(bot.PlatformSimulator, err)
		}
	}
	return TapResponse{OK: reply.OK, Duplicate: reply.Duplicate, Toast: reply.Toast, Card: reply.Card}, nil
}

// maxTapBody is the largest JSON body /sim/api/tap reads.
const maxTapBody = 1 << 16

// bodies are the reused buffers of the JSON API's answers.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeJSON answers v as JSON, encoded into a reused buffer and written at
// once with its length.
func writeJSON(w http.ResponseWriter, code int, v any) {
	buf := bodies.Get().(*bytes.Buffer)
	defer putBody(buf)
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "encode answer", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// putBody returns buf to the pool unless it grew past a request's limit
// (an inbox of many cards), which would keep its memory for good.
func putBody(buf *bytes.Buffer) {
	if buf.Cap() <= maxTapBody {
		bodies.Put(buf)
	}
}
