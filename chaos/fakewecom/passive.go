package main

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/learnloop/learnloop/adapters/wecom/wecomtest"
)

// Answer is a callback's answer handed to POST /passive by whoever
// delivered the callback (the chaos driver plays WeCom's delivery): the tap
// it answered and what came back.
type Answer = wecomtest.Answer

// takePassive reads a callback's answer as WeCom does and, when it is a
// passive card update, applies (counts) it. It answers
// {"updated":bool,"error":"…"}; a refused answer is counted as a rejection
// "passive_refused".
func (f *Fake) takePassive(w http.ResponseWriter, r *http.Request) {
	var a Answer
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&a); err != nil {
		http.Error(w, "body must be a JSON Answer", http.StatusBadRequest)
		return
	}
	if f.cfg.Token == "" || f.cfg.EncodingAESKey == "" {
		http.Error(w, "the fake was started without -token and -aes-key", http.StatusNotImplemented)
		return
	}
	updated, err := f.api.Answer(f.cfg.Token, f.cfg.EncodingAESKey, a)
	out := map[string]any{"updated": updated}
	if err != nil {
		f.reject("passive_refused")
		out["error"] = err.Error()
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
